import Foundation
import Numerics
import Operators
import Testing

/// A three-parameter model for optimizer arithmetic.
struct ThreeParameters: Module {
  typealias Scalar = Double
  var w: Tensor<Double>
  mutating func visitParameters(_ body: (String, inout Tensor<Double>) -> Void) { body("w", &w) }
}

@Suite("Optimizers, schedules, clipping")
struct OptimizerTests {
  static let theta0 = [1.0, -2.0, 0.5]
  static let grads = [[0.5, -1.0, 2.0], [0.1, 0.3, -0.4], [-0.2, 0.0, 1.0]]

  /// Textbook Adam(W) written out independently: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
  /// θ ← θ − lr m̂/(√v̂ + ε), with θ ← θ(1 − lr λ) first for AdamW, g ← g + λθ for Adam.
  static func reference(lr: Double, wd: Double, decoupled: Bool) -> [[Double]] {
    var theta = theta0
    var m = [0.0, 0, 0]
    var v = [0.0, 0, 0]
    var history: [[Double]] = []
    for (t, g0) in grads.enumerated() {
      let step = Double(t + 1)
      for i in 0..<3 {
        var g = g0[i]
        if decoupled { theta[i] -= lr * wd * theta[i] } else { g += wd * theta[i] }
        m[i] = 0.9 * m[i] + 0.1 * g
        v[i] = 0.999 * v[i] + 0.001 * g * g
        let mHat = m[i] / (1 - pow(0.9, step))
        let vHat = v[i] / (1 - pow(0.999, step))
        theta[i] -= lr * mHat / (vHat.squareRoot() + 1e-8)
      }
      history.append(theta)
    }
    return history
  }

  func run<O: Optimizer<Double>>(_ optimizer: O) -> [[Double]] {
    var opt = optimizer
    var model = ThreeParameters(w: Tensor(try! NDArray(shape: [3], data: Self.theta0)))
    return Self.grads.map { g in
      opt.update(&model, along: Gradients(names: ["w"], arrays: [try! NDArray(shape: [3], data: g)]))
      return model.w.value.scalars
    }
  }

  @Test("Adam: three steps match the hand computation")
  func adam() {
    let got = run(Adam<Double>(learningRate: 0.1))
    let ref = Self.reference(lr: 0.1, wd: 0, decoupled: false)
    // Step 1 by hand: m̂ = g, v̂ = g², so θ₁ = θ₀ − 0.1·g/(|g| + 1e-8) ≈ θ₀ − 0.1·sign(g).
    let step1 = [1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 1.0 / (1.0 + 1e-8), 0.5 - 0.1 * 2.0 / (2.0 + 1e-8)]
    for i in 0..<3 { #expect(abs(got[0][i] - step1[i]) < 1e-7) }
    for t in 0..<3 { for i in 0..<3 { #expect(abs(got[t][i] - ref[t][i]) < 1e-7) } }
    // Step 2, first coordinate, by hand: m = 0.9·0.05 + 0.01 = 0.055, v = 0.999·0.00025 + 0.001·0.01
    // = 0.00025975; m̂ = 0.055/0.19, v̂ = 0.00025975/0.001999.
    let theta2 = step1[0] - 0.1 * (0.055 / 0.19) / ((0.00025975 / 0.001999).squareRoot() + 1e-8)
    #expect(abs(got[1][0] - theta2) < 1e-7)
  }

  @Test("Adam with coupled L2 weight decay, AdamW with decoupled decay")
  func decay() {
    let adam = run(Adam<Double>(learningRate: 0.1, weightDecay: 0.1))
    let adamRef = Self.reference(lr: 0.1, wd: 0.1, decoupled: false)
    let adamw = run(AdamW<Double>(learningRate: 0.1, weightDecay: 0.1))
    let adamwRef = Self.reference(lr: 0.1, wd: 0.1, decoupled: true)
    for t in 0..<3 {
      for i in 0..<3 {
        #expect(abs(adam[t][i] - adamRef[t][i]) < 1e-7)
        #expect(abs(adamw[t][i] - adamwRef[t][i]) < 1e-7)
      }
    }
    // AdamW step 1, first coordinate by hand: θ = 1·(1 − 0.1·0.1) = 0.99, then − 0.1·sign(0.5).
    #expect(abs(adamw[0][0] - (0.99 - 0.1 * 0.5 / (0.5 + 1e-8))) < 1e-7)
  }

  @Test("SGD: θ ← θ − lr·(g + λθ), three steps by hand")
  func sgd() {
    let got = run(SGD<Double>(learningRate: 0.1, weightDecay: 0.5))
    var theta = Self.theta0
    for (t, g) in Self.grads.enumerated() {
      for i in 0..<3 { theta[i] -= 0.1 * (g[i] + 0.5 * theta[i]) }
      for i in 0..<3 { #expect(abs(got[t][i] - theta[i]) < 1e-12) }
    }
    // Step 1, first coordinate: 1 − 0.1·(0.5 + 0.5·1) = 0.9.
    #expect(abs(got[0][0] - 0.9) < 1e-12)
  }

  @Test("StepLR and cosine annealing")
  func schedules() {
    let step = StepLR(baseLearningRate: 5e-3, stepSize: 60, gamma: 0.5)
    #expect(step.learningRate(at: 0) == 5e-3 && step.learningRate(at: 59) == 5e-3)
    #expect(step.learningRate(at: 60) == 2.5e-3 && step.learningRate(at: 299) == 5e-3 / 16)
    let cosine = CosineAnnealingLR(baseLearningRate: 1e-3, maximumSteps: 100, minimumLearningRate: 1e-5)
    #expect(abs(cosine.learningRate(at: 0) - 1e-3) < 1e-15)
    #expect(abs(cosine.learningRate(at: 50) - (1e-5 + (1e-3 - 1e-5) / 2)) < 1e-15)
    #expect(abs(cosine.learningRate(at: 100) - 1e-5) < 1e-15)
  }

  @Test("gradient clipping by global norm")
  func clipping() throws {
    var g = Gradients(
      names: ["a", "b"], arrays: [try NDArray<Double>(shape: [2], data: [3, 0]), try NDArray(shape: [1], data: [4])])
    #expect(g.globalNorm == 5)
    let before = g.clipByGlobalNorm(1)
    #expect(before == 5)
    #expect(abs(g.globalNorm - 5 / (5 + 1e-6)) < 1e-12)
    #expect(abs(g["a"]![0] - 3 / (5 + 1e-6)) < 1e-15)
    var h = g
    h.clipByGlobalNorm(10)
    #expect(h["b"]! == g["b"]!)
  }
}
