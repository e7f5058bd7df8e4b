import Foundation
import Numerics
import Solvers
import Testing

// MARK: - Helpers (private: other test files define similarly named ones)

/// 5-point −Δ on an n×n interior grid (h = 1/(n+1)), plus a first-order term c·∂x (central) when c ≠ 0.
private func rcStencil(_ n: Int, c: Double = 0, shift: Double = 0) throws -> CSRMatrix<Double> {
  let h = 1 / Double(n + 1)
  var coo = COOMatrix<Double>(rows: n * n, columns: n * n)
  for i in 0..<n {
    for j in 0..<n {
      let r = i * n + j
      if i > 0 { coo.append(r, r - n, -1 / (h * h)) }
      if j > 0 { coo.append(r, r - 1, -1 / (h * h) - c / (2 * h)) }
      coo.append(r, r, 4 / (h * h) + shift)
      if j < n - 1 { coo.append(r, r + 1, -1 / (h * h) + c / (2 * h)) }
      if i < n - 1 { coo.append(r, r + n, -1 / (h * h)) }
    }
  }
  return try coo.csr()
}

private func rcRandom(_ n: Int, seed: UInt64) -> [Double] { NDArray<Double>.randomNormal([n], seed: seed).scalars }

private func rcNorm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }

private func rcRelativeDifference(_ x: [Double], _ y: [Double]) -> Double {
  rcNorm(zip(x, y).map { $0 - $1 }) / max(rcNorm(y), 1e-300)
}

private func rcResidual(_ a: CSRMatrix<Double>, _ x: [Double], _ b: [Double]) -> Double {
  var ax = [Double](repeating: 0, count: a.rows)
  x.withUnsafeBufferPointer { xp in ax.withUnsafeMutableBufferPointer { a.multiply(xp, into: $0) } }
  return rcNorm(zip(b, ax).map { $0 - $1 }) / rcNorm(b)
}

/// Smooth right-hand side sin(πx)sin(πy)(1 + t·x) on the n×n interior grid.
private func rcSmooth(_ n: Int, t: Double = 0) -> [Double] {
  let h = 1 / Double(n + 1)
  return (0..<(n * n)).map { p in
    let (x, y) = (Double(p % n + 1) * h, Double(p / n + 1) * h)
    return sin(.pi * x) * sin(.pi * y) * (1 + t * x) + 0.3 * sin(3 * .pi * x) * sin(2 * .pi * y) * t
  }
}

/// Darcy coefficients exp(GRF) on an n×n cell grid (SKR's recipe, α = 2.5, τ = 7).
private func rcDarcyCoefficients(_ n: Int, count: Int, seed: UInt64) throws -> [[Double]] {
  let grf = try GaussianRandomField(shape: [n, n], alpha: 2.5, tau: 7)
  return (0..<count).map { i in grf.sample(seed: seed, index: UInt64(i)).scalars.map { exp($0) } }
}

/// A = H T H with H = I − 2vvᵀ (a Householder reflector) and T given by `apply`.
private struct RCReflected: LinearOperator {
  let rows: Int
  var columns: Int { rows }
  let v: [Double]
  let inner: @Sendable ([Double]) -> [Double]

  func reflect(_ x: [Double]) -> [Double] {
    let t = 2 * zip(v, x).reduce(0) { $0 + $1.0 * $1.1 }
    return zip(x, v).map { $0 - t * $1 }
  }

  func apply(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
    let out = reflect(inner(reflect(Array(UnsafeBufferPointer(start: x, count: rows)))))
    for i in 0..<rows { y[i] = out[i] }
  }

  func times(_ x: [Double]) -> [Double] {
    var y = [Double](repeating: 0, count: rows)
    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { apply(xp.baseAddress!, $0.baseAddress!) } }
    return y
  }
}

private func rcReflector(_ n: Int, seed: UInt64) -> [Double] {
  let v = rcRandom(n, seed: seed)
  let norm = rcNorm(v)
  return v.map { $0 / norm }
}

// MARK: - Tests

