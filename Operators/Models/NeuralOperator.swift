// The contract between a neural-operator model and the generic training, checkpoint, evaluation
// and prediction code: a module with a Codable configuration, a seeded initializer and a forward
// pass on batches of gridded functions [B, C, n₁, …, n_d].
import Numerics

/// A model that maps gridded input functions to gridded output functions and can be trained,
/// checkpointed and evaluated by ``Trainer``, ``OperatorCheckpoint`` and ``evaluate(_:on:batchSize:)``.
///
/// Conforming types: ``FNO``.
public protocol NeuralOperator: Module {
  /// Hyperparameters; stored as JSON in checkpoints (`model_config`).
  associatedtype Configuration: Codable, Sendable, Equatable

  /// The model's name in checkpoints and on the command line (`--model`), e.g. "fno".
  static var modelName: String { get }

  /// The hyperparameters the model was built with.
  var configuration: Configuration { get }

  /// A model with freshly initialized parameters; the same seed gives the same parameters.
  init(_ configuration: Configuration, seed: UInt64)

  /// Input channels expected in dimension 1 of the input.
  var inputChannels: Int { get }

  /// Output channels produced in dimension 1 of the output.
  var outputChannels: Int { get }

  /// Number of spatial axes of the functions (1–3).
  var spatialDimensions: Int { get }

  /// The forward pass on `[B, inputChannels, n₁, …, n_d]`.
  func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar>
}

extension FNO: NeuralOperator {
  public static var modelName: String { "fno" }
  public var inputChannels: Int { configuration.inChannels }
  public var outputChannels: Int { configuration.outChannels }
  public var spatialDimensions: Int { configuration.dimensions }
}
