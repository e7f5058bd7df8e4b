// Restarted GMRES(m) with right preconditioning, for general nonsymmetric systems.
//
// Saad & Schultz, "GMRES: A generalized minimal residual algorithm for solving nonsymmetric
// linear systems", SIAM J. Sci. Stat. Comput. 7 (1986); right-preconditioned form as Saad,
// "Iterative Methods for Sparse Linear Systems", 2nd ed., Algorithm 9.5. The Arnoldi basis is
// orthogonalized by classical Gram–Schmidt applied twice (CGS2, Giraud, Langou, Rozložník,
// Comput. Math. Appl. 50, 2005: orthogonal to working precision, and BLAS-2 fast), the
// Hessenberg least-squares problem by Givens rotations.
//
// With right preconditioning the residual the method minimizes is the true residual b − A x, so
// the stopping test ‖r‖ ≤ atol + rtol·‖b‖ needs no conversion. The shared engine also runs
// FGMRES (flexible: the preconditioner may change between iterations), see FGMRES.swift.
import Foundation
import Numerics

/// A reusable GMRES(m) workspace for n×n systems.
///
/// ```
/// let gmres = GMRES(dimension: n, restart: 30)
/// let stats = gmres.solve(a, b, &x, preconditioner: ilu0, options: KrylovOptions(rtol: 1e-8))
/// ```
///
/// Inputs: operator `A`, right-hand side `b`, initial guess `x` (overwritten), optional
/// preconditioner applied on the right (A M⁻¹ u = b, x = M⁻¹ u). Options: `rtol` (1e-8), `atol` (0),
/// `maxIterations` (total inner iterations, default 10n), `history`. Reasons: `.converged`,
/// `.maxIterations`, `.breakdown` (the Krylov space became A-invariant without reaching the
/// tolerance: A M⁻¹ singular on it), `.stagnation` (a whole restart cycle reduced ‖r‖ by less
/// than a factor 1 − 1e-10). Storage: (m + 1) n-vectors (2m + 1 for FGMRES) and an (m+1)×m matrix.
public final class GMRES {
  /// Size n of the systems.
  public let dimension: Int
  /// Restart length m.
  public let restart: Int
  let engine: ArnoldiEngine

  /// Allocates the workspace for n×n systems with restart length m (≥ 1).
  public init(dimension: Int, restart: Int = 30) {
    precondition(restart >= 1, "GMRES restart must be at least 1")
    self.dimension = dimension
    self.restart = restart
    engine = ArnoldiEngine(dimension: dimension, restart: restart, flexible: false)
  }

  /// Solves A x = b from the guess in `x`; see the type's documentation.
  public func solve(
    _ a: some LinearOperator, _ b: [Double], _ x: inout [Double], preconditioner: Preconditioner? = nil,
    options: KrylovOptions = KrylovOptions()
  ) -> SolverStats {
    engine.solve(a, b, &x, preconditioner: preconditioner, options: options, name: "gmres(\(restart))")
  }
}

/// The Arnoldi/Givens engine shared by GMRES and FGMRES.
final class ArnoldiEngine {
  let n: Int
  let m: Int
  let flexible: Bool
  /// Basis V, (m+1) rows of length n (row j = v_j), contiguous so BLAS sees V as a matrix.
  let basis: ScratchVectors
  /// FGMRES: Z, m rows of length n (row j = M⁻¹ v_j). GMRES: one scratch row.
  let preconditioned: ScratchVectors
  /// One n-vector of scratch.
  let scratch: ScratchVectors
  /// Small arrays: Hessenberg H column-major (m+1)×m (H[i, j] at j*(m+1) + i), Givens cosines
  /// and sines (m each), the rotated right-hand side g (m+1), a column buffer (m+1).
  let small: UnsafeMutablePointer<Double>

  init(dimension: Int, restart: Int, flexible: Bool) {
    n = dimension
    m = restart
    self.flexible = flexible
    basis = ScratchVectors(n: dimension, count: restart + 1)
    preconditioned = ScratchVectors(n: dimension, count: flexible ? restart : 1)
    scratch = ScratchVectors(n: dimension, count: 1)
    let count = (restart + 1) * restart + 2 * restart + 2 * (restart + 1)
    small = .allocate(capacity: count)
    small.initialize(repeating: 0, count: count)
  }

  deinit { small.deallocate() }

