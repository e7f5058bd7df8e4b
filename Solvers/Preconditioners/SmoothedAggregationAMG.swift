// Smoothed-aggregation algebraic multigrid (SA-AMG) as a preconditioner for CG.
//
// Method: Vaněk, Mandel, Brezina, "Algebraic multigrid by smoothed aggregation for second and
// fourth order elliptic problems", Computing 56 (1996) 179–196. The defaults follow pyamg 5.x's
// `smoothed_aggregation_solver` (Olson & Schroder, https://github.com/pyamg/pyamg):
//   - symmetric strength of connection with θ = 0 (every stored off-diagonal entry is strong);
//   - standard aggregation (three passes);
//   - near-nullspace candidate B = 1, improved on the finest level by 4 symmetric Gauss–Seidel
//     sweeps on A·B = 0 (pyamg's `improve_candidates`);
//   - tentative prolongator T from B (one nonzero per row, columns normalized per aggregate);
//   - Jacobi prolongation smoothing P = (I − ω/ρ(D⁻¹A) · D⁻¹A) T with ω = 4/3, ρ estimated by
//     Lanczos (pyamg uses restarted Arnoldi), no filtering;
//   - Galerkin coarse operators A_c = Pᵀ A P (R = Pᵀ), coarsening until ≤ 10 rows or 10 levels;
//   - pre- and post-smoother: one symmetric Gauss–Seidel sweep (forward then backward);
//   - coarsest level: dense pseudo-inverse ('pinv'; CHOLMOD for a large coarsest level);
//   - one V-cycle from a zero initial guess per application.
// Pre- and post-smoother are the same symmetric sweep and R = Pᵀ, so the V-cycle is a symmetric
// positive definite operator for SPD A: usable inside CG.
//
// Unlike pyamg (issues #219, #295), the hierarchy can be refreshed for a new matrix with the same
// sparsity pattern: `update` keeps the aggregates and every sparsity pattern (P, Pᵀ, A·P, the
// coarse operators, the CHOLMOD analysis) and recomputes only values — the improved candidates
// and tentative prolongator, ρ(D⁻¹A), the smoothed prolongator, the Galerkin products and the
// coarse factorization. With θ = 0 aggregation depends on the pattern only, so a refreshed
// hierarchy equals a fresh setup on the new matrix.
import Foundation
import Numerics

/// Options of `SmoothedAggregationAMG`; the defaults are pyamg's `smoothed_aggregation_solver`.
public struct AMGOptions: Sendable, Equatable {
  /// Multigrid cycle applied once per preconditioner application.
  public enum Cycle: String, Sendable, Equatable {
    /// One visit of each coarser level.
    case v = "V"
    /// Two visits of each coarser level (more work per cycle, sometimes fewer iterations).
    case w = "W"
  }

  /// Strength threshold θ: a_ij is a strong connection when |a_ij| ≥ θ·sqrt(|a_ii a_jj|). pyamg: 0.
  public var strengthTheta: Double
  /// Maximum number of levels, the finest included (pyamg: 10).
  public var maxLevels: Int
  /// Coarsening stops once a level has at most this many rows (pyamg: 10).
  public var maxCoarse: Int
  /// Symmetric Gauss–Seidel sweeps (forward + backward) before the coarse-grid correction.
  public var presmoothingSweeps: Int
  /// Symmetric Gauss–Seidel sweeps after the coarse-grid correction (equal to the presmoothing
  /// sweeps for a symmetric preconditioner).
  public var postsmoothingSweeps: Int
  /// Jacobi prolongation-smoothing factor ω in P = (I − ω/ρ(D⁻¹A) D⁻¹A) T (pyamg: 4/3).
  public var prolongationOmega: Double
  /// Symmetric Gauss–Seidel sweeps on A·B = 0 applied to the constant candidate on the finest
  /// level before building T (pyamg's `improve_candidates`: 4); 0 keeps B = 1.
  public var candidateSweeps: Int
  /// Lanczos steps for the estimate of ρ(D⁻¹A) on each level (pyamg: 15 Arnoldi steps, restarted
  /// until the estimate is within 1%).
  public var spectralRadiusSteps: Int
  /// Cycle type (pyamg's `aspreconditioner` default: V).
  public var cycle: Cycle
  /// Store a level whose entries lie on 5, 7 or 9 diagonals with symmetric offsets (a stencil on
  /// a structured grid) by diagonals for its sweeps and residual (`AMGStencil`): about twice as
  /// fast as CSR, same arithmetic up to rounding. Other levels use CSR either way.
  public var diagonalStorage: Bool

