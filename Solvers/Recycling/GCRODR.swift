// GCRO-DR(m, k): GMRES with deflated restarting and Krylov subspace recycling across a sequence of
// nonsymmetric (or indefinite) real systems, right preconditioning.
//
// Parks, de Sturler, Mackey, Johnson & Maiti, "Recycling Krylov subspaces for sequences of linear
// systems", SIAM J. Sci. Comput. 28 (2006), 1651–1674, Algorithm 2.1 ("GCRO-DR"). Code organisation
// after Krylov.jl (a workspace object, stats with a reason); checked against Trilinos Belos
// `BelosGCRODRSolMgr.hpp` (harmonic Ritz extraction each cycle, C = A·U re-orthonormalized by a
// QR for a new matrix, U ← U R⁻¹), HPDDM's `GCRODR.hpp` behind PETSc's KSPHPDDM (a complex-
// conjugate pair straddling the k-th position is kept whole by taking k + 1 vectors) and KryPy's
// `krypy.recycling` (Ritz-vector selection as a separate step).
//
// The method keeps U (n×k) and C = A M⁻¹ U with orthonormal columns. A solve
//  1. for a changed operator recomputes C = A M⁻¹ U, takes C = Q R (Householder QR, LAPACK) and
//     sets C ← Q, U ← U R⁻¹ (a rank-deficient R is truncated by an SVD of R);
//  2. at every cycle projects the residual: x += M⁻¹ U Cᵀr, r ← (I − CCᵀ) r;
//  3. runs m − k Arnoldi steps on (I − CCᵀ) A M⁻¹ from r/‖r‖, orthogonalizing against [C, V]
//     by classical Gram–Schmidt with a second pass when the first cancels (DGKS criterion,
//     η = 1/√2; `alwaysReorthogonalize` forces CGS2 as GMRES.swift), giving
//     A M⁻¹ V_j = C B_j + V_{j+1} H̄_j; the least-squares problem min ‖βe₁ − H̄ y‖ is solved by
//     Givens rotations and the C-part is cancelled by U: x += M⁻¹ (V y − U B y);
//  4. extracts k new vectors from the harmonic Ritz problem of A M⁻¹ on V̂ = [U D, V_j]
//     (D scales U's columns to unit norm): with A M⁻¹ V̂ = Ŵ Ḡ, Ŵ = [C, V_{j+1}],
//       Ḡᵀ Ḡ z = θ Ḡᵀ (Ŵᵀ V̂) z        (LAPACK ?ggev, `generalizedEigen`),
//     keeps the k of smallest |θ| as a real basis P (real and imaginary parts of a complex pair,
//     both members always together; if the pair straddles position k, k + 1 are kept when the
//     storage and m − k ≥ 1 allow it, else k − 1), and sets Ḡ P = Q R (QR), C ← Ŵ Q, U ← V̂ P R⁻¹.
// With no recycled space the first cycle is a plain GMRES(m) cycle (H̄ᵀH̄ z = θ H_mᵀ z); with
// k = 0 the method is GMRES(m) iterate for iterate.
//
// Right preconditioning: every basis lives in the preconditioned ("u") space, x = x₀ + M⁻¹ u, so
// the minimized residual is the true residual b − A x and the tolerance is ‖r‖ ≤ atol + rtol·‖b‖
// as in GMRES.swift (relative to ‖b‖ even with a warm start); convergence is confirmed on the true
// residual at the end of each cycle. A preconditioner refreshed for a new matrix only changes
// C = A M⁻¹ U, which step 1 recomputes.
//
// Complex systems: the real 2×2 block form [Re A, −Im A; Im A, Re A] of a complex system (e.g.
// Helmholtz.discretize's real form) is a real nonsymmetric, indefinite system, so this real
// GCRO-DR solves it; complex harmonic Ritz vectors of the real form appear as conjugate pairs.
import Foundation
import Numerics

