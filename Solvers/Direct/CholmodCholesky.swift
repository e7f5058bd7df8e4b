// Sparse Cholesky factorization A = L·Lᵀ (or L·D·Lᵀ) through SuiteSparse CHOLMOD
// (Chen, Davis, Hager, Rajamanickam, "Algorithm 887: CHOLMOD, supernodal sparse Cholesky
// factorization and update/downdate", ACM TOMS 35(3), 2008).
//
// The symbolic analysis (fill-reducing ordering, elimination tree, supernodes) is done once per
// sparsity pattern; `refactor(values:)` redoes only the numeric factorization for a matrix with
// the same pattern, and `solve` is a pair of triangular solves. This is the right tool for a
// sequence of SPD systems that share one pattern (or one matrix) — the case the SKR paper solves
// with GMRES. It does not check symmetry beyond using the upper triangle: pass a symmetric matrix.
import CSuiteSparse
import Foundation
import Numerics

/// A reusable sparse Cholesky factorization of a symmetric positive definite matrix (CHOLMOD).
///
/// ```
/// let chol = try CholmodCholesky(a)           // analyze + factorize (a: symmetric CSRMatrix<Double>)
/// let x = try chol.solve(b)                  // b: [Double]
/// try chol.refactor(values: a2.values)       // same pattern, new values: numeric step only
/// let xs = try chol.solve(columns: [b1, b2]) // several right-hand sides in one CHOLMOD call
/// ```
///
/// Not thread-safe: use one instance per thread.
public final class CholmodCholesky {
  /// Order of the matrix.
  public let dimension: Int
  /// The analyzed matrix; `refactor` swaps in new values on the same pattern.
  var matrix: CSRMatrix<Double>
  let common: UnsafeMutablePointer<cholmod_common>
  var factor: UnsafeMutablePointer<cholmod_factor>?
  /// The error of the last numeric factorization, rethrown by `solve` (never solve with a failed factor).
  var factorError: DirectSolverError? = .invalidArgument("CHOLMOD: no numeric factorization yet")
  /// Seconds spent in the symbolic analysis (done once).
  public private(set) var analyzeSeconds = 0.0
  /// Seconds spent in the last numeric factorization.
  public private(set) var factorSeconds = 0.0

  /// Analyzes and factorizes `matrix`, which must be square and symmetric (upper triangle used).
  ///
  /// - Throws: `DirectSolverError.invalidArgument` if `matrix` is not square,
  ///   `.notPositiveDefinite(column:)` if a pivot is zero or negative (singular or indefinite),
  ///   `.cholmod` for a CHOLMOD failure (out of memory, ...).
  public convenience init(_ matrix: CSRMatrix<Double>) throws {
    try self.init(analyzing: matrix)
    try refactor(values: matrix.values)
  }

  /// Symbolic analysis only; `refactor(values:)` must follow before `solve`.
  init(analyzing matrix: CSRMatrix<Double>) throws {
    guard matrix.rows == matrix.columns else {
      throw DirectSolverError.invalidArgument("Cholesky needs a square matrix, got \(matrix.rows)×\(matrix.columns)")
    }
    dimension = matrix.rows
    self.matrix = matrix
    common = .allocate(capacity: 1)
    cholmod_start(common)
    // CHOLMOD would print its own warnings to stderr; PDEKit reports them as DirectSolverError.
    common.pointee.print = 0
    // CHOLMOD chooses simplicial or supernodal by the flop count (simplicial is 3–4× faster on
    // small 2D problems); final_ll makes the simplicial path an LL' factorization, which stops at
    // a non-positive pivot and reports the column, as the supernodal path does.
    common.pointee.supernodal = Int32(CHOLMOD_AUTO)
    common.pointee.final_ll = 1
    let t0 = directSolverClock()
    factor = matrix.withCholmodViewOfTranspose(stype: 1) { a in cholmod_analyze(&a, common) }
    analyzeSeconds = directSolverClock() - t0
    // Fully initialized: deinit releases `common` when this throws.
    guard factor != nil else {
      throw DirectSolverError.cholmod(status: common.pointee.status, context: "analyzing the sparsity pattern")
    }
  }

  deinit {
    if factor != nil { cholmod_free_factor(&factor, common) }
    cholmod_finish(common)
    common.deallocate()
  }

  /// Numeric refactorization for a matrix with the analyzed pattern and new `values` (CSR order).
  ///
  /// - Throws: `.patternChanged` if `values.count` is not the analyzed number of entries,
  ///   `.notPositiveDefinite(column:)` (column of the caller's matrix) for a zero or negative pivot,
  ///   `.cholmod` for a CHOLMOD failure. After a failure `solve` rethrows the error until a
  ///   refactorization succeeds.
  public func refactor(values: [Double]) throws {
    guard values.count == matrix.nonzeroCount else {
      throw DirectSolverError.patternChanged(
        "refactor: \(values.count) values for a pattern of \(matrix.nonzeroCount) entries")
    }
    matrix.values = values
    factorError = nil
    let t0 = directSolverClock()
    let ok = matrix.withCholmodViewOfTranspose(stype: 1) { a in cholmod_factorize(&a, factor, common) }
    factorSeconds = directSolverClock() - t0
    var error: DirectSolverError?
    if ok == 0 || common.pointee.status < 0 {
      error = .cholmod(status: common.pointee.status, context: "factorizing")
    } else if common.pointee.status == CHOLMOD_NOT_POSDEF {
      // `minor` is a column of the permuted matrix P·A·Pᵀ; Perm maps it back to A's numbering.
      let f = factor!.pointee
      var column = Int(f.minor)
      if column < dimension, let perm = f.Perm { column = Int(perm.assumingMemoryBound(to: Int32.self)[column]) }
      error = .notPositiveDefinite(column: column)
    }
    if let error {
      factorError = error
      throw error
    }
  }

