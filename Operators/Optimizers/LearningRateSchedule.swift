// Learning-rate schedules as closed-form functions of the epoch (or step) count, matching
// torch.optim.lr_scheduler.StepLR and CosineAnnealingLR.
import Foundation

/// A learning rate as a function of the number of completed epochs (or steps).
///
/// ```swift
/// let schedule = StepLR(baseLearningRate: 5e-3, stepSize: 60, gamma: 0.5)
/// for epoch in 0..<300 {
///   optimizer.learningRate = schedule.learningRate(at: epoch)
///   // … one epoch …
/// }
/// ```
public protocol LearningRateSchedule: Sendable {
  /// The learning rate after `step` completed epochs (step 0 gives the base rate).
  func learningRate(at step: Int) -> Double
}

/// Step decay, as `torch.optim.lr_scheduler.StepLR`.
///
/// ```
/// lr(t) = base · γ^⌊t / stepSize⌋
/// ```
public struct StepLR: LearningRateSchedule {
  /// Initial learning rate.
  public var baseLearningRate: Double
  /// Epochs between decays.
  public var stepSize: Int
  /// Multiplicative decay γ.
  public var gamma: Double

  /// A step schedule (PyTorch's default γ = 0.1).
  public init(baseLearningRate: Double, stepSize: Int, gamma: Double = 0.1) {
    precondition(stepSize >= 1, "StepLR needs stepSize ≥ 1")
    self.baseLearningRate = baseLearningRate
    self.stepSize = stepSize
    self.gamma = gamma
  }

  public func learningRate(at step: Int) -> Double {
    baseLearningRate * pow(gamma, Double(max(0, step) / stepSize))
  }
}

/// Cosine annealing, the closed form of `torch.optim.lr_scheduler.CosineAnnealingLR`.
///
/// ```
/// lr(t) = η_min + (base − η_min) · (1 + cos(π t / T_max)) / 2
/// ```
public struct CosineAnnealingLR: LearningRateSchedule {
  /// Initial learning rate.
  public var baseLearningRate: Double
  /// Half period T_max (epochs from the base rate to η_min).
  public var maximumSteps: Int
  /// Minimum learning rate η_min.
  public var minimumLearningRate: Double

  /// A cosine schedule from `baseLearningRate` down to `minimumLearningRate` over `maximumSteps`.
  public init(baseLearningRate: Double, maximumSteps: Int, minimumLearningRate: Double = 0) {
    precondition(maximumSteps >= 1, "CosineAnnealingLR needs maximumSteps ≥ 1")
    self.baseLearningRate = baseLearningRate
    self.maximumSteps = maximumSteps
    self.minimumLearningRate = minimumLearningRate
  }

  public func learningRate(at step: Int) -> Double {
    minimumLearningRate + (baseLearningRate - minimumLearningRate)
      * (1 + cos(Double.pi * Double(step) / Double(maximumSteps))) / 2
  }
}