/// A reusable GCRO-DR(m, k) workspace that keeps its recycled subspace between solves.
///
/// ```
/// let solver = GCRODR(dimension: n, restart: 40, recycle: 20)
/// for (a, b) in systems {                       // a sequence of related systems
///   var x = [Double](repeating: 0, count: n)
///   let stats = solver.solve(a, b, &x, preconditioner: pc, options: KrylovOptions(rtol: 1e-8))
/// }
/// ```
///
/// Inputs: operator `A` (n×n, real, any nonsingular matrix), right-hand side `b`, initial guess `x`
/// (overwritten), optional preconditioner applied on the right (A M⁻¹ u = b, x = M⁻¹ u), and
/// `operatorChanged` (default true): whether A or M differs from the previous solve, in which case
/// C = A M⁻¹ U is recomputed (k operator and preconditioner applications, not counted as
/// iterations). Options: `rtol` (1e-8), `atol` (0), `maxIterations` (total Arnoldi steps, default
/// 10n), `history` (the Givens estimate of ‖r‖/‖b‖ after each step). Output: `SolverStats` with
/// reasons `.converged`, `.maxIterations`, `.breakdown` (the projected Krylov space became invariant
/// without reaching the tolerance), `.stagnation` (a full cycle reduced ‖r‖ by less than a factor
/// 1 − 1e-10); `lastDiagnostics` says what the recycling did (projection ratio, stale-guard events,
/// time spent on the space). Storage: m + 1 + 4(k + 1) + 2 n-vectors. Reference: Parks et al.,
/// SIAM J. Sci. Comput. 28 (2006).
public final class GCRODR {
  /// Size n of the systems.
  public let dimension: Int
  /// Maximal dimension m of the search space per cycle (recycled + Krylov).
  public let restart: Int
  /// Target dimension k of the recycled space (0 ≤ k < m).
  public let recycle: Int
  /// The stale-subspace guard (default: enabled, see `StaleGuard`).
  public var staleGuard: StaleGuard
  /// How many cycles per solve update the recycled space by harmonic Ritz extraction: nil (default)
  /// every cycle, as Parks et al.; 1 only the first cycle of each solve (cheaper: the extraction
  /// costs about 3(m + 1)k n flops a cycle).
  public var maxUpdatesPerSolve: Int?
  /// Whether every Arnoldi step orthogonalizes twice (CGS2, as GMRES.swift). The default, false,
  /// runs the second pass only when the first shrank the vector below 1/√2 of its norm (the
  /// criterion of Daniel, Gragg, Kaufman & Stewart, Math. Comp. 30 (1976)), which keeps the basis
  /// orthogonal to working precision and skips the second pass where the first does not cancel.
  /// With a good recycled space the first pass often does cancel (a new Krylov vector lies largely
  /// in span(C)), so the saving is small there: 1.05× on 3D Helmholtz sequences (bench/RESULTS.md).
  public var alwaysReorthogonalize = false
  /// Dimension of the recycled space currently held (at most k + 1, when a complex pair straddles k).
  public private(set) var recycleDimension = 0
  /// Whether the guard dropped the space for good (`StaleGuard.Action.drop`).
  public private(set) var isRecyclingDisabled = false
  /// What the recycling did in the last solve.
  public private(set) var lastDiagnostics = RecyclingDiagnostics()

  let n: Int
  let m: Int
  let kStore: Int
  /// Arnoldi basis V, m + 1 rows of length n.
  let basis: ScratchVectors
  /// U and C rows (kStore each) and spares for the updates (swapped after each update).
  var uRows: ScratchVectors
  var cRows: ScratchVectors
  var uSpare: ScratchVectors
  var cSpare: ScratchVectors
  /// Two n-vectors: the preconditioned vector z and an accumulator in the u-space.
  let work: ScratchVectors
  /// Small arrays: rotated Hessenberg (m+1)×m, unrotated copy (m+1)×m, B (kStore)×m, all column-
  /// major; Givens c, s (m each); g (m+1); projection buffers for V (m+1) and C (kStore); d and y_U.
  let small: UnsafeMutablePointer<Double>
  let smallCount: Int
  var guardState = StaleGuardState()
  /// Set when the guard asks for a refresh: the next extraction leaves the old U out.
  var refreshPending = false

