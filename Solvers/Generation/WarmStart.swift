// Initial guesses for the generator's linear solves from outside the Solvers module. The
// generator solves the first `bootstrap` samples cold, hands them (as a dataset file) to an
// `InitialGuessProvider`, and from then on starts every solve from the provider's guess. The
// stopping test of every Krylov method stays ‖b − A x‖ ≤ rtol·‖b‖, so a guess changes the
// iteration count, never the accuracy. Solvers does not know what the provider is: the neural
// warm start (an FNO trained in-process) lives in the Hybrid module, which depends on Solvers
// and Operators so that neither depends on the other (DESIGN.md).
//
// Periodic retraining (`retrainEvery` N). After the bootstrap B, the samples fall into segments
// [B, B+N), [B+N, B+2N), …; the segment r is warm-started by the model of round r. Round 0 is the
// model trained on the bootstrap; before segment r ≥ 1 the provider continues training round
// r − 1's model (weights and optimizer state, as stored in its state file) for `retrainEpochs`
// epochs over every sample solved so far (0..<B+rN). The segment boundaries are fixed sample
// indices, batches never straddle them, and each round starts from the previous round's state
// file, so the data do not depend on the thread count or on where a run was interrupted.
import Datasets
import Foundation

/// The warm-start part of a generation config (`pdekit generate --warm-start`).
public struct WarmStartSettings: Codable, Equatable, Sendable, CustomStringConvertible {
  /// A checkpoint (safetensors) whose model gives the guesses; nil: train an FNO in-process on
  /// the bootstrap samples ("neural").
  public var checkpoint: String?
  /// The first `bootstrap` samples are solved cold; every later one is warm-started.
  public var bootstrap: Int
  /// In-process training: epochs over the bootstrap samples.
  public var epochs: Int
  /// In-process training: FNO width (hidden channels), Fourier modes per axis and layers.
  public var width: Int
  public var modes: Int
  public var layers: Int
  /// In-process training: Adam's learning rate.
  public var learningRate: Double
  /// In-process training: seed of the initialization and shuffling.
  public var seed: UInt64
  /// Periodic retraining (`--retrain-every`): after the bootstrap, every `retrainEvery` further
  /// samples the surrogate is trained again on all samples so far, and the new model warm-starts
  /// the following ones (see the file header). nil (absent from older files): never.
  public var retrainEvery: Int?
  /// Epochs over all samples so far of each retraining (`--retrain-epochs`; default 2 when
  /// `retrainEvery` is set), continuing from the previous model's weights and optimizer state.
  public var retrainEpochs: Int?

  /// The default of ``retrainEpochs``.
  public static let defaultRetrainEpochs = 2

  /// Settings; the defaults train a small FNO (width 16, 8 modes, 4 layers) for 20 epochs on the
  /// first 32 samples and never retrain it.
  ///
  /// ```swift
  /// // Retrain after samples 64+100, 64+200, …, 2 epochs each over everything solved so far.
  /// let w = WarmStartSettings(bootstrap: 64, retrainEvery: 100, retrainEpochs: 2)
  /// ```
  public init(
    checkpoint: String? = nil, bootstrap: Int? = nil, epochs: Int = 20, width: Int = 16, modes: Int = 8,
    layers: Int = 4, learningRate: Double = 5e-3, seed: UInt64 = 0, retrainEvery: Int? = nil,
    retrainEpochs: Int? = nil
  ) {
    self.retrainEvery = retrainEvery
    self.retrainEpochs = retrainEvery == nil ? retrainEpochs : (retrainEpochs ?? Self.defaultRetrainEpochs)
    self.checkpoint = checkpoint
    self.bootstrap = bootstrap ?? (checkpoint == nil ? 32 : 0)
    self.epochs = epochs
    self.width = width
    self.modes = modes
    self.layers = layers
    self.learningRate = learningRate
    self.seed = seed
  }

