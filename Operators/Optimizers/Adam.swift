// Adam and AdamW with PyTorch's update rules (torch.optim.Adam / torch.optim.AdamW, single-tensor
// path, amsgrad off, not maximizing), applied to a `Module`'s parameters by name.
// References: D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015;
// I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
//
// neuraloperator's own `neuralop.training.AdamW` differs: it adds ε before the bias correction,
// decays the weights after the step, and shares the second moment between the real and imaginary
// parts of a complex weight (|g|²). PDEKit follows PyTorch's `torch.optim` classes, which treat a
// complex weight as two real ones — exactly PDEKit's real/imaginary storage.
import Foundation
import Numerics

/// An optimizer that updates a module's parameters from their gradients.
public protocol Optimizer<Scalar>: Sendable {
  /// Element type of the parameters.
  associatedtype Scalar: RealScalar
  /// The learning rate of the next step (schedules set it between epochs).
  var learningRate: Double { get set }
  /// Applies one step to every parameter of `model` that has a gradient.
  mutating func update<M: Module>(_ model: inout M, along gradients: Gradients<Scalar>) where M.Scalar == Scalar
}

/// First and second moment estimates of one parameter.
public struct AdamMoments<T: RealScalar>: Sendable, Equatable {
  /// First moment m (running mean of the gradient).
  public var m: NDArray<T>
  /// Second moment v (running mean of the squared gradient).
  public var v: NDArray<T>

  /// Moments with given values (same shape as the parameter).
  public init(m: NDArray<T>, v: NDArray<T>) {
    precondition(m.shape == v.shape, "Adam moments: m \(m.shape) and v \(v.shape) differ in shape")
    self.m = m
    self.v = v
  }
}

/// The resumable state of ``Adam`` or ``AdamW``: the step count and the moments by parameter
/// name. Checkpoints store it so that training resumes exactly where it stopped.
public struct AdamState<T: RealScalar>: Sendable, Equatable {
  /// Steps taken so far (t of the bias corrections).
  public var step: Int
  /// Moment estimates by parameter name; parameters never updated have none.
  public var moments: [String: AdamMoments<T>]

  /// A state with given step count and moments.
  public init(step: Int = 0, moments: [String: AdamMoments<T>] = [:]) {
    self.step = step
    self.moments = moments
  }

  /// One Adam step on every parameter of `model` that has a gradient (shared by ``Adam`` and
  /// ``AdamW``; `l2` is coupled, `decoupled` AdamW's weight decay).
  mutating func apply<M: Module>(
    to model: inout M, gradients: Gradients<T>, learningRate: Double, beta1: Double, beta2: Double, eps: Double,
    l2: Double, decoupled: Double
  ) where M.Scalar == T {
    step += 1
    let t = step
    model.updateParameters { name, value in
      guard let g = gradients[name] else { return }
      var m = moments.removeValue(forKey: name) ?? AdamMoments(m: .zeros(value.shape), v: .zeros(value.shape))
      adamStep(
        &value, gradient: g, moments: &m, step: t, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
        l2: l2, decoupled: decoupled)
      moments[name] = m
    }
  }
}

/// The shared Adam step. `l2` is Adam's coupled weight decay, `decoupled` AdamW's.
@specialized(where T == Float)
@specialized(where T == Double)
func adamStep<T: RealScalar>(
  _ param: inout NDArray<T>, gradient: NDArray<T>, moments: inout AdamMoments<T>, step: Int,
  learningRate lr: Double, beta1: Double, beta2: Double, eps: Double, l2: Double, decoupled: Double
) {
  precondition(gradient.shape == param.shape, "gradient shape \(gradient.shape) ≠ parameter shape \(param.shape)")
  // β^t with libm's pow, as PyTorch's `beta1 ** step` (a Python float power): O(1) per step, where
  // repeated multiplication made the 10 000th step cost 10 000 dependent products per tensor.
  let biasCorrection1 = 1 - Foundation.pow(beta1, Double(step))
  let biasCorrection2 = 1 - Foundation.pow(beta2, Double(step))
  let stepSize = T(lr / biasCorrection1)
  let bc2Sqrt = T(biasCorrection2.squareRoot())
  let (b1c, b2, b2c, e) = (T(1 - beta1), T(beta2), T(1 - beta2), T(eps))
  let decay = T(1 - lr * decoupled)
  let wd = T(l2)
  param.withUnsafeMutableBufferPointer { p in
    gradient.withUnsafeBufferPointer { g in
      moments.m.withUnsafeMutableBufferPointer { m in
        moments.v.withUnsafeMutableBufferPointer { v in
          for i in 0..<p.count {
            if decoupled != 0 { p[i] *= decay }  // AdamW: θ ← θ(1 − lr·wd) before the step
            var gi = g[i]
            if l2 != 0 { gi += wd * p[i] }  // Adam: g ← g + wd·θ
            m[i] += b1c * (gi - m[i])  // m ← lerp(m, g, 1 − β₁)
            v[i] = v[i] * b2 + b2c * gi * gi  // v ← β₂v + (1 − β₂)g²
            let denom = v[i].squareRoot() / bc2Sqrt + e  // √v / √(1 − β₂ᵗ) + ε
            p[i] -= stepSize * (m[i] / denom)  // θ ← θ − lr/(1 − β₁ᵗ) · m/denom
          }
        }
      }
    }
  }
}

