import Foundation
import Numerics
import Solvers
import Testing

/// 2D convection–diffusion −Δu + c·(∂x u) on an n×n grid, central differences (nonsymmetric).
func convectionDiffusion2D(_ n: Int, c: Double = 20) throws -> CSRMatrix<Double> {
  let h = 1 / Double(n + 1)
  var coo = COOMatrix<Double>(rows: n * n, columns: n * n)
  for i in 0..<n {
    for j in 0..<n {
      let r = i * n + j
      coo.append(r, r, 4 / (h * h))
      if i > 0 { coo.append(r, r - n, -1 / (h * h)) }
      if i < n - 1 { coo.append(r, r + n, -1 / (h * h)) }
      if j > 0 { coo.append(r, r - 1, -1 / (h * h) - c / (2 * h)) }
      if j < n - 1 { coo.append(r, r + 1, -1 / (h * h) + c / (2 * h)) }
    }
  }
  return try coo.csr()
}

/// Tridiagonal SPD matrix: IC(0)/ILU(0) are exact factorizations for it.
func tridiagonal(_ n: Int) throws -> CSRMatrix<Double> {
  var coo = COOMatrix<Double>(rows: n, columns: n)
  for i in 0..<n {
    coo.append(i, i, 2.5)
    if i > 0 { coo.append(i, i - 1, -1) }
    if i < n - 1 { coo.append(i, i + 1, -1) }
  }
  return try coo.csr()
}

func shifted(_ a: CSRMatrix<Double>, by s: Double) -> CSRMatrix<Double> {
  var m = a
  for i in 0..<a.rows {
    for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) where Int(a.columnIndices[k]) == i { m.values[k] += s }
  }
  return m
}

func relativeError(_ x: [Double], _ y: [Double]) -> Double {
  let num = zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
  let den = y.map { $0 * $0 }.reduce(0, +).squareRoot()
  return num / den
}

func randomVector(_ n: Int, seed: UInt64) -> [Double] { NDArray<Double>.randomNormal([n], seed: seed).scalars }

/// M⁻¹ r = −r: a negative definite "preconditioner" for the failure test.
final class NegatingPreconditioner: Preconditioner {
  let name = "negate"
  let dimension: Int
  let isSymmetric = true
  init(_ n: Int) { dimension = n }
  func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) { for i in 0..<dimension { z[i] = -r[i] } }
  func update(_ matrix: CSRMatrix<Double>) throws {}
}

@Suite("Krylov methods against CHOLMOD / dense LU, and their failure reasons")
struct KrylovTests {
  @Test("CG and PCG (Jacobi, SSOR, IC0) reach the CHOLMOD solution; preconditioning cuts iterations")
  func pcg() throws {
    let a = try laplacian2D(24)
    let b = randomVector(a.rows, seed: 1)
    let reference = try CholmodCholesky(a).solve(b)
    let cg = ConjugateGradient(dimension: a.rows)
    let options = KrylovOptions(rtol: 1e-10, history: true)
    var counts: [String: Int] = [:]
    let pcs: [Preconditioner?] = [
      nil, try JacobiPreconditioner(a), try SSORPreconditioner(a, omega: 1.5),
      try IncompleteCholeskyPreconditioner(a),
    ]
    for pc in pcs {
      var x = [Double](repeating: 0, count: a.rows)
      let stats = cg.solve(a, b, &x, preconditioner: pc, options: options)
      #expect(stats.converged, "\(stats.method): \(stats.reason)")
      #expect(stats.relativeResidual <= 1e-10)
      #expect(relativeError(x, reference) < 1e-8)
      #expect(stats.residualHistory.count == stats.iterations + 1)
      counts[pc?.name ?? "none"] = stats.iterations
    }
    #expect(counts["ic0"]! < counts["none"]! / 2)
    #expect(counts["ssor(1.5)"]! < counts["none"]!)
  }

  @Test("CG iterations grow like 1/h on 2D Poisson (ratio ≈ 2 per grid doubling, within [1.6, 2.4])")
  func cgGrowth() throws {
    var its: [Int] = []
    for n in [16, 32, 64] {
      let a = try laplacian2D(n)
      let b = [Double](repeating: 1, count: a.rows)
      var x = [Double](repeating: 0, count: a.rows)
      let s = ConjugateGradient(dimension: a.rows).solve(a, b, &x, options: KrylovOptions(rtol: 1e-8))
      #expect(s.converged)
      its.append(s.iterations)
    }
    for (c, f) in zip(its, its.dropFirst()) {
      let ratio = Double(f) / Double(c)
      #expect(ratio > 1.6 && ratio < 2.4, "iterations \(its)")
    }
  }

