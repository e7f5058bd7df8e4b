// The training loop every model uses (neuraloperator's `Trainer` is the reference for what is
// computed: normalized inputs and targets, a relative-norm loss summed over the batch, an
// optimizer step per batch, the schedule stepped per epoch, test error on decoded predictions).
// Shuffling draws a permutation per epoch from Philox(seed, stream = epoch), so a run resumed
// from an epoch checkpoint continues exactly as an uninterrupted one would.
//
// Data parallelism (`group`, DataParallel.swift): with P processes, each optimizer step takes a
// global batch of P × batchSize samples from the same permutation on every rank; rank r computes
// slice r of it, the gradients and losses are summed over the ranks, and every rank applies the
// same step. The normalizers are fitted from per-rank sums, the test error is computed by rank 0,
// and the ranks check after every epoch that their weights are bit-identical.
import Foundation
import Numerics

/// Why training stopped early.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
  /// The loss became NaN or infinite.
  case diverged(epoch: Int, batch: Int, loss: Double)
  /// Data that do not fit the model or the checkpoint being resumed.
  case dataMismatch(String)

  public var description: String {
    switch self {
    case .diverged(let epoch, let batch, let loss):
      return
        "training diverged: the loss is \(loss) in epoch \(epoch), batch \(batch). The last good checkpoint is kept; "
        + "lower --lr, add --clip 1.0, or check the data for outliers"
    case .dataMismatch(let s): return s
    }
  }
}

/// Trains a ``NeuralOperator`` on a ``FieldDataset``.
///
/// ```swift
/// let train = try FieldDataset(url: file, samples: 0..<200)
/// let test = try FieldDataset(url: file, samples: 200..<250)
/// let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 32, modes: [12, 12])
/// var trainer = try Trainer(model: FNO<Float>(config, seed: 0), configuration: TrainingConfiguration(), train: train, test: test)
/// try trainer.fit(checkpoint: URL(fileURLWithPath: "model.safetensors")) { record in print(record) }
/// ```
public struct Trainer<M: NeuralOperator> where M.Scalar == Float {
  /// The model being trained.
  public private(set) var model: M
  /// The run's hyperparameters.
  public let configuration: TrainingConfiguration
  /// Training split.
  public let train: FieldDataset
  /// Test split (nil: no test error is reported).
  public let test: FieldDataset?
  /// Input normalizer fitted on the training split (nil when normalization is off).
  public let inputNormalizer: UnitGaussianNormalizer<Float>?
  /// Target normalizer fitted on the training split.
  public let targetNormalizer: UnitGaussianNormalizer<Float>?
  /// Completed epochs' records.
  public private(set) var history: [EpochRecord] = []
  /// The processes training this model together (nil: this process alone); see the file header.
  public let group: (any ProcessGroup)?

  private var adam: Adam<Float>
  private var adamw: AdamW<Float>
  private var sgd: SGD<Float>

  /// Completed epochs.
  public var completedEpochs: Int { history.count }

