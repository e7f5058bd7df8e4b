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
// directions; Li et al., "Learning Preconditioner for Conjugate Gradient PDE Solvers", ICML 2023).
//
// Periodic retraining (`WarmStartSettings.retrainEvery`) continues the previous round's run —
// weights, Adam moments, normalizers (fitted on the bootstrap), epoch count and so the shuffling
// stream — for `retrainEpochs` epochs over every sample solved so far, as `pdekit train --resume
// --epochs` would on the grown file. Each round starts from the previous round's state file, never
// from memory, so an interrupted and resumed run retrains exactly as an uninterrupted one.
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
/// threads at once (the forward pass records no tape); `retrain` must not run meanwhile (the
/// generator calls it between segments, with no solve in flight).
public final class NeuralWarmStart: InitialGuessProvider, @unchecked Sendable {
  /// The settings the provider was made with.
  public let settings: WarmStartSettings
  /// Seconds spent training in `prepare` and `retrain` in this process (0 when every model was loaded).
  public private(set) var trainingSeconds = 0.0
  /// Seconds each round's training took in this process, by round (0: the bootstrap training);
  /// rounds whose state was reloaded are absent.
  public private(set) var trainingSecondsByRound: [Int: Double] = [:]
  /// The per-epoch records of the in-process training, retraining rounds included (empty when
  /// every model was loaded).
  public private(set) var trainingHistory: [EpochRecord] = []
  /// Whether `prepare` loaded the model from a file instead of training it.
  public private(set) var loadedFromFile = false

  private var ready: Predictor?
  /// What `prepare` learned about the dataset, for the models of later rounds.
  private var context: (inputs: [String], targets: [String], solutionVariable: String, gridShape: [Int])?

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
    context = (inputs.map(\.name), targets.map(\.name), solutionVariable, gridShape)
    ready = try predictor(checkpoint, source: settings.checkpoint ?? state.path)
  }

  public func retrain(round: Int, samples: URL?, previous: URL, state: URL) throws {
    guard settings.checkpoint == nil, settings.retrainEvery != nil else {
      throw OperatorsError.invalidArgument(
        "retraining needs --warm-start neural with --retrain-every; these settings are \(settings)")
    }
    let checkpoint: OperatorCheckpoint
    if FileManager.default.fileExists(atPath: state.path) {
      checkpoint = try OperatorCheckpoint.read(from: state)
    } else {
      guard let samples else {
        throw OperatorsError.invalidArgument(
          "retraining round \(round) needs the samples solved so far, and \(state.path) does not exist to reload")
      }
      checkpoint = try continueTraining(try OperatorCheckpoint.read(from: previous), on: samples, round: round)
      try checkpoint.write(to: state)
    }
    ready = try predictor(checkpoint, source: state.path)
  }

  /// Checks `checkpoint` against the dataset seen by `prepare` and wraps its forward pass.
  private func predictor(_ checkpoint: OperatorCheckpoint, source: String) throws -> Predictor {
    guard let c = context else {
      throw OperatorsError.invalidArgument("NeuralWarmStart.retrain was called before prepare")
    }
    return try checkpoint.withModel(
      Loader(
        checkpoint: checkpoint, expectedInputs: c.inputs, expectedTargets: c.targets,
        solutionVariable: c.solutionVariable, gridShape: c.gridShape, source: source))
  }

  /// Continues the run stored in `previous` for `retrainEpochs` epochs over `file`.
  private func continueTraining(_ previous: OperatorCheckpoint, on file: URL, round: Int) throws -> OperatorCheckpoint {
    let t0 = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    let previousRigor = FFT.defaultRigor
    FFT.defaultRigor = .estimate
    defer { FFT.defaultRigor = previousRigor }
    let data = try FieldDataset(url: file)
    let done = previous.trainingState?.history.count ?? 0
    var trainer = try Trainer<FNO<Float>>(
      resuming: previous, train: data, test: nil,
      epochs: done + (settings.retrainEpochs ?? WarmStartSettings.defaultRetrainEpochs))
    try trainer.fit()
    trainingHistory += trainer.history.dropFirst(done)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds) / 1e9 - t0
    trainingSeconds += seconds
    trainingSecondsByRound[round] = seconds
    return trainer.checkpoint()
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
    trainingSecondsByRound[0] = trainingSeconds
    let full = trainer.checkpoint()
    // Retraining continues this run, so it needs the optimizer moments too.
    if settings.retrainEvery != nil { return full }
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
