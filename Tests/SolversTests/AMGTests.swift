import Foundation
import Numerics
import Solvers
import Testing

/// 2D 5-point Poisson matrix on an n×n interior grid (Dirichlet), stencil [−1; −1 4 −1; −1].
private func amgPoisson2D(_ n: Int) throws -> CSRMatrix<Double> {
  var coo = COOMatrix<Double>(rows: n * n, columns: n * n, reserve: 5 * n * n)
  for i in 0..<n {
    for j in 0..<n {
      let r = i * n + j
      coo.append(r, r, 4)
      if i > 0 { coo.append(r, r - n, -1) }
      if i < n - 1 { coo.append(r, r + n, -1) }
      if j > 0 { coo.append(r, r - 1, -1) }
      if j < n - 1 { coo.append(r, r + 1, -1) }
    }
  }
  return try coo.csr()
}

/// A piecewise-constant Darcy coefficient on n×n cells: 12 or 3 on random square patches of
/// `patch`×`patch` cells (the two values of the FNO Darcy data set).
private func amgPatchCoefficient(_ n: Int, patch: Int, seed: UInt64) -> [Double] {
  var rng = PhiloxRandom(seed: seed)
  let m = (n + patch - 1) / patch
  let blocks = (0..<(m * m)).map { _ in rng.nextOpenUnit() < 0.5 ? 12.0 : 3.0 }
  return (0..<(n * n)).map { c in blocks[(c / n / patch) * m + (c % n) / patch] }
}

/// Cell-centred finite-volume matrix of −∇·(a∇u) on the unit square with n×n cells and u = 0 on
/// the boundary: harmonic face averages 2 a_i a_j / (a_i + a_j), boundary faces 2 a_i (half a
/// cell to the wall). The h² of the flux and of the cell area cancel in 2D.
private func amgDarcyMatrix(_ n: Int, coefficient a: [Double]) throws -> CSRMatrix<Double> {
  var coo = COOMatrix<Double>(rows: n * n, columns: n * n, reserve: 5 * n * n)
  for i in 0..<n {
    for j in 0..<n {
      let c = i * n + j
      var diagonal = 0.0
      for (di, dj) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
        let (ni, nj) = (i + di, j + dj)
        if ni < 0 || ni >= n || nj < 0 || nj >= n {
          diagonal += 2 * a[c]
        } else {
          let nb = ni * n + nj
          let t = 2 * a[c] * a[nb] / (a[c] + a[nb])
          diagonal += t
          coo.append(c, nb, -t)
        }
      }
      coo.append(c, c, diagonal)
    }
  }
  return try coo.csr()
}

private func amgRandomVector(_ n: Int, seed: UInt64) -> [Double] {
  var rng = PhiloxRandom(seed: seed)
  return (0..<n).map { _ in rng.nextOpenUnit() - 0.5 }
}

private func amgApply(_ m: Preconditioner, _ r: [Double]) -> [Double] {
  var z = [Double](repeating: 0, count: r.count)
  r.withUnsafeBufferPointer { rp in z.withUnsafeMutableBufferPointer { m.apply(rp.baseAddress!, $0.baseAddress!) } }
  return z
}

private func amgDot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }

/// CG iterations to rtol for A x = b (b = A·1-ish smooth right-hand side) with an optional preconditioner.
private func amgCG(
  _ a: CSRMatrix<Double>, _ b: [Double], _ m: Preconditioner?, rtol: Double = 1e-8
) -> (SolverStats, [Double]) {
  let cg = ConjugateGradient(dimension: a.rows)
  var x = [Double](repeating: 0, count: a.rows)
  let stats = cg.solve(a, b, &x, preconditioner: m, options: KrylovOptions(rtol: rtol))
  return (stats, x)
}

