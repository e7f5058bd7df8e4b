// Sparse LU factorization P·R·A·Q = L·U of a square nonsymmetric matrix through SuiteSparse
// UMFPACK (Davis, "Algorithm 832: UMFPACK V4.3 — an unsymmetric-pattern multifrontal method",
// ACM TOMS 30(2), 2004), using the `umfpack_di_*` Int32 interface that matches the Int32 indices
// of `CSRMatrix` for real matrices, and the `umfpack_zl_*` 64-bit interface for complex ones (whose
// 3D factors outgrow the Int32 interface's working memory).
//
// Layout choice. UMFPACK takes compressed sparse *column* arrays, while PDEKit assembles CSR, and
// the CSR arrays of A are the CSC arrays of Aᵀ. We do *not* factor Aᵀ and solve with UMFPACK_At:
// we transpose the pattern once per analysis (O(nnz)) and keep a gather map from CSR positions
// to CSC positions, so every `refactor(values:)` is one O(nnz) gather and UMFPACK factors A
// itself. That way UMFPACK's column pre-ordering and row partial pivoting act on A as designed,
// a zero pivot is reported as a column of A, `solve` is UMFPACK_A (the system with iterative
// refinement by default), and the complex variant needs no conjugation bookkeeping.
//
// Symbolic analysis (column pre-ordering, frontal matrix tree) is done once per pattern; the
// numeric factorization is redone by `refactor`. `solve` uses `umfpack_*_wsolve` with
// preallocated workspace; UMFPACK has no block solve, so several right-hand sides are solved one
// after another with the same factors.
import CSuiteSparse
import Foundation
import Numerics

/// The CSC arrays of a CSR pattern and, for each CSC position, the CSR position of its value.
struct CSCGatherMap {
  let columnPointers: [Int32]
  let rowIndices: [Int32]
  /// `cscValues[p] == csrValues[source[p]]`.
  let source: [Int32]

  init(_ a: CSRMatrix<Double>) {
    let nnz = a.nonzeroCount
    var ptr = [Int32](repeating: 0, count: a.columns + 1)
    for c in a.columnIndices { ptr[Int(c) + 1] += 1 }
    for j in 0..<a.columns { ptr[j + 1] += ptr[j] }
    var next = ptr
    var rowIdx = [Int32](repeating: 0, count: nnz)
    var src = [Int32](repeating: 0, count: nnz)
    for i in 0..<a.rows {
      for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
        let c = Int(a.columnIndices[k])
        let dst = Int(next[c])
        rowIdx[dst] = Int32(i)  // rows ascend within each column
        src[dst] = Int32(k)
        next[c] += 1
      }
    }
    columnPointers = ptr
    rowIndices = rowIdx
    source = src
  }

  /// CSR-ordered values → CSC-ordered values.
  func gather(_ csrValues: [Double]) -> [Double] {
    source.map { csrValues[Int($0)] }
  }
}

/// UMFPACK's fill-reducing column pre-ordering (`Control[UMFPACK_ORDERING]`).
///
/// The default, `.amd`, is UMFPACK's (AMD on A + Aᵀ or COLAMD on A, by its strategy). On 3D grids
/// nested dissection (`.metis`) gives less fill — O(n^{4/3}) entries against AMD's larger
/// constant — which decides whether a factorization fits in memory at all; `.cholmod` lets
/// CHOLMOD try AMD/COLAMD and switch to METIS when the fill is high, `.best` tries several.
public enum UmfpackOrdering: String, Sendable, CaseIterable {
  case amd
  case metis
  case cholmod
  case best

  var control: Double {
    switch self {
    case .amd: return Double(UMFPACK_ORDERING_AMD)
    case .metis: return Double(UMFPACK_ORDERING_METIS)
    case .cholmod: return Double(UMFPACK_ORDERING_CHOLMOD)
    case .best: return Double(UMFPACK_ORDERING_BEST)
    }
  }
}