@Suite("Krylov recycling: GCRO-DR, recycled CG, orderings, sequences")
struct RecyclingTests {
  @Test("GCRO-DR(m, 0) reproduces GMRES(m): same iterations, same solution")
  func gcrodrWithoutRecyclingIsGMRES() throws {
    let a = try rcStencil(20, c: 40)
    let b = rcRandom(a.rows, seed: 3)
    let options = KrylovOptions(rtol: 1e-10, history: true)
    var xg = [Double](repeating: 0, count: a.rows)
    let gmres = GMRES(dimension: a.rows, restart: 20).solve(a, b, &xg, options: options)
    var xr = [Double](repeating: 0, count: a.rows)
    let solver = GCRODR(dimension: a.rows, restart: 20, recycle: 0)
    let stats = solver.solve(a, b, &xr, options: options)
    #expect(gmres.converged && stats.converged)
    #expect(stats.iterations == gmres.iterations)
    #expect(gmres.iterations > 20, "the test needs restarts")
    #expect(rcRelativeDifference(xr, xg) < 1e-10)
    #expect(zip(stats.residualHistory, gmres.residualHistory).allSatisfy { abs($0 - $1) <= 1e-12 + 1e-8 * $1 })
    // With right preconditioning too.
    let ilu = try IncompleteLUPreconditioner(a)
    var xg2 = [Double](repeating: 0, count: a.rows)
    var xr2 = [Double](repeating: 0, count: a.rows)
    let g2 = GMRES(dimension: a.rows, restart: 10).solve(a, b, &xg2, preconditioner: ilu, options: options)
    let r2 = GCRODR(dimension: a.rows, restart: 10, recycle: 0).solve(a, b, &xr2, preconditioner: ilu, options: options)
    #expect(r2.iterations == g2.iterations && r2.converged)
    #expect(rcRelativeDifference(xr2, xg2) < 1e-10)
  }

  @Test("Fixed matrix, many right-hand sides: iterations fall after the first solve; answers match UMFPACK/CHOLMOD")
  func fixedMatrixManyRightHandSides() throws {
    // Nonsymmetric: GCRO-DR(30, 10) vs the direct LU.
    let a = try rcStencil(24, c: 5)
    let lu = try UmfpackLU(a)
    let gcrodr = GCRODR(dimension: a.rows, restart: 30, recycle: 10)
    let options = KrylovOptions(rtol: 1e-10)
    var counts: [Int] = []
    for s in 0..<5 {
      let b = rcRandom(a.rows, seed: 100 + UInt64(s))
      var x = [Double](repeating: 0, count: a.rows)
      let stats = gcrodr.solve(a, b, &x, options: options, operatorChanged: s == 0)
      #expect(stats.converged, "\(stats.reason)")
      #expect(stats.relativeResidual <= 1e-10)
      #expect(rcResidual(a, x, b) <= 1e-10)
      #expect(rcRelativeDifference(x, try lu.solve(b)) < 1e-7)
      counts.append(stats.iterations)
    }
    #expect(counts.dropFirst().allSatisfy { $0 < counts[0] }, "GCRO-DR iterations \(counts)")
    #expect(gcrodr.recycleDimension >= 10)

    // SPD: recycled CG with and without SSOR vs CHOLMOD.
    let s = try rcStencil(24, shift: 0)
    let chol = try CholmodCholesky(s)
    for pc in [nil, try SSORPreconditioner(s, omega: 1.2)] as [Preconditioner?] {
      let rcg = RecycledCG(dimension: s.rows, recycle: 10)
      var cgCounts: [Int] = []
      for t in 0..<5 {
        let b = rcRandom(s.rows, seed: 200 + UInt64(t))
        var x = [Double](repeating: 0, count: s.rows)
        let stats = rcg.solve(s, b, &x, preconditioner: pc, options: options, operatorChanged: t == 0)
        #expect(stats.converged, "\(stats.reason)")
        #expect(rcResidual(s, x, b) <= 1e-10)
        #expect(rcRelativeDifference(x, try chol.solve(b)) < 1e-7)
        cgCounts.append(stats.iterations)
      }
      #expect(cgCounts.dropFirst().allSatisfy { $0 < cgCounts[0] }, "recycled CG iterations \(cgCounts)")
      #expect(cgCounts.last! < cgCounts[0] * 3 / 4, "recycled CG iterations \(cgCounts)")
    }
  }