  /// Numeric refactorization for `matrix`, after checking that it has the analyzed sparsity pattern.
  ///
  /// - Throws: `.patternChanged` (describing the first difference) if the pattern differs, else as
  ///   `refactor(values:)`.
  public func refactor(_ matrix: CSRMatrix<Double>) throws {
    if let d = SparsityPattern(self.matrix).difference(from: SparsityPattern(matrix)) {
      throw DirectSolverError.patternChanged(d)
    }
    try refactor(values: matrix.values)
  }

  /// Solves A·x = b.
  ///
  /// - Parameter b: right-hand side, `dimension` entries.
  /// - Returns: x, `dimension` entries.
  /// - Throws: `.invalidArgument` for a wrong length, the last factorization's error if it failed,
  ///   `.cholmod` if CHOLMOD fails.
  public func solve(_ b: [Double]) throws -> [Double] {
    guard b.count == dimension else {
      throw DirectSolverError.invalidArgument(
        "solve: right-hand side has \(b.count) entries, matrix order is \(dimension)")
    }
    return try solve(columnMajor: b, rhsCount: 1)
  }

  /// Solves A·X = B for k right-hand sides given as k columns, in one CHOLMOD call.
  ///
  /// - Parameter columns: the k columns of B, each with `dimension` entries (k may be 0).
  /// - Returns: the k columns of X.
  /// - Throws: as `solve(_:)`.
  public func solve(columns: [[Double]]) throws -> [[Double]] {
    if let bad = columns.firstIndex(where: { $0.count != dimension }) {
      throw DirectSolverError.invalidArgument(
        "solve: right-hand side \(bad) has \(columns[bad].count) entries, matrix order is \(dimension)")
    }
    let x = try solve(columnMajor: Array(columns.joined()), rhsCount: columns.count)
    return (0..<columns.count).map { Array(x[$0 * dimension..<($0 + 1) * dimension]) }
  }

  /// Solves A·X = B for an n×k block B stored column-major (column j is `b[j*n..<(j+1)*n]`), in
  /// one `cholmod_solve` call.
  ///
  /// - Parameters:
  ///   - b: n·k entries, column-major.
  ///   - rhsCount: k.
  /// - Returns: X, n·k entries, column-major.
  /// - Throws: as `solve(_:)`.
  public func solve(columnMajor b: [Double], rhsCount k: Int) throws -> [Double] {
    guard k >= 0, b.count == dimension * k else {
      throw DirectSolverError.invalidArgument(
        "solve: \(b.count) right-hand-side entries for \(k) columns of \(dimension)")
    }
    if let factorError { throw factorError }
    if k == 0 || dimension == 0 { return b }
    var rhs = b
    return try rhs.withUnsafeMutableBufferPointer { bp in
      var dense = cholmod_dense()
      dense.nrow = dimension
      dense.ncol = k
      dense.nzmax = dimension * k
      dense.d = dimension
      dense.x = UnsafeMutableRawPointer(bp.baseAddress)
      dense.z = nil
      dense.xtype = CHOLMOD_REAL
      dense.dtype = CHOLMOD_DOUBLE
      guard let x = cholmod_solve(CHOLMOD_A, factor, &dense, common) else {
        throw DirectSolverError.cholmod(status: common.pointee.status, context: "solving")
      }
      var owned: UnsafeMutablePointer<cholmod_dense>? = x
      defer { cholmod_free_dense(&owned, common) }
      let xp = x.pointee.x.assumingMemoryBound(to: Double.self)
      let ld = x.pointee.d
      if ld == dimension { return Array(UnsafeBufferPointer(start: xp, count: dimension * k)) }
      var out = [Double]()
      out.reserveCapacity(dimension * k)
      for j in 0..<k { out.append(contentsOf: UnsafeBufferPointer(start: xp + j * ld, count: dimension)) }
      return out
    }
  }

  /// CHOLMOD's version as "major.minor.patch".
  public static var version: String { "\(CHOLMOD_MAIN_VERSION).\(CHOLMOD_SUB_VERSION).\(CHOLMOD_SUBSUB_VERSION)" }
  /// SuiteSparse's version as "major.minor.patch".
  public static var suiteSparseVersion: String {
    "\(SUITESPARSE_MAIN_VERSION).\(SUITESPARSE_SUB_VERSION).\(SUITESPARSE_SUBSUB_VERSION)"
  }
}