/// UMFPACK status codes in words.
enum UmfpackStatus {
  /// The C name of `status`, e.g. "UMFPACK_ERROR_out_of_memory".
  static func name(_ status: Int32) -> String {
    switch status {
    case UMFPACK_OK: return "UMFPACK_OK"
    case UMFPACK_WARNING_singular_matrix: return "UMFPACK_WARNING_singular_matrix"
    case UMFPACK_WARNING_determinant_underflow: return "UMFPACK_WARNING_determinant_underflow"
    case UMFPACK_WARNING_determinant_overflow: return "UMFPACK_WARNING_determinant_overflow"
    case UMFPACK_ERROR_out_of_memory: return "UMFPACK_ERROR_out_of_memory"
    case UMFPACK_ERROR_invalid_Numeric_object: return "UMFPACK_ERROR_invalid_Numeric_object"
    case UMFPACK_ERROR_invalid_Symbolic_object: return "UMFPACK_ERROR_invalid_Symbolic_object"
    case UMFPACK_ERROR_argument_missing: return "UMFPACK_ERROR_argument_missing"
    case UMFPACK_ERROR_n_nonpositive: return "UMFPACK_ERROR_n_nonpositive"
    case UMFPACK_ERROR_invalid_matrix: return "UMFPACK_ERROR_invalid_matrix"
    case UMFPACK_ERROR_different_pattern: return "UMFPACK_ERROR_different_pattern"
    case UMFPACK_ERROR_invalid_system: return "UMFPACK_ERROR_invalid_system"
    case UMFPACK_ERROR_invalid_permutation: return "UMFPACK_ERROR_invalid_permutation"
    case UMFPACK_ERROR_internal_error: return "UMFPACK_ERROR_internal_error"
    case UMFPACK_ERROR_file_IO: return "UMFPACK_ERROR_file_IO"
    case UMFPACK_ERROR_ordering_failed: return "UMFPACK_ERROR_ordering_failed"
    default: return "unknown UMFPACK status"
    }
  }

  /// A plain explanation of `status`.
  static func explanation(_ status: Int32) -> String {
    switch status {
    case UMFPACK_OK: return "success"
    case UMFPACK_WARNING_singular_matrix: return "the matrix is singular (an exactly zero pivot in U)"
    case UMFPACK_WARNING_determinant_underflow, UMFPACK_WARNING_determinant_overflow:
      return "the determinant under- or overflows"
    case UMFPACK_ERROR_out_of_memory: return "not enough memory for the factors"
    case UMFPACK_ERROR_invalid_Numeric_object, UMFPACK_ERROR_invalid_Symbolic_object:
      return "the factorization object is invalid (a bug in the wrapper: please report)"
    case UMFPACK_ERROR_argument_missing: return "a required array was missing"
    case UMFPACK_ERROR_n_nonpositive: return "the matrix order must be positive"
    case UMFPACK_ERROR_invalid_matrix:
      return
        "the compressed-column arrays are invalid (pointers decrease or row indices are out of range, unsorted or repeated)"
    case UMFPACK_ERROR_different_pattern: return "the pattern changed since the symbolic analysis"
    case UMFPACK_ERROR_invalid_system: return "invalid system to solve"
    case UMFPACK_ERROR_invalid_permutation: return "the given permutation is invalid"
    case UMFPACK_ERROR_internal_error: return "UMFPACK internal error"
    case UMFPACK_ERROR_file_IO: return "file input/output failed"
    case UMFPACK_ERROR_ordering_failed: return "the fill-reducing ordering failed"
    default: return "UMFPACK returned a status this wrapper does not know"
    }
  }

  /// The error for a failed UMFPACK call `step`.
  static func error(_ status: Int32, _ step: String) -> DirectSolverError {
    .umfpack(status: status, message: "\(name(status)) in \(step): \(explanation(status))")
  }

  /// The column of A whose pivot is exactly zero, from the diagonal of U (`ud`, complex parts
  /// `udz` or nil) and the column permutation Q (Q[k] = column of A that is the kth pivot).
  static func zeroPivotColumn(q: [Int32], ud: [Double], udz: [Double]?) -> Int? {
    for k in 0..<ud.count where ud[k] == 0 && (udz?[k] ?? 0) == 0 {
      return Int(q[k])
    }
    return nil
  }
}

