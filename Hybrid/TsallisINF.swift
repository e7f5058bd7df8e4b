// Tsallis-INF: a multi-armed bandit algorithm that is optimal in both the adversarial and the
// stochastic regime. J. Zimmert, Y. Seldin, "Tsallis-INF: An Optimal Algorithm for Stochastic and
// Adversarial Bandits", JMLR 22 (2021), Algorithm 1 with α = 1/2 and the importance-weighted loss
// estimator: in round t the arm probabilities are
//     p_i = 4 / (η_t (L̂_i − x))²,   η_t = 2/√t,
// where L̂_i is arm i's cumulative estimated loss and the normalizer x < min_i L̂_i makes them sum
// to one (found by Newton's method, as in the paper's Algorithm 2); the pulled arm's estimate grows
// by ℓ/p_i. Adversarial regret ≤ 4√(KT) + 1 for losses in [0, 1] (their Theorem 1).
// Khodak et al., "Learning to Relax: Setting Solver Parameters Across a Sequence of Linear System
// Instances", ICLR 2024, use Tsallis-INF over a grid of relaxation parameters with the iteration
// count (normalized to [0, 1]) as the loss; `BanditRelaxedCG` is that use.
import Numerics

/// The Tsallis-INF bandit (α = 1/2) over `arms` arms with losses in [0, 1].
///
/// ```swift
/// var bandit = TsallisINF(arms: 10, seed: 0)
/// let arm = bandit.select()                 // draws from the current probabilities
/// bandit.update(arm: arm, loss: 0.3)        // the loss of the arm that was played
/// ```
///
/// The draws come from Philox(seed), so a run with the same seed and losses repeats exactly.
public struct TsallisINF: Sendable {
  /// The loss estimator (see the file header).
  public enum Estimator: Sendable {
    /// ℓ/p for the pulled arm; η_t = 2/√t.
    case importanceWeighted
    /// (ℓ − 1/2)/p for the pulled arm; η_t = 4/√t.
    case reducedVariance
  }

  /// Number of arms K.
  public let arms: Int
  /// The loss estimator.
  public let estimator: Estimator
  /// Cumulative importance-weighted loss estimates L̂, one per arm.
  public private(set) var estimatedLosses: [Double]
  /// Rounds played so far.
  public private(set) var rounds = 0
  private var rng: PhiloxRandom

  /// A bandit with `arms` ≥ 1 arms and no history.
  public init(arms: Int, seed: UInt64, estimator: Estimator = .reducedVariance) {
    precondition(arms >= 1, "a bandit needs at least one arm")
    self.arms = arms
    self.estimator = estimator
    estimatedLosses = [Double](repeating: 0, count: arms)
    rng = PhiloxRandom(seed: seed, stream: 0x7473_616c)
  }

  /// The learning rate η_t (2/√t or 4/√t, by estimator) of the next round t = rounds + 1.
  public var learningRate: Double {
    (estimator == .importanceWeighted ? 2 : 4) / Double(rounds + 1).squareRoot()
  }

  /// The probabilities of the next round (they sum to 1).
  public var probabilities: [Double] {
    let eta = learningRate
    let lowest = estimatedLosses.min()!
    // At x = min L̂ − 2/η the best arm alone has weight 1, so Σ w(x) ≥ 1; Σ w is increasing and
    // convex in x, so Newton's steps from there decrease x monotonically to the root of Σ w = 1.
    var x = lowest - 2 / eta
    for _ in 0..<100 {
      var sum = 0.0
      var derivative = 0.0
      for l in estimatedLosses {
        let w = 4 / ((eta * (l - x)) * (eta * (l - x)))
        sum += w
        derivative += eta * w.squareRoot() * w  // d/dx of 4/(η(L − x))² = η·w^{3/2}
      }
      let step = (sum - 1) / derivative
      x -= step
      if abs(step) <= 1e-14 * max(1, abs(x)) { break }
    }
    var p = estimatedLosses.map { 4 / ((eta * ($0 - x)) * (eta * ($0 - x))) }
    let total = p.reduce(0, +)
    for i in 0..<p.count { p[i] /= total }
    return p
  }

  /// Draws the arm of the next round from ``probabilities``.
  public mutating func select() -> Int {
    let p = probabilities
    let u = rng.nextOpenUnit()
    var acc = 0.0
    for (i, pi) in p.enumerated() {
      acc += pi
      if u < acc { return i }
    }
    return p.count - 1
  }

  /// Records the loss (clamped to [0, 1]) of the arm played this round and advances the round.
  /// The probability used is that of the round the arm was drawn in, so call it once per ``select()``.
  public mutating func update(arm: Int, loss: Double) {
    precondition(arm >= 0 && arm < arms, "arm \(arm) is outside 0..<\(arms)")
    let p = probabilities[arm]
    let l = min(1, max(0, loss.isFinite ? loss : 1))
    estimatedLosses[arm] += (estimator == .importanceWeighted ? l : l - 0.5) / p
    rounds += 1
  }
}
