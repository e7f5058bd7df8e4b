// The PDEKit dataset schema (DESIGN.md, "Dataset schema"): NetCDF-4/HDF5, CF-1.10.
import Foundation
import Numerics

/// What a data variable is to a model (`pdekit_role` attribute): an input, a prediction target
/// (ground truth), or a model's prediction (files written by `pdekit predict`).
public enum VariableRole: String, Sendable, Codable, CaseIterable {
  case input, target, prediction
}

/// A grid axis (or the time axis) of a dataset: a dimension plus its coordinate variable.
public struct DatasetAxis: Sendable, Equatable {
  /// Dimension and coordinate-variable name: "x", "y", "z" or "time" by convention.
  public var name: String
  /// Coordinate values (stored as double).
  public var values: [Double]
  /// CF `units` of the coordinate ("1" for the nondimensional unit square).
  public var units: String
  /// CF `long_name`.
  public var longName: String

  /// An axis with explicit coordinate values.
  public init(name: String, values: [Double], units: String = "1", longName: String? = nil) {
    self.name = name
    self.values = values
    self.units = units
    self.longName = longName ?? "\(name) coordinate"
  }

  /// `n` cell-centred points (i + ½)/n on the unit interval.
  public static func cellCentred(_ name: String, count n: Int) -> DatasetAxis {
    DatasetAxis(name: name, values: (0..<n).map { (Double($0) + 0.5) / Double(n) }, longName: "\(name) (cell centre)")
  }

  /// `n` periodic grid points i/n on the unit interval.
  public static func periodic(_ name: String, count n: Int) -> DatasetAxis {
    DatasetAxis(name: name, values: (0..<n).map { Double($0) / Double(n) }, longName: "\(name) (periodic grid)")
  }
}

/// A float32 data variable shaped (sample, axes...).
public struct DatasetVariable: Sendable, Equatable {
  /// Variable name, e.g. "coefficient" or "solution".
  public var name: String
  /// Input or target.
  public var role: VariableRole
  /// Axis names after `sample`, slowest first, e.g. ["y", "x"] or ["time", "y", "x"].
  public var axes: [String]
  /// CF `long_name`.
  public var longName: String
  /// CF `units`, nil where not meaningful.
  public var units: String?

  public init(name: String, role: VariableRole, axes: [String], longName: String, units: String? = nil) {
    self.name = name
    self.role = role
    self.axes = axes
    self.longName = longName
    self.units = units
  }
}

/// Per-sample solver diagnostics stored beside the data.
public struct SampleDiagnostics: Sendable, Equatable {
  /// The random seed (stream) that produced the sample's inputs.
  public var seed: UInt64
  /// Iterations the solver took (0 for a direct solver).
  public var iterations: Int32
  /// Final relative residual ‖b − Ax‖/‖b‖.
  public var relativeResidual: Double
  /// Wall-clock seconds of the solve.
  public var solveSeconds: Double
  /// Whether the solve started from a surrogate's prediction (`solver_warm_start`); nil in files
  /// that do not record it (runs without `--warm-start`).
  public var warmStarted: Bool?
  /// Which model's prediction started the solve (`solver_warm_start_round`): 0 for the model
  /// trained on the bootstrap samples (or the given checkpoint), r for the model after the r-th
  /// retraining, -1 for a cold start; nil in files that do not record it.
  public var warmStartRound: Int32?

  public init(
    seed: UInt64, iterations: Int32, relativeResidual: Double, solveSeconds: Double, warmStarted: Bool? = nil,
    warmStartRound: Int32? = nil
  ) {
    self.seed = seed
    self.iterations = iterations
    self.relativeResidual = relativeResidual
    self.solveSeconds = solveSeconds
    self.warmStarted = warmStarted
    self.warmStartRound = warmStartRound
  }
}

/// Everything needed to create a dataset file: axes, variables and the global attributes.
public struct DatasetSchema: Sendable, Equatable {
  /// CF `title`.
  public var title: String
  /// Short PDE name, e.g. "darcy".
  public var pde: String
  /// The equation in words/LaTeX-ish text, e.g. "-div(a grad u) = f".
  public var equation: String
  /// Boundary conditions in words.
  public var boundaryConditions: String
  /// Discretization in words.
  public var discretization: String
  /// Solver in words, with its options.
  public var solver: String
  /// Solver relative tolerance.
  public var rtol: Double
  /// The full generation config as JSON (enough to regenerate the file).
  public var configJSON: String
  /// Grid and time axes.
  public var axes: [DatasetAxis]
  /// Data variables.
  public var variables: [DatasetVariable]
  /// Deflate level (0 = none, 1 default, up to 9).
  public var deflateLevel: Int = 1
  /// Further global attributes (text), e.g. `pdekit_skipped_samples`. Must not repeat the
  /// standard ones above.
  public var extraAttributes: [String: String] = [:]
  /// Further global attributes stored as double, e.g. a time-dependent recipe's `time_step`,
  /// `solver_resolution` and `stored_resolution`. Names must not repeat any other attribute.
  public var numericAttributes: [String: Double] = [:]
  /// `long_name`s that replace the default descriptions of the per-sample diagnostic variables
  /// (keys from `DiagnosticVariables.names`), for generators whose "solver" is not a linear
  /// solver — e.g. a time stepper stores its step count in `solver_iterations`.
  public var diagnosticDescriptions: [String: String] = [:]
  /// Whether the file has the optional per-sample diagnostics `solver_warm_start` (byte, 1 when the
  /// sample's solve started from a surrogate's prediction of the solution, 0 when it started cold;
  /// CF `flag_values`/`flag_meanings`) and `solver_warm_start_round` (int, the retraining round of
  /// the model that made the prediction, -1 for a cold start). Set by `pdekit generate --warm-start`.
  public var recordsWarmStart = false