@Suite("Smoothed-aggregation AMG")
struct AMGTests {
  @Test(
    "diagonal storage of stencil levels (2D 5-point, 3D 7-point) gives the CSR V-cycle to rounding, also after update()"
  )
  func diagonalStorage() throws {
    let n = 40
    let a1 = try amgDarcyMatrix(n, coefficient: amgPatchCoefficient(n, patch: 5, seed: 3))
    let a2 = try amgDarcyMatrix(n, coefficient: amgPatchCoefficient(n, patch: 4, seed: 8))
    var k3 = [Double](repeating: 1, count: 10 * 10 * 10)
    for i in stride(from: 0, to: k3.count, by: 3) { k3[i] = 12 }
    let a3 = try Darcy.discretize(
      dimension: 3, n: 10, coefficient: k3, source: [Double](repeating: 1, count: k3.count)
    ).matrix
    for (name, first, second) in [("2D", a1, a2), ("3D", a3, a3)] {
      let fast = try SmoothedAggregationAMG(first)
      let plain = try SmoothedAggregationAMG(first, options: AMGOptions(diagonalStorage: false))
      #expect(fast.diagonalStorageLevels.contains(0), "\(name): the fine level is a stencil")
      #expect(plain.diagonalStorageLevels.isEmpty)
      for step in 0..<2 {
        if step == 1 {
          try fast.update(second)
          try plain.update(second)
        }
        let x = amgRandomVector(first.rows, seed: 21 + UInt64(step))
        let (f, p) = (amgApply(fast, x), amgApply(plain, x))
        let difference = zip(f, p).map { abs($0 - $1) }.max()!
        #expect(difference <= 1e-12 * p.map(abs).max()!, "\(name) step \(step): max difference \(difference)")
        let matrix = step == 0 ? first : second
        let (sf, _) = amgCG(matrix, x, fast, rtol: 1e-10)
        let (sp, _) = amgCG(matrix, x, plain, rtol: 1e-10)
        #expect(sf.converged && sf.iterations == sp.iterations, "\(name): \(sf.iterations) vs \(sp.iterations)")
      }
    }
    // A matrix whose entries lie on many diagonals keeps CSR.
    var coo = COOMatrix<Double>(rows: 60, columns: 60, reserve: 600)
    var rng = PhiloxRandom(seed: 5)
    for i in 0..<60 {
      coo.append(i, i, 20)
      for _ in 0..<3 {
        let j = Int(rng.nextOpenUnit() * 60) % 60
        if j != i {
          coo.append(i, j, -1)
          coo.append(j, i, -1)
        }
      }
    }
    let irregular = try SmoothedAggregationAMG(try coo.csr())
    #expect(irregular.diagonalStorageLevels.isEmpty)
  }

  @Test("the V-cycle is a symmetric positive definite operator")
  func symmetric() throws {
    let a = try amgDarcyMatrix(40, coefficient: amgPatchCoefficient(40, patch: 5, seed: 3))
    let amg = try SmoothedAggregationAMG(a)
    #expect(amg.levelCount >= 3)
    for seed in UInt64(0)..<3 {
      let x = amgRandomVector(a.rows, seed: 2 * seed + 1)
      let y = amgRandomVector(a.rows, seed: 2 * seed + 2)
      let mx = amgApply(amg, x)
      let my = amgApply(amg, y)
      let yMx = amgDot(y, mx)
      let xMy = amgDot(x, my)
      #expect(abs(yMx - xMy) <= 1e-10 * max(abs(yMx), abs(xMy)), "yᵀM⁻¹x = \(yMx), xᵀM⁻¹y = \(xMy)")
      #expect(amgDot(x, mx) > 0)
      #expect(amgDot(y, my) > 0)
    }
    // Also with a W-cycle and two sweeps.
    let w = try SmoothedAggregationAMG(a, options: AMGOptions(presmoothingSweeps: 2, postsmoothingSweeps: 2, cycle: .w))
    let x = amgRandomVector(a.rows, seed: 11)
    let y = amgRandomVector(a.rows, seed: 12)
    let yMx = amgDot(y, amgApply(w, x))
    let xMy = amgDot(x, amgApply(w, y))
    #expect(abs(yMx - xMy) <= 1e-10 * max(abs(yMx), abs(xMy)))
  }

