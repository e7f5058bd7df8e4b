import Foundation
import Numerics
import Testing

@Suite("BLAS and LAPACK wrappers against identities")
struct LinearAlgebraTests {
  func naiveMatmul(_ a: NDArray<Double>, _ b: NDArray<Double>) -> NDArray<Double> {
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    var c = NDArray<Double>.zeros([m, n])
    for i in 0..<m {
      for j in 0..<n {
        var s = 0.0
        for p in 0..<k { s += a[i, p] * b[p, j] }
        c[i, j] = s
      }
    }
    return c
  }

  @Test("gemm with transposes equals the naive product; Float and Double")
  func gemm() throws {
    let a = randomArray([7, 5], seed: 1)
    let b = randomArray([5, 4], seed: 2)
    let ref = naiveMatmul(a, b)
    #expect(try a.matmul(b).maxAbsDifference(ref) < 1e-12)
    #expect(try a.transposed().matmul(b, transposeSelf: true).maxAbsDifference(ref) < 1e-12)
    #expect(try a.matmul(b.transposed(), transposeOther: true).maxAbsDifference(ref) < 1e-12)
    let f = try a.converted(to: Float.self).matmul(b.converted(to: Float.self))
    #expect(f.converted(to: Double.self).maxAbsDifference(ref) < 1e-5)
    #expect(throws: NumericsError.self) { try a.matmul(a) }
  }

