// Two-dimensional incompressible Navier–Stokes equations in vorticity form on the periodic unit
// torus,
//     ∂_t w + u·∇w = ν Δw + f,   u = (ψ_y, −ψ_x),   −Δψ = w,
// Fourier pseudo-spectral in space with the 2/3 rule, Crank–Nicolson for the viscous term and
// forward Euler for advection and forcing:
//     (1 + ½Δt ν|2πk|²) ŵ^{n+1} = (1 − ½Δt ν|2πk|²) ŵ^n − Δt P(u·∇w)^n + Δt f̂,
// P the mask |k_x|, |k_y| ≤ (2/3)(N/2). This is the scheme of the data-generation script
// `ns_2d.py` that produced the Navier–Stokes data of Li et al., "Fourier Neural Operator for
// Parametric Partial Differential Equations", ICLR 2021 (§5.3; see shared/REFERENCES.md), written
// with real-to-complex transforms; the pseudo-spectral method itself is that of Canuto, Hussaini,
// Quarteroni & Zang, "Spectral Methods: Evolution to Complex Geometries and Applications to Fluid
// Dynamics", Springer 2007, §3.3 (vorticity–stream function form, 2/3-rule dealiasing).
// Differences from `ns_2d.py`, none of which changes the resolved solution: the Nyquist modes of
// first derivatives are zeroed (they are masked out of the product anyway), and the k = 0 mode of
// the viscous factor uses |k|² = 0 (the mean vorticity is zero and stays zero).
//
// Accuracy: first order in time for the advection term and second order for the linear part
// (the Taylor–Green vortex, on which advection vanishes, decays with the CN error O(Δt²)). Cost
// per step: four complex-to-real transforms (batched in one FFTW call) and one real-to-complex
// transform of size N².
import Foundation
import Numerics

/// Crank–Nicolson/forward-Euler pseudo-spectral solver of the 2D vorticity equation on [0,1)².
///
/// ```
/// let f = grid.map { 0.1 * (sin(2π(x + y)) + cos(2π(x + y))) }
/// let ns = try VorticityCrankNicolson(points: 256, viscosity: 1e-3, timeStep: 1e-4, forcing: f)
/// let run = try ns.run(initial: w0, steps: 500_000, recordEvery: 10_000, storedPoints: 64)
/// run.snapshots          // 50 fields of 64² values, w(·, t) for t = 1, 2, …, 50
/// ```
///
/// Fields are N×N row-major with rows along y and columns along x: entry (i, j) is the value at
/// (x, y) = (j/N, i/N). `run` allocates its workspace (about 12 N² doubles) once and takes its
/// steps without allocating.
public struct VorticityCrankNicolson: Sendable {
  /// Grid points per axis N (even).
  public let points: Int
  /// Viscosity ν.
  public let viscosity: Double
  /// Time step Δt.
  public let timeStep: Double
  /// Explicit-part multiplier of the CN update, (1 − ½Δtν|2πk|²)/(1 + ½Δtν|2πk|²), per half-spectrum entry.
  let decay: [Double]
  /// Δt·mask/(1 + ½Δtν|2πk|²): multiplies the advection spectrum.
  let advectionFactor: [Double]
  /// Δt f̂/(1 + ½Δtν|2πk|²) (nil without forcing).
  let forcingTerm: [Complex<Double>]?
  /// 1/|2πk|² (0 at k = 0): stream function from vorticity.
  let inverseLaplacian: [Double]
  /// 2πk_x per column (0 at the Nyquist column) and 2πk_y per row (0 at the Nyquist row).
  let kx: [Double]
  let ky: [Double]