  /// ρ(D⁻¹A) by 300 power iterations on the symmetric D^{-1/2} A D^{-1/2} (slow, independent).
  private func referenceRadius(_ a: CSRMatrix<Double>) -> Double {
    let n = a.rows
    let d = a.dense()
    var s = [Double](repeating: 0, count: n)
    for i in 0..<n { s[i] = 1 / d[i, i].squareRoot() }
    var v = amgRandomVector(n, seed: 9)
    var lambda = 0.0
    for _ in 0..<300 {
      let u = (0..<n).map { s[$0] * v[$0] }
      var w = [Double](repeating: 0, count: n)
      u.withUnsafeBufferPointer { x in w.withUnsafeMutableBufferPointer { a.multiply(x, into: $0) } }
      for i in 0..<n { w[i] *= s[i] }
      lambda = zip(w, v).reduce(0) { $0 + $1.0 * $1.1 } / v.reduce(0) { $0 + $1 * $1 }
      let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
      v = w.map { $0 / norm }
    }
    return lambda
  }

  @Test(
    "ρ(D⁻¹A): Gershgorin's bound where Lanczos shows it tight (5-point Darcy), the Lanczos estimate where it is not (9-point)"
  )
  func spectralRadius() throws {
    // 5-point finite volumes, zero row sums inside: the bound max Σ|aᵢⱼ|/aᵢᵢ is attained up to O(h²).
    let darcy = try amgDarcyMatrix(24, coefficient: amgPatchCoefficient(24, patch: 4, seed: 3))
    let exact = referenceRadius(darcy)
    let estimate = try SmoothedAggregationAMG(darcy).levelSummaries[0].spectralRadius!
    var bound = 0.0
    for i in 0..<darcy.rows {
      var sum = 0.0
      var diagonal = 0.0
      for k in Int(darcy.rowPointers[i])..<Int(darcy.rowPointers[i + 1]) {
        sum += abs(darcy.values[k])
        if Int(darcy.columnIndices[k]) == i { diagonal = darcy.values[k] }
      }
      bound = max(bound, sum / diagonal)
    }
    #expect(abs(estimate - bound) <= 1e-12 * bound, "estimate \(estimate), bound \(bound)")
    #expect(estimate >= exact && estimate <= 1.05 * exact, "estimate \(estimate), ρ \(exact)")
    // 9-point stencil (8 on the diagonal, −1 around): ρ(D⁻¹A) → 1.5 while the bound is 2.
    let n = 20
    var coo = COOMatrix<Double>(rows: n * n, columns: n * n, reserve: 9 * n * n)
    for i in 0..<n {
      for j in 0..<n {
        coo.append(i * n + j, i * n + j, 8)
        for di in -1...1 {
          for dj in -1...1 where (di, dj) != (0, 0) && (0..<n).contains(i + di) && (0..<n).contains(j + dj) {
            coo.append(i * n + j, (i + di) * n + j + dj, -1)
          }
        }
      }
    }
    let nine = try coo.csr()
    let rho = referenceRadius(nine)
    let lanczos = try SmoothedAggregationAMG(nine).levelSummaries[0].spectralRadius!
    #expect(rho > 1.4 && rho < 1.5)
    #expect(lanczos <= rho * (1 + 1e-9) && lanczos >= 0.97 * rho, "estimate \(lanczos), ρ \(rho)")
  }

