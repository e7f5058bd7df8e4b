// The problem / algorithm / workspace interface over PDEKit's solvers, after LinearSolve.jl
// (problem, algorithm value, cache: init once, then solve, change A or b, solve again) and
// Krylov.jl (preallocated workspaces, stats with a plain-words status).
import Foundation
import Numerics

/// A linear system A x = b with a sparse matrix.
public struct LinearSystem: Sendable {
  /// The matrix A (square).
  public var matrix: CSRMatrix<Double>
  /// The right-hand side b.
  public var rhs: [Double]
  /// Whether A is exactly symmetric by construction (as a `DiscreteProblem` says in `isSymmetric`).
  /// `LinearSolver` then skips its O(nnz) symmetry check before CG, MINRES and CHOLMOD (debug
  /// builds still check). Leave it false for a matrix from elsewhere: CG and CHOLMOD give wrong
  /// answers, without warning, for a nonsymmetric matrix that skipped the check.
  public var symmetricByConstruction: Bool

  public init(matrix: CSRMatrix<Double>, rhs: [Double], symmetricByConstruction: Bool = false) {
    self.matrix = matrix
    self.rhs = rhs
    self.symmetricByConstruction = symmetricByConstruction
  }
}

/// Which preconditioner a Krylov method uses.
public enum PreconditionerKind: Sendable, Equatable, CustomStringConvertible {
  /// No preconditioning.
  case none
  /// Diagonal scaling.
  case jacobi
  /// Symmetric SOR with relaxation ω ∈ (0, 2).
  case ssor(omega: Double)
  /// Incomplete Cholesky with zero fill (SPD M-matrices).
  case ic0
  /// Incomplete LU with zero fill (nonsymmetric).
  case ilu0
  /// Smoothed-aggregation algebraic multigrid, one V-cycle (pyamg's defaults).
  case amg

  public var description: String {
    switch self {
    case .none: return "none"
    case .jacobi: return "jacobi"
    case .ssor(let w): return w == 1 ? "ssor" : "ssor(\(w))"
    case .ic0: return "ic0"
    case .ilu0: return "ilu0"
    case .amg: return "amg"
    }
  }

  /// Whether the preconditioner is SPD for SPD A (required by CG and MINRES).
  public var isSymmetric: Bool { self != .ilu0 }

  /// Builds the preconditioner for `matrix` (nil for `.none`).
  public func make(for matrix: CSRMatrix<Double>) throws -> Preconditioner? {
    switch self {
    case .none: return nil
    case .jacobi: return try JacobiPreconditioner(matrix)
    case .ssor(let w): return try SSORPreconditioner(matrix, omega: w)
    case .ic0: return try IncompleteCholeskyPreconditioner(matrix)
    case .ilu0: return try IncompleteLUPreconditioner(matrix)
    case .amg: return try SmoothedAggregationAMG(matrix)
    }
  }
}

/// A solution method: a direct factorization or a Krylov method with its options.
public enum LinearSolverAlgorithm: Sendable, Equatable, CustomStringConvertible {
  /// Sparse Cholesky (SPD matrices), symbolic analysis reused across matrices of one pattern.
  case cholmod
  /// Sparse LU (general square matrices), symbolic analysis reused across one pattern.
  case umfpack
  /// Preconditioned conjugate gradients (symmetric positive definite A and M).
  case cg(preconditioner: PreconditionerKind = .none)
  /// MINRES (symmetric A, SPD preconditioner).
  case minres(preconditioner: PreconditionerKind = .none)
  /// Restarted GMRES(m), right preconditioning.
  case gmres(restart: Int = 30, preconditioner: PreconditionerKind = .none)
  /// Flexible GMRES(m).
  case fgmres(restart: Int = 30, preconditioner: PreconditionerKind = .none)
  /// BiCGStab, right preconditioning.
  case bicgstab(preconditioner: PreconditionerKind = .none)

  public var description: String {
    switch self {
    case .cholmod: return "cholmod"
    case .umfpack: return "umfpack"
    case .cg(let p): return "cg" + (p == .none ? "" : "+\(p)")
    case .minres(let p): return "minres" + (p == .none ? "" : "+\(p)")
    case .gmres(let m, let p): return "gmres(\(m))" + (p == .none ? "" : "+\(p)")
    case .fgmres(let m, let p): return "fgmres(\(m))" + (p == .none ? "" : "+\(p)")
    case .bicgstab(let p): return "bicgstab" + (p == .none ? "" : "+\(p)")
    }
  }

