// `pdekit generate`'s engine: draw samples with a recipe, solve them in parallel, and write a
// NetCDF-4 dataset that survives `kill -9`.
//
// Crash safety. Samples are computed in fixed batches (their boundaries do not depend on the
// thread count). Each finished batch is written to its own small NetCDF file in `OUT.parts/`,
// first under a temporary name and then renamed into place, so a part is either complete or
// absent. When every batch is done, the parts are merged in order into `OUT.tmp`, which is renamed
// to `OUT`; only then are the parts removed. `--resume` checks the stored configuration and
// computes only the missing batches. The final file is therefore never half-written, and a
// resumed run writes exactly the bytes of data an uninterrupted run would.
//
// Determinism. Sample i draws its inputs from `sampleSeed(runSeed:index:)`; no solver state that
// changes an answer crosses a batch boundary (recycling solvers start afresh with each batch; the
// others are kept per worker, and their refreshed setups equal fresh ones), BLAS runs single-threaded,
// and the data are converted to float32 the same way — so the data variables are bit-identical
// for any `--threads`.
//
// Warm start (`config.warmStart`, with an `InitialGuessProvider`). The first `bootstrap` samples
// form their own batches and are solved cold first; their parts are merged into
// `OUT.parts/bootstrap.nc`, the provider prepares from that file (training a surrogate, whose
// state it writes atomically to `OUT.parts/warm-start.safetensors`), and every later sample starts
// from the provider's guess. A resumed run finds the bootstrap parts and the state file and
// reloads the state, so it warm-starts the remaining samples exactly as the interrupted run would
// have. With retraining (`WarmStartSettings.retrainEvery`), the samples after the bootstrap form
// segments of fixed indices whose batches never straddle a boundary; before segment r ≥ 1 the
// parts so far are merged into `OUT.parts/retrain-r.nc` and the provider trains round r from round
// r − 1's state into `OUT.parts/warm-start-round-r.safetensors` (reloaded on resume, like round 0's).
// The last round's state is kept beside the output as `OUT.warm-start.safetensors`.
//
// Several processes (`GenerationOptions.group`, e.g. `mpirun -np P pdekit generate` in the MPI
// build). The parts are the shards of the job: batch b belongs to rank b mod P, each rank computes
// its own batches into the shared OUT.parts/ (which must be on a file system all ranks see), and
// rank 0 merges them once every rank is done. Batch boundaries and the per-sample seeds do not
// depend on P, so the file equals a single-process run bit for bit, and --resume works as in one
// process (any P may finish a job started with another). Rank 0 alone creates, locks and removes
// OUT.parts/; the others wait at a barrier meanwhile. Warm starts are single-process only.
import Datasets
import Dispatch
import Foundation
import Numerics

/// Progress of a generation run (passed to the progress callback after each sample).
public struct GenerationProgress: Sendable {
  /// Samples finished (including those found already done when resuming).
  public var done: Int
  /// Samples in the run.
  public var total: Int
  /// Samples computed in this process so far (excludes resumed ones) and the seconds they took.
  public var computedHere: Int
  public var elapsedSeconds: Double
  /// Mean solver iterations per sample so far (0 for direct solvers).
  public var meanIterations: Double
  /// What the run is doing: "solving", "training" (the warm-start model, after the bootstrap) or "merging".
  public var phase: String

  /// Samples per second in this process.
  public var samplesPerSecond: Double { elapsedSeconds > 0 ? Double(computedHere) / elapsedSeconds : 0 }
  /// Estimated seconds to finish, nil until a rate is known.
  public var etaSeconds: Double? {
    let r = samplesPerSecond
    return r > 0 ? Double(total - done) / r : nil
  }
}

/// Options of a generation run that do not change the data.
public struct GenerationOptions: Sendable {
  /// Worker threads (default: all cores). BLAS is held at one thread meanwhile.
  public var threads: Int
  /// Finish an interrupted run (parts directory present) or accept a complete identical file.
  public var resume: Bool
  /// Replace an existing output (and any leftover parts).
  public var overwrite: Bool
  /// Leave out samples whose solve fails (listed in `pdekit_skipped_samples`) instead of stopping.
  public var skipFailedSamples: Bool
  /// Samples per part file; nil chooses samples/16 clamped to 4…64. Each batch starts a fresh
  /// solver (one symbolic analysis or AMG setup per batch), so tiny batches cost reuse.
  public var batchSize: Int?
  /// Test hook: throw `GenerationError.simulatedCrash` once this many samples are in parts.
  public var abortAfterSamples: Int?
  /// Called after each sample and during the merge, from any thread (calls are serialized).
  /// With a `group`, only rank 0 calls it, with the progress of the whole job.
  public var progress: (@Sendable (GenerationProgress) -> Void)?
  /// The processes sharing this run (nil: this process alone). See the file header; every rank
  /// calls `run` with the same configuration and output, and a rank whose `run` throws must stop
  /// the job (`ProcessGroup.abort`), since the others would wait for it.
  public var group: (any ProcessGroup)?

