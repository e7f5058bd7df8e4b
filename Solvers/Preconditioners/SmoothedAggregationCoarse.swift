// Coarsest-level solver of the smoothed-aggregation AMG preconditioner.
//
// Small coarse matrices (the usual case: at most `maxCoarse` = 10 rows) get a dense
// pseudo-inverse A⁺ from a symmetric eigendecomposition (LAPACK ?syevd), as pyamg's default
// coarse solver 'pinv'; it also handles the singular coarse operators of pure-Neumann problems.
// Larger ones (when `maxLevels` stops the coarsening early) get a sparse CHOLMOD factorization,
// solved with `cholmod_solve2` into preallocated dense workspaces so that a solve allocates nothing.
import CSuiteSparse
import Numerics

final class AMGCoarseSolver {
  /// Coarse matrices up to this order use the dense pseudo-inverse.
  static let denseLimit = 400

  let dimension: Int
  /// Row-major A⁺ (dense path).
  private var pseudoInverse: UnsafeMutablePointer<Double>?
  /// CHOLMOD state (sparse path).
  private var matrix: CSRMatrix<Double>?
  private var common: UnsafeMutablePointer<cholmod_common>?
  private var factor: UnsafeMutablePointer<cholmod_factor>?
  private var xDense: UnsafeMutablePointer<cholmod_dense>?
  private var yWork: UnsafeMutablePointer<cholmod_dense>?
  private var eWork: UnsafeMutablePointer<cholmod_dense>?

  /// Whether the dense pseudo-inverse is used (else CHOLMOD).
  var isDense: Bool { pseudoInverse != nil }

  init(_ a: AMGMatrix) throws {
    dimension = a.rows
    if dimension <= Self.denseLimit {
      pseudoInverse = .allocate(capacity: max(1, dimension * dimension))
    } else {
      let c = UnsafeMutablePointer<cholmod_common>.allocate(capacity: 1)
      cholmod_start(c)
      c.pointee.supernodal = Int32(CHOLMOD_SUPERNODAL)
      common = c
      let m = a.csr()
      matrix = m
      factor = m.withCholmodViewOfTranspose(stype: 1) { s in cholmod_analyze(&s, c) }
      guard factor != nil else {
        throw SolverSetupError.preconditionerBreakdown(
          "AMG coarse solver: CHOLMOD analysis failed (status \(c.pointee.status))")
      }
      xDense = cholmod_allocate_dense(dimension, 1, dimension, CHOLMOD_REAL, c)
    }
    try refactor(a)
  }

  deinit {
    pseudoInverse?.deallocate()
    if let c = common {
      if factor != nil { cholmod_free_factor(&factor, c) }
      if xDense != nil { cholmod_free_dense(&xDense, c) }
      if yWork != nil { cholmod_free_dense(&yWork, c) }
      if eWork != nil { cholmod_free_dense(&eWork, c) }
      cholmod_finish(c)
      c.deallocate()
    }
  }

  /// Recomputes the factorization for new values of `a` (same pattern as at init).
  func refactor(_ a: AMGMatrix) throws {
    let n = dimension
    if let pinv = pseudoInverse {
      guard n > 0 else { return }
      var dense = [Double](repeating: 0, count: n * n)
      for i in 0..<n {
        for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
          let j = Int(a.columnIndices[k])
          // Symmetrize: the Galerkin product is symmetric up to rounding.
          dense[i * n + j] += 0.5 * a.values[k]
          dense[j * n + i] += 0.5 * a.values[k]
        }
      }
      let (w, v): (NDArray<Double>, NDArray<Double>)
      do {
        (w, v) = try NDArray(shape: [n, n], data: dense).symmetricEigen()
      } catch {
        throw SolverSetupError.preconditionerBreakdown("AMG coarse solver: eigendecomposition failed: \(error)")
      }
      let lambda = w.scalars
      let vectors = v.scalars
      let largest = lambda.map { abs($0) }.max() ?? 0
      // scipy.linalg.pinv's default cut-off: max(m, n)·ε relative to the largest singular value.
      let cutoff = Double(n) * Double.ulpOfOne * largest
      pinv.update(repeating: 0, count: n * n)
      for k in 0..<n where abs(lambda[k]) > cutoff {
        let inv = 1 / lambda[k]
        for i in 0..<n {
          let vik = vectors[i * n + k] * inv
          if vik == 0 { continue }
          for j in 0..<n { pinv[i * n + j] += vik * vectors[j * n + k] }
        }
      }
      // Exact symmetry, so the V-cycle is symmetric to rounding of the matrix-vector products only.
      for i in 0..<n {
        for j in (i + 1)..<n {
          let s = 0.5 * (pinv[i * n + j] + pinv[j * n + i])
          pinv[i * n + j] = s
          pinv[j * n + i] = s
        }
      }
    } else if let c = common {
      var m = matrix!
      m.values = Array(UnsafeBufferPointer(start: a.values, count: a.nonzeros))
      matrix = m
      let ok = m.withCholmodViewOfTranspose(stype: 1) { s in cholmod_factorize(&s, factor, c) }
      if ok == 0 || c.pointee.status < 0 {
        throw SolverSetupError.preconditionerBreakdown(
          "AMG coarse solver: CHOLMOD factorization failed (status \(c.pointee.status))")
      }
      if c.pointee.status == CHOLMOD_NOT_POSDEF {
        throw SolverSetupError.preconditionerBreakdown(
          "AMG coarse solver: the \(n)×\(n) coarse matrix is not positive definite (CHOLMOD stopped at column \(factor!.pointee.minor)); allow more levels"
        )
      }
      // One solve now so that cholmod_solve2 allocates its workspaces here, not in apply.
      let b = UnsafeMutablePointer<Double>.allocate(capacity: n)
      b.initialize(repeating: 0, count: n)
      let x = UnsafeMutablePointer<Double>.allocate(capacity: n)
      solve(b, x)
      b.deallocate()
      x.deallocate()
    }
  }

  /// x ← A⁺ b (dense) or A⁻¹ b (CHOLMOD). Allocation-free after `refactor`.
  func solve(_ b: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>) {
    let n = dimension
    if let pinv = pseudoInverse {
      for i in 0..<n {
        var s = 0.0
        let row = pinv + i * n
        for j in 0..<n { s += row[j] * b[j] }
        x[i] = s
      }
      return
    }
    guard let c = common else { return }
    var rhs = cholmod_dense()
    rhs.nrow = n
    rhs.ncol = 1
    rhs.nzmax = n
    rhs.d = n
    rhs.x = UnsafeMutableRawPointer(mutating: b)
    rhs.z = nil
    rhs.xtype = CHOLMOD_REAL
    rhs.dtype = CHOLMOD_DOUBLE
    let ok = cholmod_solve2(CHOLMOD_A, factor, &rhs, nil, &xDense, nil, &yWork, &eWork, c)
    if ok != 0, let xd = xDense {
      x.update(from: xd.pointee.x.assumingMemoryBound(to: Double.self), count: n)
    } else {
      x.update(repeating: 0, count: n)
    }
  }
}
