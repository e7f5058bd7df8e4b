// The part FactFormer and IFactFormer-m share: per layer a Fourier positional encoding and a
// factorized attention block, the pointwise decoder, the axis coordinates and the checkpoint
// buffers (the fixed Fourier frequencies). How the layers update the field — once with a residual
// (FactFormer) or L times with step 1/L (IFactFormer-m) — is the models' own.
import Foundation
import Numerics

/// The layers and decoder of a factorized transformer on a channel-last field.
///
/// ```
/// layer ℓ:  positionals[ℓ] (Fourier features of the grid, added to u),  blocks[ℓ] (FactorizedAttention)
/// decode(u) = Linear(C/2 → out)(gelu(Linear(C → C/2, no bias)(u)))       (IFactFormer-m's simple_to_out)
/// ```
///
/// Parameters `layers.{ℓ}.positional.linear.*`, `layers.{ℓ}.attention.*`, `decoder.{0,1}.*`;
/// buffers `layers.{ℓ}.positional.frequencies`.
public struct FactorizedTransformerLayers<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Positional encoding of each layer.
  public var positionals: [FourierPositionalEncoding<T>]
  /// Attention block of each layer.
  public var blocks: [FactorizedAttention<T>]
  /// C → C/2 (no bias), then C/2 → out.
  public var decoder: [Linear<T>]
  /// Coordinate length of each axis: axis a has coordinates linspace(0, domainLength[a], n_a).
  public let domainLength: [Double]

  /// `depth` layers of width `width`, drawn from `rng` layer by layer (encoding, then block), then the decoder.
  public init(
    dimensions: Int, width: Int, depth: Int, heads: Int, headWidth: Int, kernelMultiplier: Int,
    combination: AxialCombination, fourierScale: Double, outChannels: Int, domainLength: [Double],
    rng: inout PhiloxRandom
  ) {
    var positionals: [FourierPositionalEncoding<T>] = []
    var blocks: [FactorizedAttention<T>] = []
    for _ in 0..<depth {
      positionals.append(
        FourierPositionalEncoding(dimensions: dimensions, channels: width, scale: fourierScale, rng: &rng))
      blocks.append(
        FactorizedAttention(
          dimensions: dimensions, channels: width, heads: heads, headWidth: headWidth,
          kernelMultiplier: kernelMultiplier, combination: combination, rng: &rng))
    }
    self.positionals = positionals
    self.blocks = blocks
    decoder = [Linear(width, width / 2, bias: false, rng: &rng), Linear(width / 2, outChannels, rng: &rng)]
    self.domainLength = domainLength
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    for l in blocks.indices {
      positionals[l].visitParameters { body("layers.\(l).positional." + $0, &$1) }
      blocks[l].visitParameters { body("layers.\(l).attention." + $0, &$1) }
    }
    for j in decoder.indices { decoder[j].visitParameters { body("decoder.\(j)." + $0, &$1) } }
  }

  /// The coordinates of each axis of a grid of extents `grid`.
  public func coordinates(grid: [Int]) -> [[Double]] {
    zip(grid, domainLength).map { axisCoordinates(count: $0, length: $1) }
  }

  /// The decoder applied to a channel-last field, returned channel-first [B, out, n₁, …, n_d].
  public func decode(_ u: Tensor<T>) -> Tensor<T> { channelsFirst(decoder[1](gelu(decoder[0](u)))) }

  /// The fixed Fourier frequencies by buffer name.
  public func namedBuffers() -> [(name: String, value: NDArray<T>)] {
    positionals.enumerated().map { ("layers.\($0.offset).positional.frequencies", $0.element.frequencies) }
  }

  /// Loads `layers.{ℓ}.positional.frequencies`; every buffer must be present with its shape and no
  /// other buffer may be given.
  public mutating func loadBuffers(_ values: [String: NDArray<T>], modelName: String) throws {
    var problems: [String] = []
    var known = Set<String>()
    for l in positionals.indices {
      let name = "layers.\(l).positional.frequencies"
      known.insert(name)
      guard let v = values[name] else {
        problems.append("missing buffer \(name)")
        continue
      }
      guard v.shape == positionals[l].frequencies.shape else {
        problems.append("buffer \(name) has shape \(v.shape), expected \(positionals[l].frequencies.shape)")
        continue
      }
      positionals[l].frequencies = v
    }
    for name in values.keys.sorted() where !known.contains(name) {
      problems.append("unknown buffer \(name) (not part of this \(modelName) model)")
    }
    guard problems.isEmpty else { throw OperatorsError.parameterMismatch(problems) }
  }
}

/// Scalars (parameters and the Fourier-frequency buffers) of ``FactorizedTransformerLayers`` with
/// these sizes, counted without building them; nil on overflow. Mirrors the initializers above and
/// in FactorizedAttention.swift (a test compares it with built models).
func factorizedTransformerStorage(
  dimensions d: Int, width c: Int, depth: Int, heads h: Int, headWidth w: Int, kernelMultiplier m: Int,
  combination: AxialCombination, outChannels: Int
) -> Int? {
  typealias N = CheckedCount
  let reducer = N.sum([N.product([c, c]), 2 * c, N.denseLayers([c, 2 * c]), N.denseLayers([c, c])])
  let kernel = N.product([2, c, h, w, m])  // toQ and toK, bias-free
  let merged = N.product([h, w, combination == .parallel ? d : 1])
  let attention = N.sum([
    2 * c,  // input LayerNorm
    N.product([c, h, w]),  // toV
    N.product([c, c]),  // toIn
    reducer.flatMap { N.product([$0, d]) }, kernel.flatMap { N.product([$0, d]) },
    merged.flatMap { N.product([$0, c]) },  // outFirst
    N.product([c, c]),  // outSecond
  ])
  let positional = N.sum([N.product([d, c / 2]), N.denseLayers([c, c])])
  let layer = N.sum([positional, attention])
  return N.sum([
    layer.flatMap { N.product([$0, depth]) }, N.product([c, c / 2]), N.denseLayers([c / 2, outChannels]),
  ])
}