  public init(
    strengthTheta: Double = 0, maxLevels: Int = 10, maxCoarse: Int = 10, presmoothingSweeps: Int = 1,
    postsmoothingSweeps: Int = 1, prolongationOmega: Double = 4.0 / 3.0, candidateSweeps: Int = 4,
    spectralRadiusSteps: Int = 15, cycle: Cycle = .v, diagonalStorage: Bool = true
  ) {
    self.strengthTheta = strengthTheta
    self.maxLevels = maxLevels
    self.maxCoarse = maxCoarse
    self.presmoothingSweeps = presmoothingSweeps
    self.postsmoothingSweeps = postsmoothingSweeps
    self.prolongationOmega = prolongationOmega
    self.candidateSweeps = candidateSweeps
    self.spectralRadiusSteps = spectralRadiusSteps
    self.cycle = cycle
    self.diagonalStorage = diagonalStorage
  }
}

/// Size of one level of an AMG hierarchy.
public struct AMGLevelSummary: Sendable, Equatable {
  /// Rows of the level's operator.
  public var rows: Int
  /// Stored entries of the level's operator.
  public var nonzeros: Int
  /// Estimated ρ(D⁻¹A) used to smooth this level's prolongator (nil on the coarsest level).
  public var spectralRadius: Double?
}

/// Smoothed-aggregation algebraic multigrid preconditioner: z = one V-cycle applied to r.
///
/// ```
/// let amg = try SmoothedAggregationAMG(a)                    // setup (pyamg defaults)
/// let cg = ConjugateGradient(dimension: a.rows)
/// var x = [Double](repeating: 0, count: a.rows)
/// let stats = cg.solve(a, b, &x, preconditioner: amg, options: KrylovOptions(rtol: 1e-8))
/// try amg.update(a2)                                        // same pattern, new values
/// print(amg.hierarchyDescription)
/// ```
///
/// Input: a symmetric positive definite matrix with a positive diagonal (symmetry is assumed,
/// not checked). The preconditioner is SPD whenever A is. `apply` allocates nothing. Not
/// thread-safe: one instance per thread (the cycle uses per-level work vectors).
public final class SmoothedAggregationAMG: Preconditioner {
  public let name = "amg"
  public let dimension: Int
  public var isSymmetric: Bool { true }
  /// The options the hierarchy was built with.
  public let options: AMGOptions
  /// Wall-clock seconds of the setup (init).
  public private(set) var setupSeconds = 0.0
  /// Wall-clock seconds of the last `update` (0 before the first).
  public private(set) var updateSeconds = 0.0

  final class Level {
    let a: AMGMatrix
    /// Position of the diagonal entry in each row.
    var diagonalPosition: [Int32] = []
    var inverseDiagonal: UnsafeMutablePointer<Double>
    /// Work vectors: solution, right-hand side, residual.
    let x: UnsafeMutablePointer<Double>
    let b: UnsafeMutablePointer<Double>
    let r: UnsafeMutablePointer<Double>
    // Transfer to the next level (absent on the coarsest level).
    var aggregate: [Int32] = []
    var aggregateCount = 0
    /// Near-nullspace candidate on this level and the tentative prolongator's value per row.
    var candidate: [Double] = []
    var tentative: [Double] = []
    var p: AMGMatrix?
    /// For each entry of A: the entry of P in row i, column aggregate(j) it contributes to (−1: none).
    var aToP: [Int32] = []
    /// For each row: the entry of P at (i, aggregate(i)) (−1 when i is unaggregated).
    var tToP: [Int32] = []
    var restriction: AMGMatrix?
    /// For each entry of R = Pᵀ, the index of the same entry in P.
    var rFromP: [Int32] = []
    var ap: AMGMatrix?
    var spectralRadius = 0.0
    /// Diagonal storage for the sweeps and the residual when the level is a stencil matrix.
    var stencil: AMGStencil?
    var stencilChecked = false

    init(_ a: AMGMatrix) {
      self.a = a
      let n = max(1, a.rows)
      inverseDiagonal = .allocate(capacity: n)
      inverseDiagonal.initialize(repeating: 0, count: n)
      x = .allocate(capacity: n)
      x.initialize(repeating: 0, count: n)
      b = .allocate(capacity: n)
      b.initialize(repeating: 0, count: n)
      r = .allocate(capacity: n)
      r.initialize(repeating: 0, count: n)
    }