  /// Checks the settings against the run's sample count.
  public func validate(samples: Int) throws {
    guard bootstrap >= 0 else { throw GenerationError.invalidParameter("--bootstrap must be ≥ 0, got \(bootstrap)") }
    if checkpoint == nil {
      guard bootstrap >= 2 else {
        throw GenerationError.invalidParameter(
          "--warm-start neural trains on the first --bootstrap samples and needs at least 2, got \(bootstrap)")
      }
      guard epochs >= 1, width >= 1, modes >= 1, layers >= 1 else {
        throw GenerationError.invalidParameter(
          "--warm-start-epochs, --warm-start-width, --warm-start-modes and --warm-start-layers must be ≥ 1")
      }
      guard learningRate > 0, learningRate.isFinite else {
        throw GenerationError.invalidParameter("--warm-start-lr must be positive, got \(learningRate)")
      }
    }
    if let e = retrainEpochs {
      guard retrainEvery != nil else {
        throw GenerationError.invalidParameter(
          "--retrain-epochs \(e) needs --retrain-every N (the samples between retrainings)")
      }
      guard e >= 1 else { throw GenerationError.invalidParameter("--retrain-epochs must be ≥ 1, got \(e)") }
    }
    if let every = retrainEvery {
      guard checkpoint == nil else {
        throw GenerationError.invalidParameter(
          "--retrain-every retrains the FNO of --warm-start neural; a checkpoint FILE is used as it is. Use --warm-start neural, or drop --retrain-every"
        )
      }
      guard every >= 1 else {
        throw GenerationError.invalidParameter("--retrain-every must be ≥ 1 sample, got \(every)")
      }
      guard bootstrap + every < samples else {
        throw GenerationError.invalidParameter(
          "--retrain-every \(every): the first retraining would come after sample \(bootstrap + every), but the run has only --samples \(samples); use a --retrain-every below \(samples - bootstrap) or drop it"
        )
      }
    }
    guard bootstrap < samples else {
      throw GenerationError.invalidParameter(
        "--bootstrap \(bootstrap) leaves no sample to warm-start out of --samples \(samples); use a smaller --bootstrap"
      )
    }
  }

  public var description: String { modelDescription + (retrainingDescription.map { "; " + $0 } ?? "") }

  /// What supplies the first model (the description without the retraining).
  public var modelDescription: String {
    if let checkpoint {
      return "prediction of the checkpoint \(checkpoint)"
        + (bootstrap > 0 ? " after \(bootstrap) cold samples" : "")
    }
    return
      "prediction of an FNO (width \(width), \(modes) modes, \(layers) layers, seed \(seed)) trained in-process with Adam (lr \(learningRate)) for \(epochs) epochs on the first \(bootstrap) samples"
  }

  /// The retraining schedule in words, nil when the model is never retrained.
  public var retrainingDescription: String? {
    guard let every = retrainEvery else { return nil }
    return
      "retrained every \(every) samples after the bootstrap for \(retrainEpochs ?? Self.defaultRetrainEpochs) epochs over all samples so far, from the previous weights"
  }

  /// The first sample of each model's segment: `bootstrap`, then every `retrainEvery` samples
  /// below `samples` (one entry without retraining). Segment r is warm-started by round r's model.
  public func segmentStarts(samples: Int) -> [Int] {
    guard let every = retrainEvery, every > 0 else { return [bootstrap] }
    return Array(stride(from: bootstrap, to: samples, by: every))
  }

  /// The round of the model that warm-starts sample `index`; nil for a bootstrap (cold) sample.
  public func round(of index: Int) -> Int? {
    guard index >= bootstrap else { return nil }
    guard let every = retrainEvery, every > 0 else { return 0 }
    return (index - bootstrap) / every
  }
}

/// Supplies the initial guess x0 of each warm-started sample (see the file header).
///
/// The generator calls ``prepare(schema:solutionVariable:bootstrap:state:)`` once per process,
/// after the bootstrap samples are done, then ``initialGuess(inputs:)`` from several worker
/// threads at once. For the data to be deterministic and resumable, the guess must depend only on
/// the inputs and on state that `prepare` either computes deterministically from the bootstrap
/// file or reloads from `state`.
public protocol InitialGuessProvider: AnyObject, Sendable {
  /// Gets ready to predict `solutionVariable` of the dataset described by `schema`.
  /// - Parameters:
  ///   - bootstrap: a dataset file with the cold-solved samples 0..<bootstrap (nil when there are none).
  ///   - state: where the provider keeps what it learned, written atomically. When the file
  ///     exists (a resumed run), the provider reloads it instead of learning again, so the
  ///     resumed samples are warm-started exactly as in an uninterrupted run.
  func prepare(schema: DatasetSchema, solutionVariable: String, bootstrap: URL?, state: URL) throws

  /// Retraining round `round` ≥ 1 (``WarmStartSettings/retrainEvery``): learns from `samples`, a
  /// dataset file with every sample solved so far, continuing from round `round − 1`'s state in
  /// `previous`, and writes the new state atomically to `state`; later guesses come from the new
  /// model. When `state` exists (a resumed run) it is reloaded instead, and `samples` is nil.
  func retrain(round: Int, samples: URL?, previous: URL, state: URL) throws

  /// The initial guess for a sample with the given input fields (by variable name, flattened as
  /// stored), with one entry per unknown of the sample's first linear system.
  func initialGuess(inputs: [String: [Double]]) throws -> [Double]
}
