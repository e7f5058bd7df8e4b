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

      Models: fno (Fourier neural operator), deeponet (MLP branch on the input's sensor values, MLP \
      trunk on the grid coordinates, as DeepXDE's DeepONetCartesianProd; --branch-net cnn puts strided \
      convolutions before the branch's dense layers for 2D data), pod-deeponet (the trunk \
      replaced by POD modes of the training targets, Lu et al. 2022), factformer (factorized \
      transformer: one learned kernel per axis, chained; Li et al. 2023), ifactformer (IFactFormer-m: \
      one shared block per layer applied --repeats times, parallel axial kernels). The transformers \
      use --width and --layers for their width and depth; their rotary and Fourier positions are \
      linspace(0, L, n) per axis, L the extent of the file's axis domain (the reference scripts use \
      linspace(0, 2π, n)).

      Time-dependent data (--input-frames k): each training pair is k consecutive frames of a \
      trajectory (frame 0 = the initial-state input, frame f = the target at time index f − 1) and the \
      next frame; `pdekit predict --rollout T` then rolls the model forward from the first k frames.

      Several processes (the MPI build, `swift build -c release --traits MPI`): under `mpirun -np P` \
      training is data-parallel. Every rank holds the model; each step takes P × --batch-size samples, \
      each rank computes the gradient of its --batch-size of them from its slice of the file, and the \
      gradients are summed with MPI_Allreduce, so the step equals one process's step with P × \
      --batch-size (up to summation order) and every rank applies it identically (checked after each \
      epoch). Rank 0 prints, logs, tests and writes the checkpoint; --resume works with any P.
      Example: mpirun -np 2 pdekit train --data darcy.nc --batch-size 10 --epochs 20 --out fno.safetensors

      Example: pdekit generate darcy --samples 250 --resolution 64 --out darcy.nc
               pdekit train --model fno --data darcy.nc --split 0.8 --epochs 20 --out fno.safetensors
               pdekit train --model deeponet --data f.nc --branch 40,40 --trunk 40,40 --activation relu \
                 --batch-size 150 --epochs 10000 --out don.safetensors
               pdekit train --model deeponet --data darcy.nc --sensor-stride 2 --branch-net cnn --branch-conv 64,128 \
                 --branch 128,128 --trunk 128,128,128,128 --out cnn-don.safetensors
               pdekit train --model deeponet --data darcy.nc --query-points 512 --out don-q.safetensors
               pdekit train --model pod-deeponet --data darcy.nc --branch 128,128 --pod-energy 0.999 --out pod.safetensors
               pdekit train --model factformer --data darcy.nc --width 64 --layers 3 --heads 4 --head-width 16 \
                 --out ff.safetensors
               pdekit generate navier-stokes --samples 40 --resolution 64 --param t_end=20 --out ns.nc
               pdekit train --model factformer --data ns.nc --input-frames 10 --width 64 --out ns-ff.safetensors
               pdekit train --model ifactformer --data darcy.nc --width 64 --layers 1 --repeats 6 --heads 4 \
                 --head-width 16 --out iff.safetensors
      """)

  @Option(help: "Model: fno, deeponet, pod-deeponet, factformer or ifactformer.")
  var model = "fno"

  @Option(help: "Training NetCDF file (PDEKit dataset).")
  var data: String

  @Option(help: "Test NetCDF file (default: the last part of --data, see --split).")
  var test: String?

  @Option(help: "Fraction of --data used for training when there is no --test file (default 0.8).")
  var split: Double = 0.8

  @Option(
    help: ArgumentHelp(
      "Autoregressive training on a time-dependent file: k consecutive frames in, the next frame out.",
      discussion:
        "Frame 0 is the input variable (initial state), frame f ≥ 1 the target at time index f − 1; every "
        + "window of k frames of every trajectory is a training pair. Samples and --split count trajectories."))
  var inputFrames: Int?

  @Option(
    help: ArgumentHelp(
      "With --input-frames: pushforward training with m steps (1 = teacher forcing, the default).",
      discussion:
        "Each pair starts from k true frames; the model is applied m − 1 times without gradient on its own "
        + "predictions and trained on the next step against the true frame (Brandstetter et al. 2022)."))
  var pushforward: Int?

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

  @Option(help: "Optimizer: adam, adamw or sgd (PyTorch's update rules; sgd without momentum).")
  var optimizer = "adam"

  @Option(help: "Weight decay (coupled L2 for adam, decoupled for adamw).")
  var weightDecay = 0.0

  @Option(help: "Learning-rate schedule per epoch: constant, step (× gamma every step-size epochs) or cosine.")
  var schedule = "constant"

  @Option(help: "Epochs between decays of the step schedule.")
  var stepSize = 100

  @Option(help: "Decay factor of the step schedule.")
  var gamma = 0.5

  @Option(help: "Training loss: l2 (relative L2), h1 (relative H1) or mse (mean squared error, DeepXDE's default).")
  var loss = "l2"

  @Option(help: "Clip the global gradient norm to this value (default: no clipping).")
  var clip: Double?

  @Flag(help: "Train on raw data (no per-channel normalization).")
  var noNormalize = false

  @Option(help: "FNO: Fourier modes per axis, one number for all axes or a comma list (e.g. 12 or 12,16).")
  var modes = "12"

  @Option(help: "FNO: channels of the Fourier layers; factformer/ifactformer: transformer width (even).")
  var width = 32

  @Option(help: "FNO: number of Fourier layers; factformer/ifactformer: number of layers (depth).")
  var layers = 4

  @Option(help: "factformer/ifactformer: attention heads.")
  var heads = 4

  @Option(help: "factformer/ifactformer: value width per head.")
  var headWidth = 16

  @Option(
    help: "factformer/ifactformer: query/key width per head = head width × this (default 2 factformer, 3 ifactformer).")
  var kernelMultiplier: Int?

  @Option(help: "ifactformer: applications L of each layer's shared block (u ← u + block(u)/L).")
  var repeats = 10

  @Option(help: "factformer/ifactformer: standard deviation of the Fourier positional features.")
  var fourierScale = 8.0

  @Option(
    help:
      "DeepONet: branch layer widths after the sensor input (pod-deeponet: hidden widths; the coefficient layer is added)."
  )
  var branch = "40,40"

  @Option(help: "DeepONet: trunk layer widths after the coordinate input; the last must equal the branch's.")
  var trunk = "40,40"

  @Option(help: "DeepONet: activation of branch and trunk: relu, tanh or gelu.")
  var activation = "relu"

  @Option(
    help: ArgumentHelp(
      "deeponet, pod-deeponet: branch network, mlp (fully connected) or cnn (strided convolutions, then --branch; 2D data).",
      discussion:
        "cnn reshapes the sensors to an image, applies the --branch-conv convolutions (kernel --branch-kernel, "
        + "stride --branch-conv-stride, no padding, each followed by --activation) and feeds the flattened maps "
        + "to the --branch layers, as Lu et al. 2022's Darcy DeepONet and POD-DeepONet."))
  var branchNet = "mlp"

  @Option(help: "--branch-net cnn: output channels of each convolution (comma list).")
  var branchConv = "64,128"

  @Option(help: "--branch-net cnn: kernel size of the convolutions.")
  var branchKernel = 5

  @Option(help: "--branch-net cnn: stride of the convolutions.")
  var branchConvStride = 2

  @Option(help: "DeepONet: use every k-th grid point per axis as a branch sensor (one number or a comma list).")
  var sensorStride = "1"

  @Option(
    help: ArgumentHelp(
      "deeponet: train each step on N random target grid points instead of the whole grid.",
      discussion:
        "One subset of N distinct points per step, shared by the batch's samples (as DeepXDE's TripleCartesianProd "
        + "batches the trunk; one trunk evaluation per step), drawn from --seed so that runs repeat. Needs the l2 or "
        + "mse loss; test errors stay on the whole grid. Not for pod-deeponet, whose trunk is fixed POD modes."))
  var queryPoints: Int?

  @Option(help: "pod-deeponet: number of POD modes per output channel (default: --pod-energy 0.999).")
  var podModes: Int?

  @Option(help: "pod-deeponet: keep the fewest modes capturing this fraction of the targets' energy.")
  var podEnergy: Double?

  @Option(help: "Seed of the initialization and the shuffling.")
  var seed: UInt64 = 0

  @Option(
    help: """
      Threads (default: all cores). Each training step cuts its batch into one slice per thread, \
      each slice computed on its own core; evaluation splits each operation between the threads.
      """)
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
    guard OperatorCheckpoint.knownModels.contains(model) else {
      throw ValidationError(
        "unknown model '\(model)'; available: \(OperatorCheckpoint.knownModels.joined(separator: ", "))")
    }
    guard DeepONetActivation(rawValue: activation) != nil else {
      throw ValidationError("--activation must be relu, tanh or gelu, got '\(activation)'")
    }
    guard ["mlp", "cnn"].contains(branchNet) else {
      throw ValidationError("--branch-net must be mlp or cnn, got '\(branchNet)'")
    }
    if branchNet == "cnn" && model != DeepONet<Float>.modelName && model != PODDeepONet<Float>.modelName {
      throw ValidationError("--branch-net cnn is an option of --model deeponet and pod-deeponet")
    }
    guard branchKernel >= 1, branchConvStride >= 1 else {
      throw ValidationError("--branch-kernel and --branch-conv-stride must be ≥ 1")
    }
    if let n = queryPoints {
      guard n >= 1 else { throw ValidationError("--query-points must be ≥ 1, got \(n)") }
      guard model == DeepONet<Float>.modelName else {
        throw ValidationError(
          "--query-points is an option of --model deeponet"
            + (model == PODDeepONet<Float>.modelName
              ? ": a POD-DeepONet's trunk is fixed POD modes of the whole training grid, with no trunk network to "
                + "evaluate at sampled points" : " (the grid models output on the whole input grid)"))
      }
      guard loss != "h1" else {
        throw ValidationError("--query-points needs --loss l2 or mse (h1 takes derivatives on the whole grid)")
      }
    }
    if let m = podModes, m < 1 { throw ValidationError("--pod-modes must be ≥ 1, got \(m)") }
    if let e = podEnergy, !(e > 0 && e <= 1) { throw ValidationError("--pod-energy must be in (0, 1], got \(e)") }
    if podModes != nil && podEnergy != nil { throw ValidationError("--pod-modes and --pod-energy exclude each other") }
    guard split > 0, split < 1 || test != nil else {
      throw ValidationError("--split must be in (0, 1), got \(split)")
    }
    if let t = threads, t < 1 { throw ValidationError("--threads must be ≥ 1, got \(t)") }
    guard OptimizerKind(rawValue: optimizer) != nil else {
      throw ValidationError("--optimizer must be adam, adamw or sgd")
    }
    guard ScheduleKind(rawValue: schedule) != nil else {
      throw ValidationError("--schedule must be constant, step or cosine")
    }
    guard TrainingLossKind(rawValue: loss) != nil else { throw ValidationError("--loss must be l2, h1 or mse") }
    guard width >= 1, layers >= 1 else { throw ValidationError("--width and --layers must be ≥ 1") }
    guard heads >= 1, headWidth >= 1, repeats >= 1, (kernelMultiplier ?? 1) >= 1 else {
      throw ValidationError("--heads, --head-width, --repeats and --kernel-multiplier must be ≥ 1")
    }
    guard fourierScale.isFinite, fourierScale >= 0 else {
      throw ValidationError("--fourier-scale must be a finite number ≥ 0, got \(fourierScale)")
    }
    if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
    if let k = inputFrames, k < 1 { throw ValidationError("--input-frames must be ≥ 1, got \(k)") }
    if let m = pushforward {
      guard m >= 1 else { throw ValidationError("--pushforward must be ≥ 1, got \(m)") }
      guard inputFrames != nil else {
        throw ValidationError("--pushforward needs --input-frames (time-dependent data)")
      }
    }
    if inputFrames != nil && (model == DeepONet<Float>.modelName || model == PODDeepONet<Float>.modelName) {
      throw ValidationError("--input-frames works with the grid models (fno, factformer, ifactformer)")
    }
  }

  func run() throws {
    try ParallelLaunch.run { group in try train(group: group) }
  }

  /// The training run (this rank's part of it under mpirun).
  private func train(group: (any ProcessGroup)?) throws {
    for file in [data] + (test.map { [$0] } ?? []) { try DatasetProbe.check(file) }
    let threadCount = prepareNumerics(threads: threads ?? ParallelLaunch.defaultThreads(group))
    let outURL = URL(fileURLWithPath: out)
    let exists = FileManager.default.fileExists(atPath: outURL.path)
    if exists && !resume && !overwrite {
      throw CLIError("\(out) exists; pass --resume to continue that run or --overwrite to start over")
    }
    if resume && !exists { throw CLIError("--resume: there is no checkpoint \(out) to continue") }

    let (train, testSet) = try openData()
    if resume {
      let checkpoint = try OperatorCheckpoint.read(from: outURL)
      if checkpoint.modelName != model && !quiet && group?.isRoot ?? true {
        FileHandle.standardError.write(Data("resuming the checkpoint's \(checkpoint.modelName) model\n".utf8))
      }
      try checkpoint.withModel(
        Resume(command: self, checkpoint: checkpoint, train: train, test: testSet, threads: threadCount, group: group))
      return
    }
    let training = TrainingConfiguration(
      epochs: epochs, batchSize: batchSize, learningRate: lr, optimizer: OptimizerKind(rawValue: optimizer)!,
      weightDecay: weightDecay, schedule: ScheduleKind(rawValue: schedule)!, stepSize: stepSize, gamma: gamma,
      loss: TrainingLossKind(rawValue: loss)!, seed: seed, gradientClip: clip, normalize: !noNormalize,
      pushforwardSteps: pushforward, queryPoints: queryPoints)
    let domain = try train.axes.map { name in
      guard let axis = train.fileAxes.first(where: { $0.name == name }) else {
        throw CLIError("\(data): no coordinate variable for axis '\(name)'")
      }
      return GridAxisDomain(coordinates: axis.values)
    }
    let act = DeepONetActivation(rawValue: activation)!
    switch model {
    case DeepONet<Float>.modelName:
      let config = DeepONetConfiguration(
        inChannels: train.inputChannels, outChannels: train.targetChannels, sensorGrid: train.gridShape,
        sensorStride: try parseStride(dimensions: train.gridShape.count), branchWidths: try widths(branch, "--branch"),
        trunkWidths: try widths(trunk, "--trunk"), activation: act, domain: domain,
        convolutionalBranch: try convolutionalBranch())
      try config.validate()
      try fit(
        Trainer(
          model: DeepONet<Float>(config, seed: seed), configuration: training, train: train, test: testSet, group: group
        ),
        threads: threadCount)
    case PODDeepONet<Float>.modelName:
      let config = PODDeepONetConfiguration(
        inChannels: train.inputChannels, outChannels: train.targetChannels, grid: train.gridShape,
        sensorStride: try parseStride(dimensions: train.gridShape.count), branchWidths: try widths(branch, "--branch"),
        modes: podModes ?? 1, activation: act, domain: domain, convolutionalBranch: try convolutionalBranch())
      try config.validate()
      // The modes are the POD of the targets as the trainer sees them (normalized with the same
      // statistics the trainer fits on the training split).
      var targets = try train.targets(Array(0..<train.count))
      if training.normalize, let n = try train.fitNormalizers(group: group).target { targets = n.encode(targets) }
      let selection: PODModeSelection = podModes.map { .count($0) } ?? .energy(podEnergy ?? 0.999)
      let pod = try PODDeepONet<Float>.fit(config, selection: selection, targets: targets, seed: seed)
      try fit(
        Trainer(model: pod, configuration: training, train: train, test: testSet, group: group), threads: threadCount)
    case FactFormer<Float>.modelName:
      let config = FactFormerConfiguration(
        inChannels: train.inputChannels, outChannels: train.targetChannels, dimensions: train.gridShape.count,
        width: width, depth: layers, heads: heads, headWidth: headWidth, kernelMultiplier: kernelMultiplier ?? 2,
        fourierScale: fourierScale, domainLength: domain.map { $0.upper - $0.lower })
      try config.validate()
      try fit(
        Trainer(
          model: FactFormer<Float>(config, seed: seed), configuration: training, train: train, test: testSet,
          group: group),
        threads: threadCount)
    case IFactFormer<Float>.modelName:
      let config = IFactFormerConfiguration(
        inChannels: train.inputChannels, outChannels: train.targetChannels, dimensions: train.gridShape.count,
        width: width, depth: layers, repeats: repeats, heads: heads, headWidth: headWidth,
        kernelMultiplier: kernelMultiplier ?? 3, fourierScale: fourierScale,
        domainLength: domain.map { $0.upper - $0.lower })
      try config.validate()
      try fit(
        Trainer(
          model: IFactFormer<Float>(config, seed: seed), configuration: training, train: train, test: testSet,
          group: group),
        threads: threadCount)
    default:
      let config = FNOConfiguration(
        inChannels: train.inputChannels, outChannels: train.targetChannels, hiddenChannels: width,
        modes: try parseModes(dimensions: train.gridShape.count), layers: layers)
      try FNO<Float>.validate(config)
      try fit(
        Trainer(
          model: FNO<Float>(config, seed: seed), configuration: training, train: train, test: testSet, group: group),
        threads: threadCount)
    }
  }

  /// Resumes a run with the checkpoint's own model type.
  private struct Resume: NeuralOperatorVisitor {
    let command: Train
    let checkpoint: OperatorCheckpoint
    let train: FieldDataset
    let test: FieldDataset?
    let threads: Int
    let group: (any ProcessGroup)?

    func visit<M: NeuralOperator>(_ model: M) throws where M.Scalar == Float {
      let trainer = try Trainer<M>(
        resuming: checkpoint, train: train, test: test, epochs: command.epochs, group: group)
      if !command.quiet && trainer.group?.isRoot ?? true {
        FileHandle.standardError.write(
          Data(
            "resuming \(command.out) after epoch \(trainer.completedEpochs) of \(trainer.configuration.epochs)\n"
              .utf8))
      }
      try command.fit(trainer, threads: threads, resumed: true)
    }
  }

  /// "conv 1×32×32 → [64, 128] (5×5, stride 2) then " for a convolutional branch, "" otherwise.
  private func convolutionDescription(_ cnn: ConvolutionalBranchConfiguration?, _ channels: Int, _ extents: [Int])
    -> String
  {
    guard let cnn else { return "" }
    return "conv \(channels)×\(extents.map(String.init).joined(separator: "×")) → \(cnn.channels) "
      + "(\(cnn.kernelSize)×\(cnn.kernelSize), stride \(cnn.stride)) then "
  }

  /// A one-line description of a model for the log.
  private func describe<M: NeuralOperator>(_ model: M) -> String {
    if let c = model.configuration as? FNOConfiguration {
      return "FNO modes \(c.modes) width \(c.hiddenChannels) layers \(c.layers)"
    }
    if let c = model.configuration as? DeepONetConfiguration {
      return "DeepONet branch \(convolutionDescription(c.convolutionalBranch, c.inChannels, c.sensorExtents))"
        + "\([c.branchInputWidth ?? 0] + c.branchWidths) trunk "
        + "\([c.dimensions] + c.trunkWidths) \(c.activation.rawValue)"
    }
    if let c = model.configuration as? PODDeepONetConfiguration {
      let energy = c.capturedEnergy.map { String(format: "%.5f", $0) }.joined(separator: ", ")
      return "POD-DeepONet branch \(convolutionDescription(c.convolutionalBranch, c.inChannels, c.sensorExtents))"
        + "\([c.branchInputWidth ?? 0] + c.branchWidths + [c.outChannels * c.modes]) "
        + "\(c.modes) modes (energy \(energy)) \(c.activation.rawValue)"
    }
    if let c = model.configuration as? FactFormerConfiguration {
      return
        "FactFormer width \(c.width) depth \(c.depth) heads \(c.heads)×\(c.headWidth) kernel ×\(c.kernelMultiplier)"
    }
    if let c = model.configuration as? IFactFormerConfiguration {
      return "IFactFormer-m width \(c.width) depth \(c.depth) L \(c.repeats) heads \(c.heads)×\(c.headWidth) "
        + "kernel ×\(c.kernelMultiplier)"
    }
    return M.modelName
  }

  /// Trains until --epochs, printing and logging every epoch.
  private func fit<M: NeuralOperator>(_ start: Trainer<M>, threads threadCount: Int, resumed: Bool = false) throws
  where M.Scalar == Float {
    var trainer = start
    // Under mpirun rank 0 alone prints, logs and writes the checkpoint.
    let isRoot = trainer.group?.isRoot ?? true
    let quiet = self.quiet || !isRoot
    let outURL = URL(fileURLWithPath: out)
    let logURL = URL(fileURLWithPath: log ?? outURL.deletingPathExtension().path + ".jsonl")
    if !resumed && isRoot { try? FileManager.default.removeItem(at: logURL) }
    let train = trainer.train
    if !quiet {
      let ranks = trainer.group.map { g in
        "; \(g.size) processes, \(g.size) × \(trainer.configuration.batchSize) samples per step"
      }
      FileHandle.standardError.write(
        Data(
          ("\(describe(trainer.model)), \(trainer.model.parameterCount) "
            + "parameters; \(train.count) training samples on \(train.gridShape), \(trainer.test?.count ?? 0) test; "
            + "\(threadCount) thread(s)\(ranks ?? "")\n").utf8))
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let total = trainer.configuration.epochs
    let startEpoch = trainer.completedEpochs
    var elapsed = 0.0
    let tty = isatty(2) != 0
    try trainer.fit(
      checkpoint: isRoot ? outURL : nil,
      onBatch: { done, count in
        guard tty, !quiet else { return }
        FileHandle.standardError.write(Data("\r  batch \(done)/\(count)\u{1B}[K".utf8))
      },
      onEpoch: { record in
        guard isRoot else { return }
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
    guard isRoot else { return }
    let last = trainer.history.last!
    var summary = "trained \(total) epochs; checkpoint \(out), log \(logURL.path)"
    if let l2 = last.testL2 { summary += String(format: "; test relative L2 %.5f", l2) }
    print(summary)
  }

  /// The --branch-net cnn options, or nil for the fully connected branch.
  private func convolutionalBranch() throws -> ConvolutionalBranchConfiguration? {
    guard branchNet == "cnn" else { return nil }
    return ConvolutionalBranchConfiguration(
      channels: try widths(branchConv, "--branch-conv"), kernelSize: branchKernel, stride: branchConvStride)
  }

  private func widths(_ text: String, _ flag: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
      throw CLIError("\(flag) must be positive integers separated by commas, got '\(text)'")
    }
    return parts.map { $0! }
  }

  private func parseStride(dimensions: Int) throws -> [Int] {
    let values = try widths(sensorStride, "--sensor-stride")
    if values.count == 1 { return Array(repeating: values[0], count: dimensions) }
    guard values.count == dimensions else {
      throw CLIError("--sensor-stride has \(values.count) values but the data are \(dimensions)D")
    }
    return values
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

  /// Opens samples of a file, as trajectories when --input-frames is given.
  private func dataset(_ url: URL, _ samples: Range<Int>, inputs: [String]? = nil, targets: [String]? = nil) throws
    -> FieldDataset
  {
    if let k = inputFrames {
      return try FieldDataset(url: url, samples: samples, inputFrames: k, inputs: inputs, targets: targets)
    }
    return try FieldDataset(url: url, samples: samples, inputs: inputs, targets: targets)
  }

  private func openData() throws -> (FieldDataset, FieldDataset?) {
    let dataURL = URL(fileURLWithPath: data)
    if let test {
      let trainCount = try sampleCount(dataURL)
      let train = try dataset(dataURL, 0..<min(trainCount, trainSamples ?? trainCount))
      let testURL = URL(fileURLWithPath: test)
      let testCount = try sampleCount(testURL)
      let testSet = try dataset(
        testURL, 0..<min(testCount, testSamples ?? testCount), inputs: train.inputNames, targets: train.targetNames)
      return (train, testSet)
    }
    let n = try sampleCount(dataURL)
    let splitAt = Int((Double(n) * split).rounded())
    guard splitAt >= 1, splitAt < n else {
      throw CLIError("\(data) has \(n) samples; --split \(split) leaves no training or no test samples")
    }
    let trainRange = 0..<min(splitAt, trainSamples ?? splitAt)
    let testRange = splitAt..<min(n, splitAt + (testSamples ?? n))
    let train = try dataset(dataURL, trainRange)
    let testSet = try dataset(dataURL, testRange, inputs: train.inputNames, targets: train.targetNames)
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