/// A reusable sparse LU factorization of a square, real, nonsymmetric matrix (UMFPACK).
///
/// ```
/// let lu = try UmfpackLU(a)                  // analyze + factorize (a: square CSRMatrix<Double>)
/// let x = try lu.solve(b)                    // A·x = b
/// try lu.refactor(values: a2.values)         // same pattern, new values: numeric step only
/// let xs = try lu.solve(columns: [b1, b2])   // several right-hand sides, one factorization
/// ```
///
/// The symbolic analysis depends on the pattern only; a singular matrix is reported as
/// `DirectSolverError.singular(column:)` and never solved with. Not thread-safe: use one instance
/// per thread.
public final class UmfpackLU {
  /// Order of the matrix.
  public let dimension: Int
  let pattern: SparsityPattern
  let csc: CSCGatherMap
  /// Current values in CSC order.
  var values: [Double]
  var control = [Double](repeating: 0, count: Int(UMFPACK_CONTROL))
  var symbolic: UnsafeMutableRawPointer?
  var numeric: UnsafeMutableRawPointer?
  var factorError: DirectSolverError? = .invalidArgument("UMFPACK: no numeric factorization yet")
  var wi: [Int32]
  var w: [Double]
  /// Seconds spent in the symbolic analysis (done once).
  public private(set) var analyzeSeconds = 0.0
  /// Seconds spent in the last numeric factorization.
  public private(set) var factorSeconds = 0.0
  /// UMFPACK's estimate of the reciprocal condition number, min|Uᵢᵢ| / max|Uᵢᵢ|, after the last
  /// numeric factorization (NaN before one). A crude indicator: tiny means nearly singular.
  public private(set) var reciprocalConditionEstimate = Double.nan

  /// Analyzes and factorizes the square matrix `matrix`.
  ///
  /// - Parameter ordering: the fill-reducing column pre-ordering (default: UMFPACK's own, AMD).
  /// - Throws: `.invalidArgument` if not square or empty, `.singular(column:)` if the matrix is
  ///   singular, `.umfpack(status:message:)` for any other UMFPACK failure.
  public convenience init(_ matrix: CSRMatrix<Double>, ordering: UmfpackOrdering = .amd) throws {
    try self.init(analyzing: matrix, ordering: ordering)
    try refactor(values: matrix.values)
  }

  /// Symbolic analysis only; `refactor(values:)` must follow before `solve`.
  init(analyzing matrix: CSRMatrix<Double>, ordering: UmfpackOrdering = .amd) throws {
    guard matrix.rows == matrix.columns, matrix.rows > 0 else {
      throw DirectSolverError.invalidArgument(
        "LU needs a square, nonempty matrix, got \(matrix.rows)×\(matrix.columns)")
    }
    let n = matrix.rows
    dimension = n
    pattern = SparsityPattern(matrix)
    csc = CSCGatherMap(matrix)
    values = csc.gather(matrix.values)
    wi = [Int32](repeating: 0, count: n)
    w = [Double](repeating: 0, count: 5 * n)
    umfpack_di_defaults(&control)
    control[Int(UMFPACK_ORDERING)] = ordering.control
    var info = [Double](repeating: 0, count: Int(UMFPACK_INFO))
    let t0 = directSolverClock()
    // Values are passed as nil: UMFPACK would use them for statistics only, and the analysis is
    // meant to depend on the pattern alone.
    let status = umfpack_di_symbolic(
      Int32(n), Int32(n), csc.columnPointers, csc.rowIndices, nil, &symbolic, control, &info)
    analyzeSeconds = directSolverClock() - t0
    if status < 0 { throw UmfpackStatus.error(status, "the symbolic analysis (umfpack_di_symbolic)") }
  }

  deinit {
    if numeric != nil { umfpack_di_free_numeric(&numeric) }
    if symbolic != nil { umfpack_di_free_symbolic(&symbolic) }
  }

  /// Numeric refactorization for a matrix with the analyzed pattern and new `values` (CSR order).
  ///
  /// - Throws: `.patternChanged` if `values.count` differs from the analyzed number of entries,
  ///   `.singular(column:)` if the matrix is singular, `.umfpack(status:message:)` for another
  ///   UMFPACK failure. After a failure `solve` rethrows the error until a refactorization succeeds.
  public func refactor(values csrValues: [Double]) throws {
    guard csrValues.count == csc.source.count else {
      throw DirectSolverError.patternChanged(
        "refactor: \(csrValues.count) values for a pattern of \(csc.source.count) entries")
    }
    values = csc.gather(csrValues)
    if numeric != nil { umfpack_di_free_numeric(&numeric) }
    factorError = nil
    var info = [Double](repeating: 0, count: Int(UMFPACK_INFO))
    let t0 = directSolverClock()
    let status = umfpack_di_numeric(csc.columnPointers, csc.rowIndices, values, symbolic, &numeric, control, &info)
    factorSeconds = directSolverClock() - t0
    reciprocalConditionEstimate = info[Int(UMFPACK_RCOND)]
    var error: DirectSolverError?
    if status == UMFPACK_WARNING_singular_matrix {
      var q = [Int32](repeating: 0, count: dimension)
      var ud = [Double](repeating: 0, count: dimension)
      var doRecip: Int32 = 0
      let s = umfpack_di_get_numeric(nil, nil, nil, nil, nil, nil, nil, &q, &ud, &doRecip, nil, numeric)
      error = .singular(column: s == UMFPACK_OK ? UmfpackStatus.zeroPivotColumn(q: q, ud: ud, udz: nil) : nil)
    } else if status != UMFPACK_OK {
      error = UmfpackStatus.error(status, "the numeric factorization (umfpack_di_numeric)")
    }
    if let error {
      if numeric != nil { umfpack_di_free_numeric(&numeric) }
      factorError = error
      throw error
    }
  }

