// The FNO paper's Darcy flow data (Li et al., "Fourier Neural Operator for Parametric Partial
// Differential Equations", ICLR 2021, §5.2): −∇·(a∇u) = f on the unit square, u = 0 on the
// boundary, f = 1, a = ψ(μ) with μ ~ N(0, (−Δ + 9I)^(−2)) under zero Neumann conditions and
// ψ = 12 where μ ≥ 0, 3 where μ < 0. The paper solves on 421² by finite differences and
// subsamples; PDEKit solves directly at the requested resolution with cell-centred finite volumes
// and harmonic-mean face coefficients (SPD), which is the natural discretization of a
// piecewise-constant coefficient.
import Datasets
import Foundation
import Numerics

/// `pdekit generate darcy`: input permeability a, target pressure u.
public struct DarcyRecipe: DatasetRecipe {
  public static let name = "darcy"
  public static let summary =
    "FNO-paper Darcy flow -div(a grad u) = f, u = 0 on the boundary of the unit square (cube); a = a_plus where a Neumann GRF with covariance (-Lap + tau^2)^(-alpha) is >= 0 and a_minus elsewhere; f constant. Input: coefficient a; target: solution u. Cell-centred finite volumes with harmonic face means."
  public static let parameters = [
    RecipeParameter("alpha", 2, "GRF smoothness exponent α", range: 0.5...10),
    RecipeParameter("tau", 3, "GRF inverse length scale τ", range: 0...100),
    RecipeParameter("a_plus", 12, "coefficient where the GRF is ≥ 0", range: 1e-6...1e6),
    RecipeParameter("a_minus", 3, "coefficient where the GRF is < 0", range: 1e-6...1e6),
    RecipeParameter("source", 1, "constant source f", range: -1e6...1e6),
  ]
  public static func defaultSolver(resolution: Int, dimension: Int) -> SolverChoice {
    ellipticDefaultSolver(resolution: resolution, dimension: dimension)
  }
  public static let defaultSolverRule = "cholmod in 2D up to 64², amg-cg above and in 3D"
  public static let dimensions = [2, 3]
  public static let solutionVariable: String? = "solution"

  let resolution: Int
  let dimension: Int
  let values: [String: Double]
  let field: CosineRandomField

  public init(resolution: Int, dimension: Int, parameters: [String: Double]) throws {
    self.resolution = resolution
    self.dimension = dimension
    values = try Self.resolve(parameters)
    field = try CosineRandomField(
      shape: [Int](repeating: resolution, count: dimension), alpha: values["alpha"]!, tau: values["tau"]!)
  }

  public func schema(config: GenerationConfig) throws -> DatasetSchema {
    let grid = try Darcy.grid(dimension: dimension, n: resolution)
    return DatasetSchema(
      title: "Darcy flow, \(resolution)^\(dimension) cells, \(config.samples) samples (PDEKit recipe 'darcy')",
      pde: "darcy", equation: "-div(a grad u) = f, f = \(values["source"]!)",
      boundaryConditions: "u = 0 on the whole boundary of the unit \(dimension == 2 ? "square" : "cube")",
      discretization: "cell-centred finite volumes, \(resolution)^\(dimension) cells, harmonic-mean face coefficients",
      solver: config.solverDescription, rtol: config.rtol, configJSON: try config.json(),
      axes: gridAxes(dimension: dimension, values: grid.axisCoordinates),
      variables: [
        DatasetVariable(
          name: "coefficient", role: .input, axes: axisNames(dimension),
          longName: "permeability a (\(values["a_plus"]!) where the Neumann GRF >= 0, \(values["a_minus"]!) elsewhere)",
          units: "1"),
        DatasetVariable(
          name: "solution", role: .target, axes: axisNames(dimension), longName: "pressure u", units: "1"),
      ])
  }

