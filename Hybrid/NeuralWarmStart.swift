// Neural warm start for sequences of linear solves: a neural operator trained on the first
// solved samples predicts the solution of each later sample, and the prediction is the Krylov
// method's initial guess x0. The stopping test stays ‖b − A x‖ ≤ rtol·‖b‖, so the guess only
// changes how many iterations are needed (an error ‖x0 − x‖ small relative to ‖x‖ removes the
// iterations that would have reduced the residual from ‖b‖ down to ‖b − A x0‖).
//
// The surrogate is the Fourier neural operator (Li et al., "Fourier Neural Operator for
// Parametric Partial Differential Equations", ICLR 2021) trained with Operators' `Trainer`. Using
// a learned prediction as the initial guess of an iterative solver follows the hybrid
// "surrogate + classical solver" idea of the issue's seeds (Kaneda et al., "A Deep Conjugate
// Direction Method for Iteratively Solving Linear Systems", ICML 2023, who start CG from learned
// directions; Li et al., "Learning Preconditioner for Conjugate Gradient PDE Solvers", ICML 2023).
import Datasets
import Dispatch
import Foundation
import Numerics
import Operators
import Solvers

/// An ``InitialGuessProvider`` that predicts the solution with a neural operator: an FNO trained
/// in-process on the bootstrap samples (``WarmStartSettings/checkpoint`` nil), or the model of an
/// existing PDEKit checkpoint.
///
/// ```swift
/// let warm = NeuralWarmStart(WarmStartSettings(bootstrap: 32, epochs: 20))
/// try warm.prepare(schema: schema, solutionVariable: "solution", bootstrap: bootstrapFile, state: stateFile)
/// let x0 = try warm.initialGuess(inputs: sample.inputs)       // one entry per unknown
/// ```
///
/// Training runs with FFTW plans made by estimate (not measurement), so the same bootstrap gives
/// the same weights in every run; the trained model is written atomically to the `state` file
/// given to `prepare`, and a resumed run reloads it. Predictions may be requested from several
/// threads at once (the forward pass records no tape).
public final class NeuralWarmStart: InitialGuessProvider, @unchecked Sendable {
  /// The settings the provider was made with.
  public let settings: WarmStartSettings
  /// Seconds spent training in `prepare` (0 when the model was loaded).
  public private(set) var trainingSeconds = 0.0
  /// The per-epoch records of the in-process training (empty when the model was loaded).
  public private(set) var trainingHistory: [EpochRecord] = []
  /// Whether `prepare` loaded the model from a file instead of training it.
  public private(set) var loadedFromFile = false

  private var ready: Predictor?

  /// The loaded model and how to feed it.
  private struct Predictor {
    let checkpoint: OperatorCheckpoint
    let inputNames: [String]
    let gridShape: [Int]
    let outputChannel: Int
    let forward: (NDArray<Float>) -> NDArray<Float>
  }

  /// A provider with the given settings; call `prepare` before asking for guesses.
  public init(_ settings: WarmStartSettings) {
    self.settings = settings
  }

  public func prepare(schema: DatasetSchema, solutionVariable: String, bootstrap: URL?, state: URL) throws {
    let inputs = schema.variables.filter { $0.role == .input }
    let targets = schema.variables.filter { $0.role == .target }
    guard let variable = schema.variables.first(where: { $0.name == solutionVariable }) else {
      throw OperatorsError.invalidArgument("the dataset has no variable '\(solutionVariable)' to predict")
    }
    let gridShape = try schema.sampleShape(of: variable)
    let checkpoint: OperatorCheckpoint
    if let path = settings.checkpoint {
      checkpoint = try OperatorCheckpoint.read(from: URL(fileURLWithPath: path))
      loadedFromFile = true
    } else if FileManager.default.fileExists(atPath: state.path) {
      checkpoint = try OperatorCheckpoint.read(from: state)
      loadedFromFile = true
    } else {
      guard let bootstrap else {
        throw OperatorsError.invalidArgument("--warm-start neural needs bootstrap samples to train on")
      }
      checkpoint = try train(on: bootstrap, gridShape: gridShape)
      try checkpoint.write(to: state)
    }
    ready = try checkpoint.withModel(
      Loader(
        checkpoint: checkpoint, expectedInputs: inputs.map(\.name), expectedTargets: targets.map(\.name),
        solutionVariable: solutionVariable, gridShape: gridShape, source: settings.checkpoint ?? state.path))
  }

