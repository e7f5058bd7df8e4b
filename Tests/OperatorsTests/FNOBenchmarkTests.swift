import Foundation
import Numerics
import Operators
import Testing

/// Forward and backward time of the 701k-parameter FNO (2D, width 32, modes (12,12)) on a
/// [20, 1, 64, 64] Float32 batch. Runs only with PDEKIT_BENCH set, in release:
/// `PDEKIT_BENCH=1 swift test -c release --scratch-path .build-ops --filter FNOBenchmark`.
@Suite("FNO timing (opt-in)", .enabled(if: ProcessInfo.processInfo.environment["PDEKIT_BENCH"] != nil))
struct FNOBenchmark {
  @Test("forward / backward of the 701,281-parameter FNO on [20, 1, 64, 64] Float32")
  func timing() {
    let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 32, modes: [12, 12])
    let model = FNO<Float>(config, seed: 0)
    let x = NDArray<Float>.randomNormal([20, 1, 64, 64], seed: 1)
    let y = NDArray<Float>.randomNormal([20, 1, 64, 64], seed: 2)
    let loss = LpLoss(spatialDimensions: 2)
    func seconds(_ body: () -> Void) -> Double {
      let t0 = DispatchTime.now().uptimeNanoseconds
      body()
      return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }
    _ = valueAndGradient(at: model) { m in loss(m(Tensor(x)), Tensor(y)) }  // plans, warm-up
    var inference: [Double] = []
    var taped: [Double] = []
    var backward: [Double] = []
    for _ in 0..<5 {
      inference.append(seconds { _ = model(x) })
      let tape = Tape<Float>()
      var bound = model
      var leaves: [Tensor<Float>] = []
      var out: Tensor<Float>? = nil
      taped.append(
        seconds {
          bound.visitParameters { _, p in
            p = tape.variable(p.value)
            leaves.append(p)
          }
          out = loss(bound(Tensor(x)), Tensor(y))
        })
      backward.append(seconds { _ = tape.gradients(of: out!, withRespectTo: leaves) })
    }
    func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    print(
      "FNO 701,281 params, [20,1,64,64] f32: forward (inference) \(median(inference) * 1e3) ms, "
        + "forward (taped) \(median(taped) * 1e3) ms, backward \(median(backward) * 1e3) ms, "
        + "BLAS threads \(BLAS.openBLASInfo.threads)")
  }
}
