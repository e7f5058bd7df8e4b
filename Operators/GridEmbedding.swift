// Positional grid embedding for neural operators, as neuraloperator's `GridEmbeddingND`
// (neuralop/layers/embeddings.py, used by FNO with positional_embedding="grid"): each spatial
// axis of length N contributes one channel holding i/N for i = 0..N−1 (linspace(0, 1, N+1)
// without its last point), broadcast over the other axes (meshgrid, indexing "ij"), appended
// after the data channels, first spatial axis first.
import Numerics

/// Appends normalized grid coordinates as extra channels.
///
/// ```
/// input  x: [batch, channels, n₁, …, n_d]                (d = 1, 2 or 3)
/// output  : [batch, channels + d, n₁, …, n_d]
/// output[b, channels + a, i₁, …, i_d] = i_a / n_a
/// ```
///
/// The embedding has no parameters; its gradient with respect to `x` is the identity on the
/// first `channels` channels (the coordinate channels are constants).
public struct GridEmbedding: Sendable {
  /// Number of spatial axes d.
  public let dimensions: Int

  /// An embedding for `dimensions` spatial axes (1–3).
  public init(dimensions: Int) {
    precondition((1...3).contains(dimensions), "grid embedding supports 1–3 spatial axes, got \(dimensions)")
    self.dimensions = dimensions
  }

  /// Returns `x` with d coordinate channels appended on axis 1.
  public func callAsFunction<T: RealScalar>(_ x: NDArray<T>) -> NDArray<T> {
    precondition(
      x.rank == 2 + dimensions, "expected [batch, channels, \(dimensions) spatial axes], got shape \(x.shape)")
    let batch = x.shape[0]
    let channels = x.shape[1]
    let spatial = Array(x.shape.suffix(dimensions))
    let points = spatial.reduce(1, *)
    var outShape = x.shape
    outShape[1] = channels + dimensions
    // Per-point coordinate of each axis, computed once.
    var coords = [[T]](repeating: [], count: dimensions)
    for a in 0..<dimensions {
      let inner = spatial[(a + 1)...].reduce(1, *)
      let n = spatial[a]
      coords[a] = (0..<points).map { p in T((p / inner) % n) / T(n) }
    }
    return x.withUnsafeBufferPointer { src in
      NDArray<T>(shape: outShape) { dst in
        let perIn = channels * points
        let perOut = (channels + dimensions) * points
        for b in 0..<batch {
          let o = dst.baseAddress! + b * perOut
          o.update(from: src.baseAddress! + b * perIn, count: perIn)
          for a in 0..<dimensions {
            coords[a].withUnsafeBufferPointer { c in
              (o + perIn + a * points).update(from: c.baseAddress!, count: points)
            }
          }
        }
      }
    }
  }
}
