import ArgumentParser
import Foundation
import Hybrid
import Numerics
import Solvers

struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Generate a PDE dataset (inputs and solutions) as a NetCDF-4 file.",
    discussion: """
      Draws random inputs with a recipe, solves each sample (a sequence of sparse linear systems, or \
      a pseudo-spectral time integration for burgers and navier-stokes), and writes input/target \
      pairs with per-sample solver diagnostics and the full configuration (CF-1.10, one sample per \
      chunk). Samples run in parallel; the data do not depend on --threads. Finished batches are \
      kept in OUT.parts/ until the file is complete, so after an interruption (even kill -9) the \
      same command with --resume finishes the job and the result equals an uninterrupted run.

      Recipes: darcy (FNO-paper Darcy flow), poisson, thermal, helmholtz, heat (trajectories through \
      the sparse path), burgers (FNO-paper 1D Burgers, --dimension 1 implied) and navier-stokes (FNO-paper \
      2D vorticity, trajectories with a time dimension). `pdekit generate --list` \
      shows each recipe's parameters and defaults; change them with --param name=value (repeatable) \
      or a JSON --config file such as {"recipe": "darcy", "samples": 200, "parameters": {"tau": 4}}. \
      Command-line options override the config file.

      Example: pdekit generate darcy --samples 64 --resolution 32 --out darcy.nc && pdekit info darcy.nc
      Example: pdekit generate navier-stokes --samples 20 --resolution 64 --param nu=1e-4 --param t_end=30 --out ns.nc
      Example: pdekit generate helmholtz --dimension 3 --resolution 32 --param frequency=1.5 --solver gcrodr --out h3.nc

      Warm start (darcy, poisson; iterative solvers): --warm-start neural solves the first --bootstrap \
      samples cold, trains an FNO on them in-process, and starts every later solve from its prediction \
      (scaled to the energy-optimal multiple); the stopping test stays relative to ||b||, so the \
      accuracy is unchanged. The file records per sample whether it was warm-started \
      (solver_warm_start) beside its iterations, and the trained model is kept as \
      OUT.warm-start.safetensors, which --warm-start FILE reuses in a later run. --resume reloads the \
      model of the interrupted run. It saves iterations only where the surrogate is accurate in the \
      energy norm, and training plus one network evaluation per sample cost more than the saved \
      iterations of AMG-CG at 64²–128² (bench/RESULTS.md, "Hybrid": 6–10× slower in total, 12–14× \
      with --retrain-every at 128²).
      Example: pdekit generate darcy --samples 400 --resolution 64 --solver amg-cg --warm-start neural --bootstrap 64 --out d.nc
      Example: pdekit generate darcy --samples 400 --resolution 64 --solver amg-cg --warm-start d.nc.warm-start.safetensors --out e.nc

      Retraining: --retrain-every N trains the FNO again after every N further samples (at the fixed \
      sample indices B+N, B+2N, …), for --retrain-epochs epochs (default 2) over all samples solved \
      so far, continuing from the previous weights; the new model warm-starts the following N \
      samples. The file records per sample which model started it (solver_warm_start_round: 0 for \
      the bootstrap model, r after the r-th retraining, -1 cold), and the last model is kept.
      Example: pdekit generate darcy --samples 400 --resolution 64 --warm-start neural --bootstrap 64 --retrain-every 112 --retrain-epochs 2 --out r.nc

      Several processes (the MPI build, `swift build -c release --traits MPI`): under `mpirun -np P` \
      the batches are dealt out to the P ranks (batch b to rank b mod P), each rank writes its parts \
      to OUT.parts/ (on a file system every rank sees) and rank 0 merges them; the file equals a \
      one-process run bit for bit, and --resume works with any P. --threads defaults to the cores \
      divided by the ranks on each machine. Rank 0 prints the progress of the whole job; an error on \
      any rank stops the job with that rank's message. (--warm-start runs in one process only.) Each \
      batch is one worker's work: use --batch-size to make at least ranks × threads batches.
      Example: mpirun -np 4 pdekit generate darcy --samples 4000 --resolution 128 --out darcy128.nc
      """)

  @Argument(help: "Recipe: darcy, poisson, thermal, helmholtz, heat, burgers or navier-stokes (see --list).")
  var recipe: String?

  @Flag(help: "List the recipes with their parameters and defaults, then exit.")
  var list = false

  @Option(help: "Number of samples (default 64).")
  var samples: Int?

  @Option(
    help:
      "Cells (nodes for helmholtz, stored grid points for burgers and navier-stokes) per axis (default 32).")
  var resolution: Int?

  @Option(help: "Spatial dimension where the recipe supports several (default 2; burgers is 1D).")
  var dimension: Int?

  @Option(help: "Run seed; sample i is drawn from a seed derived from (seed, i) (default 0).")
  var seed: UInt64?

  @Option(
    help: ArgumentHelp(
      "Linear solver: \(SolverChoice.allCases.map(\.rawValue).joined(separator: ", ")). Default per recipe (see --list).",
      valueName: "solver"))
  var solver: String?

  @Option(help: "Relative tolerance of iterative solvers (default 1e-10).")
  var rtol: Double?

  @Option(
    help:
      "Order in which the recycling solvers (gcrodr, recycled-cg) visit each batch: identity, greedy (SKR's nearest-neighbour chain over the inputs, default) or hilbert (PCA + Hilbert curve)."
  )
  var ordering: String?

  @Option(
    help: ArgumentHelp(
      "Initial guesses from a surrogate: 'neural' (train an FNO on the first --bootstrap samples) or a checkpoint FILE (.safetensors from pdekit train or a previous --warm-start run).",
      valueName: "neural|FILE"))
  var warmStart: String?

  @Option(help: "Samples solved cold before the warm start begins (default 32 with 'neural', 0 with a FILE).")
  var bootstrap: Int?

  @Option(help: "--warm-start neural: training epochs over the bootstrap samples (default 20).")
  var warmStartEpochs: Int?

  @Option(help: "--warm-start neural: FNO width (default 16).")
  var warmStartWidth: Int?

  @Option(help: "--warm-start neural: Fourier modes per axis (default 8, at most the grid size).")
  var warmStartModes: Int?

  @Option(help: "--warm-start neural: Adam learning rate (default 5e-3).")
  var warmStartLr: Double?

  @Option(
    help: ArgumentHelp(
      "--warm-start neural: retrain the FNO after every N samples past the bootstrap, on all samples so far (default: never).",
      valueName: "N"))
  var retrainEvery: Int?

  @Option(help: "--retrain-every: epochs of each retraining over all samples so far (default 2).")
  var retrainEpochs: Int?

  @Option(name: .customLong("param"), help: "Recipe parameter as name=value (repeatable).")
  var params: [String] = []

  @Option(help: "JSON file with settings and recipe parameters (command-line options take precedence).")
  var config: String?

  @Option(
    help:
      "Worker threads (default: all cores; under mpirun, the cores divided by the ranks per machine). BLAS runs single-threaded meanwhile."
  )
  var threads: Int?

  @Option(
    help:
      "Samples per crash-safe part file; the recycling solvers (gcrodr, recycled-cg) start afresh with each part (default: samples/16, 4–64)."
  )
  var batchSize: Int?

  @Option(help: "Output NetCDF file.")
  var out: String?

  @Flag(help: "Finish an interrupted run of the same configuration.")
  var resume = false

  @Flag(help: "Replace an existing output file.")
  var overwrite = false

  @Flag(help: "Leave out samples whose solve fails (listed in the file) instead of stopping.")
  var skipFailed = false

  @Flag(help: "No progress output.")
  var quiet = false

  func validate() throws {
    if list { return }
    guard recipe != nil else {
      throw ValidationError(
        "name a recipe (darcy, poisson, thermal, helmholtz, heat, burgers, navier-stokes) or pass --list")
    }
    guard out != nil else { throw ValidationError("--out FILE.nc is required") }
    if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
    if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    if let b = batchSize, b < 1 { throw ValidationError("--batch-size must be at least 1") }
    if warmStart == nil
      && (bootstrap != nil || warmStartEpochs != nil || warmStartWidth != nil || warmStartModes != nil
        || warmStartLr != nil || retrainEvery != nil || retrainEpochs != nil)
    {
      throw ValidationError(
        "--bootstrap, --warm-start-* and --retrain-* need --warm-start neural (or, for --bootstrap and --warm-start-*, --warm-start FILE)"
      )
    }
    if let w = warmStart, w != "neural" {
      guard FileManager.default.fileExists(atPath: w) else {
        throw ValidationError("--warm-start takes 'neural' or an existing checkpoint file; \(w) does not exist")
      }
      if warmStartEpochs != nil || warmStartWidth != nil || warmStartModes != nil || warmStartLr != nil {
        throw ValidationError(
          "--warm-start-epochs/-width/-modes/-lr configure 'neural' training, not a checkpoint FILE")
      }
    }
  }

  /// Settings from the --config file, all optional.
  struct FileSettings: Decodable {
    var recipe: String?
    var samples: Int?
    var resolution: Int?
    var dimension: Int?
    var seed: UInt64?
    var solver: String?
    var rtol: Double?
    var parameters: [String: Double]?
    var ordering: String?
  }

  func makeConfig() throws -> GenerationConfig {
    var file = FileSettings()
    if let path = config {
      do {
        file = try JSONDecoder().decode(FileSettings.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
      } catch {
        throw CLIError("cannot read --config \(path): \(error)")
      }
    }
    var parameters = file.parameters ?? [:]
    for p in params {
      let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2, let v = Double(parts[1]) else {
        throw ValidationError("--param expects name=value with a number, got '\(p)'")
      }
      parameters[parts[0]] = v
    }
    let name = recipe ?? file.recipe ?? ""
    if let r = file.recipe, r != name {
      throw CLIError("the command names recipe '\(name)' but \(config!) names '\(r)'")
    }
    var solverChoice: SolverChoice?
    if let s = solver ?? file.solver {
      guard let c = SolverChoice(rawValue: s) else {
        throw CLIError(
          "unknown solver '\(s)'; choose one of \(SolverChoice.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      solverChoice = c
    }
    var warm: WarmStartSettings?
    if let w = warmStart {
      let defaults = WarmStartSettings()
      warm = WarmStartSettings(
        checkpoint: w == "neural" ? nil : URL(fileURLWithPath: w).standardizedFileURL.path, bootstrap: bootstrap,
        epochs: warmStartEpochs ?? defaults.epochs, width: warmStartWidth ?? defaults.width,
        modes: warmStartModes ?? defaults.modes, learningRate: warmStartLr ?? defaults.learningRate,
        retrainEvery: retrainEvery, retrainEpochs: retrainEpochs)
    }
    let dimensions = try RecipeRegistry.recipe(named: name).dimensions
    let defaultDimension = dimensions.contains(2) ? 2 : dimensions[0]
    return try GenerationConfig(
      recipe: name, samples: samples ?? file.samples ?? 64, resolution: resolution ?? file.resolution ?? 32,
      dimension: dimension ?? file.dimension ?? defaultDimension, seed: seed ?? file.seed ?? 0, solver: solverChoice,
      rtol: rtol ?? file.rtol ?? 1e-10, parameters: parameters, ordering: ordering ?? file.ordering, warmStart: warm)
  }

  func run() throws {
    if list {
      print(RecipeRegistry.listing())
      return
    }
    try ParallelLaunch.run { group in try generate(group: group) }
  }

  /// The job (this rank's share of it under mpirun).
  private func generate(group: (any ProcessGroup)?) throws {
    keepFreedMemoryInHeap()
    do {
      let cfg = try makeConfig()
      let isRoot = group?.isRoot ?? true
      let printer = ProgressPrinter(quiet: quiet || !isRoot, label: cfg.recipe)
      if let group, isRoot, !quiet {
        let workers = group.size * (threads ?? ParallelLaunch.defaultThreads(group))
        let batches = try DatasetGenerator.batchCount(cfg, batchSize: batchSize)
        if batches < workers {
          FileHandle.standardError.write(
            Data(
              ("note: \(cfg.samples) samples make \(batches) batches for \(workers) workers (\(group.size) ranks), so "
                + "\(workers - batches) stay idle; a smaller --batch-size gives more batches (the data then equal a "
                + "one-process run with that --batch-size)\n").utf8))
        }
      }
      let options = GenerationOptions(
        threads: threads ?? ParallelLaunch.defaultThreads(group), resume: resume, overwrite: overwrite,
        skipFailedSamples: skipFailed, batchSize: batchSize, progress: { printer.update($0) }, group: group)
      let hybrid = try HybridGenerator.run(cfg, output: URL(fileURLWithPath: out!), options: options)
      let summary = hybrid.generation
      printer.finish()
      guard isRoot else { return }
      if summary.alreadyComplete {
        print("\(summary.path) is already complete (\(summary.samplesWritten) samples); nothing to do.")
      } else {
        var line = String(
          format: "wrote %@: %d samples (%d computed now, %d resumed) in %.2f s", summary.path, summary.samplesWritten,
          summary.computedSamples, summary.resumedSamples, summary.seconds)
        if let group { line += " by \(group.size) processes" }
        line += String(format: " (merging the parts: %.2f s)", summary.mergeSeconds)
        if !summary.skipped.isEmpty { line += "; skipped failed samples \(summary.skipped)" }
        if let w = cfg.warmStart {
          line +=
            hybrid.loadedModel
            ? "; warm start from \(w.checkpoint ?? "the interrupted run's model")"
            : String(
              format:
                "; warm-start FNO trained on %d samples in %.2f s (final loss %.4f), kept as %@.warm-start.safetensors",
              w.bootstrap, hybrid.trainingSecondsByRound[0] ?? hybrid.trainingSeconds, hybrid.finalTrainingLoss ?? .nan,
              out!)
          let retrained = hybrid.trainingSecondsByRound.filter { $0.key > 0 }.sorted { $0.key < $1.key }
          if !retrained.isEmpty {
            line +=
              "; retrained "
              + retrained.map { String(format: "round %d in %.2f s", $0.key, $0.value) }.joined(separator: ", ")
          }
        }
        if summary.fftSeconds > 0 && summary.solveSeconds > 0 {
          line += String(
            format: "; FFTs %.0f %% of the %.2f s of time integration", 100 * summary.fftSeconds / summary.solveSeconds,
            summary.solveSeconds)
        }
        print(line)
      }
    } catch let e as GenerationError {
      throw CLIError(e.description)
    } catch let e as ValidationError {
      throw e
    } catch let e as CLIError {
      throw e
    } catch {
      throw CLIError("\(error)")
    }
  }
}

/// Progress on stderr: redrawn in place on a terminal, a line every 10 % or 10 s otherwise.
final class ProgressPrinter: @unchecked Sendable {
  let quiet: Bool
  let label: String
  let tty = isatty(2) != 0
  var lastPrint = 0.0
  var lastFraction = -1.0
  var drew = false

  init(quiet: Bool, label: String) {
    self.quiet = quiet
    self.label = label
  }

  func update(_ p: GenerationProgress) {
    guard !quiet else { return }
    let now = Date().timeIntervalSince1970
    let fraction = p.total > 0 ? Double(p.done) / Double(p.total) : 1
    if p.phase == "training" {
      emit("[\(label)] \(p.done)/\(p.total) samples solved; training the warm-start model …", force: true)
      return
    }
    if p.phase == "merging" {
      emit("[\(label)] \(p.done)/\(p.total) samples solved; writing the final file …", force: true)
      return
    }
    let due = tty ? now - lastPrint >= 0.1 : (fraction - lastFraction >= 0.1 || now - lastPrint >= 10)
    guard due || p.done == p.total else { return }
    lastPrint = now
    lastFraction = fraction
    let eta = p.etaSeconds.map { String(format: "ETA %.0f s", $0) } ?? "ETA --"
    emit(
      String(
        format: "[%@] %d/%d samples  %.1f samples/s  %@  mean iterations %.1f", label, p.done, p.total,
        p.samplesPerSecond, eta, p.meanIterations), force: false)
  }

  func emit(_ s: String, force: Bool) {
    if tty {
      FileHandle.standardError.write(Data(("\r\u{1B}[K" + s).utf8))
      drew = true
    } else {
      FileHandle.standardError.write(Data((s + "\n").utf8))
    }
  }

  func finish() {
    if tty && drew && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}

/// Every sample allocates and frees the same vectors and matrices (hundreds of kB to MB each).
/// glibc serves allocations above its mmap threshold (128 kB at first) with fresh mappings and
/// returns freed heap tops to the kernel, so each sample took its memory again as zero-filled
/// pages: about 5 % of a 2-thread 256² Darcy run was spent in page faults and unmapping, where the
/// worker threads also share the process's memory-map lock. Raising both thresholds keeps freed
/// blocks for reuse (allocations above 256 MB, such as large direct factorizations, are still mapped
/// and unmapped as before); the data do not change.
private func keepFreedMemoryInHeap() {
  #if canImport(Glibc)
    // mallopt is declared in <malloc.h>, which the Glibc module does not export; its parameter
    // numbers are glibc's ABI: M_TRIM_THRESHOLD = −1, M_MMAP_THRESHOLD = −3.
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
    _ = mallopt(-3, 256 << 20)
    _ = mallopt(-1, 1 << 30)
  #endif
}
