// IFactFormer-m: the implicit factorized transformer. Each layer holds one factorized attention
// block, shared across L applications u ← u + block(u)/L, whose axial kernels act on the values
// in parallel (concatenated per head, then instance-normalized) instead of as a chain.
// Reference: H. Yang, Y. Wang, J. Wang, "Implicit factorized transformer approach to fast prediction
// of turbulent channel flows", Sci. China Phys. Mech. Astron. 69, 214606 (2026), arXiv:2412.18840; huiyu-2002/IFactFormer-m `libs/model.py`
// (`FactorizedTransformer`, `Model`) and `libs/factorization_module.py` (`FABlock3D_m`).
//
// Differences from the reference, which works on 3D fields with a time window: the encoder's first
// layer is a dense pointwise layer (the reference's grouped Conv2d, groups = in_dim, equals it for
// one input channel), and input time frames are ordinary channels; 1D and 2D grids are also allowed.
import Foundation
import Numerics

/// Hyperparameters of an ``IFactFormer``. Defaults: the reference configuration (dim 96, depth 1,
/// L = 10, 5 heads × 96, kernel multiplier 3, Fourier-feature scale 8, coordinates linspace(0, 2π, n)).
public struct IFactFormerConfiguration: Codable, Sendable, Hashable, FactorizedTransformerConfiguration {
  /// Input channels (fields, or time frames of a field).
  public var inChannels: Int
  /// Output channels.
  public var outChannels: Int
  /// Spatial axes (1–3).
  public var dimensions: Int
  /// Transformer width (`dim`), even.
  public var width: Int
  /// Number of distinct layers (`depth`).
  public var depth: Int
  /// Applications L of each layer's shared block (`n_layer`).
  public var repeats: Int
  /// Attention heads.
  public var heads: Int
  /// Value width per head (`dim_head`).
  public var headWidth: Int
  /// Query/key width per head = headWidth · kernelMultiplier.
  public var kernelMultiplier: Int
  /// Standard deviation of the Fourier-feature frequencies.
  public var fourierScale: Double
  /// Coordinate length per axis: axis a has coordinates linspace(0, domainLength[a], n_a).
  public var domainLength: [Double]

  /// A configuration; unspecified options take the reference values.
  public init(
    inChannels: Int, outChannels: Int, dimensions: Int, width: Int = 96, depth: Int = 1, repeats: Int = 10,
    heads: Int = 5, headWidth: Int = 96, kernelMultiplier: Int = 3, fourierScale: Double = 8,
    domainLength: [Double]? = nil
  ) {
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.dimensions = dimensions
    self.width = width
    self.depth = depth
    self.repeats = repeats
    self.heads = heads
    self.headWidth = headWidth
    self.kernelMultiplier = kernelMultiplier
    self.fourierScale = fourierScale
    self.domainLength = domainLength ?? Array(repeating: 2 * Double.pi, count: dimensions)
  }

  /// Throws ``OperatorsError/invalidArgument(_:)`` naming the first invalid value.
  public func validate() throws {
    try validateShared()
    if repeats < 1 { throw OperatorsError.invalidArgument("repeats L must be ≥ 1, got \(repeats)") }
  }
}

/// The implicit factorized transformer IFactFormer-m.
///
/// ```
/// x: [B, in, n₁, …, n_d]  →  y: [B, out, n₁, …, n_d]        (channel-last inside)
/// u = Linear(C/2 → C, no bias)(gelu(Linear(in → C/2)(x)))
/// for each layer ℓ:  u ← u + P_ℓ(grid);   repeat L times: u ← u + A_ℓ(u) / L
///     A_ℓ: one FactorizedAttention with parallel axial kernels (shared by the L applications)
/// y = Linear(C/2 → out)(gelu(Linear(C → C/2, no bias)(u)))
/// ```
///
/// Parameters: `encoder.{0,1}.*`, `layers.{ℓ}.positional.linear.*`, `layers.{ℓ}.attention.*`,
/// `decoder.{0,1}.*`; buffers `layers.{ℓ}.positional.frequencies`.
///
/// ```swift
/// let config = IFactFormerConfiguration(inChannels: 1, outChannels: 1, dimensions: 2, width: 32, repeats: 4,
///                                       heads: 2, headWidth: 8)
/// let model = IFactFormer<Float>(config, seed: 0)
/// ```
///
/// ### See Also
/// - ``FactorizedAttention``
/// - ``FactFormer``
public struct IFactFormer<T: RealScalar>: Module {
  public typealias Scalar = T
  /// The hyperparameters.
  public let configuration: IFactFormerConfiguration
  /// in → C/2, then C/2 → C (no bias).
  public var encoder: [Linear<T>]
  /// Positional encodings, shared attention blocks (parallel) and decoder.
  public var body: FactorizedTransformerLayers<T>

  /// A model initialized from `seed`. The configuration must be valid (``IFactFormerConfiguration/validate()``).
  public init(_ configuration: IFactFormerConfiguration, seed: UInt64) {
    do { try configuration.validate() } catch { preconditionFailure("\(error)") }
    let c = configuration
    self.configuration = c
    var rng = PhiloxRandom(seed: seed)
    encoder = [Linear(c.inChannels, c.width / 2, rng: &rng), Linear(c.width / 2, c.width, bias: false, rng: &rng)]
    body = FactorizedTransformerLayers(
      dimensions: c.dimensions, width: c.width, depth: c.depth, heads: c.heads, headWidth: c.headWidth,
      kernelMultiplier: c.kernelMultiplier, combination: .parallel, fourierScale: c.fourierScale,
      outChannels: c.outChannels, domainLength: c.domainLength, rng: &rng)
  }

  public mutating func visitParameters(_ visit: (String, inout Tensor<T>) -> Void) {
    for j in encoder.indices { encoder[j].visitParameters { visit("encoder.\(j)." + $0, &$1) } }
    body.visitParameters(visit)
  }

  /// Applies the model to `[B, in, n₁, …, n_d]`.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    let c = configuration
    precondition(
      x.rank == c.dimensions + 2 && x.shape[1] == c.inChannels,
      "IFactFormer expects [batch, \(c.inChannels), \(c.dimensions) spatial axes], got \(x.shape)")
    let coords = body.coordinates(grid: Array(x.shape[2...]))
    var u = encoder[1](gelu(encoder[0](channelsLast(x))))
    let step = T(1) / T(c.repeats)
    for l in body.blocks.indices {
      u = u + body.positionals[l](coordinates: coords)
      for _ in 0..<c.repeats { u = u + body.blocks[l](u, coordinates: coords, scale: step) }
    }
    return body.decode(u)
  }

  /// Inference on an array (no tape).
  public func callAsFunction(_ x: NDArray<T>) -> NDArray<T> { self(Tensor(x)).value }
}

extension IFactFormer: NeuralOperator {
  public static var modelName: String { "ifactformer" }
  public var inputChannels: Int { configuration.inChannels }
  public var outputChannels: Int { configuration.outChannels }
  public var spatialDimensions: Int { configuration.dimensions }
  public static func validate(_ configuration: Configuration) throws { try configuration.validate() }

  public static func storageCount(_ c: Configuration) -> Int? {
    CheckedCount.sum([
      CheckedCount.denseLayers([c.inChannels, c.width / 2]), CheckedCount.product([c.width / 2, c.width]),
      c.bodyStorage(.parallel),
    ])
  }
  public func namedBuffers() -> [(name: String, value: NDArray<T>)] { body.namedBuffers() }
  public mutating func loadBuffers(_ values: [String: NDArray<T>]) throws {
    try body.loadBuffers(values, modelName: Self.modelName)
  }
}