  public func makeSample(sampleSeed: UInt64) throws -> RecipeSample {
    let mu = field.sample(seed: sampleSeed, index: 0)
    let (plus, minus) = (values["a_plus"]!, values["a_minus"]!)
    let a = mu.scalars.map { $0 >= 0 ? plus : minus }
    let f = [Double](repeating: values["source"]!, count: a.count)
    let problem = try Darcy.discretize(dimension: dimension, n: resolution, coefficient: a, source: f)
    return RecipeSample(
      inputs: ["coefficient": a],
      system: LinearSystem(matrix: problem.matrix, rhs: problem.rhs, symmetricByConstruction: problem.isSymmetric),
      steps: 1)
  }

  public func targets(from solution: [Double], sample: RecipeSample) throws -> [String: [Double]] {
    ["solution": solution]
  }
}

/// `pdekit generate poisson`: −Δu = f with a random source, u = 0 on the boundary.
public struct PoissonRecipe: DatasetRecipe {
  public static let name = "poisson"
  public static let summary =
    "Poisson -Lap u = f on the unit square (cube), u = 0 on the boundary, f a Neumann GRF with covariance scale^2 (-Lap + tau^2)^(-alpha). Input: source f; target: solution u. Cell-centred finite volumes."
  public static let parameters = [
    RecipeParameter("alpha", 2, "GRF smoothness exponent α", range: 0.5...10),
    RecipeParameter("tau", 3, "GRF inverse length scale τ", range: 0...100),
    RecipeParameter("scale", 100, "GRF amplitude σ", range: 1e-12...1e12),
  ]
  public static func defaultSolver(resolution: Int, dimension: Int) -> SolverChoice {
    ellipticDefaultSolver(resolution: resolution, dimension: dimension)
  }
  public static let defaultSolverRule = "cholmod in 2D up to 64², amg-cg above and in 3D"
  public static let dimensions = [2, 3]
  public static let solutionVariable: String? = "solution"

  let resolution: Int
  let dimension: Int
  let values: [String: Double]
  let field: CosineRandomField
  let ones: [Double]

  public init(resolution: Int, dimension: Int, parameters: [String: Double]) throws {
    self.resolution = resolution
    self.dimension = dimension
    values = try Self.resolve(parameters)
    field = try CosineRandomField(
      shape: [Int](repeating: resolution, count: dimension), alpha: values["alpha"]!, tau: values["tau"]!,
      sigma: values["scale"]!)
    ones = [Double](repeating: 1, count: Int(pow(Double(resolution), Double(dimension))))
  }

  public func schema(config: GenerationConfig) throws -> DatasetSchema {
    let grid = try Darcy.grid(dimension: dimension, n: resolution)
    return DatasetSchema(
      title: "Poisson equation, \(resolution)^\(dimension) cells, \(config.samples) samples (PDEKit recipe 'poisson')",
      pde: "poisson", equation: "-Lap u = f",
      boundaryConditions: "u = 0 on the whole boundary of the unit \(dimension == 2 ? "square" : "cube")",
      discretization: "cell-centred finite volumes (5/7-point), \(resolution)^\(dimension) cells",
      solver: config.solverDescription, rtol: config.rtol, configJSON: try config.json(),
      axes: gridAxes(dimension: dimension, values: grid.axisCoordinates),
      variables: [
        DatasetVariable(
          name: "source", role: .input, axes: axisNames(dimension), longName: "source term f", units: "1"),
        DatasetVariable(
          name: "solution", role: .target, axes: axisNames(dimension), longName: "solution u", units: "1"),
      ])
  }

  public func makeSample(sampleSeed: UInt64) throws -> RecipeSample {
    let f = field.sample(seed: sampleSeed, index: 0).scalars
    let problem = try Darcy.discretize(dimension: dimension, n: resolution, coefficient: ones, source: f)
    return RecipeSample(
      inputs: ["source": f],
      system: LinearSystem(matrix: problem.matrix, rhs: problem.rhs, symmetricByConstruction: problem.isSymmetric),
      steps: 1)
  }

  public func targets(from solution: [Double], sample: RecipeSample) throws -> [String: [Double]] {
    ["solution": solution]
  }
}
