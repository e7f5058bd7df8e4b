// The solver benchmarks of bench/README.md ("solvers" suite): PDEKit's side of
// bench/solvers/darcy_peer.py and bench/solvers/mm_read_peer.py.
//
//   pdekit-bench darcy-export --n N --samples S --dim 2|3 --dir D [--seed K] [--storage symmetric|general]
//   pdekit-bench darcy --dir D [--methods cholmod,amg-cg,amg-cg-fresh,ic0-cg,cg] [--samples K] [--rtol R]
//   pdekit-bench mm-read --file F [--reps R] [--warmup W]
//
// darcy-export writes the systems both sides solve: for sample i = 0..<S, a Gaussian random
// field μ_i on the N^d periodic grid (α = 2, τ = 3, σ = 1, k = 0 mode removed as the FNO script's
// L(1,1) = 0 does; `grf.sample(seed: K, index: i)`),
// a = 12 where μ ≥ 0 and 3 elsewhere, f = 1, assembled by `Darcy.discretize` (cell-centred FV,
// harmonic face means, u = 0 on the boundary); files A_i.mtx (Matrix Market coordinate real,
// symmetric storage by default), b_i.mtx (array real, n × 1) and manifest.json.
//
// darcy reads those files (read time reported, never inside a solve time) and solves the
// samples in order with ONE `LinearSolver` per method, so CHOLMOD keeps its symbolic analysis
// and AMG refreshes its hierarchy on same-pattern matrices; `amg-cg-fresh` builds a new solver
// (full AMG setup) for every sample instead, as pyamg does. Per method it prints one JSON line
// with per-sample setup / solve / total (= setup + solve) seconds, the wall time of the whole
// `solve` call (adds input validation and the residual check of `LinearSolver`), iterations and
// the true relative residual ‖b − A x‖/‖b‖ recomputed here; median_s is the median total.
//
// mm-read times `MatrixMarket.read(contentsOf:)` (file → triplets) and, separately, read + `.csr()`.
import Foundation
import Numerics
import Solvers

let solverSubcommands: Set<String> = ["darcy-export", "darcy", "mm-read"]

/// `--key value` pairs after the subcommand.
struct FlagArgs {
  var values: [String: String] = [:]

  init(_ args: ArraySlice<String>, allowed: Set<String>) {
    var it = args.makeIterator()
    while let flag = it.next() {
      guard flag.hasPrefix("--"), allowed.contains(String(flag.dropFirst(2))) else {
        fail("unknown option \(flag) (allowed: \(allowed.sorted().map { "--" + $0 }.joined(separator: " ")))")
      }
      guard let v = it.next() else { fail("\(flag) needs a value") }
      values[String(flag.dropFirst(2))] = v
    }
  }

  func string(_ k: String) -> String? { values[k] }
  func int(_ k: String, default d: Int? = nil, min lo: Int = 0) -> Int {
    guard let s = values[k] else {
      guard let d else { fail("--\(k) is required") }
      return d
    }
    guard let v = Int(s), v >= lo else { fail("--\(k) needs an integer ≥ \(lo), got \(s)") }
    return v
  }
  func double(_ k: String, default d: Double) -> Double {
    guard let s = values[k] else { return d }
    guard let v = Double(s), v > 0 else { fail("--\(k) needs a positive number, got \(s)") }
    return v
  }
}

func runSolverSubcommand(_ name: String, _ args: ArraySlice<String>) {
  do {
    switch name {
    case "darcy-export":
      try darcyExport(FlagArgs(args, allowed: ["n", "samples", "dim", "dir", "seed", "storage"]))
    case "darcy":
      try darcySolve(FlagArgs(args, allowed: ["dir", "methods", "samples", "rtol"]))
    default:
      try mmRead(FlagArgs(args, allowed: ["file", "reps", "warmup"]))
    }
  } catch {
    fail("\(name): \(error)")
  }
}

// MARK: - darcy-export