  @Test("IC(0) and ILU(0) are exact on a tridiagonal matrix: one iteration")
  func exactIncompleteFactorizations() throws {
    let a = try tridiagonal(50)
    let b = randomVector(50, seed: 2)
    var x = [Double](repeating: 0, count: 50)
    let s1 = ConjugateGradient(dimension: 50).solve(a, b, &x, preconditioner: try IncompleteCholeskyPreconditioner(a))
    #expect(s1.converged && s1.iterations == 1)
    x = [Double](repeating: 0, count: 50)
    let s2 = GMRES(dimension: 50).solve(a, b, &x, preconditioner: try IncompleteLUPreconditioner(a))
    #expect(s2.converged && s2.iterations == 1)
  }

  @Test("GMRES, FGMRES and BiCGStab (plain and ILU0) solve a nonsymmetric system like dense LU")
  func nonsymmetric() throws {
    let a = try convectionDiffusion2D(16)
    let b = randomVector(a.rows, seed: 3)
    let reference = try a.dense().solve(NDArray(shape: [a.rows], data: b)).scalars
    let ilu = try IncompleteLUPreconditioner(a)
    let options = KrylovOptions(rtol: 1e-10)
    for pc in [nil, ilu] as [Preconditioner?] {
      var x1 = [Double](repeating: 0, count: a.rows)
      let s1 = GMRES(dimension: a.rows, restart: 20).solve(a, b, &x1, preconditioner: pc, options: options)
      var x2 = [Double](repeating: 0, count: a.rows)
      let s2 = FGMRES(dimension: a.rows, restart: 20).solve(a, b, &x2, preconditioner: pc, options: options)
      var x3 = [Double](repeating: 0, count: a.rows)
      let s3 = BiCGStab(dimension: a.rows).solve(a, b, &x3, preconditioner: pc, options: options)
      for (s, x) in [(s1, x1), (s2, x2), (s3, x3)] {
        #expect(s.converged, "\(s.method): \(s.reason) after \(s.iterations)")
        #expect(s.relativeResidual <= 1e-10)
        #expect(relativeError(x, reference) < 1e-7, "\(s.method)")
      }
      // With a fixed preconditioner FGMRES and GMRES build the same Krylov space.
      #expect(abs(s1.iterations - s2.iterations) <= 1)
    }
  }

  @Test("MINRES solves symmetric positive definite and symmetric indefinite systems")
  func minres() throws {
    let a = try laplacian2D(14)
    let b = randomVector(a.rows, seed: 4)
    let reference = try CholmodCholesky(a).solve(b)
    var x = [Double](repeating: 0, count: a.rows)
    let s = MINRES(dimension: a.rows).solve(
      a, b, &x, preconditioner: try JacobiPreconditioner(a),
      options: KrylovOptions(rtol: 1e-10))
    #expect(s.converged && relativeError(x, reference) < 1e-8)
    // Shift into the interior of the spectrum: indefinite but nonsingular.
    let indefinite = shifted(a, by: -2.2)
    let ref2 = try indefinite.dense().solve(NDArray(shape: [a.rows], data: b)).scalars
    var y = [Double](repeating: 0, count: a.rows)
    let s2 = MINRES(dimension: a.rows).solve(indefinite, b, &y, options: KrylovOptions(rtol: 1e-10))
    #expect(s2.converged, "\(s2.reason)")
    #expect(relativeError(y, ref2) < 1e-7)
    // CG on the same indefinite matrix must refuse.
    var z = [Double](repeating: 0, count: a.rows)
    let s3 = ConjugateGradient(dimension: a.rows).solve(indefinite, b, &z)
    #expect(s3.reason == .indefiniteOperator)
  }

  @Test("an exact initial guess returns with zero iterations; warm starts keep tolerances relative to ‖b‖")
  func initialGuesses() throws {
    let a = try laplacian2D(10)
    let xTrue = randomVector(a.rows, seed: 5)
    let b = try a.multiply(NDArray(shape: [a.rows], data: xTrue)).scalars
    var x = xTrue
    let s = ConjugateGradient(dimension: a.rows).solve(a, b, &x)
    #expect(s.converged && s.iterations == 0)
    var g = xTrue
    let sg = GMRES(dimension: a.rows).solve(a, b, &g)
    #expect(sg.converged && sg.iterations == 0)
    // A warm start close to the answer: the result still satisfies ‖b − Ax‖ ≤ rtol‖b‖.
    var w = xTrue.enumerated().map { $0.element + 1e-3 * sin(Double($0.offset)) }
    let sw = ConjugateGradient(dimension: a.rows).solve(a, b, &w, options: KrylovOptions(rtol: 1e-9))
    #expect(sw.converged && sw.relativeResidual <= 1e-9 && sw.iterations > 0)
  }

