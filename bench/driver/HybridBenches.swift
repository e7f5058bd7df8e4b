// The hybrid benchmarks of issue 14 (bench/hybrid/README.md): total `pdekit generate darcy` wall
// time, surrogate training included, of the classical configurations against the neural warm
// start; and the bandit-tuned SSOR relaxation against fixed ω.
//
//   pdekit-bench hybrid --n N --samples S --dir D [--bootstrap B] [--epochs E] [--width W] [--modes M]
//                       [--rtol R] [--threads T] [--configs cholmod,amg-cg,recycled-cg,amg-cg+neural,...] [--reps K]
//                       [--recipe darcy|poisson] [--retrain-every N] [--retrain-epochs E]
//   pdekit-bench hybrid-bandit --n N --samples S [--rtol R] [--cost-scale C] [--seed K]
//   pdekit-bench hybrid-precond --n N --train K --samples S [--residuals R] [--epochs E] [--width W] [--modes M]
//
// hybrid runs `HybridGenerator.run` (the library call behind `pdekit generate`) once per
// configuration and repetition into D (replacing the file), and prints per configuration one JSON
// line: median/min total seconds over the repetitions (each timed around the whole call: drawing,
// solving, training, prediction, writing), training seconds, mean iterations over all samples and
// over the samples after the bootstrap, and the iterations of every sample in order (from the
// file's solver_iterations) with the retraining round of the model that warm-started each
// (solver_warm_start_round, -1 cold). Configurations `X+neural` add `--warm-start neural
// --bootstrap B` to solver X; `X+neural+retrain` also `--retrain-every N --retrain-epochs E`.
//
// hybrid-bandit builds S Darcy systems (FNO coefficient, N², seeds as `pdekit generate darcy
// --seed 0`), solves each with SSOR-CG for every ω of the grid 1.0, 1.1, …, 1.9 (the hindsight
// table), then once through `BanditRelaxedCG`; it prints total iterations of the bandit, of
// ω = 1 and of the best fixed ω, and the same over the last third of the sequence.
//
// hybrid-precond trains a `NeuralPreconditioner` on K Darcy systems (R white-noise residuals
// each, CHOLMOD targets; training time reported), then solves S further systems with IC(0)-CG,
// AMG-CG, FCG(5) + FNO with IC(0) fallback, and FCG(5) keeping the better of the FNO's and
// IC(0)'s direction per step; per method: median iterations and median seconds per solve
// (preconditioner setup included).
import Datasets
import Foundation
import Hybrid
import Numerics
import Solvers

let hybridSubcommands: Set<String> = ["hybrid", "hybrid-bandit", "hybrid-precond"]

func runHybridSubcommand(_ name: String, _ args: ArraySlice<String>) {
  do {
    if name == "hybrid" {
      try hybridGeneration(
        FlagArgs(
          args,
          allowed: [
            "n", "samples", "dir", "bootstrap", "epochs", "width", "modes", "rtol", "threads", "configs", "reps",
            "recipe", "retrain-every", "retrain-epochs", "dim",
          ]))
    } else if name == "hybrid-precond" {
      try hybridPreconditioner(
        FlagArgs(args, allowed: ["n", "train", "samples", "residuals", "epochs", "width", "modes", "rtol"]))
    } else {
      try hybridBandit(FlagArgs(args, allowed: ["n", "samples", "rtol", "cost-scale", "seed"]))
    }
  } catch {
    fail("\(name): \(error)")
  }
}

