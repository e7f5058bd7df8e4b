// Solving a sequence of related linear systems (a data set's samples): order them so that
// neighbours are similar, warm-start each from its predecessor's solution, and recycle a Krylov
// subspace (GCRO-DR, recycled CG) or run a baseline through LinearSolver.
//
// The setting is SKR (Wang et al., ICLR 2024: GCRO-DR(40, 20) in PETSc KSPHPDDM over systems sorted
// by a greedy nearest-neighbour chain); the methods are those of Parks et al., SIAM J. Sci. Comput. 28
// (2006) (GCRODR.swift) and Saad et al., SIAM J. Sci. Comput. 21 (2000) with RCG-style harvesting
// (RecycledCG.swift). API shape after LinearSolve.jl / Krylov.jl: an algorithm value, options, and a
// result with per-system stats.
import Foundation
import Numerics

/// The method `solveSequence` applies to every system.
public enum SequenceAlgorithm: Sendable, Equatable, CustomStringConvertible {
  /// GCRO-DR(m, k) with right preconditioning (nonsymmetric or indefinite systems), recycling
  /// across systems; defaults m = 40, k = 20 (SKR's setting), no preconditioner, warm start on.
  case gcrodr(m: Int = 40, k: Int = 20, preconditioner: PreconditionerKind = .none, warmStart: Bool = true)
  /// Deflated PCG with a harvested deflation space of dimension k (SPD systems, SPD
  /// preconditioner); defaults k = 10, no preconditioner, warm start on.
  case recycledCG(k: Int = 10, preconditioner: PreconditionerKind = .none, warmStart: Bool = true)
  /// Every system solved by `LinearSolver` (pattern reuse: refreshed preconditioners, reused symbolic
  /// factorizations), from zero or, with `warmStart`, from the previous system's solution.
  case independent(LinearSolverAlgorithm, warmStart: Bool = false)

  public var description: String {
    switch self {
    case .gcrodr(let m, let k, let p, let w):
      return "gcrodr(\(m),\(k))" + (p == .none ? "" : "+\(p)") + (w ? "+warm" : "")
    case .recycledCG(let k, let p, let w):
      return "recycled-cg(\(k))" + (p == .none ? "" : "+\(p)") + (w ? "+warm" : "")
    case .independent(let a, let w): return a.description + (w ? "+warm" : "")
    }
  }

  /// Whether each solve starts from the previous (in solve order) solution.
  public var warmStart: Bool {
    switch self {
    case .gcrodr(_, _, _, let w), .recycledCG(_, _, let w), .independent(_, let w): return w
    }
  }
}

/// The result of `solveSequence`: everything indexed in the ORIGINAL order of the systems.
public struct SequenceResult: Sendable {
  /// Solutions, `solutions[i]` for `systems[i]`.
  public var solutions: [[Double]]
  /// Statistics of each solve (`stats[i]` for `systems[i]`).
  public var stats: [SolverStats]
  /// What the recycling did for each system (empty values for the baselines).
  public var diagnostics: [RecyclingDiagnostics]
  /// The solve order: `permutation[j]` is the index of the j-th system solved.
  public var permutation: [Int]
  /// Σ ‖f_{π(j+1)} − f_{π(j)}‖ over the features along the solve order.
  public var pathLength: Double
  /// Seconds spent computing the ordering.
  public var orderingSeconds: Double
  /// Seconds of preconditioner construction / refresh (and factorization for direct baselines).
  public var setupSeconds: Double
  /// Σ of `stats[i].seconds` (iterations, recycled-space maintenance).
  public var solveSeconds: Double
  /// Wall-clock seconds of the whole call.
  public var totalSeconds: Double

  /// Σ of iterations over the sequence.
  public var totalIterations: Int { stats.reduce(0) { $0 + $1.iterations } }
  /// Whether every solve converged.
  public var allConverged: Bool { stats.allSatisfy(\.converged) }
  /// Number of systems in which the stale-subspace guard fired.
  public var guardEvents: Int { diagnostics.filter(\.guardFired).count }
}

