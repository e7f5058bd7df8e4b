// The Fourier neural operator with neuraloperator 2.0's defaults (neuralop/models/fno.py):
// grid positional embedding, lifting channel MLP, n Fourier layers, projection channel MLP.
// Reference: Z. Li, N. Kovachki, K. Azizzadenesheli, B. Liu, K. Bhattacharya, A. Stuart,
// A. Anandkumar, "Fourier Neural Operator for Parametric Partial Differential Equations",
// ICLR 2021; J. Kossaifi et al., "A Library for Learning Neural Operators", arXiv:2412.10354.
//
// Not implemented (neuraloperator options off by default): domain padding, normalization layers,
// factorized (Tucker/CP/TT) spectral weights, complex-valued data, preactivation, output_shape.
import Numerics

/// Hyperparameters of an ``FNO``, with neuraloperator 2.0's defaults.
///
/// ```swift
/// let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 32, modes: [12, 12])
/// // layers 4, lifting/projection ratio 2, channel-MLP expansion 0.5, grid embedding on
/// ```
///
/// Codable, so that a checkpoint can carry it as JSON metadata.
public struct FNOConfiguration: Codable, Sendable, Hashable {
  /// Data channels of the input function (without the grid embedding).
  public var inChannels: Int
  /// Channels of the output function.
  public var outChannels: Int
  /// Width of the Fourier layers (neuraloperator's `hidden_channels`).
  public var hiddenChannels: Int
  /// Fourier modes per spatial axis (neuraloperator's `n_modes`); its length is the dimension d.
  public var modes: [Int]
  /// Number of Fourier layers (`n_layers`, default 4).
  public var layers: Int
  /// Lifting hidden width / hiddenChannels (`lifting_channel_ratio`, default 2).
  public var liftingChannelRatio: Double
  /// Projection hidden width / hiddenChannels (`projection_channel_ratio`, default 2).
  public var projectionChannelRatio: Double
  /// Channel-MLP hidden width / hiddenChannels inside each block (`channel_mlp_expansion`, 0.5).
  public var channelMLPExpansion: Double
  /// Whether to append the grid coordinates to the input (`positional_embedding="grid"`).
  public var positionalEmbedding: Bool

  /// A configuration; unspecified options take neuraloperator 2.0's defaults.
  public init(
    inChannels: Int, outChannels: Int, hiddenChannels: Int, modes: [Int], layers: Int = 4,
    liftingChannelRatio: Double = 2, projectionChannelRatio: Double = 2, channelMLPExpansion: Double = 0.5,
    positionalEmbedding: Bool = true
  ) {
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.hiddenChannels = hiddenChannels
    self.modes = modes
    self.layers = layers
    self.liftingChannelRatio = liftingChannelRatio
    self.projectionChannelRatio = projectionChannelRatio
    self.channelMLPExpansion = channelMLPExpansion
    self.positionalEmbedding = positionalEmbedding
  }

  /// Number of spatial axes.
  public var dimensions: Int { modes.count }
  /// Lifting hidden width, `int(ratio · hiddenChannels)`.
  public var liftingChannels: Int { Int(liftingChannelRatio * Double(hiddenChannels)) }
  /// Projection hidden width, `int(ratio · hiddenChannels)`.
  public var projectionChannels: Int { Int(projectionChannelRatio * Double(hiddenChannels)) }
}

/// A parameter's name and layout in a neuraloperator 2.0 `FNO.state_dict()`.
public struct NeuraloperatorParameter: Sendable, Hashable {
  /// The state_dict key, e.g. `fno_blocks.convs.0.weight.tensor`.
  public var key: String
  /// The PyTorch shape (1×1 convolution weights carry a trailing kernel axis of 1).
  public var shape: [Int]
  /// Whether the PyTorch tensor is complex64 (PDEKit stores it with a trailing axis of 2, as
  /// `torch.view_as_real`).
  public var isComplex: Bool

  /// A key, PyTorch shape and dtype flag.
  public init(key: String, shape: [Int], isComplex: Bool) {
    self.key = key
    self.shape = shape
    self.isComplex = isComplex
  }
}

