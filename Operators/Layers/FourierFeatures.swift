// Gaussian Fourier features of the grid coordinates followed by a linear layer: the positional
// encoding that FactFormer and IFactFormer-m add to the field before every layer
// (`nn.Sequential(GaussianFourierFeatureTransform(d, dim // 2, scale), nn.Linear(dim, dim))`).
// Reference: M. Tancik et al., "Fourier Features Let Networks Learn High Frequency Functions in
// Low Dimensional Domains", NeurIPS 2020.
import Foundation
import Numerics

/// A positional encoding of a d-dimensional grid: fixed random Fourier features, then a learned
/// linear map.
///
/// ```
/// p: grid coordinates [n₁·…·n_d, d]  (meshgrid "ij" of the axis coordinates)
/// φ(p) = [sin(2π p·F), cos(2π p·F)]            F: [d, C/2] ~ N(0, scale²), fixed (a buffer)
/// e(p) = φ(p) · Wᵀ + b                          Linear(C, C), PyTorch default initialization
/// output: [1, n₁, …, n_d, C], added to a channel-last field
/// ```
///
/// Parameters `linear.weight`, `linear.bias`; the frequencies F are a non-trainable buffer.
public struct FourierPositionalEncoding<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Fixed frequencies F [d, C/2].
  public var frequencies: NDArray<T>
  /// The learned map C → C.
  public var linear: Linear<T>

  /// An encoding of `channels` (even) features for `dimensions` axes with frequency scale `scale`.
  public init(dimensions: Int, channels: Int, scale: Double, rng: inout PhiloxRandom) {
    precondition(channels >= 2 && channels % 2 == 0, "Fourier features need an even channel count, got \(channels)")
    frequencies = normalParameter([dimensions, channels / 2], std: scale, rng: &rng).value
    linear = Linear(channels, channels, rng: &rng)
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    linear.visitParameters { body("linear." + $0, &$1) }
  }

  /// The encoding [1, n₁, …, n_d, C] of the grid whose axis a has coordinates `coordinates[a]`.
  public func callAsFunction(coordinates: [[Double]]) -> Tensor<T> {
    let d = coordinates.count
    precondition(d == frequencies.shape[0], "expected \(frequencies.shape[0]) coordinate axes, got \(d)")
    let half = frequencies.shape[1]
    let grid = coordinates.map(\.count)
    let points = grid.reduce(1, *)
    let f = frequencies.scalars.map(Double.init)
    let key = FourierFeatureKey(single: T.self == Float.self, frequencies: f, coordinates: coordinates)
    let features = fourierFeatureTables.value(key) {
      NDArray<T>(shape: [points, 2 * half]) { out in
        var index = [Int](repeating: 0, count: d)
        for p in 0..<points {
          var rest = p
          for a in stride(from: d - 1, through: 0, by: -1) {
            index[a] = rest % grid[a]
            rest /= grid[a]
          }
          for j in 0..<half {
            var s = 0.0
            for a in 0..<d { s += coordinates[a][index[a]] * f[a * half + j] }
            let angle = 2 * Double.pi * s
            out[p * 2 * half + j] = T(sin(angle))
            out[p * 2 * half + half + j] = T(cos(angle))
          }
        }
      }
    }
    return linear(Tensor(features)).reshaped([1] + grid + [2 * half])
  }
}

/// What the sin/cos table of ``FourierPositionalEncoding`` depends on.
private struct FourierFeatureKey: Hashable, Sendable {
  let single: Bool
  let frequencies: [Double]
  let coordinates: [[Double]]
}

/// The tables already computed (fixed for a model and a grid; recomputing them on every forward
/// pass was 6–7% of a FactFormer training step).
private let fourierFeatureTables = MemoTable<FourierFeatureKey>()

/// [B, C, n₁, …, n_d] → [B, n₁, …, n_d, C].
func channelsLast<T: RealScalar>(_ x: Tensor<T>) -> Tensor<T> {
  x.permuted([0] + Array(2..<x.rank) + [1])
}

/// [B, n₁, …, n_d, C] → [B, C, n₁, …, n_d].
func channelsFirst<T: RealScalar>(_ x: Tensor<T>) -> Tensor<T> {
  x.permuted([0, x.rank - 1] + Array(1..<(x.rank - 1)))
}