  /// Prepares the coefficients.
  ///
  /// - Parameters:
  ///   - points: N, even, ≥ 8.
  ///   - viscosity: ν ≥ 0.
  ///   - timeStep: Δt > 0.
  ///   - forcing: f on the N×N grid (time-independent), or nil for none.
  public init(points: Int, viscosity: Double, timeStep: Double, forcing: [Double]? = nil) throws {
    guard points >= 8, points % 2 == 0 else {
      throw DiscretizationError.invalidGrid("Navier–Stokes: N = \(points) points per axis; an even N ≥ 8 is needed")
    }
    guard viscosity >= 0, viscosity.isFinite, timeStep > 0, timeStep.isFinite else {
      throw DiscretizationError.invalidParameter(
        "Navier–Stokes: viscosity \(viscosity) must be ≥ 0 and time step \(timeStep) > 0, both finite")
    }
    let n = points
    let half = n / 2 + 1
    self.points = n
    self.viscosity = viscosity
    self.timeStep = timeStep
    let twoPi = 2 * Double.pi
    let kxs = (0..<half).map { j in j == n / 2 ? 0 : twoPi * Double(j) }
    let kys = (0..<n).map { i in i == n / 2 ? 0 : twoPi * Double(i < n / 2 ? i : i - n) }
    let cut = (2.0 / 3.0) * Double(n / 2)
    var decay = [Double](repeating: 0, count: n * half)
    var adv = decay
    var invLap = decay
    var denominators = decay
    for i in 0..<n {
      let kyInt = Double(i < n / 2 ? i : i - n)
      for j in 0..<half {
        let kxInt = Double(j)
        let lap = twoPi * twoPi * (kxInt * kxInt + kyInt * kyInt)
        let idx = i * half + j
        let den = 1 + 0.5 * timeStep * viscosity * lap
        denominators[idx] = den
        decay[idx] = (1 - 0.5 * timeStep * viscosity * lap) / den
        let keep = abs(kyInt) <= cut && kxInt <= cut
        adv[idx] = keep ? timeStep / den : 0
        invLap[idx] = lap > 0 ? 1 / lap : 0
      }
    }
    if let f = forcing {
      try requireField(f, "forcing", count: n * n)
      let fh = try FFT.rfft(NDArray(shape: [n, n], data: f), rank: 2).scalars
      forcingTerm = (0..<(n * half)).map { (timeStep / denominators[$0]) * fh[$0] }
    } else {
      forcingTerm = nil
    }
    (self.decay, advectionFactor, inverseLaplacian, kx, ky) = (decay, adv, invLap, kxs, kys)
    _ = try FFTPlan<Double>(.complexToReal, shape: [n, n], batch: 4)
    _ = try FFTPlan<Double>(.realToComplex, shape: [n, n])
  }

  /// What `run` returns: snapshots at the stored resolution, their times and the work done.
  public typealias Run = SpectralTrajectory