  /// Allocates the workspace for n×n systems with cycle length m (≥ 1) and recycle target k (0 ≤ k < m).
  public init(
    dimension: Int, restart: Int = 40, recycle: Int = 20, staleGuard: StaleGuard = StaleGuard(),
    maxUpdatesPerSolve: Int? = nil
  ) {
    precondition(restart >= 1, "GCRO-DR restart m must be at least 1")
    precondition(recycle >= 0 && recycle < restart, "GCRO-DR needs 0 ≤ k < m (got k = \(recycle), m = \(restart))")
    self.dimension = dimension
    self.restart = restart
    self.recycle = recycle
    self.staleGuard = staleGuard
    self.maxUpdatesPerSolve = maxUpdatesPerSolve
    n = dimension
    m = restart
    kStore = recycle > 0 ? min(recycle + 1, restart - 1) : 0
    basis = ScratchVectors(n: dimension, count: restart + 1)
    uRows = ScratchVectors(n: dimension, count: kStore)
    cRows = ScratchVectors(n: dimension, count: kStore)
    uSpare = ScratchVectors(n: dimension, count: kStore)
    cSpare = ScratchVectors(n: dimension, count: kStore)
    work = ScratchVectors(n: dimension, count: 2)
    smallCount =
      2 * (restart + 1) * restart + max(kStore, 1) * restart + 2 * restart + 2 * (restart + 1) + 3 * (kStore + 1)
    small = .allocate(capacity: smallCount)
    small.initialize(repeating: 0, count: smallCount)
  }

  deinit { small.deallocate() }

  /// The DGKS threshold η = 1/√2.
  let dgksEta = 0.5.squareRoot()

  /// Forgets the recycled space (and re-enables recycling after a `.drop`).
  public func resetRecycleSpace() {
    recycleDimension = 0
    isRecyclingDisabled = false
    refreshPending = false
    guardState.reset()
  }

  /// The recycled basis U (in the preconditioned space; equal to the x-space without preconditioner).
  public var recycleSpace: [[Double]] {
    (0..<recycleDimension).map { Array(UnsafeBufferPointer(start: uRows[$0], count: n)) }
  }

  /// Sets the recycled space to span(`vectors`) (u-space vectors: x-space ones when there is no
  /// preconditioner; with right preconditioning u = M x) and computes C = A M⁻¹ U. At most
  /// min(k + 1, m − 1) vectors; dependent ones are dropped.
  public func setRecycleSpace(
    _ vectors: [[Double]], operator a: some LinearOperator, preconditioner: Preconditioner? = nil
  ) {
    precondition(vectors.count <= kStore, "at most \(kStore) recycled vectors fit this GCRO-DR(\(m), \(recycle))")
    precondition(vectors.allSatisfy { $0.count == n }, "recycled vectors must have \(n) entries")
    for (i, v) in vectors.enumerated() {
      v.withUnsafeBufferPointer { uRows[i].update(from: $0.baseAddress!, count: n) }
    }
    recycleDimension = vectors.count
    isRecyclingDisabled = false
    guardState.reset()
    recomputeC(a, preconditioner)
  }

