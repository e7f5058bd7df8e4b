// A direct-solver workspace for a sequence of matrices: it keeps the symbolic analysis while the
// sparsity pattern stays the same and redoes it when the pattern changes. Comparing the whole
// pattern (not just the dimensions or the number of entries) is what keeps a stale factorization
// from being reused on a new pattern — the trap of LinearSolve.jl issue #1060, where a cached
// symbolic factorization was silently reused after the pattern changed.
import Foundation
import Numerics

/// Factors a sequence of sparse matrices with CHOLMOD (symmetric positive definite) or UMFPACK
/// (general square), reusing the symbolic analysis while the sparsity pattern is unchanged.
///
/// ```
/// let ws = DirectSolverWorkspace(kind: .umfpack)
/// for a in matrices {                 // same pattern: one analysis, one numeric step each
///   try ws.factor(a)
///   let x = try ws.solve(b)
/// }
/// #expect(ws.symbolicAnalyses == 1)
/// ```
///
/// The pattern is compared in full (dimensions, row pointers, column indices) on every `factor`:
/// a different pattern, even with the same order and number of entries, triggers a new symbolic
/// analysis. For `.cholmod` the matrix must be symmetric (only its upper triangle is read).
/// Not thread-safe: use one workspace per thread.
public final class DirectSolverWorkspace {
  /// Which factorization to use.
  public enum Kind: String, Sendable, CaseIterable {
    /// Sparse Cholesky L·Lᵀ (CHOLMOD, supernodal) for symmetric positive definite matrices.
    case cholmod
    /// Sparse LU (UMFPACK) for general square matrices.
    case umfpack
  }

  enum Factorization {
    case cholmod(CholmodCholesky)
    case umfpack(UmfpackLU)
  }

  /// The factorization kind chosen at creation.
  public let kind: Kind
  var current: Factorization?
  var pattern: SparsityPattern?
  /// Number of symbolic analyses done so far (one per distinct consecutive pattern).
  public private(set) var symbolicAnalyses = 0
  /// Number of numeric factorizations attempted so far (including ones that failed).
  public private(set) var numericFactorizations = 0
  /// Total seconds spent in symbolic analyses.
  public private(set) var symbolicSeconds = 0.0
  /// Total seconds spent in numeric factorizations.
  public private(set) var numericSeconds = 0.0
  /// Seconds of the last numeric factorization.
  public private(set) var lastNumericSeconds = 0.0
  /// Why the last new analysis was needed (the first pattern difference found), nil if the
  /// pattern never changed.
  public private(set) var lastPatternChange: String?

  /// An empty workspace; the first `factor` call analyzes.
  ///
  /// - Parameter kind: `.cholmod` for symmetric positive definite matrices, `.umfpack` for general
  ///   square ones.
  public init(kind: Kind) {
    self.kind = kind
  }

  /// Order of the factored matrix, nil before the first successful analysis.
  public var dimension: Int? {
    switch current {
    case .cholmod(let c): return c.dimension
    case .umfpack(let u): return u.dimension
    case nil: return nil
    }
  }

  /// Factors `a`: a numeric refactorization if `a` has the pattern analyzed last, else a new
  /// symbolic analysis followed by a numeric factorization.
  ///
  /// - Parameter a: square matrix (symmetric positive definite for `.cholmod`).
  /// - Throws: `.invalidArgument` for a non-square matrix; for `.cholmod`
  ///   `.notPositiveDefinite(column:)` or `.cholmod`; for `.umfpack` `.singular(column:)` or
  ///   `.umfpack(status:message:)`. After a failed numeric step `solve` rethrows that error until a
  ///   later `factor` succeeds; the analysis is kept for the next matrix with the same pattern.
  public func factor(_ a: CSRMatrix<Double>) throws {
    let p = SparsityPattern(a)
    if let current, let pattern, pattern.difference(from: p) == nil {
      try numericStep(current, a.values)
      return
    }
    if let pattern { lastPatternChange = pattern.difference(from: p) }
    // Drop the old factorization first: if the new analysis fails, nothing stale remains.
    current = nil
    pattern = nil
    let f: Factorization
    switch kind {
    case .cholmod:
      let c = try CholmodCholesky(analyzing: a)
      symbolicSeconds += c.analyzeSeconds
      f = .cholmod(c)
    case .umfpack:
      let u = try UmfpackLU(analyzing: a)
      symbolicSeconds += u.analyzeSeconds
      f = .umfpack(u)
    }
    symbolicAnalyses += 1
    current = f
    pattern = p
    try numericStep(f, a.values)
  }

  func numericStep(_ f: Factorization, _ values: [Double]) throws {
    numericFactorizations += 1
    defer {
      switch f {
      case .cholmod(let c): lastNumericSeconds = c.factorSeconds
      case .umfpack(let u): lastNumericSeconds = u.factorSeconds
      }
      numericSeconds += lastNumericSeconds
    }
    switch f {
    case .cholmod(let c): try c.refactor(values: values)
    case .umfpack(let u): try u.refactor(values: values)
    }
  }

  func factorization() throws -> Factorization {
    guard let current else { throw DirectSolverError.invalidArgument("solve: call factor(_:) first") }
    return current
  }

  /// Solves A·x = b with the current factorization.
  ///
  /// - Parameter b: right-hand side, `dimension` entries.
  /// - Returns: x.
  /// - Throws: `.invalidArgument` before `factor` or for a wrong length; the last factorization's
  ///   error if it failed; a CHOLMOD/UMFPACK solve error.
  public func solve(_ b: [Double]) throws -> [Double] {
    switch try factorization() {
    case .cholmod(let c): return try c.solve(b)
    case .umfpack(let u): return try u.solve(b)
    }
  }

  /// Solves A·X = B for k right-hand sides (the columns of B) with one factorization: one
  /// `cholmod_solve` call on an n×k block for CHOLMOD, column after column for UMFPACK (which has
  /// no block solve).
  ///
  /// - Parameter columns: the k columns of B, each with `dimension` entries.
  /// - Returns: the k columns of X.
  /// - Throws: as `solve(_:)`.
  public func solve(columns: [[Double]]) throws -> [[Double]] {
    switch try factorization() {
    case .cholmod(let c): return try c.solve(columns: columns)
    case .umfpack(let u): return try u.solve(columns: columns)
    }
  }
}