func darcyExport(_ a: FlagArgs) throws {
  let n = a.int("n", min: 2)
  let samples = a.int("samples", default: 10, min: 1)
  let dim = a.int("dim", default: 2, min: 2)
  guard dim == 2 || dim == 3 else { fail("--dim must be 2 or 3") }
  guard let dir = a.string("dir") else { fail("--dir is required") }
  let seed = UInt64(a.int("seed", default: 0))
  let storage = a.string("storage") ?? "symmetric"
  guard storage == "symmetric" || storage == "general" else { fail("--storage must be symmetric or general") }
  let url = URL(fileURLWithPath: dir, isDirectory: true)
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)

  let t0 = now()
  let shape = [Int](repeating: n, count: dim)
  let grf = try GaussianRandomField(shape: shape, alpha: 2, tau: 3, zeroMean: true)
  let cells = shape.reduce(1, *)
  let f = [Double](repeating: 1, count: cells)
  var fractions: [Double] = []
  var nnz = 0
  var bytes = 0
  for i in 0..<samples {
    let mu = grf.sample(seed: seed, index: UInt64(i)).scalars
    let coefficient = mu.map { $0 >= 0 ? 12.0 : 3.0 }
    fractions.append(Double(coefficient.count { $0 == 12 }) / Double(cells))
    let problem = try Darcy.discretize(dimension: dim, n: n, coefficient: coefficient, source: f)
    nnz = problem.matrix.nonzeroCount
    let aURL = url.appendingPathComponent("A_\(i).mtx")
    let bURL = url.appendingPathComponent("b_\(i).mtx")
    try MatrixMarket.write(
      problem.matrix, to: aURL, symmetric: storage == "symmetric",
      comment:
        "PDEKit Darcy \(dim)D, \(n)^\(dim) cells, FNO coefficient (zero-mean periodic GRF alpha=2 tau=3 seed=\(seed) index=\(i), 12/3), f=1"
    )
    try MatrixMarket.write(try NDArray(shape: [cells, 1], data: problem.rhs), to: bURL)
    for u in [aURL, bURL] {
      bytes += (try FileManager.default.attributesOfItem(atPath: u.path)[.size] as? Int) ?? 0
    }
  }
  let seconds = now() - t0
  let manifest: [String: Any] = [
    "problem": "darcy", "dim": dim, "n": n, "rows": cells, "nnz": nnz, "samples": samples, "seed": seed,
    "grf": [
      "alpha": 2, "tau": 3, "sigma": 1, "zero_mean": true, "grid": "periodic \(n)^\(dim)",
      "sample": "grf.sample(seed: seed, index: i)",
    ],
    "coefficient": "12 where mu >= 0, 3 elsewhere", "source": 1, "boundary": "u = 0",
    "storage": storage, "fraction_12": fractions, "bytes": bytes,
  ]
  let data = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted])
  try data.write(to: url.appendingPathComponent("manifest.json"))
  emit([
    "export": "darcy", "dim": dim, "n": n, "rows": cells, "nnz": nnz, "samples": samples, "dir": dir,
    "storage": storage, "bytes": bytes, "seconds": seconds, "fraction_12": fractions,
  ])
}

// MARK: - darcy

struct DarcySet {
  var dim: Int
  var n: Int
  var matrices: [CSRMatrix<Double>]
  var rhs: [[Double]]
  var readSeconds: Double
}

func loadDarcy(_ dir: String, limit: Int?) throws -> DarcySet {
  let url = URL(fileURLWithPath: dir, isDirectory: true)
  let mdata = try Data(contentsOf: url.appendingPathComponent("manifest.json"))
  guard let m = try JSONSerialization.jsonObject(with: mdata) as? [String: Any],
    let dim = m["dim"] as? Int, let n = m["n"] as? Int, let samples = m["samples"] as? Int
  else { fail("\(dir)/manifest.json is not a darcy-export manifest") }
  let count = min(samples, limit ?? samples)
  var set = DarcySet(dim: dim, n: n, matrices: [], rhs: [], readSeconds: 0)
  let t0 = now()
  for i in 0..<count {
    let a = try MatrixMarket.read(contentsOf: url.appendingPathComponent("A_\(i).mtx")).csr()
    let b = try MatrixMarket.read(contentsOf: url.appendingPathComponent("b_\(i).mtx")).csr().dense().scalars
    guard a.rows == a.columns, b.count == a.rows else {
      fail("sample \(i): A is \(a.rows)×\(a.columns), b has \(b.count)")
    }
    set.matrices.append(a)
    set.rhs.append(b)
  }
  set.readSeconds = now() - t0
  return set
}

func trueRelativeResidual(_ a: CSRMatrix<Double>, _ x: [Double], _ b: [Double]) -> Double {
  var ax = [Double](repeating: 0, count: a.rows)
  x.withUnsafeBufferPointer { xp in ax.withUnsafeMutableBufferPointer { a.multiply(xp, into: $0) } }
  var r2 = 0.0
  var b2 = 0.0
  for i in 0..<b.count {
    let d = b[i] - ax[i]
    r2 += d * d
    b2 += b[i] * b[i]
  }
  return (r2 / max(b2, .leastNormalMagnitude)).squareRoot()
}

let darcyMethods: [String: (algorithm: LinearSolverAlgorithm, fresh: Bool, label: String)] = [
  "cholmod": (.cholmod, false, "CHOLMOD (one LinearSolver: symbolic analysis reused)"),
  "amg-cg": (.cg(preconditioner: .amg), false, "SA-AMG + CG (one LinearSolver: hierarchy refreshed)"),
  "amg-cg-fresh": (.cg(preconditioner: .amg), true, "SA-AMG + CG (new LinearSolver per sample: full setup)"),
  "ic0-cg": (.cg(preconditioner: .ic0), false, "IC(0) + CG"),
  "cg": (.cg(preconditioner: .none), false, "CG (no preconditioner)"),
]