    deinit {
      inverseDiagonal.deallocate()
      x.deallocate()
      b.deallocate()
      r.deallocate()
    }
  }

  var levels: [Level] = []
  var coarse: AMGCoarseSolver!
  /// Dense accumulator row for the numeric SpGEMM (length: the largest column count).
  private var accumulator: [Double] = []

  /// Builds the hierarchy for `matrix`. Throws `SolverSetupError` if the matrix is not square,
  /// has a zero, negative or non-finite diagonal entry, or the options are invalid.
  public init(_ matrix: CSRMatrix<Double>, options: AMGOptions = .init()) throws {
    let t0 = monotonicSeconds()
    guard matrix.rows == matrix.columns else {
      throw SolverSetupError.invalidMatrix("AMG needs a square matrix, got \(matrix.rows)×\(matrix.columns)")
    }
    guard options.maxLevels >= 1, options.maxCoarse >= 1, options.presmoothingSweeps >= 0,
      options.postsmoothingSweeps >= 0, options.candidateSweeps >= 0, options.spectralRadiusSteps >= 1,
      options.strengthTheta >= 0, options.prolongationOmega.isFinite
    else {
      throw SolverSetupError.preconditionerBreakdown("AMG: invalid options \(options)")
    }
    if let k = matrix.values.firstIndex(where: { !$0.isFinite }) {
      throw SolverSetupError.invalidMatrix("AMG: entry \(k) of the matrix is \(matrix.values[k])")
    }
    dimension = matrix.rows
    self.options = options
    accumulator = [Double](repeating: 0, count: matrix.rows)

    var level = Level(AMGMatrix(matrix))
    try prepareSmoother(level, index: 0)
    levels.append(level)
    while levels.count < options.maxLevels && level.a.rows > options.maxCoarse {
      guard let next = try coarsen(level, index: levels.count - 1) else { break }
      try prepareSmoother(next, index: levels.count)
      levels.append(next)
      level = next
    }
    coarse = try AMGCoarseSolver(level.a)
    setupSeconds = monotonicSeconds() - t0
  }

  // MARK: - Setup

  /// Diagonal positions and inverse diagonal of a level; the finest level must have a positive diagonal.
  private func prepareSmoother(_ level: Level, index: Int) throws {
    let a = level.a
    if level.diagonalPosition.isEmpty { level.diagonalPosition = a.diagonalPositions() }
    for i in 0..<a.rows {
      let k = Int(level.diagonalPosition[i])
      let d = k >= 0 ? a.values[k] : 0
      if index == 0 {
        guard k >= 0, d != 0 else {
          throw SolverSetupError.preconditionerBreakdown("AMG: diagonal entry \(i) is \(d)")
        }
        guard d > 0 else {
          throw SolverSetupError.invalidMatrix(
            "AMG: diagonal entry \(i) is \(d); smoothed aggregation needs a symmetric positive definite matrix")
        }
      }
      // A coarse row can only vanish when an aggregate's candidate is zero; skip it in the sweeps.
      level.inverseDiagonal[i] = d > 0 ? 1 / d : 0
    }
    // The sweep from zero reads the row up to the diagonal; give rows without one their end.
    for i in 0..<a.rows where level.diagonalPosition[i] < 0 { level.diagonalPosition[i] = a.rowPointers[i + 1] }
    if level.stencilChecked {
      level.stencil?.refresh(from: a)
    } else {
      level.stencil = options.diagonalStorage ? AMGStencil(a) : nil
      level.stencilChecked = true
    }
  }

  // MARK: - Smoother and residual (diagonal storage where the level has it)

  @inline(__always)
  private func forwardSweep(
    _ level: Level, _ dp: UnsafePointer<Int32>, _ b: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>,
    fromZero: Bool
  ) {
    if let stencil = level.stencil {
      stencil.forwardSweep(level.a, dp, level.inverseDiagonal, b, x, fromZero: fromZero)
    } else if fromZero {
      AMGKernels.forwardSweepFromZero(level.a, dp, level.inverseDiagonal, b, x)
    } else {
      AMGKernels.forwardSweep(level.a, dp, level.inverseDiagonal, b, x)
    }
  }

