import Foundation
import Numerics
import Solvers
import Testing

/// 2D convection–diffusion −Δu + v·∇u on an m×m grid (Dirichlet, h = 1/(m+1)), 5-point stencil
/// with central differences: the east/west and north/south couplings differ, so A ≠ Aᵀ.
private func directConvectionDiffusion(_ m: Int, velocity v: (Double, Double) = (20, -12)) throws -> CSRMatrix<Double> {
  let h = 1.0 / Double(m + 1)
  var coo = COOMatrix<Double>(rows: m * m, columns: m * m)
  for i in 0..<m {
    for j in 0..<m {
      let r = i * m + j
      coo.append(r, r, 4)
      if j > 0 { coo.append(r, r - 1, -1 - h * v.0 / 2) }
      if j < m - 1 { coo.append(r, r + 1, -1 + h * v.0 / 2) }
      if i > 0 { coo.append(r, r - m, -1 - h * v.1 / 2) }
      if i < m - 1 { coo.append(r, r + m, -1 + h * v.1 / 2) }
    }
  }
  return try coo.csr()
}

/// Dense LAPACK solve (gesv), the reference.
private func directDenseSolve(_ a: CSRMatrix<Double>, _ b: [Double]) throws -> [Double] {
  try a.dense().solve(NDArray(shape: [b.count], data: b)).scalars
}

private func directMaxDiff(_ x: [Double], _ y: [Double]) -> Double {
  zip(x, y).map { abs($0 - $1) }.max() ?? 0
}

/// The matrix P·A·Pᵀ for the permutation `perm` (row/column i of the result is perm[i] of A):
/// same order and number of entries as A, different pattern.
private func directPermuted(_ a: CSRMatrix<Double>, _ perm: [Int]) throws -> CSRMatrix<Double> {
  var inv = [Int](repeating: 0, count: perm.count)
  for (i, p) in perm.enumerated() { inv[p] = i }
  var coo = COOMatrix<Double>(rows: a.rows, columns: a.columns)
  for i in 0..<a.rows {
    for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
      coo.append(inv[i], inv[Int(a.columnIndices[k])], a.values[k])
    }
  }
  return try coo.csr()
}

/// Whether `error` is `DirectSolverError.singular`, with `column` when given.
private func directIsSingular(_ error: any Error, column: Int? = nil) -> Bool {
  guard case .singular(let c) = error as? DirectSolverError else { return false }
  return column == nil || c == column
}

@Suite("Direct sparse solvers (UMFPACK LU, CHOLMOD, workspace)")
struct DirectSolverTests {
  @Test("UMFPACK solves a nonsymmetric convection–diffusion system like dense LAPACK; Aᵀ solve too")
  func umfpackMatchesDense() throws {
    let a = try directConvectionDiffusion(9)
    #expect(!a.isSymmetric(tolerance: 1e-3))
    let b = (0..<81).map { sin(0.7 * Double($0)) + 0.1 }
    let lu = try UmfpackLU(a)
    #expect(directMaxDiff(try lu.solve(b), try directDenseSolve(a, b)) < 1e-10)
    // A wrong CSR/CSC convention would solve with Aᵀ here; check both systems.
    #expect(directMaxDiff(try lu.solve(b, transposed: true), try directDenseSolve(a.transposed(), b)) < 1e-10)
    #expect(lu.reciprocalConditionEstimate > 0)
    #expect(UmfpackLU.version == "5.7.9")
  }