  public func initialGuess(inputs: [String: [Double]]) throws -> [Double] {
    guard let p = ready else {
      throw OperatorsError.invalidArgument("NeuralWarmStart.initialGuess was called before prepare")
    }
    let points = p.gridShape.reduce(1, *)
    var x = NDArray<Float>(shape: [1, p.inputNames.count] + p.gridShape, repeating: 0)
    try x.withUnsafeMutableBufferPointer { dst in
      for (c, name) in p.inputNames.enumerated() {
        guard let field = inputs[name], field.count == points else {
          throw OperatorsError.invalidArgument(
            "the warm-start model needs input '\(name)' with \(points) values; the sample has \(inputs[name]?.count ?? 0)"
          )
        }
        for j in 0..<points { dst[c * points + j] = Float(field[j]) }
      }
    }
    let y = p.forward(x)
    return y.withUnsafeBufferPointer { src in
      (0..<points).map { Double(src[p.outputChannel * points + $0]) }
    }
  }

  /// Trains an FNO on every input → every target of the bootstrap file.
  private func train(on file: URL, gridShape: [Int]) throws -> OperatorCheckpoint {
    let t0 = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    let previousRigor = FFT.defaultRigor
    FFT.defaultRigor = .estimate
    defer { FFT.defaultRigor = previousRigor }
    let data = try FieldDataset(url: file)
    let modes = gridShape.map { min(settings.modes, $0) }
    let config = FNOConfiguration(
      inChannels: data.inputChannels, outChannels: data.targetChannels, hiddenChannels: settings.width, modes: modes,
      layers: settings.layers)
    let training = TrainingConfiguration(
      epochs: settings.epochs, batchSize: min(20, max(1, data.count / 4)), learningRate: settings.learningRate,
      loss: .h1, seed: settings.seed)
    var trainer = try Trainer(
      model: FNO<Float>(config, seed: settings.seed), configuration: training, train: data, test: nil)
    try trainer.fit()
    trainingHistory = trainer.history
    trainingSeconds = Double(DispatchTime.now().uptimeNanoseconds) / 1e9 - t0
    let full = trainer.checkpoint()
    // Inference checkpoint: model, normalizers and what it was trained on (no optimizer moments).
    return OperatorCheckpoint(
      model: trainer.model, inputNormalizer: full.inputNormalizer, targetNormalizer: full.targetNormalizer,
      trainingState: full.trainingState)
  }

  /// Checks a checkpoint's model against the dataset and wraps its forward pass.
  private struct Loader: NeuralOperatorVisitor {
    let checkpoint: OperatorCheckpoint
    let expectedInputs: [String]
    let expectedTargets: [String]
    let solutionVariable: String
    let gridShape: [Int]
    let source: String

    func visit<M: NeuralOperator>(_ model: M) throws -> Predictor where M.Scalar == Float {
      let data = checkpoint.trainingState?.data
      let inputNames = data?.inputs ?? expectedInputs
      let targetNames = data?.targets ?? expectedTargets
      guard Set(inputNames).isSubset(of: expectedInputs), inputNames.count == model.inputChannels else {
        throw OperatorsError.invalidArgument(
          "\(source) maps inputs \(inputNames) (\(model.inputChannels) channel(s)); this dataset's inputs are \(expectedInputs)"
        )
      }
      guard let channel = targetNames.firstIndex(of: solutionVariable), targetNames.count == model.outputChannels else {
        throw OperatorsError.invalidArgument(
          "\(source) predicts \(targetNames), not this dataset's solution variable '\(solutionVariable)'")
      }
      guard model.spatialDimensions == gridShape.count else {
        throw OperatorsError.invalidArgument(
          "\(source) holds a \(model.spatialDimensions)D model; this dataset's grid is \(gridShape)")
      }
      if let trained = data?.gridShape, trained != gridShape, M.modelName != FNO<Float>.modelName {
        throw OperatorsError.invalidArgument(
          "\(source) was trained on a \(trained) grid and its \(M.modelName) model only works there; this dataset's grid is \(gridShape)"
        )
      }
      let checkpoint = self.checkpoint
      return Predictor(
        checkpoint: checkpoint, inputNames: inputNames, gridShape: gridShape, outputChannel: channel,
        forward: { checkpoint.predict(with: model, inputs: $0) })
    }
  }
}
