// Factorized (axial) attention of FactFormer and IFactFormer-m: each spatial axis gets a learned
// kernel K_a [n_a × n_a] per head, built from a pooled 1D summary of the field, and the kernels are
// applied to the values along their axes — chained (FactFormer) or in parallel and concatenated
// (IFactFormer-m). No N × N kernel over all grid points is ever formed: the cost is linear in the
// number of grid points times the extent of each axis.
//
// Follows BaratiLab/FactFormer `libs/factorization_module.py` (PoolingReducer, FABlock2D/3D) and
// `libs/attention.py` (LowRankKernel with rotary embedding, no softmax, no diagonal residual), and
// huiyu-2002/IFactFormer-m `libs/factorization_module.py` (FABlock3D_m).
// References: Z. Li, D. Shu, A. Barati Farimani, "Scalable Transformer for PDE Surrogate
// Modeling", NeurIPS 2023; H. Yang, Y. Wang, J. Wang, "Implicit factorized transformer
// approach to fast prediction of turbulent channel flows", arXiv:2412.18840.
import Foundation
import Numerics

/// How the axial kernels of a ``FactorizedAttention`` act on the values.
public enum AxialCombination: String, Codable, Sendable, Hashable {
  /// FactFormer: K₁ along the first axis, then K₂ along the second (then K₃): the values see the
  /// product kernel K₁ ⊗ K₂ (⊗ K₃). Output normalization: group norm, one group per head
  /// (unbiased variance, ε = 1e-8).
  case chained
  /// IFactFormer-m: each K_a applied to the same values, the d results concatenated on the
  /// channels of each head. Output normalization: instance norm (ε = 1e-5).
  case parallel
}

/// Grid coordinates of one axis as FactFormer's training scripts pass them:
/// `linspace(0, length, n)` (both ends included).
public func axisCoordinates(count n: Int, length: Double) -> [Double] {
  n <= 1 ? [0] : (0..<n).map { length * Double($0) / Double(n - 1) }
}

/// A bias-free linear layer with Xavier-uniform weights of the given gain
/// (`torch.nn.init.xavier_uniform_`: bound = gain · √(6 / (in + out))).
func xavierLinear<T: RealScalar>(_ inputs: Int, _ outputs: Int, gain: Double, rng: inout PhiloxRandom) -> Linear<T> {
  let bound = gain * (6 / Double(inputs + outputs)).squareRoot()
  return Linear(weight: uniformParameter([outputs, inputs], bound: bound, rng: &rng).value)
}

/// FactFormer's pooling reducer: a 1D summary of the field along one axis.
///
/// ```
/// u: [B, n₁, …, n_d, C]  →  [B, n_a, latent]
/// h = u · W_inᵀ                              (bias-free Linear(C, C))
/// h = mean of h over every spatial axis but a
/// h = LayerNorm(h)
/// y = Linear(C, latent)(gatedGELU(Linear(C, 2C)(h)))    (gelu of the first half ⊙ the second half)
/// ```
///
/// The mean commutes with the bias-free map, so PDEKit pools first and applies W_in to the
/// [B, n_a, C] summary (``callAsFunction(pooled:)``): the same result with a map over Σ n_a rows
/// instead of N = Π n_a (the reference applies it to every grid point).
///
/// Parameters: `toIn.weight`, `norm.{weight,bias}`, `expand.{weight,bias}`, `project.{weight,bias}`
/// (reference: `to_in`, `out_ffn.norm`, `out_ffn.fn.net.0`, `out_ffn.fn.net.3`).
public struct PoolingReducer<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Bias-free input map C → C.
  public var toIn: Linear<T>
  /// Normalization of the pooled features.
  public var norm: LayerNorm<T>
  /// C → 2C (the gated GELU halves it).
  public var expand: Linear<T>
  /// C → latent.
  public var project: Linear<T>

  /// A reducer of `channels` features to `latent` features (PyTorch default initialization).
  public init(channels: Int, latent: Int, rng: inout PhiloxRandom) {
    toIn = Linear(channels, channels, bias: false, rng: &rng)
    norm = LayerNorm(channels)
    expand = Linear(channels, 2 * channels, rng: &rng)
    project = Linear(channels, latent, rng: &rng)
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    toIn.visitParameters { body("toIn." + $0, &$1) }
    norm.visitParameters { body("norm." + $0, &$1) }
    expand.visitParameters { body("expand." + $0, &$1) }
    project.visitParameters { body("project." + $0, &$1) }
  }

  /// The summary along spatial axis `axis` (0-based) of a channel-last field with `dimensions` axes.
  public func callAsFunction(_ u: Tensor<T>, axis: Int, dimensions: Int) -> Tensor<T> {
    let others = (0..<dimensions).filter { $0 != axis }.map { $0 + 1 }
    return self(pooled: others.isEmpty ? u : u.mean(alongAxes: others))
  }

  /// The summary of an already pooled field `p` [B, n_a, C] (the mean of u over the other axes).
  public func callAsFunction(pooled p: Tensor<T>) -> Tensor<T> {
    project(gatedGELU(expand(norm(toIn(p)))))
  }
}