  var preconditioner: PreconditionerKind {
    switch self {
    case .cholmod, .umfpack: return .none
    case .cg(let p), .minres(let p), .bicgstab(let p): return p
    case .gmres(_, let p), .fgmres(_, let p): return p
    }
  }

  /// Whether the method requires a symmetric matrix.
  var needsSymmetry: Bool {
    switch self {
    case .cholmod, .cg, .minres: return true
    default: return false
    }
  }
}

/// The result of `LinearSolver.solve`.
public struct LinearSolution: Sendable {
  /// The solution x.
  public var x: [Double]
  /// Statistics of the solve (`stats.seconds` excludes setup).
  public var stats: SolverStats
  /// Seconds spent on setup for this solve: factorization or preconditioner construction/refresh.
  public var setupSeconds: Double
  /// Whether setup reused the previous sparsity pattern (numeric refresh only).
  public var reusedPattern: Bool
}

/// Solves a sequence of linear systems with one algorithm, reusing whatever it can.
///
/// ```
/// let solver = LinearSolver(.cg(preconditioner: .amg), options: KrylovOptions(rtol: 1e-8))
/// let first = try solver.solve(LinearSystem(matrix: a1, rhs: b1))
/// let second = try solver.solve(LinearSystem(matrix: a2, rhs: b2))   // same pattern: AMG refreshed, not rebuilt
/// ```
///
/// A matrix with the sparsity pattern of the previous one keeps the symbolic factorization
/// (CHOLMOD/UMFPACK) or the preconditioner's structure (AMG aggregates, IC/ILU pattern) and only
/// recomputes numbers; a different pattern triggers a full setup — never a stale factor.
/// Throws `SolverSetupError` for unusable input (non-square A, wrong b length, NaN or Inf
/// entries, a nonsymmetric matrix for CG/MINRES/CHOLMOD) and `DirectSolverError` for a failed
/// factorization. An iterative solve that does not converge returns normally with
/// `stats.reason` saying why: check `stats.converged`.
public final class LinearSolver {
  /// The algorithm.
  public let algorithm: LinearSolverAlgorithm
  /// Krylov options (ignored by the direct methods).
  public var options: KrylovOptions
  /// Number of full setups (new pattern) so far.
  public private(set) var fullSetups = 0
  /// Number of numeric-only refreshes (same pattern) so far.
  public private(set) var refreshes = 0

  var pattern: (rowPointers: [Int32], columnIndices: [Int32])?
  var direct: DirectSolverWorkspace?
  var preconditioner: Preconditioner?
  var krylov: AnyObject?

  public init(_ algorithm: LinearSolverAlgorithm, options: KrylovOptions = KrylovOptions()) {
    self.algorithm = algorithm
    self.options = options
  }

  /// Checks the system and says what is wrong with it, if anything.
  public func validate(_ system: LinearSystem) throws {
    let a = system.matrix
    guard a.rows == a.columns else {
      throw SolverSetupError.invalidMatrix("the matrix is \(a.rows)×\(a.columns); a linear solve needs a square matrix")
    }
    guard system.rhs.count == a.rows else {
      throw SolverSetupError.dimensionMismatch(
        "the matrix has \(a.rows) rows but the right-hand side has \(system.rhs.count) entries")
    }
    if let k = a.values.firstIndex(where: { !$0.isFinite }) {
      let row = a.rowPointers.lastIndex(where: { Int($0) <= k }) ?? 0
      throw SolverSetupError.invalidMatrix("entry \(k) (row \(row), column \(a.columnIndices[k])) is \(a.values[k])")
    }
    if let i = system.rhs.firstIndex(where: { !$0.isFinite }) {
      throw SolverSetupError.invalidMatrix("right-hand side entry \(i) is \(system.rhs[i])")
    }
    if algorithm.needsSymmetry {
      let scale = a.values.withUnsafeBufferPointer { v in
        var m = 0.0
        for x in v { m = max(m, abs(x)) }
        return m
      }
      assert(
        !system.symmetricByConstruction || a.isSymmetric(tolerance: 1e-12 * scale), "symmetricByConstruction is false")
      guard system.symmetricByConstruction || a.isSymmetric(tolerance: 1e-12 * scale) else {
        throw SolverSetupError.invalidMatrix(
          "\(algorithm) needs a symmetric matrix and this one is not; use --method gmres, bicgstab or umfpack")
      }
    }
    if !algorithm.preconditioner.isSymmetric && (algorithm.needsSymmetry) {
      throw SolverSetupError.invalidMatrix(
        "\(algorithm.preconditioner) is not a symmetric preconditioner; \(algorithm) needs jacobi, ssor, ic0 or amg")
    }
  }

