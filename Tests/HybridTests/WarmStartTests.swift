import Datasets
import Foundation
import Hybrid
import Numerics
import Operators
import Solvers
import Testing

func scratchDirectory() throws -> URL {
  let d = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-hybrid-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
  return d
}

/// ‖a − b‖ / ‖b‖.
func relativeDifference(_ a: [Double], _ b: [Double]) -> Double {
  var num = 0.0
  var den = 0.0
  for i in 0..<a.count {
    num += (a[i] - b[i]) * (a[i] - b[i])
    den += b[i] * b[i]
  }
  return (num / den).squareRoot()
}

/// ‖b − A x‖ / ‖b‖, computed here rather than taken from the solver's stats.
func trueRelativeResidual(_ a: CSRMatrix<Double>, _ x: [Double], _ b: [Double]) throws -> Double {
  let ax = try a.multiply(NDArray(shape: [x.count], data: x)).scalars
  var r = 0.0
  var n = 0.0
  for i in 0..<b.count {
    r += (b[i] - ax[i]) * (b[i] - ax[i])
    n += b[i] * b[i]
  }
  return (r / n).squareRoot()
}

@Suite("Warm-started Krylov solves")
struct WarmStartSolveTests {
  /// A Darcy system on 24² cells and its CHOLMOD solution.
  func system() throws -> (LinearSystem, [Double]) {
    let recipe = try DarcyRecipe(resolution: 24, dimension: 2, parameters: [:])
    let sample = try recipe.makeSample(sampleSeed: 11)
    let exact = try LinearSolver(.cholmod).solve(sample.system).x
    return (sample.system, exact)
  }

  @Test("a guess near the solution: every Krylov method reaches rtol, matches CHOLMOD and needs fewer iterations")
  func nearGuess() throws {
    let (system, exact) = try system()
    let a = system.matrix
    let b = system.rhs
    let n = b.count
    let rtol = 1e-10
    let options = KrylovOptions(rtol: rtol)
    // x* perturbed by a smooth 1 % error (what a surrogate's prediction looks like).
    let guess = (0..<n).map { i in exact[i] * (1 + 0.01 * sin(Double(i % 24) / 4)) }
    #expect(relativeDifference(guess, exact) > 1e-3)

    func check(_ name: String, _ solve: ([Double]) throws -> ([Double], SolverStats)) throws {
      let (cold, coldStats) = try solve([Double](repeating: 0, count: n))
      let (warm, warmStats) = try solve(guess)
      #expect(coldStats.converged && warmStats.converged, "\(name)")
      #expect(try trueRelativeResidual(a, warm, b) <= rtol * 1.01, "\(name)")
      #expect(relativeDifference(warm, exact) < 1e-7, "\(name): \(relativeDifference(warm, exact))")
      #expect(relativeDifference(cold, exact) < 1e-7, "\(name)")
      #expect(
        warmStats.iterations < coldStats.iterations,
        "\(name): warm \(warmStats.iterations) vs cold \(coldStats.iterations) iterations")
    }
    for algorithm in [
      LinearSolverAlgorithm.cg(preconditioner: .none), .cg(preconditioner: .ic0), .cg(preconditioner: .amg),
    ] {
      try check("\(algorithm)") { x0 in
        let s = try LinearSolver(algorithm, options: options).solve(system, initialGuess: x0)
        return (s.x, s.stats)
      }
    }
    try check("recycled CG") { x0 in
      var x = x0
      let stats = RecycledCG(dimension: n).solve(
        a, b, &x, preconditioner: try IncompleteCholeskyPreconditioner(a), options: options)
      return (x, stats)
    }
    try check("GCRO-DR") { x0 in
      var x = x0
      let stats = GCRODR(dimension: n).solve(
        a, b, &x, preconditioner: try IncompleteLUPreconditioner(a), options: options)
      return (x, stats)
    }
  }

  @Test("the exact solution as the guess gives zero iterations (the stopping test is relative to ‖b‖)")
  func perfectGuess() throws {
    let (system, exact) = try system()
    let options = KrylovOptions(rtol: 1e-10)
    for algorithm in [LinearSolverAlgorithm.cg(preconditioner: .none), .cg(preconditioner: .amg), .gmres(restart: 40)] {
      let s = try LinearSolver(algorithm, options: options).solve(system, initialGuess: exact)
      #expect(s.stats.converged && s.stats.iterations == 0, "\(algorithm): \(s.stats.iterations)")
      #expect(s.x == exact)
    }
    var x = exact
    let stats = RecycledCG(dimension: exact.count).solve(system.matrix, system.rhs, &x, options: options)
    #expect(stats.converged && stats.iterations == 0)
    x = exact
    let g = GCRODR(dimension: exact.count).solve(system.matrix, system.rhs, &x, options: options)
    #expect(g.converged && g.iterations == 0)
  }
}

