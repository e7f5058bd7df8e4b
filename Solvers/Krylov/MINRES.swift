// MINRES for symmetric (possibly indefinite) A with a symmetric positive definite preconditioner.
//
// Paige & Saunders, "Solution of sparse indefinite systems of linear equations", SIAM J. Numer.
// Anal. 12 (1975); the preconditioned Lanczos recurrences follow the presentation in Choi, Paige &
// Saunders, "MINRES-QLP", SIAM J. Sci. Comput. 33 (2011), Table 2.x (the "MINRES" column).
//
// The residual estimate φ̄ is ‖r‖ in the M⁻¹-norm; when it meets the tolerance (converted from
// ‖b‖ by the initial ratio ‖r₀‖₂/‖r₀‖_{M⁻¹}) the true 2-norm residual is computed and convergence
// reported only if it meets atol + rtol·‖b‖ (otherwise iteration continues). It checks that M is
// positive definite (`.indefinitePreconditioner`); it does not check that A is symmetric.
import Foundation
import Numerics

/// A reusable MINRES workspace for n×n symmetric systems.
///
/// ```
/// let minres = MINRES(dimension: n)
/// let stats = minres.solve(a, b, &x, preconditioner: jacobi)
/// ```
///
/// Options: `rtol` (1e-8), `atol` (0), `maxIterations` (2n), `history` (the estimate φ̄/‖b‖ scaled
/// to the 2-norm). Reasons: `.converged`, `.maxIterations`, `.indefinitePreconditioner`,
/// `.breakdown` (the Lanczos process found an invariant subspace without reaching the tolerance,
/// e.g. a singular A with b outside its range). Storage: six n-vectors.
public final class MINRES {
  /// Size n of the systems.
  public let dimension: Int
  let work: ScratchVectors

  /// Allocates the workspace.
  public init(dimension: Int) {
    self.dimension = dimension
    work = ScratchVectors(n: dimension, count: 6)
  }

  /// Solves A x = b from the guess in `x`.
  public func solve(
    _ a: some LinearOperator, _ bArray: [Double], _ xArray: inout [Double], preconditioner: Preconditioner? = nil,
    options: KrylovOptions = KrylovOptions()
  ) -> SolverStats {
    let n = dimension
    checkSizes("MINRES", n, a, b: bArray.count, x: xArray.count, preconditioner: preconditioner)
    let t0 = monotonicSeconds()
    let maxIterations = options.maxIterations ?? 2 * n
    let method = "minres" + (preconditioner.map { "+" + $0.name } ?? "")
    var history: [Double] = []
    let (r1, r2, y, v, w, w2) = (work[0], work[1], work[2], work[3], work[4], work[5])
    return bArray.withUnsafeBufferPointer { bb in
      xArray.withUnsafeMutableBufferPointer { xx in
        let (b, x) = (bb.baseAddress!, xx.baseAddress!)
        let bNorm = nrm2(b, n)
        let scale = bNorm > 0 ? bNorm : 1
        let tolerance = options.atol + options.rtol * bNorm
        var iterations = 0
        var reason = ConvergenceReason.maxIterations
        var rNorm2 = 0.0

        func finish() -> SolverStats {
          let trueNorm = trueResidualNorm(a, b, x, scratch: y)
          return SolverStats(
            method: method, iterations: iterations, relativeResidual: trueNorm / scale,
            residualHistory: history, seconds: monotonicSeconds() - t0, reason: reason)
        }

        restart: while true {
          rNorm2 = trueResidualNorm(a, b, x, scratch: r1)
          if options.history && history.isEmpty { history.append(rNorm2 / scale) }
          if rNorm2 <= tolerance {
            reason = .converged
            return finish()
          }
          if iterations >= maxIterations { return finish() }
          applyPreconditioner(preconditioner, r1, y, n)
          var beta1 = dot(r1, y, n)
          guard beta1 > 0 else {
            reason = .indefinitePreconditioner
            return finish()
          }
          beta1 = beta1.squareRoot()
          // Convert the 2-norm tolerance to the M⁻¹-norm that φ̄ measures.
          let ratio = rNorm2 / beta1
          r2.update(from: r1, count: n)
          for i in 0..<n {
            w[i] = 0
            w2[i] = 0
          }
          var oldb = 0.0
          var beta = beta1
          var dbar = 0.0
          var epsln = 0.0
          var phibar = beta1
          var cs = -1.0
          var sn = 0.0
          while iterations < maxIterations {
            let sInv = 1 / beta
            for i in 0..<n { v[i] = sInv * y[i] }
            a.apply(v, y)
            if oldb != 0 {  // not the first Lanczos step
              let f = beta / oldb
              for i in 0..<n { y[i] -= f * r1[i] }
            }
            let alfa = dot(v, y, n)
            let f2 = alfa / beta
            for i in 0..<n { y[i] -= f2 * r2[i] }
            // r1 ← r2, r2 ← y (swap contents).
            r1.update(from: r2, count: n)
            r2.update(from: y, count: n)
            applyPreconditioner(preconditioner, r2, y, n)
            oldb = beta
            let betaSq = dot(r2, y, n)
            if betaSq < 0 {
              reason = .indefinitePreconditioner
              return finish()
            }
            beta = betaSq.squareRoot()
            let oldeps = epsln
            let delta = cs * dbar + sn * alfa
            let gbar = sn * dbar - cs * alfa
            epsln = sn * beta
            dbar = -cs * beta
            var gamma = (gbar * gbar + beta * beta).squareRoot()
            gamma = max(gamma, Double.ulpOfOne)
            cs = gbar / gamma
            sn = beta / gamma
            let phi = cs * phibar
            phibar = sn * phibar
            let denom = 1 / gamma
            for i in 0..<n {
              // w_k = (v_k − ε w_{k−2} − δ w_{k−1}) / γ, with w2, w = w_{k−2}, w_{k−1}.
              let wNew = (v[i] - oldeps * w2[i] - delta * w[i]) * denom
              w2[i] = w[i]
              w[i] = wNew
              x[i] += phi * wNew
            }
            iterations += 1
            let estimate = phibar * ratio
            if options.history { history.append(estimate / scale) }
            if estimate <= tolerance || beta == 0 {
              let trueNorm = trueResidualNorm(a, b, x, scratch: y)
              if trueNorm <= tolerance {
                reason = .converged
                return finish()
              }
              if beta == 0 {
                reason = .breakdown
                return finish()
              }
              continue restart
            }
          }
          return finish()
        }
      }
    }
  }
}
