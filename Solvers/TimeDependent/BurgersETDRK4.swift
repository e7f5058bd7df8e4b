// Viscous Burgers equation u_t + (u²/2)_x = ν u_xx on the periodic unit interval, Fourier
// pseudo-spectral in space with the 2/3 rule and fourth-order exponential time differencing in
// time: ETDRK4 of Cox & Matthews, "Exponential time differencing for stiff systems", J. Comput.
// Phys. 176 (2002), with the φ-function coefficients evaluated by contour integrals as in Kassam
// & Trefethen, "Fourth-order time-stepping for stiff PDEs", SIAM J. Sci. Comput. 26 (2005),
// §§2–3 (the scheme of their `kdv.m`/`burgers.m` codes and of Chebfun's `spin`, which generated
// the FNO paper's Burgers data).
//
// In Fourier space v_k = (FFT u)_k obeys v' = L v + N(v) with the diagonal linear part
// L_k = −ν(2πk)² and N(v)_k = −iπk · FFT((IFFT v)²)_k, the product masked to |k| ≤ (N−1)/3 so that
// no aliased mode survives (Orszag's 2/3 rule; the state stays in that band). One step of size h:
//     a = E₂v + Q N(v),   b = E₂v + Q N(a),   c = E₂a + Q (2N(b) − N(v)),
//     v ← E v + f₁ N(v) + 2 f₂ (N(a) + N(b)) + f₃ N(c),
// with E = e^{Lh}, E₂ = e^{Lh/2} and Q, f₁, f₂, f₃ the φ-function combinations of K&T eq. (2.5),
// each the mean of its formula over 32 points on a unit circle around hL_k (no cancellation for
// small |hL|). Global error O(h⁴) for smooth solutions; eight real FFTs of length N per step.
//
// What it does not check: the explicit treatment of the advection term limits h roughly by
// h · max|u| · 2π(N/3) ≲ 3 where viscosity does not damp those modes; a step that blows up is
// reported as non-finite output by the caller's check, not here.
import Foundation
import Numerics

/// ETDRK4 pseudo-spectral solver for u_t + (u²/2)_x = ν u_xx on [0, 1) with periodic boundaries.
///
/// ```
/// let solver = try BurgersETDRK4(points: 8192, viscosity: 0.1, timeStep: 1e-4)
/// let run = try solver.run(initial: u0, steps: 10_000, recordEvery: 10_000, storedPoints: 1024)
/// run.snapshots[0]          // u(·, 1) at 1024 points, spectrally truncated from 8192
/// ```
///
/// Inputs: N (even, ≥ 8) grid points x_j = j/N, ν > 0, step h > 0. `run` allocates one workspace
/// (a dozen length-N/2+1 complex vectors) and takes its steps without allocating. The value is
/// `Sendable` and can be shared by threads; each `run` uses its own workspace.
public struct BurgersETDRK4: Sendable {
  /// Grid points N.
  public let points: Int
  /// Viscosity ν.
  public let viscosity: Double
  /// Time step h.
  public let timeStep: Double
  /// Highest retained wavenumber K = ⌊(N − 1)/3⌋ (2/3 rule).
  public let cutoff: Int
  // Per-wavenumber coefficients on k = 0…N/2 (real, because L is real).
  let e: [Double], e2: [Double], q: [Double], f1: [Double], f2: [Double], f3: [Double]

