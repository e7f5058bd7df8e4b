// Gaussian random fields with zero-Neumann boundary conditions on the unit square/cube, sampled
// at cell centres: the recipe of the FNO paper's Darcy data (Li et al., "Fourier Neural Operator
// for Parametric Partial Differential Equations", ICLR 2021; its data script draws
// μ ~ N(0, (−Δ + τ²I)^(−α)) with τ = 3, α = 2 and zero Neumann boundary conditions).
//
// The Neumann Laplacian on [0,1]^d has eigenfunctions φ_k(x) = Π_a cos(π k_a x_a), k_a ≥ 0, with
// eigenvalues π²|k|². The field is the truncated Karhunen–Loève series
//     μ(x) = Σ_{k ≠ 0} σ (π²|k|² + τ²)^(−α/2) ξ_k φ_k(x),   ξ_k iid N(0, 1),   k_a < N,
// evaluated at the cell centres x_i = (i + ½)/N. The k = 0 (constant) mode is dropped, as in the
// FNO script. (The FNO script also multiplies by τ^(α−1) and a grid factor; those constants do not
// change the sign of μ, which is all the thresholded Darcy coefficient uses; `sigma` sets the scale.)
// Evaluation is separable: one dense N×N cosine matrix applied along each axis with BLAS gemm,
// O(N^(d+1)) flops — a few milliseconds at N = 256, small next to the PDE solve that follows.

import Foundation

/// A sampler of zero-Neumann Gaussian random fields on an N^d cell-centred grid (d = 1, 2, 3).
///
/// ```
/// let grf = try CosineRandomField(shape: [64, 64], alpha: 2, tau: 3)
/// let mu = grf.sample(seed: 0, index: 7)         // NDArray<Double> [64, 64]
/// let a = mu.map { $0 >= 0 ? 12.0 : 3.0 }        // FNO Darcy coefficient
/// ```
///
/// Sample `index` under `seed` is the same whatever thread draws it (Philox stream = index).
public struct CosineRandomField: Sendable {
  /// Grid extents (cells per axis, slowest first).
  public let shape: [Int]
  /// Smoothness exponent α.
  public let alpha: Double
  /// Inverse length scale τ.
  public let tau: Double
  /// Amplitude σ.
  public let sigma: Double
  /// Per-axis cosine matrices C_a[i, k] = cos(π k (i + ½)/N_a), row-major N_a × N_a.
  let cosines: [NDArray<Double>]
  /// √λ_k on the coefficient grid (k_a < N_a), zero at k = 0.
  let sqrtEigen: NDArray<Double>

  /// Creates a sampler; throws for an empty or >3-axis shape or invalid parameters.
  public init(shape: [Int], alpha: Double, tau: Double, sigma: Double = 1) throws {
    guard (1...3).contains(shape.count), shape.allSatisfy({ $0 > 0 }) else {
      throw NumericsError.invalidArgument("Neumann GRF shape must have 1–3 positive extents, got \(shape)")
    }
    guard alpha > 0, tau >= 0, sigma > 0, alpha.isFinite, tau.isFinite, sigma.isFinite else {
      throw NumericsError.invalidArgument("GRF needs α > 0, τ ≥ 0, σ > 0 (got α = \(alpha), τ = \(tau), σ = \(sigma))")
    }
    self.shape = shape
    self.alpha = alpha
    self.tau = tau
    self.sigma = sigma
    cosines = shape.map { n in
      NDArray<Double>(shape: [n, n]) { c in
        for i in 0..<n {
          for k in 0..<n { c[i * n + k] = cos(Double.pi * Double(k) * (Double(i) + 0.5) / Double(n)) }
        }
      }
    }
    let dims = shape
    sqrtEigen = NDArray<Double>(shape: dims) { p in
      var idx = [Int](repeating: 0, count: dims.count)
      for lin in 0..<p.count {
        var r = lin
        for a in stride(from: dims.count - 1, through: 0, by: -1) {
          idx[a] = r % dims[a]
          r /= dims[a]
        }
        let k2 = Double(idx.reduce(0) { $0 + $1 * $1 })
        p[lin] = lin == 0 ? 0 : sigma * pow(Double.pi * Double.pi * k2 + tau * tau, -alpha / 2)
      }
    }
  }

  /// Draws the field of sample `index` under `seed`.
  public func sample(seed: UInt64, index: UInt64) -> NDArray<Double> {
    var rng = PhiloxRandom(seed: seed, stream: index)
    var coefficients = NDArray<Double>.zeros(shape)
    coefficients.withUnsafeMutableBufferPointer { rng.fillGaussian($0) }
    coefficients = coefficients * sqrtEigen
    return synthesize(coefficients)
  }

  /// Evaluates Σ_k c_k φ_k at the cell centres (the separable inverse cosine transform).
  public func synthesize(_ coefficients: NDArray<Double>) -> NDArray<Double> {
    precondition(
      coefficients.shape == shape, "coefficients of shape \(coefficients.shape) for a field of shape \(shape)")
    // Apply C_a along axis a: view the array as [outer, N_a, inner] and compute C_a · X per outer block.
    var current = coefficients
    for (a, c) in cosines.enumerated() {
      let n = shape[a]
      let outer = shape[..<a].reduce(1, *)
      let inner = shape[(a + 1)...].reduce(1, *)
      var next = NDArray<Double>.zeros(shape)
      c.withUnsafeBufferPointer { cp in
        current.withUnsafeBufferPointer { xp in
          next.withUnsafeMutableBufferPointer { yp in
            BLAS.gemmStridedBatched(
              .none, .none, m: n, n: inner, k: n, alpha: 1, a: cp.baseAddress!, lda: n, strideA: 0,
              b: xp.baseAddress!, ldb: inner, strideB: n * inner, beta: 0, c: yp.baseAddress!, ldc: inner,
              strideC: n * inner, batch: outer)
          }
        }
      }
      current = next
    }
    return current
  }
}