  @inline(__always)
  private func backwardSweep(
    _ level: Level, _ dp: UnsafePointer<Int32>, _ b: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>
  ) {
    if let stencil = level.stencil {
      stencil.backwardSweep(level.a, dp, level.inverseDiagonal, b, x)
    } else {
      AMGKernels.backwardSweep(level.a, dp, level.inverseDiagonal, b, x)
    }
  }

  /// Aggregates `level`, builds its transfer operators and returns the next level, or nil when
  /// aggregation does not coarsen.
  private func coarsen(_ level: Level, index: Int) throws -> Level? {
    let a = level.a
    let n = a.rows
    var d = [Double](repeating: 0, count: n)
    for i in 0..<n where level.diagonalPosition[i] < a.rowPointers[i + 1] {
      d[i] = a.values[Int(level.diagonalPosition[i])]
    }
    let (sp, sj) = AMGKernels.strengthGraph(a, theta: options.strengthTheta, diagonal: d)
    let (agg, count) = AMGKernels.standardAggregation(pointers: sp, columns: sj, count: n)
    guard count > 0 && count < n else { return nil }
    level.aggregate = agg
    level.aggregateCount = count

    // Pattern of P = (I − ω D⁻¹A) T: row i holds the aggregates of the columns of A's row i.
    var marker = [Int32](repeating: -1, count: count)
    var rp = [Int32](repeating: 0, count: n + 1)
    var total = 0
    for i in 0..<n {
      for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
        let c = agg[Int(a.columnIndices[k])]
        if c >= 0 && marker[Int(c)] != Int32(i) {
          marker[Int(c)] = Int32(i)
          total += 1
        }
      }
      if agg[i] >= 0 && marker[Int(agg[i])] != Int32(i) {
        marker[Int(agg[i])] = Int32(i)
        total += 1
      }
      rp[i + 1] = Int32(total)
    }
    let p = AMGMatrix(rows: n, columns: count, rowPointers: rp)
    marker.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
    for i in 0..<n {
      var w = Int(rp[i])
      for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
        let c = agg[Int(a.columnIndices[k])]
        if c >= 0 && marker[Int(c)] != Int32(i) {
          marker[Int(c)] = Int32(i)
          p.columnIndices[w] = c
          w += 1
        }
      }
      if agg[i] >= 0 && marker[Int(agg[i])] != Int32(i) {
        marker[Int(agg[i])] = Int32(i)
        p.columnIndices[w] = agg[i]
        w += 1
      }
    }
    p.sortRows()
    // Where each entry of A and of T lands in P (marker now holds positions within the row).
    var aToP = [Int32](repeating: -1, count: a.nonzeros)
    var tToP = [Int32](repeating: -1, count: n)
    for i in 0..<n {
      for q in Int(rp[i])..<Int(rp[i + 1]) { marker[Int(p.columnIndices[q])] = Int32(q) }
      for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
        let c = agg[Int(a.columnIndices[k])]
        if c >= 0 { aToP[k] = marker[Int(c)] }
      }
      if agg[i] >= 0 { tToP[i] = marker[Int(agg[i])] }
    }
    level.p = p
    level.aToP = aToP
    level.tToP = tToP
    let (r, rFromP) = AMGKernels.transposePattern(p)
    level.restriction = r
    level.rFromP = rFromP
    let ap = try AMGKernels.productPattern(a, p)
    level.ap = ap
    let coarseA = try AMGKernels.productPattern(r, ap)
    if coarseA.columns > accumulator.count { accumulator = [Double](repeating: 0, count: coarseA.columns) }
    let next = Level(coarseA)
    try computeTransfer(level, index: index, next: next)
    return next
  }

  /// Numeric part of one level's transfer: candidates and tentative prolongator, ρ(D⁻¹A), the
  /// smoothed prolongator P, R = Pᵀ and the Galerkin product into `next.a`.
  private func computeTransfer(_ level: Level, index: Int, next: Level) throws {
    let a = level.a
    let n = a.rows
    // Candidate: the constant (improved by Gauss–Seidel on A·B = 0) on the finest level, else
    // the coarse candidate produced by the level above.
    if index == 0 {
      level.candidate = [Double](repeating: 1, count: n)
      if options.candidateSweeps > 0 {
        let zero = [Double](repeating: 0, count: n)
        zero.withUnsafeBufferPointer { z in
          level.candidate.withUnsafeMutableBufferPointer { bp in
            level.diagonalPosition.withUnsafeBufferPointer { dp in
              for _ in 0..<options.candidateSweeps {
                forwardSweep(level, dp.baseAddress!, z.baseAddress!, bp.baseAddress!, fromZero: false)
                backwardSweep(level, dp.baseAddress!, z.baseAddress!, bp.baseAddress!)
              }
            }
          }
        }
      }
    }
    // Tentative prolongator: T(i, agg(i)) = B_i / ‖B restricted to the aggregate‖; the coarse
    // candidate is that norm.
    let agg = level.aggregate
    var norms = [Double](repeating: 0, count: level.aggregateCount)
    for i in 0..<n where agg[i] >= 0 { norms[Int(agg[i])] += level.candidate[i] * level.candidate[i] }
    for j in 0..<norms.count { norms[j] = norms[j].squareRoot() }
    level.tentative = [Double](repeating: 0, count: n)
    for i in 0..<n where agg[i] >= 0 && norms[Int(agg[i])] > 0 {
      level.tentative[i] = level.candidate[i] / norms[Int(agg[i])]
    }
    next.candidate = norms

    // ρ(D⁻¹A) and the smoothed prolongator P = T − (ω/ρ) D⁻¹ A T.
    let rho = AMGKernels.spectralRadiusEstimate(
      a, stencil: level.stencil, inverseDiagonal: level.inverseDiagonal, steps: options.spectralRadiusSteps)
    guard rho.isFinite && rho > 0 else {
      throw SolverSetupError.preconditionerBreakdown(
        "AMG: spectral radius estimate of D⁻¹A on level \(index) is \(rho); is the matrix SPD?")
    }
    level.spectralRadius = rho
    let p = level.p!
    let pv = p.values
    pv.update(repeating: 0, count: p.nonzeros)
    let omega = options.prolongationOmega / rho
    level.aToP.withUnsafeBufferPointer { aToP in
      level.tentative.withUnsafeBufferPointer { t in
        for i in 0..<n {
          let s = omega * level.inverseDiagonal[i]
          for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
            let q = Int(aToP[k])
            if q >= 0 { pv[q] -= s * a.values[k] * t[Int(a.columnIndices[k])] }
          }
          let q = Int(level.tToP[i])
          if q >= 0 { pv[q] += t[i] }
        }
      }
    }
    let r = level.restriction!
    level.rFromP.withUnsafeBufferPointer { src in
      for k in 0..<r.nonzeros { r.values[k] = pv[Int(src[k])] }
    }
    // Galerkin product A_c = R (A P).
    accumulator.withUnsafeMutableBufferPointer { acc in
      AMGKernels.productValues(a, p, into: level.ap!, accumulator: acc.baseAddress!)
      AMGKernels.productValues(r, level.ap!, into: next.a, accumulator: acc.baseAddress!)
    }
  }

  // MARK: - Update

  /// Refreshes the hierarchy for `matrix`, which must have the pattern the preconditioner was
  /// built for: aggregates and all sparsity patterns are kept; candidates, tentative and smoothed
  /// prolongators, spectral radii, Galerkin products and the coarse factorization are recomputed.
  public func update(_ matrix: CSRMatrix<Double>) throws {
    let t0 = monotonicSeconds()
    let fine = levels[0].a
    guard fine.hasPattern(of: matrix) else {
      throw SolverSetupError.invalidMatrix(
        "AMG update: the matrix (\(matrix.rows)×\(matrix.columns), \(matrix.nonzeroCount) entries) does not have the sparsity pattern the hierarchy was built for (\(fine.rows)×\(fine.columns), \(fine.nonzeros) entries)"
      )
    }
    if let k = matrix.values.firstIndex(where: { !$0.isFinite }) {
      throw SolverSetupError.invalidMatrix("AMG: entry \(k) of the matrix is \(matrix.values[k])")
    }
    matrix.values.withUnsafeBufferPointer { fine.values.update(from: $0.baseAddress!, count: fine.nonzeros) }
    for (index, level) in levels.enumerated() {
      try prepareSmoother(level, index: index)
      if index + 1 < levels.count { try computeTransfer(level, index: index, next: levels[index + 1]) }
    }
    try coarse.refactor(levels[levels.count - 1].a)
    updateSeconds = monotonicSeconds() - t0
  }

  // MARK: - Cycle

  /// z ← one V-cycle (or W-cycle) for A z = r from z = 0. Allocation-free.
  public func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
    cycle(0, r, z, zeroGuess: true)
  }

  private func cycle(_ l: Int, _ b: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>, zeroGuess: Bool) {
    if l == levels.count - 1 {
      coarse.solve(b, x)
      return
    }
    let level = levels[l]
    let a = level.a
    level.diagonalPosition.withUnsafeBufferPointer { diagonal in
      let dp = diagonal.baseAddress!
      var fromZero = zeroGuess
      if fromZero && options.presmoothingSweeps == 0 {
        x.update(repeating: 0, count: a.rows)
        fromZero = false
      }
      for _ in 0..<options.presmoothingSweeps {
        forwardSweep(level, dp, b, x, fromZero: fromZero)
        fromZero = false
        backwardSweep(level, dp, b, x)
      }
      if let stencil = level.stencil { stencil.residual(a, b, x, level.r) } else { a.residual(b, x, level.r) }
      let next = levels[l + 1]
      level.restriction!.multiply(level.r, next.b)
      cycle(l + 1, next.b, next.x, zeroGuess: true)
      if options.cycle == .w && l + 2 < levels.count { cycle(l + 1, next.b, next.x, zeroGuess: false) }
      level.p!.multiplyAdd(next.x, x)
      for _ in 0..<options.postsmoothingSweeps {
        forwardSweep(level, dp, b, x, fromZero: false)
        backwardSweep(level, dp, b, x)
      }
    }
  }

  // MARK: - Inspection

  /// Number of levels, the finest included.
  public var levelCount: Int { levels.count }

  /// Rows, stored entries and ρ(D⁻¹A) estimate of each level, finest first.
  public var levelSummaries: [AMGLevelSummary] {
    levels.enumerated().map { i, l in
      AMGLevelSummary(
        rows: l.a.rows, nonzeros: l.a.nonzeros, spectralRadius: i + 1 < levels.count ? l.spectralRadius : nil)
    }
  }

  /// The levels whose sweeps and residual use diagonal storage (see `AMGOptions.diagonalStorage`).
  public var diagonalStorageLevels: [Int] { levels.indices.filter { levels[$0].stencil != nil } }

  /// Σ nnz(A_l) / nnz(A_0).
  public var operatorComplexity: Double {
    Double(levels.reduce(0) { $0 + $1.a.nonzeros }) / Double(max(1, levels[0].a.nonzeros))
  }

  /// Σ rows(A_l) / rows(A_0).
  public var gridComplexity: Double {
    Double(levels.reduce(0) { $0 + $1.a.rows }) / Double(max(1, levels[0].a.rows))
  }

  /// The operator of level `l` (0 = the input matrix), as a copy.
  public func levelOperator(_ l: Int) -> CSRMatrix<Double> { levels[l].a.csr() }

  /// The smoothed prolongator from level `l + 1` to level `l` (rows(A_l) × rows(A_{l+1})), as a copy.
  public func prolongator(_ l: Int) -> CSRMatrix<Double> { levels[l].p!.csr() }

  /// The aggregate of each row of level `l` (−1: not aggregated).
  public func aggregates(_ l: Int) -> [Int32] { levels[l].aggregate }

  /// A table of the hierarchy: levels, sizes, nonzeros, complexities, coarse solver and timings.
  public var hierarchyDescription: String {
    var s =
      "SmoothedAggregationAMG: \(levels.count) levels, cycle \(options.cycle.rawValue), θ = \(options.strengthTheta)\n"
    s += " level      rows        nnz   nnz/row   ρ(D⁻¹A)\n"
    for (i, l) in levelSummaries.enumerated() {
      let perRow = Double(l.nonzeros) / Double(max(1, l.rows))
      let rho = l.spectralRadius.map { String(format: "%9.4f", $0) } ?? "        -"
      s += String(format: "%6d %9d %10d %9.2f ", i, l.rows, l.nonzeros, perRow) + rho + "\n"
    }
    s += String(format: "operator complexity %.3f, grid complexity %.3f\n", operatorComplexity, gridComplexity)
    s += "coarse solver: \(coarse.isDense ? "dense pseudo-inverse" : "CHOLMOD") (\(coarse.dimension) rows)\n"
    s += String(format: "setup %.4f s", setupSeconds)
    if updateSeconds > 0 { s += String(format: ", last update %.4f s", updateSeconds) }
    return s
  }
}