  /// Advances `initial` (N² values) by `steps` steps, recording w every `recordEvery` steps at
  /// `storedPoints`² points (even, ≤ N; default N).
  ///
  /// - Throws: `DiscretizationError` for a field of the wrong length or with non-finite values,
  ///   bad counts, or a blow-up (non-finite state at a record time).
  public func run(initial: [Double], steps: Int, recordEvery: Int, storedPoints: Int? = nil) throws -> Run {
    let n = points
    let s = storedPoints ?? n
    try SpectralTruncation.check(n, s)
    try requireField(initial, "initial w", count: n * n)
    guard initial.allSatisfy(\.isFinite) else {
      throw DiscretizationError.invalidParameter("Navier–Stokes: the initial vorticity has non-finite values")
    }
    guard steps >= 1, recordEvery >= 1, steps % recordEvery == 0 else {
      throw DiscretizationError.invalidParameter(
        "Navier–Stokes: steps (\(steps)) must be a positive multiple of recordEvery (\(recordEvery))")
    }
    let t0 = monotonicSeconds()
    let half = n / 2 + 1
    let m = n * half
    let nn = n * n
    let forward = try FFTPlan<Double>(.realToComplex, shape: [n, n])
    let inverse4 = try FFTPlan<Double>(.complexToReal, shape: [n, n], batch: 4)
    let coarseInverse = try FFTPlan<Double>(.complexToReal, shape: [s, s])
    let w = AlignedBuffer(m, zero: Complex<Double>.zero)
    let spectra = AlignedBuffer(4 * m, zero: Complex<Double>.zero)
    let fields = AlignedBuffer(4 * nn, zero: 0.0)
    let product = AlignedBuffer(nn, zero: 0.0)
    let advection = AlignedBuffer(m, zero: Complex<Double>.zero)
    let coarse = AlignedBuffer(s * (s / 2 + 1), zero: Complex<Double>.zero)
    let coarseReal = AlignedBuffer(s * s, zero: 0.0)
    var fftSeconds = 0.0
    let scale = 1 / (Double(nn) * Double(nn))

    func record(_ into: inout [[Double]]) throws {
      SpectralTruncation.truncateSpectrum2D(UnsafePointer(w.pointer), n: n, into: coarse.pointer, s: s)
      coarseInverse.execute(UnsafeRawPointer(coarse.pointer), coarseReal.raw)
      let inv = 1 / Double(s * s)
      let out = (0..<(s * s)).map { coarseReal.pointer[$0] * inv }
      guard out.allSatisfy(\.isFinite) else {
        throw DiscretizationError.invalidParameter(
          "Navier–Stokes: the solution blew up (non-finite values); reduce the time step \(timeStep)")
      }
      into.append(out)
    }

    initial.withUnsafeBufferPointer { p in forward.execute(UnsafeRawPointer(p.baseAddress!), w.raw) }
    var initialStored: [[Double]] = []
    try record(&initialStored)
    var snapshots: [[Double]] = []
    var times: [Double] = []
    let zeroForcing = [Complex<Double>](repeating: .zero, count: forcingTerm == nil ? m : 0)
    let forcing = forcingTerm ?? zeroForcing
    try decay.withUnsafeBufferPointer { decay in
      try advectionFactor.withUnsafeBufferPointer { adv in
        try forcing.withUnsafeBufferPointer { frc in
          try inverseLaplacian.withUnsafeBufferPointer { invLap in
            try kx.withUnsafeBufferPointer { kx in
              try ky.withUnsafeBufferPointer { ky in
                let wp = w.pointer
                let sp = spectra.pointer
                let (uh, vh, wxh, wyh) = (sp, sp + m, sp + 2 * m, sp + 3 * m)
                let fp = fields.pointer
                let (uu, vv, wx, wy) = (fp, fp + nn, fp + 2 * nn, fp + 3 * nn)
                let prod = product.pointer
                let fh = advection.pointer
                for step in 1...steps {
                  for i in 0..<n {
                    let kyi = ky[i]
                    let row = i * half
                    for j in 0..<half {
                      let idx = row + j
                      let wk = wp[idx]
                      let psiRe = wk.re * invLap[idx]
                      let psiIm = wk.im * invLap[idx]
                      let kxj = kx[j]
                      uh[idx] = Complex(-kyi * psiIm, kyi * psiRe)  // ψ_y
                      vh[idx] = Complex(kxj * psiIm, -kxj * psiRe)  // −ψ_x
                      wxh[idx] = Complex(-kxj * wk.im, kxj * wk.re)  // w_x
                      wyh[idx] = Complex(-kyi * wk.im, kyi * wk.re)  // w_y
                    }
                  }
                  let f0 = monotonicSeconds()
                  inverse4.execute(UnsafeRawPointer(sp), fields.raw)
                  let f1 = monotonicSeconds()
                  for p in 0..<nn { prod[p] = (uu[p] * wx[p] + vv[p] * wy[p]) * scale }
                  let f2 = monotonicSeconds()
                  forward.execute(UnsafeRawPointer(prod), advection.raw)
                  fftSeconds += (f1 - f0) + (monotonicSeconds() - f2)
                  for idx in 0..<m {
                    let d = decay[idx]
                    let a = adv[idx]
                    let wk = wp[idx]
                    let g = fh[idx]
                    let fk = frc[idx]
                    wp[idx] = Complex(d * wk.re - a * g.re + fk.re, d * wk.im - a * g.im + fk.im)
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