func darcySolve(_ a: FlagArgs) throws {
  guard let dir = a.string("dir") else { fail("--dir is required") }
  let methods = (a.string("methods") ?? "cholmod,amg-cg,amg-cg-fresh,ic0-cg,cg").split(separator: ",").map(String.init)
  for m in methods where darcyMethods[m] == nil {
    fail("unknown method \(m) (known: \(darcyMethods.keys.sorted().joined(separator: ",")))")
  }
  let limit = a.values["samples"] != nil ? a.int("samples", min: 1) : nil
  let rtol = a.double("rtol", default: 1e-8)
  let set = try loadDarcy(dir, limit: limit)
  let rows = set.matrices[0].rows
  let bench = "darcy\(set.dim)d_\(set.n)"
  let common: [String: Any] = [
    "bench": bench, "dim": set.dim, "grid_n": set.n, "rows": rows, "nnz": set.matrices[0].nonzeroCount,
    "samples": set.matrices.count, "reps": set.matrices.count, "rtol": rtol, "threads": 1,
    "read_s": set.readSeconds, "cholmod_version": CholmodCholesky.version,
    "suitesparse_version": CholmodCholesky.suiteSparseVersion,
  ]
  for m in methods {
    let spec = darcyMethods[m]!
    var fields = common
    fields["impl"] = "pdekit_" + m.replacingOccurrences(of: "-", with: "_")
    fields["method"] = m
    fields["label"] = spec.label
    if spec.algorithm == .cg(preconditioner: .amg) {
      // Hierarchy of sample 0, outside any timing (for comparing with pyamg's).
      if let amg = try? SmoothedAggregationAMG(set.matrices[0]) {
        fields["amg_levels"] = amg.levelCount
        fields["amg_operator_complexity"] = amg.operatorComplexity
        fields["amg_grid_complexity"] = amg.gridComplexity
      }
    }
    var setup: [Double] = []
    var solve: [Double] = []
    var total: [Double] = []
    var wall: [Double] = []
    var iterations: [Int] = []
    var relres: [Double] = []
    var reused: [Bool] = []
    var converged = true
    var solver = LinearSolver(spec.algorithm, options: KrylovOptions(rtol: rtol))
    do {
      for i in 0..<set.matrices.count {
        if spec.fresh && i > 0 { solver = LinearSolver(spec.algorithm, options: KrylovOptions(rtol: rtol)) }
        let system = LinearSystem(matrix: set.matrices[i], rhs: set.rhs[i])
        let t0 = now()
        let s = try solver.solve(system)
        wall.append(now() - t0)
        setup.append(s.setupSeconds)
        solve.append(s.stats.seconds)
        total.append(s.setupSeconds + s.stats.seconds)
        iterations.append(s.stats.iterations)
        reused.append(s.reusedPattern)
        converged = converged && s.stats.converged
        relres.append(trueRelativeResidual(set.matrices[i], s.x, set.rhs[i]))
      }
    } catch {
      fields["error"] = "\(error)"
      FileHandle.standardError.write("pdekit-bench darcy: \(m) failed: \(error)\n".data(using: .utf8)!)
    }
    if !total.isEmpty {
      let its = iterations.map(Double.init)
      fields.merge([
        "median_s": median(total), "min_s": total.min()!, "times_s": total,
        "setup_s": setup, "solve_s": solve, "wall_s": wall,
        "median_setup_s": median(setup), "median_solve_s": median(solve), "median_wall_s": median(wall),
        "iterations": iterations, "median_iterations": median(its),
        "relres": relres, "max_relres": relres.max()!, "reused_pattern": reused, "converged": converged,
      ]) { _, new in new }
    }
    emit(fields)
  }
}

// MARK: - mm-read

func mmRead(_ a: FlagArgs) throws {
  guard let path = a.string("file") else { fail("--file is required") }
  let reps = a.int("reps", default: 3, min: 1)
  let warmup = a.int("warmup", default: 1)
  let url = URL(fileURLWithPath: path)
  let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
  var readTimes: [Double] = []
  var csrTimes: [Double] = []
  var entries = 0
  var nnz = 0
  var rows = 0
  for rep in 0..<(warmup + reps) {
    let t0 = now()
    let m = try MatrixMarket.read(contentsOf: url)
    let t1 = now()
    let c = try m.csr()
    let t2 = now()
    if case .sparse(let coo, _) = m { entries = coo.count }
    nnz = c.nonzeroCount
    rows = c.rows
    if rep >= warmup {
      readTimes.append(t1 - t0)
      csrTimes.append(t2 - t0)
    }
  }
  let o = Options(bench: "mm-read", reps: reps, warmup: warmup, threads: 1, n: nil)
  let extra: [String: Any] = [
    "file": path, "bytes": bytes, "rows": rows, "entries": entries, "nnz": nnz, "warmup": warmup,
  ]
  var e1 = extra
  e1["what"] = "MatrixMarket.read(contentsOf:) -> triplets (COOMatrix)"
  e1["mb_per_s"] = Double(bytes) / median(readTimes) / 1e6
  record("mm_read", "pdekit_read", o, readTimes, e1)
  var e2 = extra
  e2["what"] = "MatrixMarket.read(contentsOf:).csr() (duplicates summed, rows sorted)"
  record("mm_read", "pdekit_read_csr", o, csrTimes, e2)
}
