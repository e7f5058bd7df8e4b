import CSuiteSparse
// Sparse matrices: COO assembly, compressed sparse row (CSR) and column (CSC) storage, SpMV.
// Storage follows Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed., SIAM 2003, §3.4.
// Indices are 0-based Int32 (as scipy's default and CHOLMOD's `int` interface), which caps a
// matrix at 2³¹−1 stored entries; larger matrices are rejected with a clear error.
import Dispatch
import Foundation

/// A sparse matrix being assembled as (row, column, value) triplets. Duplicates are allowed and
/// summed on conversion, the usual finite-element/finite-volume assembly pattern.
///
/// ```
/// var coo = COOMatrix<Double>(rows: 3, columns: 3)
/// coo.append(0, 0, 2); coo.append(0, 0, 1)    // summed: A[0,0] = 3
/// let a = try coo.csr()
/// ```
public struct COOMatrix<T: RealScalar>: Sendable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// Row index of each triplet.
  public private(set) var rowIndices: [Int32] = []
  /// Column index of each triplet.
  public private(set) var columnIndices: [Int32] = []
  /// Value of each triplet.
  public private(set) var values: [T] = []

  /// An empty rows×columns matrix; `reserve` triplets are preallocated.
  public init(rows: Int, columns: Int, reserve: Int = 0) {
    precondition(
      rows >= 0 && columns >= 0 && rows <= Int(Int32.max) && columns <= Int(Int32.max),
      "bad dimensions \(rows)×\(columns)")
    self.rows = rows
    self.columns = columns
    rowIndices.reserveCapacity(reserve)
    columnIndices.reserveCapacity(reserve)
    values.reserveCapacity(reserve)
  }

  /// Number of triplets (before duplicates are summed).
  public var count: Int { values.count }

  /// Adds `value` at (`row`, `column`). Traps on an out-of-range index (a programming error).
  @inlinable
  public mutating func append(_ row: Int, _ column: Int, _ value: T) {
    precondition(
      row >= 0 && row < rows && column >= 0 && column < columns, "entry (\(row), \(column)) outside \(rows)×\(columns)")
    _append(Int32(truncatingIfNeeded: row), Int32(truncatingIfNeeded: column), value)
  }

  @usableFromInline mutating func _append(_ r: Int32, _ c: Int32, _ v: T) {
    rowIndices.append(r)
    columnIndices.append(c)
    values.append(v)
  }

  /// Converts to CSR, summing duplicates and sorting column indices within each row.
  /// Explicit zeros (including duplicates that cancel) are kept, so the pattern is predictable.
  public func csr() throws -> CSRMatrix<T> {
    try CSRMatrix.fromTriplets(rows: rows, columns: columns, rowIndices, columnIndices, values)
  }

  /// Converts to CSC (duplicates summed, row indices sorted within each column).
  public func csc() throws -> CSCMatrix<T> {
    let t = try CSRMatrix.fromTriplets(rows: columns, columns: rows, columnIndices, rowIndices, values)
    return CSCMatrix(
      rows: rows, columns: columns, columnPointers: t.rowPointers, rowIndices: t.columnIndices, values: t.values)
  }
}