@Suite("pdekit generate --warm-start neural")
struct NeuralWarmStartGenerationTests {
  /// Iterations and warm-start flags of a dataset.
  func diagnostics(_ url: URL) throws -> [SampleDiagnostics] {
    let r = try DatasetReader(url: url)
    defer { try? r.close() }
    return try r.diagnostics(samples: 0..<r.sampleCount)
  }

  func data(_ url: URL) throws -> [String: NDArray<Float>] {
    let r = try DatasetReader(url: url)
    defer { try? r.close() }
    var d: [String: NDArray<Float>] = [:]
    for v in r.variables { d[v.name] = try r.read(v.name, samples: 0..<r.sampleCount) }
    return d
  }

  @Test("bootstrap cold, then FNO-warm-started: flags recorded, fewer mean iterations, same data to the tolerance")
  // Darcy with contrast 2 : 1 and unpreconditioned CG, where a 24-sample FNO is accurate enough to help.
  func endToEnd() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let samples = 36
    let bootstrap = 24
    let warm = try GenerationConfig(
      recipe: "darcy", samples: samples, resolution: 16, seed: 5, solver: .cg, rtol: 1e-6,
      parameters: ["a_plus": 2, "a_minus": 1],
      warmStart: WarmStartSettings(bootstrap: bootstrap, epochs: 60, width: 16, modes: 6))
    var cold = warm
    cold.warmStart = nil
    let warmURL = dir.appendingPathComponent("warm.nc")
    let coldURL = dir.appendingPathComponent("cold.nc")
    let summary = try HybridGenerator.run(warm, output: warmURL, options: GenerationOptions(threads: 2, batchSize: 4))
    _ = try HybridGenerator.run(cold, output: coldURL, options: GenerationOptions(threads: 2, batchSize: 4))
    #expect(summary.trainingSeconds > 0 && !summary.loadedModel)
    #expect(FileManager.default.fileExists(atPath: warmURL.path + ".warm-start.safetensors"))

