// Incomplete LU factorization with zero fill, ILU(0): A ≈ L U on the sparsity pattern of A,
// L unit lower triangular. Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed.,
// Algorithm 10.4 (IKJ variant on CSR). For nonsymmetric systems (GMRES, BiCGStab); a zero or
// non-finite pivot is reported as a `preconditionerBreakdown` naming the row.
import Numerics

/// ILU(0) preconditioner: z = (L U)⁻¹ r, factors stored in one CSR array with A's pattern.
public final class IncompleteLUPreconditioner: Preconditioner {
  public let name = "ilu0"
  public let dimension: Int
  public var isSymmetric: Bool { false }
  let rowPointers: [Int32]
  let columns: [Int32]
  var values: [Double]
  var diagonalIndex: [Int]

  /// Builds from `matrix` (square, sorted columns, every diagonal entry stored).
  public init(_ matrix: CSRMatrix<Double>) throws {
    guard matrix.rows == matrix.columns else {
      throw SolverSetupError.invalidMatrix("ILU(0) needs a square matrix, got \(matrix.rows)×\(matrix.columns)")
    }
    dimension = matrix.rows
    rowPointers = matrix.rowPointers
    columns = matrix.columnIndices
    values = matrix.values
    diagonalIndex = [Int](repeating: -1, count: dimension)
    for i in 0..<dimension {
      for k in Int(rowPointers[i])..<Int(rowPointers[i + 1]) where Int(columns[k]) == i { diagonalIndex[i] = k }
      guard diagonalIndex[i] >= 0 else {
        throw SolverSetupError.preconditionerBreakdown("ILU(0): row \(i) has no diagonal entry")
      }
    }
    try update(matrix)
  }

  public func update(_ matrix: CSRMatrix<Double>) throws {
    guard matrix.values.count == values.count else {
      throw SolverSetupError.dimensionMismatch(
        "ILU(0) update: \(matrix.values.count) values for a pattern of \(values.count)")
    }
    values = matrix.values
    let n = dimension
    // Scratch map column → position in the current row (-1 when absent).
    var position = [Int](repeating: -1, count: n)
    try rowPointers.withUnsafeBufferPointer { rp in
      try columns.withUnsafeBufferPointer { ci in
        try values.withUnsafeMutableBufferPointer { a in
          try diagonalIndex.withUnsafeBufferPointer { dg in
            for i in 0..<n {
              let start = Int(rp[i])
              let end = Int(rp[i + 1])
              for p in start..<end { position[Int(ci[p])] = p }
              var p = start
              while p < end && Int(ci[p]) < i {
                let k = Int(ci[p])
                let pivot = a[dg[k]]
                a[p] /= pivot
                let lik = a[p]
                // Row i −= l_ik · (U part of row k), restricted to row i's pattern.
                for q in (dg[k] + 1)..<Int(rp[k + 1]) {
                  let j = Int(ci[q])
                  let pos = position[j]
                  if pos >= 0 { a[pos] -= lik * a[q] }
                }
                p += 1
              }
              for q in start..<end { position[Int(ci[q])] = -1 }
              let d = a[dg[i]]
              guard d != 0, d.isFinite else {
                throw SolverSetupError.preconditionerBreakdown("ILU(0): zero or non-finite pivot \(d) at row \(i)")
              }
            }
          }
        }
      }
    }
  }

  public func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
    let n = dimension
    rowPointers.withUnsafeBufferPointer { rp in
      columns.withUnsafeBufferPointer { ci in
        values.withUnsafeBufferPointer { a in
          diagonalIndex.withUnsafeBufferPointer { dg in
            for i in 0..<n {
              var s = r[i]
              var k = Int(rp[i])
              while k < dg[i] {
                s -= a[k] * z[Int(ci[k])]
                k += 1
              }
              z[i] = s
            }
            for i in stride(from: n - 1, through: 0, by: -1) {
              var s = z[i]
              var k = dg[i] + 1
              let end = Int(rp[i + 1])
              while k < end {
                s -= a[k] * z[Int(ci[k])]
                k += 1
              }
              z[i] = s / a[dg[i]]
            }
          }
        }
      }
    }
  }
}
