// Dataset recipes: how one sample of a PDE data set is drawn and turned into a linear system.
// A recipe is pure: sample i depends only on (seed, i) and the parameters, which is what makes
// `pdekit generate` deterministic under any thread count and resumable after a crash.
import Datasets
import Foundation
import Numerics

/// A numeric recipe parameter with its default and meaning (shown by `pdekit generate --list`).
public struct RecipeParameter: Sendable, Equatable {
  /// Name as used in `--param name=value` and config files.
  public var name: String
  /// Default value (from the literature the recipe follows).
  public var defaultValue: Double
  /// What it means, with units.
  public var help: String
  /// Allowed range (inclusive).
  public var range: ClosedRange<Double>

  public init(_ name: String, _ defaultValue: Double, _ help: String, range: ClosedRange<Double>) {
    self.name = name
    self.defaultValue = defaultValue
    self.help = help
    self.range = range
  }
}

/// One drawn sample: its input fields, the system to solve, and how to turn x into targets.
public struct RecipeSample: Sendable {
  /// Input fields by variable name, each on the recipe's grid (row-major, slowest axis first).
  public var inputs: [String: [Double]]
  /// The linear system(s) to solve. Most recipes have one; time steppers solve several in turn,
  /// each right-hand side built from the previous solution by `nextSystem`.
  public var system: LinearSystem
  /// Number of systems solved in sequence for this sample (time steps), ≥ 1.
  public var steps: Int
  /// Steps (1…`steps`) after which the solution is kept for `targets(from:recorded:sample:)`,
  /// e.g. every 10th step of a heat-equation trajectory; empty when only the final solution matters.
  public var recordedSteps: [Int]

  public init(inputs: [String: [Double]], system: LinearSystem, steps: Int, recordedSteps: [Int] = []) {
    self.inputs = inputs
    self.system = system
    self.steps = steps
    self.recordedSteps = recordedSteps
  }
}

/// What every recipe tells `pdekit generate`: its name, parameters, supported grids and the
/// dataset schema. The two kinds of recipe refine it: `DatasetRecipe` (each sample is a sequence
/// of sparse linear systems solved by the generator's `--solver`) and `SampleRecipe` (the recipe
/// integrates each sample with its own solver, e.g. a pseudo-spectral time stepper).
public protocol GenerationRecipe: Sendable {
  /// Recipe name on the command line, e.g. "darcy".
  static var name: String { get }
  /// One paragraph on what the recipe generates and where its defaults come from.
  static var summary: String { get }
  /// Numeric parameters with defaults.
  static var parameters: [RecipeParameter] { get }
  /// One line on the solver: how the default linear solver is chosen, or which time stepper the
  /// recipe uses (shown by `--list`).
  static var defaultSolverRule: String { get }
  /// Supported spatial dimensions (1, 2 and/or 3).
  static var dimensions: [Int] { get }

  /// Prepares the recipe for a resolution (cells or points per axis of the stored grid) and dimension.
  init(resolution: Int, dimension: Int, parameters: [String: Double]) throws

  /// The dataset schema: axes, input/target variables and descriptive strings.
  func schema(config: GenerationConfig) throws -> DatasetSchema
}

/// A family of PDE samples: inputs drawn at random, a linear system per sample, targets from x.
public protocol DatasetRecipe: GenerationRecipe {
  /// The default solver for a grid (see `SolverChoice`), chosen from measurements in bench/RESULTS.md.
  static func defaultSolver(resolution: Int, dimension: Int) -> SolverChoice

  /// The target variable that stores the solution x of the sample's (single) linear system entry
  /// for entry, so that a prediction of it is an initial guess (`--warm-start`); nil (the
  /// default) when the targets are something else (a trajectory, a derived field).
  static var solutionVariable: String? { get }

  /// Draws sample inputs from the per-sample seed and builds its first linear system.
  func makeSample(sampleSeed: UInt64) throws -> RecipeSample

  /// For multi-step samples: the system of step `step` (≥ 1) given the previous solution.
  func nextSystem(after solution: [Double], step: Int, sample: RecipeSample) throws -> LinearSystem

  /// Target fields from the final solution.
  func targets(from solution: [Double], sample: RecipeSample) throws -> [String: [Double]]

  /// Target fields from the final solution and the solutions after `sample.recordedSteps` (in
  /// that order). The default ignores the recorded ones and calls `targets(from:sample:)`.
  func targets(from solution: [Double], recorded: [[Double]], sample: RecipeSample) throws -> [String: [Double]]
}

/// One sample produced by a `SampleRecipe`: every input and target field, and the work done.
public struct GeneratedSample: Sendable {
  /// Input and target fields by variable name, each flattened in the variable's axis order
  /// (row-major, e.g. time slowest, then y, then x).
  public var fields: [String: [Double]]
  /// Time steps taken (stored in `solver_iterations`).
  public var steps: Int
  /// Wall-clock seconds of the integration, and the part of them spent in FFTs.
  public var seconds: Double
  public var fftSeconds: Double

  public init(fields: [String: [Double]], steps: Int, seconds: Double, fftSeconds: Double = 0) {
    self.fields = fields
    self.steps = steps
    self.seconds = seconds
    self.fftSeconds = fftSeconds
  }
}