  @Test("the hierarchy is pyamg's: same levels and nonzeros, Galerkin operators")
  func hierarchy() throws {
    let a = try amgPoisson2D(48)
    let amg = try SmoothedAggregationAMG(a)
    // pyamg 5.4.1: smoothed_aggregation_solver(poisson((48, 48))).
    #expect(amg.levelSummaries.map(\.rows) == [2304, 396, 45, 6])
    #expect(amg.levelSummaries.map(\.nonzeros) == [11328, 3430, 413, 32])
    // pyamg's ml.solve(ones, tol=1e-8, accel='cg') takes 8 iterations.
    let (s, _) = amgCG(a, [Double](repeating: 1, count: a.rows), amg)
    #expect(s.converged && s.iterations <= 9, "\(s.iterations) iterations")
    #expect(amg.operatorComplexity > 1 && amg.operatorComplexity < 2)
    #expect(amg.gridComplexity > 1 && amg.gridComplexity < 1.3)
    // A_1 = Pᵀ A_0 P, checked densely.
    let p = amg.prolongator(0).dense()
    let a1 = amg.levelOperator(1).dense()
    let galerkin = try p.matmul(try a.dense().matmul(p), transposeSelf: true)
    let diff = zip(a1.scalars, galerkin.scalars).map { abs($0 - $1) }.max()!
    #expect(diff < 1e-12 * galerkin.scalars.map(abs).max()!)
    #expect(amg.levelOperator(1).isSymmetric(tolerance: 1e-12))
    // Aggregates cover every node of the connected grid.
    #expect(amg.aggregates(0).allSatisfy { $0 >= 0 })
    #expect(amg.hierarchyDescription.contains("operator complexity"))
  }

  @Test("AMG-CG iterations on 2D Poisson stay flat as the grid is refined; plain CG's grow like 1/h")
  func poissonScaling() throws {
    var amgIterations: [Int] = []
    var cgIterations: [Int] = []
    for n in [32, 64, 128] {
      let a = try amgPoisson2D(n)
      let b = amgRandomVector(a.rows, seed: UInt64(n))
      let amg = try SmoothedAggregationAMG(a)
      let (s, _) = amgCG(a, b, amg)
      #expect(s.converged && s.relativeResidual <= 1e-8)
      amgIterations.append(s.iterations)
      let (plain, _) = amgCG(a, b, nil)
      #expect(plain.converged)
      cgIterations.append(plain.iterations)
    }
    #expect(amgIterations.allSatisfy { $0 <= 15 }, "AMG-CG iterations \(amgIterations)")
    #expect(amgIterations.max()! - amgIterations.min()! <= 3, "AMG-CG iterations \(amgIterations)")
    // Plain CG: about doubling per refinement.
    #expect(Double(cgIterations[2]) > 3 * Double(cgIterations[0]), "CG iterations \(cgIterations)")
    #expect(cgIterations[2] > 10 * amgIterations[2])
  }

  @Test("AMG-CG on a jumping-coefficient (12/3) Darcy matrix converges with flat iteration counts")
  func darcy() throws {
    var iterations: [Int] = []
    for n in [32, 64, 128] {
      let a = try amgDarcyMatrix(n, coefficient: amgPatchCoefficient(n, patch: n / 8, seed: 7))
      let b = [Double](repeating: 1, count: a.rows)
      let amg = try SmoothedAggregationAMG(a)
      let (s, _) = amgCG(a, b, amg)
      #expect(s.converged && s.relativeResidual <= 1e-8)
      iterations.append(s.iterations)
    }
    #expect(iterations.allSatisfy { $0 <= 20 }, "AMG-CG iterations \(iterations)")
    #expect(iterations.max()! - iterations.min()! <= 4, "AMG-CG iterations \(iterations)")
  }