  /// Solves A x = b from the guess in `x`, recycling the space kept from previous solves; see the
  /// type's documentation.
  public func solve(
    _ a: some LinearOperator, _ bArray: [Double], _ xArray: inout [Double], preconditioner: Preconditioner? = nil,
    options: KrylovOptions = KrylovOptions(), operatorChanged: Bool = true
  ) -> SolverStats {
    checkSizes("GCRO-DR", n, a, b: bArray.count, x: xArray.count, preconditioner: preconditioner)
    let t0 = monotonicSeconds()
    let maxIterations = options.maxIterations ?? 10 * n
    let method = "gcrodr(\(m),\(recycle))" + (preconditioner.map { "+" + $0.name } ?? "")
    var history: [Double] = []
    var diagnostics = RecyclingDiagnostics()
    if recycleDimension > 0 && operatorChanged {
      let tr = monotonicSeconds()
      diagnostics.extraOperatorApplications += recycleDimension
      recomputeC(a, preconditioner)
      diagnostics.recycleSeconds += monotonicSeconds() - tr
    }
    diagnostics.recycleDimension = recycleDimension
    let (V, z, acc) = (basis[0], work[0], work[1])
    let ld = m + 1
    let hess = small
    let hOrig = hess + (m + 1) * m
    let bMat = hOrig + (m + 1) * m
    let ldb = max(kStore, 1)
    let cs = bMat + ldb * m
    let sn = cs + m
    let g = sn + m
    let hc = g + m + 1
    let cc = hc + m + 1
    let dVec = cc + kStore + 1
    let yU = dVec + kStore + 1

    let stats: SolverStats = bArray.withUnsafeBufferPointer { bb in
      xArray.withUnsafeMutableBufferPointer { xx in
        let (b, x) = (bb.baseAddress!, xx.baseAddress!)
        let bNorm = nrm2(b, n)
        let scale = bNorm > 0 ? bNorm : 1
        let tolerance = options.atol + options.rtol * bNorm
        var iterations = 0
        var reason = ConvergenceReason.maxIterations
        var beta = trueResidualNorm(a, b, x, scratch: V)
        if options.history { history.append(beta / scale) }
        var firstCycle = true
        var updates = 0
        var relationSuspect = false
        var relationRepairs = 0

        /// x += M⁻¹ acc.
        func addPreconditioned() {
          if let pc = preconditioner {
            pc.apply(acc, z)
            for i in 0..<n { x[i] += z[i] }
          } else {
            for i in 0..<n { x[i] += acc[i] }
          }
        }

        outer: while true {
          if beta <= tolerance {
            reason = .converged
            break
          }
          if iterations >= maxIterations { break }
          let cycleStart = beta
          if relationSuspect && recycleDimension > 0 && !isRecyclingDisabled {
            // The last cycle's true residual disagreed with its least-squares estimate: C = A M⁻¹ U
            // has drifted (an ill-conditioned R⁻¹). Recompute it from U.
            let tr = monotonicSeconds()
            diagnostics.extraOperatorApplications += recycleDimension
            recomputeC(a, preconditioner)
            diagnostics.recycleSeconds += monotonicSeconds() - tr
            relationRepairs += 1
          }
          relationSuspect = false
          var kc = isRecyclingDisabled ? 0 : recycleDimension
          var betaP = beta
          if kc > 0 {
            // d = Cᵀ r; r ← r − C d; x += M⁻¹ U d.
            let (C, U) = (cRows[0], uRows[0])
            BLAS.gemv(.none, m: kc, n: n, alpha: 1, a: C, lda: n, x: V, beta: 0, y: dVec)
            BLAS.gemv(.transpose, m: kc, n: n, alpha: -1, a: C, lda: n, x: dVec, beta: 1, y: V)
            BLAS.gemv(.transpose, m: kc, n: n, alpha: 1, a: U, lda: n, x: dVec, beta: 0, y: acc)
            addPreconditioned()
            betaP = nrm2(V, n)
            if firstCycle {
              let rho = beta > 0 ? betaP / beta : 0
              diagnostics.projectionRatio = rho
              if guardState.record(rho, staleGuard) {
                diagnostics.guardFired = true
                diagnostics.guardAction = staleGuard.action
                switch staleGuard.action {
                case .refresh: refreshPending = true
                case .drop:
                  isRecyclingDisabled = true
                  recycleDimension = 0
                  kc = 0
                }
              }
            }
          }
          if betaP <= tolerance {
            beta = trueResidualNorm(a, b, x, scratch: V)
            if beta <= tolerance {
              reason = .converged
              break outer
            }
            if betaP == 0 {
              reason = .breakdown
              break outer
            }
            firstCycle = false
            continue outer
          }
          BLAS.scal(1 / betaP, UnsafeMutableBufferPointer(start: V, count: n))
          for i in 0...m { g[i] = 0 }
          g[0] = betaP
          let steps = m - kc
          var kk = 0  // Arnoldi columns built in this cycle
          var happy = false
          while kk < steps && iterations < maxIterations {
            let vk = V + kk * n
            applyPreconditioner(preconditioner, vk, z, n)
            let vnext = V + (kk + 1) * n
            a.apply(z, vnext)
            let applied = nrm2(vnext, n)
            // CGS against [C, V_0..kk], twice if needed: coefficients B[:, kk] and H[:, kk].
            for i in 0...kk { hess[kk * ld + i] = 0 }
            for i in 0..<kc { bMat[kk * ldb + i] = 0 }
            var hnext = 0.0
            for pass in 0..<2 {
              if kc > 0 { BLAS.gemv(.none, m: kc, n: n, alpha: 1, a: cRows[0], lda: n, x: vnext, beta: 0, y: cc) }
              BLAS.gemv(.none, m: kk + 1, n: n, alpha: 1, a: V, lda: n, x: vnext, beta: 0, y: hc)
              if kc > 0 {
                BLAS.gemv(.transpose, m: kc, n: n, alpha: -1, a: cRows[0], lda: n, x: cc, beta: 1, y: vnext)
              }
              BLAS.gemv(.transpose, m: kk + 1, n: n, alpha: -1, a: V, lda: n, x: hc, beta: 1, y: vnext)
              for i in 0...kk { hess[kk * ld + i] += hc[i] }
              for i in 0..<kc { bMat[kk * ldb + i] += cc[i] }
              hnext = nrm2(vnext, n)
              // DGKS: a second pass only when the first removed more than 1 − η² of the vector
              // (cancellation, where one classical Gram–Schmidt pass loses orthogonality).
              if pass == 0 && !alwaysReorthogonalize && hnext >= dgksEta * applied { break }
            }
            hess[kk * ld + kk + 1] = hnext
            for i in 0...(kk + 1) { hOrig[kk * ld + i] = hess[kk * ld + i] }
            let rho = applyPreviousRotations(hess, column: kk, ld: ld, cos: cs, sin: sn)
            if rho <= 1e-14 * applied {
              // (I − CCᵀ) A M⁻¹ v_kk lies in the previous basis: drop the column, end the cycle.
              happy = true
              break
            }
            completeRotation(hess, column: kk, ld: ld, rho: rho, cos: cs, sin: sn, rhs: g)
            kk += 1
            iterations += 1
            beta = abs(g[kk])
            if options.history { history.append(beta / scale) }
            if hnext <= 1e-14 * rho {
              // Invariant Krylov space: the subdiagonal is zero to round-off.
              hOrig[(kk - 1) * ld + kk] = 0
              vnext.update(repeating: 0, count: n)
              if beta > tolerance { happy = true }
              break
            }
            BLAS.scal(1 / hnext, UnsafeMutableBufferPointer(start: vnext, count: n))
            if beta <= tolerance { break }
          }
          let estimate = abs(g[kk])
          if kk > 0 {
            // R y = g (back substitution), then x += M⁻¹ (V y − U B y).
            for i in stride(from: kk - 1, through: 0, by: -1) {
              var t = g[i]
              for j in (i + 1)..<kk { t -= hess[j * ld + i] * g[j] }
              g[i] = t / hess[i * ld + i]
            }
            BLAS.gemv(.transpose, m: kk, n: n, alpha: 1, a: V, lda: n, x: g, beta: 0, y: acc)
            if kc > 0 {
              for i in 0..<kc {
                var t = 0.0
                for j in 0..<kk { t -= bMat[j * ldb + i] * g[j] }
                yU[i] = t
              }
              BLAS.gemv(.transpose, m: kc, n: n, alpha: 1, a: uRows[0], lda: n, x: yU, beta: 1, y: acc)
            }
            addPreconditioned()
            if recycle > 0 && !isRecyclingDisabled && updates < (maxUpdatesPerSolve ?? Int.max) {
              updates += 1
              let tr = monotonicSeconds()
              let ritz = updateRecycleSpace(kc: kc, kk: kk, includeU: !refreshPending)
              if let ritz {
                refreshPending = false
                diagnostics.ritzValues = ritz
              }
              diagnostics.recycleSeconds += monotonicSeconds() - tr
            }
          }
          // True residual for the next cycle (and to confirm convergence).
          beta = trueResidualNorm(a, b, x, scratch: V)
          firstCycle = false
          if kc > 0 && beta > tolerance && beta > 4 * estimate && relationRepairs < 3 { relationSuspect = true }
          if beta <= tolerance {
            reason = .converged
            break outer
          }
          if happy {
            reason = .breakdown
            break outer
          }
          if kk == steps && beta >= cycleStart * (1 - 1e-10) {
            reason = .stagnation
            break outer
          }
        }
        let trueNorm = trueResidualNorm(a, b, x, scratch: acc)
        return SolverStats(
          method: method, iterations: iterations, relativeResidual: trueNorm / scale,
          residualHistory: history, seconds: monotonicSeconds() - t0, reason: reason)
      }
    }
    diagnostics.recycleDimensionAfter = isRecyclingDisabled ? 0 : recycleDimension
    lastDiagnostics = diagnostics
    return stats
  }

