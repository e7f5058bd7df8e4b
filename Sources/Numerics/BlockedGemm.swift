// Products of tall-and-thin matrices (a field of N points times a C × C weight, C ~ 64) as a
// sequence of small BLAS calls. OpenBLAS (0.3.21, SKYLAKEX) routes a gemm of fewer than 100³
// multiply-adds to its "small matrix" kernels, which read the operands in place: no packing copy
// of A and B and no separate zeroing pass over C for β = 0. The general path packs both operands —
// for k = 64 the copies cost about half as much as the arithmetic. Calls of m·n·k < 2¹⁸ also stay
// below OpenBLAS's threading threshold, so their rounding does not depend on the BLAS thread
// count. The small kernels do not take a column-major TT product, and take TN only for tiny C: a
// transposed B that is small is transposed once into a scratch buffer instead.
//
// Reference: OpenBLAS `interface/gemm.c` and `kernel/x86_64/sgemm_small_kernel_permit_skylakex.c`
// (the permit rules above); K. Goto, R. van de Geijn, "Anatomy of high-performance matrix
// multiplication", ACM TOMS 34 (2008) (why the general path packs).

extension BLAS {
  /// Multiply-adds per call below which OpenBLAS neither threads nor packs (2¹⁸).
  public static let smallCallLimit = 1 << 18

  /// C ← α·op(A)·op(B) + β·C, row-major (as ``gemm(_:_:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``),
  /// issued as calls of fewer than ``smallCallLimit`` multiply-adds each: the longest of m, n, k is
  /// cut into blocks (blocks of k accumulate into C with β = 1 after the first). A transposed B of
  /// at most 2¹⁴ elements is first transposed into a scratch buffer. Products that the small
  /// kernels do not take (B large and transposed while A is not) go to one plain call.
  ///
  /// The block boundaries depend only on the shapes, so results do not depend on the thread count.
  @inlinable
  public static func blockedGemm<T: RealScalar>(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    if m * n * k < smallCallLimit || k == 0 {
      gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
      return
    }
    if transB == .transpose && k * n <= 1 << 14 {
      // op(B) = Bᵀ with B stored [n × k]: copy op(B) as a row-major [k × n] matrix.
      withUnsafeTemporaryAllocation(of: T.self, capacity: k * n) { scratch in
        let s = scratch.baseAddress!
        for j in 0..<n {
          let row = b + j * ldb
          for i in 0..<k { s[i * n + j] = row[i] }
        }
        blockedGemm(
          transA, .none, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: UnsafePointer(s), ldb: n, beta: beta,
          c: c, ldc: ldc)
      }
      return
    }
    if transB == .transpose {
      // Column-major TN or TT: no small kernel for these shapes.
      gemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
      return
    }
    /// The largest block of `long` with block · (product of the other two) < smallCallLimit,
    /// a multiple of 16 when possible.
    func block(_ others: Int) -> Int {
      let most = max(1, (smallCallLimit - 1) / max(1, others))
      return most >= 16 ? most / 16 * 16 : most
    }
    if m >= k && m >= n {
      let rows = block(n * k)
      var r = 0
      while r < m {
        let count = min(rows, m - r)
        gemm(
          transA, .none, m: count, n: n, k: k, alpha: alpha, a: transA == .none ? a + r * lda : a + r, lda: lda,
          b: b, ldb: ldb, beta: beta, c: c + r * ldc, ldc: ldc)
        r += count
      }
    } else if k >= n {
      // Accumulating blocks shallower than 64 cost more in C traffic than they save: keep them
      // 64 deep while the call stays under the small-kernel bound (100³ multiply-adds; such a call
      // takes OpenBLAS's threaded path when BLAS runs several threads).
      var depth = block(m * n)
      if depth < 64 && m * n * 64 <= 1_000_000 { depth = 64 }
      var p = 0
      while p < k {
        let count = min(depth, k - p)
        gemm(
          transA, .none, m: m, n: n, k: count, alpha: alpha, a: transA == .none ? a + p : a + p * lda, lda: lda,
          b: b + p * ldb, ldb: ldb, beta: p == 0 ? beta : 1, c: c, ldc: ldc)
        p += count
      }
    } else {
      let columns = block(m * k)
      var q = 0
      while q < n {
        let count = min(columns, n - q)
        gemm(
          transA, .none, m: m, n: count, k: k, alpha: alpha, a: a, lda: lda, b: b + q, ldb: ldb, beta: beta,
          c: c + q, ldc: ldc)
        q += count
      }
    }
  }
}
