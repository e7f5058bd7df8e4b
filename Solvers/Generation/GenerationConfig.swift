// The configuration of a `pdekit generate` run: everything that determines the data, stored as
// JSON in the file's `pdekit_config` attribute so the file can be regenerated bit for bit and a
// resumed run can prove it continues the same job.
import Foundation
import Numerics

/// Linear solvers a recipe can use, by command-line name.
public enum SolverChoice: String, Sendable, Codable, CaseIterable {
  case cholmod
  case umfpack
  case amgCG = "amg-cg"
  case ic0CG = "ic0-cg"
  case jacobiCG = "jacobi-cg"
  case cg
  case gmresILU0 = "gmres-ilu0"
  case gmresAMG = "gmres-amg"
  case bicgstabILU0 = "bicgstab-ilu0"
  /// GCRO-DR(40, 20) + ILU(0), recycling its subspace from sample to sample (in `--ordering` order)
  /// with a warm start from the previous sample.
  case gcrodr
  /// Deflated CG (k = 10) + IC(0), recycling harvested Ritz vectors from sample to sample.
  case recycledCG = "recycled-cg"

  /// Whether the solver carries a recycled Krylov subspace from one sample to the next.
  public var isRecycling: Bool { self == .gcrodr || self == .recycledCG }

  /// The `LinearSolver` algorithm behind the name (for recycling solvers: the method each solve uses).
  public var algorithm: LinearSolverAlgorithm {
    switch self {
    case .gcrodr: return .gmres(restart: 40, preconditioner: .ilu0)
    case .recycledCG: return .cg(preconditioner: .ic0)
    case .cholmod: return .cholmod
    case .umfpack: return .umfpack
    case .amgCG: return .cg(preconditioner: .amg)
    case .ic0CG: return .cg(preconditioner: .ic0)
    case .jacobiCG: return .cg(preconditioner: .jacobi)
    case .cg: return .cg(preconditioner: .none)
    case .gmresILU0: return .gmres(restart: 40, preconditioner: .ilu0)
    case .gmresAMG: return .gmres(restart: 40, preconditioner: .amg)
    case .bicgstabILU0: return .bicgstab(preconditioner: .ilu0)
    }
  }

  /// Whether the method is a direct factorization.
  public var isDirect: Bool { self == .cholmod || self == .umfpack }
}

/// Everything that determines the generated data. Encoded with sorted keys.
public struct GenerationConfig: Codable, Equatable, Sendable {
  /// Recipe name.
  public var recipe: String
  /// Number of samples.
  public var samples: Int
  /// Cells (or nodes) per axis.
  public var resolution: Int
  /// Spatial dimension.
  public var dimension: Int
  /// Run seed; sample i uses `sampleSeed(runSeed: seed, index: i)`.
  public var seed: UInt64
  /// Linear solver; nil for recipes that integrate with their own time stepper (`SampleRecipe`).
  public var solver: SolverChoice?
  /// Relative tolerance of iterative solvers (direct solvers ignore it).
  public var rtol: Double
  /// Recipe parameters, defaults filled in.
  public var parameters: [String: Double]
  /// PDEKit version that wrote the file.
  public var generator: String
  /// Order in which the recycling solvers visit the samples of a batch: "identity", "greedy"
  /// (SKR's nearest-neighbour chain over the input fields) or "hilbert" (PCA + Hilbert curve).
  /// Nil (and absent from older files) means identity.
  public var ordering: String?
  /// Initial guesses from a surrogate (`--warm-start`); nil (absent from older files) means every
  /// solve starts from zero (or, for the recycling solvers, from the previous sample's solution).
  public var warmStart: WarmStartSettings?

  public init(
    recipe: String, samples: Int, resolution: Int, dimension: Int = 2, seed: UInt64 = 0, solver: SolverChoice? = nil,
    rtol: Double = 1e-10, parameters: [String: Double] = [:], ordering: String? = nil,
    warmStart: WarmStartSettings? = nil
  ) throws {
    let r = try RecipeRegistry.recipe(named: recipe)
    guard samples >= 1 else { throw GenerationError.invalidParameter("--samples must be at least 1, got \(samples)") }
    guard resolution >= 4 && resolution <= 8192 else {
      throw GenerationError.invalidParameter("--resolution must be between 4 and 8192, got \(resolution)")
    }
    guard r.dimensions.contains(dimension) else {
      throw GenerationError.invalidParameter(
        "\(recipe) supports dimension \(r.dimensions.map(String.init).joined(separator: " or ")), not \(dimension)")
    }
    guard rtol > 0 && rtol < 1 else { throw GenerationError.invalidParameter("--rtol must lie in (0, 1), got \(rtol)") }
    self.recipe = recipe
    self.samples = samples
    self.resolution = resolution
    self.dimension = dimension
    self.seed = seed
    if let linear = r as? any DatasetRecipe.Type {
      var chosen = solver ?? linear.defaultSolver(resolution: resolution, dimension: dimension)
      if let w = warmStart {
        guard linear.solutionVariable != nil else {
          throw GenerationError.invalidParameter(
            "--warm-start needs a recipe whose target is the solution vector itself (\(RecipeRegistry.warmStartRecipes.joined(separator: ", "))); \(recipe) is not one"
          )
        }
        if chosen.isDirect {
          // A factorization ignores x0; an unspecified solver becomes the iterative default.
          guard solver == nil else {
            throw GenerationError.invalidParameter(
              "--warm-start gives iterative solvers an initial guess; \(chosen.rawValue) is a direct solver. Use an iterative --solver such as amg-cg, ic0-cg, recycled-cg or gcrodr"
            )
          }
          chosen = .amgCG
        }
        try w.validate(samples: samples)
      }
      self.solver = chosen
    } else {
      guard solver == nil, ordering == nil, warmStart == nil else {
        throw GenerationError.invalidParameter(
          "\(recipe) integrates with its own time stepper (\(r.defaultSolverRule)); --solver, --ordering and --warm-start apply only to the sparse-system recipes"
        )
      }
      self.solver = nil
    }
    self.rtol = rtol
    self.parameters = try r.resolve(parameters)
    generator = PDEKitVersion.generator
    if let o = ordering, !["identity", "greedy", "hilbert"].contains(o) {
      throw GenerationError.invalidParameter("--ordering must be identity, greedy or hilbert, got '\(o)'")
    }
    self.ordering = ordering ?? (self.solver?.isRecycling == true ? "greedy" : nil)
    self.warmStart = warmStart
  }