/// Compressed sparse row matrix: row i's entries are `values[rowPointers[i]..<rowPointers[i+1]]`
/// at columns `columnIndices[...]` (sorted, unique).
public struct CSRMatrix<T: RealScalar>: Sendable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// Row start offsets, `rows + 1` entries, `rowPointers[rows] == nnz`.
  public var rowPointers: [Int32]
  /// Column index of each stored entry.
  public var columnIndices: [Int32]
  /// Value of each stored entry.
  public var values: [T]

  /// Creates a CSR matrix from its arrays, validating their consistency.
  public init(rows: Int, columns: Int, rowPointers: [Int32], columnIndices: [Int32], values: [T]) throws {
    guard rows >= 0, columns >= 0, rowPointers.count == rows + 1, rowPointers.first == 0,
      Int(rowPointers[rows]) == values.count, columnIndices.count == values.count
    else {
      throw NumericsError.shapeMismatch(
        "CSR arrays inconsistent: \(rows) rows need \(rows + 1) row pointers starting at 0 and ending at nnz = \(values.count)"
      )
    }
    for i in 0..<rows where rowPointers[i] > rowPointers[i + 1] {
      throw NumericsError.invalidArgument("CSR row pointers decrease at row \(i)")
    }
    if let bad = columnIndices.first(where: { $0 < 0 || Int($0) >= columns }) {
      throw NumericsError.invalidArgument("CSR column index \(bad) outside 0..<\(columns)")
    }
    self.rows = rows
    self.columns = columns
    self.rowPointers = rowPointers
    self.columnIndices = columnIndices
    self.values = values
  }

  init(unchecked rows: Int, _ columns: Int, _ rp: [Int32], _ ci: [Int32], _ v: [T]) {
    self.rows = rows
    self.columns = columns
    rowPointers = rp
    columnIndices = ci
    values = v
  }

  /// Number of stored entries.
  public var nonzeroCount: Int { values.count }

  /// Builds CSR from triplets by counting sort (O(nnz + rows)), then sums duplicates in each row.
  static func fromTriplets(rows: Int, columns: Int, _ ri: [Int32], _ ci: [Int32], _ v: [T]) throws -> CSRMatrix {
    let nnz = v.count
    guard nnz < Int(Int32.max) else {
      throw NumericsError.invalidArgument("\(nnz) entries exceed the Int32 index limit of 2³¹−1")
    }
    var counts = [Int32](repeating: 0, count: rows + 1)
    for r in ri { counts[Int(r) + 1] += 1 }
    for i in 0..<rows { counts[i + 1] += counts[i] }
    var next = counts
    var cols = [Int32](repeating: 0, count: nnz)
    var vals = [T](repeating: 0, count: nnz)
    for k in 0..<nnz {
      let r = Int(ri[k])
      let dst = Int(next[r])
      cols[dst] = ci[k]
      vals[dst] = v[k]
      next[r] += 1
    }
    // Sort each row by column and merge duplicates in place.
    var outPtr = [Int32](repeating: 0, count: rows + 1)
    var w = 0
    var perm: [Int] = []
    for i in 0..<rows {
      let lo = Int(counts[i])
      let hi = Int(counts[i + 1])
      perm.removeAll(keepingCapacity: true)
      perm.append(contentsOf: lo..<hi)
      perm.sort { cols[$0] < cols[$1] || (cols[$0] == cols[$1] && $0 < $1) }
      let rowCols = perm.map { cols[$0] }
      let rowVals = perm.map { vals[$0] }
      var j = 0
      while j < rowCols.count {
        var s = rowVals[j]
        var k = j + 1
        while k < rowCols.count && rowCols[k] == rowCols[j] {
          s += rowVals[k]
          k += 1
        }
        cols[w] = rowCols[j]
        vals[w] = s
        w += 1
        j = k
      }
      outPtr[i + 1] = Int32(w)
    }
    cols.removeLast(nnz - w)
    vals.removeLast(nnz - w)
    return CSRMatrix(unchecked: rows, columns, outPtr, cols, vals)
  }

  /// y ← A·x (single thread, no allocation).
  @inlinable
  public func multiply(_ x: UnsafeBufferPointer<T>, into y: UnsafeMutableBufferPointer<T>) {
    precondition(
      x.count == columns && y.count == rows, "SpMV: A is \(rows)×\(columns), x has \(x.count), y has \(y.count)")
    rowPointers.withUnsafeBufferPointer { rp in
      columnIndices.withUnsafeBufferPointer { ci in
        values.withUnsafeBufferPointer { v in
          Self.spmvRows(0..<rows, rp.baseAddress!, ci.baseAddress!, v.baseAddress!, x.baseAddress!, y.baseAddress!)
        }
      }
    }
  }

  @inlinable @inline(__always)
  static func spmvRows(
    _ range: Range<Int>, _ rp: UnsafePointer<Int32>, _ ci: UnsafePointer<Int32>, _ v: UnsafePointer<T>,
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>
  ) {
    for i in range {
      var s: T = 0
      var k = Int(rp[i])
      let end = Int(rp[i + 1])
      while k < end {
        s += v[k] * x[Int(ci[k])]
        k += 1
      }
      y[i] = s
    }
  }

  /// y ← A·x over `threads` contiguous row blocks of about equal nonzero count, run in parallel.
  /// With `threads == 1` this is `multiply(_:into:)`.
  @inlinable
  public func multiply(_ x: UnsafeBufferPointer<T>, into y: UnsafeMutableBufferPointer<T>, threads: Int) {
    guard threads > 1, rows > 1 else { return multiply(x, into: y) }
    precondition(
      x.count == columns && y.count == rows, "SpMV: A is \(rows)×\(columns), x has \(x.count), y has \(y.count)")
    let blocks = rowBlocks(threads)
    rowPointers.withUnsafeBufferPointer { rp in
      columnIndices.withUnsafeBufferPointer { ci in
        values.withUnsafeBufferPointer { v in
          let (rpp, cip, vp) = (
            SendablePointer(rp.baseAddress!), SendablePointer(ci.baseAddress!), SendablePointer(v.baseAddress!)
          )
          let (xp, yp) = (SendablePointer(x.baseAddress!), SendableMutablePointer(y.baseAddress!))
          DispatchQueue.concurrentPerform(iterations: blocks.count) { b in
            Self.spmvRows(blocks[b], rpp.p, cip.p, vp.p, xp.p, yp.p)
          }
        }
      }
    }
  }

  /// Splits the rows into `parts` contiguous ranges of about equal nonzero count.
  @inlinable
  public func rowBlocks(_ parts: Int) -> [Range<Int>] {
    let p = max(1, min(parts, rows))
    var out: [Range<Int>] = []
    var start = 0
    let nnz = Double(nonzeroCount)
    for b in 1...p {
      var end = rows
      if b < p {
        let target = Int32((nnz * Double(b) / Double(p)).rounded())
        var lo = start
        var hi = rows
        while lo < hi {
          let mid = (lo + hi) / 2
          if rowPointers[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        end = max(start, lo)
      }
      out.append(start..<end)
      start = end
    }
    return out
  }

  /// A·x as a new array.
  public func multiply(_ x: NDArray<T>) throws -> NDArray<T> {
    guard x.count == columns else {
      throw NumericsError.shapeMismatch("SpMV: matrix has \(columns) columns, vector has \(x.count) entries")
    }
    var y = NDArray<T>.zeros([rows])
    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { multiply(xp, into: $0) } }
    return y
  }

  /// The transpose, as CSR (O(nnz)).
  public func transposed() -> CSRMatrix {
    var counts = [Int32](repeating: 0, count: columns + 1)
    for c in columnIndices { counts[Int(c) + 1] += 1 }
    for j in 0..<columns { counts[j + 1] += counts[j] }
    var next = counts
    var ci = [Int32](repeating: 0, count: nonzeroCount)
    var v = [T](repeating: 0, count: nonzeroCount)
    for i in 0..<rows {
      for k in Int(rowPointers[i])..<Int(rowPointers[i + 1]) {
        let c = Int(columnIndices[k])
        let dst = Int(next[c])
        ci[dst] = Int32(i)
        v[dst] = values[k]
        next[c] += 1
      }
    }
    return CSRMatrix(unchecked: columns, rows, counts, ci, v)
  }

  /// The same matrix in CSC storage (the CSR arrays of the transpose).
  public func csc() -> CSCMatrix<T> {
    let t = transposed()
    return CSCMatrix(
      rows: rows, columns: columns, columnPointers: t.rowPointers, rowIndices: t.columnIndices, values: t.values)
  }

  /// Main diagonal (length min(rows, columns)); missing entries are 0.
  public func diagonal() -> [T] {
    var d = [T](repeating: 0, count: min(rows, columns))
    for i in 0..<d.count {
      for k in Int(rowPointers[i])..<Int(rowPointers[i + 1]) where Int(columnIndices[k]) == i { d[i] += values[k] }
    }
    return d
  }

  /// Dense copy (for tests and small problems).
  public func dense() -> NDArray<T> {
    var a = NDArray<T>.zeros([rows, columns])
    a.withUnsafeMutableBufferPointer { p in
      for i in 0..<rows {
        for k in Int(rowPointers[i])..<Int(rowPointers[i + 1]) { p[i * columns + Int(columnIndices[k])] += values[k] }
      }
    }
    return a
  }

  /// Whether A equals Aᵀ entry by entry within `tolerance` (absolute). An entry whose mirror is
  /// not stored must itself be within `tolerance` of zero. No allocation: each mirror entry is
  /// found by binary search in its (sorted) row, O(nnz log(max row length)).
  @specialized(where T == Double)
  @specialized(where T == Float)
  public func isSymmetric(tolerance: T = 0) -> Bool {
    guard rows == columns else { return false }
    return rowPointers.withUnsafeBufferPointer { rp in
      columnIndices.withUnsafeBufferPointer { ci in
        values.withUnsafeBufferPointer { v in
          for i in 0..<rows {
            for k in Int(rp[i])..<Int(rp[i + 1]) {
              let j = Int(ci[k])
              if j == i { continue }
              var lo = Int(rp[j])
              var hi = Int(rp[j + 1])
              let target = Int32(i)
              while lo < hi {
                let mid = (lo + hi) >> 1
                if ci[mid] < target { lo = mid + 1 } else { hi = mid }
              }
              let mirror: T = (lo < Int(rp[j + 1]) && ci[lo] == target) ? v[lo] : 0
              if abs(v[k] - mirror) > tolerance { return false }
            }
          }
          return true
        }
      }
    }
  }
}

