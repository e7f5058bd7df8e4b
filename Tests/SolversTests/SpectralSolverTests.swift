import Foundation
import Numerics
import Testing

@testable import Solvers

/// Cole–Hopf solution of u_t + u u_x = ν u_xx: u = −2ν φ_x/φ with φ = c0 + e^{−4π²νt} cos 2πx.
func coleHopf(x: Double, t: Double, nu: Double, c0: Double) -> Double {
  let g = exp(-4 * Double.pi * Double.pi * nu * t)
  return 4 * Double.pi * nu * g * sin(2 * Double.pi * x) / (c0 + g * cos(2 * Double.pi * x))
}

/// Energy ½∫|u|² and enstrophy ½∫w² of a vorticity field on the N×N unit torus.
func energyEnstrophy(_ w: [Double], n: Int) throws -> (energy: Double, enstrophy: Double) {
  let spectrum = try FFT.rfft(NDArray(shape: [n, n], data: w), rank: 2, norm: .forward).scalars
  let half = n / 2 + 1
  var e = 0.0
  var z = 0.0
  for i in 0..<n {
    let ky = Double(i < n / 2 ? i : i - n)
    for j in 0..<half {
      let kx = Double(j)
      let weight = (j == 0 || j == n / 2) ? 1.0 : 2.0
      let a = spectrum[i * half + j].lengthSquared * weight
      z += 0.5 * a
      let lap = 4 * Double.pi * Double.pi * (kx * kx + ky * ky)
      if lap > 0 { e += 0.5 * a / lap }
    }
  }
  return (e, z)
}

