// Pruned real DFT by matrix products: the few low Fourier modes that a Fourier neural operator
// keeps, computed as two dense DFT-matrix products (BLAS gemm) instead of full FFTs.
//
// A spectral convolution needs, of each 64² field's 64 × 33 Hermitian-half spectrum, only a 12 × 7
// block; and its inverse transform reads only that block. Computing just the needed outputs of a
// DFT ("pruning", J. D. Markel, "FFT pruning", IEEE Trans. Audio Electroacoust. 19(4), 1971) by
// direct summation costs N₁N₂·2K₂ + N₁·2K₁·2K₂ multiply-adds per field (79 k at 64², K = 12 × 7)
// against ≈ 2.5·N₁N₂·log₂(N₁N₂) flops (61 k) for a full r2c FFT, but as matrix products it runs at
// gemm speed, a few times the speed of FFTW on these small transforms. The separable transform
// is two gemms over all fields at once (row-major, R fields of N₁ × N₂):
//
//   analysis   X[r, a, c] = s · Σ_{n₁,n₂} x[r, n₁, n₂] e^{−2πi (f_a n₁/N₁ + c n₂/N₂)}
//     W = (x · C)ᵀ           [2K₂, R·N₁]    C = [cos θ | −sin θ]  (N₂ × 2K₂, θ = 2π c n₂/N₂), scaled by s
//     P = W · Eᵀ             [2K₂·R, 2K₁]   E = [cos φ ; sin φ]  (2K₁ × N₁, φ = 2π f_a n₁/N₁)
//     X_re = P[c, r, a] + P[K₂+c, r, K₁+a],   X_im = P[K₂+c, r, a] − P[c, r, K₁+a]      ("fold")
//
//   synthesis  y[r, n₁, n₂] = Σ_c m_c · Re( e^{2πi c n₂/N₂} Σ_a Y[r, a, c] e^{2πi f_a n₁/N₁} )
//     Ŷ = unfold(Y)          [2K₂·R, 2K₁]   Ŷ[c,·,a] = Y_re, Ŷ[K₂+c,·,a] = Y_im, Ŷ[c,·,K₁+a] = −Y_im, Ŷ[K₂+c,·,K₁+a] = Y_re
//     Uᵀ = Ŷ · E             [2K₂, R·N₁]
//     y = U · Cᵀ             [R·N₁, N₂]     C = m_c [cos θ | −sin θ]
//
// with m_c = 1 for c = 0 and the Nyquist column, 2 otherwise: exactly what a c2r transform (FFTW,
// torch.fft.irfftn) computes from a half spectrum that is zero outside the block, including its
// reading only the real part of the c = 0 and Nyquist coefficients after the first-axis sum.
// Since unfold is the transpose of fold, the adjoint of analysis is synthesis with the analysis
// matrix and vice versa; the pullbacks of the spectral convolution use these exact adjoints.
// One axis (d = 1) is the same with N₁ = 1 and f = [0]. Not handled: three axes (the FFTW path
// serves those), complex input.
import Foundation

