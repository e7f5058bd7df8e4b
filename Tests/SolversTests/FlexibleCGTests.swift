import Foundation
import Numerics
import Solvers
import Testing

/// M⁻¹ = A⁻¹ through a CHOLMOD factorization.
final class ExactInverse: Preconditioner {
  let name = "exact"
  let dimension: Int
  var isSymmetric: Bool { true }
  let workspace = DirectSolverWorkspace(kind: .cholmod)

  init(_ a: CSRMatrix<Double>) throws {
    dimension = a.rows
    try workspace.factor(a)
  }
  func update(_ matrix: CSRMatrix<Double>) throws { try workspace.factor(matrix) }
  func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
    let x = try! workspace.solve(Array(UnsafeBufferPointer(start: r, count: dimension)))
    for i in 0..<dimension { z[i] = x[i] }
  }
}

/// A "preconditioner" that returns zero (a network that learned nothing).
final class ZeroPreconditioner: Preconditioner {
  let name = "zero"
  let dimension: Int
  var isSymmetric: Bool { true }
  init(_ n: Int) { dimension = n }
  func update(_ matrix: CSRMatrix<Double>) throws {}
  func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
    for i in 0..<dimension { z[i] = 0 }
  }
}

/// Alternates between Jacobi and SSOR(1.5): not one fixed operator.
final class AlternatingPreconditioner: Preconditioner {
  let name = "alternating"
  let dimension: Int
  var isSymmetric: Bool { true }
  let first: Preconditioner
  let second: Preconditioner
  var calls = 0
  init(_ a: CSRMatrix<Double>) throws {
    dimension = a.rows
    first = try JacobiPreconditioner(a)
    second = try SSORPreconditioner(a, omega: 1.5)
  }
  func update(_ matrix: CSRMatrix<Double>) throws {}
  func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
    calls += 1
    (calls % 2 == 0 ? first : second).apply(r, z)
  }
}

@Suite("Flexible CG (Notay 2000)")
struct FlexibleCGTests {
  func system() throws -> (CSRMatrix<Double>, [Double], [Double]) {
    let recipe = try DarcyRecipe(resolution: 20, dimension: 2, parameters: [:])
    let s = try recipe.makeSample(sampleSeed: 4).system
    return (s.matrix, s.rhs, try LinearSolver(.cholmod).solve(s).x)
  }

  func error(_ x: [Double], _ exact: [Double]) -> Double {
    zip(x, exact).map { abs($0 - $1) }.max()! / exact.map(abs).max()!
  }

  @Test("with the exact inverse as preconditioner it converges in one step")
  func exactInverse() throws {
    let (a, b, exact) = try system()
    var x = [Double](repeating: 0, count: b.count)
    let stats = FlexibleCG(dimension: b.count).solve(
      a, b, &x, preconditioner: try ExactInverse(a), options: KrylovOptions(rtol: 1e-10))
    #expect(stats.converged && stats.iterations == 1, "\(stats.iterations) iterations, \(stats.reason)")
    #expect(error(x, exact) < 1e-10)
  }

  @Test("with a fixed SPD preconditioner it takes PCG's iterations (±1) and matches CHOLMOD")
  func fixedPreconditioner() throws {
    let (a, b, exact) = try system()
    let options = KrylovOptions(rtol: 1e-10)
    let ic0 = try IncompleteCholeskyPreconditioner(a)
    var x = [Double](repeating: 0, count: b.count)
    let fcg = FlexibleCG(dimension: b.count, truncation: 1).solve(a, b, &x, preconditioner: ic0, options: options)
    var y = [Double](repeating: 0, count: b.count)
    let pcg = ConjugateGradient(dimension: b.count).solve(a, b, &y, preconditioner: ic0, options: options)
    #expect(fcg.converged && abs(fcg.iterations - pcg.iterations) <= 1, "FCG \(fcg.iterations), PCG \(pcg.iterations)")
    #expect(error(x, exact) < 1e-8)
  }

  @Test("a varying preconditioner converges; a useless one falls back to IC(0) or stops with a reason")
  func flexibleAndFallback() throws {
    let (a, b, exact) = try system()
    let n = b.count
    let options = KrylovOptions(rtol: 1e-10)
    var x = [Double](repeating: 0, count: n)
    let varying = FlexibleCG(dimension: n, truncation: 5).solve(
      a, b, &x, preconditioner: try AlternatingPreconditioner(a), options: options)
    #expect(varying.converged && error(x, exact) < 1e-8, "\(varying.reason)")

    let fcg = FlexibleCG(dimension: n)
    x = [Double](repeating: 0, count: n)
    let rescued = fcg.solve(
      a, b, &x, preconditioner: ZeroPreconditioner(n), fallback: try IncompleteCholeskyPreconditioner(a),
      options: options)
    #expect(rescued.converged && error(x, exact) < 1e-8)
    #expect(fcg.fallbackSteps == rescued.iterations && rescued.iterations > 0)

    x = [Double](repeating: 0, count: n)
    let stuck = fcg.solve(a, b, &x, preconditioner: ZeroPreconditioner(n), options: options)
    #expect(!stuck.converged && stuck.reason == .breakdown)
  }
}