  @Test("update() for a new coefficient matches a fresh setup and solves correctly")
  func update() throws {
    let n = 64
    let a1 = try amgDarcyMatrix(n, coefficient: amgPatchCoefficient(n, patch: 8, seed: 1))
    let a2 = try amgDarcyMatrix(n, coefficient: amgPatchCoefficient(n, patch: 4, seed: 2))
    #expect(a1.rowPointers == a2.rowPointers && a1.columnIndices == a2.columnIndices)
    let b = amgRandomVector(a1.rows, seed: 5)
    let amg = try SmoothedAggregationAMG(a1)
    let (s1, _) = amgCG(a1, b, amg)
    #expect(s1.converged)
    try amg.update(a2)
    #expect(amg.updateSeconds > 0)
    let (s2, x2) = amgCG(a2, b, amg)
    let fresh = try SmoothedAggregationAMG(a2)
    let (sf, _) = amgCG(a2, b, fresh)
    #expect(s2.converged && sf.converged)
    #expect(abs(s2.iterations - sf.iterations) <= 1, "updated \(s2.iterations), fresh \(sf.iterations)")
    // The refreshed hierarchy equals the fresh one (θ = 0: aggregation depends on the pattern only).
    #expect(amg.levelSummaries.map(\.rows) == fresh.levelSummaries.map(\.rows))
    let c1 = amg.levelOperator(1).values
    let c2 = fresh.levelOperator(1).values
    #expect(zip(c1, c2).map { abs($0 - $1) }.max()! <= 1e-10 * c2.map(abs).max()!)
    // The solution against CHOLMOD.
    let exact = try CholmodCholesky(a2).solve(b)
    let err = zip(x2, exact).map { abs($0 - $1) }.max()!
    #expect(err <= 1e-6 * exact.map(abs).max()!)
    // A different pattern is rejected.
    #expect(throws: SolverSetupError.self) { try amg.update(try amgPoisson2D(n + 1)) }
  }

  @Test("bad input throws: non-square, zero or negative diagonal")
  func badInput() throws {
    var rect = COOMatrix<Double>(rows: 3, columns: 4)
    rect.append(0, 0, 1)
    #expect(throws: SolverSetupError.self) { try SmoothedAggregationAMG(try rect.csr()) }
    var zeroDiagonal = COOMatrix<Double>(rows: 3, columns: 3)
    zeroDiagonal.append(0, 0, 2)
    zeroDiagonal.append(0, 1, -1)
    zeroDiagonal.append(1, 0, -1)
    zeroDiagonal.append(2, 2, 1)
    #expect(throws: SolverSetupError.self) { try SmoothedAggregationAMG(try zeroDiagonal.csr()) }
    let negative = try amgPoisson2D(4)
    var values = negative.values
    values[0] = -4
    let neg = try CSRMatrix(
      rows: 16, columns: 16, rowPointers: negative.rowPointers, columnIndices: negative.columnIndices, values: values)
    #expect(throws: SolverSetupError.self) { try SmoothedAggregationAMG(neg) }
  }

  @Test("a tiny matrix is a single level solved directly; maxLevels = 2 uses CHOLMOD on a big coarse level")
  func coarseSolvers() throws {
    let small = try amgPoisson2D(3)
    let one = try SmoothedAggregationAMG(small)
    #expect(one.levelCount == 1)
    let b = amgRandomVector(9, seed: 1)
    let (s, _) = amgCG(small, b, one)
    #expect(s.converged && s.iterations <= 1)
    let a = try amgPoisson2D(64)
    let two = try SmoothedAggregationAMG(a, options: AMGOptions(maxLevels: 2))
    #expect(two.levelCount == 2)
    #expect(two.hierarchyDescription.contains("CHOLMOD"))
    let (s2, _) = amgCG(a, amgRandomVector(a.rows, seed: 2), two)
    #expect(s2.converged && s2.iterations <= 15)
  }

