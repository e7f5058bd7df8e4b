// What a training run does, as a Codable value: the CLI fills it from flags, checkpoints store it
// (so a resumed run continues with the same recipe), and the JSON-lines log records it.
import Foundation

/// Optimizer of a training run (PyTorch's update rules; see ``Adam`` and ``AdamW``).
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
  /// ``Adam`` with coupled L2 weight decay (0 by default).
  case adam
  /// ``AdamW`` with decoupled weight decay.
  case adamw
  /// ``SGD`` (no momentum) with coupled weight decay.
  case sgd
}

/// Learning-rate schedule of a training run, stepped once per epoch (as neuraloperator's trainer).
public enum ScheduleKind: String, Codable, Sendable, CaseIterable {
  /// The learning rate stays at its initial value.
  case constant
  /// ``StepLR``: multiplied by `gamma` every `stepSize` epochs.
  case step
  /// ``CosineAnnealingLR`` from the initial rate to 0 over all epochs.
  case cosine
}

/// Training loss, computed on normalized targets.
public enum TrainingLossKind: String, Codable, Sendable, CaseIterable {
  /// Relative L2 (``LpLoss`` with p = 2, summed over the batch, as neuraloperator).
  case l2
  /// Relative H1 (``H1Loss``, summed over the batch; neuraloperator's Darcy recipe).
  case h1
  /// Mean squared error over each sample's points and channels, summed over the batch (DeepXDE's
  /// default "MSE" loss times the batch size; the per-sample training loss is DeepXDE's value).
  case mse
}

/// Hyperparameters of a training run.
///
/// Defaults are those of the FNO paper's Darcy benchmark as run by bench/fno: Adam with learning
/// rate 1e-3, batch 20, relative L2 loss, no schedule, per-channel Gaussian normalization of
/// inputs and targets fitted on the training split.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
  /// Passes over the training split.
  public var epochs: Int
  /// Samples per optimizer step (the last batch of an epoch may be smaller).
  public var batchSize: Int
  /// Initial learning rate.
  public var learningRate: Double
  /// Adam or AdamW.
  public var optimizer: OptimizerKind
  /// Weight decay (coupled for Adam, decoupled for AdamW).
  public var weightDecay: Double
  /// Learning-rate schedule, stepped per epoch.
  public var schedule: ScheduleKind
  /// Epochs between decays of the step schedule.
  public var stepSize: Int
  /// Decay factor of the step schedule.
  public var gamma: Double
  /// The training loss.
  public var loss: TrainingLossKind
  /// Seed of the model initialization and the batch shuffling.
  public var seed: UInt64
  /// Clip the global gradient norm to this value (nil: no clipping).
  public var gradientClip: Double?
  /// Normalize inputs and targets per channel (mean 0, std 1 on the training split).
  public var normalize: Bool
  /// Autoregressive training only: the pushforward trick with m steps (Brandstetter, Worrall,
  /// Welling, "Message Passing Neural PDE Solvers", ICLR 2022, §2.3). Each pair starts from k true
  /// frames, the model is applied m − 1 times without gradient feeding back its own predictions,
  /// and the loss is the one-step loss of the last application against the true frame m − 1 steps
  /// further on. nil or 1: teacher forcing (every input is true frames).
  public var pushforwardSteps: Int?
  /// Models that evaluate at any point (``NeuralOperator/evaluatesAtQueryPoints``, DeepONet): train
  /// each step on this many target grid points drawn at random without replacement, one subset
  /// shared by the batch's samples (DeepXDE's `TripleCartesianProd` batches the trunk the same way,
  /// and a shared subset keeps one trunk evaluation and one GEMM per step). The draw is
  /// Philox(seed, stream = (epoch + 1)·2³² + batch), so runs and resumed runs repeat it. nil: the
  /// whole grid. Test errors are always on the whole grid.
  public var queryPoints: Int?

  /// A configuration; unspecified options take the defaults above.
  public init(
    epochs: Int = 20, batchSize: Int = 20, learningRate: Double = 1e-3, optimizer: OptimizerKind = .adam,
    weightDecay: Double = 0, schedule: ScheduleKind = .constant, stepSize: Int = 100, gamma: Double = 0.5,
    loss: TrainingLossKind = .l2, seed: UInt64 = 0, gradientClip: Double? = nil, normalize: Bool = true,
    pushforwardSteps: Int? = nil, queryPoints: Int? = nil
  ) {
    self.pushforwardSteps = pushforwardSteps
    self.queryPoints = queryPoints
    self.epochs = epochs
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.optimizer = optimizer
    self.weightDecay = weightDecay
    self.schedule = schedule
    self.stepSize = stepSize
    self.gamma = gamma
    self.loss = loss
    self.seed = seed
    self.gradientClip = gradientClip
    self.normalize = normalize
  }

  /// Throws ``OperatorsError/invalidArgument(_:)`` naming the first out-of-range value.
  public func validate() throws {
    func bad(_ s: String) -> OperatorsError { .invalidArgument(s) }
    guard epochs >= 1 else { throw bad("epochs must be ≥ 1, got \(epochs)") }
    guard batchSize >= 1 else { throw bad("batch size must be ≥ 1, got \(batchSize)") }
    guard learningRate > 0, learningRate.isFinite else {
      throw bad("learning rate must be positive and finite, got \(learningRate)")
    }
    guard weightDecay >= 0, weightDecay.isFinite else { throw bad("weight decay must be ≥ 0, got \(weightDecay)") }
    guard stepSize >= 1 else { throw bad("step size must be ≥ 1 epoch, got \(stepSize)") }
    guard gamma > 0, gamma <= 1 else { throw bad("gamma must be in (0, 1], got \(gamma)") }
    if let c = gradientClip, !(c > 0 && c.isFinite) { throw bad("gradient clip must be positive, got \(c)") }
    if let m = pushforwardSteps, m < 1 { throw bad("pushforward steps must be ≥ 1, got \(m)") }
    if let n = queryPoints {
      guard n >= 1 else { throw bad("query points must be ≥ 1, got \(n)") }
      guard loss != .h1 else {
        throw bad(
          "the h1 loss needs derivatives on the whole grid; train on query-point subsets with the l2 or mse loss")
      }
    }
  }

  /// The learning rate during epoch `epoch` (0-based).
  public func learningRate(epoch: Int) -> Double {
    switch schedule {
    case .constant: return learningRate
    case .step: return StepLR(baseLearningRate: learningRate, stepSize: stepSize, gamma: gamma).learningRate(at: epoch)
    case .cosine:
      return CosineAnnealingLR(baseLearningRate: learningRate, maximumSteps: epochs).learningRate(at: epoch)
    }
  }
}

