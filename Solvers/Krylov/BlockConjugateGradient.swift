// Block preconditioned conjugate gradients for one SPD matrix and several right-hand sides.
//
// O'Leary, "The block conjugate gradient algorithm and related methods", Linear Algebra Appl. 29
// (1980); preconditioned form as in Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed.,
// §6.12 (block Krylov methods). The s search directions of a block step are chosen jointly, so
// each block iteration uses one sparse matrix–multivector product (the matrix is read once for
// all s columns) and the iteration count is at most that of the slowest single-vector CG — usually
// fewer, because the block Krylov space captures the small eigenvalues for all columns at once.
//
// The s×s systems (PᵀAP) α = ZᵀR and (ZᵀR)_old β = (ZᵀR)_new are solved by Cholesky. When columns
// converge at different rates these matrices can become numerically singular (rank loss): the
// method then stops the block iteration and finishes every unconverged column with single-vector
// PCG from its current iterate (reported in the stats' method name as "+cg"), so it never returns
// garbage. Stopping test per column: ‖b_j − A x_j‖ ≤ atol + rtol·‖b_j‖.
import Foundation
import Numerics

/// A block CG workspace for n×n SPD systems with s right-hand sides.
///
/// ```
/// let bcg = BlockConjugateGradient(dimension: n, blockSize: 4)
/// var xs = [[Double]](repeating: [Double](repeating: 0, count: n), count: 4)
/// let stats = bcg.solve(a, bs, &xs, preconditioner: ic0)     // one SolverStats per column
/// ```
///
/// Options: `rtol` (1e-8), `atol` (0), `maxIterations` (2n block iterations), `history` (max over
/// columns of ‖r_j‖/‖b_j‖ per block iteration, in every column's stats). Reasons per column as CG.
public final class BlockConjugateGradient {
  /// Size n of the systems.
  public let dimension: Int
  /// Number s of right-hand sides.
  public let blockSize: Int
  /// Blocks X, R, Z, P, Q (row-major n×s) and a column scratch.
  let work: ScratchVectors
  let columnIn: ScratchVectors
  let columnOut: ScratchVectors

  /// Allocates the workspace.
  public init(dimension: Int, blockSize: Int) {
    precondition(blockSize >= 1, "block size must be at least 1")
    self.dimension = dimension
    self.blockSize = blockSize
    work = ScratchVectors(n: dimension * blockSize, count: 5)
    columnIn = ScratchVectors(n: dimension, count: 1)
    columnOut = ScratchVectors(n: dimension, count: 1)
  }

