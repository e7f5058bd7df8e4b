// Affine layers: `Linear` over the last axis (torch.nn.Linear) and `PointwiseConv` over the
// channel axis of [batch, channels, points…] (a 1×1 convolution, torch.nn.Conv1d with kernel 1,
// which neuraloperator's ChannelMLP and linear skips use).
import Numerics

/// Applies an affine transformation to the last axis of the input.
///
/// Concretely:
///
/// ```
/// y = x · Wᵀ + b        x: [..., in],  W: [out, in],  b: [out],  y: [..., out]
/// ```
///
/// The values are initialized from the uniform distribution (PyTorch's default):
///
/// ```
/// bound = 1 / √in
/// W ~ U(−bound, bound)   [out, in]
/// b ~ U(−bound, bound)   [out]
/// ```
///
/// ```swift
/// var rng = PhiloxRandom(seed: 0)
/// let layer = Linear<Float>(16, 32, rng: &rng)
/// let y = layer(Tensor(x))              // x: [batch, 16] → y: [batch, 32]
/// ```
///
/// ### See Also
/// - ``PointwiseConv``
/// - ``linear(_:weight:bias:)``
public struct Linear<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Weight, shape [out, in].
  public var weight: Tensor<T>
  /// Bias, shape [out], or nil.
  public var bias: Tensor<T>?

  /// A layer with PyTorch's default initialization drawn from `rng`.
  public init(_ inputDimensions: Int, _ outputDimensions: Int, bias: Bool = true, rng: inout PhiloxRandom) {
    let bound = 1 / Double(inputDimensions).squareRoot()
    weight = uniformParameter([outputDimensions, inputDimensions], bound: bound, rng: &rng)
    self.bias = bias ? uniformParameter([outputDimensions], bound: bound, rng: &rng) : nil
  }

  /// A layer with the given weight [out, in] and bias [out].
  public init(weight: NDArray<T>, bias: NDArray<T>? = nil) {
    precondition(weight.rank == 2, "Linear weight must be [out, in], got \(weight.shape)")
    if let bias { precondition(bias.shape == [weight.shape[0]], "Linear bias must be [out], got \(bias.shape)") }
    self.weight = Tensor(weight)
    self.bias = bias.map { Tensor($0) }
  }

  /// Input features.
  public var inputDimensions: Int { weight.shape[1] }
  /// Output features.
  public var outputDimensions: Int { weight.shape[0] }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    body("weight", &weight)
    if bias != nil { body("bias", &bias!) }
  }

  /// `x · Wᵀ + b` over the last axis.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    linear(x, weight: weight, bias: bias)
  }
}

/// A 1×1 convolution: the same affine map of the channels at every grid point.
///
/// ```
/// y[b, o, p] = Σᵢ W[o, i] · x[b, i, p] + bias[o]
///     x: [B, in, n₁, …],  W: [out, in],  bias: [out],  y: [B, out, n₁, …]
/// ```
///
/// Initialization (PyTorch's default for `Conv1d(in, out, kernel_size=1)`):
///
/// ```
/// bound = 1 / √in
/// W ~ U(−bound, bound)   [out, in]
/// bias ~ U(−bound, bound) [out]
/// ```
///
/// neuraloperator stores this weight as [out, in, 1]; PDEKit drops the kernel axis.
///
/// ```swift
/// var rng = PhiloxRandom(seed: 0)
/// let mix = PointwiseConv<Float>(32, 64, rng: &rng)
/// let y = mix(Tensor(x))                 // [B, 32, H, W] → [B, 64, H, W]
/// ```
///
/// ### See Also
/// - ``ChannelMLP``
/// - ``channelMix(_:weight:bias:)``
public struct PointwiseConv<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Weight, shape [out, in].
  public var weight: Tensor<T>
  /// Bias, shape [out], or nil.
  public var bias: Tensor<T>?

  /// A layer with PyTorch's default initialization drawn from `rng`.
  public init(_ inChannels: Int, _ outChannels: Int, bias: Bool = true, rng: inout PhiloxRandom) {
    let bound = 1 / Double(inChannels).squareRoot()
    weight = uniformParameter([outChannels, inChannels], bound: bound, rng: &rng)
    self.bias = bias ? uniformParameter([outChannels], bound: bound, rng: &rng) : nil
  }

  /// A layer with the given weight [out, in] and bias [out].
  public init(weight: NDArray<T>, bias: NDArray<T>? = nil) {
    precondition(weight.rank == 2, "PointwiseConv weight must be [out, in], got \(weight.shape)")
    if let bias {
      precondition(bias.shape == [weight.shape[0]], "PointwiseConv bias must be [out], got \(bias.shape)")
    }
    self.weight = Tensor(weight)
    self.bias = bias.map { Tensor($0) }
  }

  /// Input channels.
  public var inChannels: Int { weight.shape[1] }
  /// Output channels.
  public var outChannels: Int { weight.shape[0] }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    body("weight", &weight)
    if bias != nil { body("bias", &bias!) }
  }

  /// Mixes the channels (axis 1) at every point.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    channelMix(x, weight: weight, bias: bias)
  }
}
