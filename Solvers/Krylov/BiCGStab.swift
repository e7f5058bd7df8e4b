// BiCGStab with right preconditioning, for nonsymmetric systems with short recurrences.
//
// van der Vorst, "Bi-CGSTAB: A fast and smoothly converging variant of Bi-CG for the solution of
// nonsymmetric linear systems", SIAM J. Sci. Stat. Comput. 13 (1992); right-preconditioned form
// as Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed., Algorithm 7.7 with M on the
// right. Each iteration costs two products with A and two with M⁻¹. The shadow residual is the
// initial residual. The monitored residual is the true residual of the iterate in exact arithmetic;
// convergence is confirmed with b − A x before it is reported.
import Foundation
import Numerics

/// A reusable BiCGStab workspace for n×n systems.
///
/// ```
/// let solver = BiCGStab(dimension: n)
/// let stats = solver.solve(a, b, &x, preconditioner: ilu0)
/// ```
///
/// Options: `rtol` (1e-8), `atol` (0), `maxIterations` (2n), `history`. Reasons: `.converged`,
/// `.maxIterations`, `.breakdown` (ρ = r̂ᵀr, r̂ᵀv or ω vanished). Storage: eight n-vectors.
public final class BiCGStab {
  /// Size n of the systems.
  public let dimension: Int
  let work: ScratchVectors

  /// Allocates the workspace.
  public init(dimension: Int) {
    self.dimension = dimension
    work = ScratchVectors(n: dimension, count: 8)
  }

  /// Solves A x = b from the guess in `x`.
  public func solve(
    _ a: some LinearOperator, _ bArray: [Double], _ xArray: inout [Double], preconditioner: Preconditioner? = nil,
    options: KrylovOptions = KrylovOptions()
  ) -> SolverStats {
    let n = dimension
    checkSizes("BiCGStab", n, a, b: bArray.count, x: xArray.count, preconditioner: preconditioner)
    let t0 = monotonicSeconds()
    let maxIterations = options.maxIterations ?? 2 * n
    let method = "bicgstab" + (preconditioner.map { "+" + $0.name } ?? "")
    var history: [Double] = []
    let (r, rhat, p, v) = (work[0], work[1], work[2], work[3])
    let (s, t, phat, shat) = (work[4], work[5], work[6], work[7])
    return bArray.withUnsafeBufferPointer { bb in
      xArray.withUnsafeMutableBufferPointer { xx in
        let (b, x) = (bb.baseAddress!, xx.baseAddress!)
        let bNorm = nrm2(b, n)
        let scale = bNorm > 0 ? bNorm : 1
        let tolerance = options.atol + options.rtol * bNorm
        var rNorm = trueResidualNorm(a, b, x, scratch: r)
        if options.history { history.append(rNorm / scale) }
        var iterations = 0
        var reason = ConvergenceReason.maxIterations
        func restart() {
          rhat.update(from: r, count: n)
          for i in 0..<n {
            p[i] = 0
            v[i] = 0
          }
        }
        restart()
        var rho = 1.0
        var alpha = 1.0
        var omega = 1.0
        while true {
          if rNorm <= tolerance {
            // Confirm with the true residual; on drift restart the recurrences.
            rNorm = trueResidualNorm(a, b, x, scratch: r)
            if rNorm <= tolerance {
              reason = .converged
              break
            }
            restart()
            (rho, alpha, omega) = (1, 1, 1)
          }
          if iterations >= maxIterations { break }
          let rhoNew = dot(rhat, r, n)
          if rhoNew == 0 || !rhoNew.isFinite {
            reason = .breakdown
            break
          }
          let beta = (rhoNew / rho) * (alpha / omega)
          for i in 0..<n { p[i] = r[i] + beta * (p[i] - omega * v[i]) }
          applyPreconditioner(preconditioner, p, phat, n)
          a.apply(phat, v)
          let rv = dot(rhat, v, n)
          if rv == 0 || !rv.isFinite {
            reason = .breakdown
            break
          }
          alpha = rhoNew / rv
          for i in 0..<n { s[i] = r[i] - alpha * v[i] }
          iterations += 1
          let sNorm = nrm2(s, n)
          if sNorm <= tolerance {
            for i in 0..<n { x[i] += alpha * phat[i] }
            r.update(from: s, count: n)
            rNorm = sNorm
            if options.history { history.append(rNorm / scale) }
            rho = rhoNew
            continue
          }
          applyPreconditioner(preconditioner, s, shat, n)
          a.apply(shat, t)
          let tt = dot(t, t, n)
          omega = tt > 0 ? dot(t, s, n) / tt : 0
          if omega == 0 || !omega.isFinite {
            reason = .breakdown
            break
          }
          for i in 0..<n {
            x[i] += alpha * phat[i] + omega * shat[i]
            r[i] = s[i] - omega * t[i]
          }
          rNorm = nrm2(r, n)
          if options.history { history.append(rNorm / scale) }
          rho = rhoNew
        }
        let trueNorm = trueResidualNorm(a, b, x, scratch: t)
        return SolverStats(
          method: method, iterations: iterations, relativeResidual: trueNorm / scale,
          residualHistory: history, seconds: monotonicSeconds() - t0, reason: reason)
      }
    }
  }
}
