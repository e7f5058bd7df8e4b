// Sparse kernels of the smoothed-aggregation AMG preconditioner (SmoothedAggregationAMG.swift):
// CSR storage in stable buffers, Gustavson SpGEMM split into a symbolic and a numeric phase (so a
// refresh for new values on the same pattern redoes only the arithmetic), transposition with a
// recorded permutation, strength of connection, standard aggregation, Lanczos spectral-radius
// estimation and Gauss–Seidel sweeps.
//
// References: Gustavson, "Two fast algorithms for sparse matrices: multiplication and permuted
// transposition", ACM TOMS 4(3), 1978 (row-by-row product with a dense accumulator); Vaněk,
// Mandel, Brezina, "Algebraic multigrid by smoothed aggregation for second and fourth order
// elliptic problems", Computing 56, 1996 (strength, aggregation, tentative and smoothed
// prolongators); Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed., §6.6 (Lanczos).
import Numerics

/// A CSR matrix (Int32 indices, sorted unique columns per row) held in manually managed buffers,
/// so the V-cycle can use stable pointers: no exclusivity checks, no copy-on-write, no allocation.
final class AMGMatrix {
  let rows: Int
  let columns: Int
  let nonzeros: Int
  let rowPointers: UnsafeMutablePointer<Int32>
  let columnIndices: UnsafeMutablePointer<Int32>
  let values: UnsafeMutablePointer<Double>

  /// A matrix with the given row pointers; column indices are left for the caller to fill, values are 0.
  init(rows: Int, columns: Int, rowPointers rp: [Int32]) {
    self.rows = rows
    self.columns = columns
    nonzeros = Int(rp[rows])
    let pointers = UnsafeMutablePointer<Int32>.allocate(capacity: rows + 1)
    rp.withUnsafeBufferPointer { pointers.initialize(from: $0.baseAddress!, count: rows + 1) }
    rowPointers = pointers
    columnIndices = .allocate(capacity: max(1, nonzeros))
    columnIndices.initialize(repeating: 0, count: max(1, nonzeros))
    values = .allocate(capacity: max(1, nonzeros))
    values.initialize(repeating: 0, count: max(1, nonzeros))
  }

