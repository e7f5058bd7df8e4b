import Foundation
import Numerics
import Solvers
import Testing

/// 2D 5-point Laplacian on an n×n grid (Dirichlet), scaled by `scale` on the diagonal.
func laplacian2D(_ n: Int, diagonal: Double = 4) throws -> CSRMatrix<Double> {
  var coo = COOMatrix<Double>(rows: n * n, columns: n * n)
  for i in 0..<n {
    for j in 0..<n {
      let r = i * n + j
      coo.append(r, r, diagonal)
      if i > 0 { coo.append(r, r - n, -1) }
      if i < n - 1 { coo.append(r, r + n, -1) }
      if j > 0 { coo.append(r, r - 1, -1) }
      if j < n - 1 { coo.append(r, r + 1, -1) }
    }
  }
  return try coo.csr()
}

@Suite("CHOLMOD sparse Cholesky")
struct CholmodTests {
  @Test("solves a 2D Laplacian to round-off; refactor reuses the analysis")
  func solveAndRefactor() throws {
    let a = try laplacian2D(12)
    #expect(a.isSymmetric())
    let xTrue = (0..<144).map { cos(0.3 * Double($0)) }
    let b = try a.multiply(NDArray(shape: [144], data: xTrue)).scalars
    let chol = try CholmodCholesky(a)
    let x = try chol.solve(b)
    #expect(zip(x, xTrue).map { abs($0 - $1) }.max()! < 1e-12)
    // Same pattern, diagonal 5: a different SPD matrix.
    let a5 = try laplacian2D(12, diagonal: 5)
    try chol.refactor(values: a5.values)
    let b5 = try a5.multiply(NDArray(shape: [144], data: xTrue)).scalars
    #expect(zip(try chol.solve(b5), xTrue).map { abs($0 - $1) }.max()! < 1e-12)
  }

  @Test("an indefinite matrix is reported as not positive definite; bad sizes throw")
  func notSPD() throws {
    let a = try laplacian2D(6, diagonal: -4)
    #expect {
      try CholmodCholesky(a)
    } throws: { e in
      if case .notPositiveDefinite = e as? DirectSolverError { return true }
      return false
    }
    let chol = try CholmodCholesky(try laplacian2D(4))
    #expect(throws: DirectSolverError.self) { try chol.solve([1, 2, 3]) }
    #expect(throws: DirectSolverError.self) { try chol.refactor(values: [1]) }
  }

  @Test("the doctor self-check passes on this machine")
  func selfCheck() {
    let results = SelfCheck.run()
    for r in results { #expect(r.passed, "\(r.name): \(r.detail)") }
    #expect(results.count == 5)
  }
}
