// Heat-equation trajectories through the sparse path: u_t = ∇·(κ∇u) on the unit square (cube),
// u = 0 on the boundary, with a log-normal conductivity κ = exp(GRF) and a GRF initial
// temperature per sample, integrated by implicit Euler (`HeatEquation`: LeVeque 2007, ch. 9) —
// one SPD system (I/Δt + A_κ) u^{n+1} = u^n/Δt per step, the same matrix for all steps of a
// sample, so the steps form the kind of sequence that a factorization reused across steps
// (CHOLMOD) or Krylov recycling (`--solver recycled-cg`) serves. Unlike `thermal`, which keeps
// u(T) only, the target is the trajectory at every `record_every`-th step (a `time` dimension).
import Datasets
import Foundation
import Numerics

/// `pdekit generate heat`: inputs κ and u0, target the temperature trajectory u(t_k).
public struct HeatRecipe: DatasetRecipe {
  public static let name = "heat"
  public static let summary =
    "Variable-coefficient heat equation u_t = div(kappa grad u) on the unit square (cube), u = 0 on the boundary, implicit Euler through the sparse solvers: kappa = exp(GRF(alpha_k, tau_k)) (log-normal), u0 a GRF; inputs conductivity and initial_temperature, target temperature(time, [z,] y, x) every record_every steps of size dt up to steps. One SPD system per step; all steps of a sample share the matrix (reused factorization, or --solver recycled-cg for recycling across steps)."
  public static let parameters = [
    RecipeParameter("alpha_k", 2.5, "log-conductivity GRF exponent α", range: 0.5...10),
    RecipeParameter("tau_k", 7, "log-conductivity GRF inverse length τ", range: 0...100),
    RecipeParameter("alpha_u", 2, "initial-temperature GRF exponent α", range: 0.5...10),
    RecipeParameter("tau_u", 3, "initial-temperature GRF inverse length τ", range: 0...100),
    RecipeParameter("amplitude_u", 10, "initial-temperature GRF amplitude σ", range: 1e-12...1e12),
    RecipeParameter("dt", 1e-3, "time step Δt (nondimensional time)", range: 1e-12...1e6),
    RecipeParameter("steps", 100, "implicit Euler steps per sample", range: 1...100_000),
    RecipeParameter(
      "record_every", 10, "store the temperature every this many steps (divides steps)", range: 1...100_000),
  ]
  /// As `thermal`: every step of a sample reuses one matrix, so one factorization serves them all.
  public static func defaultSolver(resolution: Int, dimension: Int) -> SolverChoice {
    ellipticDefaultSolver(resolution: resolution, dimension: dimension, directUpTo: 128)
  }
  public static let defaultSolverRule =
    "cholmod in 2D up to 128² (one factorization per sample serves all steps), amg-cg above and in 3D"
  public static let dimensions = [2, 3]

  let resolution: Int
  let dimension: Int
  let values: [String: Double]
  let steps: Int
  let recordEvery: Int
  let conductivityField: CosineRandomField
  let initialField: CosineRandomField

  public init(resolution: Int, dimension: Int, parameters: [String: Double]) throws {
    self.resolution = resolution
    self.dimension = dimension
    values = try Self.resolve(parameters)
    for k in ["steps", "record_every"] where values[k]! != values[k]!.rounded() {
      throw GenerationError.invalidParameter("heat: \(k) must be a whole number, got \(values[k]!)")
    }
    steps = Int(values["steps"]!)
    recordEvery = Int(values["record_every"]!)
    guard steps % recordEvery == 0 else {
      throw GenerationError.invalidParameter("heat: record_every (\(recordEvery)) must divide steps (\(steps))")
    }
    let shape = [Int](repeating: resolution, count: dimension)
    // The same scales as `thermal`: log κ with O(1) spread, u0 of amplitude ≈ amplitude_u.
    conductivityField = try CosineRandomField(
      shape: shape, alpha: values["alpha_k"]!, tau: values["tau_k"]!,
      sigma: 0.5 * pow(values["tau_k"]!, values["alpha_k"]! / 2))
    initialField = try CosineRandomField(
      shape: shape, alpha: values["alpha_u"]!, tau: values["tau_u"]!,
      sigma: values["amplitude_u"]! * pow(values["tau_u"]!, values["alpha_u"]! / 2))
  }

  public func schema(config: GenerationConfig) throws -> DatasetSchema {
    let grid = try HeatEquation.grid(dimension: dimension, n: resolution)
    let dt = values["dt"]!
    let tEnd = Double(steps) * dt
    let space = axisNames(dimension)
    var schema = DatasetSchema(
      title:
        "Heat equation trajectories with random conductivity, \(resolution)^\(dimension) cells, \(config.samples) samples (PDEKit recipe 'heat')",
      pde: "heat", equation: "u_t = div(kappa grad u), t in [0, \(tEnd)]",
      boundaryConditions: "u = 0 on the whole boundary",
      discretization:
        "cell-centred finite volumes with harmonic face means; implicit Euler, dt = \(dt), \(steps) steps, stored every \(recordEvery)",
      solver: config.solverDescription, rtol: config.rtol, configJSON: try config.json(),
      axes: [
        DatasetAxis(
          name: "time", values: (1...(steps / recordEvery)).map { Double($0 * recordEvery) * dt }, units: "1",
          longName: "time (nondimensional)")
      ] + gridAxes(dimension: dimension, values: grid.axisCoordinates),
      variables: [
        DatasetVariable(
          name: "conductivity", role: .input, axes: space, longName: "thermal conductivity kappa", units: "1"),
        DatasetVariable(
          name: "initial_temperature", role: .input, axes: space, longName: "temperature at t = 0", units: "1"),
        DatasetVariable(
          name: "temperature", role: .target, axes: ["time"] + space, longName: "temperature u(t)", units: "1"),
      ])
    schema.numericAttributes = [
      "time_step": dt, "solver_resolution": Double(resolution), "stored_resolution": Double(resolution),
      "final_time": tEnd,
    ]
    return schema
  }

  public func makeSample(sampleSeed: UInt64) throws -> RecipeSample {
    let kappa = conductivityField.sample(seed: sampleSeed, index: 0).scalars.map { exp($0) }
    let u0 = initialField.sample(seed: sampleSeed, index: 1).scalars
    let heat = try HeatEquation(dimension: dimension, n: resolution, conductivity: kappa, timeStep: values["dt"]!)
    return RecipeSample(
      inputs: ["conductivity": kappa, "initial_temperature": u0],
      system: LinearSystem(matrix: heat.matrix, rhs: try heat.rhs(previous: u0), symmetricByConstruction: true),
      steps: steps,
      recordedSteps: Array(stride(from: recordEvery, through: steps, by: recordEvery)))
  }

  public func nextSystem(after solution: [Double], step: Int, sample: RecipeSample) throws -> LinearSystem {
    let inv = 1 / values["dt"]!
    return LinearSystem(matrix: sample.system.matrix, rhs: solution.map { $0 * inv }, symmetricByConstruction: true)
  }

  public func targets(from solution: [Double], sample: RecipeSample) throws -> [String: [Double]] {
    throw GenerationError.invalidParameter("heat: the trajectory needs the recorded solutions")
  }

  public func targets(from solution: [Double], recorded: [[Double]], sample: RecipeSample) throws -> [String: [Double]]
  {
    guard recorded.count == steps / recordEvery else {
      throw GenerationError.invalidParameter(
        "heat: \(recorded.count) recorded solutions, expected \(steps / recordEvery)")
    }
    return ["temperature": recorded.flatMap { $0 }]
  }
}
