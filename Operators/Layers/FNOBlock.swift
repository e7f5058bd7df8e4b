// One Fourier layer of the FNO with neuraloperator 2.0's defaults (neuralop/layers/fno_block.py,
// `FNOBlocks.forward_with_postactivation`, no norm, channel MLP on, fno_skip "linear",
// channel_mlp_skip "soft-gating").
import Numerics

/// A Fourier layer: spectral convolution with a linear skip, then a channel MLP with a gated skip.
///
/// ```
/// x: [B, C, n₁, …, n_d]  →  [B, C, n₁, …, n_d]
/// s₁ = W_skip · x                          (1×1, no bias)
/// s₂ = x ⊙ g                               (soft gating, g: [1, C, 1, …], init 1)
/// h  = SpectralConv(x) + s₁;   h = gelu(h)  unless last
/// y  = ChannelMLP(h) + s₂;     y = gelu(y)  unless last       (MLP: C → C/2 → C, GELU between)
/// ```
///
/// The last block of an FNO has no activation at all (`isLast`). Parameter names: `spectral.*`,
/// `fnoSkip.weight`, `channelMLP.fcs.{0,1}.*`, `channelMLPSkip.weight`.
///
/// ### See Also
/// - ``FNO``
/// - ``SpectralConv``
public struct FNOBlock<T: RealScalar>: Module {
  public typealias Scalar = T
  /// The spectral convolution.
  public var spectral: SpectralConv<T>
  /// Linear (1×1, no bias) skip around the spectral convolution.
  public var fnoSkip: PointwiseConv<T>
  /// The channel MLP after the spectral convolution.
  public var channelMLP: ChannelMLP<T>
  /// Soft-gating skip around the channel MLP, taken from the block input.
  public var channelMLPSkip: SoftGating<T>
  /// Whether this is the last block (no activations).
  public let isLast: Bool

  /// A block of `channels` channels keeping `modes`, with a channel MLP of
  /// `round(channels · expansion)` hidden channels; initialization as each layer documents,
  /// drawn from `rng` in the order spectral, skip, MLP.
  public init(channels: Int, modes: [Int], expansion: Double = 0.5, isLast: Bool, rng: inout PhiloxRandom) {
    spectral = SpectralConv(inChannels: channels, outChannels: channels, modes: modes, rng: &rng)
    fnoSkip = PointwiseConv(channels, channels, bias: false, rng: &rng)
    let hidden = Int((Double(channels) * expansion).rounded())
    channelMLP = ChannelMLP(inChannels: channels, outChannels: channels, hiddenChannels: hidden, rng: &rng)
    channelMLPSkip = SoftGating(channels: channels, dimensions: modes.count)
    self.isLast = isLast
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    spectral.visitParameters { body("spectral." + $0, &$1) }
    fnoSkip.visitParameters { body("fnoSkip." + $0, &$1) }
    channelMLP.visitParameters { body("channelMLP." + $0, &$1) }
    channelMLPSkip.visitParameters { body("channelMLPSkip." + $0, &$1) }
  }

  /// Applies the block: the spectral convolution, then the rest fused over tiles of points
  /// (``fusedFNOBlockTail(_:spectral:skipWeight:weight1:bias1:weight2:bias2:gate:activation:tile:)``);
  /// other layer shapes use ``addGELU(_:_:gate:activation:)`` around the layers.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    // neuraloperator's default block (bias-free skip, two-layer MLP with biases): everything after
    // the spectral convolution in one pass over tiles of points (fusedFNOBlockTail).
    let mlp = channelMLP.fcs
    if fnoSkip.bias == nil, mlp.count == 2, let b1 = mlp[0].bias, let b2 = mlp[1].bias {
      return fusedFNOBlockTail(
        x, spectral: spectral(x), skipWeight: fnoSkip.weight, weight1: mlp[0].weight, bias1: b1,
        weight2: mlp[1].weight, bias2: b2, gate: channelMLPSkip.weight, activation: !isLast)
    }
    let h = addGELU(spectral(x), fnoSkip(x), activation: !isLast)
    return addGELU(channelMLP(h), x, gate: channelMLPSkip.weight, activation: !isLast)
  }
}