  /// Prepares the coefficients. Throws for N odd or < 8, ν < 0 or h ≤ 0 (all finite).
  public init(points: Int, viscosity: Double, timeStep: Double) throws {
    guard points >= 8, points % 2 == 0 else {
      throw DiscretizationError.invalidGrid("Burgers: N = \(points) grid points; an even N ≥ 8 is needed")
    }
    guard viscosity >= 0, viscosity.isFinite, timeStep > 0, timeStep.isFinite else {
      throw DiscretizationError.invalidParameter(
        "Burgers: viscosity \(viscosity) must be ≥ 0 and time step \(timeStep) > 0, both finite")
    }
    self.points = points
    self.viscosity = viscosity
    self.timeStep = timeStep
    cutoff = (points - 1) / 3
    let half = points / 2 + 1
    var e = [Double](repeating: 0, count: half)
    var e2 = e
    var q = e
    var f1 = e
    var f2 = e
    var f3 = e
    // Contour points: M on the upper unit half circle; L real, so the mean over the full circle
    // is the real part of the mean over the upper half (K&T §3).
    let m = 32
    let roots = (1...m).map { j in complexExp(Complex(0, Double.pi * (Double(j) - 0.5) / Double(m))) }
    let h = timeStep
    for k in 0..<half {
      let twoPiK = 2 * Double.pi * Double(k)
      let lh = -viscosity * twoPiK * twoPiK * h
      e[k] = exp(lh)
      e2[k] = exp(lh / 2)
      var sq = 0.0
      var s1 = 0.0
      var s2 = 0.0
      var s3 = 0.0
      for r in roots {
        let z = Complex(lh + r.re, r.im)
        let ez = complexExp(z)
        let ez2 = complexExp(Complex(z.re / 2, z.im / 2))
        let z2 = z * z
        let z3 = z2 * z
        let one = Complex<Double>(1)
        sq += ((ez2 - one) / z).re
        // f1: (−4 − z + e^z (4 − 3z + z²)) / z³
        let a1 = Complex(-4 - z.re, -z.im) + ez * (Complex(4 - 3 * z.re + z2.re, -3 * z.im + z2.im))
        s1 += (a1 / z3).re
        // f2: (2 + z + e^z (−2 + z)) / z³
        let a2 = Complex(2 + z.re, z.im) + ez * Complex(-2 + z.re, z.im)
        s2 += (a2 / z3).re
        // f3: (−4 − 3z − z² + e^z (4 − z)) / z³
        let a3 = Complex(-4 - 3 * z.re - z2.re, -3 * z.im - z2.im) + ez * Complex(4 - z.re, -z.im)
        s3 += (a3 / z3).re
      }
      // Q is h·mean((e^{z/2} − 1)/z); the K&T formula uses z = hL + r for all four.
      q[k] = h * sq / Double(m)
      f1[k] = h * s1 / Double(m)
      f2[k] = h * s2 / Double(m)
      f3[k] = h * s3 / Double(m)
    }
    (self.e, self.e2, self.q, self.f1, self.f2, self.f3) = (e, e2, q, f1, f2, f3)
    _ = try FFTPlan<Double>(.realToComplex, shape: [points])
    _ = try FFTPlan<Double>(.complexToReal, shape: [points])
  }

  /// What `run` returns: snapshots at the stored resolution, their times and the work done.
  public typealias Run = SpectralTrajectory