  /// Sorted-key JSON text (what goes into `pdekit_config`).
  public func json() throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return String(decoding: try e.encode(self), as: UTF8.self)
  }

  /// Decodes a config from `pdekit_config` text.
  public static func decode(_ text: String) throws -> GenerationConfig {
    try JSONDecoder().decode(GenerationConfig.self, from: Data(text.utf8))
  }

  /// The names of the settings that differ from `other` (empty when identical), with both values.
  public func differences(from other: GenerationConfig) -> [String] {
    var d: [String] = []
    func cmp<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { d.append("\(name): \(b) → \(a)") } }
    cmp("recipe", recipe, other.recipe)
    cmp("samples", samples, other.samples)
    cmp("resolution", resolution, other.resolution)
    cmp("dimension", dimension, other.dimension)
    cmp("seed", seed, other.seed)
    cmp("solver", solver?.rawValue ?? "none", other.solver?.rawValue ?? "none")
    cmp("rtol", rtol, other.rtol)
    cmp("ordering", ordering ?? "identity", other.ordering ?? "identity")
    cmp("warm start", warmStart?.modelDescription ?? "none", other.warmStart?.modelDescription ?? "none")
    cmp(
      "warm-start retraining (--retrain-every, --retrain-epochs)", warmStart?.retrainingDescription ?? "none",
      other.warmStart?.retrainingDescription ?? "none")
    for k in Set(parameters.keys).union(other.parameters.keys).sorted() {
      cmp("parameter \(k)", parameters[k] ?? .nan, other.parameters[k] ?? .nan)
    }
    return d
  }

  /// The `solver` global attribute: method and tolerance.
  public var solverDescription: String {
    guard let solver else { return "the recipe's own time stepper (no linear solver)" }
    if let w = warmStart { return classicalSolverDescription(solver) + "; x0 = " + w.description }
    return classicalSolverDescription(solver)
  }

  private func classicalSolverDescription(_ solver: SolverChoice) -> String {
    if solver == .gcrodr {
      return
        "GCRO-DR(40, 20) + ILU(0), subspace recycled across samples in \(ordering ?? "identity") order, warm start, rtol \(rtol)"
    }
    if solver == .recycledCG {
      return
        "deflated CG (k = 10) + IC(0), Ritz vectors recycled across samples in \(ordering ?? "identity") order, warm start, rtol \(rtol)"
    }
    return solver.isDirect
      ? "\(solver.rawValue) (direct, symbolic analysis reused across samples)" : "\(solver.algorithm), rtol \(rtol)"
  }
}

/// Errors from dataset generation. Messages say what was wrong and what to do.
public enum GenerationError: Error, CustomStringConvertible, LocalizedError, Equatable {
  case unknownRecipe(String, known: [String])
  case unknownParameter(recipe: String, parameter: String, known: [String])
  case invalidParameter(String)
  /// The output exists and neither --resume nor --overwrite was given.
  case outputExists(String)
  /// --resume found a run with a different configuration.
  case configMismatch(path: String, differences: [String])
  /// A sample's solve failed.
  case sampleFailed(index: Int, reason: String)
  /// The output location cannot be written.
  case unwritable(String)
  /// Test hook: the run was aborted on purpose after some batches (simulated crash).
  case simulatedCrash(afterSamples: Int)

  public var description: String {
    switch self {
    case .unknownRecipe(let r, let known):
      return "unknown recipe '\(r)'; known recipes: \(known.joined(separator: ", ")) (see `pdekit generate --list`)"
    case .unknownParameter(let recipe, let p, let known):
      return "recipe \(recipe) has no parameter '\(p)'; its parameters are \(known.joined(separator: ", "))"
    case .invalidParameter(let s): return s
    case .outputExists(let p):
      return "\(p) already exists; pass --resume to finish an interrupted run or --overwrite to replace it"
    case .configMismatch(let p, let d):
      return
        "\(p) was made with a different configuration (\(d.joined(separator: "; "))); use the original settings with --resume, or --overwrite to start over"
    case .sampleFailed(let i, let r): return "sample \(i) failed: \(r)"
    case .unwritable(let s): return s
    case .simulatedCrash(let n): return "simulated crash after \(n) samples (test hook)"
    }
  }
  public var errorDescription: String? { description }
}
