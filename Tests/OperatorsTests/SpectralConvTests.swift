import Foundation
import Numerics
import Operators
import Testing

/// Direct evaluation of neuraloperator's spectral convolution on a 2D grid, from its definition:
/// naive DFT (norm "forward"), the kept centred block of modes, the complex channel contraction,
/// then the real inverse as torch.fft.irfftn computes it — an inverse DFT over the first axis,
/// then a 1-D Hermitian (c2r) inverse over the last, which reads only the real part of the 0 and
/// Nyquist coefficients.
func naiveSpectralConv2D(
  _ x: NDArray<Double>, weight w: NDArray<Double>, bias: NDArray<Double>, modes: [Int]
) -> NDArray<Double> {
  let (batch, cin, n1, n2) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let cout = w.shape[1]
  let (k1Cap, k2Cap) = (modes[0], modes[1] / 2 + 1)
  let k1 = min(n1, k1Cap)
  let k2 = min(n2 / 2 + 1, k2Cap)
  var y = NDArray<Double>.zeros([batch, cout, n1, n2])
  for b in 0..<batch {
    // Kept coefficients Y[o][j1][q] (j1 indexes frequencies f1 = j1 − k1/2).
    var spec = [[[Complex<Double>]]](
      repeating: [[Complex<Double>]](repeating: [Complex<Double>](repeating: .zero, count: k2), count: k1), count: cout)
    for j1 in 0..<k1 {
      let f1 = j1 - k1 / 2
      let w1 = (k1Cap - k1) / 2 + j1
      for q in 0..<k2 {
        for i in 0..<cin {
          var coefficient = Complex<Double>.zero
          for a in 0..<n1 {
            for c in 0..<n2 {
              let phase = -2 * Double.pi * (Double(f1 * a) / Double(n1) + Double(q * c) / Double(n2))
              coefficient = coefficient + x[b, i, a, c] * Complex(cos(phase), sin(phase))
            }
          }
          coefficient = (1 / Double(n1 * n2)) * coefficient
          for o in 0..<cout {
            spec[o][j1][q] = spec[o][j1][q] + coefficient * Complex(w[i, o, w1, q, 0], w[i, o, w1, q, 1])
          }
        }
      }
    }
    for o in 0..<cout {
      for a in 0..<n1 {
        // Inverse DFT over the first axis: W[q] = Σ_f1 Y[f1, q] e^{+2πi f1 a / n1}.
        var row = [Complex<Double>](repeating: .zero, count: n2 / 2 + 1)
        for j1 in 0..<k1 {
          let phase = 2 * Double.pi * Double((j1 - k1 / 2) * a) / Double(n1)
          for q in 0..<k2 { row[q] = row[q] + spec[o][j1][q] * Complex(cos(phase), sin(phase)) }
        }
        for c in 0..<n2 {
          // 1-D c2r: Re W₀ + 2 Σ Re(W_q e^{iθ}) + Re W_{n/2} (−1)^c for even n.
          var v = row[0].re
          for q in 1..<(n2 / 2 + 1) {
            let phase = 2 * Double.pi * Double(q * c) / Double(n2)
            let term = (row[q] * Complex(cos(phase), sin(phase))).re
            v += (n2 % 2 == 0 && q == n2 / 2) ? term : 2 * term
          }
          y[b, o, a, c] = v + bias[o, 0, 0]
        }
      }
    }
  }
  return y
}

@Suite("Spectral convolution: direct evaluation, pullbacks, resolution invariance")
struct SpectralConvTests {
  @Test(
    "matches a naive DFT evaluation (2D 6×5 modes (4,3); 4×6 with the Nyquist column; modes above the grid)",
    arguments: [([6, 5], [4, 3]), ([4, 6], [4, 6]), ([5, 4], [8, 8]), ([7, 6], [3, 4]), ([16, 12], [6, 6])],
    [SpectralTransform.fft, .prunedDFT, .automatic])
  func naive(shape: ([Int], [Int]), transform: SpectralTransform) {
    let (grid, modes) = shape
    let x = randn([2, 3] + grid, seed: 21)
    let w = randn(spectralWeightShape(inChannels: 3, outChannels: 2, modes: modes), seed: 22)
    let bias = randn([2, 1, 1], seed: 23)
    let y = spectralConvolution(Tensor(x), weight: Tensor(w), bias: Tensor(bias), modes: modes, transform: transform)
      .value
    let ref = naiveSpectralConv2D(x, weight: w, bias: bias, modes: modes)
    #expect(y.shape == [2, 2] + grid)
    #expect(y.maxAbsDifference(ref) < 1e-12)
  }

