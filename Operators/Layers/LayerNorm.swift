// Layer normalization as a module (torch.nn.LayerNorm over the last axis, elementwise affine).
import Numerics

/// Normalizes the last axis of the input and applies a learned elementwise affine map.
///
/// ```
/// y = (x − μ) / √(σ² + ε) ⊙ weight + bias       x: [..., C],  μ, σ² (biased) over the last axis
/// weight = 1, bias = 0   (initialization),  ε = 1e-5
/// ```
///
/// Parameter names `weight`, `bias` (as PyTorch's).
///
/// ### See Also
/// - ``layerNorm(_:weight:bias:eps:)``
public struct LayerNorm<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Scale, shape [C].
  public var weight: Tensor<T>
  /// Shift, shape [C].
  public var bias: Tensor<T>
  /// ε added to the variance.
  public let eps: Double

  /// A normalization of `features` channels with weight 1 and bias 0.
  public init(_ features: Int, eps: Double = 1e-5) {
    weight = Tensor(NDArray(shape: [features], repeating: 1))
    bias = Tensor(NDArray(shape: [features], repeating: 0))
    self.eps = eps
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    body("weight", &weight)
    body("bias", &bias)
  }

  /// Normalizes the last axis.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> { layerNorm(x, weight: weight, bias: bias, eps: eps) }
}
