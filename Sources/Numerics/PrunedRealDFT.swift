// Pruned real DFT by matrix products: the few low Fourier modes that a Fourier neural operator
// keeps, computed as two dense DFT-matrix products (BLAS gemm) instead of full FFTs.
//
// A spectral convolution needs, of each 64² field's 64 × 33 Hermitian-half spectrum, only a 12 × 7
// block; and its inverse transform reads only that block. Computing just the needed outputs of a
// DFT ("pruning", J. D. Markel, "FFT pruning", IEEE Trans. Audio Electroacoust. 19(4), 1971) by
// direct summation costs N₁N₂·2K₁ + N₂·2K₁·2K₂ multiply-adds per field (120 k at 64², K = 12 × 7)
// against ≈ 2.5·N₁N₂·log₂(N₁N₂) flops (123 k) for a full r2c FFT, but as matrix products it runs at
// gemm speed, a few times the speed of FFTW on these small transforms. The separable transform
// is a small gemm per field and one tall gemm over all fields (row-major, R fields of N₁ × N₂),
// with no transposes between them:
//
//   analysis   X[r, a, c] = s · Σ_{n₁,n₂} x[r, n₁, n₂] e^{−2πi (f_a n₁/N₁ + c n₂/N₂)}
//     Q_r = E · x_r          [2K₁, N₂]      E = [cos φ ; sin φ]  (2K₁ × N₁, φ = 2π f_a n₁/N₁)
//     P = Q · C              [R·2K₁, 2K₂]   C = [cos θ | −sin θ]  (N₂ × 2K₂, θ = 2π c n₂/N₂), scaled by s
//     X_re = P[r, a, c] + P[r, K₁+a, K₂+c],   X_im = P[r, a, K₂+c] − P[r, K₁+a, c]      ("fold")
//
//   synthesis  y[r, n₁, n₂] = Σ_c m_c · Re( e^{2πi c n₂/N₂} Σ_a Y[r, a, c] e^{2πi f_a n₁/N₁} )
//     Ŷ = unfold(Y)          [R·2K₁, 2K₂]   Ŷ[r,a,c] = Y_re, Ŷ[r,a,K₂+c] = Y_im, Ŷ[r,K₁+a,c] = −Y_im, Ŷ[r,K₁+a,K₂+c] = Y_re
//     V = Ŷ · Cᵀ             [R·2K₁, N₂]    C = m_c [cos θ | −sin θ]
//     y_r = Eᵀ · V_r         [N₁, N₂]
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
/// For one axis pass `rows: 1, rowFrequencies: [0]`. Cost per field: N₁N₂·2K₁ + N₂·4K₁K₂
/// multiply-adds at gemm speed (one axis: N₂·2K₂); ``isCheaperThanFFT(rows:columns:keptRows:keptColumns:)`` says when
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
  /// multiply-adds (N₁N₂·2K₁ + N₂·4K₁K₂; one axis N₂·2K₂) against 2.5·N₁N₂·log₂(N₁N₂) FFT flops, counting a gemm
  /// operation as a quarter of an FFTW one (a rule of thumb: sgemm runs at 30–70 GFLOP/s per core
  /// at these shapes, FFTW's batched 64² r2c at about 13; bench/RESULTS.md, "FNO training").
  public static func isCheaperThanFFT(rows: Int, columns: Int, keptRows: Int, keptColumns: Int) -> Bool {
    let n = Double(rows * columns)
    let direct =
      rows == 1
      ? Double(columns * 2 * keptColumns) : n * Double(2 * keptRows) + Double(columns * 4 * keptRows * keptColumns)
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

  /// modes = fold(E · x_f · C) for every field f.
  @specialized(where T == Float)
  @specialized(where T == Double)
  private func project(
    _ x: UnsafePointer<T>, fields r: Int, columns c: NDArray<T>, into modes: UnsafeMutablePointer<Complex<T>>
  ) {
    let (n1, n2, k1, k2) = (rows, columns, rowFrequencies.count, keptColumns)
    guard r > 0 else { return }
    // Q_f = E · x_f [2K₁, N₂] per field (one fields' worth of small gemms), then P = Q · C over
    // all fields at once [R·2K₁, 2K₂] (a tall gemm). One axis (N₁ = 1, E = [1; 0]): P = x · C.
    let stacked = n1 == 1 ? 1 : 2 * k1
    var q = NDArray<T>(shape: n1 == 1 ? [0] : [r * 2 * k1, n2]) { _ in }
    if n1 > 1 {
      rowMatrix.withUnsafeBufferPointer { ep in
        q.withUnsafeMutableBufferPointer { qp in
          BLAS.gemmStridedBatched(
            .none, .none, m: 2 * k1, n: n2, k: n1, alpha: 1, a: ep.baseAddress!, lda: n1, strideA: 0, b: x, ldb: n2,
            strideB: n1 * n2, beta: 0, c: qp.baseAddress!, ldc: n2, strideC: 2 * k1 * n2, batch: r)
        }
      }
    }
    var p = NDArray<T>(shape: [r * stacked, 2 * k2]) { _ in }
    c.withUnsafeBufferPointer { cp in
      q.withUnsafeBufferPointer { qp in
        p.withUnsafeMutableBufferPointer { pp in
          BLAS.gemm(
            .none, .none, m: r * stacked, n: 2 * k2, k: n2, alpha: 1, a: n1 == 1 ? x : qp.baseAddress!, lda: n2,
            b: cp.baseAddress!, ldb: 2 * k2, beta: 0, c: pp.baseAddress!, ldc: 2 * k2)
        }
      }
    }
    // fold: X[f, a, c] = (P[f, a, c] + P[f, K₁+a, K₂+c]) + i (P[f, a, K₂+c] − P[f, K₁+a, c]); the
    // sin rows are zero for one axis.
    p.withUnsafeBufferPointer { pp in
      for f in 0..<r {
        let block = pp.baseAddress! + f * stacked * 2 * k2
        for a in 0..<k1 {
          let (cosRow, out) = (block + a * 2 * k2, modes + (f * k1 + a) * k2)
          if n1 == 1 {
            for q in 0..<k2 { out[q] = Complex(cosRow[q], cosRow[k2 + q]) }
          } else {
            let sinRow = block + (k1 + a) * 2 * k2
            for q in 0..<k2 { out[q] = Complex(cosRow[q] + sinRow[k2 + q], cosRow[k2 + q] - sinRow[q]) }
          }
        }
      }
    }
  }

  /// y_f = Eᵀ · (unfold(modes)_f · Cᵀ) for every field f.
  @specialized(where T == Float)
  @specialized(where T == Double)
  private func expand(
    _ modes: UnsafePointer<Complex<T>>, fields r: Int, columns c: NDArray<T>, into y: UnsafeMutablePointer<T>
  ) {
    let (n1, n2, k1, k2) = (rows, columns, rowFrequencies.count, keptColumns)
    guard r > 0 else { return }
    // unfold: Ŷ_f [2K₁, 2K₂] with Ŷ[a, c] = Re, Ŷ[a, K₂+c] = Im, Ŷ[K₁+a, c] = −Im, Ŷ[K₁+a, K₂+c] = Re
    // (the transpose of fold); one axis keeps only the cos rows (E's sin row is zero).
    let stacked = n1 == 1 ? 1 : 2 * k1
    let unfolded = NDArray<T>(shape: [r * stacked, 2 * k2]) { up in
      for f in 0..<r {
        let block = up.baseAddress! + f * stacked * 2 * k2
        for a in 0..<k1 {
          let (cosRow, src) = (block + a * 2 * k2, modes + (f * k1 + a) * k2)
          for q in 0..<k2 {
            cosRow[q] = src[q].re
            cosRow[k2 + q] = src[q].im
          }
          if n1 > 1 {
            let sinRow = block + (k1 + a) * 2 * k2
            for q in 0..<k2 {
              sinRow[q] = -src[q].im
              sinRow[k2 + q] = src[q].re
            }
          }
        }
      }
    }
    // V = Ŷ · Cᵀ over all fields [R·2K₁, N₂] (for one axis this is y), then y_f = Eᵀ · V_f.
    var v = NDArray<T>(shape: n1 == 1 ? [0] : [r * stacked, n2]) { _ in }
    c.withUnsafeBufferPointer { cp in
      unfolded.withUnsafeBufferPointer { up in
        v.withUnsafeMutableBufferPointer { vp in
          BLAS.gemm(
            .none, .transpose, m: r * stacked, n: n2, k: 2 * k2, alpha: 1, a: up.baseAddress!, lda: 2 * k2,
            b: cp.baseAddress!, ldb: 2 * k2, beta: 0, c: n1 == 1 ? y : vp.baseAddress!, ldc: n2)
        }
      }
    }
    guard n1 > 1 else { return }
    rowMatrix.withUnsafeBufferPointer { ep in
      v.withUnsafeBufferPointer { vp in
        BLAS.gemmStridedBatched(
          .transpose, .none, m: n1, n: n2, k: 2 * k1, alpha: 1, a: ep.baseAddress!, lda: n1, strideA: 0,
          b: vp.baseAddress!, ldb: n2, strideB: 2 * k1 * n2, beta: 0, c: y, ldc: n2, strideC: n1 * n2, batch: r)
      }
    }
  }
}