  @Test("FFTW and the pruned DFT agree in Float32 at the FNO benchmark's shape (64², modes 12), forward and pullback")
  func transformsAgreeInFloat() {
    let x = NDArray<Float>.randomNormal([2, 4, 64, 64], seed: 24)
    let w = NDArray<Float>.randomNormal(spectralWeightShape(inChannels: 4, outChannels: 3, modes: [12, 12]), seed: 25)
    let g = NDArray<Float>.randomNormal([2, 3, 64, 64], seed: 26)
    func run(_ t: SpectralTransform) -> [NDArray<Float>] {
      let r = valueAndPullback(at: [x, w], cotangent: g) {
        spectralConvolution($0[0], weight: $0[1], modes: [12, 12], transform: t)
      }
      return [r.value] + r.gradients
    }
    let (a, b) = (run(.fft), run(.prunedDFT))
    for (u, v) in zip(a, b) {
      let scale = Double(u.scalars.map { abs($0) }.max()!)
      #expect(Double(u.maxAbsDifference(v)) / scale < 2e-6)
    }
  }

  @Test(
    "pullback against finite differences, 1D/2D/3D, odd and even sizes",
    arguments: [
      ([7], [4]), ([8], [8]), ([6, 5], [4, 3]), ([5, 8], [4, 6]), ([4, 4], [6, 6]), ([5, 6, 4], [4, 4, 4]),
      ([3, 4, 5], [2, 4, 3]),
    ])
  func pullback(grid: [Int], modes: [Int]) {
    let x = randn([2, 2] + grid, seed: 31)
    let w = randn(spectralWeightShape(inChannels: 2, outChannels: 3, modes: modes), seed: 32)
    let bias = randn([3] + Array(repeating: 1, count: grid.count), seed: 33)
    for transform in [SpectralTransform.fft, .prunedDFT] {
      let err = pullbackError([x, w, bias]) {
        spectralConvolution($0[0], weight: $0[1], bias: $0[2], modes: modes, transform: transform)
      }
      #expect(err < 1e-6, "transform \(transform)")
    }
  }

  @Test("a band-limited input gives the same output on a 2× finer grid (1D and 2D)")
  func resolutionInvariance() {
    let modes = [6, 6]
    var rng = PhiloxRandom(seed: 41)
    let conv = SpectralConv<Double>(inChannels: 2, outChannels: 3, modes: modes, rng: &rng)
    // Band-limited input: a few Fourier modes with |k| ≤ 2.
    func sample(_ n: Int) -> NDArray<Double> {
      NDArray<Double>(shape: [1, 2, n, n]) { p in
        for c in 0..<2 {
          for i in 0..<n {
            for j in 0..<n {
              let (s, t) = (Double(i) / Double(n), Double(j) / Double(n))
              p[(c * n + i) * n + j] =
                sin(2 * .pi * (s + Double(c) * t)) + 0.5 * cos(2 * .pi * (2 * t - s)) + 0.3 * Double(c + 1)
            }
          }
        }
      }
    }
    let coarse = conv(Tensor(sample(16))).value
    let fine = conv(Tensor(sample(32))).value
    var worst = 0.0
    for o in 0..<3 {
      for i in 0..<16 { for j in 0..<16 { worst = max(worst, abs(fine[0, o, 2 * i, 2 * j] - coarse[0, o, i, j])) } }
    }
    #expect(worst < 1e-12)
  }

  @Test("layer initialization: shapes, complex std √(2/(in+out)), bias std")
  func initialization() {
    var rng = PhiloxRandom(seed: 5)
    let conv = SpectralConv<Double>(inChannels: 32, outChannels: 32, modes: [12, 12], rng: &rng)
    #expect(conv.weight.shape == [32, 32, 12, 7, 2])
    #expect(conv.bias?.shape == [32, 1, 1])
    let w = conv.weight.value.scalars
    let complexVariance = w.reduce(0) { $0 + $1 * $1 } / Double(w.count / 2)  // E|z|²
    #expect(abs(complexVariance - 2.0 / 64) / (2.0 / 64) < 0.02)
    let reals = stride(from: 0, to: w.count, by: 2).map { w[$0] }
    let realVariance = reals.reduce(0) { $0 + $1 * $1 } / Double(reals.count)
    #expect(abs(realVariance - 1.0 / 64) / (1.0 / 64) < 0.03)
  }
}
