import Foundation
import Numerics
import Solvers
import Testing

@Suite("LinearSolver: problem / algorithm / workspace")
struct LinearSolverTests {
  /// FV Darcy matrices of one pattern with different coefficients.
  func darcy(_ n: Int, seed: UInt64) throws -> CSRMatrix<Double> {
    let grf = try GaussianRandomField(shape: [n, n], alpha: 2, tau: 3)
    let a = grf.sample(seed: seed, index: 0).scalars.map { $0 >= 0 ? 12.0 : 3.0 }
    return try Darcy.discretize(dimension: 2, n: n, coefficient: a, source: [Double](repeating: 1, count: n * n)).matrix
  }

  @Test("every algorithm solves an SPD Darcy system; same-pattern matrices refresh instead of re-analysing")
  func allAlgorithmsAndReuse() throws {
    let mats = try (0..<3).map { try darcy(20, seed: UInt64($0)) }
    let b = [Double](repeating: 1, count: mats[0].rows)
    let reference = try mats.map { try CholmodCholesky($0).solve(b) }
    let algorithms: [LinearSolverAlgorithm] = [
      .cholmod, .umfpack, .cg(preconditioner: .none), .cg(preconditioner: .jacobi),
      .cg(preconditioner: .ssor(omega: 1.2)),
      .cg(preconditioner: .ic0), .cg(preconditioner: .amg), .minres(preconditioner: .jacobi),
      .gmres(restart: 20, preconditioner: .ilu0), .fgmres(restart: 20, preconditioner: .amg),
      .bicgstab(preconditioner: .ilu0),
    ]
    for algorithm in algorithms {
      let solver = LinearSolver(algorithm, options: KrylovOptions(rtol: 1e-10))
      for (k, a) in mats.enumerated() {
        let result = try solver.solve(LinearSystem(matrix: a, rhs: b))
        #expect(result.stats.converged, "\(algorithm): \(result.stats.reason)")
        #expect(result.stats.relativeResidual <= 1e-9, "\(algorithm)")
        #expect(relativeError(result.x, reference[k]) < 1e-7, "\(algorithm) sample \(k)")
        #expect(result.reusedPattern == (k > 0))
      }
      #expect(solver.fullSetups == 1 && solver.refreshes == 2, "\(algorithm)")
    }
  }

  @Test("a refreshed setup gives bit for bit the answer of a fresh one (history-independent solves)")
  func refreshEqualsFreshSetup() throws {
    // `pdekit generate` keeps one solver per worker thread across batches, so whether a sample is
    // the first its solver sees depends on the thread count; its data must not.
    let a1 = try darcy(24, seed: 1)
    let a2 = try darcy(24, seed: 2)
    let b = randomVector(a1.rows, seed: 3)
    let algorithms: [LinearSolverAlgorithm] = [
      .cholmod, .umfpack, .cg(preconditioner: .amg), .cg(preconditioner: .ic0), .cg(preconditioner: .jacobi),
    ]
    for algorithm in algorithms {
      let reused = LinearSolver(algorithm, options: KrylovOptions(rtol: 1e-10))
      _ = try reused.solve(LinearSystem(matrix: a1, rhs: b))
      let second = try reused.solve(LinearSystem(matrix: a2, rhs: b))
      let fresh = try LinearSolver(algorithm, options: KrylovOptions(rtol: 1e-10)).solve(
        LinearSystem(matrix: a2, rhs: b))
      #expect(second.reusedPattern)
      #expect(second.x == fresh.x, "\(algorithm): max difference \(zip(second.x, fresh.x).map { abs($0 - $1) }.max()!)")
      #expect(second.stats.iterations == fresh.stats.iterations, "\(algorithm)")
    }
  }