/// The kernel of one axis: queries and keys from the axis summary, rotary-embedded with the axis
/// coordinates, multiplied without softmax.
///
/// ```
/// r: [B, n, latent]  →  K: [B·H, n, n]
/// q = rotary(r · W_qᵀ),  k = rotary(r · W_kᵀ)     per head, width w = headWidth · kernelMultiplier
/// K[b, h] = scaling · q[b, h] · k[b, h]ᵀ           scaling = 1, or 1/√w when kernelMultiplier > 4
/// ```
///
/// W_q, W_k: bias-free, Xavier-uniform with gain 0.02 (as the reference). Parameters:
/// `toQ.weight`, `toK.weight` (reference: `low_rank_kernel_{x,y,z}.to_q`, `.to_k`).
public struct AxialKernel<T: RealScalar>: Module {
  public typealias Scalar = T
  /// latent → heads · w.
  public var toQ: Linear<T>
  /// latent → heads · w.
  public var toK: Linear<T>
  /// Number of heads.
  public let heads: Int
  /// Query/key width per head.
  public let width: Int
  /// Factor on q kᵀ.
  public let scaling: Double

  /// A kernel of `heads` heads of query/key width `width` from `latent` features.
  public init(latent: Int, heads: Int, width: Int, scaling: Double, rng: inout PhiloxRandom) {
    toQ = xavierLinear(latent, heads * width, gain: 0.02, rng: &rng)
    toK = xavierLinear(latent, heads * width, gain: 0.02, rng: &rng)
    self.heads = heads
    self.width = width
    self.scaling = scaling
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    toQ.visitParameters { body("toQ." + $0, &$1) }
    toK.visitParameters { body("toK." + $0, &$1) }
  }

  /// The kernels of every sample and head for a summary `r` [B, n, latent] at coordinates whose
  /// rotary angles are `angles` [n, width/2].
  public func callAsFunction(_ r: Tensor<T>, angles: NDArray<T>) -> Tensor<T> {
    let (b, n) = (r.shape[0], r.shape[1])
    func embed(_ layer: Linear<T>) -> Tensor<T> {
      rotaryEmbedding(layer(r).reshaped([b, n, heads, width]), angles: angles).permuted([0, 2, 1, 3])
        .reshaped([b * heads, n, width])
    }
    return batchedMatmul(embed(toQ), embed(toK), transposeB: true) * T(scaling)
  }
}