/// The kept low modes of real 1D or 2D fields by dense DFT matrices: forward (analysis), inverse
/// (synthesis) and both adjoints, each two gemms over a batch of fields.
///
/// ```
/// fields x: [R, N₁, N₂] real   ⇄   kept modes X: [R, K₁, K₂] complex
/// kept modes: first-axis frequencies f₀ … f_{K₁−1} (indices 0 ..< N₁, any order), last-axis 0 ..< K₂ (K₂ ≤ N₂/2 + 1)
/// analyze:     X = s · rfft2(x) at the kept modes
/// synthesize:  y = irfft2 (unscaled) of a half spectrum holding Y at the kept modes and zero elsewhere
/// ```
///
/// For one axis pass `rows: 1, rowFrequencies: [0]`. Cost per field: N₁N₂·2K₂ + N₁·4K₁K₂
/// multiply-adds at gemm speed; ``isCheaperThanFFT(rows:columns:keptRows:keptColumns:)`` says when
/// that beats a full FFT. Thread-safe: the matrices are immutable; each call allocates its two
/// intermediate arrays (from ``ArrayBufferPool`` when enabled).
///
/// ```swift
/// let dft = PrunedRealDFT<Float>(rows: 64, columns: 64, rowFrequencies: [58, 59, …, 5], keptColumns: 7, scale: 1 / 4096)
/// dft.analyze(x, fields: 640, into: modes)        // x: 640·64·64 floats, modes: 640·12·7 complex
/// dft.synthesize(modes, fields: 640, into: y)
/// ```
public struct PrunedRealDFT<T: RealScalar>: Sendable {
  /// N₁ (1 for one-axis fields).
  public let rows: Int
  /// N₂.
  public let columns: Int
  /// Kept first-axis frequency indices f_a ∈ 0 ..< N₁ (negative frequencies as N₁ − |f|).
  public let rowFrequencies: [Int]
  /// K₂: kept last-axis frequencies 0 ..< K₂.
  public let keptColumns: Int
  /// The scale s of ``analyze(_:fields:into:)``.
  public let scale: T
  /// E = [cos φ ; sin φ], [2K₁, N₁].
  let rowMatrix: NDArray<T>
  /// s · [cos θ | −sin θ], [N₂, 2K₂].
  let analysisColumns: NDArray<T>
  /// m_c · [cos θ | −sin θ], [N₂, 2K₂].
  let synthesisColumns: NDArray<T>

  /// Matrices for fields of `rows` × `columns` keeping `rowFrequencies` × (0 ..< keptColumns).
  /// Preconditions: positive sizes, frequencies in range, keptColumns ≤ columns/2 + 1.
  @specialized(where T == Float)
  @specialized(where T == Double)
  public init(rows: Int, columns: Int, rowFrequencies: [Int], keptColumns: Int, scale: T) {
    precondition(rows >= 1 && columns >= 1, "PrunedRealDFT: field size \(rows) × \(columns) must be positive")
    precondition(
      !rowFrequencies.isEmpty && rowFrequencies.allSatisfy { (0..<rows).contains($0) },
      "PrunedRealDFT: row frequencies \(rowFrequencies) must be indices in 0..<\(rows)")
    precondition(
      keptColumns >= 1 && keptColumns <= columns / 2 + 1,
      "PrunedRealDFT: \(keptColumns) kept columns; a real axis of \(columns) has \(columns / 2 + 1)")
    self.rows = rows
    self.columns = columns
    self.rowFrequencies = rowFrequencies
    self.keptColumns = keptColumns
    self.scale = scale
    let k1 = rowFrequencies.count
    // Angles from exact integer residues, so that large f·n lose no accuracy.
    func angle(_ f: Int, _ n: Int, _ size: Int) -> Double { 2 * Double.pi * Double((f * n) % size) / Double(size) }
    rowMatrix = NDArray(shape: [2 * k1, rows]) { e in
      for (a, f) in rowFrequencies.enumerated() {
        for n in 0..<rows {
          let phi = angle(f, n, rows)
          e[a * rows + n] = T(cos(phi))
          e[(k1 + a) * rows + n] = T(sin(phi))
        }
      }
    }
    let k2 = keptColumns
    func columnMatrix(_ weight: (Int) -> Double) -> NDArray<T> {
      NDArray(shape: [columns, 2 * k2]) { m in
        for n in 0..<columns {
          for c in 0..<k2 {
            let theta = angle(c, n, columns)
            m[n * 2 * k2 + c] = T(weight(c) * cos(theta))
            m[n * 2 * k2 + k2 + c] = T(-weight(c) * sin(theta))
          }
        }
      }
    }
    let s = Double(scale)
    analysisColumns = columnMatrix { _ in s }
    synthesisColumns = columnMatrix { c in c == 0 || (columns % 2 == 0 && c == columns / 2) ? 1 : 2 }
  }