  public init(
    threads: Int = ProcessInfo.processInfo.activeProcessorCount, resume: Bool = false, overwrite: Bool = false,
    skipFailedSamples: Bool = false, batchSize: Int? = nil, abortAfterSamples: Int? = nil,
    progress: (@Sendable (GenerationProgress) -> Void)? = nil, group: (any ProcessGroup)? = nil
  ) {
    self.threads = threads
    self.resume = resume
    self.overwrite = overwrite
    self.skipFailedSamples = skipFailedSamples
    self.batchSize = batchSize
    self.abortAfterSamples = abortAfterSamples
    self.progress = progress
    self.group = group
  }
}

/// What a run did.
public struct GenerationSummary: Sendable {
  /// The dataset file.
  public var path: String
  /// Samples in the file.
  public var samplesWritten: Int
  /// Indices of samples left out because their solve failed (with `skipFailedSamples`).
  public var skipped: [Int]
  /// Samples found already done (resume) and samples computed in this process.
  public var resumedSamples: Int
  public var computedSamples: Int
  /// Wall-clock seconds of this process's run.
  public var seconds: Double
  /// Whether the file already existed complete (resume with nothing to do).
  public var alreadyComplete: Bool
  /// Seconds the samples computed here spent in their solves (summed over workers), and the part
  /// of them inside FFTs (spectral recipes; 0 for the sparse ones).
  public var solveSeconds: Double = 0
  public var fftSeconds: Double = 0
  /// Seconds spent merging the parts into the final file (rank 0 alone under a group).
  public var mergeSeconds: Double = 0
}

/// Runs dataset generation (what `pdekit generate` calls).
public enum DatasetGenerator {
  /// Generates `config.samples` samples into `output`. See the file header for the guarantees.
  ///
  /// A config with `warmStart` needs `initialGuess`, the provider of the warm-started samples'
  /// initial guesses (`HybridGenerator.run` in the Hybrid module builds it from the config).
  public static func run(
    _ config: GenerationConfig, output: URL, options: GenerationOptions = GenerationOptions(),
    initialGuess provider: (any InitialGuessProvider)? = nil
  ) throws -> GenerationSummary {
    let t0 = monotonicSeconds()
    let recipeType = try RecipeRegistry.recipe(named: config.recipe)
    let recipe = try recipeType.init(
      resolution: config.resolution, dimension: config.dimension, parameters: config.parameters)
    var recipeSchema = try recipe.schema(config: config)
    if recipe is any SampleRecipe && recipeSchema.diagnosticDescriptions.isEmpty {
      recipeSchema.diagnosticDescriptions = timeStepperDiagnostics
    }
    let group = (options.group?.size ?? 1) > 1 ? options.group : nil
    let isRoot = group?.isRoot ?? true
    var warm: WarmStartPlan?
    if let settings = config.warmStart {
      if let group {
        throw GenerationError.invalidParameter(
          "--warm-start runs in one process (its surrogate is trained by one process between the bootstrap and the rest), but this job has \(group.size) ranks; run it without mpirun"
        )
      }
      guard let provider else {
        throw GenerationError.invalidParameter(
          "the configuration asks for a warm start (\(settings)) but no initial-guess provider was given; call HybridGenerator.run (module Hybrid) instead of DatasetGenerator.run"
        )
      }
      guard let variable = (recipeType as? any DatasetRecipe.Type)?.solutionVariable else {
        throw GenerationError.invalidParameter("recipe \(config.recipe) does not support --warm-start")
      }
      warm = WarmStartPlan(provider: provider, settings: settings, variable: variable)
      recipeSchema.recordsWarmStart = true
      recipeSchema.diagnosticDescriptions[DiagnosticVariables.seconds] =
        "wall-clock time of the solve, including the prediction of the initial guess for warm-started samples"
    }
    let schema = recipeSchema
    let fm = FileManager.default
    let outPath = output.path
    let partsURL = URL(fileURLWithPath: outPath + ".parts")
    let configURL = partsURL.appendingPathComponent("config.json")

    // Where we start from.
    let directory = output.deletingLastPathComponent()
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
      throw GenerationError.unwritable("the folder \(directory.path) does not exist; create it or choose another --out")
    }
    guard fm.isWritableFile(atPath: directory.path) else {
      throw GenerationError.unwritable("the folder \(directory.path) is not writable")
    }
    let stateURL = partsURL.appendingPathComponent("warm-start.safetensors")
    /// Where the model of retraining round r is kept during the run (round 0: `stateURL`).
    @Sendable func roundStateURL(_ r: Int) -> URL {
      r == 0 ? stateURL : partsURL.appendingPathComponent("warm-start-round-\(r).safetensors")
    }
    let keptStateURL = URL(fileURLWithPath: outPath + ".warm-start.safetensors")
    if options.overwrite && isRoot {
      try? fm.removeItem(at: output)
      try? fm.removeItem(at: partsURL)
      try? fm.removeItem(at: keptStateURL)
    }
    // Every rank looks at the same state before rank 0 changes it.
    try group?.barrier()
    let partsExisted = fm.fileExists(atPath: partsURL.path)
    try group?.barrier()
    if fm.fileExists(atPath: outPath) {
      guard options.resume else { throw GenerationError.outputExists(outPath) }
      let existing = try DatasetReader(url: output)
      let stored = try GenerationConfig.decode(existing.config)
      let n = existing.sampleCount
      try existing.close()
      let diff = config.differences(from: stored)
      guard diff.isEmpty else { throw GenerationError.configMismatch(path: outPath, differences: diff) }
      // A kill between the final rename and the clean-up can leave the parts behind.
      if isRoot { try? fm.removeItem(at: partsURL) }
      return GenerationSummary(
        path: outPath, samplesWritten: n, skipped: [], resumedSamples: n, computedSamples: 0,
        seconds: monotonicSeconds() - t0, alreadyComplete: true)
    }
    if partsExisted {
      guard options.resume else {
        throw GenerationError.outputExists(
          "\(partsURL.path) (an interrupted run of \(outPath))")
      }
      let stored = try GenerationConfig.decode(String(contentsOf: configURL, encoding: .utf8))
      let diff = config.differences(from: stored)
      guard diff.isEmpty else { throw GenerationError.configMismatch(path: outPath, differences: diff) }
    } else if isRoot {
      do {
        try fm.createDirectory(at: partsURL, withIntermediateDirectories: false)
        try Data(try config.json().utf8).write(to: configURL, options: .atomic)
      } catch {
        throw GenerationError.unwritable("cannot create \(partsURL.path): \(error.localizedDescription)")
      }
    }

