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
  /// The configuration must pass ``validateConfiguration(_:)``.
  init(_ configuration: Configuration, seed: UInt64)

  /// Throws ``OperatorsError/invalidArgument(_:)`` for a configuration ``init(_:seed:)`` cannot
  /// build (checked before a checkpoint's model is built, so that a bad file is an error, not a
  /// crash). Default: every configuration is accepted.
  static func validateConfiguration(_ configuration: Configuration) throws

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
}

extension NeuralOperator {
  public static func validateConfiguration(_ configuration: Configuration) throws {}

  public func namedBuffers() -> [(name: String, value: NDArray<Scalar>)] { [] }

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

extension FNO: NeuralOperator {
  public static var modelName: String { "fno" }
  public static func validateConfiguration(_ c: FNOConfiguration) throws {
    guard (1...3).contains(c.dimensions), c.modes.allSatisfy({ $0 >= 1 }) else {
      throw OperatorsError.invalidArgument("FNO takes 1–3 spatial axes with modes ≥ 1, got modes \(c.modes)")
    }
    guard c.layers >= 1, c.hiddenChannels >= 1, c.inChannels >= 1, c.outChannels >= 1,
      c.liftingChannels >= 1, c.projectionChannels >= 1
    else {
      throw OperatorsError.invalidArgument("FNO needs at least one layer and one channel everywhere")
    }
  }
  public var inputChannels: Int { configuration.inChannels }
  public var outputChannels: Int { configuration.outChannels }
  public var spatialDimensions: Int { configuration.dimensions }
}
