import Foundation
import Numerics
import Operators
import Testing

@Suite("Losses (relative Lp, H1) and the unit Gaussian normalizer")
struct LossTests {
  @Test("relative L2 value per (sample, channel), sum and mean reductions")
  func lpValue() {
    let x = randn([3, 2, 4, 5], seed: 51)
    let y = randn([3, 2, 4, 5], seed: 52)
    var expected = 0.0
    for b in 0..<3 {
      for c in 0..<2 {
        let xs = x[sample: b][sample: c].scalars
        let ys = y[sample: b][sample: c].scalars
        let num = zip(xs, ys).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let den = ys.reduce(0) { $0 + $1 * $1 }.squareRoot()
        expected += num / (den + 1e-8)
      }
    }
    let sum = LpLoss(spatialDimensions: 2)(Tensor(x), Tensor(y)).scalar
    let mean = LpLoss(spatialDimensions: 2, reduction: .mean)(Tensor(x), Tensor(y)).scalar
    #expect(abs(sum - expected) < 1e-12)
    #expect(abs(mean - expected / 6) < 1e-12)
    #expect(LpLoss(spatialDimensions: 2)(Tensor(y), Tensor(y)).scalar == 0)
  }

  @Test("Lp pullback: p = 1, 2, 3; 1D/2D/3D; sum and mean", arguments: [1.0, 2.0, 3.0])
  func lpPullback(p: Double) {
    for (shape, d) in [([2, 3, 7], 1), ([2, 2, 4, 5], 2), ([1, 2, 3, 4, 3], 3)] {
      let y = randn(shape, seed: 53)
      let x = randn(shape, seed: 54)
      for reduction in [LossReduction.sum, .mean] {
        let loss = LpLoss(spatialDimensions: d, p: p, reduction: reduction)
        #expect(pullbackError([x]) { loss($0[0], Tensor(y)) } < 1e-6)
      }
    }
  }

  @Test("H1 value: periodic central differences with h = 1/N per axis")
  func h1Value() {
    let (n1, n2) = (5, 6)
    let x = randn([2, 1, n1, n2], seed: 55)
    let y = randn([2, 1, n1, n2], seed: 56)
    func h1Squared(_ u: (Int, Int) -> Double) -> Double {
      var s = 0.0
      for i in 0..<n1 {
        for j in 0..<n2 {
          let dx = (u((i + 1) % n1, j) - u((i + n1 - 1) % n1, j)) / (2.0 / Double(n1))
          let dy = (u(i, (j + 1) % n2) - u(i, (j + n2 - 1) % n2)) / (2.0 / Double(n2))
          s += u(i, j) * u(i, j) + dx * dx + dy * dy
        }
      }
      return s
    }
    var expected = 0.0
    for b in 0..<2 {
      let num = h1Squared { x[b, 0, $0, $1] - y[b, 0, $0, $1] }.squareRoot()
      let den = h1Squared { y[b, 0, $0, $1] }.squareRoot()
      expected += num / (den + 1e-8)
    }
    #expect(abs(H1Loss(spatialDimensions: 2)(Tensor(x), Tensor(y)).scalar - expected) < 1e-12)
  }

  @Test("H1 pullback, 1D/2D/3D, odd and even sizes")
  func h1Pullback() {
    for (shape, d) in [([2, 2, 7], 1), ([2, 1, 4, 5], 2), ([1, 2, 3, 4, 5], 3)] {
      let x = randn(shape, seed: 57)
      let y = randn(shape, seed: 58)
      for reduction in [LossReduction.sum, .mean] {
        let loss = H1Loss(spatialDimensions: d, reduction: reduction)
        #expect(pullbackError([x]) { loss($0[0], Tensor(y)) } < 1e-6)
      }
    }
  }

  @Test("UnitGaussianNormalizer: per-channel mean and unbiased std, encode/decode round trip")
  func normalizer() throws {
    let data = try NDArray<Double>(
      shape: [2, 2, 3], data: [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60])
    let n = UnitGaussianNormalizer(fitting: data)
    #expect(abs(n.mean[0] - 3.5) < 1e-14 && abs(n.mean[1] - 35) < 1e-14)
    // Channel 0 holds 1…6: unbiased variance 3.5.
    #expect(abs(n.std[0] - 3.5.squareRoot()) < 1e-14 && abs(n.std[1] - 350.0.squareRoot()) < 1e-12)
    let z = n.encode(data)
    #expect(abs(z[0, 0, 0] - (1 - 3.5) / (3.5.squareRoot() + 1e-7)) < 1e-14)
    #expect(n.decode(z).maxAbsDifference(data) < 1e-12)
    #expect(n.decode(Tensor(z)).value.maxAbsDifference(data) < 1e-12)
    #expect(pullbackError([z]) { n.decode($0[0]) } < 1e-6)
  }
}
