// Dense factorizations through LAPACKE (row-major interface), Float and Double.
// Every non-zero `info` becomes a `NumericsError.lapack` that names the routine and explains it.
import CBLAS

@inline(__always) private func ch(_ c: Character) -> CChar { CChar(UInt8(ascii: c.unicodeScalars.first!)) }

private func check(_ info: Int32, _ routine: String, positive: (Int) -> String) throws {
  if info < 0 {
    throw NumericsError.lapack(
      routine: routine, info: Int(info),
      meaning: "argument \(-info) had an illegal value (a bug in the caller; please report it)")
  }
  if info > 0 { throw NumericsError.lapack(routine: routine, info: Int(info), meaning: positive(Int(info))) }
}

private func requireSquare<T>(_ a: NDArray<T>, _ what: String) throws -> Int {
  guard a.rank == 2, a.shape[0] == a.shape[1] else {
    throw NumericsError.shapeMismatch("\(what) needs a square matrix, got shape \(a.shape)")
  }
  return a.shape[0]
}

/// Result of a real generalized eigenproblem A v = λ B v (LAPACK ?ggev).
///
/// λ_j = alpha_j / beta_j; beta_j = 0 marks an infinite eigenvalue (B singular). Eigenvectors are
/// the columns of `vectors`; complex-conjugate pairs are stored as two consecutive columns that
/// are conjugates of each other, so a pair is never split.
public struct GeneralizedEigenDecomposition<T: RealScalar>: Sendable {
  /// Numerators α_j (complex).
  public var alpha: [Complex<T>]
  /// Denominators β_j (real, ≥ 0).
  public var beta: [T]
  /// Right eigenvectors as columns, shape [n, n], each normalized so its largest component has |re|+|im| = 1.
  public var vectors: NDArray<Complex<T>>

  /// λ_j = α_j/β_j, with `T.infinity` in both parts when β_j = 0.
  public var eigenvalues: [Complex<T>] {
    zip(alpha, beta).map { a, b in b == 0 ? Complex(T.infinity, T.infinity) : Complex(a.re / b, a.im / b) }
  }
}

