import Dispatch
import Foundation
import Numerics
import Testing

@Suite("Counter-based RNG and Gaussian random fields")
struct RandomTests {
  @Test("Philox4x32-10 reproduces the Random123 known-answer vectors")
  func philoxKAT() {
    let cases: [((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32), (UInt32, UInt32, UInt32, UInt32))] = [
      ((0, 0, 0, 0), (0, 0), (0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)),
      ((.max, .max, .max, .max), (.max, .max), (0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd)),
      (
        (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), (0xa409_3822, 0x299f_31d0),
        (0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1)
      ),
    ]
    for (ctr, key, expected) in cases {
      let r = philox4x32(counter: ctr, key: key)
      #expect(r.0 == expected.0 && r.1 == expected.1 && r.2 == expected.2 && r.3 == expected.3)
    }
  }

  @Test("streams are reproducible and distinct; normals have mean 0 and variance 1")
  func streams() {
    var a = PhiloxRandom(seed: 9, stream: 4)
    var b = PhiloxRandom(seed: 9, stream: 4)
    var c = PhiloxRandom(seed: 9, stream: 5)
    let xa = (0..<100).map { _ in a.next() }
    #expect(xa == (0..<100).map { _ in b.next() })
    #expect(xa != (0..<100).map { _ in c.next() })
    var g = PhiloxRandom(seed: 1)
    let n = 200_000
    var s = 0.0
    var s2 = 0.0
    for _ in 0..<n {
      let z = g.nextGaussian()
      s += z
      s2 += z * z
    }
    // Standard errors: 1/√n for the mean, √(2/n) for the variance; allow 5σ.
    #expect(abs(s / Double(n)) < 5 / Double(n).squareRoot())
    #expect(abs(s2 / Double(n) - 1) < 5 * (2 / Double(n)).squareRoot())
  }