  /// C ← A M⁻¹ U for the current operator, then C = QR, C ← Q, U ← U R⁻¹.
  func recomputeC(_ a: some LinearOperator, _ preconditioner: Preconditioner?) {
    let z = work[0]
    for i in 0..<recycleDimension {
      if let pc = preconditioner {
        pc.apply(uRows[i], z)
        a.apply(z, cRows[i])
      } else {
        a.apply(uRows[i], cRows[i])
      }
    }
    orthonormalizeC()
  }

  /// Re-orthonormalizes C by a Householder QR and applies R⁻¹ to U; a numerically rank-deficient
  /// R is truncated by its SVD (C = Q Ur S Vrᵀ: C ← Q Ur, U ← U Vr S⁻¹ on the kept values).
  func orthonormalizeC() {
    let kc = recycleDimension
    guard kc > 0 else { return }
    guard let (q, r) = try? recyclingColumns(cRows[0], rows: kc, n: n).qr() else {
      recycleDimension = 0
      return
    }
    let rm = SmallMatrix(r)
    let diagonal = (0..<kc).map { abs(rm[$0, $0]) }
    let largest = diagonal.max() ?? 0
    guard largest > 0, largest.isFinite else {
      recycleDimension = 0
      return
    }
    // Combination applied to Q's columns (kc × kNew) and to U's (kc × kNew).
    var qCoefficients: SmallMatrix
    var uCoefficients: SmallMatrix
    if diagonal.min()! > 1e-10 * largest {
      qCoefficients = SmallMatrix(rows: kc, columns: kc)
      for i in 0..<kc { qCoefficients[i, i] = 1 }
      var identity = SmallMatrix(rows: kc, columns: kc)
      for i in 0..<kc { identity[i, i] = 1 }
      guard let inverse = try? r.triangularSolve(identity.array, lower: false) else {
        recycleDimension = 0
        return
      }
      uCoefficients = SmallMatrix(inverse)
    } else {
      guard let (ur, s, vt) = try? r.svd() else {
        recycleDimension = 0
        return
      }
      let sv = s.scalars
      let kept = sv.indices.filter { sv[$0] > 1e-10 * sv[0] }
      let um = SmallMatrix(ur)
      let vm = SmallMatrix(vt).transposed
      qCoefficients = SmallMatrix(rows: kc, columns: kept.count)
      uCoefficients = SmallMatrix(rows: kc, columns: kept.count)
      for (j, col) in kept.enumerated() {
        for i in 0..<kc {
          qCoefficients[i, j] = um[i, col]
          uCoefficients[i, j] = vm[i, col] / sv[col]
        }
      }
    }
    let kNew = qCoefficients.columns
    // C ← Q · qCoefficients (Q is n × kc, column-oriented).
    let qc = SmallMatrix(q).times(qCoefficients)
    let cNew = cSpare[0]
    qc.data.withUnsafeBufferPointer { p in
      for j in 0..<kNew {
        let row = cNew + j * n
        for i in 0..<n { row[i] = p[i * kNew + j] }
      }
    }
    recyclingCombine(uCoefficients, count: kc, block: uRows[0], n: n, into: uSpare[0], accumulate: false)
    swap(&uRows, &uSpare)
    swap(&cRows, &cSpare)
    recycleDimension = kNew
  }

