// FactFormer: a transformer whose attention over the N grid points is factorized into one learned
// kernel per axis (see `FactorizedAttention`), applied as a chain of axial products.
// Reference: Z. Li, D. Shu, A. Barati Farimani, "Scalable Transformer for PDE Surrogate Modeling",
// NeurIPS 2023; BaratiLab/FactFormer `examples/turb_ns2d_fact_lm.py` (`FactorizedTransformer`,
// `FactFormer2D`).
//
// Follows the reference encoder and layers: Linear(in → dim) lifting, then per layer the Gaussian
// Fourier positional encoding (scale 8) added to the field and u ← u + FABlock(u). The decoder is
// IFactFormer-m's `simple_to_out` (pointwise dim → dim/2 → out with GELU), not KM2D's latent
// propagator with grouped-convolution head, which predicts several future steps at once; PDEKit's
// FactFormer predicts the target fields of one sample.
import Foundation
import Numerics

/// Hyperparameters of a ``FactFormer``. Defaults: the reference KM2D configuration (dim 128,
/// depth 4, 8 heads × 64, kernel multiplier 2, Fourier-feature scale 8, coordinates linspace(0, 2π, n)).
public struct FactFormerConfiguration: Codable, Sendable, Hashable, FactorizedTransformerConfiguration {
  /// Input channels (fields, or time frames of a field).
  public var inChannels: Int
  /// Output channels.
  public var outChannels: Int
  /// Spatial axes (1–3).
  public var dimensions: Int
  /// Transformer width (`dim`), even.
  public var width: Int
  /// Number of layers (`depth`).
  public var depth: Int
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

  /// A configuration; unspecified options take the reference KM2D values.
  public init(
    inChannels: Int, outChannels: Int, dimensions: Int, width: Int = 128, depth: Int = 4, heads: Int = 8,
    headWidth: Int = 64, kernelMultiplier: Int = 2, fourierScale: Double = 8, domainLength: [Double]? = nil
  ) {
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.dimensions = dimensions
    self.width = width
    self.depth = depth
    self.heads = heads
    self.headWidth = headWidth
    self.kernelMultiplier = kernelMultiplier
    self.fourierScale = fourierScale
    self.domainLength = domainLength ?? Array(repeating: 2 * Double.pi, count: dimensions)
  }

  /// Throws ``OperatorsError/invalidArgument(_:)`` naming the first invalid value.
  public func validate() throws {
    try validateShared()
  }
}

/// The hyperparameters FactFormer and IFactFormer-m share, so that their checks and size counts
/// are written once.
protocol FactorizedTransformerConfiguration {
  var inChannels: Int { get }
  var outChannels: Int { get }
  var dimensions: Int { get }
  var width: Int { get }
  var depth: Int { get }
  var heads: Int { get }
  var headWidth: Int { get }
  var kernelMultiplier: Int { get }
  var domainLength: [Double] { get }
}

extension FactorizedTransformerConfiguration {
  /// Checks the sizes shared by the factorized transformers.
  func validateShared() throws {
    func fail(_ s: String) throws { throw OperatorsError.invalidArgument(s) }
    if !(1...3).contains(dimensions) { try fail("factorized transformers take 1–3 spatial axes, got \(dimensions)") }
    if inChannels < 1 || outChannels < 1 { try fail("input and output channels must be ≥ 1") }
    if width < 2 || width % 2 != 0 { try fail("width must be even and ≥ 2 (Fourier features), got \(width)") }
    if depth < 1 || heads < 1 || headWidth < 1 || kernelMultiplier < 1 {
      try fail("depth, heads, head width and kernel multiplier must be ≥ 1")
    }
    if [inChannels, outChannels, width, depth, heads, headWidth, kernelMultiplier].contains(where: { $0 > 1 << 20 }) {
      try fail("sizes must be at most 2^20 (channels, width, depth, heads, head width, kernel multiplier)")
    }
    if (headWidth * kernelMultiplier) % 2 != 0 {
      try fail(
        "head width × kernel multiplier = \(headWidth * kernelMultiplier) must be even (rotary embedding); "
          + "change --head-width or --kernel-multiplier")
    }
    if domainLength.count != dimensions || !domainLength.allSatisfy({ $0 > 0 && $0.isFinite }) {
      try fail("domain length needs \(dimensions) positive values, got \(domainLength)")
    }
  }

  /// Scalars of the shared transformer body (see ``factorizedTransformerStorage``).
  func bodyStorage(_ combination: AxialCombination) -> Int? {
    factorizedTransformerStorage(
      dimensions: dimensions, width: width, depth: depth, heads: heads, headWidth: headWidth,
      kernelMultiplier: kernelMultiplier, combination: combination, outChannels: outChannels)
  }
}