    // One run per output at a time: an exclusive lock on OUT.parts/lock (released by the kernel
    // if the process dies, so a kill -9 never leaves a stale lock). Rank 0 holds it for its job.
    let lockPath = partsURL.appendingPathComponent("lock").path
    let lockFD = isRoot ? open(lockPath, O_CREAT | O_RDWR, 0o644) : Int32.max
    guard lockFD >= 0 else { throw GenerationError.unwritable("cannot create \(lockPath)") }
    defer { if isRoot { close(lockFD) } }
    guard !isRoot || flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
      throw GenerationError.unwritable(
        "another pdekit generate is writing \(outPath) right now (\(lockPath) is locked); wait for it to finish")
    }

    // Batches and what is already done. A spectral recipe reuses nothing across a batch, so its
    // batches are small (better balance over the workers); the size never depends on --threads.
    // With a warm start, the bootstrap samples form batches of their own.
    let batch = options.batchSize ?? defaultBatchSize(samples: config.samples, spectral: recipe is any SampleRecipe)
    func chunks(_ r: Range<Int>) -> [Range<Int>] {
      stride(from: r.lowerBound, to: r.upperBound, by: batch).map { $0..<min(r.upperBound, $0 + batch) }
    }
    // With a warm start: the bootstrap, then one run of batches per model segment.
    let segmentStarts = warm?.settings.segmentStarts(samples: config.samples) ?? [0]
    let segmentRanges = zip(segmentStarts, segmentStarts.dropFirst() + [config.samples]).map { $0..<$1 }
    let ranges = chunks(0..<segmentStarts[0]) + segmentRanges.flatMap(chunks)
    let batchCount = ranges.count
    @Sendable func partURL(_ b: Int) -> URL {
      partsURL.appendingPathComponent(String(format: "part-%09d.nc", ranges[b].lowerBound))
    }
    @Sendable func skipURL(_ b: Int) -> URL {
      partsURL.appendingPathComponent(String(format: "part-%09d.skipped", ranges[b].lowerBound))
    }
    // Stale temporary files of a killed run.
    if isRoot {
      for name in (try? fm.contentsOfDirectory(atPath: partsURL.path)) ?? [] where name.hasSuffix(".tmp") {
        try? fm.removeItem(at: partsURL.appendingPathComponent(name))
      }
    }
    try group?.barrier()
    var pending: [Int] = []
    var resumed = 0
    for b in 0..<batchCount {
      if fm.fileExists(atPath: partURL(b).path) {
        resumed += ranges[b].count
      } else if b % (group?.size ?? 1) == (group?.rank ?? 0) {
        pending.append(b)
      }
    }
    // No rank writes a part before every rank has taken stock.
    try group?.barrier()
    let resumedAtStart = resumed

    struct Shared {
      var next = 0
      var failure: Error?
      var done = 0
      var computed = 0
      var ownFinished = 0
      var iterations = 0
      var solveSeconds = 0.0
      var fftSeconds = 0.0
    }
    let shared = Locked(Shared(done: resumed))
    let progressLock = SerialLock()
    let threads = max(1, min(options.threads, max(1, pending.count)))
    let start = monotonicSeconds()
    // Rank 0 sees the other ranks' progress through their finished parts (scanned at most twice a second).
    let scan = Locked((time: -1.0, samples: resumed))
    @Sendable func jobDone(_ s: Shared, rescan: Bool) -> Int {
      guard group != nil else { return s.done }
      let now = monotonicSeconds()
      let onDisk = scan.withLock { c -> Int in
        if rescan || now - c.time >= 0.5 {
          c.time = now
          c.samples = (0..<batchCount).reduce(0) {
            FileManager.default.fileExists(atPath: partURL($1).path) ? $0 + ranges[$1].count : $0
          }
        }
        return c.samples
      }
      return min(config.samples, onDisk + s.computed - s.ownFinished)
    }

    @Sendable func report(_ phase: String) {
      guard let callback = options.progress, isRoot else { return }
      let s = shared.withLock { $0 }
      let done = jobDone(s, rescan: phase != "solving")
      let p = GenerationProgress(
        done: done, total: config.samples, computedHere: group == nil ? s.computed : done - resumedAtStart,
        elapsedSeconds: monotonicSeconds() - start,
        meanIterations: s.computed > 0 ? Double(s.iterations) / Double(s.computed) : 0, phase: phase)
      progressLock.run { callback(p) }
    }

    /// Computes `batches` on the worker threads, warm-starting with `warmStart` when given.
    func compute(_ batches: [Int], warmStart: WarmStartPlan?) {
      shared.withLock { $0.next = 0 }
      let workers = max(1, min(threads, batches.count))
      DispatchQueue.concurrentPerform(iterations: workers) { _ in
        // One solver per worker for the whole run (see `computeBatch`'s `reusable`).
        var workerSolver: BatchSolver?
        while true {
          let claim: Int? = shared.withLock { s in
            guard s.failure == nil, s.next < batches.count else { return nil }
            defer { s.next += 1 }
            return batches[s.next]
          }
          guard let b = claim else { return }
          do {
            try computeBatch(
              ranges[b], config: config, recipe: recipe, schema: schema, part: partURL(b), skipFile: skipURL(b),
              skipFailed: options.skipFailedSamples, workers: workers * (group?.localSize ?? 1),
              warmStart: warmStart, reusable: &workerSolver
            ) { iterations, seconds, fftSeconds in
              shared.withLock { s in
                s.done += 1
                s.computed += 1
                s.iterations += iterations
                s.solveSeconds += seconds
                s.fftSeconds += fftSeconds
              }
              report("solving")
            }
            shared.withLock { $0.ownFinished += ranges[b].count }
            if let limit = options.abortAfterSamples {
              let crossed = shared.withLock { s -> Bool in
                if s.done >= limit && s.failure == nil {
                  s.failure = GenerationError.simulatedCrash(afterSamples: s.done)
                  return true
                }
                return false
              }
              if crossed { return }
            }
          } catch {
            shared.withLock { s in if s.failure == nil { s.failure = error } }
            return
          }
        }
      }
    }

    // Single-threaded BLAS while samples run in parallel: no oversubscription, and the same
    // rounding whatever the thread count, so the data are bit-identical across --threads.
    try BLAS.withSingleThread {
      if let warm {
        // Bootstrap (cold), then the provider learns from it (or reloads what it learned), then the
        // rest, segment by segment, retraining (or reloading the retrained state) before each.
        let bootstrapBatches = (0..<batchCount).filter { ranges[$0].upperBound <= warm.firstWarm }
        compute(pending.filter { bootstrapBatches.contains($0) }, warmStart: nil)
        if let failure = shared.withLock({ $0.failure }) { throw failure }
        var bootstrapFile: URL?
        if warm.firstWarm > 0 {
          let file = partsURL.appendingPathComponent("bootstrap.nc")
          if !fm.fileExists(atPath: file.path) {
            report("training")
            let tmp = partsURL.appendingPathComponent("bootstrap.nc.tmp")
            _ = try mergeParts(bootstrapBatches.map(partURL), schema: schema, into: tmp, history: nil)
            try fm.moveItem(at: tmp, to: file)
          }
          bootstrapFile = file
        }
        try warm.provider.prepare(
          schema: schema, solutionVariable: warm.variable, bootstrap: bootstrapFile, state: stateURL)
        for (round, segment) in segmentRanges.enumerated() {
          let batches = pending.filter { segment.contains(ranges[$0].lowerBound) }
          // A segment finished before an interruption needs no model (a later round trains from
          // this round's state file, which exists since the segment was computed).
          guard !batches.isEmpty else { continue }
          if round > 0 {
            let state = roundStateURL(round)
            var samplesFile: URL?
            if !fm.fileExists(atPath: state.path) {
              report("training")
              let file = partsURL.appendingPathComponent("retrain-\(round).nc")
              if !fm.fileExists(atPath: file.path) {
                let tmp = partsURL.appendingPathComponent("retrain-\(round).nc.tmp")
                let solved = (0..<batchCount).filter { ranges[$0].upperBound <= segment.lowerBound }
                _ = try mergeParts(solved.map(partURL), schema: schema, into: tmp, history: nil)
                try fm.moveItem(at: tmp, to: file)
              }
              samplesFile = file
            }
            try warm.provider.retrain(
              round: round, samples: samplesFile, previous: roundStateURL(round - 1), state: state)
            if let samplesFile { try? fm.removeItem(at: samplesFile) }
          }
          compute(batches, warmStart: warm)
          if let failure = shared.withLock({ $0.failure }) { throw failure }
        }
      } else {
        compute(pending, warmStart: nil)
      }
    }
    if let failure = shared.withLock({ $0.failure }) { throw failure }
    if let group {
      // Every rank's parts are written before rank 0 merges them; the others wait for the merge.
      try group.barrier(pollingEvery: 0.5) { report("solving") }
      guard isRoot else {
        try group.barrier()
        let s = shared.withLock { $0 }
        let reader = try DatasetReader(url: output)
        defer { try? reader.close() }
        return GenerationSummary(
          path: outPath, samplesWritten: reader.sampleCount, skipped: [], resumedSamples: resumed,
          computedSamples: s.computed, seconds: monotonicSeconds() - t0, alreadyComplete: false,
          solveSeconds: s.solveSeconds, fftSeconds: s.fftSeconds)
      }
    }

    // Merge the parts in order into OUT.tmp, then rename into place.
    report("merging")
    var skipped: [Int] = []
    for b in 0..<batchCount {
      if let text = try? String(contentsOf: skipURL(b), encoding: .utf8) {
        skipped += text.split(separator: "\n").compactMap { Int($0) }
      }
    }
    var finalSchema = schema
    if !skipped.isEmpty {
      finalSchema.extraAttributes["pdekit_skipped_samples"] = skipped.map(String.init).joined(separator: " ")
    }
    let tmp = URL(fileURLWithPath: outPath + ".tmp")
    try? fm.removeItem(at: tmp)
    let mergeStart = monotonicSeconds()
    let written = try mergeParts(
      (0..<batchCount).map(partURL), schema: finalSchema, into: tmp, history: historyLine(config, output))
    do {
      try fm.moveItem(at: tmp, to: output)
    } catch {
      throw GenerationError.unwritable("cannot move \(tmp.path) to \(outPath): \(error.localizedDescription)")
    }
    let mergeSeconds = monotonicSeconds() - mergeStart
    // The last round's model is the one kept.
    if let lastState = (0..<segmentStarts.count).reversed().lazy.map(roundStateURL).first(where: {
      fm.fileExists(atPath: $0.path)
    }) {
      try? fm.removeItem(at: keptStateURL)
      try? fm.moveItem(at: lastState, to: keptStateURL)
    }
    try? fm.removeItem(at: partsURL)
    try group?.barrier()
    let s = shared.withLock { $0 }
    return GenerationSummary(
      path: outPath, samplesWritten: written, skipped: skipped, resumedSamples: resumed,
      computedSamples: group == nil ? s.computed : config.samples - resumed,
      seconds: monotonicSeconds() - t0, alreadyComplete: false, solveSeconds: s.solveSeconds, fftSeconds: s.fftSeconds,
      mergeSeconds: mergeSeconds)
  }

  /// Samples per batch when `--batch-size` is not given: samples/16 clamped to 4…64 for the sparse
  /// recipes (each batch pays one symbolic analysis or AMG setup), samples/64 clamped to 1…64 for
  /// the spectral ones (nothing is reused across a batch).
  static func defaultBatchSize(samples: Int, spectral: Bool) -> Int {
    spectral ? min(64, max(1, samples / 64)) : min(64, max(4, samples / 16))
  }

  /// The number of batches (part files) a run of `config` has; at most this many workers (threads
  /// times MPI ranks) find work. Ignores the warm-start bootstrap's separate batches.
  public static func batchCount(_ config: GenerationConfig, batchSize: Int?) throws -> Int {
    let recipe = try RecipeRegistry.recipe(named: config.recipe)
    let spectral = recipe is any SampleRecipe.Type
    let batch = batchSize ?? defaultBatchSize(samples: config.samples, spectral: spectral)
    return (config.samples + batch - 1) / max(1, batch)
  }

  /// The best multiple α·x0 of a guess: for SPD A the one minimizing the A-norm error ‖α x0 − x‖_A
  /// (α = x0ᵀb / x0ᵀAx0, the Galerkin projection onto span{x0}), otherwise the one minimizing the
  /// residual ‖b − α A x0‖ (α = (Ax0)ᵀb / ‖Ax0‖²). One SpMV; the result is never worse than the
  /// zero guess in that norm, so a poor prediction cannot cost more than a cold start's first step.
  /// A guess with α ≤ 0 or a zero denominator is replaced by zero.
  static func scaledGuess(_ system: LinearSystem, _ x0: [Double], symmetric: Bool) -> [Double] {
    let a = system.matrix
    let n = x0.count
    var ax = [Double](repeating: 0, count: n)
    x0.withUnsafeBufferPointer { x in ax.withUnsafeMutableBufferPointer { a.multiply(x, into: $0) } }
    var num = 0.0
    var den = 0.0
    for i in 0..<n {
      if symmetric {
        num += x0[i] * system.rhs[i]
        den += x0[i] * ax[i]
      } else {
        num += ax[i] * system.rhs[i]
        den += ax[i] * ax[i]
      }
    }
    guard den > 0, num > 0, (num / den).isFinite else { return [Double](repeating: 0, count: n) }
    let alpha = num / den
    return x0.map { alpha * $0 }
  }

  /// Merges part files in order into a new dataset `url` (their compressed chunks are copied as
  /// they are; see `DatasetConcatenation`); returns the samples written.
  static func mergeParts(_ parts: [URL], schema: DatasetSchema, into url: URL, history: String?) throws -> Int {
    try DatasetConcatenation.concatenate(parts, schema: schema, into: url, history: history).samples
  }

  static func historyLine(_ config: GenerationConfig, _ output: URL) -> String {
    "pdekit generate \(config.recipe) --samples \(config.samples) --resolution \(config.resolution) --dimension \(config.dimension) --seed \(config.seed)\(config.solver.map { " --solver \($0.rawValue)" } ?? "")\(config.warmStart.map { " --warm-start \($0.checkpoint ?? "neural") --bootstrap \($0.bootstrap)\($0.retrainEvery.map { " --retrain-every \($0)" } ?? "")\($0.retrainEpochs.map { " --retrain-epochs \($0)" } ?? "")" } ?? "") --out \(output.lastPathComponent)"
  }

  /// Computes the samples `range` (one batch) and writes them to `part` atomically; the solver is
  /// the worker's `reusable` one, or a fresh one for the recycling solvers. Samples from `warmStart.firstWarm` on start from the provider's guess.
  static func computeBatch(
    _ range: Range<Int>, config: GenerationConfig, recipe: any GenerationRecipe, schema: DatasetSchema, part: URL,
    skipFile: URL, skipFailed: Bool, workers: Int, warmStart: WarmStartPlan?, reusable: inout BatchSolver?,
    onSample: (Int, Double, Double) -> Void
  ) throws {
    // Workers × OpenMP threads (CHOLMOD/UMFPACK) stays within the cores.
    BLAS.setOpenMPThreadsForCurrentThread(max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, workers)))
    let indices = Array(range)
    func seed(_ i: Int) -> UInt64 { sampleSeed(runSeed: config.seed, index: i) }
    var results: [Int: ([String: NDArray<Float>], SampleDiagnostics)] = [:]
    var skipped: [Int] = []
    if let direct = recipe as? any SampleRecipe {
      for index in indices {
        do {
          let sample = try direct.generate(sampleSeed: seed(index))
          let fields = try convert(index: index, values: sample.fields, schema: schema)
          let diagnostics = SampleDiagnostics(
            seed: seed(index), iterations: Int32(clamping: sample.steps), relativeResidual: 0,
            solveSeconds: sample.seconds)
          results[index] = (fields, diagnostics)
          onSample(sample.steps, sample.seconds, sample.fftSeconds)
        } catch {
          let failure = (error as? GenerationError) ?? GenerationError.sampleFailed(index: index, reason: "\(error)")
          guard skipFailed, case .sampleFailed = failure else { throw failure }
          skipped.append(index)
          onSample(0, 0, 0)
        }
      }
      try writePart(
        indices.compactMap { results[$0] }, skipped: skipped, schema: schema, part: part, skipFile: skipFile)
      return
    }
    guard let recipe = recipe as? any DatasetRecipe, let choice = config.solver else {
      throw GenerationError.invalidParameter("recipe \(config.recipe) needs a linear solver, but none is configured")
    }
    // A solver without recycling state is kept by its worker from batch to batch, so its symbolic
    // analysis (CHOLMOD/UMFPACK) or preconditioner structure (AMG aggregates and patterns, IC/ILU
    // pattern) is built once per worker instead of once per batch. Its answers do not depend on what
    // it solved before (a refreshed setup equals a fresh one bit for bit; LinearSolverTests), so the
    // data stay independent of the thread count. A recycling solver carries its subspace from
    // sample to sample and starts afresh with each batch, whose order is fixed.
    let solver: BatchSolver
    if !choice.isRecycling, let kept = reusable, kept.choice == choice, kept.options.rtol == config.rtol {
      solver = kept
    } else {
      solver = BatchSolver(choice, rtol: config.rtol)
      if !choice.isRecycling { reusable = solver }
    }
    // Recycling solvers see the whole batch: draw it, then visit it in --ordering order.
    var drawn: [Int: RecipeSample] = [:]
    var order = indices
    if choice.isRecycling {
      for i in indices {
        do { drawn[i] = try recipe.makeSample(sampleSeed: seed(i)) } catch {
          throw GenerationError.sampleFailed(index: i, reason: "\(error)")
        }
      }
      let features = indices.map { i in drawn[i]!.inputs.keys.sorted().flatMap { drawn[i]!.inputs[$0]! } }
      let ordering: SequenceOrdering =
        switch config.ordering ?? "identity" {
        case "greedy": .greedy
        case "hilbert": .hilbert()
        default: .identity
        }
      order = try ordering.permutation(features).map { indices[$0] }
    }
    var previous: [Double]?
    for index in order {
      do {
        let sample = try drawn[index] ?? recipe.makeSample(sampleSeed: seed(index))
        var guess = choice.isRecycling ? previous : nil
        var predictionSeconds = 0.0
        let warm = warmStart.map { index >= $0.firstWarm } ?? false
        if warm, let plan = warmStart {
          let t0 = monotonicSeconds()
          let x0 = try plan.provider.initialGuess(inputs: sample.inputs)
          predictionSeconds = monotonicSeconds() - t0
          guard x0.count == sample.system.rhs.count, x0.allSatisfy({ $0.isFinite }) else {
            throw GenerationError.sampleFailed(
              index: index,
              reason:
                "the warm-start guess has \(x0.count) entries\(x0.allSatisfy { $0.isFinite } ? "" : " with non-finite values"); the system has \(sample.system.rhs.count) unknowns"
            )
          }
          guess = scaledGuess(sample.system, x0, symmetric: choice.algorithm.needsSymmetry)
        }
        var (fields, diagnostics, firstSolution) = try solveSample(
          index: index, seed: seed(index), sample: sample, recipe: recipe, schema: schema, solver: solver,
          initialGuess: guess)
        if let plan = warmStart {
          diagnostics.warmStarted = warm
          diagnostics.warmStartRound = Int32(warm ? plan.settings.round(of: index) ?? 0 : -1)
          diagnostics.solveSeconds += predictionSeconds
        }
        results[index] = (fields, diagnostics)
        previous = firstSolution
        onSample(Int(diagnostics.iterations), diagnostics.solveSeconds, 0)
      } catch let e as GenerationError {
        guard skipFailed, case .sampleFailed = e else { throw e }
        skipped.append(index)
        onSample(0, 0, 0)
      } catch {
        let failure = GenerationError.sampleFailed(index: index, reason: "\(error)")
        guard skipFailed else { throw failure }
        skipped.append(index)
        onSample(0, 0, 0)
      }
    }
    try writePart(indices.compactMap { results[$0] }, skipped: skipped, schema: schema, part: part, skipFile: skipFile)
  }

  /// Writes a batch's samples to `part` atomically (temporary name, then rename), and the indices
  /// of its skipped samples beside it.
  static func writePart(
    _ samples: [([String: NDArray<Float>], SampleDiagnostics)], skipped unsorted: [Int], schema: DatasetSchema,
    part: URL, skipFile: URL
  ) throws {
    let skipped = unsorted.sorted()
    let tmp = URL(fileURLWithPath: part.path + ".tmp")
    try? FileManager.default.removeItem(at: tmp)
    // Parts are compressed as the final file is (by the worker that computed them, in parallel);
    // the merge copies their compressed chunks without recompressing them.
    let writer = try DatasetWriter.create(at: tmp, schema: schema)
    for (fields, diagnostics) in samples { try writer.append(fields, diagnostics: diagnostics) }
    try writer.close()
    if !skipped.isEmpty {
      try Data(skipped.map(String.init).joined(separator: "\n").utf8).write(to: skipFile, options: .atomic)
    }
    try FileManager.default.moveItem(at: tmp, to: part)
  }

  /// Converts a sample's fields (by variable name, flattened) to the schema's float32 arrays,
  /// checking that every variable is present with the right size and finite values.
  static func convert(index: Int, values: [String: [Double]], schema: DatasetSchema) throws -> [String: NDArray<Float>]
  {
    var fields: [String: NDArray<Float>] = [:]
    for variable in schema.variables {
      guard let v = values[variable.name] else {
        throw GenerationError.sampleFailed(index: index, reason: "the recipe produced no field '\(variable.name)'")
      }
      let shape = try schema.sampleShape(of: variable)
      guard v.count == shape.reduce(1, *) else {
        throw GenerationError.sampleFailed(
          index: index,
          reason: "field '\(variable.name)' has \(v.count) values; its shape \(shape) needs \(shape.reduce(1, *))")
      }
      if let bad = v.firstIndex(where: { !$0.isFinite }) {
        throw GenerationError.sampleFailed(
          index: index, reason: "field '\(variable.name)' has a non-finite value at \(bad)")
      }
      fields[variable.name] = NDArray<Float>(shape: shape) { p in for i in 0..<p.count { p[i] = Float(v[i]) } }
    }
    return fields
  }

  /// Solves (all steps of) one drawn sample and converts it. Returns the fields, the diagnostics
  /// and the first step's solution (the warm start for the next sample of a recycling sequence).
  static func solveSample(
    index: Int, seed: UInt64, sample: RecipeSample, recipe: any DatasetRecipe, schema: DatasetSchema,
    solver: BatchSolver, initialGuess: [Double]?
  ) throws -> ([String: NDArray<Float>], SampleDiagnostics, [Double]) {
    var result = try solver.solve(sample.system, initialGuess: initialGuess, operatorChanged: true)
    let first = result.x
    let keep = Set(sample.recordedSteps)
    var recorded: [[Double]] = keep.contains(1) ? [result.x] : []
    var iterations = result.stats.iterations
    var seconds = result.setupSeconds + result.stats.seconds
    var worst = result.stats.relativeResidual
    guard result.stats.converged else {
      throw GenerationError.sampleFailed(
        index: index,
        reason:
          "\(result.stats.method) stopped after \(result.stats.iterations) iterations: \(result.stats.reason) (relative residual \(result.stats.relativeResidual))"
      )
    }
    if sample.steps > 1 {
      for step in 1..<sample.steps {
        let system = try recipe.nextSystem(after: result.x, step: step, sample: sample)
        result = try solver.solve(system, initialGuess: result.x, operatorChanged: false)
        guard result.stats.converged else {
          throw GenerationError.sampleFailed(
            index: index, reason: "step \(step): \(result.stats.method) stopped: \(result.stats.reason)")
        }
        iterations += result.stats.iterations
        seconds += result.setupSeconds + result.stats.seconds
        worst = max(worst, result.stats.relativeResidual)
        if keep.contains(step + 1) { recorded.append(result.x) }
      }
    }
    let targets = try recipe.targets(from: result.x, recorded: recorded, sample: sample)
    let fields = try convert(index: index, values: sample.inputs.merging(targets) { a, _ in a }, schema: schema)
    let diagnostics = SampleDiagnostics(
      seed: seed, iterations: Int32(clamping: iterations), relativeResidual: worst, solveSeconds: seconds)
    return (fields, diagnostics, first)
  }
}

