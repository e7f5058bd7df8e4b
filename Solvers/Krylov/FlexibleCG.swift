// Flexible conjugate gradients, truncated: CG for SPD A with a preconditioner that may change from
// one iteration to the next or be nonlinear (an inner solve, a neural network). Each new search
// direction is the preconditioned residual A-orthogonalized against the last `truncation`
// directions, which keeps the A-norm error decreasing even when the preconditioner is not a fixed
// SPD matrix.
//
// Y. Notay, "Flexible conjugate gradients", SIAM J. Sci. Comput. 22 (2000), 1444–1460
// (Algorithm 2.1, FCG(m_max)); the truncated A-orthogonalization against the last directions is
// also what the deep conjugate direction method uses (Kaneda et al., "A Deep Conjugate Direction
// Method for Iteratively Solving Linear Systems", ICML 2023). With a fixed SPD preconditioner and
// truncation ≥ 1 it produces PCG's iterates in exact arithmetic.
//
// Safeguard: a direction p reduces the squared A-norm error by (pᵀr)²/(pᵀAp). When the primary
// preconditioner's direction reduces it by (almost) nothing — |pᵀr| ≤ θ‖p‖‖r‖, i.e. p is nearly
// orthogonal to the residual — or pᵀAp ≤ 0, or its output is not finite, the step is redone with
// the fallback preconditioner (e.g. IC(0) or AMG) and counted in `fallbackSteps`. With
// `compareWithFallback`, every step builds both directions and keeps the one with the larger
// reduction (pᵀr)²/(pᵀAp): twice the work per step, and each step reduces the error at least as
// much as the fallback's direction would (the run as a whole can still take a few more steps than
// PCG with the fallback alone, since mixing directions loses CG's global optimality).
//
// What it checks: pᵀAp < 0 with no fallback left (`.indefiniteOperator`), a zero or non-finite
// direction (`.breakdown`). It does not check that
// A is symmetric. Convergence is confirmed on the true residual, as in `ConjugateGradient`.
import Foundation
import Numerics

/// A reusable FCG(m) workspace for n×n SPD systems.
///
/// ```
/// let fcg = FlexibleCG(dimension: n, truncation: 5)
/// var x = [Double](repeating: 0, count: n)
/// let stats = fcg.solve(a, b, &x, preconditioner: learned, fallback: ic0, options: KrylovOptions(rtol: 1e-8))
/// ```
///
/// Inputs: SPD `A`, `b`, initial guess `x` (overwritten), a primary preconditioner (may be
/// nonlinear or vary), an optional SPD fallback. Options as `ConjugateGradient` (`rtol` 1e-8,
/// `atol` 0, `maxIterations` 2n, `history`). Storage: 2(m + 1) + 5 n-vectors; a solve allocates
/// nothing beyond the history array.
public final class FlexibleCG {
  /// Size n of the systems.
  public let dimension: Int
  /// Number m of previous directions each new one is A-orthogonalized against.
  public let truncation: Int
  /// A step is redone with the fallback when |pᵀr| ≤ θ‖p‖‖r‖ (default θ = 1e-3).
  public var fallbackThreshold: Double
  /// Build both directions every step and keep the better one (see the file header).
  public var compareWithFallback: Bool
  /// Steps of the last solve that used the fallback preconditioner.
  public private(set) var fallbackSteps = 0
  let work: ScratchVectors
  var pAp: [Double]

  /// Allocates the workspace for n×n systems, keeping `truncation` ≥ 1 previous directions.
  public init(
    dimension: Int, truncation: Int = 5, fallbackThreshold: Double = 1e-3, compareWithFallback: Bool = false
  ) {
    precondition(truncation >= 1, "FCG needs a truncation of at least 1 direction")
    self.dimension = dimension
    self.truncation = truncation
    self.fallbackThreshold = fallbackThreshold
    self.compareWithFallback = compareWithFallback
    // r, z, x-temp, a saved candidate (p, Ap), then (p_i, Ap_i) for the ring of truncation + 1 directions.
    work = ScratchVectors(n: dimension, count: 5 + 2 * (truncation + 1))
    pAp = [Double](repeating: 0, count: truncation + 1)
  }

