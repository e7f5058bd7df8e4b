// Resampling periodic fields to a coarser grid by spectral truncation: the stored field is the
// L² projection of the solver's field onto the Fourier modes the coarse grid can represent
// unambiguously (|k| < s/2 on each axis), evaluated at the coarse grid points. Unlike injection
// (taking every r-th point), truncation does not fold the modes above the coarse Nyquist
// frequency back onto resolved ones (aliasing); the coarse Nyquist mode itself, which a grid of s
// points cannot tell from its negative twin, is dropped. Boyd, "Chebyshev and Fourier Spectral
// Methods", 2nd ed., Dover 2001, §11.5 (aliasing) and §3.4 (truncation as interpolation of the
// projected series); the same operation as `scipy.fft`-based spectral downsampling with the
// Nyquist bin zeroed.
//
// Convention: spectra are FFTW's unnormalized real-to-complex half spectra (numpy `rfft`/`rfft2`),
// v_k = Σ_j u_j e^{−2πi k·j/N}, so the field is u_j = N^{−d} Σ_k v_k e^{2πi k·j/N}.
import Foundation
import Numerics

/// Spectral truncation of periodic fields from an N-point (N^2) grid to an s-point (s^2) grid.
///
/// ```
/// let coarse = try SpectralTruncation.truncate(fine, from: 8192, to: 1024)          // 1D
/// let w64 = try SpectralTruncation.truncate2D(w256, from: 256, to: 64)              // row-major 2D
/// ```
///
/// Both sizes must be even and s ≤ N. With s = N the field comes back unchanged except for its
/// Nyquist mode(s), which are removed.
public enum SpectralTruncation {
  /// Checks that a truncation from N to s points per axis is possible.
  static func check(_ n: Int, _ s: Int) throws {
    guard n >= 2, s >= 2, n % 2 == 0, s % 2 == 0, s <= n else {
      throw DiscretizationError.invalidGrid(
        "spectral truncation needs even grid sizes with the stored size s ≤ the solver size N, got N = \(n), s = \(s)")
    }
  }

  /// Copies the modes |k| < s/2 of the fine 1D half spectrum `fine` (N/2 + 1 entries) into the
  /// coarse half spectrum `coarse` (s/2 + 1 entries), scaled by s/N so that the coarse inverse
  /// transform divided by s gives the projected field; the coarse Nyquist entry is set to zero.
  @inlinable
  public static func truncateSpectrum1D(
    _ fine: UnsafePointer<Complex<Double>>, n: Int, into coarse: UnsafeMutablePointer<Complex<Double>>, s: Int
  ) {
    let scale = Double(s) / Double(n)
    for k in 0..<(s / 2) { coarse[k] = scale * fine[k] }
    coarse[s / 2] = .zero
  }

  /// Copies the modes |k_y|, |k_x| < s/2 of a fine 2D half spectrum (N rows × (N/2 + 1)) into a
  /// coarse one (s rows × (s/2 + 1)), scaled by s²/N²; coarse Nyquist rows/columns are zero.
  @inlinable
  public static func truncateSpectrum2D(
    _ fine: UnsafePointer<Complex<Double>>, n: Int, into coarse: UnsafeMutablePointer<Complex<Double>>, s: Int
  ) {
    let scale = Double(s * s) / Double(n * n)
    let fineRow = n / 2 + 1
    let coarseRow = s / 2 + 1
    for i in 0..<s {
      let out = coarse + i * coarseRow
      if i == s / 2 {
        for j in 0..<coarseRow { out[j] = .zero }
        continue
      }
      let ky = i < s / 2 ? i : i - s
      let src = fine + (ky >= 0 ? ky : n + ky) * fineRow
      for j in 0..<(s / 2) { out[j] = scale * src[j] }
      out[s / 2] = .zero
    }
  }

  /// The 1D field `field` (N points, periodic) truncated to `s` points.
  public static func truncate(_ field: [Double], from n: Int, to s: Int) throws -> [Double] {
    try check(n, s)
    try requireField(field, "field", count: n)
    let spectrum = try FFT.rfft(NDArray(shape: [n], data: field), rank: 1)
    var coarse = NDArray<Complex<Double>>(shape: [s / 2 + 1], repeating: .zero)
    spectrum.withUnsafeBufferPointer { f in
      coarse.withUnsafeMutableBufferPointer { c in truncateSpectrum1D(f.baseAddress!, n: n, into: c.baseAddress!, s: s)
      }
    }
    return try FFT.irfft(coarse, lastAxisSize: s, rank: 1).scalars
  }

  /// The 2D field `field` (N×N, row-major, periodic) truncated to s×s.
  public static func truncate2D(_ field: [Double], from n: Int, to s: Int) throws -> [Double] {
    try check(n, s)
    try requireField(field, "field", count: n * n)
    let spectrum = try FFT.rfft(NDArray(shape: [n, n], data: field), rank: 2)
    var coarse = NDArray<Complex<Double>>(shape: [s, s / 2 + 1], repeating: .zero)
    spectrum.withUnsafeBufferPointer { f in
      coarse.withUnsafeMutableBufferPointer { c in truncateSpectrum2D(f.baseAddress!, n: n, into: c.baseAddress!, s: s)
      }
    }
    return try FFT.irfft(coarse, lastAxisSize: s, rank: 2).scalars
  }
}

/// A 64-byte-aligned buffer of `count` elements, zero-filled, freed on deinit: the storage of the
/// spectral solvers' workspaces (aligned so that FFTW uses its SIMD plans).
final class AlignedBuffer<Element: BitwiseCopyable> {
  let pointer: UnsafeMutablePointer<Element>
  let count: Int

  init(_ count: Int, zero: Element) {
    self.count = count
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(1, count) * MemoryLayout<Element>.stride, alignment: 64)
    pointer = raw.bindMemory(to: Element.self, capacity: max(1, count))
    pointer.initialize(repeating: zero, count: max(1, count))
  }

  deinit { UnsafeMutableRawPointer(pointer).deallocate() }

  var raw: UnsafeMutableRawPointer { UnsafeMutableRawPointer(pointer) }
}

/// e^z for complex z.
@inline(__always) func complexExp(_ z: Complex<Double>) -> Complex<Double> {
  let m = exp(z.re)
  return Complex(m * cos(z.im), m * sin(z.im))
}