  /// Benchmark side of bench/solvers/amg_compare.py, run in release with AMG_BENCH_DIR set:
  /// writes the 256² Poisson and Darcy matrices as Matrix Market files and one JSON line per
  /// problem (hierarchy, setup/update/solve seconds as medians, CG iterations) to `pdekit.jsonl`.
  @Test(
    "benchmark for bench/solvers/amg_compare.py (only with AMG_BENCH_DIR)",
    .enabled(if: ProcessInfo.processInfo.environment["AMG_BENCH_DIR"] != nil))
  func benchmark() throws {
    let env = ProcessInfo.processInfo.environment
    let dir = URL(fileURLWithPath: env["AMG_BENCH_DIR"]!)
    let n = Int(env["AMG_BENCH_N"] ?? "256")!
    let reps = Int(env["AMG_BENCH_REPS"] ?? "7")!
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    // FNO-style Darcy coefficient: a Gaussian random field thresholded at 0 → 12 / 3.
    let grf = try GaussianRandomField(shape: [n, n], alpha: 2, tau: 3)
    let field = grf.sample(seed: 2024, index: 0).scalars
    let coefficient = field.map { $0 >= 0 ? 12.0 : 3.0 }
    let field2 = grf.sample(seed: 2024, index: 1).scalars.map { $0 >= 0 ? 12.0 : 3.0 }
    let problems: [(String, CSRMatrix<Double>, CSRMatrix<Double>?)] = [
      ("poisson", try amgPoisson2D(n), nil),
      ("darcy", try amgDarcyMatrix(n, coefficient: coefficient), try amgDarcyMatrix(n, coefficient: field2)),
    ]
    var lines: [String] = []
    func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    for (label, a, a2) in problems {
      let name = "\(label)\(n)"
      try MatrixMarket.write(a, to: dir.appendingPathComponent("\(name).mtx"))
      if let a2 { try MatrixMarket.write(a2, to: dir.appendingPathComponent("\(name)_b.mtx")) }
      let b = [Double](repeating: 1, count: a.rows)
      var setup: [Double] = []
      var solve: [Double] = []
      var update: [Double] = []
      var iterations = 0
      var residual = 0.0
      var amg = try SmoothedAggregationAMG(a)
      let cg = ConjugateGradient(dimension: a.rows)
      for _ in 0..<reps {
        amg = try SmoothedAggregationAMG(a)
        setup.append(amg.setupSeconds)
        var x = [Double](repeating: 0, count: a.rows)
        let s = cg.solve(a, b, &x, preconditioner: amg, options: KrylovOptions(rtol: 1e-8))
        #expect(s.converged)
        solve.append(s.seconds)
        iterations = s.iterations
        residual = s.relativeResidual
      }
      // One V-cycle alone.
      var z = [Double](repeating: 0, count: a.rows)
      var cycle: [Double] = []
      for _ in 0..<reps {
        let t0 = Date()
        b.withUnsafeBufferPointer { bp in
          z.withUnsafeMutableBufferPointer { amg.apply(bp.baseAddress!, $0.baseAddress!) }
        }
        cycle.append(Date().timeIntervalSince(t0))
      }
      var updateIterations = -1
      var freshIterations = -1
      if let a2 {
        for _ in 0..<reps {
          try amg.update(a2)
          update.append(amg.updateSeconds)
          try amg.update(a)
        }
        try amg.update(a2)
        var x = [Double](repeating: 0, count: a.rows)
        updateIterations = cg.solve(a2, b, &x, preconditioner: amg, options: KrylovOptions(rtol: 1e-8)).iterations
        x = [Double](repeating: 0, count: a.rows)
        let fresh = try SmoothedAggregationAMG(a2)
        freshIterations = cg.solve(a2, b, &x, preconditioner: fresh, options: KrylovOptions(rtol: 1e-8)).iterations
      }
      let levels = amg.levelSummaries.map { "[\($0.rows), \($0.nonzeros)]" }.joined(separator: ", ")
      lines.append(
        "{\"problem\": \"\(name)\", \"side\": \"pdekit\", \"levels\": [\(levels)], "
          + "\"operator_complexity\": \(amg.operatorComplexity), \"grid_complexity\": \(amg.gridComplexity), "
          + "\"setup_s\": \(median(setup)), \"solve_s\": \(median(solve)), \"cycle_s\": \(median(cycle)), "
          + "\"iterations\": \(iterations), \"relative_residual\": \(residual), "
          + "\"update_s\": \(update.isEmpty ? "null" : "\(median(update))"), "
          + "\"update_iterations\": \(updateIterations), \"fresh_iterations\": \(freshIterations)}")
      print(amg.hierarchyDescription)
    }
    try (lines.joined(separator: "\n") + "\n").write(
      to: dir.appendingPathComponent("pdekit.jsonl"), atomically: true, encoding: .utf8)
  }
}
