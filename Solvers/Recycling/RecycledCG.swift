// Recycled (deflated) preconditioned conjugate gradients for sequences of SPD systems.
//
// Deflation: Saad, Yeung, Erhel & Guyomarc'h, "A deflated version of the conjugate gradient
// algorithm", SIAM J. Sci. Comput. 21 (2000), 1909–1926 (def-CG). Harvesting of the deflation
// space from the search directions of each solve: the recycling CG (RCG) of Wang, de Sturler &
// Paulino, "Large-scale topology optimization using preconditioned Krylov subspace methods with
// recycling", Int. J. Numer. Meth. Eng. 69 (2007), 2441–2468, which extracts Ritz vectors from
// span{W, P} with P the search directions of a cycle. (eigCG, Stathopoulos & Orginos, SIAM J. Sci.
// Comput. 32 (2010), is the alternative that refines eigenvectors from a Lanczos window during CG;
// it is not what this file implements.) Organisation after Krylov.jl's `cg.jl`; compared with
// Trilinos Belos `BelosRCGSolMgr.hpp` and KryPy's `krypy.recycling` / `krypy.deflation`.
//
// The exact variant. W (n×k) is kept A-orthonormal (WᵀAW = I) together with AW and M⁻¹AW. A solve
//   x₀ = x₋₁ + W Wᵀ r₋₁,  r₀ = b − A x₀ = r₋₁ − AW Wᵀ r₋₁          (so Wᵀ r₀ = 0),
//   z₀ = M⁻¹ r₀,  p₀ = z₀ − W (AW)ᵀ z₀,
//   loop: α = rᵀz / pᵀAp, x += αp, r −= αAp, z = M⁻¹ r, β = r₊ᵀz₊ / rᵀz,
//         p = z + βp − W (AW)ᵀ z,
// so every search direction is A-orthogonal to W (WᵀAp = 0). For M = LLᵀ this is exactly
// def-CG (Saad et al., Algorithm 3.1 with their initial guess) applied to the split-preconditioned
// system L⁻¹AL⁻ᵀ y = L⁻¹b with deflation space LᵀW: the "M⁻¹-deflation" works with the
// preconditioned operator consistently and needs only M⁻¹. The space to deflate is therefore an
// approximate invariant subspace of M⁻¹A (smallest eigenvalues of the pencil (A, M)).
//   Harvest (RCG with one cycle per solve): the first s search directions p_j and A p_j of each
// solve are stored (s = max(4k, 40) by default: Ritz vectors for the smallest eigenvalues need a
// Krylov space several times k). At the end of the solve M⁻¹A, which is self-adjoint in the
// A-inner product, is Rayleigh–Ritz-projected onto S = [W, P] in that inner product,
//   (AS)ᵀ(M⁻¹AS) c = θ SᵀAS c,
// and the k smallest θ give the new W = S c and AW = (AS) c. The projected matrices cost nothing
// but E = (AW)ᵀM⁻¹(AW): by the CG relations A p_j = (r_j − r_{j+1})/α_j,
// M⁻¹A p_j = (z_j − z_{j+1})/α_j, r_iᵀz_j = γ_j δ_ij, WᵀAP = 0 and PᵀAP = diag(pᵀAp),
//   SᵀAS = diag(I, p_jᵀAp_j),   (Ap_i)ᵀM⁻¹(Ap_j) tridiagonal in γ_j and α_j,
//   (AW)ᵀM⁻¹(Ap_j) = (μ_j − μ_{j+1})/α_j   with μ_j = (AW)ᵀz_j (computed for the deflation anyway),
// so only S c and (AS) c touch n-vectors. Since CG loses conjugacy over long windows, the new W is
// then A-orthonormalized explicitly through the eigen-decomposition of WᵀAW (from the stored AW;
// near-dependent directions are dropped) and E is formed from the vectors (k preconditioner
// applications). For a changed matrix (or preconditioner) AW is recomputed (k operator
// applications) and the same normalization follows. Convergence: ‖r‖ ≤ atol + rtol·‖b‖ on the
// recursive residual, confirmed on the true residual with residual replacement (and re-deflation),
// as ConjugateGradient.swift.
import Foundation
import Numerics

