// Thin, allocation-free wrappers over OpenBLAS's CBLAS for Float and Double.
// Dispatch is on the element type (`T.self == Float.self`), which the optimizer folds away in
// specialized code, so a generic caller pays nothing over calling cblas_sgemm/cblas_dgemm itself.
import CBLAS
import CSuiteSparse

/// Whether a matrix operand is used as stored or transposed.
public enum Transpose: Sendable {
  case none, transpose
  @usableFromInline var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
  var lapackChar: CChar { self == .none ? CChar(UInt8(ascii: "N")) : CChar(UInt8(ascii: "T")) }
}

@usableFromInline @inline(__always) func asF<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
  UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
}
@usableFromInline @inline(__always) func asD<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Double> {
  UnsafeRawPointer(p).assumingMemoryBound(to: Double.self)
}
@usableFromInline @inline(__always) func asF<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}
@usableFromInline @inline(__always) func asD<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Double> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self)
}
@usableFromInline @inline(__always) func i32(_ n: Int) -> Int32 {
  precondition(n <= Int(Int32.max), "dimension \(n) exceeds the 32-bit BLAS/LAPACK interface")
  return Int32(n)
}

/// Level 1–3 BLAS on raw buffers, row-major. All routines are generic over `Float`/`Double`.
public enum BLAS {
  /// C ← α·op(A)·op(B) + β·C, row-major; op(A) is m×k, op(B) is k×n, C is m×n.
  @inlinable
  public static func gemm<T: RealScalar>(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
  ) {
    if T.self == Float.self {
      cblas_sgemm(
        CblasRowMajor, transA.cblas, transB.cblas, i32(m), i32(n), i32(k), Float(alpha), asF(a), i32(lda),
        asF(b), i32(ldb), Float(beta), asF(c), i32(ldc))
    } else {
      cblas_dgemm(
        CblasRowMajor, transA.cblas, transB.cblas, i32(m), i32(n), i32(k), Double(alpha), asD(a), i32(lda),
        asD(b), i32(ldb), Double(beta), asD(c), i32(ldc))
    }
  }

  /// y ← α·op(A)·x + β·y with A m×n row-major.
  @inlinable
  public static func gemv<T: RealScalar>(
    _ trans: Transpose, m: Int, n: Int, alpha: T, a: UnsafePointer<T>, lda: Int,
    x: UnsafePointer<T>, beta: T, y: UnsafeMutablePointer<T>
  ) {
    if T.self == Float.self {
      cblas_sgemv(
        CblasRowMajor, trans.cblas, i32(m), i32(n), Float(alpha), asF(a), i32(lda), asF(x), 1, Float(beta), asF(y), 1)
    } else {
      cblas_dgemv(
        CblasRowMajor, trans.cblas, i32(m), i32(n), Double(alpha), asD(a), i32(lda), asD(x), 1, Double(beta), asD(y), 1)
    }
  }

  /// y ← α·x + y.
  @inlinable
  public static func axpy<T: RealScalar>(_ alpha: T, _ x: UnsafeBufferPointer<T>, _ y: UnsafeMutableBufferPointer<T>) {
    precondition(x.count == y.count, "axpy: lengths \(x.count) and \(y.count) differ")
    guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
    if T.self == Float.self {
      cblas_saxpy(i32(x.count), Float(alpha), asF(xp), 1, asF(yp), 1)
    } else {
      cblas_daxpy(i32(x.count), Double(alpha), asD(xp), 1, asD(yp), 1)
    }
  }

  /// xᵀy.
  @inlinable
  public static func dot<T: RealScalar>(_ x: UnsafeBufferPointer<T>, _ y: UnsafeBufferPointer<T>) -> T {
    precondition(x.count == y.count, "dot: lengths \(x.count) and \(y.count) differ")
    guard let xp = x.baseAddress, let yp = y.baseAddress else { return 0 }
    if T.self == Float.self { return T(cblas_sdot(i32(x.count), asF(xp), 1, asF(yp), 1)) }
    return T(cblas_ddot(i32(x.count), asD(xp), 1, asD(yp), 1))
  }

  /// ‖x‖₂ (scaled to avoid overflow, as the reference BLAS).
  @inlinable
  public static func nrm2<T: RealScalar>(_ x: UnsafeBufferPointer<T>) -> T {
    guard let xp = x.baseAddress else { return 0 }
    if T.self == Float.self { return T(cblas_snrm2(i32(x.count), asF(xp), 1)) }
    return T(cblas_dnrm2(i32(x.count), asD(xp), 1))
  }

  /// x ← α·x.
  @inlinable
  public static func scal<T: RealScalar>(_ alpha: T, _ x: UnsafeMutableBufferPointer<T>) {
    guard let xp = x.baseAddress else { return }
    if T.self == Float.self {
      cblas_sscal(i32(x.count), Float(alpha), asF(xp), 1)
    } else {
      cblas_dscal(i32(x.count), Double(alpha), asD(xp), 1)
    }
  }

  /// Strided-batched GEMM: for each b in 0..<batch, C_b ← α·op(A_b)·op(B_b) + β·C_b, where
  /// A_b = a + b·strideA (and likewise B, C). A stride of 0 broadcasts one operand.
  @inlinable
  public static func gemmStridedBatched<T: RealScalar>(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, strideA: Int, b: UnsafePointer<T>, ldb: Int, strideB: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int, strideC: Int, batch: Int
  ) {
    for i in 0..<batch {
      gemm(
        transA, transB, m: m, n: n, k: k, alpha: alpha, a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
        beta: beta, c: c + i * strideC, ldc: ldc)
    }
  }