  @Test("UMFPACK refactor with new values on the same pattern; a different pattern is refused")
  func umfpackRefactor() throws {
    let a = try directConvectionDiffusion(8)
    let a2 = try directConvectionDiffusion(8, velocity: (-35, 5))
    #expect(a2.rowPointers == a.rowPointers && a2.columnIndices == a.columnIndices)
    let b = (0..<64).map { Double($0 % 7) - 3 }
    let lu = try UmfpackLU(a)
    try lu.refactor(values: a2.values)
    #expect(directMaxDiff(try lu.solve(b), try directDenseSolve(a2, b)) < 1e-10)
    try lu.refactor(a)
    #expect(directMaxDiff(try lu.solve(b), try directDenseSolve(a, b)) < 1e-10)

    #expect(throws: DirectSolverError.self) { try lu.refactor(values: [1, 2]) }
    // (Reversing the grid order would keep the 5-point pattern; a stride permutation does not.)
    let other = try directPermuted(a, (0..<64).map { $0 * 7 % 64 })
    #expect {
      try lu.refactor(other)
    } throws: { e in
      if case .patternChanged = e as? DirectSolverError { return true }
      return false
    }
    #expect(throws: DirectSolverError.self) { try lu.solve([1, 2, 3]) }
    #expect(throws: DirectSolverError.self) { try UmfpackLU(try COOMatrix<Double>(rows: 2, columns: 3).csr()) }
  }

  @Test("UMFPACK on a singular matrix: zero row, equal rows, zero column → .singular, no solve")
  func umfpackSingular() throws {
    let n = 25
    let a = try directConvectionDiffusion(5)
    let b = [Double](repeating: 1, count: n)
    // Row 7 zeroed but still stored (explicit zeros): same pattern as `a`.
    var zeroRow = a
    for k in Int(a.rowPointers[7])..<Int(a.rowPointers[8]) { zeroRow.values[k] = 0 }
    #expect { try UmfpackLU(zeroRow) } throws: { directIsSingular($0) }

    // Refactoring to singular values: error, and solve refuses the factors until a good refactor.
    let lu = try UmfpackLU(a)
    #expect { try lu.refactor(values: zeroRow.values) } throws: { directIsSingular($0) }
    #expect { try lu.solve(b) } throws: { directIsSingular($0) }
    try lu.refactor(values: a.values)
    #expect(directMaxDiff(try lu.solve(b), try directDenseSolve(a, b)) < 1e-10)

    // Two equal rows (row 12 := row 11; structurally and numerically).
    var coo = COOMatrix<Double>(rows: n, columns: n)
    for i in 0..<n {
      let src = i == 12 ? 11 : i
      for k in Int(a.rowPointers[src])..<Int(a.rowPointers[src + 1]) {
        coo.append(i, Int(a.columnIndices[k]), a.values[k])
      }
    }
    #expect { try UmfpackLU(try coo.csr()) } throws: { directIsSingular($0) }

    // Column 3 removed from the pattern: column 3 is the one without a pivot.
    var cooCol = COOMatrix<Double>(rows: n, columns: n)
    for i in 0..<n {
      for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) where a.columnIndices[k] != 3 {
        cooCol.append(i, Int(a.columnIndices[k]), a.values[k])
      }
    }
    #expect { try UmfpackLU(try cooCol.csr()) } throws: { directIsSingular($0, column: 3) }
    let message = DirectSolverError.singular(column: 3).description
    #expect(message.contains("column 3") && message.contains("UMFPACK_WARNING_singular_matrix"))
  }

  @Test("CHOLMOD: indefinite and singular matrices → .notPositiveDefinite at the caller's column")
  func cholmodColumns() throws {
    let m = 7
    let k = 17
    // A strongly negative diagonal at k: every ordering reaches a negative pivot exactly at k
    // (the columns before it belong to an SPD principal submatrix).
    var a = try laplacian2D(m)
    for p in Int(a.rowPointers[k])..<Int(a.rowPointers[k + 1]) where a.columnIndices[p] == k { a.values[p] = -100 }
    #expect {
      try CholmodCholesky(a)
    } throws: { e in
      e as? DirectSolverError == .notPositiveDefinite(column: k)
    }
    // Row and column k removed (singular): the zero pivot is at k.
    let l = try laplacian2D(m)
    var coo = COOMatrix<Double>(rows: m * m, columns: m * m)
    for i in 0..<(m * m) where i != k {
      for p in Int(l.rowPointers[i])..<Int(l.rowPointers[i + 1]) where l.columnIndices[p] != k {
        coo.append(i, Int(l.columnIndices[p]), l.values[p])
      }
    }
    #expect {
      try CholmodCholesky(try coo.csr())
    } throws: { e in
      e as? DirectSolverError == .notPositiveDefinite(column: k)
    }
    // A failed refactor poisons solve until a good refactor.
    let chol = try CholmodCholesky(l)
    #expect(throws: DirectSolverError.notPositiveDefinite(column: k)) { try chol.refactor(values: a.values) }
    #expect(throws: DirectSolverError.notPositiveDefinite(column: k)) {
      try chol.solve(Array(repeating: 1, count: m * m))
    }
    try chol.refactor(l)
    let b = (0..<(m * m)).map { Double($0) }
    #expect(directMaxDiff(try chol.solve(b), try directDenseSolve(l, b)) < 1e-10)
  }

  @Test("multi-RHS solves equal column-by-column solves", arguments: DirectSolverWorkspace.Kind.allCases)
  func multipleRightHandSides(kind: DirectSolverWorkspace.Kind) throws {
    let a = kind == .cholmod ? try laplacian2D(8) : try directConvectionDiffusion(8)
    let n = a.rows
    let columns = (0..<4).map { j in (0..<n).map { cos(Double(j + 1) * 0.3 * Double($0)) } }
    let ws = DirectSolverWorkspace(kind: kind)
    try ws.factor(a)
    let block = try ws.solve(columns: columns)
    #expect(block.count == 4)
    for j in 0..<4 {
      let single = try ws.solve(columns[j])
      #expect(directMaxDiff(block[j], single) < 1e-12)
      #expect(directMaxDiff(single, try directDenseSolve(a, columns[j])) < 1e-10)
    }
    #expect(try ws.solve(columns: []).isEmpty)
    #expect(throws: DirectSolverError.self) { try ws.solve(columns: [columns[0], [1, 2]]) }
    // The same through the factorization classes directly, column-major block included.
    switch kind {
    case .cholmod:
      let chol = try CholmodCholesky(a)
      #expect(try chol.solve(columns: columns) == block)
      #expect(try chol.solve(columnMajor: Array(columns.joined()), rhsCount: 4) == Array(block.joined()))
    case .umfpack:
      let lu = try UmfpackLU(a)
      #expect(try lu.solve(columns: columns) == block)
      #expect(try lu.solve(columnMajor: Array(columns.joined()), rhsCount: 4) == Array(block.joined()))
    }
  }

  @Test(
    "workspace: one analysis for three same-pattern matrices, a new one when the pattern changes",
    arguments: DirectSolverWorkspace.Kind.allCases)
  func workspaceReuse(kind: DirectSolverWorkspace.Kind) throws {
    let m = 8
    let n = m * m
    let matrices =
      kind == .cholmod
      ? try [4.0, 4.5, 6.0].map { try laplacian2D(m, diagonal: $0) }
      : try [(20.0, -12.0), (-40.0, 3.0), (0.0, 55.0)].map { try directConvectionDiffusion(m, velocity: $0) }
    let b = (0..<n).map { 1 + sin(Double($0)) }
    let ws = DirectSolverWorkspace(kind: kind)
    #expect(throws: DirectSolverError.self) { try ws.solve(b) }
    for a in matrices {
      try ws.factor(a)
      #expect(directMaxDiff(try ws.solve(b), try directDenseSolve(a, b)) < 1e-10)
    }
    #expect(ws.symbolicAnalyses == 1)
    #expect(ws.numericFactorizations == 3)
    #expect(ws.lastPatternChange == nil)
    #expect(ws.symbolicSeconds > 0 && ws.numericSeconds >= ws.lastNumericSeconds)

    // Same order and number of entries, different pattern (a symmetric permutation): a stale
    // factor (or one refactored on the old pattern) would give a wrong answer here.
    let shuffled = try directPermuted(matrices[1], (0..<n).map { $0 * 13 % n })
    #expect(shuffled.nonzeroCount == matrices[1].nonzeroCount && shuffled.columnIndices != matrices[1].columnIndices)
    try ws.factor(shuffled)
    #expect(ws.symbolicAnalyses == 2)
    #expect(ws.numericFactorizations == 4)
    #expect(ws.lastPatternChange != nil)
    #expect(directMaxDiff(try ws.solve(b), try directDenseSolve(shuffled, b)) < 1e-10)

    // A different order also re-analyzes.
    let small = kind == .cholmod ? try laplacian2D(5) : try directConvectionDiffusion(5)
    try ws.factor(small)
    #expect(ws.symbolicAnalyses == 3 && ws.dimension == 25)
    let bs = Array(b.prefix(25))
    #expect(directMaxDiff(try ws.solve(bs), try directDenseSolve(small, bs)) < 1e-10)
  }

  @Test("workspace: a failed numeric step is reported, never solved with, and the analysis is kept")
  func workspaceFailure() throws {
    let a = try directConvectionDiffusion(6)
    var bad = a
    for k in Int(a.rowPointers[4])..<Int(a.rowPointers[5]) { bad.values[k] = 0 }
    let ws = DirectSolverWorkspace(kind: .umfpack)
    try ws.factor(a)
    #expect { try ws.factor(bad) } throws: { directIsSingular($0) }
    #expect { try ws.solve(Array(repeating: 1, count: 36)) } throws: { directIsSingular($0) }
    try ws.factor(a)
    #expect(ws.symbolicAnalyses == 1 && ws.numericFactorizations == 3)
    let b = [Double](repeating: 1, count: 36)
    #expect(directMaxDiff(try ws.solve(b), try directDenseSolve(a, b)) < 1e-10)
  }

  @Test("complex UMFPACK solves a damped Helmholtz system like the real 2n×2n dense block system")
  func complexHelmholtz() throws {
    let m = 7
    let n = m * m
    let h = 1.0 / Double(m + 1)
    // (−Δ − k²(1 + iσ(x)) + i·c·∂x) u: complex diagonal and complex, nonsymmetric x-couplings.
    let lap = try laplacian2D(m)
    let kh2 = pow(9.0 * h, 2)
    var im = [Double](repeating: 0, count: lap.nonzeroCount)
    var re = lap.values
    for i in 0..<n {
      let sigma = 0.2 + 0.5 * Double(i % m) / Double(m)
      for p in Int(lap.rowPointers[i])..<Int(lap.rowPointers[i + 1]) {
        let j = Int(lap.columnIndices[p])
        if j == i {
          re[p] -= kh2
          im[p] = -kh2 * sigma
        } else if j == i + 1 {
          im[p] = 0.8 * h
        } else if j == i - 1 {
          im[p] = -0.8 * h
        }
      }
    }
    let ar = try CSRMatrix(
      rows: n, columns: n, rowPointers: lap.rowPointers, columnIndices: lap.columnIndices, values: re)
    let br = (0..<n).map { sin(Double($0)) }
    let bi = (0..<n).map { cos(0.5 * Double($0)) }
    // Reference: [Ar −Ai; Ai Ar] [xr; xi] = [br; bi], dense.
    func reference(_ re: [Double], _ im: [Double]) throws -> [Double] {
      var coo = COOMatrix<Double>(rows: 2 * n, columns: 2 * n)
      for i in 0..<n {
        for p in Int(lap.rowPointers[i])..<Int(lap.rowPointers[i + 1]) {
          let j = Int(lap.columnIndices[p])
          coo.append(i, j, re[p])
          coo.append(n + i, n + j, re[p])
          coo.append(i, n + j, -im[p])
          coo.append(n + i, j, im[p])
        }
      }
      return try directDenseSolve(try coo.csr(), br + bi)
    }
    let lu = try ComplexUmfpackLU(real: ar, imaginary: im)
    let x = try lu.solve(re: br, im: bi)
    #expect(directMaxDiff(x.re + x.im, try reference(re, im)) < 1e-10)
    // Refactor on the same pattern with another damping.
    let im2 = im.map { 2 * $0 }
    try lu.refactor(real: re, imaginary: im2)
    let x2 = try lu.solve(re: br, im: bi)
    #expect(directMaxDiff(x2.re + x2.im, try reference(re, im2)) < 1e-10)
    #expect(throws: DirectSolverError.self) { try lu.refactor(real: re, imaginary: [0]) }
    #expect(throws: DirectSolverError.self) { try lu.solve(re: br, im: [0]) }
    // Zero matrix → singular.
    let zeros = [Double](repeating: 0, count: lap.nonzeroCount)
    #expect { try lu.refactor(real: zeros, imaginary: zeros) } throws: { directIsSingular($0) }
  }
}