  /// A fresh run: fits the normalizers on `train` and checks that the data fit the model. With a
  /// `group`, every rank passes the same model, configuration and data (see the file header).
  public init(
    model: M, configuration: TrainingConfiguration, train: FieldDataset, test: FieldDataset?,
    group: (any ProcessGroup)? = nil
  ) throws {
    try configuration.validate()
    try Self.check(model: model, train, test, configuration: configuration)
    self.model = model
    self.configuration = configuration
    self.train = train
    self.test = test
    self.group = (group?.size ?? 1) > 1 ? group : nil
    if configuration.normalize {
      let (i, t) = try train.fitNormalizers(group: self.group)
      inputNormalizer = i
      targetNormalizer = t
    } else {
      inputNormalizer = nil
      targetNormalizer = nil
    }
    adam = Adam(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
    adamw = AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
    sgd = SGD(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
  }

  /// Resumes the run stored in `checkpoint` (model, normalizers, optimizer state, history),
  /// optionally with more epochs. The data must have the variables the run was started with.
  public init(
    resuming checkpoint: OperatorCheckpoint, train: FieldDataset, test: FieldDataset?, epochs: Int? = nil,
    group: (any ProcessGroup)? = nil
  ) throws {
    guard let state = checkpoint.trainingState, let optimizer = checkpoint.optimizerState else {
      throw TrainingError.dataMismatch(
        "the checkpoint has no training state (it was saved for inference only); start a new run instead of resuming")
    }
    let model: M = try checkpoint.model()
    try Self.check(model: model, train, test, configuration: state.configuration)
    let d = state.data
    guard d.inputFrames == train.inputFrames else {
      throw TrainingError.dataMismatch(
        "the run was started with input frames \(d.inputFrames.map(String.init) ?? "none (input → target)"), but the "
          + "data are opened with \(train.inputFrames.map(String.init) ?? "none"); pass --input-frames accordingly")
    }
    guard d.inputs == train.inputNames, d.targets == train.targetNames else {
      throw TrainingError.dataMismatch(
        "the run was started on inputs \(d.inputs) → targets \(d.targets), but \(train.url.path) gives "
          + "\(train.inputNames) → \(train.targetNames)")
    }
    var configuration = state.configuration
    if let epochs { configuration.epochs = epochs }
    try configuration.validate()
    self.model = model
    self.configuration = configuration
    self.train = train
    self.test = test
    self.group = (group?.size ?? 1) > 1 ? group : nil
    inputNormalizer = checkpoint.inputNormalizer
    targetNormalizer = checkpoint.targetNormalizer
    guard (inputNormalizer != nil) == configuration.normalize, (targetNormalizer != nil) == configuration.normalize
    else {
      throw TrainingError.dataMismatch("the checkpoint's normalizers do not match its training configuration")
    }
    history = state.history
    adam = Adam(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
    adamw = AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
    sgd = SGD(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
    adam.state = optimizer
    adamw.state = optimizer
  }

  private static func check(
    model: M, _ train: FieldDataset, _ test: FieldDataset?, configuration: TrainingConfiguration
  ) throws {
    if let m = configuration.pushforwardSteps, m > 1 {
      guard train.inputFrames != nil else {
        throw TrainingError.dataMismatch("pushforward training needs trajectories (input frames)")
      }
      guard train.windowCount(horizon: m) >= 1 else {
        throw TrainingError.dataMismatch(
          "\(train.url.path): \(train.frameCount) frames per trajectory leave no window for \(train.inputFrames!) "
            + "input frames and \(m) pushforward steps")
      }
    }
    if let n = configuration.queryPoints {
      guard M.evaluatesAtQueryPoints else {
        throw TrainingError.dataMismatch(
          "training on random query points needs a model that evaluates anywhere (deeponet); the \(M.modelName) "
            + "model outputs on its input's grid only"
            + (M.modelName == "pod-deeponet" ? " (its trunk is fixed POD modes of the training grid)" : ""))
      }
      let points = train.gridShape.reduce(1, *)
      guard n <= points else {
        throw TrainingError.dataMismatch(
          "\(n) query points per step asked for, but the training grid \(train.gridShape) has \(points) points")
      }
    }
    if let test, test.inputFrames != train.inputFrames {
      throw TrainingError.dataMismatch("the training and test data are opened with different input frames")
    }
    for (name, data) in [("training", train)] + (test.map { [("test", $0)] } ?? []) {
      guard data.inputChannels == model.inputChannels, data.targetChannels == model.outputChannels,
        data.gridShape.count == model.spatialDimensions
      else {
        throw TrainingError.dataMismatch(
          "the \(name) data (\(data.url.path)) have \(data.inputChannels) input and \(data.targetChannels) target "
            + "channel(s) on a \(data.gridShape.count)D grid; the \(M.modelName) model takes \(model.inputChannels) → "
            + "\(model.outputChannels) on a \(model.spatialDimensions)D grid")
      }
    }
  }

  /// The permutation of training samples for epoch `epoch` (0-based): Fisher–Yates driven by
  /// Philox(seed, stream = epoch + 1).
  public func permutation(epoch: Int) -> [Int] {
    var rng = PhiloxRandom(seed: configuration.seed, stream: UInt64(epoch) + 1)
    var p = Array(0..<trainingPairs)
    if p.count > 1 {
      for i in stride(from: p.count - 1, to: 0, by: -1) {
        let j = Int(rng.next() % UInt64(i + 1))
        p.swapAt(i, j)
      }
    }
    return p
  }

  /// Pushforward steps m (1: teacher forcing).
  var pushforward: Int { configuration.pushforwardSteps ?? 1 }

  /// Training pairs per epoch: the training samples, or with pushforward m the windows whose
  /// target lies m frames past their inputs.
  public var trainingPairs: Int { pushforward > 1 ? train.windowCount(horizon: pushforward) : train.count }

  /// The normalized inputs and targets of the training pairs `indices`. With pushforward m the
  /// model (untracked) first rolls each window m − 1 steps forward in physical units, and the input
  /// is the last k frames of true and predicted ones; the target is the true frame after them.
  func trainingBatch(_ indices: [Int]) throws -> (NDArray<Float>, NDArray<Float>) {
    var (x, y) = pushforward > 1 ? try train.windows(indices, horizon: pushforward) : try train.batch(indices)
    if pushforward > 1 {
      let predicted = try rollout(
        model, inputNormalizer: inputNormalizer, targetNormalizer: targetNormalizer, initial: x,
        steps: pushforward - 1)
      x = lastFrames(of: x, then: predicted)
    }
    if let n = inputNormalizer { x = n.encode(x) }
    if let n = targetNormalizer { y = n.encode(y) }
    return (x, y)
  }

  /// The flat training-grid indices (sorted) of the query points of step `batch` of epoch `epoch`
  /// (both 0-based) when ``TrainingConfiguration/queryPoints`` is set: a partial Fisher–Yates
  /// shuffle driven by Philox(seed, stream = (epoch + 1)·2³² + batch). nil without query subsets.
  public func queryIndices(epoch: Int, batch: Int) -> [Int]? {
    guard let n = configuration.queryPoints else { return nil }
    var rng = PhiloxRandom(seed: configuration.seed, stream: (UInt64(epoch) + 1) << 32 + UInt64(batch))
    let count = train.gridShape.reduce(1, *)
    var pool = Array(0..<count)
    for i in 0..<min(n, count - 1) {
      let j = i + Int(rng.next() % UInt64(count - i))
      pool.swapAt(i, j)
    }
    return pool[0..<min(n, count)].sorted()
  }

  /// `y` [B, C, grid…] at the flat grid indices `indices` → [B, C, indices.count].
  static func gather(_ y: NDArray<Float>, _ indices: [Int]) -> NDArray<Float> {
    let (b, c) = (y.shape[0], y.shape[1])
    let points = y.count / Swift.max(1, b * c)
    return y.withUnsafeBufferPointer { src in
      NDArray<Float>(shape: [b, c, indices.count]) { dst in
        for row in 0..<(b * c) {
          let (from, to) = (src.baseAddress! + row * points, dst.baseAddress! + row * indices.count)
          for (k, i) in indices.enumerated() { to[k] = from[i] }
        }
      }
    }
  }

  private func lossValue(_ prediction: Tensor<Float>, _ target: Tensor<Float>) -> Tensor<Float> {
    let d = prediction.rank - 2
    switch configuration.loss {
    case .l2: return LpLoss(spatialDimensions: d)(prediction, target)
    case .h1: return H1Loss(spatialDimensions: d)(prediction, target)
    case .mse:
      let e = prediction - target
      return (e * e).sum() * (1 / Float(Swift.max(1, prediction.count / Swift.max(1, prediction.shape[0]))))
    }
  }

  /// Trains one epoch and evaluates on the test split. `onBatch(done, total)` is called after
  /// every optimizer step. Throws ``TrainingError/diverged(epoch:batch:loss:)`` on a NaN loss,
  /// leaving the model at its last good state.
  @discardableResult
  public mutating func trainEpoch(onBatch: ((Int, Int) -> Void)? = nil) throws -> EpochRecord {
    let epoch = completedEpochs
    let lr = configuration.learningRate(epoch: epoch)
    adam.learningRate = lr
    adamw.learningRate = lr
    sgd.learningRate = lr
    let order = permutation(epoch: epoch)
    // With P ranks a step takes P × batchSize samples; this rank computes its slice of them.
    let ranks = group?.size ?? 1
    let step = configuration.batchSize * ranks
    let batches = stride(from: 0, to: order.count, by: step).map {
      Array(order[$0..<min(order.count, $0 + step)])
    }
    let start = DispatchTime.now().uptimeNanoseconds
    var total = 0.0
    let saved = model
    let savedOptimizer = (adam, adamw)
    var reducer = group.map { GradientReducer(group: $0) }
    for (b, global) in batches.enumerated() {
      let indices = group.map { g in Array(global[g.block(of: global.count)]) } ?? global
      var loss: Double
      var grads: Gradients<Float>
      if indices.isEmpty {
        (loss, grads) = (0, GradientReducer.zeros(of: model))
      } else {
        let (x, y) = try trainingBatch(indices)
        let grid = train.gridShape
        // The step's query points are the same on every rank (drawn from seed, epoch and step).
        let queries = queryIndices(epoch: epoch, batch: b)
        let target = queries.map { Self.gather(y, $0) } ?? y
        // One slice of the batch per core, computed by the BLAS threads (BatchSlicedStep.swift).
        (loss, grads) = batchSlicedValueAndGradient(
          at: model, batch: indices.count, slices: stepSlices(batch: indices.count), workers: BLAS.threadCount
        ) { m, slice in
          let (xs, ts) = (Tensor(x.samples(slice)), Tensor(target.samples(slice)))
          guard let queries else { return lossValue(m(xs), ts) }
          return lossValue(m(xs, queryGrid: grid, indices: queries)!, ts)
        }
      }
      try reducer?.sum(&grads, loss: &loss)
      guard loss.isFinite, grads.globalNorm.isFinite else {
        model = saved
        (adam, adamw) = savedOptimizer
        throw TrainingError.diverged(epoch: epoch + 1, batch: b + 1, loss: loss.isFinite ? .nan : loss)
      }
      if let clip = configuration.gradientClip { grads.clipByGlobalNorm(clip) }
      switch configuration.optimizer {
      case .adam: adam.update(&model, along: grads)
      case .adamw: adamw.update(&model, along: grads)
      case .sgd: sgd.update(&model, along: grads)
      }
      total += loss
      onBatch?(b + 1, batches.count)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    var record = EpochRecord(
      epoch: epoch + 1, trainLoss: total / Double(order.count), testL2: nil, testH1: nil, epochSeconds: seconds,
      learningRate: lr)
    if let group {
      guard try group.allEqual(weightDigest(model)) else {
        throw TrainingError.dataMismatch(
          "after epoch \(epoch + 1) the ranks' weights differ (rank \(group.rank)): the data-parallel step is not "
            + "deterministic here; report this with the command line")
      }
    }
    if let test, group?.isRoot ?? true {
      let report = try evaluate(
        model, on: test, inputNormalizer: inputNormalizer, targetNormalizer: targetNormalizer,
        batchSize: max(configuration.batchSize, 1))
      record.testL2 = report.relativeL2.mean
      record.testH1 = report.relativeH1.mean
    }
    history.append(record)
    return record
  }

  /// Trains until ``TrainingConfiguration/epochs`` epochs are complete, writing `checkpoint`
  /// atomically after every epoch (so a crash or a divergence keeps the last good one) and calling
  /// `onEpoch` with each record.
  public mutating func fit(
    checkpoint url: URL? = nil, onBatch: ((Int, Int) -> Void)? = nil, onEpoch: ((EpochRecord) throws -> Void)? = nil
  ) throws {
    while completedEpochs < configuration.epochs {
      let record = try trainEpoch(onBatch: onBatch)
      if let url { try checkpoint().write(to: url) }
      try onEpoch?(record)
    }
  }

  /// A checkpoint of the current state: model, normalizers, optimizer state and history.
  public func checkpoint() -> OperatorCheckpoint {
    let state = TrainingState(
      epoch: completedEpochs, configuration: configuration,
      data: DataDescription(
        inputs: train.inputNames, targets: train.targetNames, axes: train.axes, gridShape: train.gridShape,
        trainFile: train.url.path, trainSamples: train.count, testSamples: test?.count ?? 0,
        inputFrames: train.inputFrames),
      history: history)
    let optimizer = configuration.optimizer == .adam ? adam.state : adamw.state
    return OperatorCheckpoint(
      model: model, inputNormalizer: inputNormalizer, targetNormalizer: targetNormalizer, optimizerState: optimizer,
      trainingState: state)
  }
}