/// A recipe that integrates each sample with its own solver instead of handing linear systems to
/// the generator's `--solver` (the pseudo-spectral Burgers and Navier–Stokes recipes). `generate`
/// must be pure — its result depends only on the seed and the recipe's parameters — and
/// thread-safe, which keeps `pdekit generate` deterministic and resumable as for `DatasetRecipe`.
public protocol SampleRecipe: GenerationRecipe {
  /// Draws the sample's inputs from `sampleSeed` and integrates it.
  func generate(sampleSeed: UInt64) throws -> GeneratedSample
}

/// The `solver_*` diagnostic descriptions of a `SampleRecipe`'s files: the step count goes into
/// `solver_iterations`, and there is no linear-solver residual.
public let timeStepperDiagnostics: [String: String] = [
  DiagnosticVariables.iterations: "time steps taken by the recipe's time stepper",
  DiagnosticVariables.residual: "not applicable (no linear solve; always 0)",
  DiagnosticVariables.seconds: "wall-clock time of the time integration",
]

/// The elliptic recipes' default: CHOLMOD while its fill-in is cheap (2D up to 64²), smoothed-
/// aggregation AMG-CG beyond (bench/RESULTS.md: pdekit generate darcy, 200 samples, 2 threads: AMG-CG
/// 3.1 s vs CHOLMOD 4.9 s at 128², 13.7 s vs 20.8 s at 256²; per solve 1.4–3× faster
/// at 256²–512² and 65× at 64³; CHOLMOD wins at 64²: 0.65 s vs 0.81 s).
func ellipticDefaultSolver(resolution: Int, dimension: Int, directUpTo: Int = 64) -> SolverChoice {
  dimension == 2 && resolution <= directUpTo ? .cholmod : .amgCG
}

extension DatasetRecipe {
  public static var solutionVariable: String? { nil }

  public func nextSystem(after solution: [Double], step: Int, sample: RecipeSample) throws -> LinearSystem {
    sample.system
  }

  public func targets(from solution: [Double], recorded: [[Double]], sample: RecipeSample) throws -> [String: [Double]]
  {
    try targets(from: solution, sample: sample)
  }
}

extension GenerationRecipe {
  /// Merges user parameters over the defaults; throws for an unknown name or a value out of range.
  public static func resolve(_ given: [String: Double]) throws -> [String: Double] {
    var values = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.defaultValue) })
    for (k, v) in given {
      guard let p = parameters.first(where: { $0.name == k }) else {
        throw GenerationError.unknownParameter(
          recipe: name, parameter: k, known: parameters.map(\.name))
      }
      guard p.range.contains(v), v.isFinite else {
        throw GenerationError.invalidParameter(
          "\(name): \(k) = \(v) is outside \(p.range.lowerBound)…\(p.range.upperBound)")
      }
      values[k] = v
    }
    return values
  }
}

/// All recipes `pdekit generate` knows, by name.
public enum RecipeRegistry {
  /// Names of the recipes that support `--warm-start` (their target is the solution vector).
  public static var warmStartRecipes: [String] {
    all.compactMap { ($0 as? any DatasetRecipe.Type)?.solutionVariable != nil ? $0.name : nil }
  }

  /// The recipe types in display order.
  public static let all: [any GenerationRecipe.Type] = [
    DarcyRecipe.self, PoissonRecipe.self, ThermalRecipe.self, HelmholtzRecipe.self, HeatRecipe.self,
    BurgersRecipe.self, NavierStokesRecipe.self,
  ]

  /// The recipe named `name`, or an error listing the known ones.
  public static func recipe(named name: String) throws -> any GenerationRecipe.Type {
    guard let r = all.first(where: { $0.name == name }) else {
      throw GenerationError.unknownRecipe(name, known: all.map { $0.name })
    }
    return r
  }

  /// The text of `pdekit generate --list`.
  public static func listing() -> String {
    var lines: [String] = []
    for r in all {
      lines.append(
        "\(r.name)  (dimensions \(r.dimensions.map(String.init).joined(separator: ", ")); \(r is any SampleRecipe.Type ? "solver" : "default solver"): \(r.defaultSolverRule))"
      )
      lines.append("  " + r.summary)
      for p in r.parameters {
        lines.append("    \(p.name) = \(p.defaultValue)  \(p.help)  [\(p.range.lowerBound) … \(p.range.upperBound)]")
      }
      lines.append("")
    }
    return lines.joined(separator: "\n")
  }
}

/// Per-sample seed derived from the run seed and the sample index (SplitMix64 finalizer), so that a
/// sample can be regenerated from its stored `sample_seed` alone.
public func sampleSeed(runSeed: UInt64, index: Int) -> UInt64 {
  func mix(_ z0: UInt64) -> UInt64 {
    var z = z0 &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  return mix(runSeed ^ mix(UInt64(index)))
}

/// Cell-centred coordinate axes named z, y, x (slowest first) for a d-dimensional grid.
func gridAxes(dimension: Int, values: [Double]) -> [DatasetAxis] {
  let names = ["z", "y", "x"].suffix(dimension)
  return names.map {
    DatasetAxis(name: $0, values: values, units: "1", longName: "\($0) coordinate on the unit domain")
  }
}

/// Axis names slowest first for a d-dimensional grid.
func axisNames(_ dimension: Int) -> [String] { Array(["z", "y", "x"].suffix(dimension)) }