  /// K₁ · K₂: kept modes per field.
  public var modesPerField: Int { rowFrequencies.count * keptColumns }

  /// Whether this transform should beat a full r2c FFT of the field: the direct sums'
  /// multiply-adds (N₁N₂·2K₂ + N₁·4K₁K₂) against 2.5·N₁N₂·log₂(N₁N₂) FFT flops, counting a gemm
  /// operation as a quarter of an FFTW one (a rule of thumb: sgemm runs at 30–70 GFLOP/s per core
  /// at these shapes, FFTW's batched 64² r2c at about 13; bench/RESULTS.md, "FNO training").
  public static func isCheaperThanFFT(rows: Int, columns: Int, keptRows: Int, keptColumns: Int) -> Bool {
    let n = Double(rows * columns)
    let direct = n * Double(2 * keptColumns) + Double(rows * 4 * keptRows * keptColumns)
    let fft = 2.5 * n * max(1, log2(n))
    return direct <= 4 * fft
  }

  /// X = s · rfft2(x) at the kept modes. `x`: `fields` × N₁ × N₂ reals; `modes`: `fields` × K₁ × K₂.
  public func analyze(_ x: UnsafePointer<T>, fields: Int, into modes: UnsafeMutablePointer<Complex<T>>) {
    project(x, fields: fields, columns: analysisColumns, into: modes)
  }

  /// The adjoint of ``analyze(_:fields:into:)``: dx = Aᵀ · dX, with complex cotangents packing
  /// (∂/∂Re, ∂/∂Im) as Re + i·Im.
  public func analyzeAdjoint(_ modes: UnsafePointer<Complex<T>>, fields: Int, into x: UnsafeMutablePointer<T>) {
    expand(modes, fields: fields, columns: analysisColumns, into: x)
  }

  /// y = the unscaled inverse real transform of the kept modes (zero elsewhere), as FFTW's c2r.
  public func synthesize(_ modes: UnsafePointer<Complex<T>>, fields: Int, into y: UnsafeMutablePointer<T>) {
    expand(modes, fields: fields, columns: synthesisColumns, into: y)
  }

  /// The adjoint of ``synthesize(_:fields:into:)``.
  public func synthesizeAdjoint(_ y: UnsafePointer<T>, fields: Int, into modes: UnsafeMutablePointer<Complex<T>>) {
    project(y, fields: fields, columns: synthesisColumns, into: modes)
  }

  /// modes = fold((Cᵀ · xᵀ) · Eᵀ).
  @specialized(where T == Float)
  @specialized(where T == Double)
  private func project(
    _ x: UnsafePointer<T>, fields r: Int, columns c: NDArray<T>, into modes: UnsafeMutablePointer<Complex<T>>
  ) {
    let (n1, n2, k1, k2) = (rows, columns, rowFrequencies.count, keptColumns)
    guard r > 0 else { return }
    // Z = x · C [R·N₁, 2K₂] (the gemm shape OpenBLAS runs fastest: tall A, no transposes), then
    // W = Zᵀ by a blocked copy (2K₂ · R·N₁ elements, a few % of x).
    var z = NDArray<T>(shape: [r * n1, 2 * k2]) { _ in }
    c.withUnsafeBufferPointer { cp in
      z.withUnsafeMutableBufferPointer { zp in
        BLAS.gemm(
          .none, .none, m: r * n1, n: 2 * k2, k: n2, alpha: 1, a: x, lda: n2, b: cp.baseAddress!, ldb: 2 * k2,
          beta: 0, c: zp.baseAddress!, ldc: 2 * k2)
      }
    }
    let w = transposed(z, rows: r * n1, columns: 2 * k2)
    var p = NDArray<T>(shape: [2 * k2 * r, 2 * k1]) { _ in }
    rowMatrix.withUnsafeBufferPointer { ep in
      w.withUnsafeBufferPointer { wp in
        p.withUnsafeMutableBufferPointer { pp in
          BLAS.gemm(
            .none, .transpose, m: 2 * k2 * r, n: 2 * k1, k: n1, alpha: 1, a: wp.baseAddress!, lda: n1,
            b: ep.baseAddress!, ldb: n1, beta: 0, c: pp.baseAddress!, ldc: 2 * k1)
        }
      }
    }
    p.withUnsafeBufferPointer { pp in
      let base = pp.baseAddress!
      let plane = r * 2 * k1  // one value of c (a row block of P)
      for f in 0..<r {
        for a in 0..<k1 {
          let out = modes + (f * k1 + a) * k2
          for q in 0..<k2 {
            let reRow = base + q * plane + f * 2 * k1
            let imRow = base + (k2 + q) * plane + f * 2 * k1
            out[q] = Complex(reRow[a] + imRow[k1 + a], imRow[a] - reRow[k1 + a])
          }
        }
      }
    }
  }

