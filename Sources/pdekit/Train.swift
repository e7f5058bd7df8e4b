import ArgumentParser
import Datasets
import Foundation
import Numerics
import Operators

struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a neural operator on a PDEKit NetCDF dataset.",
    discussion: """
      Reads inputs and targets by their pdekit_role, normalizes them per channel (statistics of the \
      training split), and trains with Adam on the relative L2 loss (neuraloperator's recipe). After \
      every epoch it prints train loss, test relative L2/H1 errors, epoch time and ETA, appends the \
      same as a JSON line to the log, and writes the checkpoint atomically (model, normalizers, \
      optimizer state), so an interrupted run continues with --resume. Same seed and threads give \
      identical weights.

      Data: one file split by --split (first 80 % train, rest test), or --test FILE. \
      --train-samples/--test-samples take fewer samples.

      Example: pdekit generate darcy --samples 250 --resolution 64 --out darcy.nc
               pdekit train --model fno --data darcy.nc --split 0.8 --epochs 20 --out fno.safetensors
      """)

  @Option(help: "Model: fno.")
  var model = "fno"

  @Option(help: "Training NetCDF file (PDEKit dataset).")
  var data: String

  @Option(help: "Test NetCDF file (default: the last part of --data, see --split).")
  var test: String?

  @Option(help: "Fraction of --data used for training when there is no --test file (default 0.8).")
  var split: Double = 0.8

  @Option(help: "Use only this many training samples (default: all of the split).")
  var trainSamples: Int?

  @Option(help: "Use only this many test samples (default: all of the split).")
  var testSamples: Int?

  @Option(help: "Passes over the training data.")
  var epochs = 20

  @Option(help: "Samples per optimizer step.")
  var batchSize = 20

  @Option(help: "Initial learning rate.")
  var lr = 1e-3

  @Option(help: "Optimizer: adam or adamw (PyTorch's update rules).")
  var optimizer = "adam"

  @Option(help: "Weight decay (coupled L2 for adam, decoupled for adamw).")
  var weightDecay = 0.0

  @Option(help: "Learning-rate schedule per epoch: constant, step (× gamma every step-size epochs) or cosine.")
  var schedule = "constant"

  @Option(help: "Epochs between decays of the step schedule.")
  var stepSize = 100

  @Option(help: "Decay factor of the step schedule.")
  var gamma = 0.5

  @Option(help: "Training loss: l2 (relative L2) or h1 (relative H1).")
  var loss = "l2"

  @Option(help: "Clip the global gradient norm to this value (default: no clipping).")
  var clip: Double?

  @Flag(help: "Train on raw data (no per-channel normalization).")
  var noNormalize = false

  @Option(help: "FNO: Fourier modes per axis, one number for all axes or a comma list (e.g. 12 or 12,16).")
  var modes = "12"

  @Option(help: "FNO: channels of the Fourier layers.")
  var width = 32

  @Option(help: "FNO: number of Fourier layers.")
  var layers = 4

  @Option(help: "Seed of the initialization and the shuffling.")
  var seed: UInt64 = 0

  @Option(help: "Threads for BLAS and FFTW (default: all cores).")
  var threads: Int?

  @Option(help: "Checkpoint file (safetensors), written after every epoch.")
  var out: String

  @Option(help: "JSON-lines log, one line per epoch (default: OUT with extension .jsonl).")
  var log: String?

  @Flag(help: "Continue the run stored in --out (up to --epochs in total).")
  var resume = false

  @Flag(help: "Replace an existing --out instead of refusing.")
  var overwrite = false

  @Flag(help: "Print only the final summary.")
  var quiet = false

  func validate() throws {
    guard model == "fno" else {
      throw ValidationError("unknown model '\(model)'; available: fno (DeepONet and FactFormer are not built yet)")
    }
    guard split > 0, split < 1 || test != nil else {
      throw ValidationError("--split must be in (0, 1), got \(split)")
    }
    if let t = threads, t < 1 { throw ValidationError("--threads must be ≥ 1, got \(t)") }
    guard OptimizerKind(rawValue: optimizer) != nil else { throw ValidationError("--optimizer must be adam or adamw") }
    guard ScheduleKind(rawValue: schedule) != nil else {
      throw ValidationError("--schedule must be constant, step or cosine")
    }
    guard TrainingLossKind(rawValue: loss) != nil else { throw ValidationError("--loss must be l2 or h1") }
    guard width >= 1, layers >= 1 else { throw ValidationError("--width and --layers must be ≥ 1") }
    if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
  }

  func run() throws {
    let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
    BLAS.setThreads(threadCount)
    FFT.defaultThreads = threadCount
    let outURL = URL(fileURLWithPath: out)
    let logURL = URL(fileURLWithPath: log ?? outURL.deletingPathExtension().path + ".jsonl")
    let exists = FileManager.default.fileExists(atPath: outURL.path)
    if exists && !resume && !overwrite {
      throw CLIError("\(out) exists; pass --resume to continue that run or --overwrite to start over")
    }
    if resume && !exists { throw CLIError("--resume: there is no checkpoint \(out) to continue") }

    let (train, testSet) = try openData()
    var trainer: Trainer<FNO<Float>>
    if resume {
      let checkpoint = try OperatorCheckpoint.read(from: outURL)
      trainer = try Trainer(resuming: checkpoint, train: train, test: testSet, epochs: epochs)
      if !quiet {
        FileHandle.standardError.write(
          Data("resuming \(out) after epoch \(trainer.completedEpochs) of \(trainer.configuration.epochs)\n".utf8))
      }
    } else {
      let modeList = try parseModes(dimensions: train.gridShape.count)
      let config = FNOConfiguration(
        inChannels: train.inputChannels, outChannels: train.targetChannels, hiddenChannels: width, modes: modeList,
        layers: layers)
      let training = TrainingConfiguration(
        epochs: epochs, batchSize: batchSize, learningRate: lr, optimizer: OptimizerKind(rawValue: optimizer)!,
        weightDecay: weightDecay, schedule: ScheduleKind(rawValue: schedule)!, stepSize: stepSize, gamma: gamma,
        loss: TrainingLossKind(rawValue: loss)!, seed: seed, gradientClip: clip, normalize: !noNormalize)
      trainer = try Trainer(model: FNO<Float>(config, seed: seed), configuration: training, train: train, test: testSet)
      try? FileManager.default.removeItem(at: logURL)
    }
    if !quiet {
      let c = trainer.model.configuration
      FileHandle.standardError.write(
        Data(
          ("FNO modes \(c.modes) width \(c.hiddenChannels) layers \(c.layers), \(trainer.model.parameterCount) "
            + "parameters; \(train.count) training samples on \(train.gridShape), \(testSet?.count ?? 0) test; "
            + "\(threadCount) thread(s)\n").utf8))
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let total = trainer.configuration.epochs
    let startEpoch = trainer.completedEpochs
    var elapsed = 0.0
    let tty = isatty(2) != 0
    try trainer.fit(
      checkpoint: outURL,
      onBatch: { done, count in
        guard tty, !quiet else { return }
        FileHandle.standardError.write(Data("\r  batch \(done)/\(count)\u{1B}[K".utf8))
      },
      onEpoch: { record in
        var line = try encoder.encode(record)
        line.append(0x0A)
        try appendLine(line, to: logURL)
        elapsed += record.epochSeconds
        guard !quiet else { return }
        let done = record.epoch - startEpoch
        let eta = elapsed / Double(done) * Double(total - record.epoch)
        var text = String(
          format: "epoch %d/%d  train loss %.4f", record.epoch, total, record.trainLoss)
        if let l2 = record.testL2, let h1 = record.testH1 {
          text += String(format: "  test L2 %.4f  H1 %.4f", l2, h1)
        }
        text += String(
          format: "  %.2f s  lr %.2e  ETA %@", record.epochSeconds, record.learningRate, formatDuration(eta))
        FileHandle.standardError.write(Data(((tty ? "\r\u{1B}[K" : "") + text + "\n").utf8))
      })
    let last = trainer.history.last!
    var summary = "trained \(total) epochs; checkpoint \(out), log \(logURL.path)"
    if let l2 = last.testL2 { summary += String(format: "; test relative L2 %.5f", l2) }
    print(summary)
  }

  private func parseModes(dimensions: Int) throws -> [Int] {
    let parts = modes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
      throw CLIError("--modes must be positive integers, got '\(modes)'")
    }
    let values = parts.map { $0! }
    if values.count == 1 { return Array(repeating: values[0], count: dimensions) }
    guard values.count == dimensions else {
      throw CLIError("--modes has \(values.count) values but the data are \(dimensions)D")
    }
    return values
  }

  private func openData() throws -> (FieldDataset, FieldDataset?) {
    let dataURL = URL(fileURLWithPath: data)
    if let test {
      let trainCount = try sampleCount(dataURL)
      let train = try FieldDataset(url: dataURL, samples: 0..<min(trainCount, trainSamples ?? trainCount))
      let testURL = URL(fileURLWithPath: test)
      let testCount = try sampleCount(testURL)
      let testSet = try FieldDataset(
        url: testURL, samples: 0..<min(testCount, testSamples ?? testCount), inputs: train.inputNames,
        targets: train.targetNames)
      return (train, testSet)
    }
    let n = try sampleCount(dataURL)
    let splitAt = Int((Double(n) * split).rounded())
    guard splitAt >= 1, splitAt < n else {
      throw CLIError("\(data) has \(n) samples; --split \(split) leaves no training or no test samples")
    }
    let trainRange = 0..<min(splitAt, trainSamples ?? splitAt)
    let testRange = splitAt..<min(n, splitAt + (testSamples ?? n))
    let train = try FieldDataset(url: dataURL, samples: trainRange)
    let testSet = try FieldDataset(
      url: dataURL, samples: testRange, inputs: train.inputNames, targets: train.targetNames)
    return (train, testSet)
  }
}

/// Number of samples in a dataset file.
func sampleCount(_ url: URL) throws -> Int {
  let reader = try DatasetReader(url: url)
  defer { try? reader.close() }
  return reader.sampleCount
}

/// Appends bytes to a file, creating it if needed.
func appendLine(_ line: Data, to url: URL) throws {
  if !FileManager.default.fileExists(atPath: url.path) {
    guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
      throw CLIError("cannot create log file \(url.path)")
    }
  }
  let handle = try FileHandle(forWritingTo: url)
  defer { try? handle.close() }
  try handle.seekToEnd()
  try handle.write(contentsOf: line)
}

/// "1h02m", "3m05s" or "12s".
func formatDuration(_ seconds: Double) -> String {
  guard seconds.isFinite else { return "?" }
  let s = Int(seconds.rounded())
  if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
  if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
  return "\(s)s"
}
