// A neural operator as an approximate inverse of A inside flexible CG: z = N(a, r) ≈ A(a)⁻¹ r,
// where a is the PDE coefficient of the system and r the current residual. The network is an
// FNO trained on pairs (r, A⁻¹r) of the training systems with random residuals (targets from a
// CHOLMOD solve), as the deep conjugate direction method trains on residual targets (Kaneda et
// al., "A Deep Conjugate Direction Method for Iteratively Solving Linear Systems", ICML 2023; see
// also Li et al., "Learning Preconditioner for Conjugate Gradient PDE Solvers", ICML 2023, who
// weight the loss by the residual instead). A⁻¹ is linear, so the residual is scaled to unit RMS
// before the network and the output scaled back: z(c·r) = c·z(r).
//
// The network is not a fixed SPD operator, so it must run inside `FlexibleCG` (Notay 2000), whose
// A-orthogonalization against the last directions and fallback to a classical preconditioner
// (when a direction does not reduce the A-norm error) keep the iteration convergent.
import Datasets
import Dispatch
import Foundation
import Numerics
import Operators
import Solvers

/// An FNO approximating A⁻¹r for the Darcy-type operator −∇·(a∇u), used as FCG's preconditioner.
///
/// ```swift
/// let model = try NeuralPreconditioner.train(coefficients: a, matrices: m, gridShape: [32, 32])
/// let pc = try NeuralPreconditioner(model, coefficient: aNew, gridShape: [32, 32])
/// let stats = FlexibleCG(dimension: n).solve(matrix, b, &x, preconditioner: pc, fallback: ic0)
/// ```
public final class NeuralPreconditioner: Preconditioner {
  public let name = "fno"
  public let dimension: Int
  /// Not SPD: use it in `FlexibleCG` or `FGMRES`.
  public var isSymmetric: Bool { false }
  /// The coefficient field of the system being solved (set with ``update(coefficient:)``).
  public private(set) var coefficient: [Float]
  let gridShape: [Int]
  let forward: (NDArray<Float>) -> NDArray<Float>

  /// Wraps a checkpoint made by ``train(coefficients:matrices:gridShape:residualsPerSystem:epochs:width:modes:seed:)``
  /// for the system with PDE coefficient `coefficient` (flattened as the grid).
  public init(_ checkpoint: OperatorCheckpoint, coefficient: [Double], gridShape: [Int]) throws {
    let n = gridShape.reduce(1, *)
    guard coefficient.count == n else {
      throw OperatorsError.invalidArgument(
        "the coefficient has \(coefficient.count) values; the grid \(gridShape) has \(n)")
    }
    let fno: FNO<Float> = try checkpoint.model()
    guard fno.inputChannels == 2, fno.outputChannels == 1, fno.spatialDimensions == gridShape.count else {
      throw OperatorsError.invalidArgument(
        "a neural preconditioner maps (coefficient, residual) to a correction; this \(fno.inputChannels) → \(fno.outputChannels) model does not"
      )
    }
    dimension = n
    self.gridShape = gridShape
    self.coefficient = coefficient.map(Float.init)
    forward = { checkpoint.predict(with: fno, inputs: $0) }
  }

  /// Switches to the system with PDE coefficient `coefficient` (the next sample).
  public func update(coefficient: [Double]) throws {
    guard coefficient.count == dimension else {
      throw OperatorsError.invalidArgument("the coefficient has \(coefficient.count) values, not \(dimension)")
    }
    self.coefficient = coefficient.map(Float.init)
  }

  /// The network reads the coefficient, not the matrix: call ``update(coefficient:)`` instead.
  public func update(_ matrix: CSRMatrix<Double>) throws {
    throw SolverSetupError.preconditionerBreakdown(
      "a neural preconditioner is refreshed from the PDE coefficient: call update(coefficient:)")
  }