  /// A copy of `a` with the columns of each row sorted (CSRMatrix promises sorted rows, but its
  /// public initializer does not check it, and the sweeps rely on it).
  convenience init(_ a: CSRMatrix<Double>) {
    self.init(rows: a.rows, columns: a.columns, rowPointers: a.rowPointers)
    a.columnIndices.withUnsafeBufferPointer { columnIndices.update(from: $0.baseAddress!, count: nonzeros) }
    a.values.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: nonzeros) }
    sortRows()
  }

  deinit {
    rowPointers.deallocate()
    columnIndices.deallocate()
    values.deallocate()
  }

  /// Sorts every row by column (insertion sort: rows are short), carrying the values along.
  func sortRows() {
    for i in 0..<rows {
      let lo = Int(rowPointers[i])
      let hi = Int(rowPointers[i + 1])
      var k = lo + 1
      while k < hi {
        let c = columnIndices[k]
        let v = values[k]
        var m = k - 1
        while m >= lo && columnIndices[m] > c {
          columnIndices[m + 1] = columnIndices[m]
          values[m + 1] = values[m]
          m -= 1
        }
        columnIndices[m + 1] = c
        values[m + 1] = v
        k += 1
      }
    }
  }

  /// Whether `a` has exactly this pattern (same row pointers and column indices).
  func hasPattern(of a: CSRMatrix<Double>) -> Bool {
    guard a.rows == rows, a.columns == columns, a.nonzeroCount == nonzeros else { return false }
    let samePointers = a.rowPointers.withUnsafeBufferPointer { p in
      (0...rows).allSatisfy { p[$0] == rowPointers[$0] }
    }
    guard samePointers else { return false }
    return a.columnIndices.withUnsafeBufferPointer { c in
      (0..<nonzeros).allSatisfy { c[$0] == columnIndices[$0] }
    }
  }

  /// The matrix as a `CSRMatrix` (a copy).
  func csr() -> CSRMatrix<Double> {
    // Consistent by construction; the throwing initializer only re-validates.
    try! CSRMatrix(
      rows: rows, columns: columns, rowPointers: Array(UnsafeBufferPointer(start: rowPointers, count: rows + 1)),
      columnIndices: Array(UnsafeBufferPointer(start: columnIndices, count: nonzeros)),
      values: Array(UnsafeBufferPointer(start: values, count: nonzeros)))
  }

  /// Position of the diagonal entry of each row (−1 if absent).
  func diagonalPositions() -> [Int32] {
    var d = [Int32](repeating: -1, count: min(rows, columns))
    for i in 0..<d.count {
      for k in Int(rowPointers[i])..<Int(rowPointers[i + 1]) where Int(columnIndices[k]) == i {
        d[i] = Int32(k)
        break
      }
    }
    return d
  }

  /// y ← A x.
  @inline(__always)
  func multiply(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
    let (rp, ci, v) = (rowPointers, columnIndices, values)
    for i in 0..<rows {
      var s = 0.0
      var k = Int(rp[i])
      let end = Int(rp[i + 1])
      while k < end {
        s += v[k] * x[Int(ci[k])]
        k += 1
      }
      y[i] = s
    }
  }

  /// y ← y + A x.
  @inline(__always)
  func multiplyAdd(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
    let (rp, ci, v) = (rowPointers, columnIndices, values)
    for i in 0..<rows {
      var s = y[i]
      var k = Int(rp[i])
      let end = Int(rp[i + 1])
      while k < end {
        s += v[k] * x[Int(ci[k])]
        k += 1
      }
      y[i] = s
    }
  }

  /// y ← A x over `rows` (all rows when nil); returns Σ x_i y_i over those rows.
  @inline(__always)
  func multiplyDot(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, rows range: Range<Int>? = nil)
    -> Double
  {
    let (rp, ci, v) = (rowPointers, columnIndices, values)
    var dot = 0.0
    for i in range ?? 0..<rows {
      var s = 0.0
      for k in Int(rp[i])..<Int(rp[i + 1]) { s += v[k] * x[Int(ci[k])] }
      y[i] = s
      dot += x[i] * s
    }
    return dot
  }

  /// r ← b − A x.
  @inline(__always)
  func residual(
    _ b: UnsafePointer<Double>, _ x: UnsafePointer<Double>, _ r: UnsafeMutablePointer<Double>,
    rows range: Range<Int>? = nil
  ) {
    let (rp, ci, v) = (rowPointers, columnIndices, values)
    for i in range ?? 0..<rows {
      var s = b[i]
      var k = Int(rp[i])
      let end = Int(rp[i + 1])
      while k < end {
        s -= v[k] * x[Int(ci[k])]
        k += 1
      }
      r[i] = s
    }
  }
}

// MARK: - Sparse matrix products

enum AMGKernels {
  /// Pattern of C = A·B (Gustavson's symbolic phase: two passes with a marker array), values 0,
  /// columns sorted within each row. Throws if C would exceed the Int32 index range.
  static func productPattern(_ a: AMGMatrix, _ b: AMGMatrix) throws -> AMGMatrix {
    precondition(a.columns == b.rows)
    let m = a.rows
    let n = b.columns
    var marker = [Int32](repeating: -1, count: n)
    var rp = [Int32](repeating: 0, count: m + 1)
    var total = 0
    let (arp, aci, brp, bci) = (a.rowPointers, a.columnIndices, b.rowPointers, b.columnIndices)
    marker.withUnsafeMutableBufferPointer { mk in
      for i in 0..<m {
        let tag = Int32(truncatingIfNeeded: i)
        for ka in Int(arp[i])..<Int(arp[i + 1]) {
          let k = Int(aci[ka])
          for kb in Int(brp[k])..<Int(brp[k + 1]) {
            let j = Int(bci[kb])
            if mk[j] != tag {
              mk[j] = tag
              total += 1
            }
          }
        }
        rp[i + 1] = Int32(truncatingIfNeeded: min(total, Int(Int32.max)))
      }
    }
    guard total < Int(Int32.max) else {
      throw SolverSetupError.preconditionerBreakdown(
        "AMG: a Galerkin product has \(total) entries, beyond the Int32 index range")
    }
    let c = AMGMatrix(rows: m, columns: n, rowPointers: rp)
    let cci = c.columnIndices
    marker.withUnsafeMutableBufferPointer { mk in
      mk.update(repeating: -1)
      for i in 0..<m {
        let tag = Int32(truncatingIfNeeded: i)
        var w = Int(rp[i])
        for ka in Int(arp[i])..<Int(arp[i + 1]) {
          let k = Int(aci[ka])
          for kb in Int(brp[k])..<Int(brp[k + 1]) {
            let j = Int(bci[kb])
            if mk[j] != tag {
              mk[j] = tag
              cci[w] = Int32(truncatingIfNeeded: j)
              w += 1
            }
          }
        }
      }
    }
    c.sortRows()
    return c
  }