  public init(
    title: String, pde: String, equation: String, boundaryConditions: String, discretization: String,
    solver: String, rtol: Double, configJSON: String, axes: [DatasetAxis], variables: [DatasetVariable],
    deflateLevel: Int = 1
  ) {
    self.title = title
    self.pde = pde
    self.equation = equation
    self.boundaryConditions = boundaryConditions
    self.discretization = discretization
    self.solver = solver
    self.rtol = rtol
    self.configJSON = configJSON
    self.axes = axes
    self.variables = variables
    self.deflateLevel = deflateLevel
  }

  /// The per-sample shape of a variable (its axes' lengths).
  public func sampleShape(of variable: DatasetVariable) throws -> [Int] {
    try variable.axes.map { a in
      guard let ax = axes.first(where: { $0.name == a }) else {
        throw DatasetError.invalidArgument(
          "variable '\(variable.name)' uses axis '\(a)', which the schema does not define")
      }
      return ax.values.count
    }
  }

  /// Checks names, axes and roles; called by the writer before anything touches the disk.
  public func validate() throws {
    let reserved: Set<String> = Set(["sample"]).union(DiagnosticVariables.names).union(
      DiagnosticVariables.optionalNames)
    var seen = Set<String>()
    for a in axes {
      guard !a.name.isEmpty, !a.values.isEmpty else {
        throw DatasetError.invalidArgument("axis '\(a.name)' needs a name and at least one coordinate value")
      }
      guard seen.insert(a.name).inserted, !reserved.contains(a.name) else {
        throw DatasetError.invalidArgument("axis name '\(a.name)' is duplicated or reserved")
      }
    }
    for v in variables {
      guard seen.insert(v.name).inserted, !reserved.contains(v.name) else {
        throw DatasetError.invalidArgument("variable name '\(v.name)' is duplicated, reserved or clashes with an axis")
      }
      _ = try sampleShape(of: v)
    }
    guard variables.contains(where: { $0.role == .input }),
      variables.contains(where: { $0.role == .target || $0.role == .prediction })
    else {
      throw DatasetError.invalidArgument(
        "the schema needs at least one input variable and one target (or prediction) variable")
    }
    for name in diagnosticDescriptions.keys where !DiagnosticVariables.names.contains(name) {
      throw DatasetError.invalidArgument(
        "'\(name)' is not a diagnostic variable (\(DiagnosticVariables.names.sorted().joined(separator: ", ")))")
    }
    let standard: Set<String> = [
      "Conventions", "title", "pde", "equation", "boundary_conditions", "discretization", "solver", "rtol",
      "generator", "history", "pdekit_config",
    ]
    for name in numericAttributes.keys
    where name.isEmpty || standard.contains(name) || extraAttributes[name] != nil
      || !(numericAttributes[name]!.isFinite)
    {
      throw DatasetError.invalidArgument(
        "numeric attribute '\(name)' is empty, repeats another attribute or is not finite")
    }
    guard (0...9).contains(deflateLevel) else {
      throw DatasetError.invalidArgument("deflate level must be 0–9, got \(deflateLevel)")
    }
  }
}

/// Names of the per-sample diagnostic variables.
public enum DiagnosticVariables {
  public static let seed = "sample_seed"
  public static let iterations = "solver_iterations"
  public static let residual = "solver_relative_residual"
  public static let seconds = "solve_seconds"
  /// Optional: 1 where the solve started from a surrogate's prediction, 0 where it started cold
  /// (see `DatasetSchema.recordsWarmStart`).
  public static let warmStart = "solver_warm_start"
  /// Optional: the retraining round of the surrogate whose prediction started the solve (0: the
  /// model trained on the bootstrap samples or loaded from a checkpoint), -1 for a cold start.
  public static let warmStartRound = "solver_warm_start_round"
  /// The diagnostics every PDEKit file has.
  public static let names: Set<String> = [seed, iterations, residual, seconds]
  /// The diagnostics a file may have.
  public static let optionalNames: Set<String> = [warmStart, warmStartRound]
}
