// The Krylov-recycling benchmark of issue 5 (bench/recycling/run.sh; results in bench/RESULTS.md).
//
//   pdekit-bench recycling --family darcy|thermal|poisson|helmholtz [--n 128] [--dim 2|3] [--systems 100]
//       [--rtol 1e-8] [--pc none|jacobi|ilu0|amg] [--configs a,b,c,d-direct,...] [--repeat 1]
//       [--restart 40] [--recycle 20] [--rcg-recycle 10] [--max-iterations 10000] [--seed 0]
//       [--frequency 4] [--export DIR]
//
// The setting is SKR (Wang et al., "Accelerating Data Generation for Neural Operators via Krylov
// Subspace Recycling", ICLR 2024): a sequence of systems from one PDE family, GCRO-DR(40, 20)
// after a greedy nearest-neighbour sort, against GMRES(40) from a zero initial guess, rtol 1e-8,
// at most 10000 iterations. The systems are built by the dataset recipes' own code
// (`DarcyRecipe`, `ThermalRecipe`, `PoissonRecipe`, `HelmholtzRecipe`, sample i from
// `sampleSeed(runSeed: seed, index: i)`), so they are the systems `pdekit generate` solves.
// Following SKR's Thermal and Poisson families (shared/REFERENCES.md), those two keep ONE matrix
// and vary only b: Poisson's matrix is fixed by its recipe; for thermal the conductivity of sample
// 0 is used for every system and b = u0_i/Δt (the recipe's first implicit-Euler step) varies.
//
// Configurations (one JSON line each, per round):
//   a        GMRES(m), every system from zero, original order (SKR's baseline)
//   a-cg     CG, from zero, original order (SPD families)
//   b, b-cg  the same with a warm start from the previous system in greedy order
//   c        GCRO-DR(m, k) + warm start + greedy order (PDEKit recycling)
//   c1       the same with one harmonic Ritz update per solve (GCRODR.maxUpdatesPerSolve = 1)
//   c-cgs2   the same as c with a second Gram–Schmidt pass at every step (alwaysReorthogonalize)
//   c-rcg    recycled (deflated) CG(k) + warm start + greedy order (SPD families)
//   d-direct CHOLMOD (SPD) / UMFPACK per system through `LinearSolver` (symbolic analysis reused)
//   d-zlu    helmholtz: complex UMFPACK on the n×n complex matrix (not the 2n real block form),
//            symbolic analysis reused, fill-reducing ordering from --umfpack-ordering
//   d-amg    SA-AMG-CG + warm start + greedy order through `LinearSolver` (AMG refreshed, not rebuilt)
//   d-fixed  fixed-matrix families: one factorization, all right-hand sides in one block solve
//   d-bcg    fixed-matrix SPD families: block CG (blocks of 10) with SA-AMG, one AMG setup
// `--pc` applies to a, a-cg, b, b-cg, c, c-rcg; a CG configuration with a nonsymmetric
// preconditioner (ilu0), or a CG/CHOLMOD configuration on a nonsymmetric family, prints a
// `skipped` line with the reason. Every time includes ordering and preconditioner/factorization
// setup (everything a user pays for the sequence); assembling the systems is not timed.
//
// Correctness: before any timed run, every system (or the first K with --direct-check K) is solved by CHOLMOD (SPD) or UMFPACK; each
// configuration's solutions are compared with those (max_rel_diff_direct = max_i ‖x_i −
// x_direct,i‖/‖x_direct,i‖) and their true residual ‖b − A x‖/‖b‖ is recomputed here
// (max_true_rel_residual). Unconverged systems are counted (`unconverged`) and listed by index.
// With `--repeat R` the configurations run R rounds, in reversed order in odd rounds, so that
// machine noise hits all alike; bench/recycling/report.py takes medians over rounds.
// `--export DIR` writes the systems (A_i.mtx, only A_0.mtx when the matrix is fixed; b_i.mtx;
// x_i.mtx the direct solutions) and manifest.json with the greedy order, for krypy_peer.py.
import Foundation
import Numerics
import Solvers