/// A reusable deflated-CG workspace that harvests and keeps a deflation space between solves.
///
/// ```
/// let solver = RecycledCG(dimension: n, recycle: 10)
/// for (a, b) in systems {                       // SPD systems, e.g. Darcy with varying coefficient
///   var x = [Double](repeating: 0, count: n)
///   let stats = solver.solve(a, b, &x, preconditioner: jacobi, options: KrylovOptions(rtol: 1e-8))
/// }
/// ```
///
/// Inputs: an SPD operator `A`, right-hand side `b`, initial guess `x` (overwritten), an optional SPD
/// preconditioner, and `operatorChanged` (default true: A or M differs from the previous solve, so
/// AW is recomputed, k operator and k preconditioner applications not counted as iterations).
/// Options: `rtol` (1e-8), `atol` (0), `maxIterations` (2n), `history` (‖r_k‖/‖b‖ of the recursive
/// residual). Output: `SolverStats` with CG's reasons (`.indefiniteOperator` for pᵀAp ≤ 0,
/// `.indefinitePreconditioner` for rᵀM⁻¹r ≤ 0); `lastDiagnostics` reports the projection ratio, the
/// Ritz values of M⁻¹A kept and the stale-guard events. Storage: 2(k + s) + 2k + 4 n-vectors.
/// References: Saad, Yeung, Erhel & Guyomarc'h (2000); Wang, de Sturler & Paulino (2007).
public final class RecycledCG {
  /// Size n of the systems.
  public let dimension: Int
  /// Target dimension k of the deflation space.
  public let recycle: Int
  /// Number s of search directions harvested per solve (the first s iterations).
  public let harvest: Int
  /// The stale-subspace guard (default: enabled, see `StaleGuard`).
  public var staleGuard: StaleGuard
  /// Dimension of the deflation space currently held.
  public private(set) var recycleDimension = 0
  /// Whether the guard dropped the space for good (`StaleGuard.Action.drop`).
  public private(set) var isRecyclingDisabled = false
  /// What the recycling did in the last solve.
  public private(set) var lastDiagnostics = RecyclingDiagnostics()

  let n: Int
  /// S = [W; P] and AS = [AW; AP] rows (k + s each), and spares (k rows).
  var sRows: ScratchVectors
  var aRows: ScratchVectors
  var sSpare: ScratchVectors
  var aSpare: ScratchVectors
  /// CG vectors r, z, p, q.
  let work: ScratchVectors
  /// μ buffer (k).
  let mu: UnsafeMutablePointer<Double>
  /// E = (AW)ᵀM⁻¹(AW), k×k row-major.
  var eMatrix = SmallMatrix(rows: 0, columns: 0)
  var guardState = StaleGuardState()

  /// Allocates the workspace for n×n SPD systems, deflation target k ≥ 0 and harvest window s ≥ 1
  /// (default max(4k, 40)).
  public init(dimension: Int, recycle: Int = 10, harvest: Int? = nil, staleGuard: StaleGuard = StaleGuard()) {
    precondition(recycle >= 0, "recycled CG needs k ≥ 0")
    let s = harvest ?? max(4 * recycle, 40)
    precondition(s >= 1, "recycled CG needs a harvest window s ≥ 1")
    self.dimension = dimension
    self.recycle = recycle
    self.harvest = recycle > 0 ? s : 0
    self.staleGuard = staleGuard
    n = dimension
    let width = recycle > 0 ? recycle + s : 0
    sRows = ScratchVectors(n: dimension, count: width)
    aRows = ScratchVectors(n: dimension, count: width)
    sSpare = ScratchVectors(n: dimension, count: recycle)
    aSpare = ScratchVectors(n: dimension, count: recycle)
    work = ScratchVectors(n: dimension, count: 4)
    mu = .allocate(capacity: max(1, recycle))
    mu.initialize(repeating: 0, count: max(1, recycle))
  }

  deinit { mu.deallocate() }

  /// Forgets the deflation space (and re-enables recycling after a `.drop`).
  public func resetRecycleSpace() {
    recycleDimension = 0
    isRecyclingDisabled = false
    guardState.reset()
  }

  /// The deflation basis W (A-orthonormal for the operator of the last solve).
  public var recycleSpace: [[Double]] {
    (0..<recycleDimension).map { Array(UnsafeBufferPointer(start: sRows[$0], count: n)) }
  }