  /// y = (unfold(modes) · E)ᵀ · Cᵀ.
  @specialized(where T == Float)
  @specialized(where T == Double)
  private func expand(
    _ modes: UnsafePointer<Complex<T>>, fields r: Int, columns c: NDArray<T>, into y: UnsafeMutablePointer<T>
  ) {
    let (n1, n2, k1, k2) = (rows, columns, rowFrequencies.count, keptColumns)
    guard r > 0 else { return }
    var unfolded = NDArray<T>(shape: [2 * k2 * r, 2 * k1]) { pp in
      let base = pp.baseAddress!
      let plane = r * 2 * k1
      for f in 0..<r {
        for a in 0..<k1 {
          let src = modes + (f * k1 + a) * k2
          for q in 0..<k2 {
            let z = src[q]
            let reRow = base + q * plane + f * 2 * k1
            let imRow = base + (k2 + q) * plane + f * 2 * k1
            reRow[a] = z.re
            imRow[a] = z.im
            reRow[k1 + a] = -z.im
            imRow[k1 + a] = z.re
          }
        }
      }
    }
    var u = NDArray<T>(shape: [2 * k2, r * n1]) { _ in }
    rowMatrix.withUnsafeBufferPointer { ep in
      unfolded.withUnsafeMutableBufferPointer { yp in
        u.withUnsafeMutableBufferPointer { up in
          BLAS.gemm(
            .none, .none, m: 2 * k2 * r, n: n1, k: 2 * k1, alpha: 1, a: yp.baseAddress!, lda: 2 * k1,
            b: ep.baseAddress!, ldb: n1, beta: 0, c: up.baseAddress!, ldc: n1)
        }
      }
    }
    let ut = transposed(u, rows: 2 * k2, columns: r * n1)
    c.withUnsafeBufferPointer { cp in
      ut.withUnsafeBufferPointer { up in
        BLAS.gemm(
          .none, .transpose, m: r * n1, n: n2, k: 2 * k2, alpha: 1, a: up.baseAddress!, lda: 2 * k2,
          b: cp.baseAddress!, ldb: 2 * k2, beta: 0, c: y, ldc: n2)
      }
    }
  }

  /// The transpose of a row-major `rows` × `columns` array, copied in 32 × 32 tiles.
  @specialized(where T == Float)
  @specialized(where T == Double)
  private func transposed(_ a: NDArray<T>, rows: Int, columns: Int) -> NDArray<T> {
    a.withUnsafeBufferPointer { ap in
      NDArray<T>(shape: [columns, rows]) { tp in
        let (src, dst) = (ap.baseAddress!, tp.baseAddress!)
        let tile = 32
        for i0 in stride(from: 0, to: rows, by: tile) {
          let i1 = min(rows, i0 + tile)
          for j0 in stride(from: 0, to: columns, by: tile) {
            let j1 = min(columns, j0 + tile)
            for i in i0..<i1 {
              for j in j0..<j1 { dst[j * rows + i] = src[i * columns + j] }
            }
          }
        }
      }
    }
  }
}
