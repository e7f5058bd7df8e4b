// SSOR-preconditioned CG over a sequence of systems with the relaxation ω chosen per system by a
// bandit, after Khodak, Chow, Balcan, Talwalkar, "Learning to Relax: Setting Solver Parameters
// Across a Sequence of Linear System Instances", ICLR 2024 (§4, SSOR-preconditioned CG): a grid of
// ω values is the set of arms, the cost of a solve is its iteration count divided by an iteration
// cap (so losses lie in [0, 1]), and Tsallis-INF (`TsallisINF`) plays the arms with nothing but
// those counts as feedback. Its total cost approaches that of the best fixed ω in hindsight as the
// sequence grows (regret O(√(KT)) in the number of systems T and arms K). What it does not do: the
// paper's contextual variant (ChebCB, which uses a per-system feature such as a diagonal shift).
import Numerics
import Solvers

/// Solves a sequence of SPD systems with CG + SSOR(ω), choosing ω per system with Tsallis-INF.
///
/// ```swift
/// let solver = BanditRelaxedCG(omegas: BanditRelaxedCG.defaultGrid, options: KrylovOptions(rtol: 1e-8), seed: 0)
/// for system in sequence {
///   let step = try solver.solve(system)      // step.omega, step.solution.stats.iterations
/// }
/// ```
///
/// Inputs: the ω grid (each in (0, 2)), Krylov options (`maxIterations` defaults to 1000), the
/// cost scale (a solve's loss is min(iterations / costScale, 1); default `maxIterations`, better
/// an upper bound near the iterations actually seen, so that the arms' losses differ visibly),
/// a seed. A solve that does not converge costs 1 and is returned with its `stats.reason` (never
/// silently).
public final class BanditRelaxedCG {
  /// One solve of the sequence.
  public struct Step: Sendable {
    /// Index into ``omegas`` of the arm played.
    public var arm: Int
    /// The relaxation used.
    public var omega: Double
    /// The solution and its statistics.
    public var solution: LinearSolution
  }

  /// ω = 1.0, 1.1, …, 1.9 (the paper's experiments use a grid over [1, 2)).
  public static let defaultGrid: [Double] = (0..<10).map { 1 + Double($0) / 10 }

  /// The arms.
  public let omegas: [Double]
  /// Options of every CG solve; `maxIterations` is the cost normalizer.
  public let options: KrylovOptions
  /// Iterations that map to the loss 1.
  public let costScale: Double
  /// The bandit (its estimates and round count).
  public private(set) var bandit: TsallisINF
  /// The steps so far.
  public private(set) var steps: [Step] = []

  /// A solver over the ω grid `omegas` (each in (0, 2)), seeded for repeatable draws.
  public init(
    omegas: [Double] = defaultGrid, options: KrylovOptions = KrylovOptions(), costScale: Double? = nil,
    seed: UInt64 = 0
  ) throws {
    guard !omegas.isEmpty, omegas.allSatisfy({ $0 > 0 && $0 < 2 }) else {
      throw SolverSetupError.preconditionerBreakdown(
        "the ω grid must be non-empty with every ω in (0, 2), got \(omegas)")
    }
    self.omegas = omegas
    var o = options
    o.maxIterations = o.maxIterations ?? 1000
    self.options = o
    self.costScale = costScale ?? Double(o.maxIterations!)
    guard self.costScale > 0 else {
      throw SolverSetupError.preconditionerBreakdown("the cost scale must be positive, got \(self.costScale)")
    }
    bandit = TsallisINF(arms: omegas.count, seed: seed)
  }

  /// Solves the next system of the sequence with the ω the bandit draws, then feeds back the cost.
  public func solve(_ system: LinearSystem, initialGuess: [Double]? = nil) throws -> Step {
    let arm = bandit.select()
    let solver = LinearSolver(.cg(preconditioner: .ssor(omega: omegas[arm])), options: options)
    let solution = try solver.solve(system, initialGuess: initialGuess)
    let cost = solution.stats.converged ? min(1, Double(solution.stats.iterations) / costScale) : 1
    bandit.update(arm: arm, loss: cost)
    let step = Step(arm: arm, omega: omegas[arm], solution: solution)
    steps.append(step)
    return step
  }

  /// Total iterations so far.
  public var totalIterations: Int { steps.reduce(0) { $0 + $1.solution.stats.iterations } }
}
