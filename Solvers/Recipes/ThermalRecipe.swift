// Variable-conductivity heat conduction, the SKR paper's "Thermal" family made a real sequence
// (Wang et al., "Accelerating Data Generation for Neural Operators via Krylov Subspace
// Recycling", ICLR 2024, uses one fixed FEM matrix; see shared/REFERENCES.md): here every sample
// has its own log-normal conductivity κ = exp(GRF), as SKR's Darcy coefficient, and its own
// initial temperature, and takes implicit Euler steps (I/Δt − ∇·κ∇) u^{n+1} = u^n/Δt with u = 0
// on the boundary — one SPD system per step, all steps of a sample sharing one matrix.
import Datasets
import Foundation
import Numerics

/// `pdekit generate thermal`: inputs conductivity κ and initial temperature u0, target u(T).
public struct ThermalRecipe: DatasetRecipe {
  public static let name = "thermal"
  public static let summary =
    "Heat equation u_t = div(kappa grad u) on the unit square (cube), u = 0 on the boundary, implicit Euler: kappa = exp(GRF(alpha_k, tau_k)) (log-normal, as SKR's Darcy coefficient), u0 a GRF; inputs kappa and u0, target u after `steps` steps of size dt. One SPD matrix per sample, reused across its steps."
  public static let parameters = [
    RecipeParameter("alpha_k", 2.5, "log-conductivity GRF exponent α", range: 0.5...10),
    RecipeParameter("tau_k", 7, "log-conductivity GRF inverse length τ", range: 0...100),
    RecipeParameter("alpha_u", 2, "initial-temperature GRF exponent α", range: 0.5...10),
    RecipeParameter("tau_u", 3, "initial-temperature GRF inverse length τ", range: 0...100),
    RecipeParameter("amplitude_u", 10, "initial-temperature GRF amplitude σ", range: 1e-12...1e12),
    RecipeParameter("dt", 1e-3, "time step Δt (nondimensional time)", range: 1e-12...1e6),
    RecipeParameter("steps", 10, "implicit Euler steps per sample", range: 1...100_000),
  ]
  /// Every step of a sample reuses one matrix, so one factorization serves all steps: CHOLMOD
  /// stays the default longer than for the one-solve recipes.
  public static func defaultSolver(resolution: Int, dimension: Int) -> SolverChoice {
    ellipticDefaultSolver(resolution: resolution, dimension: dimension, directUpTo: 128)
  }
  public static let defaultSolverRule =
    "cholmod in 2D up to 128² (one factorization per sample serves all steps), amg-cg above and in 3D"
  public static let dimensions = [2, 3]

  let resolution: Int
  let dimension: Int
  let values: [String: Double]
  let conductivityField: CosineRandomField
  let initialField: CosineRandomField

  public init(resolution: Int, dimension: Int, parameters: [String: Double]) throws {
    self.resolution = resolution
    self.dimension = dimension
    values = try Self.resolve(parameters)
    guard values["steps"]! == values["steps"]!.rounded() else {
      throw GenerationError.invalidParameter("thermal: steps must be a whole number, got \(values["steps"]!)")
    }
    let shape = [Int](repeating: resolution, count: dimension)
    // Standard-deviation scale so that log κ has O(1) spread, as exp(GRF(2.5, 7)) in SKR.
    let sigmaK = pow(values["tau_k"]!, values["alpha_k"]! / 2)
    conductivityField = try CosineRandomField(
      shape: shape, alpha: values["alpha_k"]!, tau: values["tau_k"]!, sigma: sigmaK * 0.5)
    initialField = try CosineRandomField(
      shape: shape, alpha: values["alpha_u"]!, tau: values["tau_u"]!,
      sigma: values["amplitude_u"]! * pow(values["tau_u"]!, values["alpha_u"]! / 2))
  }

  public func schema(config: GenerationConfig) throws -> DatasetSchema {
    let grid = try HeatEquation.grid(dimension: dimension, n: resolution)
    let steps = Int(values["steps"]!)
    let tEnd = Double(steps) * values["dt"]!
    return DatasetSchema(
      title:
        "Heat conduction with random conductivity, \(resolution)^\(dimension) cells, \(config.samples) samples (PDEKit recipe 'thermal')",
      pde: "heat", equation: "u_t = div(kappa grad u), t in [0, \(tEnd)]",
      boundaryConditions: "u = 0 on the whole boundary",
      discretization:
        "cell-centred finite volumes with harmonic face means; implicit Euler, dt = \(values["dt"]!), \(steps) steps",
      solver: config.solverDescription, rtol: config.rtol, configJSON: try config.json(),
      axes: gridAxes(dimension: dimension, values: grid.axisCoordinates),
      variables: [
        DatasetVariable(
          name: "conductivity", role: .input, axes: axisNames(dimension), longName: "thermal conductivity kappa",
          units: "1"),
        DatasetVariable(
          name: "initial_temperature", role: .input, axes: axisNames(dimension), longName: "temperature at t = 0",
          units: "1"),
        DatasetVariable(
          name: "temperature", role: .target, axes: axisNames(dimension), longName: "temperature at t = \(tEnd)",
          units: "1"),
      ])
  }

  public func makeSample(sampleSeed: UInt64) throws -> RecipeSample {
    let kappa = conductivityField.sample(seed: sampleSeed, index: 0).scalars.map { exp($0) }
    let u0 = initialField.sample(seed: sampleSeed, index: 1).scalars
    let heat = try HeatEquation(dimension: dimension, n: resolution, conductivity: kappa, timeStep: values["dt"]!)
    let rhs = try heat.rhs(previous: u0)
    return RecipeSample(
      inputs: ["conductivity": kappa, "initial_temperature": u0],
      system: LinearSystem(matrix: heat.matrix, rhs: rhs, symmetricByConstruction: true),
      steps: Int(values["steps"]!))
  }

  public func nextSystem(after solution: [Double], step: Int, sample: RecipeSample) throws -> LinearSystem {
    // Same matrix; rhs = u^n / Δt (no source).
    let dt = values["dt"]!
    return LinearSystem(matrix: sample.system.matrix, rhs: solution.map { $0 / dt }, symmetricByConstruction: true)
  }

  public func targets(from solution: [Double], sample: RecipeSample) throws -> [String: [Double]] {
    ["temperature": solution]
  }
}
