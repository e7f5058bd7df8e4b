import Foundation
import Numerics
import Solvers
import Testing

@Suite("Block conjugate gradients")
struct BlockCGTests {
  @Test("block PCG solves several right-hand sides to tolerance, in no more iterations than single CG")
  func solvesBlock() throws {
    let a = try laplacian2D(20)
    let n = a.rows
    let s = 4
    let bs = (0..<s).map { randomVector(n, seed: UInt64(10 + $0)) }
    let chol = try CholmodCholesky(a)
    for pc in [nil, try IncompleteCholeskyPreconditioner(a)] as [Preconditioner?] {
      var xs = [[Double]](repeating: [Double](repeating: 0, count: n), count: s)
      let stats = BlockConjugateGradient(dimension: n, blockSize: s).solve(
        a, bs, &xs, preconditioner: pc, options: KrylovOptions(rtol: 1e-10))
      var single = 0
      for j in 0..<s {
        #expect(stats[j].converged, "\(stats[j].method): \(stats[j].reason)")
        #expect(stats[j].relativeResidual <= 1e-10)
        let reference = try chol.solve(bs[j])
        #expect(relativeError(xs[j], reference) < 1e-8)
        var x = [Double](repeating: 0, count: n)
        single = max(
          single,
          ConjugateGradient(dimension: n).solve(a, bs[j], &x, preconditioner: pc, options: KrylovOptions(rtol: 1e-10))
            .iterations)
      }
      #expect(stats[0].iterations <= single, "block \(stats[0].iterations) vs single \(single)")
    }
  }

  @Test("rank loss (two equal right-hand sides) falls back to single CG and still converges")
  func rankLoss() throws {
    let a = try laplacian2D(10)
    let b = randomVector(a.rows, seed: 3)
    var xs = [[Double]](repeating: [Double](repeating: 0, count: a.rows), count: 2)
    let stats = BlockConjugateGradient(dimension: a.rows, blockSize: 2).solve(
      a, [b, b], &xs, options: KrylovOptions(rtol: 1e-10))
    let all = stats.allSatisfy { $0.converged }
    #expect(all)
    #expect(relativeError(xs[0], xs[1]) < 1e-8)
  }
}