  @Test(
    "blocked gemm (calls under 2^18 multiply-adds) equals one gemm: m-, k- and n-long shapes, every transpose, β ≠ 0",
    arguments: [(700, 20, 30), (20, 30, 700), (100, 70, 300), (20, 700, 30), (9, 9, 9)])
  func blockedGemm(m: Int, n: Int, k: Int) {
    for (ta, tb) in [
      (Transpose.none, Transpose.none), (.transpose, .none), (.none, .transpose), (.transpose, .transpose),
    ] {
      let a = randomArray(ta == .none ? [m, k] : [k, m], seed: 11)
      let b = randomArray(tb == .none ? [k, n] : [n, k], seed: 12)
      let c0 = randomArray([m, n], seed: 13)
      var reference = c0
      var blocked = c0
      a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
          reference.withUnsafeMutableBufferPointer { cp in
            BLAS.gemm(
              ta, tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: ta == .none ? k : m, b: bp.baseAddress!,
              ldb: tb == .none ? n : k, beta: 0.25, c: cp.baseAddress!, ldc: n)
          }
          blocked.withUnsafeMutableBufferPointer { cp in
            BLAS.blockedGemm(
              ta, tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: ta == .none ? k : m, b: bp.baseAddress!,
              ldb: tb == .none ? n : k, beta: 0.25, c: cp.baseAddress!, ldc: n)
          }
        }
      }
      #expect(blocked.maxAbsDifference(reference) < 1e-11, "\(ta) \(tb) \(m)×\(n)×\(k)")
    }
  }

  @Test("strided-batched gemm equals per-batch products; gemv, dot, nrm2, axpy, scal")
  func batchedAndLevel1() throws {
    let a = randomArray([3, 4, 6], seed: 3)
    let b = randomArray([3, 6, 2], seed: 4)
    let c = try a.batchedMatmul(b)
    for i in 0..<3 { #expect(c[sample: i].maxAbsDifference(naiveMatmul(a[sample: i], b[sample: i])) < 1e-12) }
    let x = randomArray([6], seed: 5)
    var y = NDArray<Double>.zeros([4])
    a[sample: 0].withUnsafeBufferPointer { ap in
      x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
          BLAS.gemv(
            .none, m: 4, n: 6, alpha: 1, a: ap.baseAddress!, lda: 6, x: xp.baseAddress!, beta: 0, y: yp.baseAddress!)
        }
      }
    }
    #expect(y.maxAbsDifference(try a[sample: 0].matmul(x.reshaped([6, 1])).reshaped([4])) < 1e-12)
    let d = x.withUnsafeBufferPointer { BLAS.dot($0, $0) }
    let n2 = x.withUnsafeBufferPointer { BLAS.nrm2($0) }
    #expect(abs(d - n2 * n2) < 1e-12)
    var z = x
    z.addScaled(x, by: 2)
    z.withUnsafeMutableBufferPointer { BLAS.scal(1.0 / 3.0, $0) }
    #expect(z.maxAbsDifference(x) < 1e-14)
  }

  @Test("QR: Q R = A and QᵀQ = I (tall and wide)")
  func qr() throws {
    for shape in [[8, 5], [4, 7]] {
      let a = randomArray(shape, seed: 6)
      let (q, r) = try a.qr()
      #expect(try q.matmul(r).maxAbsDifference(a) < 1e-12)
      let k = min(shape[0], shape[1])
      #expect(try q.matmul(q, transposeSelf: true).maxAbsDifference(.identity(k)) < 1e-12)
      for i in 0..<k { for j in 0..<i { #expect(r[i, j] == 0) } }
    }
  }

  @Test("SVD: U diag(s) Vᵀ = A, orthonormal factors, descending s")
  func svd() throws {
    let a = randomArray([9, 6], seed: 7)
    let (u, s, vt) = try a.svd()
    var us = u
    for i in 0..<9 { for j in 0..<6 { us[i, j] *= s[j] } }
    #expect(try us.matmul(vt).maxAbsDifference(a) < 1e-12)
    #expect(try u.matmul(u, transposeSelf: true).maxAbsDifference(.identity(6)) < 1e-12)
    #expect(try vt.matmul(vt, transposeOther: true).maxAbsDifference(.identity(6)) < 1e-12)
    for j in 1..<6 { #expect(s[j] <= s[j - 1]) }
  }

  @Test("symmetric eigen: A V = V Λ, VᵀV = I, ascending")
  func symmetricEigen() throws {
    let b = randomArray([6, 6], seed: 8)
    let a = b + b.transposed()
    let (w, v) = try a.symmetricEigen()
    var vl = v
    for i in 0..<6 { for j in 0..<6 { vl[i, j] *= w[j] } }
    #expect(try a.matmul(v).maxAbsDifference(vl) < 1e-12)
    #expect(try v.matmul(v, transposeSelf: true).maxAbsDifference(.identity(6)) < 1e-12)
    for j in 1..<6 { #expect(w[j] >= w[j - 1]) }
  }

  @Test("generalized eigen: A v = λ B v for every pair, conjugate pairs kept together")
  func generalizedEigen() throws {
    let n = 7
    let a = randomArray([n, n], seed: 9)
    let b = randomArray([n, n], seed: 10)
    let ge = try a.generalizedEigen(b)
    let lambdas = ge.eigenvalues
    var sawPair = false
    for j in 0..<n {
      guard ge.beta[j] != 0 else { continue }
      let lam = lambdas[j]
      var worst = 0.0
      for i in 0..<n {
        var av = Complex<Double>.zero
        var bv = Complex<Double>.zero
        for k in 0..<n {
          av = av + a[i, k] * ge.vectors[k, j]
          bv = bv + b[i, k] * ge.vectors[k, j]
        }
        worst = max(worst, (av - lam * bv).length)
      }
      #expect(worst < 1e-9 * max(1, lam.length))
      if lam.im != 0 {
        sawPair = true
        // Its conjugate partner sits next to it.
        let partner = lam.im > 0 ? j + 1 : j - 1
        #expect(abs(lambdas[partner].re - lam.re) < 1e-12 && abs(lambdas[partner].im + lam.im) < 1e-12)
      }
    }
    #expect(sawPair, "this seed should produce at least one complex-conjugate pair")
  }

  @Test("Cholesky: L Lᵀ = A, solves, and a named error for a non-SPD matrix")
  func cholesky() throws {
    let b = randomArray([5, 5], seed: 12)
    let a = try b.matmul(b, transposeOther: true) + 5 * NDArray<Double>.identity(5)
    let l = try a.cholesky()
    #expect(try l.matmul(l, transposeOther: true).maxAbsDifference(a) < 1e-12)
    let rhs = randomArray([5, 2], seed: 13)
    let x = try l.choleskySolve(rhs)
    #expect(try a.matmul(x).maxAbsDifference(rhs) < 1e-12)
    let y = try a.solve(rhs)
    #expect(y.maxAbsDifference(x) < 1e-12)
    var bad = a
    bad[2, 2] = -100
    #expect {
      try bad.cholesky()
    } throws: { e in
      guard case .lapack(let routine, let info, let meaning) = e as? NumericsError else { return false }
      return routine == "potrf" && info == 3 && meaning.contains("not positive definite")
    }
    var singular = NDArray<Double>.identity(3)
    singular[1, 1] = 0
    #expect(throws: NumericsError.self) { try singular.triangularSolve(randomArray([3], seed: 1), lower: true) }
  }

  @Test("overlapping single-thread BLAS scopes: the first to end does not switch BLAS back under the other")
  func overlappingSingleThreadScopes() {
    let entered = DispatchSemaphore(value: 0)
    let firstEnded = DispatchSemaphore(value: 0)
    let secondMayEnd = DispatchSemaphore(value: 0)
    let threadsInsideSecond = Locked([Int]())
    let first = DispatchGroup()
    let second = DispatchGroup()
    DispatchQueue.global().async(group: first) {
      BLAS.withSingleThread {
        entered.signal()
        secondMayEnd.wait()
      }
    }
    entered.wait()
    DispatchQueue.global().async(group: second) {
      BLAS.withSingleThread {
        threadsInsideSecond.withLock { $0.append(BLAS.openBLASInfo.threads) }
        secondMayEnd.signal()
        firstEnded.wait()
        // The first scope has ended; BLAS must still be single-threaded here.
        threadsInsideSecond.withLock { $0.append(BLAS.openBLASInfo.threads) }
      }
    }
    // The first scope ends once the second has entered; then the second looks again.
    first.wait()
    firstEnded.signal()
    second.wait()
    #expect(threadsInsideSecond.withLock { $0 } == [1, 1])
  }
}
