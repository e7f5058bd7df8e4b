// Helmholtz with a random wave speed — the SKR paper's "Helmholtz" family made a genuine wave
// problem (shared/REFERENCES.md: SKR's own matrices shift the diagonal by at most ~1e-4, so they
// are not indefinite). Here −Δu − k(x)²u = f on the unit square or cube with the first-order
// absorbing (impedance) condition ∂u/∂n − iku = 0, k(x) = 2π·frequency/c(x),
// c = c0·(1 + contrast·tanh(μ)), μ a Neumann GRF (Sources/Numerics/CosineRandomField.swift, 2D or
// 3D), f a normalized Gaussian point-like source at the centre. With the default frequency the
// domain holds several wavelengths, so the operator is indefinite and complex (solved in the real
// 2×2 block form, see Solvers/Problems/Helmholtz.swift).
import Datasets
import Foundation
import Numerics

/// `pdekit generate helmholtz`: input wave speed c, targets Re u and Im u.
public struct HelmholtzRecipe: DatasetRecipe {
  public static let name = "helmholtz"
  public static let summary =
    "Helmholtz -Lap u - k(x)^2 u = f on the unit square (--dimension 2) or cube (--dimension 3) with the absorbing boundary du/dn - i k u = 0; k = 2 pi frequency / c, c = c0 (1 + contrast tanh(GRF)), f a Gaussian source at the centre. Input: wave speed c; targets: real and imaginary parts of u. Second-order finite differences on nodes, real 2x2 block form (indefinite, nonsymmetric)."
  public static let parameters = [
    RecipeParameter("frequency", 4, "frequency (wavelengths per unit length at c = 1)", range: 0.01...1000),
    RecipeParameter("c0", 1, "mean wave speed", range: 1e-6...1e6),
    RecipeParameter("contrast", 0.3, "relative wave-speed variation (0 ≤ contrast < 1)", range: 0...0.99),
    RecipeParameter("alpha", 2, "wave-speed GRF smoothness exponent α", range: 0.5...10),
    RecipeParameter("tau", 3, "wave-speed GRF inverse length scale τ", range: 0...100),
    RecipeParameter("source_width", 0.02, "standard deviation of the Gaussian source", range: 1e-4...1),
    RecipeParameter(
      "min_points_per_wavelength", 6, "refuse grids coarser than this at the shortest wavelength", range: 2...1000),
  ]
  /// UMFPACK in 2D and 3D. The default frequency 4 defeats GMRES and GCRO-DR with ILU(0) (2D
  /// 64²: no convergence in 10,000 iterations; 3D 32³ at frequency 2: GCRO-DR(40,20)+ILU(0) stalls
  /// at ‖r‖/‖b‖ ≈ 3e-2), and the default solver cannot depend on the frequency. At low frequency
  /// in 3D, `--solver gcrodr` is the faster choice (bench/RESULTS.md, "3D Helmholtz": frequency
  /// 1.5, 10 samples, GCRO-DR(40,20)+ILU(0) 2.7–7.7× faster than complex UMFPACK with METIS at 32³
  /// nodes and ≥ 1.6× at 48³; the generator's `umfpack` factors the real block form with AMD,
  /// which was slower still: 6.9× behind complex UMFPACK at 32³).
  public static func defaultSolver(resolution: Int, dimension: Int) -> SolverChoice { .umfpack }
  public static let defaultSolverRule =
    "umfpack (at the default frequency 4 GMRES/GCRO-DR+ILU(0) do not converge); in 3D at frequency <= 1.5, --solver gcrodr is faster (bench/RESULTS.md)"
  public static let dimensions = [2, 3]

  let resolution: Int
  let dimension: Int
  let values: [String: Double]
  let field: CosineRandomField
  let source: [Double]

