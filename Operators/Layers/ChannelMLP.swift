// Channel MLP: pointwise (1×1) layers with GELU between them, neuraloperator's `ChannelMLP`
// (neuralop/layers/channel_mlp.py). The FNO uses it three ways: lifting (in + d → 2·width →
// width), projection (width → 2·width → out), and inside each block (width → width/2 → width).
import Numerics

/// A multi-layer perceptron applied independently at every grid point.
///
/// ```
/// x: [B, in, n₁, …]  →  y: [B, out, n₁, …]
/// h₀ = x;  hⱼ = gelu(Wⱼ · hⱼ₋₁ + bⱼ)  for j < L;  y = W_L · h_{L−1} + b_L     (no activation at the end)
/// widths: in → hidden → … → hidden → out   (L layers, default 2)
/// ```
///
/// Each layer is a ``PointwiseConv`` with PyTorch's default initialization
/// (U(−1/√fan_in, 1/√fan_in) for weights and biases). Parameter names are `fcs.{j}.weight` and
/// `fcs.{j}.bias`, as neuraloperator's state_dict (whose weights carry a trailing kernel axis of 1).
///
/// ```swift
/// var rng = PhiloxRandom(seed: 0)
/// let mlp = ChannelMLP<Float>(inChannels: 32, outChannels: 32, hiddenChannels: 16, rng: &rng)
/// let y = mlp(x)                         // [B, 32, H, W] → [B, 32, H, W]
/// ```
///
/// ### See Also
/// - ``PointwiseConv``
/// - ``FNOBlock``
public struct ChannelMLP<T: RealScalar>: Module {
  public typealias Scalar = T
  /// The layers, first to last.
  public var fcs: [PointwiseConv<T>]

  /// An MLP in → hidden → … → out with `layers` pointwise layers (≥ 1).
  public init(inChannels: Int, outChannels: Int, hiddenChannels: Int, layers: Int = 2, rng: inout PhiloxRandom) {
    precondition(layers >= 1, "ChannelMLP needs at least one layer")
    fcs = (0..<layers).map { j in
      let cin = j == 0 ? inChannels : hiddenChannels
      let cout = j == layers - 1 ? outChannels : hiddenChannels
      return PointwiseConv<T>(cin, cout, rng: &rng)
    }
  }

  /// An MLP from given layers.
  public init(layers: [PointwiseConv<T>]) {
    precondition(!layers.isEmpty, "ChannelMLP needs at least one layer")
    fcs = layers
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    for j in fcs.indices { fcs[j].visitParameters { body("fcs.\(j)." + $0, &$1) } }
  }

  /// Applies the layers with GELU between them. Two layers (the FNO's lifting, block MLPs and
  /// projection) run fused over tiles of points (``fusedChannelMLP(_:weight1:bias1:weight2:bias2:tile:)``).
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    if fcs.count == 2 {
      return fusedChannelMLP(
        x, weight1: fcs[0].weight, bias1: fcs[0].bias, weight2: fcs[1].weight, bias2: fcs[1].bias)
    }
    var h = x
    for (j, fc) in fcs.enumerated() {
      h = fc(h)
      if j < fcs.count - 1 { h = gelu(h) }
    }
    return h
  }
}

/// Soft-gating skip connection: a learned weight per channel, neuraloperator's `SoftGating`.
///
/// ```
/// y = x ⊙ w         x: [B, C, n₁, …, n_d],  w: [1, C, 1, …, 1] (d ones)
/// w = 1  (initialization)
/// ```
///
/// ### See Also
/// - ``FNOBlock``
public struct SoftGating<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Gate, shape [1, C, 1, …, 1].
  public var weight: Tensor<T>

  /// A gate of ones for `channels` channels over `dimensions` spatial axes.
  public init(channels: Int, dimensions: Int) {
    weight = Tensor(NDArray(shape: [1, channels] + Array(repeating: 1, count: dimensions), repeating: 1))
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    body("weight", &weight)
  }

  /// `x ⊙ w` broadcast over batch and space.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> { x * weight }
}