  /// Numeric refactorization for `matrix`, after checking that it has the analyzed sparsity pattern.
  ///
  /// - Throws: `.patternChanged` (describing the first difference) if the pattern differs, else as
  ///   `refactor(values:)`.
  public func refactor(_ matrix: CSRMatrix<Double>) throws {
    if let d = pattern.difference(from: SparsityPattern(matrix)) { throw DirectSolverError.patternChanged(d) }
    try refactor(values: matrix.values)
  }

  /// Solves A·x = b (or Aᵀ·x = b when `transposed`), with UMFPACK's iterative refinement.
  ///
  /// - Parameters:
  ///   - b: right-hand side, `dimension` entries.
  ///   - transposed: solve with Aᵀ instead of A (same factors, UMFPACK_At).
  /// - Returns: x, `dimension` entries.
  /// - Throws: `.invalidArgument` for a wrong length, the last factorization's error if it
  ///   failed (e.g. `.singular`), `.umfpack(status:message:)` if the solve fails.
  public func solve(_ b: [Double], transposed: Bool = false) throws -> [Double] {
    guard b.count == dimension else {
      throw DirectSolverError.invalidArgument(
        "solve: right-hand side has \(b.count) entries, matrix order is \(dimension)")
    }
    return try solve(columnMajor: b, rhsCount: 1, transposed: transposed)
  }

  /// Solves A·X = B (or Aᵀ·X = B) for k right-hand sides given as columns, reusing the factors.
  ///
  /// - Parameters:
  ///   - columns: the k columns of B, each with `dimension` entries (k may be 0).
  ///   - transposed: solve with Aᵀ.
  /// - Returns: the k columns of X.
  /// - Throws: as `solve(_:transposed:)`.
  public func solve(columns: [[Double]], transposed: Bool = false) throws -> [[Double]] {
    if let bad = columns.firstIndex(where: { $0.count != dimension }) {
      throw DirectSolverError.invalidArgument(
        "solve: right-hand side \(bad) has \(columns[bad].count) entries, matrix order is \(dimension)")
    }
    let x = try solve(columnMajor: Array(columns.joined()), rhsCount: columns.count, transposed: transposed)
    return (0..<columns.count).map { Array(x[$0 * dimension..<($0 + 1) * dimension]) }
  }

  /// Solves A·X = B (or Aᵀ·X = B) for an n×k block B stored column-major (column j is
  /// `b[j*n..<(j+1)*n]`); UMFPACK solves the columns one after another with the same factors.
  ///
  /// - Parameters:
  ///   - b: n·k entries, column-major.
  ///   - rhsCount: k.
  ///   - transposed: solve with Aᵀ.
  /// - Returns: X, n·k entries, column-major.
  /// - Throws: as `solve(_:transposed:)`.
  public func solve(columnMajor b: [Double], rhsCount k: Int, transposed: Bool = false) throws -> [Double] {
    let n = dimension
    guard k >= 0, b.count == n * k else {
      throw DirectSolverError.invalidArgument("solve: \(b.count) right-hand-side entries for \(k) columns of \(n)")
    }
    if let factorError { throw factorError }
    var x = [Double](repeating: 0, count: n * k)
    let sys = transposed ? UMFPACK_At : UMFPACK_A
    var info = [Double](repeating: 0, count: Int(UMFPACK_INFO))
    var status: Int32 = UMFPACK_OK
    b.withUnsafeBufferPointer { bp in
      x.withUnsafeMutableBufferPointer { xp in
        for j in 0..<k where status == UMFPACK_OK {
          status = umfpack_di_wsolve(
            sys, csc.columnPointers, csc.rowIndices, values, xp.baseAddress! + j * n, bp.baseAddress! + j * n,
            numeric, control, &info, &wi, &w)
        }
      }
    }
    if status != UMFPACK_OK { throw UmfpackStatus.error(status, "the solve (umfpack_di_wsolve)") }
    return x
  }

