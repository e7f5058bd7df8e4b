import Foundation
import Testing

@testable import Numerics

@Suite("Pruned real DFT against FFTW: kept modes, inverse, adjoints")
struct PrunedRealDFTTests {
  /// (rows, columns, kept row frequencies, kept columns): 2D even/odd with Nyquist kept, 1D.
  static let cases: [(Int, Int, [Int], Int)] = [
    (6, 8, [4, 5, 0, 1, 2], 5), (7, 5, [5, 6, 0, 1], 3), (4, 6, [2, 3, 0, 1], 4), (1, 9, [0], 4), (1, 8, [0], 5),
  ]

  @Test("analyze = s·rfft2 at the kept modes; synthesize = c2r of the zero-padded block", arguments: 0..<cases.count)
  func matchesFFT(index: Int) throws {
    let (n1, n2, rows, k2) = Self.cases[index]
    let fields = 3
    let dft = PrunedRealDFT<Double>(rows: n1, columns: n2, rowFrequencies: rows, keptColumns: k2, scale: 0.25)
    let x = randomArray([fields, n1, n2], seed: 51)
    let spectrum = try FFT.rfft(x, rank: 2).scalars
    let half = n2 / 2 + 1
    var modes = [Complex<Double>](repeating: .zero, count: fields * dft.modesPerField)
    x.withUnsafeBufferPointer { xp in dft.analyze(xp.baseAddress!, fields: fields, into: &modes) }
    var worst = 0.0
    for f in 0..<fields {
      for (a, r) in rows.enumerated() {
        for c in 0..<k2 {
          let target: Int = (f * n1 + r) * half + c
          let source: Int = (f * rows.count + a) * k2 + c
          let ref: Complex<Double> = 0.25 * spectrum[target]
          worst = max(worst, (modes[source] - ref).length)
        }
      }
    }
    #expect(worst < 1e-12)

    // Synthesis: the unscaled c2r of a half spectrum holding random values at the kept modes.
    let valueRe = randomArray([modes.count], seed: 52).scalars
    let valueIm = randomArray([modes.count], seed: 53).scalars
    let values: [Complex<Double>] = zip(valueRe, valueIm).map { Complex($0, $1) }
    var padded = [Complex<Double>](repeating: .zero, count: fields * n1 * half)
    for f in 0..<fields {
      for (a, r) in rows.enumerated() {
        for c in 0..<k2 {
          let target: Int = (f * n1 + r) * half + c
          let source: Int = (f * rows.count + a) * k2 + c
          padded[target] = values[source]
        }
      }
    }
    let ref = try FFT.irfft(
      NDArray(shape: [fields, n1, half], data: padded), lastAxisSize: n2, rank: 2, norm: .forward)
    var y = [Double](repeating: 0, count: fields * n1 * n2)
    values.withUnsafeBufferPointer { dft.synthesize($0.baseAddress!, fields: fields, into: &y) }
    let refScalars = ref.scalars
    var worstInverse = 0.0
    for i in 0..<y.count { worstInverse = max(worstInverse, abs(y[i] - refScalars[i])) }
    #expect(worstInverse < 1e-12)
  }

  @Test("adjoints: ⟨A x, Y⟩ = ⟨x, Aᵀ Y⟩ for analysis and synthesis", arguments: 0..<cases.count)
  func adjoints(index: Int) {
    let (n1, n2, rows, k2) = Self.cases[index]
    let fields = 2
    let dft = PrunedRealDFT<Double>(rows: n1, columns: n2, rowFrequencies: rows, keptColumns: k2, scale: 0.5)
    let x = randomArray([fields, n1, n2], seed: 61).scalars
    let re = randomArray([fields * dft.modesPerField], seed: 62).scalars
    let im = randomArray([fields * dft.modesPerField], seed: 63).scalars
    let y = zip(re, im).map { Complex($0, $1) }
    func inner(_ a: [Complex<Double>], _ b: [Complex<Double>]) -> Double {
      zip(a, b).reduce(0) { $0 + $1.0.re * $1.1.re + $1.0.im * $1.1.im }
    }
    func inner(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    var ax = [Complex<Double>](repeating: .zero, count: y.count)
    var aty = [Double](repeating: 0, count: x.count)
    dft.analyze(x, fields: fields, into: &ax)
    dft.analyzeAdjoint(y, fields: fields, into: &aty)
    #expect(abs(inner(ax, y) - inner(x, aty)) < 1e-11 * max(1, abs(inner(ax, y))))
    var sy = [Double](repeating: 0, count: x.count)
    var stx = [Complex<Double>](repeating: .zero, count: y.count)
    dft.synthesize(y, fields: fields, into: &sy)
    dft.synthesizeAdjoint(x, fields: fields, into: &stx)
    #expect(abs(inner(sy, x) - inner(y, stx)) < 1e-11 * max(1, abs(inner(sy, x))))
  }

  @Test("the cost model prefers the pruned DFT for the FNO's 12 × 7 modes of 64², not for most modes kept")
  func costModel() {
    #expect(PrunedRealDFT<Float>.isCheaperThanFFT(rows: 64, columns: 64, keptRows: 12, keptColumns: 7))
    #expect(!PrunedRealDFT<Float>.isCheaperThanFFT(rows: 64, columns: 64, keptRows: 64, keptColumns: 33))
  }
}