/// Compressed sparse column matrix: column j's entries are `values[columnPointers[j]..<columnPointers[j+1]]`
/// at rows `rowIndices[...]`. This is SuiteSparse's native layout.
public struct CSCMatrix<T: RealScalar>: Sendable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// Column start offsets, `columns + 1` entries.
  public var columnPointers: [Int32]
  /// Row index of each stored entry.
  public var rowIndices: [Int32]
  /// Value of each stored entry.
  public var values: [T]

  /// Creates a CSC matrix from its arrays (validated through the equivalent CSR of the transpose).
  public init(rows: Int, columns: Int, columnPointers: [Int32], rowIndices: [Int32], values: [T]) {
    self.rows = rows
    self.columns = columns
    self.columnPointers = columnPointers
    self.rowIndices = rowIndices
    self.values = values
  }

  /// Number of stored entries.
  public var nonzeroCount: Int { values.count }

  /// The same matrix in CSR storage.
  public func csr() -> CSRMatrix<T> {
    CSRMatrix(unchecked: columns, rows, columnPointers, rowIndices, values).transposed()
  }

  /// The transpose, as CSC.
  public func transposed() -> CSCMatrix {
    // The CSC arrays of A are the CSR arrays of Aᵀ; transposing that CSR gives A in CSR, whose
    // arrays are the CSC arrays of Aᵀ.
    let a = CSRMatrix(unchecked: columns, rows, columnPointers, rowIndices, values).transposed()
    return CSCMatrix(
      rows: columns, columns: rows, columnPointers: a.rowPointers, rowIndices: a.columnIndices, values: a.values)
  }

  /// y ← A·x (column-oriented scatter; single thread).
  public func multiply(_ x: UnsafeBufferPointer<T>, into y: UnsafeMutableBufferPointer<T>) {
    precondition(
      x.count == columns && y.count == rows, "SpMV: A is \(rows)×\(columns), x has \(x.count), y has \(y.count)")
    for i in 0..<rows { y[i] = 0 }
    for j in 0..<columns {
      let xj = x[j]
      for k in Int(columnPointers[j])..<Int(columnPointers[j + 1]) { y[Int(rowIndices[k])] += values[k] * xj }
    }
  }
}