  public init(resolution: Int, dimension: Int, parameters: [String: Double]) throws {
    guard Self.dimensions.contains(dimension) else {
      throw GenerationError.invalidParameter(
        "helmholtz supports --dimension 2 or 3 (asked for \(dimension)); use --dimension 2 or --dimension 3")
    }
    guard resolution >= 3 else {
      throw GenerationError.invalidParameter(
        "helmholtz needs at least 3 nodes per axis (asked for --resolution \(resolution)); use --resolution 3 or more")
    }
    self.resolution = resolution
    self.dimension = dimension
    values = try Self.resolve(parameters)
    let shortest = values["c0"]! * (1 - values["contrast"]!) / values["frequency"]!
    let h = 1 / Double(resolution - 1)
    let needed = values["min_points_per_wavelength"]!
    guard shortest / h >= needed else {
      let minimum = Int((needed / shortest).rounded(.up)) + 1
      throw GenerationError.invalidParameter(
        "helmholtz: \(String(format: "%.1f", shortest / h)) points per shortest wavelength at resolution \(resolution); use --resolution \(minimum) or more (or lower frequency)"
      )
    }
    field = try CosineRandomField(
      shape: [Int](repeating: resolution, count: dimension), alpha: values["alpha"]!, tau: values["tau"]!)
    let grid = try Helmholtz.grid(dimension: dimension, n: resolution)
    // Normalized d-dimensional Gaussian: exp(−r²/2w²) / (2πw²)^(d/2).
    let w = values["source_width"]!
    let scale = 1 / pow(2 * Double.pi * w * w, Double(dimension) / 2)
    source = grid.sample { p in
      let r2 = p.reduce(0) { $0 + ($1 - 0.5) * ($1 - 0.5) }
      return scale * exp(-r2 / (2 * w * w))
    }
  }

  public func schema(config: GenerationConfig) throws -> DatasetSchema {
    let grid = try Helmholtz.grid(dimension: dimension, n: resolution)
    let axes = axisNames(dimension)
    return DatasetSchema(
      title:
        "Helmholtz with random wave speed, \(resolution)^\(dimension) nodes, \(config.samples) samples (PDEKit recipe 'helmholtz')",
      pde: "helmholtz", equation: "-Lap u - k^2 u = f, k = 2 pi \(values["frequency"]!) / c",
      boundaryConditions: "first-order absorbing (impedance) boundary du/dn - i k u = 0 on all "
        + (dimension == 2 ? "sides" : "faces"),
      discretization:
        "second-order finite differences on \(resolution)^\(dimension) nodes including the boundary; real 2x2 block form",
      solver: config.solverDescription, rtol: config.rtol, configJSON: try config.json(),
      axes: gridAxes(dimension: dimension, values: grid.axisCoordinates),
      variables: [
        DatasetVariable(name: "wavespeed", role: .input, axes: axes, longName: "wave speed c", units: "1"),
        DatasetVariable(
          name: "real_part", role: .target, axes: axes, longName: "real part of the wave field u", units: "1"),
        DatasetVariable(
          name: "imaginary_part", role: .target, axes: axes, longName: "imaginary part of the wave field u",
          units: "1"),
      ])
  }

  public func makeSample(sampleSeed: UInt64) throws -> RecipeSample {
    let (c, problem) = try makeProblem(sampleSeed: sampleSeed)
    return RecipeSample(
      inputs: ["wavespeed": c], system: LinearSystem(matrix: problem.matrix, rhs: problem.rhs), steps: 1)
  }

  /// The wave speed c of sample `sampleSeed` and its discretization, including the complex form
  /// (`problem.complexSystem`) for complex solvers such as `ComplexUmfpackLU`.
  public func makeProblem(sampleSeed: UInt64) throws -> (wavespeed: [Double], problem: DiscreteProblem) {
    let mu = field.sample(seed: sampleSeed, index: 0).scalars
    let (c0, contrast, freq) = (values["c0"]!, values["contrast"]!, values["frequency"]!)
    let c = mu.map { c0 * (1 + contrast * tanh($0)) }
    let k = c.map { 2 * Double.pi * freq / $0 }
    return (c, try Helmholtz.discretize(dimension: dimension, n: resolution, wavenumber: k, source: source))
  }

  public func targets(from solution: [Double], sample: RecipeSample) throws -> [String: [Double]] {
    let n = solution.count / 2
    return ["real_part": Array(solution[..<n]), "imaginary_part": Array(solution[n...])]
  }
}