  /// Advances `initial` (N values at x_j = j/N) by `steps` steps of size h, recording u every
  /// `recordEvery` steps at `storedPoints` points (even, ≤ N; default N).
  ///
  /// - Throws: `DiscretizationError` for a field of the wrong length or non-finite values, bad
  ///   counts, or a blow-up (non-finite state at a record time).
  public func run(initial: [Double], steps: Int, recordEvery: Int, storedPoints: Int? = nil) throws -> Run {
    let n = points
    let s = storedPoints ?? n
    try SpectralTruncation.check(n, s)
    try requireField(initial, "initial u", count: n)
    guard initial.allSatisfy(\.isFinite) else {
      throw DiscretizationError.invalidParameter("Burgers: the initial condition has non-finite values")
    }
    guard steps >= 1, recordEvery >= 1, steps % recordEvery == 0 else {
      throw DiscretizationError.invalidParameter(
        "Burgers: steps (\(steps)) must be a positive multiple of recordEvery (\(recordEvery))")
    }
    let t0 = monotonicSeconds()
    let half = n / 2 + 1
    let forward = try FFTPlan<Double>(.realToComplex, shape: [n])
    let inverse = try FFTPlan<Double>(.complexToReal, shape: [n])
    let coarseInverse = try FFTPlan<Double>(.complexToReal, shape: [s])
    let zero = Complex<Double>.zero
    let v = AlignedBuffer(half, zero: zero)
    let nv = AlignedBuffer(half, zero: zero)
    let a = AlignedBuffer(half, zero: zero)
    let na = AlignedBuffer(half, zero: zero)
    let b = AlignedBuffer(half, zero: zero)
    let nb = AlignedBuffer(half, zero: zero)
    let c = AlignedBuffer(half, zero: zero)
    let nc = AlignedBuffer(half, zero: zero)
    let spectrumScratch = AlignedBuffer(half, zero: zero)
    let real = AlignedBuffer(n, zero: 0.0)
    let coarse = AlignedBuffer(s / 2 + 1, zero: zero)
    let coarseReal = AlignedBuffer(s, zero: 0.0)
    var fftSeconds = 0.0
    let kMax = cutoff
    let invN2 = 1 / (Double(n) * Double(n))

    // N(x) into out: −iπk · FFT((IFFT x / N)²), masked to k ≤ K.
    func nonlinear(_ x: UnsafeMutablePointer<Complex<Double>>, _ out: UnsafeMutablePointer<Complex<Double>>) {
      let sp = spectrumScratch.pointer
      sp.update(from: x, count: half)
      let r = real.pointer
      let f0 = monotonicSeconds()
      inverse.execute(UnsafeRawPointer(sp), real.raw)
      fftSeconds += monotonicSeconds() - f0
      for j in 0..<n { r[j] = r[j] * r[j] * invN2 }
      let f1t = monotonicSeconds()
      forward.execute(UnsafeRawPointer(r), UnsafeMutableRawPointer(out))
      fftSeconds += monotonicSeconds() - f1t
      for k in 0...kMax {
        let g = -Double.pi * Double(k)
        let w = out[k]
        out[k] = Complex(-g * w.im, g * w.re)  // (i g) · w
      }
      for k in (kMax + 1)..<half { out[k] = .zero }
    }

    func record(_ into: inout [[Double]]) throws {
      SpectralTruncation.truncateSpectrum1D(UnsafePointer(v.pointer), n: n, into: coarse.pointer, s: s)
      coarseInverse.execute(UnsafeRawPointer(coarse.pointer), coarseReal.raw)
      let inv = 1 / Double(s)
      let out = (0..<s).map { coarseReal.pointer[$0] * inv }
      guard out.allSatisfy(\.isFinite) else {
        throw DiscretizationError.invalidParameter(
          "Burgers: the solution blew up (non-finite values); reduce the time step \(timeStep)")
      }
      into.append(out)
    }

    // Initial spectrum, projected onto k ≤ K.
    initial.withUnsafeBufferPointer { u in forward.execute(UnsafeRawPointer(u.baseAddress!), v.raw) }
    for k in (kMax + 1)..<half { v.pointer[k] = .zero }
    var initialStored: [[Double]] = []
    try record(&initialStored)

    var snapshots: [[Double]] = []
    var times: [Double] = []
    try e.withUnsafeBufferPointer { cE in
      try e2.withUnsafeBufferPointer { cE2 in
        try q.withUnsafeBufferPointer { cQ in
          try f1.withUnsafeBufferPointer { cF1 in
            try f2.withUnsafeBufferPointer { cF2 in
              try f3.withUnsafeBufferPointer { cF3 in
                let (v, nv, a, na, b, nb, c, nc) = (
                  v.pointer, nv.pointer, a.pointer, na.pointer, b.pointer, nb.pointer, c.pointer, nc.pointer
                )
                for step in 1...steps {
                  nonlinear(v, nv)
                  for k in 0..<half { a[k] = cE2[k] * v[k] + cQ[k] * nv[k] }
                  nonlinear(a, na)
                  for k in 0..<half { b[k] = cE2[k] * v[k] + cQ[k] * na[k] }
                  nonlinear(b, nb)
                  for k in 0..<half {
                    let t = 2 * nb[k] - nv[k]
                    c[k] = cE2[k] * a[k] + cQ[k] * t
                  }
                  nonlinear(c, nc)
                  for k in 0..<half {
                    v[k] = cE[k] * v[k] + cF1[k] * nv[k] + (2 * cF2[k]) * (na[k] + nb[k]) + cF3[k] * nc[k]
                  }
                  if step % recordEvery == 0 {
                    try record(&snapshots)
                    times.append(Double(step) * timeStep)
                  }
                }
              }
            }
          }
        }
      }
    }
    return Run(
      snapshots: snapshots, times: times, initial: initialStored[0], steps: steps, fftSeconds: fftSeconds,
      seconds: monotonicSeconds() - t0)
  }
}