  @Test("a changed pattern triggers a full setup and the answer is still right")
  func patternChange() throws {
    let solver = LinearSolver(.cholmod)
    let a = try laplacian2D(10)
    _ = try solver.solve(LinearSystem(matrix: a, rhs: [Double](repeating: 1, count: 100)))
    let c = try tridiagonal(100)  // same size, different pattern
    let b = randomVector(100, seed: 1)
    let r = try solver.solve(LinearSystem(matrix: c, rhs: b))
    #expect(!r.reusedPattern && solver.fullSetups == 2)
    #expect(relativeError(r.x, try CholmodCholesky(c).solve(b)) < 1e-12)
  }

  @Test("bad systems are rejected with a message naming the problem")
  func validation() throws {
    var coo = COOMatrix<Double>(rows: 2, columns: 3)
    coo.append(0, 0, 1)
    let rect = try coo.csr()
    #expect(throws: SolverSetupError.self) {
      try LinearSolver(.umfpack).solve(LinearSystem(matrix: rect, rhs: [1, 1]))
    }
    let a = try laplacian2D(4)
    #expect(throws: SolverSetupError.self) { try LinearSolver(.cg()).solve(LinearSystem(matrix: a, rhs: [1])) }
    var nan = a
    nan.values[3] = .nan
    #expect(throws: SolverSetupError.self) {
      try LinearSolver(.cg()).solve(LinearSystem(matrix: nan, rhs: [Double](repeating: 1, count: 16)))
    }
    let nonsym = try convectionDiffusion2D(4)
    #expect {
      try LinearSolver(.cg()).solve(LinearSystem(matrix: nonsym, rhs: [Double](repeating: 1, count: 16)))
    } throws: { e in
      guard case .invalidMatrix(let m) = e as? SolverSetupError else { return false }
      return m.contains("symmetric")
    }
    #expect(throws: SolverSetupError.self) {
      try LinearSolver(.cg(preconditioner: .ilu0)).solve(
        LinearSystem(matrix: a, rhs: [Double](repeating: 1, count: 16)))
    }
    // GMRES is fine with the nonsymmetric matrix.
    let g = try LinearSolver(.gmres()).solve(LinearSystem(matrix: nonsym, rhs: [Double](repeating: 1, count: 16)))
    #expect(g.stats.converged)
  }

  @Test("SolveReport (what `pdekit solve` runs): Matrix Market in, b = A·1, x ≈ 1; JSON and table output")
  func solveReport() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-solve-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let a = try darcy(16, seed: 2)
    let path = dir.appendingPathComponent("A.mtx")
    try MatrixMarket.write(a, to: path, symmetric: true)
    let report = try SolveReport.run(
      matrixPath: path.path, rhsPath: nil, algorithm: .cg(preconditioner: .ic0), options: KrylovOptions(rtol: 1e-10))
    #expect(report.solution.stats.converged && report.errorAgainstOnes! < 1e-7)
    #expect(report.table().contains("iterations:"))
    let json = try report.json()
    let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    #expect(object?["n"] as? Int == 256)
    #expect((object?["stats"] as? [String: Any])?["reason"] as? String == "converged")
    // An explicit right-hand side file.
    let bPath = dir.appendingPathComponent("b.mtx")
    try MatrixMarket.write(try NDArray(shape: [256, 1], data: randomVector(256, seed: 3)), to: bPath)
    let r2 = try SolveReport.run(
      matrixPath: path.path, rhsPath: bPath.path, algorithm: .cholmod, options: KrylovOptions())
    #expect(r2.errorAgainstOnes == nil && r2.solution.stats.relativeResidual < 1e-12)
    // A right-hand side of the wrong size.
    let bad = dir.appendingPathComponent("bad.mtx")
    try MatrixMarket.write(try NDArray(shape: [5, 1], data: [1, 2, 3, 4, 5]), to: bad)
    #expect(throws: SolverSetupError.self) {
      try SolveReport.run(matrixPath: path.path, rhsPath: bad.path, algorithm: .cholmod, options: KrylovOptions())
    }
  }
}