  /// Solves `system`, starting from `initialGuess` (zero when nil) for the Krylov methods.
  public func solve(_ system: LinearSystem, initialGuess: [Double]? = nil) throws -> LinearSolution {
    try validate(system)
    let a = system.matrix
    let n = a.rows
    if let g = initialGuess, g.count != n {
      throw SolverSetupError.dimensionMismatch("the initial guess has \(g.count) entries, the system \(n)")
    }
    let samePattern = pattern.map { $0.rowPointers == a.rowPointers && $0.columnIndices == a.columnIndices } ?? false
    let setupStart = monotonicSeconds()
    switch algorithm {
    case .cholmod, .umfpack:
      let workspace = direct ?? DirectSolverWorkspace(kind: algorithm == .cholmod ? .cholmod : .umfpack)
      direct = workspace
      try workspace.factor(a)
      let setup = monotonicSeconds() - setupStart
      let t0 = monotonicSeconds()
      let x = try workspace.solve(system.rhs)
      let seconds = monotonicSeconds() - t0
      recordPattern(a, samePattern)
      let residual = try relativeResidual(a, x, system.rhs)
      return LinearSolution(
        x: x,
        stats: SolverStats(
          method: algorithm.description, iterations: 0, relativeResidual: residual, seconds: seconds,
          reason: .converged),
        setupSeconds: setup, reusedPattern: samePattern)
    default:
      if samePattern, let pc = preconditioner {
        try pc.update(a)
      } else {
        preconditioner = try algorithm.preconditioner.make(for: a)
      }
      let setup = monotonicSeconds() - setupStart
      recordPattern(a, samePattern)
      var x = initialGuess ?? [Double](repeating: 0, count: n)
      let stats: SolverStats
      switch algorithm {
      case .cg:
        let w =
          (krylov as? ConjugateGradient).flatMap { $0.dimension == n ? $0 : nil } ?? ConjugateGradient(dimension: n)
        krylov = w
        stats = w.solve(a, system.rhs, &x, preconditioner: preconditioner, options: options)
      case .minres:
        let w = (krylov as? MINRES).flatMap { $0.dimension == n ? $0 : nil } ?? MINRES(dimension: n)
        krylov = w
        stats = w.solve(a, system.rhs, &x, preconditioner: preconditioner, options: options)
      case .gmres(let m, _):
        let w = (krylov as? GMRES).flatMap { $0.dimension == n ? $0 : nil } ?? GMRES(dimension: n, restart: m)
        krylov = w
        stats = w.solve(a, system.rhs, &x, preconditioner: preconditioner, options: options)
      case .fgmres(let m, _):
        let w = (krylov as? FGMRES).flatMap { $0.dimension == n ? $0 : nil } ?? FGMRES(dimension: n, restart: m)
        krylov = w
        stats = w.solve(a, system.rhs, &x, preconditioner: preconditioner, options: options)
      case .bicgstab:
        let w = (krylov as? BiCGStab).flatMap { $0.dimension == n ? $0 : nil } ?? BiCGStab(dimension: n)
        krylov = w
        stats = w.solve(a, system.rhs, &x, preconditioner: preconditioner, options: options)
      case .cholmod, .umfpack:
        fatalError("unreachable: direct methods handled above")
      }
      return LinearSolution(x: x, stats: stats, setupSeconds: setup, reusedPattern: samePattern)
    }
  }

  private func recordPattern(_ a: CSRMatrix<Double>, _ same: Bool) {
    if same {
      refreshes += 1
    } else {
      fullSetups += 1
      pattern = (a.rowPointers, a.columnIndices)
    }
  }

  private func relativeResidual(_ a: CSRMatrix<Double>, _ x: [Double], _ b: [Double]) throws -> Double {
    var ax = [Double](repeating: 0, count: b.count)
    x.withUnsafeBufferPointer { xp in ax.withUnsafeMutableBufferPointer { a.apply(xp.baseAddress!, $0.baseAddress!) } }
    var r2 = 0.0
    var b2 = 0.0
    for i in 0..<b.count {
      let d = b[i] - ax[i]
      r2 += d * d
      b2 += b[i] * b[i]
    }
    return b2 > 0 ? (r2 / b2).squareRoot() : r2.squareRoot()
  }

}