    let w = try diagnostics(warmURL)
    let c = try diagnostics(coldURL)
    #expect(w.map { $0.warmStarted } == (0..<samples).map { $0 >= bootstrap })
    #expect(c.allSatisfy { $0.warmStarted == nil })
    let info = try DatasetReader(url: warmURL)
    #expect(try info.summary().contains("\(samples - bootstrap) samples warm-started"))
    try info.close()
    #expect(w.map(\.seed) == c.map(\.seed))
    // The bootstrap samples are the cold run's samples exactly.
    #expect(w.prefix(bootstrap).map(\.iterations) == c.prefix(bootstrap).map(\.iterations))
    let later = bootstrap..<samples
    let warmMean = Double(later.map { Int(w[$0].iterations) }.reduce(0, +)) / Double(later.count)
    let coldMean = Double(later.map { Int(c[$0].iterations) }.reduce(0, +)) / Double(later.count)
    // The FNO's error (about 5 % after this little training) sits at the coefficient's jumps, where
    // CG needs iterations anyway, so the saving is a few iterations (about 2.4 of 57 here).
    #expect(warmMean <= coldMean - 1, "mean iterations warm \(warmMean) vs cold \(coldMean)")
    #expect(later.filter { w[$0].iterations < c[$0].iterations }.count > later.count / 2)
    #expect(w.allSatisfy { $0.relativeResidual <= 1e-6 })
    // Same inputs; solutions agree to the tolerance's level.
    let dw = try data(warmURL)
    let dc = try data(coldURL)
    #expect(dw["coefficient"] == dc["coefficient"])
    let uw = dw["solution"]!.scalars.map(Double.init)
    let uc = dc["solution"]!.scalars.map(Double.init)
    #expect(relativeDifference(uw, uc) < 1e-5)
    // The stored model is usable as --warm-start FILE (no bootstrap): every sample warm-started.
    let reuse = try GenerationConfig(
      recipe: "darcy", samples: 8, resolution: 16, seed: 9, solver: .ic0CG, rtol: 1e-8,
      warmStart: WarmStartSettings(checkpoint: warmURL.path + ".warm-start.safetensors"))
    let reuseURL = dir.appendingPathComponent("reuse.nc")
    let again = try HybridGenerator.run(reuse, output: reuseURL, options: GenerationOptions(threads: 2))
    #expect(again.loadedModel && again.trainingSeconds == 0)
    #expect(try diagnostics(reuseURL).allSatisfy { $0.warmStarted == true })
  }

  @Test("killed in the bootstrap or after training, --resume gives the uninterrupted run's file bit for bit")
  func resume() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let cfg = try GenerationConfig(
      recipe: "darcy", samples: 16, resolution: 12, seed: 2, solver: .amgCG, rtol: 1e-8,
      warmStart: WarmStartSettings(bootstrap: 6, epochs: 3, width: 8, modes: 4))
    let clean = dir.appendingPathComponent("clean.nc")
    _ = try HybridGenerator.run(cfg, output: clean, options: GenerationOptions(threads: 2, batchSize: 3))
    let reference = (try data(clean), try diagnostics(clean).map { [$0.iterations, $0.warmStarted == true ? 1 : 0] })

    for (name, abortAfter, expectLoaded) in [("bootstrap", 3, false), ("warm", 9, true)] {
      let out = dir.appendingPathComponent("\(name).nc")
      #expect(throws: GenerationError.self) {
        try HybridGenerator.run(
          cfg, output: out, options: GenerationOptions(threads: 1, batchSize: 3, abortAfterSamples: abortAfter))
      }
      let state = out.path + ".parts/warm-start.safetensors"
      #expect(FileManager.default.fileExists(atPath: state) == expectLoaded, "\(name)")
      // A different warm start is a different configuration.
      var other = cfg
      other.warmStart!.epochs = 4
      #expect(throws: GenerationError.self) {
        try HybridGenerator.run(other, output: out, options: GenerationOptions(resume: true, batchSize: 3))
      }
      let resumed = try HybridGenerator.run(
        cfg, output: out, options: GenerationOptions(threads: 1, resume: true, batchSize: 3))
      #expect(resumed.loadedModel == expectLoaded, "\(name)")
      #expect(resumed.generation.resumedSamples > 0 && resumed.generation.samplesWritten == 16)
      let got = (try data(out), try diagnostics(out).map { [$0.iterations, $0.warmStarted == true ? 1 : 0] })
      #expect(got.0 == reference.0 && got.1 == reference.1, "\(name)")
    }
  }

  @Test("refusals: a direct --solver, a recipe without a solution target, a bootstrap as large as the run, no provider")
  func refusals() throws {
    let neural = WarmStartSettings(bootstrap: 4)
    #expect {
      try GenerationConfig(recipe: "darcy", samples: 8, resolution: 8, solver: .cholmod, warmStart: neural)
    } throws: { "\($0)".contains("direct solver") }
    #expect {
      try GenerationConfig(recipe: "burgers", samples: 8, resolution: 32, dimension: 1, warmStart: neural)
    } throws: { "\($0)".contains("--warm-start") }
    #expect {
      try GenerationConfig(recipe: "darcy", samples: 4, resolution: 8, warmStart: neural)
    } throws: { "\($0)".contains("--bootstrap") }
    // No solver given: the direct default becomes AMG-CG.
    let cfg = try GenerationConfig(recipe: "darcy", samples: 8, resolution: 8, warmStart: neural)
    #expect(cfg.solver == .amgCG)
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect {
      try DatasetGenerator.run(cfg, output: dir.appendingPathComponent("x.nc"))
    } throws: { "\($0)".contains("HybridGenerator") }
    // A checkpoint that does not exist is named.
    let missing = try GenerationConfig(
      recipe: "darcy", samples: 8, resolution: 8, warmStart: WarmStartSettings(checkpoint: "/nonexistent/m.safetensors")
    )
    #expect {
      try HybridGenerator.run(missing, output: dir.appendingPathComponent("y.nc"))
    } throws: { "\($0)".contains("/nonexistent/m.safetensors") }
  }
}