  @Test("Deflated CG with exact eigenvectors: ≤ d iterations for d remaining eigenvalues; within the κ bound")
  func exactDeflationCG() throws {
    // A = H D H: k tiny distinct eigenvalues, the rest only d = 4 distinct values.
    let (n, k, d) = (200, 6, 4)
    var diagonal = [Double](repeating: 0, count: n)
    for i in 0..<n { diagonal[i] = i < k ? 1e-4 * Double(i + 1) : Double(1 + (i - k) % d) }
    let v = rcReflector(n, seed: 11)
    let dd = diagonal
    let a = RCReflected(rows: n, v: v, inner: { x in zip(dd, x).map(*) })
    let eigenvectors = (0..<k).map { i in a.reflect((0..<n).map { $0 == i ? 1.0 : 0.0 }) }
    let b = rcRandom(n, seed: 12)
    let options = KrylovOptions(rtol: 1e-10)
    let rcg = RecycledCG(dimension: n, recycle: k)
    rcg.setRecycleSpace(eigenvectors, operator: a)
    var x = [Double](repeating: 0, count: n)
    let stats = rcg.solve(a, b, &x, options: options, operatorChanged: false)
    #expect(stats.converged)
    #expect(stats.iterations <= d, "deflated CG took \(stats.iterations) iterations for \(d) distinct eigenvalues")
    let r = zip(b, a.times(x)).map { $0 - $1 }
    #expect(rcNorm(r) / rcNorm(b) <= 1e-10)
    // Plain CG needs many more (the tiny eigenvalues).
    var x0 = [Double](repeating: 0, count: n)
    let plain = ConjugateGradient(dimension: n).solve(a, b, &x0, options: options)
    #expect(plain.iterations > 2 * d)

    // 2D Laplacian with its exact sine eigenvectors: the k smallest deflated, the iteration count stays
    // within the CG bound ½√κ_eff ln(2/ε) of the remaining spectrum λ_{k+1}..λ_max.
    let m = 20
    let lap = try rcStencil(m)
    let h = 1 / Double(m + 1)
    var modes: [(lambda: Double, p: Int, q: Int)] = []
    for p in 1...m {
      for q in 1...m {
        let lambda = (4 - 2 * cos(Double(p) * .pi * h) - 2 * cos(Double(q) * .pi * h)) / (h * h)
        modes.append((lambda, p, q))
      }
    }
    modes.sort { $0.lambda < $1.lambda }
    let kk = 9  // λ_9 < λ_10 (not a degenerate pair split)
    let vectors = modes.prefix(kk).map { mode in
      (0..<(m * m)).map { idx in
        sin(Double(mode.p) * .pi * Double(idx % m + 1) * h) * sin(Double(mode.q) * .pi * Double(idx / m + 1) * h)
      }
    }
    let kappa = modes.last!.lambda / modes[kk].lambda
    let bound = Int((0.5 * kappa.squareRoot() * log(2 / 1e-10)).rounded(.up))
    let rhs = rcRandom(m * m, seed: 13)
    let deflated = RecycledCG(dimension: m * m, recycle: kk)
    deflated.setRecycleSpace(vectors, operator: lap)
    var y = [Double](repeating: 0, count: m * m)
    let ds = deflated.solve(lap, rhs, &y, options: options, operatorChanged: false)
    var y0 = [Double](repeating: 0, count: m * m)
    let cs = ConjugateGradient(dimension: m * m).solve(lap, rhs, &y0, options: options)
    #expect(ds.converged && cs.converged)
    #expect(ds.iterations <= bound, "deflated \(ds.iterations) > bound \(bound)")
    #expect(ds.iterations < cs.iterations, "deflated \(ds.iterations) vs CG \(cs.iterations)")
    #expect(rcRelativeDifference(y, try CholmodCholesky(lap).solve(rhs)) < 1e-7)
  }