  @Test("sample i is the same at 1 and 2 threads, in any order")
  func threadIndependence() throws {
    let grf = try GaussianRandomField(shape: [16, 16], alpha: 2, tau: 3)
    let n = 12
    let serial = (0..<n).map { grf.sample(seed: 77, index: UInt64($0)) }
    let results = Locked([NDArray<Double>?](repeating: nil, count: n))
    DispatchQueue.concurrentPerform(iterations: 2) { worker in
      // Worker 0 takes even samples from the end, worker 1 odd samples from the start.
      let mine = (0..<n).filter { $0 % 2 == worker }
      for i in (worker == 0 ? mine.reversed() : mine) {
        let s = grf.sample(seed: 77, index: UInt64(i))
        results.withLock { $0[i] = s }
      }
    }
    let parallel = results.withLock { $0 }
    for i in 0..<n { #expect(parallel[i]! == serial[i]) }
    #expect(serial[0] != serial[1])
  }

  @Test("GRF: empirical Fourier spectrum matches σ²(4π²|k|²+τ²)^(−α); mean ≈ 0")
  func grfSpectrum() throws {
    let n = 16
    let m = 600
    let grf = try GaussianRandomField(shape: [n, n], alpha: 2.5, tau: 7, sigma: 3)
    var power = [Double](repeating: 0, count: n * (n / 2 + 1))
    var meanSum = 0.0
    for s in 0..<m {
      let u = grf.sample(seed: 5, index: UInt64(s))
      meanSum += u.mean()
      let uhat = try FFT.rfft(u, rank: 2, norm: .forward)  // û = fft(u)/N²
      uhat.withUnsafeBufferPointer { p in for i in 0..<p.count { power[i] += p[i].lengthSquared } }
    }
    var ratioSum = 0.0
    var worst = 0.0
    for i in 0..<n {
      for k in 0...(n / 2) {
        let ki = i <= n / 2 ? i : i - n
        let lambda = grf.eigenvalue([ki, k])
        let ratio = power[i * (n / 2 + 1) + k] / Double(m) / lambda
        ratioSum += ratio
        worst = max(worst, abs(ratio - 1))
      }
    }
    let modes = Double(n * (n / 2 + 1))
    // Each mode's |û|²/λ averages m draws of an Exp(1) (complex modes) or χ²₁ (real modes):
    // relative standard error ≤ √(2/m) ≈ 0.058. Allow 5σ per mode, and 5σ on the mean over modes.
    #expect(worst < 5 * (2.0 / Double(m)).squareRoot())
    #expect(abs(ratioSum / modes - 1) < 5 * (2.0 / (Double(m) * modes)).squareRoot())
    // The spatial mean of a sample is û₀ with variance λ₀; its average over m samples has sd √(λ₀/m).
    let sd0 = (grf.eigenvalue([0, 0]) / Double(m)).squareRoot()
    #expect(abs(meanSum / Double(m)) < 5 * sd0)
  }

  @Test("zero-mean GRF has no k = 0 mode; invalid parameters throw")
  func grfOptions() throws {
    let grf = try GaussianRandomField(shape: [32], alpha: 2, tau: 5, sigma: 25, zeroMean: true)
    let u = grf.sample(seed: 1, index: 0)
    #expect(abs(u.mean()) < 1e-12 * u.norm())
    #expect(throws: NumericsError.self) { try GaussianRandomField(shape: [8, 8], alpha: -1, tau: 3) }
    #expect(throws: NumericsError.self) { try GaussianRandomField(shape: [8, 8, 8, 8], alpha: 2, tau: 3) }
    #expect(throws: NumericsError.self) { try GaussianRandomField(shape: [8], alpha: 2, tau: 0) }
  }
}

@Suite("Neumann (cosine) Gaussian random fields")
struct CosineRandomFieldTests {
  @Test("synthesis of one mode is the product of cosines at cell centres; zero normal derivative at the walls")
  func singleMode() throws {
    let (ny, nx) = (6, 8)
    let grf = try CosineRandomField(shape: [ny, nx], alpha: 2, tau: 3)
    var c = NDArray<Double>.zeros([ny, nx])
    c[2, 3] = 1
    let u = grf.synthesize(c)
    for i in 0..<ny {
      for j in 0..<nx {
        let exact = cos(Double.pi * 2 * (Double(i) + 0.5) / Double(ny)) * cos(Double.pi * 3 * (Double(j) + 0.5) / Double(nx))
        #expect(abs(u[i, j] - exact) < 1e-14)
      }
    }
  }

  @Test("coefficients recovered by the discrete cosine transform have variance λ_k = (π²|k|² + τ²)^(−α)")
  func spectrum() throws {
    let n = 12
    let m = 500
    let grf = try CosineRandomField(shape: [n, n], alpha: 2, tau: 3, sigma: 2)
    var power = [Double](repeating: 0, count: n * n)
    for s in 0..<m {
      let u = grf.sample(seed: 11, index: UInt64(s))
      // c_k = (2/n)² Σ u cos cos (orthogonality of the DCT-II basis at cell centres; k ≠ 0 on both axes).
      for k1 in 1..<n {
        for k2 in 1..<n {
          var acc = 0.0
          for i in 0..<n {
            for j in 0..<n {
              acc += u[i, j] * cos(Double.pi * Double(k1) * (Double(i) + 0.5) / Double(n))
                * cos(Double.pi * Double(k2) * (Double(j) + 0.5) / Double(n))
            }
          }
          let ck = acc * 4 / Double(n * n)
          power[k1 * n + k2] += ck * ck
        }
      }
    }
    var worst = 0.0
    for k1 in 1..<n {
      for k2 in 1..<n {
        let lambda = 4 * pow(Double.pi * Double.pi * Double(k1 * k1 + k2 * k2) + 9, -2)
        worst = max(worst, abs(power[k1 * n + k2] / Double(m) / lambda - 1))
      }
    }
    // Each ratio averages m χ²₁ draws: standard error √(2/m) ≈ 0.063; allow 5σ.
    #expect(worst < 5 * (2.0 / Double(m)).squareRoot())
  }
}