  /// Harmonic Ritz extraction at the end of a cycle with `kc` recycled and `kk` Krylov columns;
  /// returns the kept harmonic Ritz values' magnitudes, or nil when the space was left unchanged.
  func updateRecycleSpace(kc: Int, kk: Int, includeU: Bool) -> [Double]? {
    let q = includeU ? kc : 0
    let p = q + kk
    let rowsW = kc + kk + 1
    guard p >= 1 else { return nil }
    let ld = m + 1
    let ldb = max(kStore, 1)
    let hOrig = small + (m + 1) * m
    let bMat = hOrig + (m + 1) * m
    let vBasis = basis[0]
    // Scaling D of U's columns.
    var dScale = [Double](repeating: 1, count: q)
    for i in 0..<q {
      let norm = nrm2(uRows[i], n)
      dScale[i] = norm > 0 ? 1 / norm : 0
    }
    // Ḡ (rowsW × p): [D 0; 0 0] in the U columns, [B; H̄] in the V columns.
    var gBar = SmallMatrix(rows: rowsW, columns: p)
    for i in 0..<q { gBar[i, i] = dScale[i] }
    for j in 0..<kk {
      for i in 0..<kc { gBar[i, q + j] = bMat[j * ldb + i] }
      for i in 0...(j + 1) { gBar[kc + i, q + j] = hOrig[j * ld + i] }
    }
    // Ŵᵀ V̂ (rowsW × p): [CᵀU D; V_{kk+1}ᵀ U D] in the U columns, [0; I] in the V columns.
    var wv = SmallMatrix(rows: rowsW, columns: p)
    if q > 0 {
      let cu = recyclingGram(cRows[0], rows: kc, uRows[0], rows: q, n: n)
      let vu = recyclingGram(vBasis, rows: kk + 1, uRows[0], rows: q, n: n)
      for j in 0..<q {
        for i in 0..<kc { wv[i, j] = cu[i, j] * dScale[j] }
        for i in 0...kk { wv[kc + i, j] = vu[i, j] * dScale[j] }
      }
    }
    for j in 0..<kk { wv[kc + j, q + j] = 1 }
    let lhs = gBar.transposeTimes(gBar)
    let rhs = gBar.transposeTimes(wv)
    guard let eig = try? lhs.array.generalizedEigen(rhs.array) else { return nil }
    // Group eigenvalues into real ones and conjugate pairs; sort groups by |θ|.
    var groups: [(start: Int, size: Int, magnitude: Double)] = []
    var j = 0
    while j < p {
      let alpha = eig.alpha[j]
      let beta = eig.beta[j]
      let magnitude =
        beta == 0 ? Double.infinity : ((alpha.re * alpha.re + alpha.im * alpha.im).squareRoot() / abs(beta))
      let size = (alpha.im != 0 && j + 1 < p) ? 2 : 1
      groups.append((j, size, magnitude.isNaN ? .infinity : magnitude))
      j += size
    }
    groups.sort { $0.magnitude < $1.magnitude || ($0.magnitude == $1.magnitude && $0.start < $1.start) }
    let target = min(recycle, p)
    let cap = min(kStore, m - 1, p)
    var chosen: [(start: Int, size: Int, magnitude: Double)] = []
    var count = 0
    for group in groups where count < target {
      if group.magnitude == .infinity { break }
      if count + group.size <= target || count + group.size <= cap {
        chosen.append(group)
        count += group.size
      } else {
        break  // a pair straddles position k and k + 1 does not fit: keep k − 1
      }
    }
    guard count > 0 else { return nil }
    // Real basis P (p × count).
    var pMat = SmallMatrix(rows: p, columns: count)
    var ritz: [Double] = []
    var column = 0
    eig.vectors.withUnsafeBufferPointer { vec in
      for group in chosen {
        for i in 0..<p { pMat[i, column] = vec[i * p + group.start].re }
        ritz.append(group.magnitude)
        column += 1
        if group.size == 2 {
          for i in 0..<p { pMat[i, column] = vec[i * p + group.start].im }
          ritz.append(group.magnitude)
          column += 1
        }
      }
    }
    // Orthonormalize P first (eigenvectors of a nonnormal pencil can be nearly parallel, and R below
    // would inherit that ill-conditioning), then Ḡ P = Q R; C ← Ŵ Q; U ← V̂ P R⁻¹.
    guard let (pq, pr) = try? pMat.array.qr() else { return nil }
    let prDiagonal = (0..<count).map { abs(SmallMatrix(pr)[$0, $0]) }
    guard let prLargest = prDiagonal.max(), prLargest > 0, prDiagonal.min()! > 1e-10 * prLargest else { return nil }
    pMat = SmallMatrix(pq)
    let gp = gBar.times(pMat)
    guard let (qa, ra) = try? gp.array.qr() else { return nil }
    let rm = SmallMatrix(ra)
    let diagonal = (0..<count).map { abs(rm[$0, $0]) }
    guard let largest = diagonal.max(), largest > 0, diagonal.min()! > 1e-12 * largest else { return nil }
    guard let et = try? ra.triangularSolve(pMat.transposed.array, lower: false, transpose: true) else { return nil }
    // E = P R⁻¹ (p × count); the U part is scaled by D.
    var e = SmallMatrix(et).transposed
    for i in 0..<q { for c in 0..<count { e[i, c] *= dScale[i] } }
    let qm = SmallMatrix(qa)
    let uNew = uSpare[0]
    let cNew = cSpare[0]
    recyclingCombine(e, count: q, block: uRows[0], n: n, into: uNew, accumulate: false)
    recyclingCombine(e, rowOffset: q, count: kk, block: vBasis, n: n, into: uNew, accumulate: q > 0)
    recyclingCombine(qm, count: kc, block: cRows[0], n: n, into: cNew, accumulate: false)
    recyclingCombine(qm, rowOffset: kc, count: kk + 1, block: vBasis, n: n, into: cNew, accumulate: kc > 0)
    swap(&uRows, &uSpare)
    swap(&cRows, &cSpare)
    recycleDimension = count
    return ritz
  }
}