let recyclingSubcommands: Set<String> = ["recycling"]

let recyclingHelp = """
  pdekit-bench recycling: solve a sequence of systems from one PDE family with several methods and
  print one JSON line per method (total wall time, iterations, convergence, max true residual,
  max difference to a direct solve).

  options:
    --family F         darcy | thermal | poisson | helmholtz (required)
    --n N              cells (nodes for helmholtz) per axis (default 128)
    --dim D            2 or 3 (default 2)
    --systems S        number of systems in the sequence (default 100)
    --rtol R           relative residual tolerance ‖b − Ax‖ ≤ R‖b‖ (default 1e-8)
    --pc P             none | jacobi | ilu0 | amg, for the Krylov configurations (default none)
    --configs LIST     comma-separated subset of a,a-cg,b,b-cg,c,c1,c-cgs2,c-rcg,d-direct,d-zlu,d-amg,
                       d-fixed,d-bcg (default: all that apply to the family); c1: GCRO-DR with one Ritz
                       update per solve; c-cgs2: GCRO-DR with CGS2 at every step; d-zlu: complex UMFPACK
                       (helmholtz)
    --umfpack-ordering O  amd | metis | cholmod | best: fill-reducing ordering of d-zlu (default amd,
                       UMFPACK's own; metis is nested dissection, less fill on 3D grids)
    --repeat R         rounds of all configurations (default 1)
    --restart M        GMRES / GCRO-DR restart length m (default 40)
    --recycle K        GCRO-DR recycle dimension k (default 20)
    --rcg-recycle K    recycled-CG deflation dimension (default 10)
    --max-iterations I iteration cap per system (default 10000, SKR's)
    --seed S           run seed of the recipe samples (default 0)
    --frequency F      helmholtz frequency (default 4, the recipe's)
    --direct-check K   compare with a direct solve on the first K systems only (default: all; for 3D,
                       where one CHOLMOD factorization takes tens of seconds); 0: none (3D Helmholtz,
                       where UMFPACK may not fit in memory; the true residual is still checked)
    --export DIR       also write the systems, direct solutions and greedy order as Matrix Market
    --time-limit S     wall-time cap per configuration in seconds (default: none). A configuration
                       still running after S s gets a "failed" line (failed_after_s = S) and the
                       invocation ends there (a factorization cannot be interrupted): put the
                       configuration that may not finish (d-zlu at 64³) last, with --repeat 1

  examples:
    pdekit-bench recycling --family darcy --n 128 --systems 100 --rtol 1e-8 --pc jacobi --configs a,b,c,d-direct
    pdekit-bench recycling --family poisson --n 128 --rtol 1e-5 --configs a-cg,c-rcg,d-fixed,d-bcg --repeat 3
    pdekit-bench recycling --family darcy --dim 3 --n 64 --systems 10 --pc amg --configs c-rcg,d-amg,d-direct
    pdekit-bench recycling --family helmholtz --dim 3 --n 32 --systems 10 --frequency 2 --pc ilu0 --configs a,b,c,d-direct

  d-zlu also prints one {"impl": "progress"} line per factorization (seconds, peak memory).
  A configuration that throws (e.g. UMFPACK out of memory under `ulimit -v`) prints a line with
  "failed" (the error) and "failed_after_s" instead of its times, and the run goes on; one that
  exceeds --time-limit prints such a line and ends the invocation.
  """

func runRecyclingSubcommand(_ name: String, _ args: ArraySlice<String>) {
  if args.contains("--help") || args.contains("-h") {
    print(recyclingHelp)
    return
  }
  do {
    try recyclingBench(
      FlagArgs(
        args,
        allowed: [
          "family", "n", "dim", "systems", "rtol", "pc", "configs", "repeat", "restart", "recycle", "rcg-recycle",
          "max-iterations", "seed", "frequency", "export", "direct-check", "umfpack-ordering", "time-limit",
        ]))
  } catch {
    fail("\(name): \(error)")
  }
}