  /// UMFPACK's version as "major.minor.patch".
  public static var version: String { "\(UMFPACK_MAIN_VERSION).\(UMFPACK_SUB_VERSION).\(UMFPACK_SUBSUB_VERSION)" }
}

/// A reusable sparse LU factorization of a square complex matrix (UMFPACK `umfpack_zl_*`, 64-bit
/// indices), given as one CSR pattern with separate real and imaginary value arrays — e.g. a
/// Helmholtz operator −Δ − k²(1 + iσ) with absorbing layers.
///
/// The 64-bit interface matters for 3D problems: the 32-bit one (`umfpack_zi_*`) addresses its
/// working memory with Int32 units and returns UMFPACK_ERROR_out_of_memory once the factors
/// outgrow them — at 48³ Helmholtz with METIS already, at 2.2 GB resident.
///
/// ```
/// let lu = try ComplexUmfpackLU(real: ar, imaginary: aiValues)   // aiValues in ar's CSR order
/// let (xr, xi) = try lu.solve(re: br, im: bi)
/// ```
///
/// Not thread-safe: use one instance per thread.
public final class ComplexUmfpackLU {
  /// Order of the matrix.
  public let dimension: Int
  let pattern: SparsityPattern
  let csc: CSCGatherMap
  /// `csc`'s pointers and row indices as 64-bit integers for the `umfpack_zl_*` calls.
  let columnPointers: [Int]
  let rowIndices: [Int]
  var re: [Double]
  var im: [Double]
  var control = [Double](repeating: 0, count: Int(UMFPACK_CONTROL))
  var symbolic: UnsafeMutableRawPointer?
  var numeric: UnsafeMutableRawPointer?
  var factorError: DirectSolverError? = .invalidArgument("UMFPACK: no numeric factorization yet")
  var wi: [Int]
  var w: [Double]
  /// Seconds spent in the symbolic analysis (done once).
  public private(set) var analyzeSeconds = 0.0
  /// Seconds spent in the last numeric factorization.
  public private(set) var factorSeconds = 0.0
  /// Peak memory of the last numeric factorization in bytes (UMFPACK's `Info[UMFPACK_PEAK_MEMORY]`),
  /// NaN before one.
  public private(set) var peakMemoryBytes = Double.nan
  /// Entries of L and U (diagonal counted once) after the last numeric factorization, NaN before one.
  public private(set) var factorEntries = Double.nan

  /// Analyzes and factorizes A = `real` + i·`imaginary`.
  ///
  /// - Parameters:
  ///   - real: the pattern and the real parts (CSR order); must be square and nonempty.
  ///   - imaginary: the imaginary parts on the same pattern, `real.nonzeroCount` entries.
  ///   - ordering: the fill-reducing column pre-ordering (default: UMFPACK's own, AMD).
  /// - Throws: `.invalidArgument` for a non-square matrix, `.patternChanged` for a wrong number of
  ///   imaginary parts, `.singular(column:)`, `.umfpack(status:message:)`.
  public init(real: CSRMatrix<Double>, imaginary: [Double], ordering: UmfpackOrdering = .amd) throws {
    guard real.rows == real.columns, real.rows > 0 else {
      throw DirectSolverError.invalidArgument("LU needs a square, nonempty matrix, got \(real.rows)×\(real.columns)")
    }
    let n = real.rows
    dimension = n
    pattern = SparsityPattern(real)
    csc = CSCGatherMap(real)
    re = []
    im = []
    columnPointers = csc.columnPointers.map(Int.init)
    rowIndices = csc.rowIndices.map(Int.init)
    wi = [Int](repeating: 0, count: n)
    w = [Double](repeating: 0, count: 10 * n)
    umfpack_zl_defaults(&control)
    control[Int(UMFPACK_ORDERING)] = ordering.control
    var info = [Double](repeating: 0, count: Int(UMFPACK_INFO))
    let t0 = directSolverClock()
    let status = Int32(umfpack_zl_symbolic(n, n, columnPointers, rowIndices, nil, nil, &symbolic, control, &info))
    analyzeSeconds = directSolverClock() - t0
    if status < 0 { throw UmfpackStatus.error(status, "the symbolic analysis (umfpack_zl_symbolic)") }
    try refactor(real: real.values, imaginary: imaginary)
  }

