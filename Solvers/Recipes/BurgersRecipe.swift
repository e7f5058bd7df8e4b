// The FNO paper's Burgers data (Li et al., "Fourier Neural Operator for Parametric Partial
// Differential Equations", ICLR 2021, §5.1; shared/REFERENCES.md): u_t + (u²/2)_x = ν u_xx on the
// periodic unit interval, ν = 0.1, u0 ~ N(0, 625(−Δ + 25I)^(−2)) — here read as the covariance
// σ²(−Δ + τ²I)^(−α) with σ = 25, τ = 5, α = 2 and zero mean, as the paper's `GRF1.m` draws it —
// solved at 8192 points and stored at a coarser grid; the target is u(·, T = 1). The paper used
// Chebfun's `spin` (ETDRK4, Δt = 1e-4); PDEKit uses its own ETDRK4 (`BurgersETDRK4`) with the
// 2/3 rule and stores by spectral truncation (`SpectralTruncation`), not by taking every r-th point.
import Datasets
import Foundation
import Numerics

/// `pdekit generate burgers`: input u0(x), target u(x, T) or the trajectory u(t_k, x).
public struct BurgersRecipe: SampleRecipe {
  public static let name = "burgers"
  public static let summary =
    "FNO-paper viscous Burgers u_t + (u^2/2)_x = nu u_xx on the periodic unit interval; u0 a zero-mean periodic GRF with covariance sigma^2 (-Lap + tau^2)^(-alpha) (defaults 625 (-Lap + 25)^(-2)). Pseudo-spectral ETDRK4 (Kassam & Trefethen 2005) with 2/3 dealiasing at solver_resolution points, stored at --resolution by spectral truncation. Input: initial_condition u0; target: solution u(T), or with snapshots = n > 1 the trajectory at t = T/n, 2T/n, ..., T (a `time` dimension). Use --dimension 1 (the default for this recipe)."
  public static let parameters = [
    RecipeParameter("nu", 0.1, "viscosity ν", range: 1e-6...100),
    RecipeParameter("t_end", 1, "final time T", range: 1e-6...1e4),
    RecipeParameter("dt", 1e-4, "largest time step Δt (the step used is T/steps ≤ Δt)", range: 1e-8...1),
    RecipeParameter("solver_resolution", 8192, "grid points of the solver (even, ≥ --resolution)", range: 8...65536),
    RecipeParameter("snapshots", 1, "stored times: 1 = u(T) only, n > 1 = u at T/n, 2T/n, …, T", range: 1...10_000),
    RecipeParameter("alpha", 2, "GRF smoothness exponent α", range: 0.5...10),
    RecipeParameter("tau", 5, "GRF inverse length scale τ", range: 0...1000),
    RecipeParameter("sigma", 25, "GRF amplitude σ (covariance σ²(−Δ + τ²)^(−α))", range: 1e-12...1e12),
  ]
  public static let defaultSolverRule = "pseudo-spectral ETDRK4 with 2/3 dealiasing (no linear solver)"
  public static let dimensions = [1]

  let resolution: Int
  let values: [String: Double]
  let solverPoints: Int
  let snapshots: Int
  let steps: Int
  let field: GaussianRandomField
  let solver: BurgersETDRK4

  public init(resolution: Int, dimension: Int, parameters: [String: Double]) throws {
    values = try Self.resolve(parameters)
    guard dimension == 1 else {
      throw GenerationError.invalidParameter("burgers is one-dimensional; use --dimension 1")
    }
    for k in ["solver_resolution", "snapshots"] where values[k]! != values[k]!.rounded() {
      throw GenerationError.invalidParameter("burgers: \(k) must be a whole number, got \(values[k]!)")
    }
    solverPoints = Int(values["solver_resolution"]!)
    guard resolution % 2 == 0, solverPoints % 2 == 0, resolution <= solverPoints else {
      throw GenerationError.invalidParameter(
        "burgers: --resolution (\(resolution)) and solver_resolution (\(solverPoints)) must be even with --resolution ≤ solver_resolution"
      )
    }
    self.resolution = resolution
    snapshots = Int(values["snapshots"]!)
    let tEnd = values["t_end"]!
    let perSnapshot = Int((tEnd / Double(snapshots) / values["dt"]!).rounded(.up))
    guard perSnapshot >= 1, perSnapshot * snapshots <= 100_000_000 else {
      throw GenerationError.invalidParameter("burgers: t_end / dt gives an unusable number of steps")
    }
    steps = perSnapshot * snapshots
    field = try GaussianRandomField(
      shape: [solverPoints], alpha: values["alpha"]!, tau: values["tau"]!, sigma: values["sigma"]!, zeroMean: true)
    solver = try BurgersETDRK4(points: solverPoints, viscosity: values["nu"]!, timeStep: tEnd / Double(steps))
  }

  var times: [Double] { (1...snapshots).map { values["t_end"]! * Double($0) / Double(snapshots) } }

  public func schema(config: GenerationConfig) throws -> DatasetSchema {
    let nu = values["nu"]!
    let tEnd = values["t_end"]!
    var axes = [
      DatasetAxis(
        name: "x", values: (0..<resolution).map { Double($0) / Double(resolution) }, units: "1",
        longName: "x coordinate on the periodic unit interval")
    ]
    if snapshots > 1 {
      axes.insert(DatasetAxis(name: "time", values: times, units: "1", longName: "time (nondimensional)"), at: 0)
    }
    var schema = DatasetSchema(
      title:
        "Viscous Burgers equation, nu = \(nu), \(resolution) points, \(config.samples) samples (PDEKit recipe 'burgers')",
      pde: "burgers", equation: "u_t + (u^2/2)_x = nu u_xx, nu = \(nu), t in [0, \(tEnd)]",
      boundaryConditions: "periodic on [0, 1)",
      discretization:
        "Fourier pseudo-spectral at \(solverPoints) points with 2/3-rule dealiasing, ETDRK4 (Kassam & Trefethen 2005, contour-integral coefficients) with dt = \(tEnd / Double(steps)) (\(steps) steps); stored at \(resolution) points by spectral truncation (modes |k| < \(resolution / 2))",
      solver: "ETDRK4 pseudo-spectral time stepper (no linear solver)", rtol: config.rtol,
      configJSON: try config.json(),
      axes: axes,
      variables: [
        DatasetVariable(
          name: "initial_condition", role: .input, axes: ["x"],
          longName:
            "initial condition u0, periodic GRF with covariance \(values["sigma"]!)^2 (-Lap + \(values["tau"]!)^2)^(-\(values["alpha"]!))",
          units: "1"),
        DatasetVariable(
          name: "solution", role: .target, axes: snapshots > 1 ? ["time", "x"] : ["x"],
          longName: snapshots > 1 ? "velocity u(t, x)" : "velocity u(T, x) at T = \(tEnd)", units: "1"),
      ])
    schema.numericAttributes = [
      "time_step": tEnd / Double(steps), "solver_resolution": Double(solverPoints),
      "stored_resolution": Double(resolution), "viscosity": nu, "final_time": tEnd,
    ]
    return schema
  }

  public func generate(sampleSeed: UInt64) throws -> GeneratedSample {
    let u0 = field.sample(seed: sampleSeed, index: 0).scalars
    let run = try solver.run(initial: u0, steps: steps, recordEvery: steps / snapshots, storedPoints: resolution)
    return GeneratedSample(
      fields: ["initial_condition": run.initial, "solution": run.snapshots.flatMap { $0 }], steps: run.steps,
      seconds: run.seconds, fftSeconds: run.fftSeconds)
  }
}