/// The factorized transformer of Li, Shu & Barati Farimani (2023).
///
/// ```
/// x: [B, in, n₁, …, n_d]  →  y: [B, out, n₁, …, n_d]        (channel-last inside)
/// u = Linear(in → C)(x)
/// for each layer ℓ:  u ← u + P_ℓ(grid);   u ← u + FactorizedAttention_ℓ(u)      (chained axial kernels)
/// y = Linear(C/2 → out)(gelu(Linear(C → C/2, no bias)(u)))
/// ```
///
/// Attention costs O(N · Σ_a n_a) per head and channel for N = Π n_a grid points; no N × N
/// matrix is formed. Parameters: `encoder.*`, `layers.{ℓ}.positional.linear.*`,
/// `layers.{ℓ}.attention.*` (see ``FactorizedAttention``), `decoder.{0,1}.*`; buffers
/// `layers.{ℓ}.positional.frequencies`. Initialization draws everything from one
/// `PhiloxRandom(seed:)` stream in that order.
///
/// ```swift
/// let config = FactFormerConfiguration(inChannels: 1, outChannels: 1, dimensions: 2, width: 32, depth: 2,
///                                      heads: 4, headWidth: 8)
/// let model = FactFormer<Float>(config, seed: 0)
/// let y = model(Tensor(x))                      // [B, 1, 64, 64] → [B, 1, 64, 64]
/// ```
///
/// ### See Also
/// - ``FactorizedAttention``
/// - ``IFactFormer``
public struct FactFormer<T: RealScalar>: Module {
  public typealias Scalar = T
  /// The hyperparameters.
  public let configuration: FactFormerConfiguration
  /// Lifting in → C.
  public var encoder: Linear<T>
  /// Positional encodings, attention blocks (chained) and decoder.
  public var body: FactorizedTransformerLayers<T>

  /// A model initialized from `seed`. The configuration must be valid (``FactFormerConfiguration/validate()``).
  public init(_ configuration: FactFormerConfiguration, seed: UInt64) {
    do { try configuration.validate() } catch { preconditionFailure("\(error)") }
    let c = configuration
    self.configuration = c
    var rng = PhiloxRandom(seed: seed)
    encoder = Linear(c.inChannels, c.width, rng: &rng)
    body = FactorizedTransformerLayers(
      dimensions: c.dimensions, width: c.width, depth: c.depth, heads: c.heads, headWidth: c.headWidth,
      kernelMultiplier: c.kernelMultiplier, combination: .chained, fourierScale: c.fourierScale,
      outChannels: c.outChannels, domainLength: c.domainLength, rng: &rng)
  }

  public mutating func visitParameters(_ visit: (String, inout Tensor<T>) -> Void) {
    encoder.visitParameters { visit("encoder." + $0, &$1) }
    body.visitParameters(visit)
  }

  /// Applies the model to `[B, in, n₁, …, n_d]`.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    let c = configuration
    precondition(
      x.rank == c.dimensions + 2 && x.shape[1] == c.inChannels,
      "FactFormer expects [batch, \(c.inChannels), \(c.dimensions) spatial axes], got \(x.shape)")
    let coords = body.coordinates(grid: Array(x.shape[2...]))
    var u = encoder(channelsLast(x))
    for l in body.blocks.indices {
      u = u + body.positionals[l](coordinates: coords)
      u = u + body.blocks[l](u, coordinates: coords)
    }
    return body.decode(u)
  }

  /// Inference on an array (no tape).
  public func callAsFunction(_ x: NDArray<T>) -> NDArray<T> { self(Tensor(x)).value }
}

extension FactFormer: NeuralOperator {
  public static var modelName: String { "factformer" }
  public var inputChannels: Int { configuration.inChannels }
  public var outputChannels: Int { configuration.outChannels }
  public var spatialDimensions: Int { configuration.dimensions }
  public static func validate(_ configuration: Configuration) throws { try configuration.validate() }

  public static func storageCount(_ c: Configuration) -> Int? {
    CheckedCount.sum([
      CheckedCount.denseLayers([c.inChannels, c.width]),
      c.bodyStorage(.chained),
    ])
  }
  public func namedBuffers() -> [(name: String, value: NDArray<T>)] { body.namedBuffers() }
  public mutating func loadBuffers(_ values: [String: NDArray<T>]) throws {
    try body.loadBuffers(values, modelName: Self.modelName)
  }
}
