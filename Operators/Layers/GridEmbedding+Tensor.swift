// The grid positional embedding on the tape (its coordinate channels are constants).
import Numerics

extension GridEmbedding {
  /// Appends the d coordinate channels to a tensor.
  ///
  /// ```
  /// x: [B, C, n₁, …, n_d]  →  [B, C + d, n₁, …, n_d]
  /// ∂x = the first C channels of ḡ
  /// ```
  @specialized(where T == Float)
  @specialized(where T == Double)
  public func callAsFunction<T: RealScalar>(_ x: Tensor<T>) -> Tensor<T> {
    let y: NDArray<T> = self(x.value)
    let shape = x.shape
    let perIn = shape.dropFirst().reduce(1, *)
    let perOut = y.shape.dropFirst().reduce(1, *)
    return Tensor.record(y, [x]) { g, _ in
      [
        g.withUnsafeBufferPointer { gp in
          NDArray<T>(shape: shape) { dp in
            for b in 0..<shape[0] {
              (dp.baseAddress! + b * perIn).update(from: gp.baseAddress! + b * perOut, count: perIn)
            }
          }
        }
      ]
    }
  }
}
