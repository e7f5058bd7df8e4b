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

/// Errors from the direct solvers.
public enum DirectSolverError: Error, CustomStringConvertible, LocalizedError, Equatable {
  /// The matrix is not (numerically) positive definite; `column` is where the factorization stopped.
  case notPositiveDefinite(column: Int)
  /// CHOLMOD reported an error (out of memory, invalid input, ...).
  case cholmod(status: Int32, context: String)
  /// Dimensions or pattern do not match the analyzed matrix.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .notPositiveDefinite(let c):
      return
        "CHOLMOD: the matrix is not positive definite (factorization failed at column \(c)); use an LU or Krylov solver for indefinite systems"
    case .cholmod(let s, let c): return "CHOLMOD error \(s) while \(c)"
    case .invalidArgument(let s): return s
    }
  }
  public var errorDescription: String? { description }
}

/// A reusable sparse Cholesky factorization of a symmetric positive definite matrix (CHOLMOD).
///
/// ```
/// let chol = try CholmodCholesky(a)           // analyze + factorize (a: symmetric CSRMatrix<Double>)
/// let x = try chol.solve(b)                  // b: [Double]
/// try chol.refactor(values: a2.values)       // same pattern, new values: numeric step only
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
  /// Seconds spent in the symbolic analysis (done once).
  public private(set) var analyzeSeconds = 0.0
  /// Seconds spent in the last numeric factorization.
  public private(set) var factorSeconds = 0.0

  /// Analyzes and factorizes `matrix`, which must be square and symmetric (upper triangle used).
  public init(_ matrix: CSRMatrix<Double>) throws {
    guard matrix.rows == matrix.columns else {
      throw DirectSolverError.invalidArgument("Cholesky needs a square matrix, got \(matrix.rows)×\(matrix.columns)")
    }
    dimension = matrix.rows
    self.matrix = matrix
    common = .allocate(capacity: 1)
    cholmod_start(common)
    // Always supernodal LL': it is fast on 2D/3D PDE matrices and, unlike the simplicial LDL'
    // path CHOLMOD picks for small matrices, it stops and reports an indefinite matrix.
    common.pointee.supernodal = Int32(CHOLMOD_SUPERNODAL)
    let t0 = Date()
    factor = matrix.withCholmodViewOfTranspose(stype: 1) { a in cholmod_analyze(&a, common) }
    analyzeSeconds = Date().timeIntervalSince(t0)
    guard factor != nil else {
      let status = common.pointee.status
      cholmod_finish(common)
      common.deallocate()
      throw DirectSolverError.cholmod(status: status, context: "analyzing the sparsity pattern")
    }
    try refactor(values: matrix.values)
  }

  deinit {
    if factor != nil { cholmod_free_factor(&factor, common) }
    cholmod_finish(common)
    common.deallocate()
  }

  /// Numeric refactorization for a matrix with the analyzed pattern and new `values` (CSR order).
  public func refactor(values: [Double]) throws {
    guard values.count == matrix.nonzeroCount else {
      throw DirectSolverError.invalidArgument(
        "refactor: \(values.count) values for a pattern of \(matrix.nonzeroCount) entries")
    }
    matrix.values = values
    let t0 = Date()
    let ok = matrix.withCholmodViewOfTranspose(stype: 1) { a in cholmod_factorize(&a, factor, common) }
    factorSeconds = Date().timeIntervalSince(t0)
    if ok == 0 || common.pointee.status < 0 {
      throw DirectSolverError.cholmod(status: common.pointee.status, context: "factorizing")
    }
    if common.pointee.status == CHOLMOD_NOT_POSDEF {
      throw DirectSolverError.notPositiveDefinite(column: Int(factor!.pointee.minor))
    }
  }

  /// Solves A·x = b.
  public func solve(_ b: [Double]) throws -> [Double] {
    guard b.count == dimension else {
      throw DirectSolverError.invalidArgument(
        "solve: right-hand side has \(b.count) entries, matrix order is \(dimension)")
    }
    var rhs = b
    return try rhs.withUnsafeMutableBufferPointer { bp in
      var dense = cholmod_dense()
      dense.nrow = dimension
      dense.ncol = 1
      dense.nzmax = dimension
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
      return Array(UnsafeBufferPointer(start: xp, count: dimension))
    }
  }

  /// CHOLMOD's version as "major.minor.patch".
  public static var version: String { "\(CHOLMOD_MAIN_VERSION).\(CHOLMOD_SUB_VERSION).\(CHOLMOD_SUBSUB_VERSION)" }
  /// SuiteSparse's version as "major.minor.patch".
  public static var suiteSparseVersion: String {
    "\(SUITESPARSE_MAIN_VERSION).\(SUITESPARSE_SUB_VERSION).\(SUITESPARSE_SUBSUB_VERSION)"
  }
}