  /// Solves A X = B column by column jointly, from the initial guesses in `x` (overwritten).
  public func solve(
    _ a: CSRMatrix<Double>, _ b: [[Double]], _ x: inout [[Double]], preconditioner: Preconditioner? = nil,
    options: KrylovOptions = KrylovOptions()
  ) -> [SolverStats] {
    let (n, s) = (dimension, blockSize)
    precondition(
      a.rows == n && a.columns == n && b.count == s && x.count == s, "block CG sizes do not match the workspace")
    precondition(b.allSatisfy { $0.count == n } && x.allSatisfy { $0.count == n }, "every column must have n entries")
    let t0 = monotonicSeconds()
    let method = "block-cg(\(s))" + (preconditioner.map { "+" + $0.name } ?? "")
    let maxIterations = options.maxIterations ?? 2 * n
    let (X, R, Z, P, Q) = (work[0], work[1], work[2], work[3], work[4])
    // Load X and R = B − A X (row-major blocks).
    for j in 0..<s { for i in 0..<n { X[i * s + j] = x[j][i] } }
    multiply(a, X, into: Q)
    var tolerance = [Double](repeating: 0, count: s)
    var scale = [Double](repeating: 1, count: s)
    for j in 0..<s {
      let bn = b[j].map { $0 * $0 }.reduce(0, +).squareRoot()
      scale[j] = bn > 0 ? bn : 1
      tolerance[j] = options.atol + options.rtol * bn
      for i in 0..<n { R[i * s + j] = b[j][i] - Q[i * s + j] }
    }
    var history: [Double] = []
    func columnNorms() -> [Double] {
      var norms = [Double](repeating: 0, count: s)
      for i in 0..<n { for j in 0..<s { norms[j] += R[i * s + j] * R[i * s + j] } }
      return norms.map { $0.squareRoot() }
    }
    var norms = columnNorms()
    if options.history { history.append(zip(norms, scale).map { $0 / $1 }.max() ?? 0) }
    var iterations = 0
    var rankLoss = false
    var gamma = [Double](repeating: 0, count: s * s)
    var pq = [Double](repeating: 0, count: s * s)
    var alpha = [Double](repeating: 0, count: s * s)

    func converged() -> Bool { zip(norms, tolerance).allSatisfy { $0 <= $1 } }
    func applyM() {
      guard let m = preconditioner else {
        Z.update(from: R, count: n * s)
        return
      }
      let (cin, cout) = (columnIn[0], columnOut[0])
      for j in 0..<s {
        for i in 0..<n { cin[i] = R[i * s + j] }
        m.apply(cin, cout)
        for i in 0..<n { Z[i * s + j] = cout[i] }
      }
    }
    // gram(U, V) = Uᵀ V (s×s), row-major.
    func gram(_ u: UnsafePointer<Double>, _ v: UnsafePointer<Double>, _ out: inout [Double]) {
      out.withUnsafeMutableBufferPointer { o in
        BLAS.gemm(
          .transpose, .none, m: s, n: s, k: n, alpha: 1, a: u, lda: s, b: v, ldb: s, beta: 0, c: o.baseAddress!, ldc: s)
      }
    }
    // Solves the SPD s×s system M Y = C in place of C (Cholesky); false on rank loss.
    func spdSolve(_ m: [Double], _ c: inout [Double]) -> Bool {
      guard let mm = try? NDArray(shape: [s, s], data: m), let l = try? mm.cholesky(),
        let y = try? l.choleskySolve(try NDArray(shape: [s, s], data: c))
      else { return false }
      let values = y.scalars
      guard values.allSatisfy(\.isFinite) else { return false }
      c = values
      return true
    }

    if !converged() {
      applyM()
      P.update(from: Z, count: n * s)
      gram(Z, R, &gamma)
      while iterations < maxIterations {
        multiply(a, P, into: Q)
        gram(P, Q, &pq)
        alpha = gamma
        guard spdSolve(pq, &alpha) else {
          rankLoss = true
          break
        }
        alpha.withUnsafeBufferPointer { al in
          // X += P α, R −= Q α.
          BLAS.gemm(
            .none, .none, m: n, n: s, k: s, alpha: 1, a: P, lda: s, b: al.baseAddress!, ldb: s, beta: 1, c: X, ldc: s)
          BLAS.gemm(
            .none, .none, m: n, n: s, k: s, alpha: -1, a: Q, lda: s, b: al.baseAddress!, ldb: s, beta: 1, c: R, ldc: s)
        }
        iterations += 1
        norms = columnNorms()
        if options.history { history.append(zip(norms, scale).map { $0 / $1 }.max() ?? 0) }
        if converged() { break }
        applyM()
        var gammaNew = [Double](repeating: 0, count: s * s)
        gram(Z, R, &gammaNew)
        var beta = gammaNew
        guard spdSolve(gamma, &beta) else {
          rankLoss = true
          break
        }
        gamma = gammaNew
        // P = Z + P β  (Q is free here: Q ← P β, then P ← Z + Q).
        beta.withUnsafeBufferPointer { be in
          BLAS.gemm(
            .none, .none, m: n, n: s, k: s, alpha: 1, a: P, lda: s, b: be.baseAddress!, ldb: s, beta: 0, c: Q, ldc: s)
        }
        for i in 0..<(n * s) { P[i] = Z[i] + Q[i] }
      }
    }
    for j in 0..<s { for i in 0..<n { x[j][i] = X[i * s + j] } }
    // Finish columns that the block iteration left unconverged after rank loss.
    var stats: [SolverStats] = []
    let cg = rankLoss ? ConjugateGradient(dimension: n) : nil
    for j in 0..<s {
      var reason = ConvergenceReason.maxIterations
      var extra = 0
      var name = method
      if norms[j] <= tolerance[j] {
        reason = .converged
      } else if let cg {
        var remaining = options
        remaining.maxIterations = max(1, maxIterations - iterations)
        remaining.history = false
        let s1 = cg.solve(a, b[j], &x[j], preconditioner: preconditioner, options: remaining)
        reason = s1.reason
        extra = s1.iterations
        name += "+cg"
      }
      // True residual of the returned column.
      let r = trueResidual(a, b[j], x[j])
      if reason == .converged && r > tolerance[j] * (1 + 1e-8) + 1e-300 { reason = .maxIterations }
      stats.append(
        SolverStats(
          method: name, iterations: iterations + extra, relativeResidual: r / scale[j], residualHistory: history,
          seconds: monotonicSeconds() - t0, reason: reason))
    }
    return stats
  }

  /// Y = A X for row-major n×s blocks (one pass over A for all columns).
  func multiply(_ a: CSRMatrix<Double>, _ xb: UnsafePointer<Double>, into y: UnsafeMutablePointer<Double>) {
    let s = blockSize
    a.rowPointers.withUnsafeBufferPointer { rp in
      a.columnIndices.withUnsafeBufferPointer { ci in
        a.values.withUnsafeBufferPointer { v in
          for i in 0..<a.rows {
            let row = y + i * s
            for j in 0..<s { row[j] = 0 }
            for k in Int(rp[i])..<Int(rp[i + 1]) {
              let c = xb + Int(ci[k]) * s
              let value = v[k]
              for j in 0..<s { row[j] += value * c[j] }
            }
          }
        }
      }
    }
  }

  func trueResidual(_ a: CSRMatrix<Double>, _ b: [Double], _ x: [Double]) -> Double {
    let (cin, cout) = (columnIn[0], columnOut[0])
    for i in 0..<dimension { cin[i] = x[i] }
    a.apply(cin, cout)
    var s = 0.0
    for i in 0..<dimension { s += (b[i] - cout[i]) * (b[i] - cout[i]) }
    return s.squareRoot()
  }
}