/// A warm start during a run: the provider, the settings (bootstrap and retraining segments) and
/// the target variable that holds the solution.
struct WarmStartPlan: Sendable {
  let provider: any InitialGuessProvider
  let settings: WarmStartSettings
  let variable: String
  /// The first warm-started sample.
  var firstWarm: Int { settings.bootstrap }
}

/// The solver of one batch: a `LinearSolver` (pattern reuse), or a recycling Krylov workspace
/// whose subspace and preconditioner structure carry from one system to the next.
final class BatchSolver {
  let choice: SolverChoice
  let options: KrylovOptions
  let linear: LinearSolver
  var gcrodr: GCRODR?
  var recycledCG: RecycledCG?
  var preconditioner: Preconditioner?
  var pattern: (rowPointers: [Int32], columnIndices: [Int32])?

  init(_ choice: SolverChoice, rtol: Double) {
    self.choice = choice
    options = KrylovOptions(rtol: rtol)
    linear = LinearSolver(choice.algorithm, options: options)
  }

  func solve(_ system: LinearSystem, initialGuess: [Double]?, operatorChanged: Bool) throws -> LinearSolution {
    guard choice.isRecycling else { return try linear.solve(system, initialGuess: initialGuess) }
    try linear.validate(system)
    let a = system.matrix
    let n = a.rows
    let t0 = monotonicSeconds()
    let same = pattern.map { $0.rowPointers == a.rowPointers && $0.columnIndices == a.columnIndices } ?? false
    if operatorChanged || preconditioner == nil {
      if same, let pc = preconditioner {
        try pc.update(a)
      } else {
        preconditioner = try (choice == .gcrodr ? PreconditionerKind.ilu0 : .ic0).make(for: a)
        pattern = (a.rowPointers, a.columnIndices)
      }
    }
    let setup = monotonicSeconds() - t0
    var x = initialGuess ?? [Double](repeating: 0, count: n)
    let stats: SolverStats
    if choice == .gcrodr {
      let w = gcrodr.flatMap { $0.dimension == n ? $0 : nil } ?? GCRODR(dimension: n, restart: 40, recycle: 20)
      gcrodr = w
      stats = w.solve(
        a, system.rhs, &x, preconditioner: preconditioner, options: options, operatorChanged: operatorChanged)
    } else {
      let w = recycledCG.flatMap { $0.dimension == n ? $0 : nil } ?? RecycledCG(dimension: n, recycle: 10)
      recycledCG = w
      stats = w.solve(
        a, system.rhs, &x, preconditioner: preconditioner, options: options, operatorChanged: operatorChanged)
    }
    return LinearSolution(x: x, stats: stats, setupSeconds: setup, reusedPattern: same)
  }
}
