// The FNO paper's Navier–Stokes data (Li et al., "Fourier Neural Operator for Parametric Partial
// Differential Equations", ICLR 2021, §5.3; shared/REFERENCES.md): the vorticity equation on the
// periodic unit torus with forcing f = 0.1(sin 2π(x+y) + cos 2π(x+y)), w0 ~ N(0, σ²(−Δ + 49I)^(−2.5))
// with σ = 7^{3/2} and zero mean (the `GaussianRF(2, s, alpha=2.5, tau=7)` of its `ns_2d.py`),
// solved at 256² with Δt = 1e-4 by the Crank–Nicolson pseudo-spectral scheme
// (`VorticityCrankNicolson`) and stored at 64² every time unit up to T (ν = 1e-3: T = 50;
// the paper's ν = 1e-4 and 1e-5 runs use T = 30 and 20). Stored by spectral truncation.
import Datasets
import Foundation
import Numerics

/// `pdekit generate navier-stokes`: input w0(y, x), target the trajectory w(t_k, y, x).
public struct NavierStokesRecipe: SampleRecipe {
  public static let name = "navier-stokes"
  public static let summary =
    "FNO-paper 2D Navier-Stokes in vorticity form on the periodic unit torus, w_t + u.grad w = nu Lap w + f, f = forcing_amplitude (sin 2pi(x+y) + cos 2pi(x+y)); w0 a zero-mean GRF with covariance sigma^2 (-Lap + tau^2)^(-alpha) (defaults 7^3 (-Lap + 49)^(-2.5), as ns_2d.py). Crank-Nicolson pseudo-spectral with 2/3 dealiasing at solver_resolution^2 and step dt, stored at --resolution^2 (64 in the paper) by spectral truncation every record_interval up to t_end. Input: vorticity_initial; target: vorticity(time, y, x). The paper's settings: nu = 1e-3, t_end = 50; nu = 1e-4, t_end = 30; nu = 1e-5, t_end = 20."
  public static let parameters = [
    RecipeParameter("nu", 1e-3, "viscosity ν (the paper: 1e-3, 1e-4, 1e-5)", range: 1e-8...10),
    RecipeParameter("t_end", 50, "final time T (a multiple of record_interval)", range: 1e-6...1e5),
    RecipeParameter("dt", 1e-4, "time step Δt (record_interval must be a multiple of it)", range: 1e-8...1),
    RecipeParameter("record_interval", 1, "time between stored snapshots", range: 1e-8...1e5),
    RecipeParameter(
      "solver_resolution", 256, "grid points per axis of the solver (even, ≥ --resolution)", range: 8...4096),
    RecipeParameter("forcing_amplitude", 0.1, "amplitude of f = A (sin 2π(x+y) + cos 2π(x+y))", range: -1e6...1e6),
    RecipeParameter("alpha", 2.5, "GRF smoothness exponent α", range: 0.5...10),
    RecipeParameter("tau", 7, "GRF inverse length scale τ", range: 0...1000),
    RecipeParameter("sigma", 18.520259177452136, "GRF amplitude σ (default 7^{3/2})", range: 1e-12...1e12),
  ]
  public static let defaultSolverRule =
    "Crank-Nicolson pseudo-spectral (viscosity implicit, advection explicit, 2/3 dealiasing; no linear solver)"
  public static let dimensions = [2]

  let resolution: Int
  let values: [String: Double]
  let solverPoints: Int
  let records: Int
  let stepsPerRecord: Int
  let field: GaussianRandomField
  let solver: VorticityCrankNicolson

  /// `a / b` as a whole number when it is one to within round-off, else nil.
  static func wholeRatio(_ a: Double, _ b: Double) -> Int? {
    let r = a / b
    let n = r.rounded()
    return n >= 1 && abs(r - n) <= 1e-9 * max(1, n) ? Int(n) : nil
  }