  public func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
    let n = dimension
    var sumSquares = 0.0
    for i in 0..<n { sumSquares += r[i] * r[i] }
    let s = (sumSquares / Double(n)).squareRoot()
    guard s > 0, s.isFinite else {
      for i in 0..<n { z[i] = 0 }
      return
    }
    var x = NDArray<Float>(shape: [1, 2] + gridShape, repeating: 0)
    x.withUnsafeMutableBufferPointer { p in
      for i in 0..<n {
        p[i] = coefficient[i]
        p[n + i] = Float(r[i] / s)
      }
    }
    let y = forward(x)
    y.withUnsafeBufferPointer { q in for i in 0..<n { z[i] = Double(q[i]) * s } }
  }

  /// Trains the FNO on the systems `matrices` (SPD, with PDE coefficients `coefficients` on the
  /// grid `gridShape`): for each, `residualsPerSystem` white-noise residuals r (unit RMS, Philox
  /// seeded) and their targets A⁻¹r from CHOLMOD; relative L2 loss, Adam 5e-3, FFTW plans by
  /// estimate (repeatable). Returns an inference checkpoint.
  public static func train(
    coefficients: [[Double]], matrices: [CSRMatrix<Double>], gridShape: [Int], residualsPerSystem: Int = 8,
    epochs: Int = 30, width: Int = 16, modes: Int = 8, seed: UInt64 = 0
  ) throws -> OperatorCheckpoint {
    let n = gridShape.reduce(1, *)
    guard coefficients.count == matrices.count, !matrices.isEmpty,
      matrices.allSatisfy({ $0.rows == n }), coefficients.allSatisfy({ $0.count == n })
    else {
      throw OperatorsError.invalidArgument("need one coefficient field and one \(n)×\(n) matrix per training system")
    }
    let previousRigor = FFT.defaultRigor
    FFT.defaultRigor = .estimate
    defer { FFT.defaultRigor = previousRigor }
    let names = ["z", "y", "x"].suffix(gridShape.count)
    let axes = zip(names, gridShape).map { name, m in
      DatasetAxis(name: name, values: (0..<m).map { (Double($0) + 0.5) / Double(m) })
    }
    let schema = DatasetSchema(
      title: "residual → correction pairs for a neural preconditioner", pde: "darcy", equation: "A(a) e = r",
      boundaryConditions: "as the training systems", discretization: "as the training systems",
      solver: "cholmod", rtol: 0, configJSON: "{}", axes: axes,
      variables: [
        DatasetVariable(name: "coefficient", role: .input, axes: Array(names), longName: "PDE coefficient a"),
        DatasetVariable(name: "residual", role: .input, axes: Array(names), longName: "residual r (unit RMS)"),
        DatasetVariable(name: "correction", role: .target, axes: Array(names), longName: "A^-1 r"),
      ])
    let file = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pdekit-neural-pc-\(UUID().uuidString).nc")
    defer { try? FileManager.default.removeItem(at: file) }
    let writer = try DatasetWriter.create(at: file, schema: schema)
    var rng = PhiloxRandom(seed: seed, stream: 0x7063)
    let direct = DirectSolverWorkspace(kind: .cholmod)
    for (a, matrix) in zip(coefficients, matrices) {
      try direct.factor(matrix)
      for _ in 0..<residualsPerSystem {
        var r = [Double](repeating: 0, count: n)
        r.withUnsafeMutableBufferPointer { rng.fillGaussian($0) }
        let e = try direct.solve(r)
        func field(_ v: [Double]) -> NDArray<Float> {
          NDArray(shape: gridShape) { p in for i in 0..<n { p[i] = Float(v[i]) } }
        }
        try writer.append(
          ["coefficient": field(a), "residual": field(r), "correction": field(e)],
          diagnostics: SampleDiagnostics(seed: seed, iterations: 0, relativeResidual: 0, solveSeconds: 0))
      }
    }
    try writer.close()
    let data = try FieldDataset(url: file, inputs: ["coefficient", "residual"], targets: ["correction"])
    let config = FNOConfiguration(
      inChannels: 2, outChannels: 1, hiddenChannels: width, modes: gridShape.map { min(modes, $0) })
    var trainer = try Trainer(
      model: FNO<Float>(config, seed: seed),
      configuration: TrainingConfiguration(
        epochs: epochs, batchSize: min(20, max(1, data.count / 4)), learningRate: 5e-3, seed: seed),
      train: data, test: nil)
    try trainer.fit()
    let full = trainer.checkpoint()
    return OperatorCheckpoint(
      model: trainer.model, inputNormalizer: full.inputNormalizer, targetNormalizer: full.targetNormalizer,
      trainingState: full.trainingState)
  }
}
