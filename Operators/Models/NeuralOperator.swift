// The contract between a neural-operator model and the generic training, checkpoint, evaluation
// and prediction code: a module with a Codable configuration, a seeded initializer and a forward
// pass on batches of gridded functions [B, C, n₁, …, n_d].
import Numerics

/// A model that maps gridded input functions to gridded output functions and can be trained,
/// checkpointed and evaluated by ``Trainer``, ``OperatorCheckpoint`` and ``evaluate(_:on:batchSize:)``.
///
/// Conforming types: ``FNO``, ``DeepONet``, ``PODDeepONet``, ``FactFormer``, ``IFactFormer``.
public protocol NeuralOperator: Module {
  /// Hyperparameters; stored as JSON in checkpoints (`model_config`).
  associatedtype Configuration: Codable, Sendable, Equatable

  /// The model's name in checkpoints and on the command line (`--model`), e.g. "fno".
  static var modelName: String { get }

  /// The hyperparameters the model was built with.
  var configuration: Configuration { get }

  /// A model with freshly initialized parameters; the same seed gives the same parameters.
  /// `configuration` must pass ``validate(_:)`` (the initializer traps otherwise).
  init(_ configuration: Configuration, seed: UInt64)

  /// Throws ``OperatorsError/invalidArgument(_:)`` naming the first value of `configuration` that is
  /// out of range or inconsistent. A configuration read from a file (a checkpoint's `model_config`)
  /// is checked with this before ``init(_:seed:)`` builds anything.
  static func validate(_ configuration: Configuration) throws

  /// The number of scalars, parameters and buffers together, that a model with a valid
  /// `configuration` holds, computed without building it; nil if the count overflows. A checkpoint
  /// whose stored arrays do not add up to this is refused before the model is allocated.
  static func storageCount(_ configuration: Configuration) -> Int?

  /// Input channels expected in dimension 1 of the input.
  var inputChannels: Int { get }

  /// Output channels produced in dimension 1 of the output.
  var outputChannels: Int { get }

  /// Number of spatial axes of the functions (1–3).
  var spatialDimensions: Int { get }

  /// The forward pass on `[B, inputChannels, n₁, …, n_d]`.
  func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>

  /// Non-trainable arrays the model computes from data rather than learns (a POD basis), stored in
  /// checkpoints as `buffer.<name>` beside the parameters. Optimizers never see them. Default: none.
  func namedBuffers() -> [(name: String, value: NDArray<Scalar>)]

  /// Replaces the buffers by name (loading a checkpoint into a model from ``init(_:seed:)``).
  /// Throws if a name is unknown, missing or has another shape. Default: accepts no buffers.
  mutating func loadBuffers(_ values: [String: NDArray<Scalar>]) throws

  /// Whether the model evaluates its output at points other than the input's grid points
  /// (``callAsFunction(_:queryGrid:indices:)`` returns a value): true for ``DeepONet``, whose trunk
  /// takes any coordinates. Default: false.
  static var evaluatesAtQueryPoints: Bool { get }

  /// The output at points of a grid of the model's domain, the input staying on its own grid:
  /// `x` `[B, inputChannels, n₁, …]`, `grid` the query grid's extents `[m₁, …]`, `indices` flat
  /// indices into that grid (first axis slowest; nil: every point) → `[B, outputChannels, points]`.
  /// Used to train on random query subsets and to predict on another grid without interpolating
  /// the inputs. nil when the model does not support it (``evaluatesAtQueryPoints`` false), the
  /// default.
  func callAsFunction(_ x: Tensor<Scalar>, queryGrid grid: [Int], indices: [Int]?) -> Tensor<Scalar>?
}

extension NeuralOperator {

  public func namedBuffers() -> [(name: String, value: NDArray<Scalar>)] { [] }

  public static var evaluatesAtQueryPoints: Bool { false }

  public func callAsFunction(_ x: Tensor<Scalar>, queryGrid grid: [Int], indices: [Int]?) -> Tensor<Scalar>? { nil }

  public mutating func loadBuffers(_ values: [String: NDArray<Scalar>]) throws {
    guard values.isEmpty else {
      throw OperatorsError.parameterMismatch(
        values.keys.sorted().map { "unknown buffer \($0) (a \(Self.modelName) model has no buffers)" })
    }
  }
}

/// Code that works with whichever model a checkpoint holds: ``OperatorCheckpoint/withModel(_:)``
/// loads the model named in the checkpoint and calls ``visit(_:)`` with its concrete type.
///
/// ```swift
/// struct Count: NeuralOperatorVisitor {
///   func visit<M: NeuralOperator>(_ model: M) throws -> Int where M.Scalar == Float { model.parameterCount }
/// }
/// let n = try checkpoint.withModel(Count())
/// ```
public protocol NeuralOperatorVisitor {
  /// What the visit returns.
  associatedtype Result
  /// Called with the loaded model.
  func visit<M: NeuralOperator>(_ model: M) throws -> Result where M.Scalar == Float
}