  deinit {
    if numeric != nil { umfpack_zl_free_numeric(&numeric) }
    if symbolic != nil { umfpack_zl_free_symbolic(&symbolic) }
  }

  /// Numeric refactorization with new real and imaginary parts on the analyzed pattern (CSR order).
  ///
  /// - Throws: `.patternChanged` for a wrong number of values, `.singular(column:)`,
  ///   `.umfpack(status:message:)`. After a failure `solve` rethrows the error.
  public func refactor(real: [Double], imaginary: [Double]) throws {
    let nnz = csc.source.count
    guard real.count == nnz, imaginary.count == nnz else {
      throw DirectSolverError.patternChanged(
        "refactor: \(real.count) real and \(imaginary.count) imaginary parts for a pattern of \(nnz) entries")
    }
    re = csc.gather(real)
    im = csc.gather(imaginary)
    if numeric != nil { umfpack_zl_free_numeric(&numeric) }
    factorError = nil
    var info = [Double](repeating: 0, count: Int(UMFPACK_INFO))
    let t0 = directSolverClock()
    // Both value arrays are non-nil, so UMFPACK reads them as split (not packed) complex.
    let status = Int32(umfpack_zl_numeric(columnPointers, rowIndices, re, im, symbolic, &numeric, control, &info))
    factorSeconds = directSolverClock() - t0
    peakMemoryBytes = info[Int(UMFPACK_PEAK_MEMORY)] * info[Int(UMFPACK_SIZE_OF_UNIT)]
    factorEntries = info[Int(UMFPACK_LNZ)] + info[Int(UMFPACK_UNZ)] - Double(dimension)
    var error: DirectSolverError?
    if status == UMFPACK_WARNING_singular_matrix {
      var q = [Int](repeating: 0, count: dimension)
      var ud = [Double](repeating: 0, count: dimension)
      var udz = [Double](repeating: 0, count: dimension)
      var doRecip = 0
      let s = Int32(
        umfpack_zl_get_numeric(nil, nil, nil, nil, nil, nil, nil, nil, nil, &q, &ud, &udz, &doRecip, nil, numeric))
      error = .singular(
        column: s == UMFPACK_OK ? UmfpackStatus.zeroPivotColumn(q: q.map { Int32($0) }, ud: ud, udz: udz) : nil)
    } else if status != UMFPACK_OK {
      error = UmfpackStatus.error(status, "the numeric factorization (umfpack_zl_numeric)")
    }
    if let error {
      if numeric != nil { umfpack_zl_free_numeric(&numeric) }
      factorError = error
      throw error
    }
  }

  /// Solves A·x = b for complex b = `re` + i·`im`.
  ///
  /// - Parameters:
  ///   - re: real part of b, `dimension` entries.
  ///   - im: imaginary part of b, `dimension` entries.
  /// - Returns: the real and imaginary parts of x.
  /// - Throws: `.invalidArgument` for wrong lengths, the last factorization's error if it failed,
  ///   `.umfpack(status:message:)` if the solve fails.
  public func solve(re bRe: [Double], im bIm: [Double]) throws -> (re: [Double], im: [Double]) {
    guard bRe.count == dimension, bIm.count == dimension else {
      throw DirectSolverError.invalidArgument(
        "solve: right-hand side has \(bRe.count) real and \(bIm.count) imaginary parts, matrix order is \(dimension)")
    }
    if let factorError { throw factorError }
    var xr = [Double](repeating: 0, count: dimension)
    var xi = [Double](repeating: 0, count: dimension)
    var info = [Double](repeating: 0, count: Int(UMFPACK_INFO))
    let status = Int32(
      umfpack_zl_wsolve(
        Int(UMFPACK_A), columnPointers, rowIndices, re, im, &xr, &xi, bRe, bIm, numeric, control, &info, &wi, &w))
    if status != UMFPACK_OK { throw UmfpackStatus.error(status, "the solve (umfpack_zl_wsolve)") }
    return (xr, xi)
  }
}
