import Foundation
import Numerics
import Solvers
import Testing

@Suite("GCRO-DR: second Gram–Schmidt pass only when needed (DGKS)")
struct GCRODRReorthogonalizationTests {
  @Test("on an indefinite 3D Helmholtz sequence, DGKS and CGS2 give the direct solutions with the same work")
  func dgksMatchesCGS2() throws {
    let n = 9  // 9³ nodes, 1,458 real unknowns
    let recipe = try HelmholtzRecipe(resolution: n, dimension: 3, parameters: ["frequency": 0.9])
    let problems = try (0..<3).map { try recipe.makeProblem(sampleSeed: sampleSeed(runSeed: 0, index: $0)).problem }
    var iterations: [Bool: Int] = [:]
    for always in [false, true] {
      let solver = GCRODR(dimension: 2 * n * n * n, restart: 20, recycle: 5)
      solver.alwaysReorthogonalize = always
      var total = 0
      var x = [Double](repeating: 0, count: 2 * n * n * n)
      for problem in problems {
        let pc = try IncompleteLUPreconditioner(problem.matrix)
        let stats = solver.solve(
          problem.matrix, problem.rhs, &x, preconditioner: pc, options: KrylovOptions(rtol: 1e-10))
        #expect(stats.converged, "alwaysReorthogonalize \(always)")
        total += stats.iterations
        let c = problem.complexSystem!
        let exact = try ComplexUmfpackLU(real: c.realPart, imaginary: c.imaginaryPart.values)
          .solve(re: c.rhs.map(\.re), im: c.rhs.map(\.im))
        let reference = exact.re + exact.im
        let diff = zip(x, reference).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let norm = reference.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(diff / norm < 1e-7, "alwaysReorthogonalize \(always): \(diff / norm)")
      }
      #expect(total > 3 * 20, "the test needs restarts (\(total) iterations)")
      iterations[always] = total
    }
    // The skipped passes must not cost iterations (a lost orthogonality would show up here).
    #expect(Double(iterations[false]!) <= 1.05 * Double(iterations[true]!) + 2, "\(iterations)")
  }
}
