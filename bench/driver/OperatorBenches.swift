// pdekit-bench fno-step: forward (inference), taped forward and backward of the FNO on one
// batch, the unit of work of an FNO training step (bench/fno compares whole training runs).
//
//   pdekit-bench fno-step [--n 64] [--batch 20] [--width 32] [--modes 12] [--reps 5] [--warmup 1] [--threads 2]
//
// Prints one JSON line per phase: {"bench": "fno_step_<phase>", "impl": "pdekit", "median_s", ...}.
import Foundation
import Numerics
import Operators

let operatorSubcommands: Set<String> = ["fno-step"]

func runOperatorSubcommand(_ name: String, _ rawArgs: ArraySlice<String>) {
  var values = ["n": 64, "batch": 20, "width": 32, "modes": 12, "reps": 5, "warmup": 1, "threads": 2]
  var args = rawArgs
  while let flag = args.popFirst() {
    let key = String(flag.drop(while: { $0 == "-" }))
    guard values[key] != nil, let v = args.popFirst().flatMap(Int.init), v >= 1 || key == "warmup" else {
      fail("fno-step: unknown option or bad value at \(flag); options: " + values.keys.sorted().joined(separator: ", "))
    }
    values[key] = v
  }
  let (n, batch, width, modes) = (values["n"]!, values["batch"]!, values["width"]!, values["modes"]!)
  BLAS.setThreads(values["threads"]!)
  FFT.defaultThreads = values["threads"]!
  let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: width, modes: [modes, modes])
  let model = FNO<Float>(config, seed: 0)
  let x = NDArray<Float>.randomNormal([batch, 1, n, n], seed: 1)
  let y = NDArray<Float>.randomNormal([batch, 1, n, n], seed: 2)
  let loss = LpLoss(spatialDimensions: 2)
  func seconds(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
  }
  var inference: [Double] = []
  var taped: [Double] = []
  var backward: [Double] = []
  for rep in 0..<(values["warmup"]! + values["reps"]!) {
    let t1 = seconds { _ = model(x) }
    let tape = Tape<Float>()
    var bound = model
    var leaves: [Tensor<Float>] = []
    var out: Tensor<Float>? = nil
    let t2 = seconds {
      bound.visitParameters { _, p in
        p = tape.variable(p.value)
        leaves.append(p)
      }
      out = loss(bound(Tensor(x)), Tensor(y))
    }
    let t3 = seconds { _ = tape.gradients(of: out!, withRespectTo: leaves) }
    if rep >= values["warmup"]! {
      inference.append(t1)
      taped.append(t2)
      backward.append(t3)
    }
  }
  let o = Options(bench: name, reps: values["reps"]!, warmup: values["warmup"]!, threads: values["threads"]!, n: n)
  let extra: [String: Any] = [
    "batch": batch, "width": width, "modes": modes, "parameters": model.parameterCount,
    "openblas_core": BLAS.openBLASInfo.coreName,
  ]
  record("fno_step_forward", "pdekit", o, inference, extra)
  record("fno_step_taped_forward", "pdekit", o, taped, extra)
  record("fno_step_backward", "pdekit", o, backward, extra)
}
