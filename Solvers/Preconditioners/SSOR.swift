// Symmetric successive over-relaxation (SSOR) preconditioning. Saad, "Iterative Methods for
// Sparse Linear Systems", 2nd ed., §10.2.1, eq. (10.13):
//     M = 1/(ω(2−ω)) · (D + ωL) D⁻¹ (D + ωU),   A = L + D + U,  0 < ω < 2.
// M⁻¹r is a forward sweep (D + ωL) y = r, a scaling y ← D y, a backward sweep (D + ωU) z = y and
// z ← ω(2−ω) z. For symmetric A with positive diagonal, M is SPD (usable in CG).
import Numerics

/// SSOR preconditioner with relaxation ω (default 1: symmetric Gauss–Seidel).
public final class SSORPreconditioner: Preconditioner {
  public let name: String
  public let dimension: Int
  public var isSymmetric: Bool { true }
  /// Relaxation parameter ω ∈ (0, 2).
  public let omega: Double
  var matrix: CSRMatrix<Double>
  var diagonal: [Double]

  /// Builds from `matrix` (square, nonzero diagonal) with relaxation `omega`.
  public init(_ matrix: CSRMatrix<Double>, omega: Double = 1) throws {
    guard omega > 0 && omega < 2 else {
      throw SolverSetupError.preconditionerBreakdown("SSOR needs 0 < ω < 2, got \(omega)")
    }
    guard matrix.rows == matrix.columns else {
      throw SolverSetupError.invalidMatrix("SSOR needs a square matrix, got \(matrix.rows)×\(matrix.columns)")
    }
    self.omega = omega
    name = omega == 1 ? "ssor" : "ssor(\(omega))"
    dimension = matrix.rows
    self.matrix = matrix
    diagonal = []
    try update(matrix)
  }

  public func update(_ matrix: CSRMatrix<Double>) throws {
    self.matrix = matrix
    diagonal = matrix.diagonal()
    if let i = diagonal.firstIndex(where: { $0 == 0 || !$0.isFinite }) {
      throw SolverSetupError.preconditionerBreakdown("SSOR: diagonal entry \(i) is \(diagonal[i])")
    }
  }

  public func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
    let n = dimension
    let w = omega
    matrix.rowPointers.withUnsafeBufferPointer { rp in
      matrix.columnIndices.withUnsafeBufferPointer { ci in
        matrix.values.withUnsafeBufferPointer { v in
          diagonal.withUnsafeBufferPointer { d in
            // Forward: (D + ωL) y = r, y stored in z.
            for i in 0..<n {
              var s = r[i]
              var k = Int(rp[i])
              let end = Int(rp[i + 1])
              while k < end {
                let j = Int(ci[k])
                if j < i { s -= w * v[k] * z[j] }
                k += 1
              }
              z[i] = s / d[i]
            }
            // Scale by D, then backward: (D + ωU) z = D y.
            for i in 0..<n { z[i] *= d[i] }
            for i in stride(from: n - 1, through: 0, by: -1) {
              var s = z[i]
              var k = Int(rp[i])
              let end = Int(rp[i + 1])
              while k < end {
                let j = Int(ci[k])
                if j > i { s -= w * v[k] * z[j] }
                k += 1
              }
              z[i] = s / d[i]
            }
            let c = w * (2 - w)
            if c != 1 { for i in 0..<n { z[i] *= c } }
          }
        }
      }
    }
  }
}