/// Solves a sequence of linear systems, ordered for similarity, with recycling or a baseline.
///
/// ```
/// let result = try solveSequence(systems, algorithm: .gcrodr(m: 40, k: 20), ordering: .greedy,
///                                options: KrylovOptions(rtol: 1e-8))
/// print(result.totalIterations, result.totalSeconds, result.permutation)
/// let x7 = result.solutions[7]                   // solution of systems[7]
/// ```
///
/// - Parameters:
///   - systems: square systems of one size n (the matrix may change from system to system; the
///     preconditioner is refreshed with `update(matrix)` when the sparsity pattern is the same and
///     rebuilt otherwise).
///   - algorithm: `.gcrodr(m:k:preconditioner:warmStart:)`, `.recycledCG(k:preconditioner:warmStart:)`
///     or `.independent(LinearSolverAlgorithm, warmStart:)`.
///   - ordering: `.greedy` (default, SKR's nearest-neighbour chain), `.hilbert(...)` (cheap), or
///     `.identity`.
///   - features: one vector per system used for the ordering (the input fields that generated the
///     systems); default: the matrix values followed by the right-hand side.
///   - options: Krylov options for every solve (`rtol` 1e-8, `atol` 0, `maxIterations`, `history`);
///     the tolerance is relative to ‖b‖, also with a warm start.
///   - staleGuard: the stale-subspace guard of the recycling methods (default `StaleGuard()`).
/// - Returns: solutions, stats and diagnostics in the original order, the permutation used, its
///   path length and the timings (ordering, setup, solves, total).
/// - Throws: `SolverSetupError` for systems of different sizes, unusable matrices (see
///   `LinearSolver.validate`: a nonsymmetric matrix for recycled CG, NaN entries, ...), a failed
///   preconditioner, or features of different lengths; `DirectSolverError` from a direct baseline.
///   A solve that does not converge is reported through its stats, not thrown.
/// - Reference: Wang et al., ICLR 2024 (SKR); Parks et al., SIAM J. Sci. Comput. 28 (2006); Saad et
///   al., SIAM J. Sci. Comput. 21 (2000).
public func solveSequence(
  _ systems: [LinearSystem], algorithm: SequenceAlgorithm, ordering: SequenceOrdering = .greedy,
  features: [[Double]]? = nil, options: KrylovOptions = KrylovOptions(), staleGuard: StaleGuard = StaleGuard()
) throws -> SequenceResult {
  let start = monotonicSeconds()
  let count = systems.count
  guard let n = systems.first?.matrix.rows else {
    return SequenceResult(
      solutions: [], stats: [], diagnostics: [], permutation: [], pathLength: 0, orderingSeconds: 0, setupSeconds: 0,
      solveSeconds: 0, totalSeconds: 0)
  }
  if let i = systems.firstIndex(where: { $0.matrix.rows != n || $0.matrix.columns != n }) {
    throw SolverSetupError.dimensionMismatch(
      "system \(i) is \(systems[i].matrix.rows)×\(systems[i].matrix.columns); the sequence is \(n)×\(n)")
  }
  if let f = features, f.count != count {
    throw SolverSetupError.dimensionMismatch("\(f.count) feature vectors for \(count) systems")
  }

  // Ordering.
  let orderStart = monotonicSeconds()
  let featureVectors: [[Double]]?
  if let f = features {
    featureVectors = f
  } else {
    let length = systems[0].matrix.values.count
    featureVectors =
      systems.allSatisfy({ $0.matrix.values.count == length }) ? systems.map { $0.matrix.values + $0.rhs } : nil
  }
  let permutation: [Int]
  if let f = featureVectors {
    permutation = try ordering.permutation(f)
  } else if ordering == .identity {
    permutation = Array(0..<count)
  } else {
    throw SolverSetupError.dimensionMismatch(
      "the matrices have different numbers of entries; pass `features` to order the sequence")
  }
  let orderingSeconds = monotonicSeconds() - orderStart
  let pathLength = featureVectors.map { SequenceOrdering.pathLength($0, permutation) } ?? .nan

  var solutions = [[Double]](repeating: [], count: count)
  var stats = [SolverStats?](repeating: nil, count: count)
  var diagnostics = [RecyclingDiagnostics](repeating: RecyclingDiagnostics(), count: count)
  var setupSeconds = 0.0
  var previous: [Double]?

  /// Visits the systems in `permutation` order with one recycling workspace (`solve`), refreshing
  /// the preconditioner when the matrix changes and warm-starting from the previous solution.
  func runRecycling(
    validator algorithm: LinearSolverAlgorithm, kind: PreconditionerKind, warm: Bool,
    solve: (CSRMatrix<Double>, [Double], inout [Double], Preconditioner?, Bool) -> (SolverStats, RecyclingDiagnostics)
  ) throws {
    let validator = LinearSolver(algorithm)
    var preconditioners = SequencePreconditioner(kind: kind)
    for i in permutation {
      let system = systems[i]
      try validator.validate(system)
      let t = monotonicSeconds()
      let changed = try preconditioners.prepare(system.matrix)
      setupSeconds += monotonicSeconds() - t
      var x = (warm ? previous : nil) ?? [Double](repeating: 0, count: n)
      (stats[i], diagnostics[i]) = solve(system.matrix, system.rhs, &x, preconditioners.current, changed)
      solutions[i] = x
      previous = x
    }
  }

  switch algorithm {
  case .independent(let method, let warm):
    let solver = LinearSolver(method, options: options)
    for i in permutation {
      let solution = try solver.solve(systems[i], initialGuess: warm ? previous : nil)
      setupSeconds += solution.setupSeconds
      solutions[i] = solution.x
      stats[i] = solution.stats
      previous = solution.x
    }

  case .gcrodr(let m, let k, let kind, let warm):
    let solver = GCRODR(dimension: n, restart: m, recycle: k, staleGuard: staleGuard)
    try runRecycling(validator: .gmres(restart: m, preconditioner: kind), kind: kind, warm: warm) {
      (a, b, x, pc, changed) in
      (solver.solve(a, b, &x, preconditioner: pc, options: options, operatorChanged: changed), solver.lastDiagnostics)
    }

  case .recycledCG(let k, let kind, let warm):
    let solver = RecycledCG(dimension: n, recycle: k, staleGuard: staleGuard)
    try runRecycling(validator: .cg(preconditioner: kind), kind: kind, warm: warm) { (a, b, x, pc, changed) in
      (solver.solve(a, b, &x, preconditioner: pc, options: options, operatorChanged: changed), solver.lastDiagnostics)
    }
  }
  let finalStats = stats.map { $0! }
  return SequenceResult(
    solutions: solutions, stats: finalStats, diagnostics: diagnostics, permutation: permutation,
    pathLength: pathLength, orderingSeconds: orderingSeconds, setupSeconds: setupSeconds,
    solveSeconds: finalStats.reduce(0) { $0 + $1.seconds }, totalSeconds: monotonicSeconds() - start)
}

/// The preconditioner of a recycling sequence: refreshed in place for a matrix with the previous
/// sparsity pattern, rebuilt otherwise; remembers the previous matrix to tell whether the operator
/// changed.
struct SequencePreconditioner {
  let kind: PreconditionerKind
  var current: Preconditioner?
  var previous: CSRMatrix<Double>?

  init(kind: PreconditionerKind) { self.kind = kind }

  /// Makes the preconditioner fit `matrix`; returns whether the operator (A or M) changed.
  mutating func prepare(_ matrix: CSRMatrix<Double>) throws -> Bool {
    guard let old = previous else {
      current = try kind.make(for: matrix)
      previous = matrix
      return true
    }
    let samePattern = old.rowPointers == matrix.rowPointers && old.columnIndices == matrix.columnIndices
    if samePattern && old.values == matrix.values { return false }
    if samePattern, let pc = current {
      try pc.update(matrix)
    } else {
      current = try kind.make(for: matrix)
    }
    previous = matrix
    return true
  }
}