  /// Solves A x = b starting from the guess in `x`; see the type's documentation.
  public func solve(
    _ a: some LinearOperator, _ b: [Double], _ x: inout [Double], preconditioner: Preconditioner?,
    fallback: Preconditioner? = nil, options: KrylovOptions = KrylovOptions()
  ) -> SolverStats {
    checkSizes("FCG", dimension, a, b: b.count, x: x.count, preconditioner: preconditioner)
    precondition(fallback.map { $0.dimension == dimension } ?? true, "fallback size differs from the system")
    let n = dimension
    let t0 = monotonicSeconds()
    let maxIterations = options.maxIterations ?? 2 * n
    let method = "fcg(\(truncation))" + (preconditioner.map { "+" + $0.name } ?? "")
    var history: [Double] = []
    if options.history { history.reserveCapacity(min(maxIterations + 1, 10_000)) }
    fallbackSteps = 0
    let slots = truncation + 1
    let (r, z, scratch, savedP, savedAP) = (work[0], work[1], work[2], work[3], work[4])
    func p(_ k: Int) -> UnsafeMutablePointer<Double> { work[5 + 2 * (k % slots)] }
    func ap(_ k: Int) -> UnsafeMutablePointer<Double> { work[6 + 2 * (k % slots)] }
    return b.withUnsafeBufferPointer { bb in
      x.withUnsafeMutableBufferPointer { xx in
        pAp.withUnsafeMutableBufferPointer { d in
          let (b, x) = (bb.baseAddress!, xx.baseAddress!)
          let bNorm = nrm2(b, n)
          let scale = bNorm > 0 ? bNorm : 1
          let tolerance = options.atol + options.rtol * bNorm
          var rNorm = trueResidualNorm(a, b, x, scratch: r)
          if options.history { history.append(rNorm / scale) }
          var iterations = 0
          var reason = ConvergenceReason.maxIterations
          var k = 0  // directions made since the last (re)start

          func finish() -> SolverStats {
            let trueNorm = trueResidualNorm(a, b, x, scratch: scratch)
            return SolverStats(
              method: method, iterations: iterations, relativeResidual: trueNorm / scale, residualHistory: history,
              seconds: monotonicSeconds() - t0, reason: reason)
          }

          /// Builds direction k from M⁻¹r: A-orthogonalize against the kept ones; returns pᵀr.
          func direction(_ m: Preconditioner?) -> (pr: Double, pAp: Double)? {
            applyPreconditioner(m, r, z, n)
            let pk = p(k)
            pk.update(from: z, count: n)
            for j in max(0, k - truncation)..<k where d[j % slots] > 0 {
              let beta = dot(z, ap(j), n) / d[j % slots]
              let pj = p(j)
              for i in 0..<n { pk[i] -= beta * pj[i] }
            }
            let apk = ap(k)
            a.apply(pk, apk)
            let pAp = dot(pk, apk, n)
            let pr = dot(pk, r, n)
            guard pAp.isFinite, pr.isFinite else { return nil }
            return (pr, pAp)
          }

          while rNorm > tolerance {
            guard iterations < maxIterations else { return finish() }
            var step = direction(preconditioner)
            let weak =
              step.map { s in
                s.pAp <= 0 || abs(s.pr) <= fallbackThreshold * nrm2(p(k), n) * rNorm
              } ?? true
            if weak, let fallback {
              fallbackSteps += 1
              step = direction(fallback)
            } else if compareWithFallback, let fallback, let primary = step {
              savedP.update(from: p(k), count: n)
              savedAP.update(from: ap(k), count: n)
              if let other = direction(fallback), other.pAp > 0,
                other.pr * other.pr / other.pAp > primary.pr * primary.pr / primary.pAp
              {
                fallbackSteps += 1
                step = other
              } else {
                p(k).update(from: savedP, count: n)
                ap(k).update(from: savedAP, count: n)
              }
            }
            guard let s = step, s.pAp > 0 else {
              // A zero (or non-finite) direction is a breakdown of the preconditioner; pᵀAp < 0 means A is not SPD.
              reason = (step?.pAp ?? 0) < 0 ? .indefiniteOperator : .breakdown
              return finish()
            }
            d[k % slots] = s.pAp
            let alpha = s.pr / s.pAp
            let (pk, apk) = (p(k), ap(k))
            for i in 0..<n {
              x[i] += alpha * pk[i]
              r[i] -= alpha * apk[i]
            }
            iterations += 1
            k += 1
            rNorm = nrm2(r, n)
            if options.history { history.append(rNorm / scale) }
            if rNorm <= tolerance {
              // Confirm with the true residual; on drift, restart the directions from it.
              rNorm = trueResidualNorm(a, b, x, scratch: r)
              k = 0
            }
          }
          reason = .converged
          return finish()
        }
      }
    }
  }
}
