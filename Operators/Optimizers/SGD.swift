// Plain stochastic gradient descent with PyTorch's update rule (torch.optim.SGD with momentum 0,
// dampening 0, not nesterov, not maximizing). Reference: H. Robbins, S. Monro, "A Stochastic
// Approximation Method", Ann. Math. Statist. 22 (1951). Its step is linear in the gradient, which
// makes it the optimizer for checking that data-parallel gradients equal serial ones.
import Numerics

/// SGD: θ ← θ − lr·(g + λθ), λ = weightDecay (coupled, as PyTorch's `weight_decay`). No state.
///
/// ```swift
/// var sgd = SGD<Float>(learningRate: 1e-2)
/// let (_, grads) = valueAndGradient(at: model) { m in loss(m(x), y) }
/// sgd.update(&model, along: grads)
/// ```
public struct SGD<T: RealScalar>: Optimizer {
  public typealias Scalar = T
  /// Step size lr of the next update.
  public var learningRate: Double
  /// Coupled L2 weight decay λ (added to the gradient).
  public var weightDecay: Double

  /// An optimizer with step size `learningRate` and weight decay `weightDecay` (PyTorch's default 0).
  public init(learningRate: Double = 1e-3, weightDecay: Double = 0) {
    self.learningRate = learningRate
    self.weightDecay = weightDecay
  }

  public mutating func update<M: Module>(_ model: inout M, along gradients: Gradients<T>) where M.Scalar == T {
    let lr = T(learningRate)
    let decay = T(weightDecay)
    model.updateParameters { name, value in
      guard let g = gradients[name] else { return }
      precondition(g.shape == value.shape, "gradient shape \(g.shape) ≠ parameter shape \(value.shape)")
      g.withUnsafeBufferPointer { gp in
        value.withUnsafeMutableBufferPointer { p in
          for i in 0..<p.count { p[i] -= lr * (gp[i] + decay * p[i]) }
        }
      }
    }
  }
}