/// One epoch's figures (a line of the JSON-lines training log).
public struct EpochRecord: Codable, Sendable, Equatable {
  /// Epoch number, from 1.
  public var epoch: Int
  /// Mean training loss per sample over the epoch (on normalized targets).
  public var trainLoss: Double
  /// Mean relative L2 error on the test split (physical units), if there is one.
  public var testL2: Double?
  /// Mean relative H1 error on the test split, if there is one.
  public var testH1: Double?
  /// Wall-clock seconds of the epoch's training steps (evaluation excluded).
  public var epochSeconds: Double
  /// Learning rate used during the epoch.
  public var learningRate: Double

  enum CodingKeys: String, CodingKey {
    case epoch
    case trainLoss = "train_loss"
    case testL2 = "test_l2"
    case testH1 = "test_h1"
    case epochSeconds = "epoch_seconds"
    case learningRate = "lr"
  }

  /// A record.
  public init(
    epoch: Int, trainLoss: Double, testL2: Double?, testH1: Double?, epochSeconds: Double, learningRate: Double
  ) {
    self.epoch = epoch
    self.trainLoss = trainLoss
    self.testL2 = testL2
    self.testH1 = testH1
    self.epochSeconds = epochSeconds
    self.learningRate = learningRate
  }
}

/// What a model was trained on: enough to check that later data fit it.
public struct DataDescription: Codable, Sendable, Equatable {
  /// Input variable names, in channel order.
  public var inputs: [String]
  /// Target variable names, in channel order.
  public var targets: [String]
  /// Grid axes of the fields, slowest first (e.g. ["y", "x"]).
  public var axes: [String]
  /// Grid extents of the training data.
  public var gridShape: [Int]
  /// The training file and its sample range.
  public var trainFile: String
  /// Samples used for training.
  public var trainSamples: Int
  /// Samples used for testing (0: none).
  public var testSamples: Int
  /// Autoregressive runs: input frames k per pair (``FieldDataset/inputFrames``); nil otherwise.
  public var inputFrames: Int?

  /// A description.
  public init(
    inputs: [String], targets: [String], axes: [String], gridShape: [Int], trainFile: String, trainSamples: Int,
    testSamples: Int, inputFrames: Int? = nil
  ) {
    self.inputFrames = inputFrames
    self.inputs = inputs
    self.targets = targets
    self.axes = axes
    self.gridShape = gridShape
    self.trainFile = trainFile
    self.trainSamples = trainSamples
    self.testSamples = testSamples
  }
}

/// Where a training run stands: stored in checkpoints so that it can resume.
public struct TrainingState: Codable, Sendable, Equatable {
  /// Completed epochs.
  public var epoch: Int
  /// The run's hyperparameters.
  public var configuration: TrainingConfiguration
  /// The data it trains on.
  public var data: DataDescription
  /// One record per completed epoch.
  public var history: [EpochRecord]

  /// A state.
  public init(epoch: Int, configuration: TrainingConfiguration, data: DataDescription, history: [EpochRecord]) {
    self.epoch = epoch
    self.configuration = configuration
    self.data = data
    self.history = history
  }
}