  @Test("GCRO-DR with an exact invariant subspace: ≤ d iterations for d remaining eigenvalues")
  func exactInvariantSubspaceGCRODR() throws {
    // T = [T11 T12; 0 diag(d values)], nonsymmetric; span(e_1..e_k) is invariant. A = H T H.
    let (n, k, d) = (160, 5, 5)
    let t12 = rcRandom(k * (n - k), seed: 21)
    var t11 = [Double](repeating: 0, count: k * k)
    for i in 0..<k {
      t11[i * k + i] = 1e-2 * Double(i + 1) * (i % 2 == 0 ? 1 : -1)
      for j in (i + 1)..<k { t11[i * k + j] = 0.01 }
    }
    let tail = (0..<(n - k)).map { Double([3, -2, 5, 7, -4][$0 % d]) }
    let (a11, a12) = (t11, t12)
    let inner: @Sendable ([Double]) -> [Double] = { x in
      var y = [Double](repeating: 0, count: n)
      for i in 0..<k {
        var s = 0.0
        for j in 0..<k { s += a11[i * k + j] * x[j] }
        for j in 0..<(n - k) { s += a12[i * (n - k) + j] * x[k + j] }
        y[i] = s
      }
      for j in 0..<(n - k) { y[k + j] = tail[j] * x[k + j] }
      return y
    }
    let a = RCReflected(rows: n, v: rcReflector(n, seed: 22), inner: inner)
    let basis = (0..<k).map { i in a.reflect((0..<n).map { $0 == i ? 1.0 : 0.0 }) }
    let b = rcRandom(n, seed: 23)
    let options = KrylovOptions(rtol: 1e-10)
    let solver = GCRODR(dimension: n, restart: 20, recycle: k)
    solver.setRecycleSpace(basis, operator: a)
    var x = [Double](repeating: 0, count: n)
    let stats = solver.solve(a, b, &x, options: options, operatorChanged: false)
    #expect(stats.converged)
    #expect(stats.iterations <= d, "GCRO-DR took \(stats.iterations) iterations for \(d) distinct eigenvalues")
    let r = zip(b, a.times(x)).map { $0 - $1 }
    #expect(rcNorm(r) / rcNorm(b) <= 1e-10)
    var xg = [Double](repeating: 0, count: n)
    let plain = GMRES(dimension: n, restart: 20).solve(a, b, &xg, options: options)
    #expect(plain.iterations > d)
  }