  /// Sets the deflation space to span(`vectors`) (x-space, at most k vectors; dependent ones are
  /// dropped) and computes AW and (AW)ᵀM⁻¹(AW) for `a` and `preconditioner`.
  public func setRecycleSpace(
    _ vectors: [[Double]], operator a: some LinearOperator, preconditioner: Preconditioner? = nil
  ) {
    precondition(vectors.count <= recycle, "at most \(recycle) deflation vectors fit this recycled CG")
    precondition(vectors.allSatisfy { $0.count == n }, "deflation vectors must have \(n) entries")
    for (i, v) in vectors.enumerated() {
      v.withUnsafeBufferPointer { sRows[i].update(from: $0.baseAddress!, count: n) }
    }
    recycleDimension = vectors.count
    isRecyclingDisabled = false
    guardState.reset()
    recompute(a, preconditioner)
  }

  /// Solves A x = b from the guess in `x`, deflating with the space kept from previous solves and
  /// harvesting a new one; see the type's documentation.
  public func solve(
    _ a: some LinearOperator, _ bArray: [Double], _ xArray: inout [Double], preconditioner: Preconditioner? = nil,
    options: KrylovOptions = KrylovOptions(), operatorChanged: Bool = true
  ) -> SolverStats {
    checkSizes("recycled CG", n, a, b: bArray.count, x: xArray.count, preconditioner: preconditioner)
    let t0 = monotonicSeconds()
    let maxIterations = options.maxIterations ?? 2 * n
    let method = "recycled-cg(\(recycle))" + (preconditioner.map { "+" + $0.name } ?? "")
    var history: [Double] = []
    var diagnostics = RecyclingDiagnostics()
    if isRecyclingDisabled { recycleDimension = 0 }
    if recycleDimension > 0 && operatorChanged {
      let tr = monotonicSeconds()
      diagnostics.extraOperatorApplications += recycleDimension
      recompute(a, preconditioner)
      diagnostics.recycleSeconds += monotonicSeconds() - tr
    }
    diagnostics.recycleDimension = recycleDimension
    let (r, z, p, q) = (work[0], work[1], work[2], work[3])
    var kc = recycleDimension
    // Harvest window: rows kc..<kc+s of S and AS, with the CG scalars of those iterations.
    let windowLimit = recycle > 0 && !isRecyclingDisabled ? harvest : 0
    var harvested = 0  // complete rows (their successor's γ and μ are known)
    var pending = false  // row `kc + harvested` stored, waiting for γ_{j+1}, μ_{j+1}
    var alphas: [Double] = []
    var deltas: [Double] = []
    var gammas: [Double] = []  // γ_0 ... γ_h
    var mus: [[Double]] = []  // μ_0 ... μ_h (kc entries each)
    if windowLimit > 0 {
      alphas.reserveCapacity(windowLimit)
      deltas.reserveCapacity(windowLimit)
      gammas.reserveCapacity(windowLimit + 1)
    }

    let stats: SolverStats = bArray.withUnsafeBufferPointer { bb in
      xArray.withUnsafeMutableBufferPointer { xx in
        let (b, x) = (bb.baseAddress!, xx.baseAddress!)
        let bNorm = nrm2(b, n)
        let scale = bNorm > 0 ? bNorm : 1
        let tolerance = options.atol + options.rtol * bNorm
        var rNorm = trueResidualNorm(a, b, x, scratch: r)
        var iterations = 0
        var reason = ConvergenceReason.maxIterations

        /// x += W Wᵀ r, r −= AW Wᵀ r (the def-CG initial correction).
        func deflateResidual() {
          guard kc > 0 else { return }
          BLAS.gemv(.none, m: kc, n: n, alpha: 1, a: sRows[0], lda: n, x: r, beta: 0, y: mu)
          BLAS.gemv(.transpose, m: kc, n: n, alpha: 1, a: sRows[0], lda: n, x: mu, beta: 1, y: x)
          BLAS.gemv(.transpose, m: kc, n: n, alpha: -1, a: aRows[0], lda: n, x: mu, beta: 1, y: r)
        }
        /// μ = (AW)ᵀ z, p ← p − W μ.
        func deflateDirection() {
          guard kc > 0 else { return }
          BLAS.gemv(.none, m: kc, n: n, alpha: 1, a: aRows[0], lda: n, x: z, beta: 0, y: mu)
          BLAS.gemv(.transpose, m: kc, n: n, alpha: -1, a: sRows[0], lda: n, x: mu, beta: 1, y: p)
        }
        /// z = M⁻¹ r, p = z − W(AW)ᵀz; returns rᵀz or nil when ≤ 0.
        func start() -> Double? {
          applyPreconditioner(preconditioner, r, z, n)
          p.update(from: z, count: n)
          deflateDirection()
          let gamma = dot(r, z, n)
          return gamma > 0 ? gamma : nil
        }
        /// Records γ and μ of the current z (the start of the window or a pending row's successor).
        func recordScalars(_ gamma: Double) {
          gammas.append(gamma)
          mus.append(Array(UnsafeBufferPointer(start: mu, count: kc)))
        }
        func finish() -> SolverStats {
          let trueNorm = trueResidualNorm(a, b, x, scratch: q)
          return SolverStats(
            method: method, iterations: iterations, relativeResidual: trueNorm / scale, residualHistory: history,
            seconds: monotonicSeconds() - t0, reason: reason)
        }

        if kc > 0 && rNorm > 0 {
          let before = rNorm
          deflateResidual()
          rNorm = nrm2(r, n)
          let rho = rNorm / before
          diagnostics.projectionRatio = rho
          if guardState.record(rho, staleGuard) {
            diagnostics.guardFired = true
            diagnostics.guardAction = staleGuard.action
            if staleGuard.action == .drop { isRecyclingDisabled = true }
            kc = 0
            recycleDimension = 0
          }
        }
        if options.history { history.append(rNorm / scale) }
        if rNorm <= tolerance {
          let trueNorm = trueResidualNorm(a, b, x, scratch: r)
          if trueNorm <= tolerance {
            reason = .converged
            return finish()
          }
          deflateResidual()
          rNorm = nrm2(r, n)
        }
        guard var gamma = start() else {
          reason = .indefinitePreconditioner
          return finish()
        }
        var harvesting = windowLimit > 0 && !isRecyclingDisabled
        if harvesting { recordScalars(gamma) }
        while iterations < maxIterations {
          a.apply(p, q)
          let pq = dot(p, q, n)
          guard pq > 0 else {
            reason = .indefiniteOperator
            return finish()
          }
          let alpha = gamma / pq
          if harvesting {
            let row = kc + harvested
            sRows[row].update(from: p, count: n)
            aRows[row].update(from: q, count: n)
            alphas.append(alpha)
            deltas.append(pq)
            pending = true
          }
          for i in 0..<n {
            x[i] += alpha * p[i]
            r[i] -= alpha * q[i]
          }
          iterations += 1
          rNorm = nrm2(r, n)
          if options.history { history.append(rNorm / scale) }
          if rNorm <= tolerance {
            let trueNorm = trueResidualNorm(a, b, x, scratch: r)
            if trueNorm <= tolerance {
              reason = .converged
              return finish()
            }
            // Residual replacement: restart from the true residual, deflated again. The CG
            // relations the harvest relies on end here.
            harvesting = false
            deflateResidual()
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
          deflateDirection()
          if harvesting && pending {
            recordScalars(gammaNew)
            harvested += 1
            pending = false
            if harvested == windowLimit { harvesting = false }
          }
        }
        return finish()
      }
    }
    if harvested > 0 && recycle > 0 && !isRecyclingDisabled {
      let tr = monotonicSeconds()
      diagnostics.ritzValues = rayleighRitz(
        kc: kc, alphas: Array(alphas.prefix(harvested)), deltas: Array(deltas.prefix(harvested)), gammas: gammas,
        mus: mus, preconditioner: preconditioner)
      diagnostics.recycleSeconds += monotonicSeconds() - tr
    }
    diagnostics.recycleDimensionAfter = recycleDimension
    lastDiagnostics = diagnostics
    return stats
  }

  /// AW for the current operator, then `orthonormalize`.
  func recompute(_ a: some LinearOperator, _ preconditioner: Preconditioner?) {
    for i in 0..<recycleDimension { a.apply(sRows[i], aRows[i]) }
    orthonormalize(preconditioner)
  }

  /// W A-orthonormalized through WᵀAW = QΛQᵀ (directions with λ ≤ 1e-12 λ_max dropped), then
  /// E = (AW)ᵀM⁻¹(AW) formed explicitly (k preconditioner applications).
  func orthonormalize(_ preconditioner: Preconditioner?) {
    let kc = recycleDimension
    guard kc > 0 else { return }
    let gram = recyclingGram(sRows[0], rows: kc, aRows[0], rows: kc, n: n).symmetrized
    guard let (values, vectors) = try? gram.array.symmetricEigen() else {
      recycleDimension = 0
      return
    }
    let lambda = values.scalars
    let vm = SmallMatrix(vectors)
    let largest = lambda.last ?? 0
    guard largest > 0 else {
      recycleDimension = 0
      return
    }
    let kept = lambda.indices.filter { lambda[$0] > 1e-12 * largest }
    var t = SmallMatrix(rows: kc, columns: kept.count)
    for (j, col) in kept.enumerated() {
      for i in 0..<kc { t[i, j] = vm[i, col] / lambda[col].squareRoot() }
    }
    combine(t, count: kc)
    // E = (AW)ᵀ M⁻¹ (AW), with M⁻¹AW in the spare rows.
    let k = recycleDimension
    if let pc = preconditioner {
      for i in 0..<k { pc.apply(aRows[i], sSpare[i]) }
      eMatrix = recyclingGram(aRows[0], rows: k, sSpare[0], rows: k, n: n).symmetrized
    } else {
      eMatrix = recyclingGram(aRows[0], rows: k, aRows[0], rows: k, n: n).symmetrized
    }
  }

  /// W ← the `count` × kNew combination `coefficients` of the first `count` rows of S (and AS).
  func combine(_ coefficients: SmallMatrix, count: Int) {
    let kNew = min(coefficients.columns, recycle)
    var c = coefficients
    if c.columns > kNew {
      var t = SmallMatrix(rows: c.rows, columns: kNew)
      for i in 0..<c.rows { for j in 0..<kNew { t[i, j] = c[i, j] } }
      c = t
    }
    recyclingCombine(c, count: count, block: sRows[0], n: n, into: sSpare[0], accumulate: false)
    recyclingCombine(c, count: count, block: aRows[0], n: n, into: aSpare[0], accumulate: false)
    for j in 0..<kNew {
      sRows[j].update(from: sSpare[j], count: n)
      aRows[j].update(from: aSpare[j], count: n)
    }
    recycleDimension = kNew
  }

  /// Rayleigh–Ritz for M⁻¹A in the A-inner product on S = [W, P] from the CG scalars; keeps the k
  /// smallest Ritz pairs. `gammas` and `mus` hold h + 1 entries for h harvested directions.
  func rayleighRitz(
    kc: Int, alphas: [Double], deltas: [Double], gammas: [Double], mus: [[Double]], preconditioner: Preconditioner?
  ) -> [Double] {
    let h = alphas.count
    let t = kc + h
    // K1 = diag(I, δ) is diagonal: scale by X = diag(1, 1/√δ) and solve X K2 X y = θ y.
    var scaling = [Double](repeating: 1, count: t)
    for j in 0..<h { scaling[kc + j] = deltas[j] > 0 ? 1 / deltas[j].squareRoot() : 0 }
    var k2 = SmallMatrix(rows: t, columns: t)
    for i in 0..<kc { for j in 0..<kc { k2[i, j] = eMatrix[i, j] } }
    for j in 0..<h {
      for i in 0..<kc {
        let f = (mus[j][i] - mus[j + 1][i]) / alphas[j]
        k2[i, kc + j] = f
        k2[kc + j, i] = f
      }
      k2[kc + j, kc + j] = (gammas[j] + gammas[j + 1]) / (alphas[j] * alphas[j])
      if j + 1 < h {
        let off = -gammas[j + 1] / (alphas[j] * alphas[j + 1])
        k2[kc + j, kc + j + 1] = off
        k2[kc + j + 1, kc + j] = off
      }
    }
    for i in 0..<t { for j in 0..<t { k2[i, j] *= scaling[i] * scaling[j] } }
    guard let (theta, y) = try? k2.array.symmetricEigen() else { return [] }
    let ym = SmallMatrix(y)
    let kNew = min(recycle, t)
    var coefficients = SmallMatrix(rows: t, columns: kNew)
    for i in 0..<t { for j in 0..<kNew { coefficients[i, j] = scaling[i] * ym[i, j] } }
    combine(coefficients, count: t)
    // Loss of conjugacy in long windows makes the structured projection approximate: make W
    // A-orthonormal again and E exact from the vectors themselves.
    orthonormalize(preconditioner)
    return Array(theta.scalars.prefix(kNew))
  }
}