/// A sequence of systems from one family, with the input fields used for the ordering.
struct RecyclingSequence {
  var systems: [LinearSystem]
  var features: [[Double]]
  /// Whether every system has the same matrix (only b varies).
  var fixedMatrix: Bool
  var spd: Bool
  /// The complex form of each system (Helmholtz), for the complex direct baseline `d-zlu`.
  var complex: [ComplexSparseSystem]? = nil
}

func makeRecyclingSequence(family: String, n: Int, dim: Int, count: Int, seed: UInt64, frequency: Double) throws
  -> RecyclingSequence
{
  func seedOf(_ i: Int) -> UInt64 { sampleSeed(runSeed: seed, index: i) }
  switch family {
  case "darcy":
    let recipe = try DarcyRecipe(resolution: n, dimension: dim, parameters: [:])
    let samples = try (0..<count).map { try recipe.makeSample(sampleSeed: seedOf($0)) }
    return RecyclingSequence(
      systems: samples.map(\.system), features: samples.map { $0.inputs["coefficient"]! }, fixedMatrix: false,
      spd: true)
  case "poisson":
    let recipe = try PoissonRecipe(resolution: n, dimension: dim, parameters: [:])
    let samples = try (0..<count).map { try recipe.makeSample(sampleSeed: seedOf($0)) }
    // The recipe assembles the same matrix for every sample; share one copy.
    let a = samples[0].system.matrix
    return RecyclingSequence(
      systems: samples.map { LinearSystem(matrix: a, rhs: $0.system.rhs) },
      features: samples.map { $0.inputs["source"]! }, fixedMatrix: true, spd: true)
  case "thermal":
    let dt = 1e-3  // the recipe's default Δt
    let recipe = try ThermalRecipe(resolution: n, dimension: dim, parameters: ["dt": dt])
    let samples = try (0..<count).map { try recipe.makeSample(sampleSeed: seedOf($0)) }
    // SKR's thermal family: one matrix (sample 0's conductivity), b = u0_i / Δt.
    let heat = try HeatEquation(
      dimension: dim, n: n, conductivity: samples[0].inputs["conductivity"]!, timeStep: dt)
    let u0 = samples.map { $0.inputs["initial_temperature"]! }
    return RecyclingSequence(
      systems: try u0.map { LinearSystem(matrix: heat.matrix, rhs: try heat.rhs(previous: $0)) }, features: u0,
      fixedMatrix: true, spd: true)
  case "helmholtz":
    let recipe = try HelmholtzRecipe(resolution: n, dimension: dim, parameters: ["frequency": frequency])
    let problems = try (0..<count).map { try recipe.makeProblem(sampleSeed: seedOf($0)) }
    return RecyclingSequence(
      systems: problems.map { LinearSystem(matrix: $0.problem.matrix, rhs: $0.problem.rhs) },
      features: problems.map(\.wavespeed), fixedMatrix: false, spd: false,
      complex: problems.map { $0.problem.complexSystem! })
  default:
    fail("--family must be darcy, thermal, poisson or helmholtz, got \(family)")
  }
}

/// The reference solutions of the first `count` systems: CHOLMOD (SPD), complex UMFPACK with METIS
/// ordering (complex families: at 32³ Helmholtz 7× faster than real UMFPACK on the block form) or
/// UMFPACK per system, pattern reused.
func directSolutions(_ s: RecyclingSequence, count: Int) throws -> [[Double]] {
  if let complex = s.complex {
    var lu: ComplexUmfpackLU?
    return try complex.prefix(count).map { try solveComplex($0, &lu, ordering: .metis) }
  }
  let ws = DirectSolverWorkspace(kind: s.spd ? .cholmod : .umfpack)
  var factored = false
  return try s.systems.prefix(count).map { system in
    if !(factored && s.fixedMatrix) { try ws.factor(system.matrix) }
    factored = true
    return try ws.solve(system.rhs)
  }
}