  func solve(
    _ a: some LinearOperator, _ bArray: [Double], _ xArray: inout [Double], preconditioner: Preconditioner?,
    options: KrylovOptions, name: String
  ) -> SolverStats {
    let (n, m, flexible) = (self.n, self.m, self.flexible)
    checkSizes(name, n, a, b: bArray.count, x: xArray.count, preconditioner: preconditioner)
    let t0 = monotonicSeconds()
    let maxIterations = options.maxIterations ?? 10 * n
    let method = name + (preconditioner.map { "+" + $0.name } ?? "")
    var history: [Double] = []
    let (V, Z, w) = (basis[0], preconditioned[0], scratch[0])
    let hess = small
    let c = hess + (m + 1) * m
    let s = c + m
    let g = s + m
    let hc = g + m + 1
    return bArray.withUnsafeBufferPointer { bb in
      xArray.withUnsafeMutableBufferPointer { xx in
        let (b, x) = (bb.baseAddress!, xx.baseAddress!)
        let ld = m + 1
        let bNorm = nrm2(b, n)
        let scale = bNorm > 0 ? bNorm : 1
        let tolerance = options.atol + options.rtol * bNorm
        var iterations = 0
        var reason = ConvergenceReason.maxIterations
        // r0 = b − A x into V row 0.
        var beta = trueResidualNorm(a, b, x, scratch: V)
        if options.history { history.append(beta / scale) }

        outer: while true {
          if beta <= tolerance {
            reason = .converged
            break
          }
          if iterations >= maxIterations { break }
          let cycleStart = beta
          BLAS.scal(1 / beta, UnsafeMutableBufferPointer(start: V, count: n))
          for i in 0...m { g[i] = 0 }
          g[0] = beta
          var k = 0  // columns built in this cycle
          var happy = false
          while k < m && iterations < maxIterations {
            let vk = V + k * n
            let zk = flexible ? Z + k * n : Z
            applyPreconditioner(preconditioner, vk, zk, n)
            let vnext = V + (k + 1) * n
            a.apply(zk, vnext)
            let applied = nrm2(vnext, n)
            // CGS2: h = Vᵀw twice, w −= V h.
            for i in 0...k { hess[k * ld + i] = 0 }
            for _ in 0..<2 {
              BLAS.gemv(.none, m: k + 1, n: n, alpha: 1, a: V, lda: n, x: vnext, beta: 0, y: hc)
              BLAS.gemv(.transpose, m: k + 1, n: n, alpha: -1, a: V, lda: n, x: hc, beta: 1, y: vnext)
              for i in 0...k { hess[k * ld + i] += hc[i] }
            }
            let hnext = nrm2(vnext, n)
            hess[k * ld + k + 1] = hnext
            // Apply previous rotations to the new column, then make a new one.
            let rho = applyPreviousRotations(hess, column: k, ld: ld, cos: c, sin: s)
            if rho <= 1e-14 * applied {
              // A M⁻¹ v_k lies (to round-off) in A M⁻¹ of the previous basis: A M⁻¹ is
              // singular on the Krylov space. Drop the column; the cycle ends here.
              happy = true
              break
            }
            completeRotation(hess, column: k, ld: ld, rho: rho, cos: c, sin: s, rhs: g)
            k += 1
            iterations += 1
            beta = abs(g[k])
            if options.history { history.append(beta / scale) }
            if beta <= tolerance { break }
            if hnext <= 1e-14 * rho {
              happy = true
              break
            }
            BLAS.scal(1 / hnext, UnsafeMutableBufferPointer(start: vnext, count: n))
          }
          // Solve the k×k upper-triangular system R y = g (y into g), update x.
          if k > 0 {
            for i in stride(from: k - 1, through: 0, by: -1) {
              var t = g[i]
              for j in (i + 1)..<k { t -= hess[j * ld + i] * g[j] }
              g[i] = t / hess[i * ld + i]
            }
            if flexible {
              // x += Z y
              BLAS.gemv(.transpose, m: k, n: n, alpha: 1, a: Z, lda: n, x: g, beta: 1, y: x)
            } else {
              // w = V y; x += M⁻¹ w
              BLAS.gemv(.transpose, m: k, n: n, alpha: 1, a: V, lda: n, x: g, beta: 0, y: w)
              if let pc = preconditioner {
                pc.apply(w, Z)
                for i in 0..<n { x[i] += Z[i] }
              } else {
                for i in 0..<n { x[i] += w[i] }
              }
            }
          }
          // True residual for the next cycle (and to confirm convergence).
          beta = trueResidualNorm(a, b, x, scratch: V)
          if beta <= tolerance {
            reason = .converged
            break outer
          }
          if happy {
            reason = .breakdown
            break outer
          }
          if k == m && beta >= cycleStart * (1 - 1e-10) {
            reason = .stagnation
            break outer
          }
        }
        let trueNorm = trueResidualNorm(a, b, x, scratch: w)
        return SolverStats(
          method: method, iterations: iterations, relativeResidual: trueNorm / scale,
          residualHistory: history, seconds: monotonicSeconds() - t0, reason: reason)
      }
    }
  }
}
