// Channel-wise standardization of inputs and targets, neuraloperator's UnitGaussianNormalizer
// (neuralop/data/transforms/normalizers.py) with dim = every axis but the channel axis (axis 1).
import Numerics

/// Standardizes each channel to zero mean and unit standard deviation.
///
/// ```
/// data: [N, C, n₁, …]   (statistics over every axis but axis 1)
/// mean[c] = mean of data[:, c, …]
/// std[c]  = √( Σ (v − mean[c])² / (count − 1) )         (unbiased, as torch.std)
/// encode(x) = (x − mean) / (std + ε)                     ε = 1e-7
/// decode(z) = z · (std + ε) + mean
/// ```
///
/// ```swift
/// let normalizer = UnitGaussianNormalizer(fitting: trainInputs)
/// let z = normalizer.encode(trainInputs)
/// let prediction = normalizer.decode(model(z))          // back to physical units
/// ```
///
/// Statistics accumulate in Double (two passes) and are stored in the element type.
public struct UnitGaussianNormalizer<T: RealScalar>: Sendable, Equatable {
  /// Per-channel mean, shape [C].
  public var mean: NDArray<T>
  /// Per-channel unbiased standard deviation, shape [C].
  public var std: NDArray<T>
  /// Added to the standard deviation before dividing.
  public var eps: Double

  /// A normalizer with given statistics.
  public init(mean: NDArray<T>, std: NDArray<T>, eps: Double = 1e-7) {
    precondition(mean.rank == 1 && std.shape == mean.shape, "mean and std must be [C], got \(mean.shape), \(std.shape)")
    self.mean = mean
    self.std = std
    self.eps = eps
  }

  /// Fits the statistics of `data` ([N, C, …], at least two values per channel).
  public init(fitting data: NDArray<T>, eps: Double = 1e-7) {
    precondition(data.rank >= 2, "UnitGaussianNormalizer needs [N, C, …] data, got \(data.shape)")
    let (n, c) = (data.shape[0], data.shape[1])
    let inner = data.shape.dropFirst(2).reduce(1, *)
    let perChannel = n * inner
    precondition(perChannel >= 2, "UnitGaussianNormalizer needs at least two values per channel")
    var means = [Double](repeating: 0, count: c)
    var stds = [Double](repeating: 0, count: c)
    data.withUnsafeBufferPointer { p in
      for ch in 0..<c {
        var s = 0.0
        for b in 0..<n { for j in 0..<inner { s += Double(p[(b * c + ch) * inner + j]) } }
        let m = s / Double(perChannel)
        var q = 0.0
        for b in 0..<n {
          for j in 0..<inner {
            let v = Double(p[(b * c + ch) * inner + j]) - m
            q += v * v
          }
        }
        means[ch] = m
        stds[ch] = (q / Double(perChannel - 1)).squareRoot()
      }
    }
    self.init(
      mean: try! NDArray(shape: [c], data: means.map { T($0) }),
      std: try! NDArray(shape: [c], data: stds.map { T($0) }),
      eps: eps)
  }

  /// Number of channels.
  public var channels: Int { mean.count }

  /// (x − mean) / (std + ε), channel-wise on axis 1.
  public func encode(_ x: NDArray<T>) -> NDArray<T> { affine(x, inverse: false) }

  /// z · (std + ε) + mean, channel-wise on axis 1.
  public func decode(_ z: NDArray<T>) -> NDArray<T> { affine(z, inverse: true) }

  /// z · (std + ε) + mean on the tape (the statistics are constants).
  @specialized(where T == Float)
  @specialized(where T == Double)
  public func decode(_ z: Tensor<T>) -> Tensor<T> {
    let shape = [1, channels] + Array(repeating: 1, count: Swift.max(0, z.rank - 2))
    let scale = NDArray<T>(shape: shape) { p in
      std.withUnsafeBufferPointer { s in
        for c in 0..<channels { p[c] = s[c] + T(eps) }
      }
    }
    return z * Tensor(scale) + Tensor(mean.reshaped(shape))
  }

  @specialized(where T == Float)
  @specialized(where T == Double)
  private func affine(_ x: NDArray<T>, inverse: Bool) -> NDArray<T> {
    precondition(x.rank >= 2 && x.shape[1] == channels, "expected [N, \(channels), …], got \(x.shape)")
    let inner = x.shape.dropFirst(2).reduce(1, *)
    let n = x.shape[0]
    return x.withUnsafeBufferPointer { xp in
      mean.withUnsafeBufferPointer { mp in
        std.withUnsafeBufferPointer { sp in
          NDArray<T>(shape: x.shape) { out in
            for b in 0..<n {
              for c in 0..<channels {
                let (m, s) = (mp[c], sp[c] + T(eps))
                let base = (b * channels + c) * inner
                if inverse {
                  for j in 0..<inner { out[base + j] = xp[base + j] * s + m }
                } else {
                  for j in 0..<inner { out[base + j] = (xp[base + j] - m) / s }
                }
              }
            }
          }
        }
      }
    }
  }
}