  @Test("failure reasons: max iterations, indefinite preconditioner, breakdown, stagnation")
  func failureReasons() throws {
    let a = try laplacian2D(12)
    let b = randomVector(a.rows, seed: 6)
    var x = [Double](repeating: 0, count: a.rows)
    let s1 = ConjugateGradient(dimension: a.rows).solve(a, b, &x, options: KrylovOptions(maxIterations: 3))
    #expect(s1.reason == .maxIterations && s1.iterations == 3 && !s1.converged)
    x = [Double](repeating: 0, count: a.rows)
    let s2 = ConjugateGradient(dimension: a.rows).solve(a, b, &x, preconditioner: NegatingPreconditioner(a.rows))
    #expect(s2.reason == .indefinitePreconditioner)
    // Rotation by 90°: r̂ᵀ A r = 0 at the first step, BiCGStab breaks down.
    var rot = COOMatrix<Double>(rows: 2, columns: 2)
    rot.append(0, 1, -1)
    rot.append(1, 0, 1)
    let r = try rot.csr()
    var y = [0.0, 0.0]
    let s3 = BiCGStab(dimension: 2).solve(r, [1, 0], &y)
    #expect(s3.reason == .breakdown)
    // Singular matrix with b outside its range: GMRES cannot converge.
    var sing = COOMatrix<Double>(rows: 3, columns: 3)
    sing.append(0, 0, 1)
    sing.append(1, 1, 1)
    let s = try sing.csr()
    var z = [0.0, 0.0, 0.0]
    let s4 = GMRES(dimension: 3, restart: 3).solve(s, [1, 1, 1], &z)
    #expect(s4.reason == .breakdown || s4.reason == .stagnation, "\(s4.reason)")
    #expect(abs(s4.relativeResidual - (1.0 / 3).squareRoot()) < 1e-12)
  }

  @Test("preconditioners: SSOR and IC0 are symmetric operators; bad matrices are rejected")
  func preconditionerProperties() throws {
    let a = try laplacian2D(8)
    let u = randomVector(a.rows, seed: 7)
    let v = randomVector(a.rows, seed: 8)
    for pc in [try SSORPreconditioner(a, omega: 1.3), try IncompleteCholeskyPreconditioner(a)] as [Preconditioner] {
      var mu = [Double](repeating: 0, count: a.rows)
      var mv = mu
      u.withUnsafeBufferPointer { p in mu.withUnsafeMutableBufferPointer { pc.apply(p.baseAddress!, $0.baseAddress!) } }
      v.withUnsafeBufferPointer { p in mv.withUnsafeMutableBufferPointer { pc.apply(p.baseAddress!, $0.baseAddress!) } }
      let vMu = zip(v, mu).map(*).reduce(0, +)
      let uMv = zip(u, mv).map(*).reduce(0, +)
      #expect(abs(vMu - uMv) < 1e-12 * abs(vMu), "\(pc.name)")
      #expect(zip(u, mu).map(*).reduce(0, +) > 0)
    }
    var zeroDiag = COOMatrix<Double>(rows: 2, columns: 2)
    zeroDiag.append(0, 1, 1)
    zeroDiag.append(1, 0, 1)
    zeroDiag.append(1, 1, 1)
    let z = try zeroDiag.csr()
    #expect(throws: SolverSetupError.self) { try JacobiPreconditioner(z) }
    #expect(throws: SolverSetupError.self) { try IncompleteCholeskyPreconditioner(z) }
    #expect(throws: SolverSetupError.self) { try IncompleteLUPreconditioner(z) }
    #expect(throws: SolverSetupError.self) { try SSORPreconditioner(a, omega: 2) }
    // update() on a same-pattern matrix gives the new factorization (exact on tridiagonal).
    let t = try tridiagonal(20)
    let ic = try IncompleteCholeskyPreconditioner(t)
    let t2 = shifted(t, by: 1)
    try ic.update(t2)
    let b = randomVector(20, seed: 9)
    var x = [Double](repeating: 0, count: 20)
    let s = ConjugateGradient(dimension: 20).solve(t2, b, &x, preconditioner: ic)
    #expect(s.converged && s.iterations == 1)
  }
}