/// Factorized attention block on a channel-last field of 1–3 spatial axes.
///
/// ```
/// u: [B, n₁, …, n_d, C]  →  [B, n₁, …, n_d, C]
/// h = LayerNorm(u);  v = h · W_vᵀ  (C → H·c, bias-free);  s = h · W_inᵀ  (C → C, bias-free)
/// K_a = AxialKernel_a(PoolingReducer_a(s))           a = 1 … d,  K_a: [B, H, n_a, n_a]
/// chained:  z = K_d ×_d ( … (K_1 ×_1 v))             (×_a: product along axis a, per head)
/// parallel: z = concat_a (K_a ×_a v)  per head       (H · d·c channels)
/// z = Norm(z)        group norm per head (chained) or instance norm (parallel)
/// y = W₂ · gelu(W₁ · z)                              (bias-free Linear(H·c(·d) → C), Linear(C → C))
/// ```
///
/// The kernels have no softmax; their scaling is 1 unless `kernelMultiplier` > 4 (then
/// 1/√(c · kernelMultiplier)). The block returns the update only: FactFormer adds it to u,
/// IFactFormer-m adds 1/L of it.
///
/// Parameters (reference FABlock names): `inNorm.*` (in_norm), `toV.weight` (to_v), `toIn.weight`
/// (to_in), `reducers.{a}.*` (to_x.0 / to_y.1 / to_z.1), `kernels.{a}.*` (low_rank_kernel_{x,y,z}),
/// `outFirst.weight`, `outSecond.weight` (to_out Linear layers).
///
/// ```swift
/// var rng = PhiloxRandom(seed: 0)
/// let block = FactorizedAttention<Float>(
///   dimensions: 2, channels: 64, heads: 4, headWidth: 16, kernelMultiplier: 2, combination: .chained, rng: &rng)
/// let y = block(u, coordinates: [axisCoordinates(count: 32, length: 2 * .pi), axisCoordinates(count: 32, length: 2 * .pi)])
/// ```
public struct FactorizedAttention<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Normalization of the input.
  public var inNorm: LayerNorm<T>
  /// Values, C → H·c.
  public var toV: Linear<T>
  /// Input of the reducers, C → C.
  public var toIn: Linear<T>
  /// One pooling reducer per axis.
  public var reducers: [PoolingReducer<T>]
  /// One kernel per axis.
  public var kernels: [AxialKernel<T>]
  /// H·c (·d when parallel) → C.
  public var outFirst: Linear<T>
  /// C → C.
  public var outSecond: Linear<T>
  /// Spatial axes.
  public let dimensions: Int
  /// Heads.
  public let heads: Int
  /// Value width per head.
  public let headWidth: Int
  /// Chained (FactFormer) or parallel (IFactFormer-m).
  public let combination: AxialCombination

  /// A block for `channels` features, `heads` heads of value width `headWidth` and query/key
  /// width `headWidth · kernelMultiplier`; the reducers' latent width is `channels` (as both
  /// reference models). Draws from `rng` in the order of the stored properties.
  public init(
    dimensions: Int, channels: Int, heads: Int, headWidth: Int, kernelMultiplier: Int,
    combination: AxialCombination, rng: inout PhiloxRandom
  ) {
    precondition((1...3).contains(dimensions), "factorized attention supports 1–3 spatial axes, got \(dimensions)")
    precondition(channels >= 1 && heads >= 1 && headWidth >= 1 && kernelMultiplier >= 1, "sizes must be positive")
    let kernelWidth = headWidth * kernelMultiplier
    precondition(kernelWidth % 2 == 0, "the rotary embedding needs an even query width, got \(kernelWidth)")
    self.dimensions = dimensions
    self.heads = heads
    self.headWidth = headWidth
    self.combination = combination
    inNorm = LayerNorm(channels)
    toV = Linear(channels, heads * headWidth, bias: false, rng: &rng)
    toIn = Linear(channels, channels, bias: false, rng: &rng)
    reducers = (0..<dimensions).map { _ in PoolingReducer(channels: channels, latent: channels, rng: &rng) }
    let scaling = kernelMultiplier > 4 ? 1 / Double(kernelWidth).squareRoot() : 1
    kernels = (0..<dimensions).map { _ in
      AxialKernel(latent: channels, heads: heads, width: kernelWidth, scaling: scaling, rng: &rng)
    }
    let merged = heads * headWidth * (combination == .parallel ? dimensions : 1)
    outFirst = Linear(merged, channels, bias: false, rng: &rng)
    outSecond = Linear(channels, channels, bias: false, rng: &rng)
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    inNorm.visitParameters { body("inNorm." + $0, &$1) }
    toV.visitParameters { body("toV." + $0, &$1) }
    toIn.visitParameters { body("toIn." + $0, &$1) }
    for a in reducers.indices { reducers[a].visitParameters { body("reducers.\(a)." + $0, &$1) } }
    for a in kernels.indices { kernels[a].visitParameters { body("kernels.\(a)." + $0, &$1) } }
    outFirst.visitParameters { body("outFirst." + $0, &$1) }
    outSecond.visitParameters { body("outSecond." + $0, &$1) }
  }

  /// The kernels [B·H, n_a, n_a] of every axis for the field `u` at `coordinates` (one list per axis).
  public func axialKernels(_ u: Tensor<T>, coordinates: [[Double]]) -> [Tensor<T>] {
    axialKernels(normalized: inNorm(u), coordinates: coordinates)
  }

  /// The reducers' inputs are means of s = h · W_inᵀ over all axes but one; the means are taken of
  /// h (one pass for every axis, ``axialMeans(_:dimensions:)``) and W_in applied to the Σ n_a
  /// pooled rows — equal, since both maps are linear, and no N-row product is formed.
  private func axialKernels(normalized h: Tensor<T>, coordinates: [[Double]]) -> [Tensor<T>] {
    let s = toIn(axialMeans(h, dimensions: dimensions))
    var start = 0
    return (0..<dimensions).map { a in
      let n = h.shape[a + 1]
      defer { start += n }
      let angles: NDArray<T> = rotaryAngles(positions: coordinates[a], dimension: kernels[a].width)
      return kernels[a](reducers[a](pooled: s.narrowed(axis: 1, start..<(start + n))), angles: angles)
    }
  }

  /// The block's update for `u` [B, n₁, …, n_d, C] whose axis a has coordinates `coordinates[a]`,
  /// times `scale` (IFactFormer-m's 1/L; applied to W₂, not to the field).
  public func callAsFunction(_ u: Tensor<T>, coordinates: [[Double]], scale: T = 1) -> Tensor<T> {
    let d = dimensions
    precondition(u.rank == d + 2, "factorized attention expects [batch, \(d) spatial axes, channels], got \(u.shape)")
    precondition(
      coordinates.count == d && (0..<d).allSatisfy { coordinates[$0].count == u.shape[$0 + 1] },
      "factorized attention: coordinates do not match the grid \(u.shape)")
    let (b, channels) = (u.shape[0], u.shape[d + 1])
    let grid = Array(u.shape[1...d])
    let points = grid.reduce(1, *)
    let h = inNorm(u)
    let kernelsByAxis = axialKernels(normalized: h, coordinates: coordinates)
    // Values channel-first, straight from the map W_v: [B, H·c, N] = [B·H, c, n₁, …, n_d]. Each
    // head's channels hold whole grids, so the axial products run along axes 2… and the per-head
    // normalization sees contiguous sets: no permutation of the field anywhere.
    let v = layoutSwappingLinear(
      h.reshaped([b, points, channels]), weight: toV.weight, bias: toV.bias, .toChannelFirst
    )
    .reshaped([b * heads, headWidth] + grid)
    var z: Tensor<T>
    switch combination {
    case .chained:
      z = v
      for a in 0..<d { z = applyAlongAxis(kernelsByAxis[a], z, axis: a + 2) }
    case .parallel:
      z = parallelAxialProducts(kernelsByAxis, v, firstAxis: 2)
    }
    // [B·H, width, grid] → [B, H·width, N]: channel h·width + j, as the reference's channel order.
    let width = z.shape[1]
    z = z.reshaped([b, heads * width, points])
    switch combination {
    case .chained:
      // Group norm, one group per head: each (sample, head) set is `width · N` contiguous values.
      z = normalizeSets(z, outer: b * heads, positions: 1, groups: 1, width: width * points, eps: 1e-8, unbiased: true)
    case .parallel:
      // Instance norm: each (sample, channel) set is one contiguous row of N values.
      z = normalizeSets(z, outer: b * heads * width, positions: 1, groups: 1, width: points, eps: 1e-5, unbiased: false)
    }
    z = layoutSwappingLinear(z, weight: outFirst.weight, bias: outFirst.bias, .toChannelLast).reshaped(
      [b] + grid + [channels])
    if scale == 1 { return outSecond(gelu(z)) }
    return linear(gelu(z), weight: outSecond.weight * scale, bias: outSecond.bias.map { $0 * scale })
  }
}