  @Test("Darcy sequence with varying coefficient: recycled CG and GCRO-DR beat the independent baselines")
  func darcySequence() throws {
    let n = 24
    let coefficients = try rcDarcyCoefficients(n, count: 10, seed: 5)
    let f = [Double](repeating: 1, count: n * n)
    let systems = try coefficients.map { a in
      let p = try Darcy.discretize(dimension: 2, n: n, coefficient: a, source: f)
      return LinearSystem(matrix: p.matrix, rhs: p.rhs)
    }
    let options = KrylovOptions(rtol: 1e-10)
    let baselineCG = try solveSequence(
      systems, algorithm: .independent(.cg(), warmStart: false), ordering: .identity,
      features: coefficients, options: options)
    let recycled = try solveSequence(
      systems, algorithm: .recycledCG(k: 8), ordering: .greedy, features: coefficients,
      options: options)
    let recycledJacobi = try solveSequence(
      systems, algorithm: .recycledCG(k: 8, preconditioner: .jacobi),
      ordering: .greedy, features: coefficients, options: options)
    let baselineGMRES = try solveSequence(
      systems, algorithm: .independent(.gmres(restart: 30), warmStart: false),
      ordering: .identity, features: coefficients, options: options)
    let gcrodr = try solveSequence(
      systems, algorithm: .gcrodr(m: 30, k: 10), ordering: .greedy, features: coefficients,
      options: options)
    for result in [baselineCG, recycled, recycledJacobi, baselineGMRES, gcrodr] {
      #expect(result.allConverged)
      #expect(Set(result.permutation) == Set(0..<systems.count))
    }
    #expect(
      recycled.totalIterations < baselineCG.totalIterations,
      "\(recycled.totalIterations) vs \(baselineCG.totalIterations)")
    #expect(
      gcrodr.totalIterations < baselineGMRES.totalIterations,
      "\(gcrodr.totalIterations) vs \(baselineGMRES.totalIterations)")
    // Every solution against CHOLMOD, in the original order.
    for (i, system) in systems.enumerated() {
      let exact = try CholmodCholesky(system.matrix).solve(system.rhs)
      for result in [recycled, recycledJacobi, gcrodr] {
        #expect(rcResidual(system.matrix, result.solutions[i], system.rhs) <= 1e-10)
        #expect(rcRelativeDifference(result.solutions[i], exact) < 1e-7)
      }
    }
  }

  @Test("Advection–diffusion with varying velocity: GCRO-DR beats independent GMRES; matches UMFPACK")
  func advectionDiffusionSequence() throws {
    let n = 20
    let f = rcSmooth(n, t: 0.5)
    var systems: [LinearSystem] = []
    var features: [[Double]] = []
    for i in 0..<10 {
      let angle = 0.3 + 0.7 * Double((i * 7) % 10) / 10  // shuffled along a one-parameter family
      let velocity = [20 * cos(angle), 20 * sin(angle)]
      let p = try AdvectionDiffusion.discretize(
        dimension: 2, n: n, diffusivity: 0.05, velocity: .constant(velocity), source: f, scheme: .central)
      systems.append(LinearSystem(matrix: p.matrix, rhs: p.rhs))
      features.append(velocity)
    }
    let options = KrylovOptions(rtol: 1e-9)
    let baseline = try solveSequence(
      systems, algorithm: .independent(.gmres(restart: 30), warmStart: false),
      ordering: .identity, features: features, options: options)
    let warm = try solveSequence(
      systems, algorithm: .independent(.gmres(restart: 30), warmStart: true),
      ordering: .greedy, features: features, options: options)
    let gcrodr = try solveSequence(
      systems, algorithm: .gcrodr(m: 30, k: 10), ordering: .greedy, features: features,
      options: options)
    let gcrodrIlu = try solveSequence(
      systems, algorithm: .gcrodr(m: 30, k: 10, preconditioner: .ilu0),
      ordering: .greedy, features: features, options: options)
    for result in [baseline, warm, gcrodr, gcrodrIlu] { #expect(result.allConverged) }
    #expect(
      gcrodr.totalIterations < baseline.totalIterations, "\(gcrodr.totalIterations) vs \(baseline.totalIterations)")
    #expect(gcrodr.totalIterations < warm.totalIterations, "\(gcrodr.totalIterations) vs \(warm.totalIterations)")
    for (i, system) in systems.enumerated() {
      let exact = try UmfpackLU(system.matrix).solve(system.rhs)
      for result in [gcrodr, gcrodrIlu] {
        #expect(rcResidual(system.matrix, result.solutions[i], system.rhs) <= 1e-9)
        #expect(rcRelativeDifference(result.solutions[i], exact) < 1e-6)
      }
    }
  }

  @Test("Indefinite Helmholtz (real 2×2 block form), varying wavenumber, ILU(0): GCRO-DR converges, beats GMRES")
  func helmholtzSequence() throws {
    let n = 21
    let grid = try Helmholtz.grid(dimension: 2, n: n)
    let source = grid.sample { p in exp(-200 * ((p[0] - 0.4) * (p[0] - 0.4) + (p[1] - 0.6) * (p[1] - 0.6))) }
    var systems: [LinearSystem] = []
    for i in 0..<6 {
      let k = 10 + 0.2 * Double(i)  // k² ≈ 100 > 2π²: about eight negative eigenvalues in the real form
      let p = try Helmholtz.discretize(
        dimension: 2, n: n, wavenumber: [Double](repeating: k, count: grid.count), source: source)
      systems.append(LinearSystem(matrix: p.matrix, rhs: p.rhs))
    }
    let options = KrylovOptions(rtol: 1e-8, maxIterations: 3000)
    let gmres = try solveSequence(
      systems, algorithm: .independent(.gmres(restart: 40, preconditioner: .ilu0), warmStart: true),
      ordering: .identity,
      options: options)
    let gcrodr = try solveSequence(
      systems, algorithm: .gcrodr(m: 40, k: 20, preconditioner: .ilu0), ordering: .identity, options: options)
    #expect(gcrodr.allConverged)
    #expect(gcrodr.totalIterations < gmres.totalIterations, "\(gcrodr.totalIterations) vs \(gmres.totalIterations)")
    for (i, system) in systems.enumerated() {
      #expect(rcResidual(system.matrix, gcrodr.solutions[i], system.rhs) <= 1e-8)
      let exact = try UmfpackLU(system.matrix).solve(system.rhs)
      #expect(rcRelativeDifference(gcrodr.solutions[i], exact) < 1e-4)
    }
  }

  @Test("Orderings: permutations, deterministic, greedy and Hilbert shorten a shuffled one-parameter family")
  func orderings() throws {
    let count = 60
    var rng = PhiloxRandom(seed: 9)
    var order = Array(0..<count)
    order.shuffle(using: &rng)
    // Fields along an open curve t ↦ f(t) in R^80, t ∈ [0, 1), visited in shuffled order.
    let features = order.map { i -> [Double] in
      let t = Double(i) / Double(count)
      return (0..<80).map { (j: Int) -> Double in
        let phase: Double = 2.5 * t + Double(j) * 0.2
        let bend: Double = 0.3 * t * t * Double(j % 7)
        return sin(phase) + bend
      }
    }
    let identity = SequenceOrdering.pathLength(features, Array(0..<count))
    for ordering in [SequenceOrdering.greedy, .hilbert(), .hilbert(components: 1, sampleSize: 16)] {
      let p = try ordering.permutation(features)
      #expect(p.sorted() == Array(0..<count), "\(ordering) is not a permutation")
      #expect(try ordering.permutation(features) == p, "\(ordering) is not deterministic")
      let length = SequenceOrdering.pathLength(features, p)
      #expect(length < 0.5 * identity, "\(ordering): path \(length) vs identity \(identity)")
    }
    let greedy = try SequenceOrdering.greedy.permutation(features)
    #expect(greedy.first == 0)
    #expect(try SequenceOrdering.identity.permutation(features) == Array(0..<count))
    #expect(throws: SolverSetupError.self) { try SequenceOrdering.greedy.permutation([[1, 2], [1]]) }
  }

  @Test("Stale-subspace guard fires when the matrices change completely halfway")
  func staleGuard() throws {
    let n = 16
    let base = try rcStencil(n)
    // Second half: a randomly permuted, shifted copy (eigenvectors scrambled), random right-hand sides.
    var rng = PhiloxRandom(seed: 4)
    var perm = Array(0..<(n * n))
    perm.shuffle(using: &rng)
    var inverse = perm
    for (i, p) in perm.enumerated() { inverse[p] = i }
    var coo = COOMatrix<Double>(rows: n * n, columns: n * n)
    for i in 0..<(n * n) {
      for k in Int(base.rowPointers[i])..<Int(base.rowPointers[i + 1]) {
        let j = Int(base.columnIndices[k])
        coo.append(inverse[i], inverse[j], base.values[k] + (i == j ? 50 : 0))
      }
    }
    let scrambled = try coo.csr()
    var systems: [LinearSystem] = []
    for i in 0..<8 { systems.append(LinearSystem(matrix: base, rhs: rcSmooth(n, t: 0.1 * Double(i)))) }
    for i in 0..<8 { systems.append(LinearSystem(matrix: scrambled, rhs: rcRandom(n * n, seed: 300 + UInt64(i)))) }
    let options = KrylovOptions(rtol: 1e-9)
    for algorithm in [SequenceAlgorithm.recycledCG(k: 8, warmStart: false), .gcrodr(m: 30, k: 10, warmStart: false)] {
      let result = try solveSequence(systems, algorithm: algorithm, ordering: .identity, options: options)
      #expect(result.allConverged)
      let fired = result.diagnostics.indices.filter { result.diagnostics[$0].guardFired }
      #expect(!fired.isEmpty, "\(algorithm): guard never fired; ratios \(result.diagnostics.map(\.projectionRatio))")
      #expect(fired.allSatisfy { $0 >= 8 }, "\(algorithm): guard fired at \(fired)")
      let firstHalf = result.diagnostics[1..<8].compactMap(\.projectionRatio)
      #expect(firstHalf.allSatisfy { $0 < 0.5 }, "\(algorithm): first-half ratios \(firstHalf)")
      // With the guard off nothing fires.
      let quiet = try solveSequence(
        systems, algorithm: algorithm, ordering: .identity, options: options,
        staleGuard: .off)
      #expect(quiet.guardEvents == 0)
    }
    // `.drop` disables recycling for the rest of the sequence.
    let dropped = try solveSequence(
      systems, algorithm: .gcrodr(m: 30, k: 10, warmStart: false), ordering: .identity,
      options: options, staleGuard: StaleGuard(action: .drop))
    #expect(dropped.allConverged)
    if let at = dropped.diagnostics.firstIndex(where: \.guardFired) {
      #expect(dropped.diagnostics[(at + 1)...].allSatisfy { $0.recycleDimension == 0 })
    } else {
      Issue.record("the guard did not fire with .drop")
    }
  }
}
