import Foundation
import Testing

@testable import Numerics

@Suite("FFT against a naive DFT, identities, batching")
struct FFTTests {
  static let shapes: [[Int]] = [[7], [8], [5, 6], [6, 9], [3, 4, 5], [4, 4, 2]]

  @Test("rfft matches the naive DFT (odd/even, 1D/2D/3D)", arguments: shapes)
  func rfftMatchesNaive(dims: [Int]) throws {
    let x = randomArray(dims, seed: 11)
    let spectrum = try FFT.rfft(x, rank: dims.count)
    let full = naiveDFT(x.scalars.map { Complex($0) }, dims: dims)
    let half = dims.last! / 2 + 1
    #expect(spectrum.shape == Array(dims.dropLast()) + [half])
    let xs = spectrum.scalars
    for lin in 0..<xs.count {
      let outer = lin / half
      let k = lin % half
      let ref = full[outer * dims.last! + k]
      #expect((xs[lin] - ref).length < 1e-10 * Double(x.count))
    }
  }

  @Test("complex fft and inverse match the naive DFT", arguments: shapes)
  func fftMatchesNaive(dims: [Int]) throws {
    let re = randomArray(dims, seed: 12).scalars
    let im = randomArray(dims, seed: 13).scalars
    let z = zip(re, im).map { Complex($0, $1) }
    let arr = try NDArray(shape: dims, data: z)
    let fwd = try FFT.fft(arr, rank: dims.count).scalars
    let inv = try FFT.fft(arr, rank: dims.count, inverse: true, norm: .forward).scalars
    let refF = naiveDFT(z, dims: dims)
    let refI = naiveDFT(z, dims: dims, inverse: true)
    for i in 0..<z.count {
      #expect((fwd[i] - refF[i]).length < 1e-10 * Double(z.count))
      #expect((inv[i] - refI[i]).length < 1e-10 * Double(z.count))
    }
  }

  @Test("round trips in every normalization, Float and Double")
  func roundTrip() throws {
    for norm in [FFTNormalization.backward, .forward, .ortho] {
      for dims in [[9], [6, 10], [3, 5, 8]] {
        let x = randomArray([4] + dims, seed: 5)
        let back = try FFT.irfft(
          try FFT.rfft(x, rank: dims.count, norm: norm), lastAxisSize: dims.last!, rank: dims.count, norm: norm)
        #expect(back.maxAbsDifference(x) < 1e-12)
        let xf = x.converted(to: Float.self)
        let backF = try FFT.irfft(
          try FFT.rfft(xf, rank: dims.count, norm: norm), lastAxisSize: dims.last!, rank: dims.count, norm: norm)
        #expect(backF.maxAbsDifference(xf) < 1e-5)
      }
    }
  }

  @Test("irfft does not modify a spectrum that is still in use")
  func irfftPreservesCallerSpectrum() throws {
    let x = randomArray([6, 8], seed: 3)
    let spectrum = try FFT.rfft(x, rank: 2)
    let copy = spectrum.scalars
    _ = try FFT.irfft(spectrum, lastAxisSize: 8, rank: 2)
    #expect(spectrum.scalars == copy)
  }

  @Test("Parseval: sum |x|² = sum |spectrum|² / N (complex and real transforms)")
  func parseval() throws {
    let dims = [12, 10]
    let x = randomArray(dims, seed: 21)
    let energy = x.scalars.reduce(0) { $0 + $1 * $1 }
    let spectrum = try FFT.fft(x.map { Complex($0) }, rank: 2)
    let spectral = spectrum.scalars.reduce(0) { $0 + $1.lengthSquared } / Double(x.count)
    #expect(abs(energy - spectral) < 1e-10 * energy)
    // Half spectrum: interior columns count twice.
    let half = try FFT.rfft(x, rank: 2, norm: .ortho)
    var s = 0.0
    for i in 0..<dims[0] {
      for k in 0...(dims[1] / 2) {
        let w = (k == 0 || k == dims[1] / 2) ? 1.0 : 2.0
        s += w * half[i, k].lengthSquared
      }
    }
    #expect(abs(energy - s) < 1e-10 * energy)
  }

  @Test("batched transform equals the loop of single transforms")
  func batchedEqualsLooped() throws {
    let x = randomArray([5, 3, 8, 6], seed: 8).converted(to: Float.self)
    let batched = try FFT.rfft(x, rank: 2)
    for b in 0..<5 {
      for c in 0..<3 {
        let single = try FFT.rfft(x[sample: b][sample: c], rank: 2)
        #expect(batched[sample: b][sample: c] == single)
      }
    }
  }

  @Test("unaligned buffers take the FFTW_UNALIGNED plan and give the same result")
  func unalignedExecution() throws {
    let x = randomArray([1, 16], seed: 4)
    let plan = try FFTPlan<Double>(.realToComplex, shape: [16], batch: 1)
    var aligned = [Complex<Double>](repeating: .zero, count: 9)
    var shifted = [Double](repeating: 0, count: 17)
    x.withUnsafeBufferPointer { xp in
      for i in 0..<16 { shifted[i + 1] = xp[i] }
      aligned.withUnsafeMutableBytes { plan.execute(UnsafeRawPointer(xp.baseAddress!), $0.baseAddress!) }
    }
    var other = [Complex<Double>](repeating: .zero, count: 9)
    shifted.withUnsafeBufferPointer { sp in
      other.withUnsafeMutableBytes { plan.execute(UnsafeRawPointer(sp.baseAddress! + 1), $0.baseAddress!) }
    }
    for i in 0..<9 { #expect((aligned[i] - other[i]).length < 1e-12) }
  }

  @Test("bad transform requests are errors, not crashes")
  func badRequests() {
    #expect(throws: NumericsError.self) { try FFT.rfft(NDArray<Double>.zeros([4]), rank: 2) }
    #expect(throws: NumericsError.self) { try FFT.rfft(NDArray<Double>.zeros([2, 2, 2, 2]), rank: 4) }
    #expect(throws: NumericsError.self) {
      try FFT.irfft(NDArray<Complex<Double>>.zeros([4, 5]), lastAxisSize: 4, rank: 2)
    }
  }

  @Test("plans are cached and reused")
  func planCache() throws {
    // Identity of the cached FFTW plan, not the cache size: other tests add plans concurrently.
    let a = try FFTPlan<Float>(.forward, shape: [13, 7], batch: 3)
    let b = try FFTPlan<Float>(.forward, shape: [13, 7], batch: 3)
    #expect(a.handle === b.handle && a.unalignedHandle === b.unalignedHandle)
    let c = try FFTPlan<Float>(.forward, shape: [13, 7], batch: 4)
    #expect(c.handle !== a.handle)
  }
}