extension OperatorCheckpoint {
  /// The model names checkpoints may hold (``NeuralOperator/modelName`` of every model).
  public static let knownModels = [
    FNO<Float>.modelName, DeepONet<Float>.modelName, PODDeepONet<Float>.modelName, FactFormer<Float>.modelName,
    IFactFormer<Float>.modelName,
  ]

  /// Loads the checkpoint's model as its concrete type and passes it to `visitor`.
  /// Throws for a model name this PDEKit does not know, or a model that does not load.
  public func withModel<V: NeuralOperatorVisitor>(_ visitor: V) throws -> V.Result {
    switch modelName {
    case FNO<Float>.modelName: return try visitor.visit(try model(FNO<Float>.self))
    case DeepONet<Float>.modelName: return try visitor.visit(try model(DeepONet<Float>.self))
    case PODDeepONet<Float>.modelName: return try visitor.visit(try model(PODDeepONet<Float>.self))
    case FactFormer<Float>.modelName: return try visitor.visit(try model(FactFormer<Float>.self))
    case IFactFormer<Float>.modelName: return try visitor.visit(try model(IFactFormer<Float>.self))
    default:
      throw OperatorsError.malformedFile(
        "the checkpoint holds a '\(modelName)' model; this PDEKit knows \(Self.knownModels.joined(separator: ", "))")
    }
  }
}

/// Overflow-checked counts for ``NeuralOperator/storageCount(_:)``: nil when a count overflows.
enum CheckedCount {
  /// The product of `factors`.
  static func product(_ factors: [Int]) -> Int? {
    var p = 1
    for f in factors {
      guard f >= 0 else { return nil }
      let (q, overflow) = p.multipliedReportingOverflow(by: f)
      if overflow { return nil }
      p = q
    }
    return p
  }

  /// The sum of `terms`.
  static func sum(_ terms: [Int?]) -> Int? {
    var s = 0
    for t in terms {
      guard let t else { return nil }
      let (r, overflow) = s.addingReportingOverflow(t)
      if overflow { return nil }
      s = r
    }
    return s
  }

  /// Weights and biases of dense layers with the given widths (input first).
  static func denseLayers(_ widths: [Int]) -> Int? {
    sum(zip(widths, widths.dropFirst()).map { sum([product([$0, $1]), $1]) })
  }
}

extension FNO: NeuralOperator {
  public static var modelName: String { "fno" }
  public var inputChannels: Int { configuration.inChannels }
  public var outputChannels: Int { configuration.outChannels }
  public var spatialDimensions: Int { configuration.dimensions }

  public static func validate(_ c: FNOConfiguration) throws {
    func bad(_ s: String) -> OperatorsError { .invalidArgument("FNO: \(s)") }
    guard (1...3).contains(c.dimensions), c.modes.allSatisfy({ (1...(1 << 20)).contains($0) }) else {
      throw bad("modes must list 1–3 positive mode counts, got \(c.modes)")
    }
    let widths = [c.inChannels, c.outChannels, c.hiddenChannels, c.layers]
    guard widths.allSatisfy({ (1...(1 << 24)).contains($0) }) else {
      throw bad(
        "channels and layers must be in 1...2^24, got in \(c.inChannels), out \(c.outChannels), hidden \(c.hiddenChannels), layers \(c.layers)"
      )
    }
    for (name, ratio) in [
      ("lifting channel ratio", c.liftingChannelRatio), ("projection channel ratio", c.projectionChannelRatio),
      ("channel-MLP expansion", c.channelMLPExpansion),
    ] {
      let channels = ratio * Double(c.hiddenChannels)
      guard ratio.isFinite, channels >= 1, channels <= Double(1 << 24) else {
        throw bad("the \(name) \(ratio) times \(c.hiddenChannels) hidden channels must give 1...2^24 channels")
      }
    }
  }

  public static func storageCount(_ c: FNOConfiguration) -> Int? {
    let h = c.hiddenChannels
    let liftIn = c.inChannels + (c.positionalEmbedding ? c.dimensions : 0)
    let expansion = Int((Double(h) * c.channelMLPExpansion).rounded())
    let block = CheckedCount.sum([
      CheckedCount.product(spectralWeightShape(inChannels: h, outChannels: h, modes: c.modes)), h,  // spectral
      CheckedCount.product([h, h]),  // FNO skip, no bias
      CheckedCount.denseLayers([h, expansion, h]),  // channel MLP
      h,  // soft gating
    ])
    return CheckedCount.sum([
      CheckedCount.denseLayers([liftIn, c.liftingChannels, h]),
      block.flatMap { CheckedCount.product([$0, c.layers]) },
      CheckedCount.denseLayers([h, c.projectionChannels, c.outChannels]),
    ])
  }
}
