// Jacobi (diagonal) preconditioning, M = diag(A). Saad, "Iterative Methods for Sparse Linear
// Systems", 2nd ed., §10.2. Symmetric positive definite whenever diag(A) > 0.
import Numerics

/// z = D⁻¹ r with D = diag(A).
public final class JacobiPreconditioner: Preconditioner {
  public let name = "jacobi"
  public let dimension: Int
  public var isSymmetric: Bool { true }
  var inverseDiagonal: [Double]

  /// Builds from `matrix`; throws if a diagonal entry is zero or not finite.
  public init(_ matrix: CSRMatrix<Double>) throws {
    dimension = matrix.rows
    inverseDiagonal = []
    try update(matrix)
  }

  public func update(_ matrix: CSRMatrix<Double>) throws {
    let d = matrix.diagonal()
    if let i = d.firstIndex(where: { $0 == 0 || !$0.isFinite }) {
      throw SolverSetupError.preconditionerBreakdown("Jacobi: diagonal entry \(i) is \(d[i])")
    }
    inverseDiagonal = d.map { 1 / $0 }
  }

  public func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
    inverseDiagonal.withUnsafeBufferPointer { d in
      for i in 0..<dimension { z[i] = d[i] * r[i] }
    }
  }
}