/// Adam with PyTorch's exact update (`torch.optim.Adam`).
///
/// ```
/// t ← t + 1;   g ← g + λθ   (λ = weightDecay, coupled L2; 0 by default)
/// m ← β₁m + (1 − β₁)g;   v ← β₂v + (1 − β₂)g²
/// θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// Defaults: lr 1e-3, β = (0.9, 0.999), ε = 1e-8, weightDecay 0. Moments start at zero and are
/// kept per parameter name; the step count t is shared.
///
/// ```swift
/// var adam = Adam<Float>(learningRate: 1e-3)
/// let (loss, grads) = valueAndGradient(at: model) { m in lossFunction(m(x), y) }
/// adam.update(&model, along: grads)
/// ```
///
/// ### See Also
/// - ``AdamW``
/// - ``StepLR``
public struct Adam<T: RealScalar>: Optimizer {
  public typealias Scalar = T
  /// Step size lr of the next update.
  public var learningRate: Double
  /// Decay of the first moment.
  public var beta1: Double
  /// Decay of the second moment.
  public var beta2: Double
  /// Added to the bias-corrected √v.
  public var eps: Double
  /// Coupled L2 weight decay λ (added to the gradient).
  public var weightDecay: Double
  /// Step count and moments, for checkpoints; assigning it resumes from a saved state.
  public var state = AdamState<T>()
  /// Steps taken.
  public var step: Int { state.step }

  /// An optimizer with PyTorch's defaults.
  public init(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
    weightDecay: Double = 0
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.eps = eps
    self.weightDecay = weightDecay
  }

  public mutating func update<M: Module>(_ model: inout M, along gradients: Gradients<T>) where M.Scalar == T {
    state.apply(
      to: &model, gradients: gradients, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
      l2: weightDecay,
      decoupled: 0)
  }
}

/// AdamW with PyTorch's exact update (`torch.optim.AdamW`): decoupled weight decay.
///
/// ```
/// t ← t + 1;   θ ← θ(1 − lr·λ)                       (λ = weightDecay, before the Adam step)
/// m ← β₁m + (1 − β₁)g;   v ← β₂v + (1 − β₂)g²
/// θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// Defaults: lr 1e-3, β = (0.9, 0.999), ε = 1e-8, weightDecay 1e-2 (PyTorch's). neuraloperator's
/// Darcy recipe uses lr 5e-3, ε 1e-6, weightDecay 1e-4 with ``StepLR`` (60, 0.5).
///
/// ### See Also
/// - ``Adam``
public struct AdamW<T: RealScalar>: Optimizer {
  public typealias Scalar = T
  /// Step size lr of the next update.
  public var learningRate: Double
  /// Decay of the first moment.
  public var beta1: Double
  /// Decay of the second moment.
  public var beta2: Double
  /// Added to the bias-corrected √v.
  public var eps: Double
  /// Decoupled weight decay λ.
  public var weightDecay: Double
  /// Step count and moments, for checkpoints; assigning it resumes from a saved state.
  public var state = AdamState<T>()
  /// Steps taken.
  public var step: Int { state.step }

  /// An optimizer with PyTorch's defaults.
  public init(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8,
    weightDecay: Double = 1e-2
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.eps = eps
    self.weightDecay = weightDecay
  }

  public mutating func update<M: Module>(_ model: inout M, along gradients: Gradients<T>) where M.Scalar == T {
    state.apply(
      to: &model, gradients: gradients, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps, l2: 0,
      decoupled: weightDecay)
  }
}
