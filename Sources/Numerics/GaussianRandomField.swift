// Gaussian random fields on periodic grids by spectral synthesis (Karhunen–Loève in the Fourier
// basis), the recipe behind the FNO paper's Darcy, Burgers and Navier–Stokes inputs (Li et al.,
// "Fourier Neural Operator for Parametric PDEs", ICLR 2021, and its data-generation scripts).
//
// The field u on the unit periodic domain [0,1)^d has the covariance operator
//     C = σ² (−Δ + τ² I)^(−α),
// whose eigenfunctions are e^{2πi k·x} with eigenvalues λ_k = σ² (4π²|k|² + τ²)^(−α). On an N^d
// grid (integer wavenumbers k in the FFT range) the field is
//     u(x_j) = Σ_k √λ_k ξ_k e^{2πi k·x_j},   ξ_k standard complex normal, ξ_{−k} = conj(ξ_k),
// so E[u(x)²] = Σ_k λ_k and E|û_k|² = λ_k where û = fft(u)/N^d. The Hermitian ξ is obtained
// exactly as the rfft of real white noise divided by √(N^d). Setting `zeroMean` drops k = 0 (as
// the FNO Burgers and Navier–Stokes scripts do).

import Foundation

/// A sampler of periodic Gaussian random fields with covariance σ²(−Δ + τ²I)^(−α).
///
/// ```
/// let grf = try GaussianRandomField(shape: [64, 64], alpha: 2, tau: 3)
/// let a = grf.sample(seed: 7, index: 0)     // NDArray<Double> of shape [64, 64]
/// ```
///
/// Construction precomputes √λ on the half spectrum and the FFT plans; `sample` reuses them and
/// is thread-safe. Sample `index` under `seed` is the same whatever thread draws it.
public struct GaussianRandomField: Sendable {
  /// Grid extents (1 to 3 axes, unit domain per axis).
  public let shape: [Int]
  /// Smoothness exponent α (> d/2 for a field with finite pointwise variance).
  public let alpha: Double
  /// Inverse length scale τ.
  public let tau: Double
  /// Amplitude σ.
  public let sigma: Double
  /// Whether the k = 0 mode is removed (sample mean exactly 0).
  public let zeroMean: Bool
  /// √λ_k on the rfft half spectrum (shape = `shape` with the last axis n/2+1), already divided by √(N^d).
  let sqrtEigen: NDArray<Double>

  /// Creates a sampler. Throws if the shape is not 1–3 positive extents or α, τ, σ are invalid.
  public init(shape: [Int], alpha: Double, tau: Double, sigma: Double = 1, zeroMean: Bool = false) throws {
    guard (1...3).contains(shape.count), shape.allSatisfy({ $0 > 0 }) else {
      throw NumericsError.invalidArgument("GRF shape must have 1–3 positive extents, got \(shape)")
    }
    guard alpha > 0, tau >= 0, sigma > 0, alpha.isFinite, tau.isFinite, sigma.isFinite else {
      throw NumericsError.invalidArgument("GRF needs α > 0, τ ≥ 0, σ > 0 (got α = \(alpha), τ = \(tau), σ = \(sigma))")
    }
    guard tau > 0 || zeroMean else {
      throw NumericsError.invalidArgument("GRF with τ = 0 has an infinite k = 0 eigenvalue; set zeroMean or τ > 0")
    }
    self.shape = shape
    self.alpha = alpha
    self.tau = tau
    self.sigma = sigma
    self.zeroMean = zeroMean
    var half = shape
    half[half.count - 1] = shape.last! / 2 + 1
    let total = Double(shape.reduce(1, *))
    let hs = half
    sqrtEigen = NDArray(shape: half) { p in
      var idx = [Int](repeating: 0, count: hs.count)
      for lin in 0..<p.count {
        var r = lin
        for ax in stride(from: hs.count - 1, through: 0, by: -1) {
          idx[ax] = r % hs[ax]
          r /= hs[ax]
        }
        var k2 = 0.0
        for ax in 0..<hs.count {
          let n = shape[ax]
          let k = ax == hs.count - 1 ? idx[ax] : (idx[ax] <= n / 2 ? idx[ax] : idx[ax] - n)
          k2 += Double(k * k)
        }
        let lambda = sigma * sigma * Foundation.pow(4 * Double.pi * Double.pi * k2 + tau * tau, -alpha)
        p[lin] = (lin == 0 && zeroMean) ? 0 : (lambda / total).squareRoot()
      }
    }
    _ = try FFTPlan<Double>(.realToComplex, shape: shape, batch: 1)
    _ = try FFTPlan<Double>(.complexToReal, shape: shape, batch: 1)
  }

  /// The covariance eigenvalue λ_k = σ²(4π²|k|² + τ²)^(−α) for integer wavevector `k`.
  public func eigenvalue(_ k: [Int]) -> Double {
    if zeroMean && k.allSatisfy({ $0 == 0 }) { return 0 }
    let k2 = Double(k.reduce(0) { $0 + $1 * $1 })
    return sigma * sigma * Foundation.pow(4 * Double.pi * Double.pi * k2 + tau * tau, -alpha)
  }

  /// Draws the field for sample `index` of a run seeded with `seed`.
  public func sample(seed: UInt64, index: UInt64) -> NDArray<Double> {
    var rng = PhiloxRandom(seed: seed, stream: index)
    return sample(using: &rng)
  }

  /// Draws a field using `rng` for the white noise.
  public func sample(using rng: inout PhiloxRandom) -> NDArray<Double> {
    var noise = NDArray<Double>.zeros(shape)
    noise.withUnsafeMutableBufferPointer { rng.fillGaussian($0) }
    // rfft of unit white noise has E|W_k|² = N^d; sqrtEigen carries the 1/√(N^d).
    var spectrum = try! FFT.rfft(noise, rank: shape.count)
    spectrum.withUnsafeMutableBufferPointer { s in
      sqrtEigen.withUnsafeBufferPointer { e in
        for i in 0..<s.count { s[i] = e[i] * s[i] }
      }
    }
    // Σ_k c_k e^{2πik·x} = N^d · ifft(c): use the unnormalized inverse.
    return try! FFT.irfft(spectrum, lastAxisSize: shape.last!, rank: shape.count, norm: .forward)
  }
}