@Suite("Spectral time steppers: Burgers ETDRK4, vorticity Crank–Nicolson, spectral truncation")
struct SpectralSolverTests {
  @Test("Burgers ETDRK4 converges to the Cole–Hopf solution at fourth order in time")
  func burgersTimeOrder() throws {
    let (nu, c0, n, tEnd) = (0.05, 1.2, 256, 0.5)
    let x = (0..<n).map { Double($0) / Double(n) }
    let u0 = x.map { coleHopf(x: $0, t: 0, nu: nu, c0: c0) }
    let exact = x.map { coleHopf(x: $0, t: tEnd, nu: nu, c0: c0) }
    var errors: [Double] = []
    for steps in [5, 10, 20, 40] {
      let solver = try BurgersETDRK4(points: n, viscosity: nu, timeStep: tEnd / Double(steps))
      let run = try solver.run(initial: u0, steps: steps, recordEvery: steps)
      errors.append(zip(run.snapshots[0], exact).map { abs($0 - $1) }.max()!)
    }
    let orders = zip(errors, errors.dropFirst()).map { log2($0 / $1) }
    #expect(errors.last! < 1e-7, "errors \(errors)")
    for p in orders { #expect(p > 3.7 && p < 4.6, "errors \(errors), observed orders \(orders)") }
    print("Burgers ETDRK4 vs Cole–Hopf: max errors \(errors), observed orders \(orders)")
  }

  @Test("Burgers: spectral accuracy in space, and the stored grid is the truncation of the exact solution")
  func burgersSpace() throws {
    let (nu, c0, tEnd, steps) = (0.05, 1.2, 0.25, 200)
    var errors: [Double] = []
    for n in [16, 32, 64] {
      let x = (0..<n).map { Double($0) / Double(n) }
      let solver = try BurgersETDRK4(points: n, viscosity: nu, timeStep: tEnd / Double(steps))
      let run = try solver.run(
        initial: x.map { coleHopf(x: $0, t: 0, nu: nu, c0: c0) }, steps: steps, recordEvery: steps)
      errors.append(zip(run.snapshots[0], x).map { abs($0 - coleHopf(x: $1, t: tEnd, nu: nu, c0: c0)) }.max()!)
    }
    // Geometric (spectral) decay: each doubling of N gains far more than any fixed algebraic order.
    #expect(errors[0] / errors[1] > 10 && errors[1] / errors[2] > 100, "errors \(errors)")
    // Solve at 256, store at 32: the stored values are the exact solution up to its modes ≥ 16.
    let n = 256
    let x = (0..<n).map { Double($0) / Double(n) }
    let solver = try BurgersETDRK4(points: n, viscosity: nu, timeStep: tEnd / Double(steps))
    let run = try solver.run(
      initial: x.map { coleHopf(x: $0, t: 0, nu: nu, c0: c0) }, steps: steps, recordEvery: steps / 4, storedPoints: 32)
    #expect(run.snapshots.count == 4 && run.times.last! == tEnd && run.initial.count == 32)
    let stored = (0..<32).map { coleHopf(x: Double($0) / 32, t: tEnd, nu: nu, c0: c0) }
    let truncated = try SpectralTruncation.truncate(
      x.map { coleHopf(x: $0, t: tEnd, nu: nu, c0: c0) }, from: n, to: 32)
    #expect(zip(run.snapshots[3], truncated).map { abs($0 - $1) }.max()! < 1e-9)
    #expect(zip(run.snapshots[3], stored).map { abs($0 - $1) }.max()! < 1e-6)
  }

  @Test("spectral truncation keeps resolved modes exactly and drops (does not alias) the others, 1D and 2D")
  func truncation() throws {
    let (n, s) = (64, 16)
    func f1(_ x: Double, high: Bool) -> Double {
      cos(2 * .pi * 3 * x) + 0.5 * sin(2 * .pi * 5 * x)
        + (high ? 0.7 * cos(2 * .pi * Double(s / 2 + 3) * x) + 0.3 * cos(2 * .pi * Double(s / 2) * x) : 0)
    }
    let fine = (0..<n).map { f1(Double($0) / Double(n), high: true) }
    let want = (0..<s).map { f1(Double($0) / Double(s), high: false) }
    let got = try SpectralTruncation.truncate(fine, from: n, to: s)
    #expect(zip(got, want).map { abs($0 - $1) }.max()! < 1e-13)
    // Injection (every 4th point) folds k = 11 onto k = −5 and keeps the ambiguous k = 8: wrong by O(1).
    let injected = stride(from: 0, to: n, by: n / s).map { fine[$0] }
    #expect(zip(injected, want).map { abs($0 - $1) }.max()! > 0.5)

    func f2(_ x: Double, _ y: Double, high: Bool) -> Double {
      sin(2 * .pi * (2 * x + y)) + cos(2 * .pi * (3 * x - 4 * y))
        + (high ? 0.8 * sin(2 * .pi * (11 * x + 2 * y)) + 0.6 * cos(2 * .pi * (x - 13 * y)) : 0)
    }
    var fine2: [Double] = []
    for i in 0..<n { for j in 0..<n { fine2.append(f2(Double(j) / Double(n), Double(i) / Double(n), high: true)) } }
    var want2: [Double] = []
    for i in 0..<s { for j in 0..<s { want2.append(f2(Double(j) / Double(s), Double(i) / Double(s), high: false)) } }
    let got2 = try SpectralTruncation.truncate2D(fine2, from: n, to: s)
    #expect(zip(got2, want2).map { abs($0 - $1) }.max()! < 1e-12)
    #expect(throws: DiscretizationError.self) { try SpectralTruncation.truncate(fine, from: n, to: 128) }
  }

  @Test("Navier–Stokes: the Taylor–Green vortex decays as exp(−8π²νt), Crank–Nicolson second order")
  func taylorGreen() throws {
    let (n, nu, tEnd) = (16, 0.02, 1.0)
    var w0: [Double] = []
    for i in 0..<n {
      for j in 0..<n { w0.append(3 * sin(2 * .pi * Double(j) / Double(n)) * sin(2 * .pi * Double(i) / Double(n))) }
    }
    let decay = exp(-8 * Double.pi * Double.pi * nu * tEnd)
    var errors: [Double] = []
    for steps in [10, 20, 40] {
      let ns = try VorticityCrankNicolson(points: n, viscosity: nu, timeStep: tEnd / Double(steps))
      let run = try ns.run(initial: w0, steps: steps, recordEvery: steps)
      errors.append(zip(run.snapshots[0], w0).map { abs($0 - decay * $1) }.max()!)
    }
    let orders = zip(errors, errors.dropFirst()).map { log2($0 / $1) }
    for p in orders { #expect(p > 1.9 && p < 2.1, "errors \(errors), orders \(orders)") }
    #expect(errors.last! < 1e-3 * 3 * decay)
    print("Taylor–Green vortex: max errors \(errors), observed orders \(orders)")
  }

  @Test("Navier–Stokes: one step reproduces the analytic advection u·∇w and the forcing, with u = (ψ_y, −ψ_x)")
  func advectionTerm() throws {
    // ψ = a sin 2πx + b cos 4πy: w = 4π²a sin 2πx + 16π²b cos 4πy, u·∇w = 96π⁴ab cos 2πx sin 4πy.
    let (n, a, b, dt) = (32, 0.01, 0.02, 1e-3)
    let pi = Double.pi
    var w0: [Double] = []
    var change: [Double] = []
    var force: [Double] = []
    for i in 0..<n {
      for j in 0..<n {
        let (x, y) = (Double(j) / Double(n), Double(i) / Double(n))
        w0.append(4 * pi * pi * a * sin(2 * pi * x) + 16 * pi * pi * b * cos(4 * pi * y))
        change.append(-dt * 96 * pow(pi, 4) * a * b * cos(2 * pi * x) * sin(4 * pi * y))
        force.append(0.1 * (sin(2 * pi * (x + y)) + cos(2 * pi * (x + y))))
      }
    }
    let ns = try VorticityCrankNicolson(points: n, viscosity: 0, timeStep: dt, forcing: force)
    let w1 = try ns.run(initial: w0, steps: 1, recordEvery: 1).snapshots[0]
    let scale = change.map(abs).max()!
    let err = (0..<(n * n)).map { abs(w1[$0] - (w0[$0] + change[$0] + dt * force[$0])) }.max()!
    #expect(err < 1e-9 * scale, "error \(err) vs change \(scale)")
  }

  @Test("Navier–Stokes: energy and enstrophy are conserved to O(Δt) without viscosity and obey dE/dt = −2νZ with it")
  func energyEnstrophyBudget() throws {
    let n = 32
    let grf = try GaussianRandomField(
      shape: [n, n], alpha: 2.5, tau: 7, sigma: 20 * pow(7, 1.5), zeroMean: true)
    // Band-limit to the dealiased modes so the semi-discrete system is an exact Galerkin truncation.
    let raw = grf.sample(seed: 3, index: 0).scalars
    var spectrum = try FFT.rfft(NDArray(shape: [n, n], data: raw), rank: 2)
    let cut = (2.0 / 3.0) * Double(n / 2)
    spectrum.withUnsafeMutableBufferPointer { p in
      for i in 0..<n {
        for j in 0...(n / 2) where abs(Double(i < n / 2 ? i : i - n)) > cut || Double(j) > cut {
          p[i * (n / 2 + 1) + j] = .zero
        }
      }
    }
    let w0 = try FFT.irfft(spectrum, lastAxisSize: n, rank: 2).scalars
    let start = try energyEnstrophy(w0, n: n)
    let tEnd = 0.2
    var drifts: [Double] = []
    for steps in [200, 400] {
      let run = try VorticityCrankNicolson(points: n, viscosity: 0, timeStep: tEnd / Double(steps))
        .run(initial: w0, steps: steps, recordEvery: steps)
      let end = try energyEnstrophy(run.snapshots[0], n: n)
      drifts.append(abs(end.energy / start.energy - 1) + abs(end.enstrophy / start.enstrophy - 1))
    }
    #expect(drifts[0] < 0.05 && drifts[1] < drifts[0] / 1.6, "relative drifts \(drifts)")

    let nu = 2e-3
    let steps = 400
    let run = try VorticityCrankNicolson(points: n, viscosity: nu, timeStep: tEnd / Double(steps))
      .run(initial: w0, steps: steps, recordEvery: 4)
    let series = try [start] + run.snapshots.map { try energyEnstrophy($0, n: n) }
    for (p, q) in zip(series, series.dropFirst()) {
      #expect(q.energy < p.energy && q.enstrophy < p.enstrophy)
    }
    let dtRecord = tEnd / Double(run.snapshots.count)
    var dissipated = 0.0
    for (p, q) in zip(series, series.dropFirst()) { dissipated += dtRecord * nu * (p.enstrophy + q.enstrophy) }
    let lost = series.first!.energy - series.last!.energy
    #expect(abs(lost / dissipated - 1) < 0.05, "energy lost \(lost), 2ν∫Z dt = \(dissipated)")
  }
}
