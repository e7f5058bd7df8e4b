// Incomplete Cholesky factorization with zero fill, IC(0): A ≈ L Lᵀ with L restricted to the
// sparsity pattern of tril(A). Meijerink & van der Vorst, "An iterative solution method for linear
// systems of which the coefficient matrix is a symmetric M-matrix", Math. Comp. 31 (1977);
// Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed., §10.3.
//
// Row-oriented (left-looking) factorization: for row i and each k < i in its pattern,
//     L_ik = (A_ik − Σ_{j<k} L_ij L_kj) / L_kk,   L_ii = √(A_ii − Σ_{j<i} L_ij²),
// the sums running over the common pattern. It exists for M-matrices (e.g. the FV Darcy and
// Poisson matrices); for other SPD matrices a pivot can become ≤ 0, which is reported as a
// `preconditionerBreakdown` naming the row — retry with a diagonal `shift` (Manteuffel 1980):
// factor A + shift·diag(A).
import Numerics

/// IC(0) preconditioner: z = (L Lᵀ)⁻¹ r.
public final class IncompleteCholeskyPreconditioner: Preconditioner {
  public let name: String
  public let dimension: Int
  public var isSymmetric: Bool { true }
  /// Relative diagonal shift α: factors A + α·diag(A).
  public let shift: Double
  /// L in CSR (lower triangle, diagonal last in each row).
  var lRowPointers: [Int32]
  var lColumns: [Int32]
  var lValues: [Double]
  /// Position in A's arrays of each entry of L (for refactorization with new values).
  var sourceIndex: [Int]

  /// Builds the pattern from tril(`matrix`) and factors it. The matrix must be symmetric with
  /// sorted column indices (as CSRMatrix guarantees) and a stored diagonal.
  public init(_ matrix: CSRMatrix<Double>, shift: Double = 0) throws {
    guard matrix.rows == matrix.columns else {
      throw SolverSetupError.invalidMatrix("IC(0) needs a square matrix, got \(matrix.rows)×\(matrix.columns)")
    }
    dimension = matrix.rows
    self.shift = shift
    name = shift == 0 ? "ic0" : "ic0(shift \(shift))"
    var rp: [Int32] = [0]
    var cols: [Int32] = []
    var src: [Int] = []
    rp.reserveCapacity(dimension + 1)
    for i in 0..<dimension {
      var hasDiagonal = false
      for k in Int(matrix.rowPointers[i])..<Int(matrix.rowPointers[i + 1]) {
        let j = Int(matrix.columnIndices[k])
        if j <= i {
          cols.append(Int32(j))
          src.append(k)
          if j == i { hasDiagonal = true }
        }
      }
      guard hasDiagonal else {
        throw SolverSetupError.preconditionerBreakdown("IC(0): row \(i) has no diagonal entry")
      }
      rp.append(Int32(cols.count))
    }
    lRowPointers = rp
    lColumns = cols
    sourceIndex = src
    lValues = [Double](repeating: 0, count: cols.count)
    try update(matrix)
  }

  public func update(_ matrix: CSRMatrix<Double>) throws {
    let n = dimension
    try lRowPointers.withUnsafeBufferPointer { rp in
      try lColumns.withUnsafeBufferPointer { ci in
        try lValues.withUnsafeMutableBufferPointer { lv in
          try sourceIndex.withUnsafeBufferPointer { src in
            try matrix.values.withUnsafeBufferPointer { av in
              for k in 0..<lv.count { lv[k] = av[src[k]] }
              for i in 0..<n {
                let start = Int(rp[i])
                let diag = Int(rp[i + 1]) - 1
                if shift != 0 { lv[diag] *= 1 + shift }
                for p in start..<diag {
                  let k = Int(ci[p])
                  // Sparse dot of row i and row k over columns < k.
                  var s = lv[p]
                  var a = start
                  var b = Int(rp[k])
                  let bEnd = Int(rp[k + 1]) - 1
                  while a < p && b < bEnd {
                    let ca = ci[a]
                    let cb = ci[b]
                    if ca == cb {
                      s -= lv[a] * lv[b]
                      a += 1
                      b += 1
                    } else if ca < cb {
                      a += 1
                    } else {
                      b += 1
                    }
                  }
                  lv[p] = s / lv[bEnd]
                }
                var d = lv[diag]
                for p in start..<diag { d -= lv[p] * lv[p] }
                guard d > 0, d.isFinite else {
                  throw SolverSetupError.preconditionerBreakdown(
                    "IC(0): pivot \(d) ≤ 0 at row \(i) (matrix not an M-matrix?); retry with a diagonal shift, e.g. 1e-3"
                  )
                }
                lv[diag] = d.squareRoot()
              }
            }
          }
        }
      }
    }
  }

  public func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
    let n = dimension
    lRowPointers.withUnsafeBufferPointer { rp in
      lColumns.withUnsafeBufferPointer { ci in
        lValues.withUnsafeBufferPointer { lv in
          // L y = r (y in z).
          for i in 0..<n {
            var s = r[i]
            let diag = Int(rp[i + 1]) - 1
            var k = Int(rp[i])
            while k < diag {
              s -= lv[k] * z[Int(ci[k])]
              k += 1
            }
            z[i] = s / lv[diag]
          }
          // Lᵀ z = y, column-oriented over the rows of L.
          for i in stride(from: n - 1, through: 0, by: -1) {
            let diag = Int(rp[i + 1]) - 1
            let zi = z[i] / lv[diag]
            z[i] = zi
            var k = Int(rp[i])
            while k < diag {
              z[Int(ci[k])] -= lv[k] * zi
              k += 1
            }
          }
        }
      }
    }
  }
}