/// Solves one complex system with `lu`, refactoring it (symbolic analysis reused) or, when nil,
/// creating it; returns x in the real form's layout [Re x; Im x].
func solveComplex(_ c: ComplexSparseSystem, _ lu: inout ComplexUmfpackLU?, ordering: UmfpackOrdering) throws
  -> [Double]
{
  if let lu {
    try lu.refactor(real: c.realPart.values, imaginary: c.imaginaryPart.values)
  } else {
    lu = try ComplexUmfpackLU(real: c.realPart, imaginary: c.imaginaryPart.values, ordering: ordering)
  }
  let x = try lu!.solve(re: c.rhs.map(\.re), im: c.rhs.map(\.im))
  return x.re + x.im
}

func norm2(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// ‖b − A x‖ / ‖b‖.
func trueRelativeResidual(_ system: LinearSystem, _ x: [Double]) -> Double {
  var ax = [Double](repeating: 0, count: system.matrix.rows)
  x.withUnsafeBufferPointer { xp in ax.withUnsafeMutableBufferPointer { system.matrix.multiply(xp, into: $0) } }
  var r = 0.0
  for i in ax.indices { r += (system.rhs[i] - ax[i]) * (system.rhs[i] - ax[i]) }
  return r.squareRoot() / max(norm2(system.rhs), 1e-300)
}

/// What one configuration did on the sequence.
struct RecyclingRun {
  var solutions: [[Double]]
  var iterations: [Int]
  var converged: [Bool]
  var totalSeconds: Double
  var setupSeconds: Double
  var orderingSeconds: Double
  var method: String
  var extra: [String: Any] = [:]
}

func recyclingBench(_ args: FlagArgs) throws {
  guard let family = args.string("family") else { fail("--family is required (darcy|thermal|poisson|helmholtz)") }
  let n = args.int("n", default: 128, min: 4)
  let dim = args.int("dim", default: 2, min: 2)
  guard dim == 2 || dim == 3 else { fail("--dim must be 2 or 3, got \(dim)") }
  let count = args.int("systems", default: 100, min: 1)
  let rtol = args.double("rtol", default: 1e-8)
  let repeats = args.int("repeat", default: 1, min: 1)
  let m = args.int("restart", default: 40, min: 1)
  let k = args.int("recycle", default: 20, min: 1)
  let rcgK = args.int("rcg-recycle", default: 10, min: 1)
  let maxIterations = args.int("max-iterations", default: 10_000, min: 1)
  let seed = UInt64(args.int("seed", default: 0))
  let frequency = args.double("frequency", default: 4)
  let orderingName = args.string("umfpack-ordering") ?? "amd"
  guard let umfpackOrdering = UmfpackOrdering(rawValue: orderingName) else {
    fail(
      "--umfpack-ordering must be \(UmfpackOrdering.allCases.map(\.rawValue).joined(separator: ", ")), got \(orderingName)"
    )
  }
  let pcName = args.string("pc") ?? "none"
  let pc: PreconditionerKind
  switch pcName {
  case "none": pc = .none
  case "jacobi": pc = .jacobi
  case "ilu0": pc = .ilu0
  case "amg": pc = .amg
  default: fail("--pc must be none, jacobi, ilu0 or amg, got \(pcName)")
  }
  guard k < m else { fail("--recycle (\(k)) must be smaller than --restart (\(m))") }

  let t0 = now()
  let s = try makeRecyclingSequence(
    family: family, n: n, dim: dim, count: count, seed: seed, frequency: frequency)
  let assembleSeconds = now() - t0
  let unknowns = s.systems[0].matrix.rows
  let allConfigs = [
    "a", "a-cg", "b", "b-cg", "c", "c1", "c-cgs2", "c-rcg", "d-direct", "d-zlu", "d-amg", "d-fixed", "d-bcg",
  ]
  let configs = args.string("configs").map { $0.split(separator: ",").map(String.init) } ?? allConfigs
  if let bad = configs.first(where: { !allConfigs.contains($0) }) {
    fail("unknown configuration \(bad) in --configs (known: \(allConfigs.joined(separator: ",")))")
  }

  let t1 = now()
  var checked = min(args.int("direct-check", default: count, min: 0), count)
  var reference: [[Double]] = []
  var referenceFailure: String?
  do {
    reference = try directSolutions(s, count: checked)
  } catch {
    // Recorded in the setup line; the configurations still run, checked by their true residuals
    // (the same direct solver as a (d) configuration will then fail there too, and say so).
    referenceFailure = "\(error)"
    checked = 0
    FileHandle.standardError.write(
      "pdekit-bench recycling: the reference direct solve failed (\(error)); going on without it\n".data(using: .utf8)!)
  }
  let referenceSeconds = now() - t1
  let options = KrylovOptions(rtol: rtol, maxIterations: maxIterations)
  let common: [String: Any] = [
    "bench": "recycling", "family": family, "n": n, "dim": dim, "unknowns": unknowns, "systems": count,
    "rtol": rtol, "pc": pcName, "fixed_matrix": s.fixedMatrix, "spd": s.spd, "seed": seed,
    "nnz": s.systems[0].matrix.nonzeroCount,
  ]
  var header = common
  header["impl"] = "setup"
  header["assemble_s"] = assembleSeconds
  header["reference_direct_s"] = referenceSeconds
  header["direct_checked_systems"] = checked
  if let referenceFailure { header["reference_failed"] = referenceFailure }
  header["reference"] =
    checked == 0 ? "none" : s.spd ? "cholmod" : s.complex != nil ? "complex umfpack (metis)" : "umfpack"
  if family == "helmholtz" { header["frequency"] = frequency }
  emit(header)
  fflush(nil)  // all streams: a long run shows each line as it finishes

  if let dir = args.string("export") {
    try exportRecyclingSequence(s, reference: reference, to: dir, common: common)
  }

  /// Runs one configuration, or returns the reason it does not apply.
  func run(_ config: String) throws -> Result<RecyclingRun, SkipReason> {
    let cgPC = pc.isSymmetric
    func sequence(_ algorithm: SequenceAlgorithm, _ ordering: SequenceOrdering) throws -> RecyclingRun {
      let r = try solveSequence(
        s.systems, algorithm: algorithm, ordering: ordering, features: s.features, options: options)
      var run = RecyclingRun(
        solutions: r.solutions, iterations: r.stats.map(\.iterations), converged: r.stats.map(\.converged),
        totalSeconds: r.totalSeconds, setupSeconds: r.setupSeconds, orderingSeconds: r.orderingSeconds,
        method: algorithm.description + " " + ordering.description)
      if case .gcrodr = algorithm {
        run.extra["guard_events"] = r.guardEvents
        run.extra["recycle_s"] = r.diagnostics.reduce(0) { $0 + $1.recycleSeconds }
      }
      if case .recycledCG = algorithm {
        run.extra["guard_events"] = r.guardEvents
        run.extra["recycle_s"] = r.diagnostics.reduce(0) { $0 + $1.recycleSeconds }
      }
      return run
    }
    func needsSPD() -> SkipReason? {
      s.spd ? nil : SkipReason(reason: "\(config) needs an SPD family; \(family) is nonsymmetric/indefinite")
    }
    switch config {
    case "a":
      return .success(try sequence(.independent(.gmres(restart: m, preconditioner: pc)), .identity))
    case "b":
      return .success(try sequence(.independent(.gmres(restart: m, preconditioner: pc), warmStart: true), .greedy))
    case "c":
      return .success(try sequence(.gcrodr(m: m, k: k, preconditioner: pc), .greedy))
    case "a-cg", "b-cg", "c-rcg":
      if let skip = needsSPD() { return .failure(skip) }
      guard cgPC else { return .failure(SkipReason(reason: "\(pcName) is not symmetric; CG needs jacobi or amg")) }
      switch config {
      case "a-cg": return .success(try sequence(.independent(.cg(preconditioner: pc)), .identity))
      case "b-cg": return .success(try sequence(.independent(.cg(preconditioner: pc), warmStart: true), .greedy))
      default: return .success(try sequence(.recycledCG(k: rcgK, preconditioner: pc), .greedy))
      }
    case "c1", "c-cgs2":
      // GCRO-DR variants through the same loop as `solveSequence` (greedy order, warm start,
      // preconditioner refreshed): c1 updates the recycled space once per solve (the first
      // cycle), c-cgs2 orthogonalizes twice at every Arnoldi step (the behaviour before the DGKS
      // criterion became the default).
      let start = now()
      let order = try SequenceOrdering.greedy.permutation(s.features)
      let orderingSeconds = now() - start
      let solver = GCRODR(
        dimension: unknowns, restart: m, recycle: k, maxUpdatesPerSolve: config == "c1" ? 1 : nil)
      solver.alwaysReorthogonalize = config == "c-cgs2"
      var preconditioner: Preconditioner?
      var previous: CSRMatrix<Double>?
      var setup = 0.0
      var recycleSeconds = 0.0
      var x = [Double](repeating: 0, count: unknowns)
      var run = RecyclingRun(
        solutions: Array(repeating: [], count: count), iterations: Array(repeating: 0, count: count),
        converged: Array(repeating: false, count: count), totalSeconds: 0, setupSeconds: 0,
        orderingSeconds: orderingSeconds,
        method: "gcrodr(\(m),\(k))" + (pc == .none ? "" : "+\(pc)")
          + (config == "c1" ? "+warm greedy, 1 Ritz update per solve" : "+warm greedy, CGS2 every step"))
      for i in order {
        let a = s.systems[i].matrix
        var changed = true
        let t = now()
        if let old = previous, old.rowPointers == a.rowPointers, old.columnIndices == a.columnIndices {
          if old.values == a.values { changed = false } else { try preconditioner?.update(a) }
        } else {
          preconditioner = try pc.make(for: a)
        }
        previous = a
        setup += now() - t
        let stats = solver.solve(
          a, s.systems[i].rhs, &x, preconditioner: preconditioner, options: options, operatorChanged: changed)
        recycleSeconds += solver.lastDiagnostics.recycleSeconds
        run.solutions[i] = x
        run.iterations[i] = stats.iterations
        run.converged[i] = stats.converged
      }
      run.totalSeconds = now() - start
      run.setupSeconds = setup
      run.extra["recycle_s"] = recycleSeconds
      return .success(run)
    case "d-direct":
      return .success(try sequence(.independent(s.spd ? .cholmod : .umfpack), .identity))
    case "d-zlu":
      // Complex LU of the n×n complex matrix (half the order of the real block form, and complex
      // arithmetic instead of 2×2 real blocks): the strongest direct baseline for Helmholtz.
      guard let complex = s.complex else {
        return .failure(SkipReason(reason: "d-zlu needs a complex family (helmholtz); \(family) is real"))
      }
      let start = now()
      var lu: ComplexUmfpackLU?
      var solutions = [[Double]]()
      var setup = 0.0
      var factorSeconds = 0.0
      var peak = 0.0
      var entries = 0.0
      for c in complex {
        let first = lu == nil
        solutions.append(try solveComplex(c, &lu, ordering: umfpackOrdering))
        if first { setup = lu!.analyzeSeconds }
        factorSeconds += lu!.factorSeconds
        peak = max(peak, lu!.peakMemoryBytes)
        entries = max(entries, lu!.factorEntries)
        // One line per factorization, so that a run cut by --time-limit still shows what one costs.
        emit([
          "impl": "progress", "config": "d-zlu", "system": solutions.count - 1, "factor_s": lu!.factorSeconds,
          "elapsed_s": now() - start, "peak_memory_gb": lu!.peakMemoryBytes / 1e9, "lu_entries": lu!.factorEntries,
        ])
        fflush(nil)
      }
      var run = RecyclingRun(
        solutions: solutions, iterations: Array(repeating: 0, count: count),
        converged: Array(repeating: true, count: count), totalSeconds: now() - start, setupSeconds: setup,
        orderingSeconds: 0, method: "complex umfpack (\(umfpackOrdering.rawValue) ordering), symbolic reuse")
      run.extra["factor_s"] = factorSeconds
      run.extra["peak_memory_gb"] = peak / 1e9
      run.extra["lu_entries"] = entries
      return .success(run)
    case "d-amg":
      if let skip = needsSPD() { return .failure(skip) }
      return .success(try sequence(.independent(.cg(preconditioner: .amg), warmStart: true), .greedy))
    case "d-fixed":
      guard s.fixedMatrix else { return .failure(SkipReason(reason: "the matrix changes from system to system")) }
      let start = now()
      let ws = DirectSolverWorkspace(kind: s.spd ? .cholmod : .umfpack)
      try ws.factor(s.systems[0].matrix)
      let setup = now() - start
      let block = try ws.solve(columns: s.systems.map(\.rhs))
      return .success(
        RecyclingRun(
          solutions: block, iterations: Array(repeating: 0, count: count),
          converged: Array(repeating: true, count: count),
          totalSeconds: now() - start, setupSeconds: setup, orderingSeconds: 0,
          method: (s.spd ? "cholmod" : "umfpack") + " one factorization, block solve of \(count) rhs"))
    default:  // d-bcg
      guard s.fixedMatrix else { return .failure(SkipReason(reason: "the matrix changes from system to system")) }
      if let skip = needsSPD() { return .failure(skip) }
      let start = now()
      let a = s.systems[0].matrix
      let amg = try PreconditionerKind.amg.make(for: a)
      let setup = now() - start
      let blockSize = min(10, count)
      let bcg = BlockConjugateGradient(dimension: unknowns, blockSize: blockSize)
      var solutions = [[Double]](repeating: [], count: count)
      var iterations = [Int](repeating: 0, count: count)
      var converged = [Bool](repeating: false, count: count)
      var first = 0
      while first < count {
        let cols = Array(first..<min(first + blockSize, count))
        let solver =
          cols.count == blockSize ? bcg : BlockConjugateGradient(dimension: unknowns, blockSize: cols.count)
        var x = [[Double]](repeating: [Double](repeating: 0, count: unknowns), count: cols.count)
        let stats = solver.solve(a, cols.map { s.systems[$0].rhs }, &x, preconditioner: amg, options: options)
        for (j, i) in cols.enumerated() {
          solutions[i] = x[j]
          iterations[i] = stats[j].iterations
          converged[i] = stats[j].converged
        }
        first += blockSize
      }
      return .success(
        RecyclingRun(
          solutions: solutions, iterations: iterations, converged: converged, totalSeconds: now() - start,
          setupSeconds: setup, orderingSeconds: 0, method: "block-cg(\(blockSize))+amg"))
    }
  }

  let timeLimit = args.string("time-limit").map { _ in args.double("time-limit", default: 0) }
  if let timeLimit, !(timeLimit > 0) { fail("--time-limit must be a positive number of seconds") }
  let watchdog = ConfigurationWatchdog()
  for round in 0..<repeats {
    for config in round % 2 == 0 ? configs : configs.reversed() {
      var line = common
      line["impl"] = config
      line["round"] = round
      if let timeLimit {
        var capped = line
        capped["failed"] =
          "exceeded --time-limit \(timeLimit) s (abandoned; the invocation ended there, later configurations not run)"
        capped["failed_after_s"] = timeLimit
        let json = String(
          decoding: try JSONSerialization.data(withJSONObject: capped, options: [.sortedKeys]), as: UTF8.self)
        watchdog.arm(after: timeLimit, line: json, config: config)
      }
      defer { watchdog.disarm() }
      let started = now()
      let outcome: Result<RecyclingRun, SkipReason>
      do {
        outcome = try run(config)
      } catch {
        // Recorded, not dropped: a baseline that cannot run at this size (UMFPACK out of memory
        // under `ulimit -v`) is itself the measurement.
        line["failed"] = "\(error)"
        line["failed_after_s"] = now() - started
        FileHandle.standardError.write("pdekit-bench recycling: \(config) failed: \(error)\n".data(using: .utf8)!)
        watchdog.locked {
          emit(line)
          fflush(nil)
        }
        continue
      }
      switch outcome {
      case .failure(let skip):
        line["skipped"] = skip.reason
      case .success(let r):
        let residuals = zip(s.systems, r.solutions).map { trueRelativeResidual($0, $1) }
        let differences = zip(r.solutions.prefix(checked), reference).map { x, ref in
          norm2(zip(x, ref).map { $0 - $1 }) / max(norm2(ref), 1e-300)
        }
        let unconverged = r.converged.indices.filter { !r.converged[$0] }
        line["method"] = r.method
        line["total_s"] = r.totalSeconds
        line["setup_s"] = r.setupSeconds
        line["ordering_s"] = r.orderingSeconds
        line["iterations"] = r.iterations.reduce(0, +)
        line["max_iterations_per_system"] = r.iterations.max() ?? 0
        line["unconverged"] = unconverged.count
        line["unconverged_systems"] = Array(unconverged.prefix(20))
        line["converged"] = unconverged.isEmpty
        line["max_true_rel_residual"] = residuals.max() ?? 0
        if checked > 0 { line["max_rel_diff_direct"] = differences.max() ?? 0 }
        line["direct_checked_systems"] = checked
        for (key, value) in r.extra { line[key] = value }
        if !unconverged.isEmpty {
          FileHandle.standardError.write(
            "pdekit-bench recycling: \(config) (\(r.method)) did not converge on \(unconverged.count) of \(count) systems (first: \(unconverged.prefix(5).map(String.init).joined(separator: ", ")))\n"
              .data(using: .utf8)!)
        }
      }
      watchdog.locked {
        emit(line)
        fflush(nil)  // all streams: a long run shows each line as it finishes
      }
    }
  }
}

/// Ends the process with a prepared "failed" line when a configuration outlives `--time-limit`.
/// A UMFPACK factorization cannot be interrupted, and an abandoned one would keep a core busy and
/// distort every later timing, so the invocation stops there instead of going on.
final class ConfigurationWatchdog: @unchecked Sendable {
  private let lock = NSLock()
  private var generation = 0

  /// Starts the clock for one configuration; `line` is printed if it is still running after `seconds`.
  func arm(after seconds: Double, line: String, config: String) {
    let armed = locked {
      generation += 1
      return generation
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
      locked {
        guard generation == armed else { return }
        print(line)
        fflush(nil)
        FileHandle.standardError.write(
          "pdekit-bench recycling: \(config) still running after --time-limit \(seconds) s; recorded as failed, ending the invocation\n"
            .data(using: .utf8)!)
        // _exit, not exit: exit would run the process's exit handlers while the main thread is
        // still inside the abandoned factorization (a segmentation fault, seen at 48³).
        _exit(0)
      }
    }
  }

  /// The configuration finished: its timer no longer fires.
  func disarm() { locked { generation += 1 } }

  func locked<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }
}

