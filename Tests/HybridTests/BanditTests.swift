import Foundation
import Hybrid
import Numerics
import Solvers
import Testing

@Suite("Bandit-tuned relaxation (Tsallis-INF, Learning to Relax)")
struct BanditTests {
  @Test("probabilities sum to one, favour the arm with the lowest estimate, and start uniform")
  func probabilities() {
    var b = TsallisINF(arms: 4, seed: 1)
    #expect(b.probabilities.allSatisfy { abs($0 - 0.25) < 1e-12 })
    for _ in 0..<50 {
      let arm = b.select()
      b.update(arm: arm, loss: arm == 2 ? 0.1 : 0.9)
    }
    let p = b.probabilities
    #expect(abs(p.reduce(0, +) - 1) < 1e-12)
    #expect(p.indices.max(by: { p[$0] < p[$1] }) == 2, "\(p)")
  }

  @Test("on a stochastic loss table the cumulative loss approaches the best fixed arm's (regret within 4√(KT)+1)")
  func stochastic() {
    let means = [0.5, 0.42, 0.3, 0.45, 0.6]
    let rounds = 3000
    var rng = PhiloxRandom(seed: 42)
    // The adversary's table, drawn up front: loss of every arm in every round.
    let table = (0..<rounds).map { _ in means.map { m in min(1, max(0, m + 0.2 * (rng.nextOpenUnit() - 0.5))) } }
    let best = (0..<means.count).map { k in table.reduce(0) { $0 + $1[k] } }.min()!
    for estimator in [TsallisINF.Estimator.importanceWeighted, .reducedVariance] {
      var bandit = TsallisINF(arms: means.count, seed: 7, estimator: estimator)
      var total = 0.0
      var lateBest = 0
      for t in 0..<rounds {
        let arm = bandit.select()
        total += table[t][arm]
        if t >= 2 * rounds / 3 && arm == 2 { lateBest += 1 }
        bandit.update(arm: arm, loss: table[t][arm])
      }
      let regret = total - best
      #expect(regret <= 4 * Double(means.count * rounds).squareRoot() + 1, "\(estimator)")
      #expect(regret / Double(rounds) < 0.04, "\(estimator): average regret \(regret / Double(rounds))")
      #expect(
        Double(lateBest) > 0.8 * Double(rounds / 3),
        "\(estimator): best arm played \(lateBest) of the last \(rounds / 3) rounds")
    }
  }

  @Test("SSOR-CG on a Darcy sequence: bandit-chosen ω costs near the best fixed ω in hindsight and less than ω = 1")
  func relaxationSequence() throws {
    let recipe = try DarcyRecipe(resolution: 12, dimension: 2, parameters: [:])
    let count = 600
    let systems = try (0..<count).map { try recipe.makeSample(sampleSeed: sampleSeed(runSeed: 3, index: $0)).system }
    let grid = [1.0, 1.2, 1.4, 1.6, 1.8]
    let options = KrylovOptions(rtol: 1e-8, maxIterations: 40)
    // Hindsight: iterations of every fixed ω on every system.
    let table = try systems.map { s in
      try grid.map { w -> Int in
        let r = try LinearSolver(.cg(preconditioner: .ssor(omega: w)), options: options).solve(s)
        #expect(r.stats.converged, "ω = \(w)")
        return r.stats.iterations
      }
    }
    let fixedTotals = grid.indices.map { k in table.reduce(0) { $0 + $1[k] } }
    let bestFixed = fixedTotals.min()!
    let omegaOne = fixedTotals[0]
    let solver = try BanditRelaxedCG(omegas: grid, options: options, costScale: 30, seed: 0)
    for s in systems {
      let step = try solver.solve(s)
      #expect(step.solution.stats.converged)
    }
    let total = solver.totalIterations
    // The last third: the bandit has learned; compare with the best fixed ω on the same systems.
    let late = (2 * count / 3)..<count
    let lateBandit = late.reduce(0) { $0 + solver.steps[$1].solution.stats.iterations }
    let lateBest = grid.indices.map { k in late.reduce(0) { $0 + table[$1][k] } }.min()!
    let firstThird = 0..<(count / 3)
    let earlyBandit = firstThird.reduce(0) { $0 + solver.steps[$1].solution.stats.iterations }
    let earlyBest = grid.indices.map { k in firstThird.reduce(0) { $0 + table[$1][k] } }.min()!
    #expect(total < omegaOne, "bandit \(total) vs ω = 1: \(omegaOne)")
    #expect(Double(total) <= 1.08 * Double(bestFixed), "bandit \(total), best fixed \(bestFixed)")
    // Measured: 9020 vs 8603 overall, first third 7.5 % above the best fixed ω, last third 2.9 %.
    #expect(Double(lateBandit) <= 1.06 * Double(lateBest), "last third: bandit \(lateBandit), best fixed \(lateBest)")
    #expect(
      Double(lateBandit) / Double(lateBest) < Double(earlyBandit) / Double(earlyBest),
      "the gap to the best fixed ω shrinks: first third \(earlyBandit)/\(earlyBest), last \(lateBandit)/\(lateBest)")
  }
}