func hybridGeneration(_ a: FlagArgs) throws {
  let n = a.int("n", default: 64, min: 4)
  let samples = a.int("samples", default: 200, min: 2)
  let bootstrap = a.int("bootstrap", default: 32, min: 2)
  let rtol = a.double("rtol", default: 1e-8)
  let threads = a.int("threads", default: 2, min: 1)
  let reps = a.int("reps", default: 1, min: 1)
  let dimension = a.int("dim", default: 2, min: 2)
  guard let dir = a.string("dir") else { fail("--dir is required") }
  let configs = (a.string("configs") ?? "cholmod,amg-cg,recycled-cg,amg-cg+neural,recycled-cg+neural")
    .split(separator: ",").map(String.init)
  let settings = WarmStartSettings(
    bootstrap: bootstrap, epochs: a.int("epochs", default: 20, min: 1), width: a.int("width", default: 16, min: 1),
    modes: a.int("modes", default: 8, min: 1))
  var retraining = settings
  retraining.retrainEvery = a.int("retrain-every", default: max(1, (samples - bootstrap) / 3), min: 1)
  retraining.retrainEpochs = a.int("retrain-epochs", default: WarmStartSettings.defaultRetrainEpochs, min: 1)
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  for name in configs {
    let parts = name.split(separator: "+").map(String.init)
    guard let solver = SolverChoice(rawValue: parts[0]), parts.count == 1 || parts[1] == "neural",
      parts.count <= 2 || (parts.count == 3 && parts[2] == "retrain")
    else {
      fail("unknown configuration '\(name)'; use a --solver name, optionally with +neural or +neural+retrain")
    }
    let recipe = a.string("recipe") ?? "darcy"
    let config = try GenerationConfig(
      recipe: recipe, samples: samples, resolution: n, dimension: dimension, seed: 0, solver: solver, rtol: rtol,
      warmStart: parts.count == 3 ? retraining : parts.count == 2 ? settings : nil)
    let out = URL(fileURLWithPath: dir).appendingPathComponent("\(name).nc")
    var times: [Double] = []
    var training: [Double] = []
    var last: HybridGenerator.Summary?
    for _ in 0..<reps {
      let t0 = now()
      let s = try HybridGenerator.run(
        config, output: out, options: GenerationOptions(threads: threads, overwrite: true))
      times.append(now() - t0)
      training.append(s.trainingSeconds)
      last = s
    }
    let reader = try DatasetReader(url: out)
    let diagnostics = try reader.diagnostics(samples: 0..<reader.sampleCount)
    try reader.close()
    let iterations = diagnostics.map { Int($0.iterations) }
    let later = Array(iterations[min(bootstrap, iterations.count)...])
    func mean(_ v: [Int]) -> Double { v.isEmpty ? 0 : Double(v.reduce(0, +)) / Double(v.count) }
    emit([
      "bench": "hybrid_\(recipe)_\(dimension == 3 ? "\(n)x\(n)x\(n)" : "\(n)x\(n)")_\(samples)", "impl": name,
      "median_s": median(times), "min_s": times.min()!,
      "times_s": times, "reps": reps, "threads": threads, "training_s": median(training),
      "solve_s_summed": last!.generation.solveSeconds, "final_training_loss": last!.finalTrainingLoss ?? NSNull(),
      "mean_iterations": mean(iterations), "mean_iterations_after_bootstrap": mean(later),
      "bootstrap": bootstrap, "rtol": rtol, "iterations": iterations,
      "max_relative_residual": diagnostics.map(\.relativeResidual).max()!,
      "warm_started": diagnostics.filter { $0.warmStarted == true }.count,
      "warm_start_rounds": diagnostics.map { Int($0.warmStartRound ?? -1) },
      "retrain_every": config.warmStart?.retrainEvery ?? NSNull(),
      "retrain_epochs": config.warmStart?.retrainEpochs ?? NSNull(),
      "training_s_by_round": Dictionary(
        uniqueKeysWithValues: (last!.trainingSecondsByRound).map { (String($0.key), $0.value) }),
    ])
  }
}