  public init(resolution: Int, dimension: Int, parameters: [String: Double]) throws {
    values = try Self.resolve(parameters)
    guard dimension == 2 else {
      throw GenerationError.invalidParameter("navier-stokes is two-dimensional; use --dimension 2")
    }
    guard values["solver_resolution"]! == values["solver_resolution"]!.rounded() else {
      throw GenerationError.invalidParameter("navier-stokes: solver_resolution must be a whole number")
    }
    solverPoints = Int(values["solver_resolution"]!)
    guard resolution % 2 == 0, solverPoints % 2 == 0, resolution <= solverPoints else {
      throw GenerationError.invalidParameter(
        "navier-stokes: --resolution (\(resolution)) and solver_resolution (\(solverPoints)) must be even with --resolution ≤ solver_resolution"
      )
    }
    self.resolution = resolution
    let (dt, interval, tEnd) = (values["dt"]!, values["record_interval"]!, values["t_end"]!)
    guard let perRecord = Self.wholeRatio(interval, dt) else {
      throw GenerationError.invalidParameter(
        "navier-stokes: record_interval (\(interval)) must be a whole multiple of dt (\(dt))")
    }
    guard let count = Self.wholeRatio(tEnd, interval) else {
      throw GenerationError.invalidParameter(
        "navier-stokes: t_end (\(tEnd)) must be a whole multiple of record_interval (\(interval))")
    }
    guard perRecord * count <= 1_000_000_000, count <= 100_000 else {
      throw GenerationError.invalidParameter("navier-stokes: t_end / dt gives too many steps or records")
    }
    (stepsPerRecord, records) = (perRecord, count)
    let n = solverPoints
    field = try GaussianRandomField(
      shape: [n, n], alpha: values["alpha"]!, tau: values["tau"]!, sigma: values["sigma"]!, zeroMean: true)
    let amplitude = values["forcing_amplitude"]!
    var forcing = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n {
        let phase = 2 * Double.pi * (Double(i) + Double(j)) / Double(n)
        forcing[i * n + j] = amplitude * (sin(phase) + cos(phase))
      }
    }
    solver = try VorticityCrankNicolson(
      points: n, viscosity: values["nu"]!, timeStep: dt, forcing: amplitude == 0 ? nil : forcing)
  }

  public func schema(config: GenerationConfig) throws -> DatasetSchema {
    let (nu, dt, tEnd) = (values["nu"]!, values["dt"]!, values["t_end"]!)
    let coordinates = (0..<resolution).map { Double($0) / Double(resolution) }
    var schema = DatasetSchema(
      title:
        "2D Navier-Stokes (vorticity), nu = \(nu), \(resolution)^2 stored from \(solverPoints)^2, \(config.samples) samples (PDEKit recipe 'navier-stokes')",
      pde: "navier-stokes",
      equation:
        "w_t + u.grad w = nu Lap w + f, u = (psi_y, -psi_x), -Lap psi = w, nu = \(nu), f = \(values["forcing_amplitude"]!) (sin 2pi(x+y) + cos 2pi(x+y)), t in [0, \(tEnd)]",
      boundaryConditions: "periodic on the unit torus [0, 1)^2",
      discretization:
        "Fourier pseudo-spectral at \(solverPoints)^2 with 2/3-rule dealiasing; Crank-Nicolson viscosity, forward-Euler advection and forcing (the FNO ns_2d.py scheme), dt = \(dt) (\(records * stepsPerRecord) steps); stored at \(resolution)^2 by spectral truncation (modes |k_x|, |k_y| < \(resolution / 2)) every \(values["record_interval"]!)",
      solver: "Crank-Nicolson pseudo-spectral time stepper (no linear solver)", rtol: config.rtol,
      configJSON: try config.json(),
      axes: [
        DatasetAxis(
          name: "time", values: (1...records).map { Double($0) * values["record_interval"]! }, units: "1",
          longName: "time (nondimensional)"),
        DatasetAxis(name: "y", values: coordinates, units: "1", longName: "y coordinate on the periodic unit torus"),
        DatasetAxis(name: "x", values: coordinates, units: "1", longName: "x coordinate on the periodic unit torus"),
      ],
      variables: [
        DatasetVariable(
          name: "vorticity_initial", role: .input, axes: ["y", "x"],
          longName:
            "initial vorticity w0, periodic GRF with covariance \(values["sigma"]!)^2 (-Lap + \(values["tau"]!)^2)^(-\(values["alpha"]!))",
          units: "1"),
        DatasetVariable(
          name: "vorticity", role: .target, axes: ["time", "y", "x"], longName: "vorticity w(t, x, y)", units: "1"),
      ])
    schema.numericAttributes = [
      "time_step": dt, "solver_resolution": Double(solverPoints), "stored_resolution": Double(resolution),
      "viscosity": nu, "final_time": tEnd, "record_interval": values["record_interval"]!,
    ]
    return schema
  }

  public func generate(sampleSeed: UInt64) throws -> GeneratedSample {
    let w0 = field.sample(seed: sampleSeed, index: 0).scalars
    let run = try solver.run(
      initial: w0, steps: records * stepsPerRecord, recordEvery: stepsPerRecord, storedPoints: resolution)
    return GeneratedSample(
      fields: ["vorticity_initial": run.initial, "vorticity": run.snapshots.flatMap { $0 }], steps: run.steps,
      seconds: run.seconds, fftSeconds: run.fftSeconds)
  }
}