  /// OpenBLAS build and runtime information: configuration string, core type, thread count.
  public static var openBLASInfo: (config: String, coreName: String, threads: Int) {
    (
      String(cString: openblas_get_config()), String(cString: openblas_get_corename()),
      Int(openblas_get_num_threads())
    )
  }

  /// The number of threads OpenBLAS uses for the next call (1 inside ``withSingleThread(_:)``).
  public static var threadCount: Int { Int(openblas_get_num_threads()) }

  /// Sets the number of OpenBLAS threads (keep BLAS threads × Swift threads ≤ cores).
  ///
  /// The setting is process-wide. Code that needs single-threaded BLAS for a while (for example
  /// to get bit-identical results whatever else runs) should use ``withSingleThread(_:)``, which
  /// is safe when several such scopes overlap on different threads.
  public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

  /// Count of open ``withSingleThread(_:)`` scopes and the thread count to restore when the last closes.
  private static let singleThreadScopes = Locked((open: 0, saved: 1))

  /// Runs `body` with OpenBLAS limited to one thread, restoring the previous count afterwards.
  ///
  /// OpenBLAS's thread count is process-wide and its multithreaded reductions round differently
  /// from the single-threaded ones, so work that must be reproducible bit for bit (dataset
  /// generation with Swift-level parallelism) runs inside this scope. Overlapping scopes on
  /// different threads are reference-counted: the count is restored only when the last one ends,
  /// so one scope finishing never switches BLAS back to several threads under another.
  public static func withSingleThread<R>(_ body: () throws -> R) rethrows -> R {
    singleThreadScopes.withLock { s in
      if s.open == 0 {
        s.saved = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
      }
      s.open += 1
    }
    defer {
      singleThreadScopes.withLock { s in
        s.open -= 1
        if s.open == 0 { openblas_set_num_threads(Int32(max(1, s.saved))) }
      }
    }
    return try body()
  }

  /// Sets the OpenMP team size for parallel regions started *from the calling thread* (CHOLMOD
  /// and UMFPACK use OpenMP in Debian's build). Worker threads that each run a solver call this
  /// with 1 so that workers × OpenMP threads stays within the cores.
  public static func setOpenMPThreadsForCurrentThread(_ n: Int) { omp_set_num_threads(Int32(max(1, n))) }
}

extension NDArray where Element: RealScalar {
  /// Matrix product op(A)·op(B) of rank-2 arrays (BLAS gemm).
  public func matmul(_ b: NDArray, transposeSelf: Bool = false, transposeOther: Bool = false) throws -> NDArray {
    guard rank == 2, b.rank == 2 else {
      throw NumericsError.shapeMismatch("matmul needs two matrices, got shapes \(shape) and \(b.shape)")
    }
    let (m, k) = transposeSelf ? (shape[1], shape[0]) : (shape[0], shape[1])
    let (k2, n) = transposeOther ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == k2 else {
      throw NumericsError.shapeMismatch("matmul inner dimensions differ: \(shape) × \(b.shape)")
    }
    var c = NDArray.zeros([m, n])
    withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          BLAS.gemm(
            transposeSelf ? .transpose : .none, transposeOther ? .transpose : .none, m: m, n: n, k: k,
            alpha: 1, a: ap.baseAddress!, lda: shape[1], b: bp.baseAddress!, ldb: b.shape[1],
            beta: 0, c: cp.baseAddress!, ldc: max(1, n))
        }
      }
    }
    return c
  }

  /// Batched matrix product of arrays shaped [batch, m, k] and [batch, k, n] (strided-batched gemm).
  public func batchedMatmul(_ b: NDArray) throws -> NDArray {
    guard rank == 3, b.rank == 3, shape[0] == b.shape[0], shape[2] == b.shape[1] else {
      throw NumericsError.shapeMismatch("batchedMatmul needs [B,m,k] × [B,k,n], got \(shape) × \(b.shape)")
    }
    let (bs, m, k, n) = (shape[0], shape[1], shape[2], b.shape[2])
    var c = NDArray.zeros([bs, m, n])
    withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          BLAS.gemmStridedBatched(
            .none, .none, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: k, strideA: m * k,
            b: bp.baseAddress!, ldb: n, strideB: k * n, beta: 0, c: cp.baseAddress!, ldc: n, strideC: m * n,
            batch: bs)
        }
      }
    }
    return c
  }

  /// Transpose of a matrix (copies).
  public func transposed() -> NDArray {
    precondition(rank == 2, "transposed() needs a matrix, got shape \(shape)")
    let (m, n) = (shape[0], shape[1])
    return withUnsafeBufferPointer { a in
      NDArray(shape: [n, m]) { t in
        for i in 0..<m { for j in 0..<n { t[j * m + i] = a[i * n + j] } }
      }
    }
  }

  /// The n×n identity matrix.
  public static func identity(_ n: Int) -> NDArray {
    var a = NDArray.zeros([n, n])
    a.withUnsafeMutableBufferPointer { p in for i in 0..<n { p[i * n + i] = 1 } }
    return a
  }
}