func hybridBandit(_ a: FlagArgs) throws {
  let n = a.int("n", default: 64, min: 4)
  let count = a.int("samples", default: 200, min: 3)
  let rtol = a.double("rtol", default: 1e-8)
  let recipe = try DarcyRecipe(resolution: n, dimension: 2, parameters: [:])
  let systems = try (0..<count).map { try recipe.makeSample(sampleSeed: sampleSeed(runSeed: 0, index: $0)).system }
  let grid = BanditRelaxedCG.defaultGrid
  let options = KrylovOptions(rtol: rtol, maxIterations: 20 * n)
  let t0 = now()
  let table = try systems.map { s in
    try grid.map { w -> Int in
      let r = try LinearSolver(.cg(preconditioner: .ssor(omega: w)), options: options).solve(s)
      guard r.stats.converged else { fail("SSOR(\(w))-CG did not converge: \(r.stats.reason)") }
      return r.stats.iterations
    }
  }
  let tableSeconds = now() - t0
  // Losses near 1/2 suit the reduced-variance estimator: scale by twice the mean ω = 1 count
  // of the first system (known after one solve, no hindsight).
  let scale = a.double("cost-scale", default: 2 * Double(table[0][0]))
  let solver = try BanditRelaxedCG(
    omegas: grid, options: options, costScale: scale, seed: UInt64(a.int("seed", default: 0)))
  let t1 = now()
  for s in systems { _ = try solver.solve(s) }
  let banditSeconds = now() - t1
  let late = (2 * count / 3)..<count
  let totals = grid.indices.map { k in table.reduce(0) { $0 + $1[k] } }
  let lateTotals = grid.indices.map { k in late.reduce(0) { $0 + table[$1][k] } }
  let best = totals.indices.min { totals[$0] < totals[$1] }!
  emit([
    "bench": "hybrid_bandit_ssor_cg_darcy_\(n)x\(n)_\(count)", "impl": "tsallis_inf", "rtol": rtol,
    "cost_scale": scale, "bandit_iterations": solver.totalIterations, "omega1_iterations": totals[0],
    "best_fixed_omega": grid[best], "best_fixed_iterations": totals[best], "fixed_totals": totals,
    "bandit_last_third": late.reduce(0) { $0 + solver.steps[$1].solution.stats.iterations },
    "best_fixed_last_third": lateTotals.min()!, "omega1_last_third": lateTotals[0],
    "arms_played": solver.steps.map(\.arm), "table_s": tableSeconds, "bandit_s": banditSeconds,
  ])
}

func hybridPreconditioner(_ a: FlagArgs) throws {
  let n = a.int("n", default: 32, min: 4)
  let trainCount = a.int("train", default: 16, min: 1)
  let count = a.int("samples", default: 20, min: 1)
  let rtol = a.double("rtol", default: 1e-8)
  let recipe = try DarcyRecipe(resolution: n, dimension: 2, parameters: [:])
  func draw(_ i: Int) throws -> RecipeSample { try recipe.makeSample(sampleSeed: sampleSeed(runSeed: 0, index: i)) }
  let train = try (0..<trainCount).map(draw)
  let t0 = now()
  let checkpoint = try NeuralPreconditioner.train(
    coefficients: train.map { $0.inputs["coefficient"]! }, matrices: train.map(\.system.matrix), gridShape: [n, n],
    residualsPerSystem: a.int("residuals", default: 8, min: 1), epochs: a.int("epochs", default: 30, min: 1),
    width: a.int("width", default: 16, min: 1), modes: a.int("modes", default: 8, min: 1))
  let trainingSeconds = now() - t0
  let tests = try (trainCount..<(trainCount + count)).map(draw)
  let options = KrylovOptions(rtol: rtol, maxIterations: 20 * n)
  var results: [String: [(Int, Double, Bool)]] = [:]
  for s in tests {
    let (m, b) = (s.system.matrix, s.system.rhs)
    for (name, algorithm) in [
      ("ic0-cg", LinearSolverAlgorithm.cg(preconditioner: .ic0)), ("amg-cg", .cg(preconditioner: .amg)),
    ] {
      let t = now()
      let r = try LinearSolver(algorithm, options: options).solve(s.system)
      results[name, default: []].append((r.stats.iterations, now() - t, r.stats.converged))
    }
    for compare in [false, true] {
      let t = now()
      let pc = try NeuralPreconditioner(checkpoint, coefficient: s.inputs["coefficient"]!, gridShape: [n, n])
      let fallback = try IncompleteCholeskyPreconditioner(m)
      var x = [Double](repeating: 0, count: b.count)
      let st = FlexibleCG(dimension: b.count, truncation: 5, compareWithFallback: compare).solve(
        m, b, &x, preconditioner: pc, fallback: fallback, options: options)
      results[compare ? "fcg-fno-or-ic0" : "fcg-fno+ic0-fallback", default: []].append(
        (st.iterations, now() - t, st.converged))
    }
  }
  for (name, rows) in results.sorted(by: { $0.key < $1.key }) {
    emit([
      "bench": "hybrid_precond_darcy_\(n)x\(n)_\(count)", "impl": name,
      "median_iterations": median(rows.map { Double($0.0) }), "median_s": median(rows.map(\.1)),
      "all_converged": rows.allSatisfy(\.2), "training_s": trainingSeconds, "train_systems": trainCount, "rtol": rtol,
    ])
  }
}
