// Errors shared by the direct sparse solvers (CHOLMOD Cholesky, UMFPACK LU, the workspace).
import Dispatch
import Foundation
import Numerics

/// Errors from the direct solvers (`CholmodCholesky`, `UmfpackLU`, `ComplexUmfpackLU`,
/// `DirectSolverWorkspace`).
///
/// Column numbers are 0-based columns of the matrix the caller passed in (not of the permuted
/// matrix the library factored).
public enum DirectSolverError: Error, CustomStringConvertible, LocalizedError, Equatable {
  /// The matrix is not (numerically) positive definite: CHOLMOD met a zero or negative pivot at
  /// `column`, so the matrix is singular or indefinite.
  case notPositiveDefinite(column: Int)
  /// The LU factorization met an exactly zero pivot: the matrix is singular. `column` is a column
  /// of A with no usable pivot (nil when it could not be determined).
  case singular(column: Int?)
  /// CHOLMOD reported an error (out of memory, invalid input, ...).
  case cholmod(status: Int32, context: String)
  /// UMFPACK returned an error status; `message` names the status, explains it and says which
  /// step failed.
  case umfpack(status: Int32, message: String)
  /// The matrix passed for a numeric refactorization does not have the analyzed sparsity pattern.
  case patternChanged(String)
  /// Dimensions do not match, or a call came in the wrong order.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .notPositiveDefinite(let c):
      return
        "CHOLMOD: the matrix is not positive definite (a zero or negative pivot at column \(c): singular or indefinite); use an LU or Krylov solver for indefinite systems"
    case .singular(let c):
      let at = c.map { " (no nonzero pivot for column \($0))" } ?? ""
      return "UMFPACK: the matrix is singular\(at) (UMFPACK_WARNING_singular_matrix); a solve would divide by zero"
    case .cholmod(let s, let c): return "CHOLMOD error \(s) while \(c)"
    case .umfpack(let s, let m): return "UMFPACK status \(s): \(m)"
    case .patternChanged(let s): return "sparsity pattern changed since the symbolic analysis: \(s)"
    case .invalidArgument(let s): return s
    }
  }
  public var errorDescription: String? { description }
}

/// The sparsity pattern of a CSR matrix (dimensions, row pointers, column indices), compared to
/// decide whether a symbolic analysis can be reused. The arrays are shared copy-on-write with the
/// matrix they came from, so keeping one costs no copy.
struct SparsityPattern: Equatable {
  let rows: Int
  let columns: Int
  let rowPointers: [Int32]
  let columnIndices: [Int32]

  init(_ a: CSRMatrix<Double>) {
    rows = a.rows
    columns = a.columns
    rowPointers = a.rowPointers
    columnIndices = a.columnIndices
  }

  /// nil when `other` has this pattern, else the first difference in words.
  func difference(from other: SparsityPattern) -> String? {
    if rows != other.rows || columns != other.columns {
      return "dimensions \(other.rows)×\(other.columns), analyzed \(rows)×\(columns)"
    }
    if rowPointers != other.rowPointers {
      let i = rowPointers.indices.first { rowPointers[$0] != other.rowPointers[$0] }.map { max(0, $0 - 1) } ?? 0
      return "row \(i) has \(other.rowPointers[i + 1] - other.rowPointers[i]) stored entries, "
        + "analyzed \(rowPointers[i + 1] - rowPointers[i]) (nnz \(other.columnIndices.count), analyzed \(columnIndices.count))"
    }
    if columnIndices != other.columnIndices {
      let k = columnIndices.indices.first { columnIndices[$0] != other.columnIndices[$0] } ?? 0
      let row = (rowPointers.lastIndex { Int($0) <= k } ?? 0)
      return
        "row \(row) stores column \(other.columnIndices[k]) where the analyzed pattern has column \(columnIndices[k])"
    }
    return nil
  }
}

/// Seconds since an arbitrary origin (monotonic).
@inline(__always) func directSolverClock() -> Double {
  Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
}
