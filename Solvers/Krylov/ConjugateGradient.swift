// Preconditioned conjugate gradients for symmetric positive definite A and M.
//
// Hestenes & Stiefel, "Methods of conjugate gradients for solving linear systems", J. Res. Nat.
// Bur. Standards 49 (1952); preconditioned form as Saad, "Iterative Methods for Sparse Linear
// Systems", 2nd ed., SIAM 2003, Algorithm 9.1. Code organisation after Krylov.jl's `cg.jl`.
//
// What it checks: pᵀAp ≤ 0 (A not SPD, reason `.indefiniteOperator`) and rᵀM⁻¹r ≤ 0 (M not SPD,
// `.indefinitePreconditioner`). It does not check that A is symmetric: a nonsymmetric A gives
// wrong iterates without warning, so callers that hold a matrix (LinearSolver) check symmetry.
// When the recursively updated residual meets the tolerance, the true residual b − A x is
// computed; if it does not meet the tolerance (round-off drift), CG restarts from the true
// residual ("residual replacement"), so `.converged` always describes the returned x.
import Foundation
import Numerics

/// A reusable conjugate-gradient workspace for systems of one size.
///
/// ```
/// let cg = ConjugateGradient(dimension: a.rows)
/// var x = [Double](repeating: 0, count: a.rows)      // initial guess in, solution out
/// let stats = cg.solve(a, b, &x, preconditioner: ic0, options: KrylovOptions(rtol: 1e-8))
/// ```
///
/// Inputs: an SPD operator `A` (n×n), right-hand side `b`, initial guess `x` (overwritten with
/// the solution), an optional SPD preconditioner M ≈ A. Options: `rtol` (1e-8), `atol` (0),
/// `maxIterations` (2n), `history` (off). Output: `SolverStats` with iterations, the true final
/// relative residual ‖b − A x‖/‖b‖, the residual history (‖r_k‖/‖b‖ of the recursive residual)
/// when requested, and the reason. The workspace holds four n-vectors; a solve allocates nothing
/// beyond the history array.
public final class ConjugateGradient {
  /// Size n of the systems this workspace solves.
  public let dimension: Int
  let work: ScratchVectors

  /// Allocates the workspace for n×n systems.
  public init(dimension: Int) {
    self.dimension = dimension
    work = ScratchVectors(n: dimension, count: 4)
  }

  /// Solves A x = b starting from the guess in `x`; see the type's documentation.
  public func solve(
    _ a: some LinearOperator, _ b: [Double], _ x: inout [Double], preconditioner: Preconditioner? = nil,
    options: KrylovOptions = KrylovOptions()
  ) -> SolverStats {
    checkSizes("CG", dimension, a, b: b.count, x: x.count, preconditioner: preconditioner)
    precondition(
      preconditioner.map { $0.dimension == dimension } ?? true, "preconditioner size differs from the system")
    let n = dimension
    let t0 = monotonicSeconds()
    let maxIterations = options.maxIterations ?? 2 * n
    let method = "cg" + (preconditioner.map { "+" + $0.name } ?? "")
    var history: [Double] = []
    if options.history { history.reserveCapacity(min(maxIterations + 1, 10_000)) }
    let (r, z, p, q) = (work[0], work[1], work[2], work[3])
    return b.withUnsafeBufferPointer { bb in
      x.withUnsafeMutableBufferPointer { xx in
        let (b, x) = (bb.baseAddress!, xx.baseAddress!)
        let bNorm = nrm2(b, n)
        let scale = bNorm > 0 ? bNorm : 1
        let tolerance = options.atol + options.rtol * bNorm
        var rNorm = trueResidualNorm(a, b, x, scratch: r)
        if options.history { history.append(rNorm / scale) }
        var iterations = 0
        var reason = ConvergenceReason.maxIterations

        func finish() -> SolverStats {
          let trueNorm = trueResidualNorm(a, b, x, scratch: q)
          return SolverStats(
            method: method, iterations: iterations, relativeResidual: trueNorm / scale,
            residualHistory: history,
            seconds: monotonicSeconds() - t0, reason: reason)
        }

        // Start (or restart) the recurrences from the residual currently in r.
        func start() -> Double? {
          applyPreconditioner(preconditioner, r, z, n)
          p.update(from: z, count: n)
          let gamma = dot(r, z, n)
          return gamma > 0 ? gamma : nil
        }

        if rNorm <= tolerance {
          reason = .converged
          return finish()
        }
        guard var gamma = start() else {
          reason = .indefinitePreconditioner
          return finish()
        }
        while iterations < maxIterations {
          a.apply(p, q)
          let pq = dot(p, q, n)
          guard pq > 0 else {
            reason = .indefiniteOperator
            return finish()
          }
          let alpha = gamma / pq
          for i in 0..<n {
            x[i] += alpha * p[i]
            r[i] -= alpha * q[i]
          }
          iterations += 1
          rNorm = nrm2(r, n)
          if options.history { history.append(rNorm / scale) }
          if rNorm <= tolerance {
            // Confirm with the true residual; on drift, restart from it.
            let trueNorm = trueResidualNorm(a, b, x, scratch: r)
            if trueNorm <= tolerance {
              reason = .converged
              return finish()
            }
            guard let g = start() else {
              reason = .indefinitePreconditioner
              return finish()
            }
            gamma = g
            continue
          }
          applyPreconditioner(preconditioner, r, z, n)
          let gammaNew = dot(r, z, n)
          guard gammaNew > 0 else {
            reason = .indefinitePreconditioner
            return finish()
          }
          let beta = gammaNew / gamma
          gamma = gammaNew
          for i in 0..<n { p[i] = z[i] + beta * p[i] }
        }
        return finish()
      }
    }
  }
}