  /// Values of C = A·B on the pattern computed by `productPattern` (Gustavson's numeric phase
  /// with a dense accumulator row). `accumulator` has `b.columns` zeros and is left zeroed.
  static func productValues(
    _ a: AMGMatrix, _ b: AMGMatrix, into c: AMGMatrix, accumulator acc: UnsafeMutablePointer<Double>
  ) {
    let (arp, aci, av) = (a.rowPointers, a.columnIndices, a.values)
    let (brp, bci, bv) = (b.rowPointers, b.columnIndices, b.values)
    let (crp, cci, cv) = (c.rowPointers, c.columnIndices, c.values)
    for i in 0..<a.rows {
      var ka = Int(arp[i])
      let aEnd = Int(arp[i + 1])
      while ka < aEnd {
        let s = av[ka]
        let k = Int(aci[ka])
        var kb = Int(brp[k])
        let bEnd = Int(brp[k + 1])
        while kb < bEnd {
          acc[Int(bci[kb])] += s * bv[kb]
          kb += 1
        }
        ka += 1
      }
      for p in Int(crp[i])..<Int(crp[i + 1]) {
        let j = Int(cci[p])
        cv[p] = acc[j]
        acc[j] = 0
      }
    }
  }

  /// Pattern of Aᵀ and, for each of its entries, the index of the same entry in A.
  static func transposePattern(_ a: AMGMatrix) -> (AMGMatrix, [Int32]) {
    var rp = [Int32](repeating: 0, count: a.columns + 1)
    for k in 0..<a.nonzeros { rp[Int(a.columnIndices[k]) + 1] += 1 }
    for j in 0..<a.columns { rp[j + 1] += rp[j] }
    let t = AMGMatrix(rows: a.columns, columns: a.rows, rowPointers: rp)
    var next = rp
    var source = [Int32](repeating: 0, count: a.nonzeros)
    for i in 0..<a.rows {
      for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
        let c = Int(a.columnIndices[k])
        let dst = Int(next[c])
        t.columnIndices[dst] = Int32(truncatingIfNeeded: i)
        source[dst] = Int32(truncatingIfNeeded: k)
        next[c] += 1
      }
    }
    return (t, source)
  }

  // MARK: - Strength of connection and aggregation

  /// Strength graph (pattern only, diagonal included) by the symmetric SA criterion
  /// |a_ij| ≥ θ·sqrt(|a_ii|·|a_jj|). Off-diagonal entries stored as exact zeros are never strong
  /// (a Galerkin product can produce them where a sparse library would drop them).
  static func strengthGraph(_ a: AMGMatrix, theta: Double, diagonal d: [Double]) -> (
    pointers: [Int32], columns: [Int32]
  ) {
    var sp = [Int32](repeating: 0, count: a.rows + 1)
    var sj = [Int32]()
    sj.reserveCapacity(a.nonzeros)
    let t2 = theta * theta
    for i in 0..<a.rows {
      for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
        let j = Int(a.columnIndices[k])
        let v = a.values[k]
        if j == i || (v != 0 && v * v >= t2 * abs(d[i] * d[j])) { sj.append(Int32(truncatingIfNeeded: j)) }
      }
      sp[i + 1] = Int32(truncatingIfNeeded: sj.count)
    }
    return (sp, sj)
  }

  /// Standard aggregation on the strength graph (Vaněk–Mandel–Brezina, the three passes of
  /// pyamg's `standard_aggregation`): (1) a node whose neighbours are all free starts an
  /// aggregate with them; (2) a remaining node joins the aggregate of a neighbour that started
  /// one (the first in row order); (3) a node still left starts an aggregate with its free
  /// neighbours. Nodes without neighbours stay unaggregated (−1).
  /// Returns each node's aggregate (−1 = none) and the number of aggregates.
  static func standardAggregation(pointers sp: [Int32], columns sj: [Int32], count n: Int) -> ([Int32], Int) {
    // state: −2 free, −3 isolated, ≥ 0 aggregate id; `root` marks pass-1 aggregates' members.
    let free: Int32 = -2
    let isolated: Int32 = -3
    var agg = [Int32](repeating: free, count: n)
    var next: Int32 = 0
    // Pass 1.
    for i in 0..<n where agg[i] == free {
      var hasNeighbours = false
      var neighbourTaken = false
      for k in Int(sp[i])..<Int(sp[i + 1]) {
        let j = Int(sj[k])
        if j != i {
          hasNeighbours = true
          if agg[j] != free {
            neighbourTaken = true
            break
          }
        }
      }
      if !hasNeighbours {
        agg[i] = isolated
      } else if !neighbourTaken {
        for k in Int(sp[i])..<Int(sp[i + 1]) { agg[Int(sj[k])] = next }
        agg[i] = next
        next += 1
      }
    }
    // Pass 2: join a neighbouring pass-1 aggregate. Assignments made here are not visible to
    // later nodes of this pass (pyamg marks them negative), so snapshot the pass-1 state.
    let pass1 = agg
    for i in 0..<n where pass1[i] == free {
      for k in Int(sp[i])..<Int(sp[i + 1]) {
        let a = pass1[Int(sj[k])]
        if a >= 0 {
          agg[i] = a
          break
        }
      }
    }
    // Pass 3: what is left forms new aggregates with its free neighbours.
    for i in 0..<n where agg[i] == free {
      for k in Int(sp[i])..<Int(sp[i + 1]) where agg[Int(sj[k])] == free { agg[Int(sj[k])] = next }
      agg[i] = next
      next += 1
    }
    for i in 0..<n where agg[i] == isolated { agg[i] = -1 }
    return (agg, Int(next))
  }

  // MARK: - Spectral radius

  /// Estimate of ρ(D⁻¹A) for symmetric A with positive diagonal, for the prolongation smoother
  /// (products through `stencil`, A's diagonal storage, when given).
  ///
  /// Lanczos on D^{-1/2} A D^{-1/2} from a fixed pseudo-random start (reproducible) gives Ritz
  /// values θ ≤ ρ; Gershgorin's theorem gives the bound G = maxᵢ Σⱼ |aᵢⱼ| / aᵢᵢ ≥ ρ. When θ after
  /// `boundCheckStep` steps is already within 5 % of G, G is returned: an upper bound that close
  /// to ρ (as for diffusion operators with zero row sums, where the checkerboard mode attains it)
  /// smooths as well as the full Lanczos estimate, at 6 of its 15 SpMVs. Otherwise Lanczos runs
  /// its `steps` steps and returns θ.
  static func spectralRadiusEstimate(
    _ a: AMGMatrix, stencil: AMGStencil? = nil, inverseDiagonal invD: UnsafePointer<Double>, steps: Int,
    boundCheckStep: Int = 6
  ) -> Double {
    let bound = gershgorinBound(a, inverseDiagonal: invD)
    let n = a.rows
    guard n > 0 else { return 0 }
    let m = max(1, min(steps, n))
    var rng = PhiloxRandom(seed: 0x5A_A3C0)
    // Work vectors: s = D^{-1/2}, u = s∘q and three rotating Lanczos vectors. The current vector
    // is q = cv·v and the previous one cp·p: keeping the scale apart saves a pass per step, and α
    // is uᵀAu, summed inside the product (in exact arithmetic equal to the modified Gram–Schmidt
    // α; a few steps for an estimate of the largest eigenvalue do not need the difference).
    let work = UnsafeMutablePointer<Double>.allocate(capacity: 5 * n)
    defer { work.deallocate() }
    let s = work
    let u = work + n
    var (v, p, w) = (work + 2 * n, work + 3 * n, work + 4 * n)
    var norm = 0.0
    for i in 0..<n {
      s[i] = invD[i].squareRoot()
      v[i] = rng.nextOpenUnit()
      p[i] = 0
      norm += v[i] * v[i]
    }
    var cv = 1 / norm.squareRoot()
    var cp = 0.0
    var alpha: [Double] = []
    var beta: [Double] = []  // beta[j] couples steps j and j+1
    var betaPrev = 0.0
    for _ in 0..<m {
      for i in 0..<n { u[i] = s[i] * v[i] * cv }
      let al = stencil?.multiplyDot(a, u, w) ?? a.multiplyDot(u, w)
      alpha.append(al)
      norm = 0
      let (scaledAlpha, scaledBeta) = (al * cv, betaPrev * cp)
      for i in 0..<n {
        let wi = s[i] * w[i] - scaledAlpha * v[i] - scaledBeta * p[i]
        w[i] = wi
        norm += wi * wi
      }
      norm = norm.squareRoot()
      let scale = alpha.map { abs($0) }.max() ?? 1
      if norm <= 1e-12 * max(scale, Double.leastNormalMagnitude) { break }
      beta.append(norm)
      betaPrev = norm
      if alpha.count == boundCheckStep && alpha.count < m,
        largestEigenvalueOfTridiagonal(alpha, Array(beta.prefix(alpha.count - 1))) >= 0.95 * bound
      {
        return bound
      }
      (p, v, w) = (v, w, p)
      cp = cv
      cv = 1 / norm
    }
    return largestEigenvalueOfTridiagonal(alpha, Array(beta.prefix(alpha.count - 1)))
  }

  /// Gershgorin's bound on ρ(D⁻¹A): maxᵢ Σⱼ |aᵢⱼ| · (1/aᵢᵢ).
  static func gershgorinBound(_ a: AMGMatrix, inverseDiagonal invD: UnsafePointer<Double>) -> Double {
    var bound = 0.0
    for i in 0..<a.rows {
      var sum = 0.0
      for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) { sum += abs(a.values[k]) }
      bound = max(bound, sum * invD[i])
    }
    return bound
  }

  /// Largest eigenvalue of the symmetric tridiagonal matrix with diagonal `d` and off-diagonal
  /// `e` (count d.count − 1), by bisection on the Sturm count (Golub & Van Loan §8.4.1).
  static func largestEigenvalueOfTridiagonal(_ d: [Double], _ e: [Double]) -> Double {
    let m = d.count
    guard m > 1 else { return d.first ?? 0 }
    var lo = Double.infinity
    var hi = -Double.infinity
    for i in 0..<m {
      let r = (i > 0 ? abs(e[i - 1]) : 0) + (i < m - 1 ? abs(e[i]) : 0)
      lo = min(lo, d[i] - r)
      hi = max(hi, d[i] + r)
    }
    // Number of eigenvalues < x.
    func countBelow(_ x: Double) -> Int {
      var count = 0
      var q = d[0] - x
      if q < 0 { count += 1 }
      for i in 1..<m {
        let denominator = q != 0 ? q : Double.ulpOfOne * (abs(e[i - 1]) + Double.leastNormalMagnitude)
        q = d[i] - x - e[i - 1] * e[i - 1] / denominator
        if q < 0 { count += 1 }
      }
      return count
    }
    for _ in 0..<100 {
      let mid = 0.5 * (lo + hi)
      if mid <= lo || mid >= hi { break }
      if countBelow(mid) < m { lo = mid } else { hi = mid }
      if hi - lo <= 1e-14 * max(abs(lo), abs(hi)) { break }
    }
    return hi
  }

  // MARK: - Gauss–Seidel
  //
  // A Gauss–Seidel sweep is a recurrence: row i needs x_{i−1} (forward) or x_{i+1} (backward),
  // written by the row just before. Summing the row in column order puts that entry in the middle
  // of a chain of dependent subtractions, so each row waits for several floating-point latencies.
  // The sweeps below sum every other entry first (work that does not wait), then finish with the
  // one neighbour the previous row wrote — the entry next to the diagonal, `diagonal[i] ∓ 1` —
  // as a single fused multiply-add:
  //   x_i ← (x_i + s·d_i) − (a_ic·d_i)·x_c,   s = b_i − Σ_{j≠c} a_ij x_j,  d_i = 1/a_ii.
  // It is the same Gauss–Seidel step (every entry still sees the current x), rounded differently.
  // `diagonal[i]` is the position of a_ii in row i (columns sorted), or the row's end when the row
  // has no diagonal entry (such rows have d_i = 0 and stay unchanged).

  /// Σ_{k ∈ lo..<hi} v_k x_{c_k} in two interleaved partial sums, so that rows of 9+ entries (the
  /// coarse levels) are not one chain of dependent additions.
  @inline(__always)
  static func rowSum(
    _ v: UnsafePointer<Double>, _ ci: UnsafePointer<Int32>, _ x: UnsafePointer<Double>, _ lo: Int, _ hi: Int
  ) -> Double {
    var (s0, s1) = (0.0, 0.0)
    var k = lo
    while k + 1 < hi {
      s0 += v[k] * x[Int(ci[k])]
      s1 += v[k + 1] * x[Int(ci[k + 1])]
      k += 2
    }
    if k < hi { s0 += v[k] * x[Int(ci[k])] }
    return s0 + s1
  }

  /// One forward Gauss–Seidel sweep x_i ← x_i + (b_i − (A x)_i)/a_ii, i = 0, 1, … (over `rows`
  /// only when given).
  @inline(__always)
  static func forwardSweep(
    _ a: AMGMatrix, _ diagonal: UnsafePointer<Int32>, _ invD: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
    _ x: UnsafeMutablePointer<Double>, rows: Range<Int>? = nil
  ) {
    let (rp, ci, v) = (a.rowPointers, a.columnIndices, a.values)
    let range = rows ?? 0..<a.rows
    var previous = range.lowerBound > 0 ? x[range.lowerBound - 1] : 0
    for i in range {
      let start = Int(rp[i])
      let end = Int(rp[i + 1])
      let last = Int(diagonal[i]) - 1  // the lower neighbour nearest the diagonal, if ≥ start
      let s = b[i] - (rowSum(v, ci, x, start, max(last, start)) + rowSum(v, ci, x, max(last + 1, start), end))
      let t = x[i] + s * invD[i]
      if last >= start {
        let c = Int(ci[last])
        // Take x_{i−1} from the register it was computed in, not through memory.
        previous = t.addingProduct(-(v[last] * invD[i]), c == i - 1 ? previous : x[c])
      } else {
        previous = t
      }
      x[i] = previous
    }
  }

  /// The forward sweep from x = 0: only the strictly lower part is read, and x need not be zeroed
  /// beforehand (over `rows` only when given; x must then hold the sweep's values before them).
  @inline(__always)
  static func forwardSweepFromZero(
    _ a: AMGMatrix, _ diagonal: UnsafePointer<Int32>, _ invD: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
    _ x: UnsafeMutablePointer<Double>, rows: Range<Int>? = nil
  ) {
    let (rp, ci, v) = (a.rowPointers, a.columnIndices, a.values)
    for i in rows ?? 0..<a.rows {
      let start = Int(rp[i])
      let last = Int(diagonal[i]) - 1
      let s = b[i] - rowSum(v, ci, x, start, max(last, start))
      let t = s * invD[i]
      x[i] = last >= start ? t.addingProduct(-(v[last] * invD[i]), x[Int(ci[last])]) : t
    }
  }

  /// One backward Gauss–Seidel sweep, i = n−1, …, 0 (over `rows` only when given).
  @inline(__always)
  static func backwardSweep(
    _ a: AMGMatrix, _ diagonal: UnsafePointer<Int32>, _ invD: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
    _ x: UnsafeMutablePointer<Double>, rows: Range<Int>? = nil
  ) {
    let (rp, ci, v) = (a.rowPointers, a.columnIndices, a.values)
    let range = rows ?? 0..<a.rows
    var i = range.upperBound - 1
    var previous = range.upperBound < a.rows ? x[range.upperBound] : 0
    while i >= range.lowerBound {
      let start = Int(rp[i])
      let end = Int(rp[i + 1])
      let d = Int(diagonal[i])
      // The upper neighbour nearest the diagonal (none without a diagonal entry or upper part).
      let first = d < end && d + 1 < end ? d + 1 : end
      let s = b[i] - (rowSum(v, ci, x, start, first) + rowSum(v, ci, x, min(first + 1, end), end))
      let t = x[i] + s * invD[i]
      if first < end {
        let c = Int(ci[first])
        previous = t.addingProduct(-(v[first] * invD[i]), c == i + 1 ? previous : x[c])
      } else {
        previous = t
      }
      x[i] = previous
      i -= 1
    }
  }
}