extension NDArray where Element: RealScalar {
  /// Thin QR factorization A = Q·R of an m×n matrix (?geqrf + ?orgqr).
  /// Returns Q (m×k, orthonormal columns) and R (k×n, upper triangular), k = min(m, n).
  public func qr() throws -> (q: NDArray, r: NDArray) {
    guard rank == 2 else { throw NumericsError.shapeMismatch("qr needs a matrix, got shape \(shape)") }
    let (m, n) = (shape[0], shape[1])
    let k = Swift.min(m, n)
    var a = self
    var tau = [Element](repeating: 0, count: Swift.max(1, k))
    var r = NDArray.zeros([k, n])
    try a.withUnsafeMutableBufferPointer { ap in
      try tau.withUnsafeMutableBufferPointer { tp in
        let info =
          Element.self == Float.self
          ? LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, i32(m), i32(n), asF(ap.baseAddress!), i32(n), asF(tp.baseAddress!))
          : LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, i32(m), i32(n), asD(ap.baseAddress!), i32(n), asD(tp.baseAddress!))
        try check(info, "geqrf") { _ in "unexpected positive info" }
        r.withUnsafeMutableBufferPointer { rp in
          for i in 0..<k { for j in i..<n { rp[i * n + j] = ap[i * n + j] } }
        }
        let info2 =
          Element.self == Float.self
          ? LAPACKE_sorgqr(LAPACK_ROW_MAJOR, i32(m), i32(k), i32(k), asF(ap.baseAddress!), i32(n), asF(tp.baseAddress!))
          : LAPACKE_dorgqr(LAPACK_ROW_MAJOR, i32(m), i32(k), i32(k), asD(ap.baseAddress!), i32(n), asD(tp.baseAddress!))
        try check(info2, "orgqr") { _ in "unexpected positive info" }
      }
    }
    // Q is the leading m×k block of the m×n work array.
    let q = a.withUnsafeBufferPointer { ap in
      NDArray(shape: [m, k]) { qp in for i in 0..<m { for j in 0..<k { qp[i * k + j] = ap[i * n + j] } } }
    }
    return (q, r)
  }

  /// Thin singular value decomposition A = U·diag(s)·Vᵀ (?gesdd, divide and conquer).
  /// Returns U (m×k), s (k, descending) and Vᵀ (k×n), k = min(m, n).
  public func svd() throws -> (u: NDArray, s: NDArray, vt: NDArray) {
    guard rank == 2 else { throw NumericsError.shapeMismatch("svd needs a matrix, got shape \(shape)") }
    let (m, n) = (shape[0], shape[1])
    let k = Swift.min(m, n)
    var a = self
    var s = NDArray.zeros([k])
    var u = NDArray.zeros([m, k])
    var vt = NDArray.zeros([k, n])
    try a.withUnsafeMutableBufferPointer { ap in
      try s.withUnsafeMutableBufferPointer { sp in
        try u.withUnsafeMutableBufferPointer { up in
          try vt.withUnsafeMutableBufferPointer { vp in
            let info =
              Element.self == Float.self
              ? LAPACKE_sgesdd(
                LAPACK_ROW_MAJOR, ch("S"), i32(m), i32(n), asF(ap.baseAddress!), i32(n), asF(sp.baseAddress!),
                asF(up.baseAddress!), i32(k), asF(vp.baseAddress!), i32(n))
              : LAPACKE_dgesdd(
                LAPACK_ROW_MAJOR, ch("S"), i32(m), i32(n), asD(ap.baseAddress!), i32(n), asD(sp.baseAddress!),
                asD(up.baseAddress!), i32(k), asD(vp.baseAddress!), i32(n))
            try check(info, "gesdd") { _ in "the bidiagonal divide-and-conquer iteration did not converge" }
          }
        }
      }
    }
    return (u, s, vt)
  }

  /// Eigen-decomposition of a symmetric matrix (?syevd, upper triangle read).
  /// Returns eigenvalues ascending and the orthonormal eigenvectors as the columns of an n×n matrix.
  public func symmetricEigen() throws -> (values: NDArray, vectors: NDArray) {
    let n = try requireSquare(self, "symmetricEigen")
    var a = self
    var w = NDArray.zeros([n])
    try a.withUnsafeMutableBufferPointer { ap in
      try w.withUnsafeMutableBufferPointer { wp in
        let info =
          Element.self == Float.self
          ? LAPACKE_ssyevd(
            LAPACK_ROW_MAJOR, ch("V"), ch("U"), i32(n), asF(ap.baseAddress!), i32(n), asF(wp.baseAddress!))
          : LAPACKE_dsyevd(
            LAPACK_ROW_MAJOR, ch("V"), ch("U"), i32(n), asD(ap.baseAddress!), i32(n), asD(wp.baseAddress!))
        try check(info, "syevd") { i in
          "the algorithm failed to converge (\(i) off-diagonal elements did not reach zero)"
        }
      }
    }
    return (w, a)
  }

  /// Generalized nonsymmetric eigenproblem A v = λ B v by the QZ algorithm (?ggev), as needed
  /// for harmonic Ritz vectors in GCRO-DR.
  public func generalizedEigen(_ bMatrix: NDArray) throws -> GeneralizedEigenDecomposition<Element> {
    let n = try requireSquare(self, "generalizedEigen")
    guard bMatrix.shape == shape else {
      throw NumericsError.shapeMismatch("generalizedEigen: A is \(shape) but B is \(bMatrix.shape)")
    }
    var a = self
    var b = bMatrix
    var ar = [Element](repeating: 0, count: n)
    var ai = [Element](repeating: 0, count: n)
    var be = [Element](repeating: 0, count: n)
    var vl = [Element](repeating: 0, count: 1)
    var vr = NDArray.zeros([n, n])
    try a.withUnsafeMutableBufferPointer { ap in
      try b.withUnsafeMutableBufferPointer { bp in
        try vr.withUnsafeMutableBufferPointer { vp in
          let info: Int32
          if Element.self == Float.self {
            info = LAPACKE_sggev(
              LAPACK_ROW_MAJOR, ch("N"), ch("V"), i32(n), asF(ap.baseAddress!), i32(n), asF(bp.baseAddress!), i32(n),
              asF(&ar), asF(&ai), asF(&be), asF(&vl), 1, asF(vp.baseAddress!), i32(n))
          } else {
            info = LAPACKE_dggev(
              LAPACK_ROW_MAJOR, ch("N"), ch("V"), i32(n), asD(ap.baseAddress!), i32(n), asD(bp.baseAddress!), i32(n),
              asD(&ar), asD(&ai), asD(&be), asD(&vl), 1, asD(vp.baseAddress!), i32(n))
          }
          try check(info, "ggev") { i in
            i <= n
              ? "the QZ iteration failed; no eigenvectors computed (info = \(i))"
              : "error in the back-transformation (info = \(i))"
          }
        }
      }
    }
    var vectors = NDArray<Complex<Element>>(shape: [n, n], repeating: .zero)
    vr.withUnsafeBufferPointer { v in
      vectors.withUnsafeMutableBufferPointer { c in
        var j = 0
        while j < n {
          if ai[j] != 0 && j + 1 < n {
            for i in 0..<n {
              c[i * n + j] = Complex(v[i * n + j], v[i * n + j + 1])
              c[i * n + j + 1] = Complex(v[i * n + j], -v[i * n + j + 1])
            }
            j += 2
          } else {
            for i in 0..<n { c[i * n + j] = Complex(v[i * n + j], 0) }
            j += 1
          }
        }
      }
    }
    return GeneralizedEigenDecomposition(
      alpha: (0..<n).map { Complex(ar[$0], ai[$0]) }, beta: be, vectors: vectors)
  }

  /// Cholesky factor L (lower triangular, A = L·Lᵀ) of a symmetric positive definite matrix (?potrf).
  /// Throws `NumericsError.lapack` naming the leading minor that is not positive definite.
  public func cholesky() throws -> NDArray {
    let n = try requireSquare(self, "cholesky")
    var l = self
    try l.withUnsafeMutableBufferPointer { p in
      let info =
        Element.self == Float.self
        ? LAPACKE_spotrf(LAPACK_ROW_MAJOR, ch("L"), i32(n), asF(p.baseAddress!), i32(n))
        : LAPACKE_dpotrf(LAPACK_ROW_MAJOR, ch("L"), i32(n), asD(p.baseAddress!), i32(n))
      try check(info, "potrf") { i in "the leading minor of order \(i) is not positive definite: the matrix is not SPD"
      }
      for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { p[i * n + j] = 0 } }
    }
    return l
  }

  /// Solves T·X = B (or Tᵀ·X = B) for triangular T (?trtrs); B is n×nrhs or a vector of length n.
  public func triangularSolve(_ rhs: NDArray, lower: Bool, transpose: Bool = false) throws -> NDArray {
    let n = try requireSquare(self, "triangularSolve")
    guard rhs.shape.first == n, rhs.rank <= 2 else {
      throw NumericsError.shapeMismatch("triangularSolve: matrix \(shape), right-hand side \(rhs.shape)")
    }
    let nrhs = rhs.rank == 2 ? rhs.shape[1] : 1
    var x = rhs
    try withUnsafeBufferPointer { tp in
      try x.withUnsafeMutableBufferPointer { xp in
        let info =
          Element.self == Float.self
          ? LAPACKE_strtrs(
            LAPACK_ROW_MAJOR, ch(lower ? "L" : "U"), ch(transpose ? "T" : "N"), ch("N"), i32(n), i32(nrhs),
            asF(tp.baseAddress!), i32(n), asF(xp.baseAddress!), i32(nrhs))
          : LAPACKE_dtrtrs(
            LAPACK_ROW_MAJOR, ch(lower ? "L" : "U"), ch(transpose ? "T" : "N"), ch("N"), i32(n), i32(nrhs),
            asD(tp.baseAddress!), i32(n), asD(xp.baseAddress!), i32(nrhs))
        try check(info, "trtrs") { i in "diagonal element \(i) is exactly zero: the triangular matrix is singular" }
      }
    }
    return x
  }

  /// Solves A·X = B with A = L·Lᵀ given the Cholesky factor L from `cholesky()` (?potrs).
  public func choleskySolve(_ rhs: NDArray) throws -> NDArray {
    let y = try triangularSolve(rhs, lower: true)
    return try triangularSolve(y, lower: true, transpose: true)
  }

  /// Solves the general square system A·X = B by LU with partial pivoting (?gesv).
  public func solve(_ rhs: NDArray) throws -> NDArray {
    let n = try requireSquare(self, "solve")
    guard rhs.shape.first == n, rhs.rank <= 2 else {
      throw NumericsError.shapeMismatch("solve: matrix \(shape), right-hand side \(rhs.shape)")
    }
    let nrhs = rhs.rank == 2 ? rhs.shape[1] : 1
    var a = self
    var x = rhs
    var piv = [Int32](repeating: 0, count: n)
    try a.withUnsafeMutableBufferPointer { ap in
      try x.withUnsafeMutableBufferPointer { xp in
        let info =
          Element.self == Float.self
          ? LAPACKE_sgesv(
            LAPACK_ROW_MAJOR, i32(n), i32(nrhs), asF(ap.baseAddress!), i32(n), &piv, asF(xp.baseAddress!), i32(nrhs))
          : LAPACKE_dgesv(
            LAPACK_ROW_MAJOR, i32(n), i32(nrhs), asD(ap.baseAddress!), i32(n), &piv, asD(xp.baseAddress!), i32(nrhs))
        try check(info, "gesv") { i in "U(\(i),\(i)) is exactly zero: the matrix is singular" }
      }
    }
    return x
  }
}