struct SkipReason: Error {
  var reason: String
}

/// Writes A_i.mtx (A_0.mtx only for a fixed matrix), b_i.mtx, x_i.mtx (direct solutions) and
/// manifest.json (sizes, the greedy order of the features) to `dir`.
func exportRecyclingSequence(
  _ s: RecyclingSequence, reference: [[Double]], to dir: String, common: [String: Any]
) throws {
  let url = URL(fileURLWithPath: dir, isDirectory: true)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  let rows = s.systems[0].matrix.rows
  for (i, system) in s.systems.enumerated() {
    if i == 0 || !s.fixedMatrix {
      try MatrixMarket.write(system.matrix, to: url.appendingPathComponent("A_\(i).mtx"))
    }
    try MatrixMarket.write(
      try NDArray(shape: [rows, 1], data: system.rhs), to: url.appendingPathComponent("b_\(i).mtx"))
    if i < reference.count {
      try MatrixMarket.write(
        try NDArray(shape: [rows, 1], data: reference[i]), to: url.appendingPathComponent("x_\(i).mtx"))
    }
  }
  var manifest = common
  manifest["greedy_order"] = try SequenceOrdering.greedy.permutation(s.features)
  let data = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted])
  try data.write(to: url.appendingPathComponent("manifest.json"))
}
