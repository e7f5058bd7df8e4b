import Foundation
import Numerics
import Operators
import Testing

/// A smooth periodic input function on an n×n grid: random Fourier modes with |k₁|, k₂ ≤ band.
func smoothField(_ n: Int, sample: Int, band: Int = 2) -> [Double] {
  var rng = PhiloxRandom(seed: 7, stream: UInt64(sample))
  var terms: [(Int, Int, Double, Double)] = []
  for k1 in -band...band {
    for k2 in 0...band where !(k2 == 0 && k1 < 0) {
      terms.append(
        (k1, k2, rng.nextGaussian() / Double(1 + k1 * k1 + k2 * k2), rng.nextGaussian() / Double(1 + k1 * k1 + k2 * k2))
      )
    }
  }
  var out = [Double](repeating: 0, count: n * n)
  for i in 0..<n {
    for j in 0..<n {
      var v = 0.0
      for (k1, k2, a, b) in terms {
        let phase = 2 * Double.pi * (Double(k1 * i) + Double(k2 * j)) / Double(n)
        v += a * cos(phase) + b * sin(phase)
      }
      out[i * n + j] = v
    }
  }
  return out
}

@Suite("FNO: parameters, neuraloperator names, shapes, super-resolution, end-to-end gradient")
struct FNOTests {
  static let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 32, modes: [12, 12])

  @Test("2D, width 32, modes (12,12), in = out = 1, 4 layers: 701,281 parameters, neuraloperator keys and shapes")
  func parameterCount() {
    let fno = FNO<Float>(Self.config, seed: 0)
    #expect(fno.parameterCount == 701_281)
    let table = Dictionary(
      uniqueKeysWithValues: fno.neuraloperatorParameters().map { ($0.parameter.key, $0.parameter) })
    #expect(table.count == 4 * 8 + 8)
    #expect(table["lifting.fcs.0.weight"]?.shape == [64, 3, 1])
    #expect(table["lifting.fcs.1.weight"]?.shape == [32, 64, 1])
    #expect(table["lifting.fcs.1.bias"]?.shape == [32])
    #expect(
      table["fno_blocks.convs.3.weight.tensor"]
        == NeuraloperatorParameter(key: "fno_blocks.convs.3.weight.tensor", shape: [32, 32, 12, 7], isComplex: true))
    #expect(table["fno_blocks.convs.0.bias"]?.shape == [32, 1, 1])
    #expect(table["fno_blocks.fno_skips.2.conv.weight"]?.shape == [32, 32, 1])
    #expect(table["fno_blocks.channel_mlp.1.fcs.0.weight"]?.shape == [16, 32, 1])
    #expect(table["fno_blocks.channel_mlp.1.fcs.0.bias"]?.shape == [16])
    #expect(table["fno_blocks.channel_mlp.1.fcs.1.weight"]?.shape == [32, 16, 1])
    #expect(table["fno_blocks.channel_mlp_skips.0.weight"]?.shape == [1, 32, 1, 1])
    #expect(table["projection.fcs.0.weight"]?.shape == [64, 32, 1])
    #expect(table["projection.fcs.1.weight"]?.shape == [1, 64, 1])
    #expect(table["projection.fcs.1.bias"]?.shape == [1])
    let realCount = table.values.reduce(0) { $0 + $1.shape.reduce(1, *) * ($1.isComplex ? 2 : 1) }
    #expect(realCount == 701_281)
    #expect(FNO<Float>.neuraloperatorName("blocks.2.spectral.weight") == "fno_blocks.convs.2.weight.tensor")
    #expect(FNO<Float>.neuraloperatorName("blocks.2.nothing") == nil)
  }

  @Test("forward shape [B, out, H, W]; parameters round-trip through loadParameters")
  func forwardShape() throws {
    let fno = FNO<Float>(Self.config, seed: 1)
    let x = NDArray<Float>.randomNormal([2, 1, 16, 16], seed: 3)
    let y = fno(x)
    #expect(y.shape == [2, 1, 16, 16])
    #expect(y.scalars.allSatisfy { $0.isFinite })
    var other = FNO<Float>(Self.config, seed: 2)
    #expect(other(x) != y)
    try other.loadParameters(Dictionary(uniqueKeysWithValues: fno.namedParameters().map { ($0.name, $0.value) }))
    #expect(other(x) == y)
    #expect(throws: OperatorsError.self) { try other.loadParameters(["lifting.fcs.0.weight": .zeros([1, 1])]) }
  }

  @Test("zero-shot super-resolution: the same weights on a 2× grid give a smooth output close to the coarse one")
  func superResolution() throws {
    let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 8, modes: [6, 6], layers: 2)
    let fno = FNO<Double>(config, seed: 4)
    let coarse = fno(try NDArray(shape: [1, 1, 16, 16], data: smoothField(16, sample: 0)))
    let fine = fno(try NDArray(shape: [1, 1, 32, 32], data: smoothField(32, sample: 0)))
    #expect(fine.shape == [1, 1, 32, 32])
    var diff = 0.0
    var norm = 0.0
    for i in 0..<16 {
      for j in 0..<16 {
        diff += pow(fine[0, 0, 2 * i, 2 * j] - coarse[0, 0, i, j], 2)
        norm += pow(coarse[0, 0, i, j], 2)
      }
    }
    #expect((diff / norm).squareRoot() < 0.01)
    // Smooth: halving the grid spacing halves the largest step between neighbours (no grid-scale
    // noise). Neighbours along each axis, not across the periodic seam, where the grid embedding's
    // coordinate channels jump from 1 − h back to 0.
    func largestStep(_ u: NDArray<Double>) -> Double {
      let n = u.shape[2]
      var step = 0.0
      for i in 0..<n - 1 {
        for j in 0..<n - 1 {
          step = max(step, abs(u[0, 0, i, j + 1] - u[0, 0, i, j]), abs(u[0, 0, i + 1, j] - u[0, 0, i, j]))
        }
      }
      return step
    }
    #expect(largestStep(fine) < 0.65 * largestStep(coarse))
  }

  @Test("end-to-end pullback of a tiny FNO through the H1 loss (sampled entries of every parameter)")
  func endToEnd() throws {
    let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 4, modes: [4, 4], layers: 2)
    let fno = FNO<Double>(config, seed: 6)
    let x = NDArray<Double>.randomNormal([2, 1, 6, 5], seed: 8)
    let y = NDArray<Double>.randomNormal([2, 1, 6, 5], seed: 9)
    let params = fno.namedParameters().map(\.value)
    let err = pullbackError(params + [x], samples: 4) { t in
      var m = fno
      var k = 0
      m.visitParameters { _, p in
        p = t[k]
        k += 1
      }
      return H1Loss(spatialDimensions: 2)(m(t[k]), Tensor(y))
    }
    #expect(err < 1e-6)
    // valueAndGradient(at:) agrees with the raw tape.
    let (loss, grads) = valueAndGradient(at: fno) { m in H1Loss(spatialDimensions: 2)(m(Tensor(x)), Tensor(y)) }
    #expect(abs(loss - H1Loss(spatialDimensions: 2)(Tensor(fno(x)), Tensor(y)).scalar) < 1e-14)
    #expect(grads.names == fno.namedParameters().map(\.name))
  }
}