@usableFromInline struct SendablePointer<P>: @unchecked Sendable {
  @usableFromInline let p: UnsafePointer<P>
  @usableFromInline init(_ p: UnsafePointer<P>) { self.p = p }
}
@usableFromInline struct SendableMutablePointer<P>: @unchecked Sendable {
  @usableFromInline let p: UnsafeMutablePointer<P>
  @usableFromInline init(_ p: UnsafeMutablePointer<P>) { self.p = p }
}

// MARK: - SuiteSparse views

extension CSCMatrix where T == Double {
  /// Calls `body` with a `cholmod_sparse` header that points at this matrix's own arrays (no copy).
  ///
  /// `stype` is CHOLMOD's symmetry flag: 0 unsymmetric, 1 symmetric using the upper triangle,
  /// −1 symmetric using the lower triangle. The header is valid only inside `body`, and CHOLMOD
  /// must not modify or free it.
  public func withCholmodView<R>(stype: Int32 = 0, _ body: (inout cholmod_sparse) throws -> R) rethrows -> R {
    try columnPointers.withUnsafeBufferPointer { p in
      try rowIndices.withUnsafeBufferPointer { i in
        try values.withUnsafeBufferPointer { x in
          var a = cholmod_sparse()
          a.nrow = rows
          a.ncol = columns
          a.nzmax = Swift.max(1, values.count)
          a.p = UnsafeMutableRawPointer(mutating: p.baseAddress)
          a.i = UnsafeMutableRawPointer(mutating: i.baseAddress)
          a.nz = nil
          a.x = UnsafeMutableRawPointer(mutating: x.baseAddress)
          a.z = nil
          a.stype = stype
          a.itype = CHOLMOD_INT
          a.xtype = CHOLMOD_REAL
          a.dtype = CHOLMOD_DOUBLE
          a.sorted = 1
          a.packed = 1
          return try body(&a)
        }
      }
    }
  }
}

extension CSRMatrix where T == Double {
  /// Calls `body` with a `cholmod_sparse` view of Aᵀ that shares this matrix's arrays (no copy):
  /// CSR arrays of A are the CSC arrays of Aᵀ. For a symmetric A this *is* A, which is how a
  /// symmetric CSR matrix reaches CHOLMOD without copying.
  public func withCholmodViewOfTranspose<R>(stype: Int32 = 0, _ body: (inout cholmod_sparse) throws -> R) rethrows -> R
  {
    try CSCMatrix(rows: columns, columns: rows, columnPointers: rowPointers, rowIndices: columnIndices, values: values)
      .withCholmodView(stype: stype, body)
  }
}