/// The Fourier neural operator.
///
/// ```
/// x: [B, in, n₁, …, n_d]  →  y: [B, out, n₁, …, n_d]            d = modes.count (1–3)
/// h = GridEmbedding(x)                          [B, in + d, …]
/// h = lifting(h)      ChannelMLP in + d → 2·width → width (GELU between)
/// h = blockᵢ(h)       i = 0 … layers − 1, FNOBlock (no activation in the last)
/// y = projection(h)   ChannelMLP width → 2·width → out (GELU between)
/// ```
///
/// Initialization draws every parameter from one `PhiloxRandom(seed:)` stream in a fixed order
/// (lifting, blocks, projection), so a seed fixes the model; each layer documents its
/// distribution. The grid embedding makes the model evaluate on any grid (zero-shot
/// super-resolution with the same weights).
///
/// Parameter names and their neuraloperator 2.0 state_dict keys (block i, MLP layer j):
///
/// ```
/// lifting.fcs.{j}.weight               [h, c]           lifting.fcs.{j}.weight                [h, c, 1]
/// lifting.fcs.{j}.bias                 [h]              lifting.fcs.{j}.bias                  [h]
/// blocks.{i}.spectral.weight           [w, w, K…, 2]    fno_blocks.convs.{i}.weight.tensor    [w, w, K…] complex64
/// blocks.{i}.spectral.bias             [w, 1, …]        fno_blocks.convs.{i}.bias             [w, 1, …]
/// blocks.{i}.fnoSkip.weight            [w, w]           fno_blocks.fno_skips.{i}.conv.weight  [w, w, 1]
/// blocks.{i}.channelMLP.fcs.{j}.weight [h, c]           fno_blocks.channel_mlp.{i}.fcs.{j}.weight [h, c, 1]
/// blocks.{i}.channelMLP.fcs.{j}.bias   [h]              fno_blocks.channel_mlp.{i}.fcs.{j}.bias   [h]
/// blocks.{i}.channelMLPSkip.weight     [1, w, 1, …]     fno_blocks.channel_mlp_skips.{i}.weight [1, w, 1, …]
/// projection.fcs.{j}.weight            [h, c]           projection.fcs.{j}.weight             [h, c, 1]
/// projection.fcs.{j}.bias              [h]              projection.fcs.{j}.bias               [h]
/// ```
///
/// 2D, width 32, modes (12, 12), in = out = 1, 4 layers: 701,281 real parameters.
///
/// ```swift
/// let fno = FNO<Float>(FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 32, modes: [12, 12]), seed: 0)
/// let y = fno(x)                                // [B, 1, 64, 64] → [B, 1, 64, 64]
/// let (loss, grads) = valueAndGradient(at: fno) { m in LpLoss(spatialDimensions: 2)(m(Tensor(x)), Tensor(y)) }
/// ```
///
/// ### See Also
/// - ``FNOBlock``
/// - ``FNOConfiguration``
/// - ``neuraloperatorName(_:)``
public struct FNO<T: RealScalar>: Module {
  public typealias Scalar = T
  /// The hyperparameters.
  public let configuration: FNOConfiguration
  /// Lifting MLP (in + d → liftingChannels → width).
  public var lifting: ChannelMLP<T>
  /// The Fourier layers.
  public var blocks: [FNOBlock<T>]
  /// Projection MLP (width → projectionChannels → out).
  public var projection: ChannelMLP<T>

  /// A model initialized from `seed`.
  public init(_ configuration: FNOConfiguration, seed: UInt64) {
    let c = configuration
    precondition((1...3).contains(c.dimensions), "FNO supports 1–3 spatial axes, got modes \(c.modes)")
    precondition(c.layers >= 1 && c.hiddenChannels >= 1, "FNO needs at least one layer and one channel")
    self.configuration = c
    var rng = PhiloxRandom(seed: seed)
    let liftIn = c.inChannels + (c.positionalEmbedding ? c.dimensions : 0)
    lifting = ChannelMLP(
      inChannels: liftIn, outChannels: c.hiddenChannels, hiddenChannels: c.liftingChannels, rng: &rng)
    blocks = (0..<c.layers).map { i in
      FNOBlock(
        channels: c.hiddenChannels, modes: c.modes, expansion: c.channelMLPExpansion, isLast: i == c.layers - 1,
        rng: &rng)
    }
    projection = ChannelMLP(
      inChannels: c.hiddenChannels, outChannels: c.outChannels, hiddenChannels: c.projectionChannels, rng: &rng)
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    lifting.visitParameters { body("lifting." + $0, &$1) }
    for i in blocks.indices { blocks[i].visitParameters { body("blocks.\(i)." + $0, &$1) } }
    projection.visitParameters { body("projection." + $0, &$1) }
  }

  /// Applies the operator to a batch of functions on a grid, `[B, in, n₁, …, n_d]`.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    precondition(
      x.rank == configuration.dimensions + 2 && x.shape[1] == configuration.inChannels,
      "FNO expects [batch, \(configuration.inChannels), \(configuration.dimensions) spatial axes], got \(x.shape)")
    var h = x
    if configuration.positionalEmbedding { h = GridEmbedding(dimensions: configuration.dimensions)(h) }
    h = lifting(h)
    for block in blocks { h = block(h) }
    return projection(h)
  }

  /// Inference on an array (no tape).
  public func callAsFunction(_ x: NDArray<T>) -> NDArray<T> { self(Tensor(x)).value }

  /// The neuraloperator 2.0 state_dict key of a PDEKit parameter name (see the table above),
  /// or nil for a name that is not an FNO parameter.
  public static func neuraloperatorName(_ name: String) -> String? {
    let parts = name.split(separator: ".").map(String.init)
    guard let head = parts.first else { return nil }
    switch head {
    case "lifting", "projection":
      return name
    case "blocks":
      guard parts.count >= 4, let i = Int(parts[1]) else { return nil }
      let rest = parts[3...].joined(separator: ".")
      switch parts[2] {
      case "spectral":
        if rest == "weight" { return "fno_blocks.convs.\(i).weight.tensor" }
        if rest == "bias" { return "fno_blocks.convs.\(i).bias" }
      case "fnoSkip" where rest == "weight": return "fno_blocks.fno_skips.\(i).conv.weight"
      case "channelMLP": return "fno_blocks.channel_mlp.\(i).\(rest)"
      case "channelMLPSkip" where rest == "weight": return "fno_blocks.channel_mlp_skips.\(i).weight"
      default: break
      }
      return nil
    default:
      return nil
    }
  }

  /// Every parameter with its neuraloperator 2.0 state_dict key, PyTorch shape and dtype.
  public func neuraloperatorParameters() -> [(name: String, parameter: NeuraloperatorParameter)] {
    namedParameters().map { name, value in
      let key = Self.neuraloperatorName(name)!
      if key.hasSuffix(".weight.tensor") {
        return (name, NeuraloperatorParameter(key: key, shape: Array(value.shape.dropLast()), isComplex: true))
      }
      let isPointwise = value.rank == 2 && (key.contains(".fcs.") || key.contains("fno_skips"))
      return (
        name, NeuraloperatorParameter(key: key, shape: isPointwise ? value.shape + [1] : value.shape, isComplex: false)
      )
    }
  }
}
