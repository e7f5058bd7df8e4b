import Datasets
import Foundation
import Numerics
import Testing

@testable import Operators

/// A temporary directory removed by the caller.
func scratchDirectory() throws -> URL {
  let d = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-op-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
  return d
}

/// Writes `count` smoothing pairs (see `smoothingPairs`) on an n×n cell-centred grid as a PDEKit
/// dataset; `poison` puts a NaN into one sample's input.
func writeSmoothingDataset(_ url: URL, count: Int, n: Int, poison: Int? = nil) throws {
  let (a, u) = smoothingPairs(count: count, n: n)
  let schema = DatasetSchema(
    title: "smoothing pairs", pde: "smoothing", equation: "u = (1 - Δ/4)^-1 a + 1/2", boundaryConditions: "periodic",
    discretization: "spectral", solver: "fft", rtol: 0, configJSON: "{}",
    axes: [.cellCentred("y", count: n), .cellCentred("x", count: n)],
    variables: [
      DatasetVariable(name: "a", role: .input, axes: ["y", "x"], longName: "input a", units: "1"),
      DatasetVariable(name: "u", role: .target, axes: ["y", "x"], longName: "output u", units: "1"),
    ])
  let w = try DatasetWriter.create(at: url, schema: schema, overwrite: true)
  for s in 0..<count {
    var input = a[sample: s].reshaped([n, n])
    if s == poison { input.withUnsafeMutableBufferPointer { $0[3] = .nan } }
    try w.append(
      ["a": input, "u": u[sample: s].reshaped([n, n])],
      diagnostics: SampleDiagnostics(seed: UInt64(s), iterations: 0, relativeResidual: 0, solveSeconds: 0))
  }
  try w.close()
}

@Suite("Trainer, loader, checkpoints, predictions")
struct TrainerTests {
  static let tiny = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 6, modes: [4, 4], layers: 2)

  @Test("streamed batches equal in-memory batches; chunked normalizer statistics equal the one-shot fit")
  func loader() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 7, n: 8)
    let memory = try FieldDataset(url: url, samples: 1..<6)
    let streamed = try FieldDataset(url: url, samples: 1..<6, memoryBudget: 0)
    #expect(memory.isInMemory && !streamed.isInMemory)
    #expect(memory.gridShape == [8, 8] && memory.axes == ["y", "x"] && memory.inputNames == ["a"])
    let (x1, y1) = try memory.batch([4, 0, 2])
    let (x2, y2) = try streamed.batch([4, 0, 2])
    #expect(x1 == x2 && y1 == y2 && x1.shape == [3, 1, 8, 8])
    let (a, u) = smoothingPairs(count: 7, n: 8)
    #expect(x1[sample: 1] == a[sample: 1] && y1[sample: 0] == u[sample: 5])
    let (ni, nt) = try streamed.fitNormalizers()
    let reference = UnitGaussianNormalizer(fitting: a.samples(1..<6))
    #expect(abs(ni.mean[0] - reference.mean[0]) <= 1e-6 && abs(ni.std[0] - reference.std[0]) <= 1e-6)
    #expect(abs(nt!.mean[0] - UnitGaussianNormalizer(fitting: u.samples(1..<6)).mean[0]) <= 1e-6)
    #expect(throws: OperatorsError.self) { try memory.batch([5]) }
  }

  @Test("a NaN in the data is an error naming the variable and sample, in memory and streamed")
  func nanInData() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 4, n: 8, poison: 2)
    for budget in [1 << 30, 0] {
      do {
        let set = try FieldDataset(url: url, memoryBudget: budget)
        _ = try set.batch([0, 1, 2, 3])
        Issue.record("no error for NaN input (budget \(budget))")
      } catch let OperatorsError.invalidArgument(message) {
        #expect(message.contains("'a'") && message.contains("sample 2"), "\(message)")
      }
    }
  }

  @Test("checkpoint round trip: same outputs, normalizers, optimizer state and history")
  func checkpointRoundTrip() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 6, n: 8)
    var trainer = try Trainer(
      model: FNO<Float>(Self.tiny, seed: 3), configuration: TrainingConfiguration(epochs: 1, batchSize: 2),
      train: try FieldDataset(url: url, samples: 0..<4), test: try FieldDataset(url: url, samples: 4..<6))
    try trainer.trainEpoch()
    let ckptURL = dir.appendingPathComponent("m.safetensors")
    try trainer.checkpoint().write(to: ckptURL)
    let loaded = try OperatorCheckpoint.read(from: ckptURL)
    let model: FNO<Float> = try loaded.model()
    let x = try trainer.train.inputs([0, 1])
    #expect(model(x) == trainer.model(x))
    #expect(loaded.inputNormalizer == trainer.inputNormalizer && loaded.targetNormalizer == trainer.targetNormalizer)
    #expect(loaded.optimizerState == trainer.checkpoint().optimizerState && loaded.optimizerState?.step == 2)
    #expect(loaded.trainingState?.history == trainer.history && loaded.trainingState?.epoch == 1)
    #expect(loaded.predict(with: model, inputs: x).shape == [2, 1, 8, 8])
  }

  @Test("checkpoints that do not fit are refused with the reason")
  func refusedCheckpoints() throws {
    let model = FNO<Float>(Self.tiny, seed: 0)
    let good = try OperatorCheckpoint(model: model).encoded()
    func message(_ data: Data) -> String {
      do {
        let c = try OperatorCheckpoint.decode(data)
        _ = try c.model(FNO<Float>.self)
        return ""
      } catch { return "\(error)" }
    }
    #expect(message(good) == "")
    let params = model.namedParameters()
    // No PDEKit metadata (e.g. a raw state_dict export).
    #expect(message(try SafeTensors.encode(params)).contains("not a PDEKit checkpoint"))
    // Unknown version.
    let meta = try SafeTensors.decode(good).metadata
    var future = meta
    future["format_version"] = "99"
    #expect(message(try SafeTensors.encode(params, metadata: future)).contains("version 99 is not supported"))
    // Another model's name.
    var other = meta
    other["model"] = "deeponet"
    #expect(message(try SafeTensors.encode(params, metadata: other)).contains("holds a 'deeponet' model"))
    // A configuration that does not fit the weights (width 6 → 7).
    var wider = meta
    wider["model_config"] = meta["model_config"]!.replacingOccurrences(
      of: "\"hiddenChannels\":6", with: "\"hiddenChannels\":7")
    #expect(message(try SafeTensors.encode(params, metadata: wider)).contains("shape"))
    // A missing parameter.
    #expect(message(try SafeTensors.encode(Array(params.dropLast()), metadata: meta)).contains("missing parameter"))
    // A NaN weight.
    var poisoned = params
    poisoned[0].value.withUnsafeMutableBufferPointer { $0[0] = .nan }
    #expect(message(try SafeTensors.encode(poisoned, metadata: meta)).contains("NaN"))
  }

  @Test("storageCount equals the scalars of a built model, for every model type and several configurations")
  func storageCounts() throws {
    func count<M: NeuralOperator>(_ m: M) -> Int {
      m.parameterCount + m.namedBuffers().reduce(0) { $0 + $1.value.count }
    }
    for c in [
      Self.tiny, FNOConfiguration(inChannels: 2, outChannels: 3, hiddenChannels: 5, modes: [6], layers: 3),
      FNOConfiguration(
        inChannels: 1, outChannels: 1, hiddenChannels: 4, modes: [3, 4, 5], layers: 1, liftingChannelRatio: 1.5,
        projectionChannelRatio: 3, channelMLPExpansion: 0.75, positionalEmbedding: false),
    ] {
      try FNO<Float>.validate(c)
      #expect(FNO<Float>.storageCount(c) == count(FNO<Float>(c, seed: 0)))
    }
    for c in [
      DeepONetConfiguration(
        inChannels: 1, outChannels: 1, sensorGrid: [10], branchWidths: [7, 6], trunkWidths: [5, 6]),
      DeepONetConfiguration(
        inChannels: 2, outChannels: 2, sensorGrid: [6, 5], sensorStride: [2, 2], branchWidths: [8], trunkWidths: [8]),
      DeepONetConfiguration(
        inChannels: 2, outChannels: 2, sensorGrid: [13, 11], branchWidths: [8, 6], trunkWidths: [6],
        convolutionalBranch: ConvolutionalBranchConfiguration(channels: [3, 4, 2], kernelSize: 3, stride: 1)),
    ] {
      try DeepONet<Float>.validate(c)
      #expect(DeepONet<Float>.storageCount(c) == count(DeepONet<Float>(c, seed: 0)))
    }
    for c in [
      FactFormerConfiguration(inChannels: 2, outChannels: 1, dimensions: 2, width: 8, depth: 2, heads: 2, headWidth: 2),
      FactFormerConfiguration(
        inChannels: 1, outChannels: 2, dimensions: 3, width: 6, depth: 1, heads: 3, headWidth: 2, kernelMultiplier: 3),
    ] {
      try FactFormer<Float>.validate(c)
      #expect(FactFormer<Float>.storageCount(c) == count(FactFormer<Float>(c, seed: 0)))
    }
    for c in [
      IFactFormerConfiguration(
        inChannels: 3, outChannels: 1, dimensions: 2, width: 8, depth: 2, heads: 2, headWidth: 2),
      IFactFormerConfiguration(
        inChannels: 1, outChannels: 1, dimensions: 1, width: 4, depth: 1, heads: 1, headWidth: 4, kernelMultiplier: 6),
    ] {
      try IFactFormer<Float>.validate(c)
      #expect(IFactFormer<Float>.storageCount(c) == count(IFactFormer<Float>(c, seed: 0)))
    }
    let pod = PODDeepONetConfiguration(inChannels: 1, outChannels: 2, grid: [6, 4], branchWidths: [5, 3], modes: 2)
    try PODDeepONet<Float>.validate(pod)
    #expect(PODDeepONet<Float>.storageCount(pod) == count(PODDeepONet<Float>(pod, seed: 0)))
  }

  @Test("a checkpoint whose model_config is out of range or far larger than its weights is refused, not built")
  func hostileModelConfigs() throws {
    let model = FNO<Float>(Self.tiny, seed: 0)
    let good = try OperatorCheckpoint(model: model).encoded()
    let meta = try SafeTensors.decode(good).metadata
    let params = model.namedParameters()
    func message(_ config: String) -> String {
      var m = meta
      m["model_config"] = config
      do {
        _ = try OperatorCheckpoint.decode(try SafeTensors.encode(params, metadata: m)).model(FNO<Float>.self)
        return ""
      } catch { return "\(error)" }
    }
    let original = meta["model_config"]!
    // Four spatial axes would trap in the initializer; zero modes and a NaN-free but absurd ratio too.
    #expect(message(original.replacingOccurrences(of: "[4,4]", with: "[2,2,2,2]")).contains("1–3 positive mode counts"))
    #expect(message(original.replacingOccurrences(of: "[4,4]", with: "[0,4]")).contains("1–3 positive mode counts"))
    #expect(
      message(original.replacingOccurrences(of: "\"liftingChannelRatio\":2", with: "\"liftingChannelRatio\":1e300"))
        .contains("lifting channel ratio"))
    // A width that would allocate about 4 GB of weights from a file of a few kilobytes.
    #expect(
      message(original.replacingOccurrences(of: "\"hiddenChannels\":6", with: "\"hiddenChannels\":20000"))
        .contains("but the file stores"))
  }

  @Test("resuming from an epoch checkpoint gives the same weights as an uninterrupted run")
  func resumeIsExact() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 6, n: 8)
    let config = TrainingConfiguration(
      epochs: 3, batchSize: 2, learningRate: 3e-3, optimizer: .adamw, weightDecay: 1e-4, schedule: .step, stepSize: 1,
      gamma: 0.5, seed: 5)
    let train = try FieldDataset(url: url, samples: 0..<5)
    var straight = try Trainer(model: FNO<Float>(Self.tiny, seed: 5), configuration: config, train: train, test: nil)
    try straight.fit()

    let ckpt = dir.appendingPathComponent("m.safetensors")
    var first = try Trainer(
      model: FNO<Float>(Self.tiny, seed: 5),
      configuration: {
        var c = config
        c.epochs = 1
        return c
      }(), train: train,
      test: nil)
    try first.fit(checkpoint: ckpt)
    var resumed = try Trainer<FNO<Float>>(
      resuming: try OperatorCheckpoint.read(from: ckpt), train: train, test: nil, epochs: 3)
    try resumed.fit(checkpoint: ckpt)
    #expect(resumed.completedEpochs == 3)
    #expect(resumed.model.namedParameters().map(\.value) == straight.model.namedParameters().map(\.value))
    #expect(resumed.history.map(\.trainLoss) == straight.history.map(\.trainLoss))
    #expect(resumed.history.map(\.learningRate) == [3e-3, 1.5e-3, 7.5e-4])
    // A different seed shuffles differently.
    var reseeded = config
    reseeded.seed = 6
    let other = try Trainer(model: FNO<Float>(Self.tiny, seed: 5), configuration: reseeded, train: train, test: nil)
    #expect(straight.permutation(epoch: 0) != other.permutation(epoch: 0))
    #expect(straight.permutation(epoch: 0) != straight.permutation(epoch: 1))
    #expect(straight.permutation(epoch: 2).sorted() == Array(0..<5))
  }

  @Test("a diverging loss stops training with a named error and keeps the last good checkpoint")
  func divergence() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 4, n: 8)
    let train = try FieldDataset(url: url)
    let ckpt = dir.appendingPathComponent("m.safetensors")
    var trainer = try Trainer(
      model: FNO<Float>(Self.tiny, seed: 1), configuration: TrainingConfiguration(epochs: 1, batchSize: 2),
      train: train,
      test: nil)
    try trainer.fit(checkpoint: ckpt)
    // Resume with an absurd learning rate: weights blow up to infinity within a few steps.
    var checkpoint = try OperatorCheckpoint.read(from: ckpt)
    checkpoint.trainingState!.configuration.learningRate = 1e38
    checkpoint.trainingState!.configuration.normalize = true
    var wild = try Trainer<FNO<Float>>(resuming: checkpoint, train: train, test: nil, epochs: 30)
    #expect {
      try wild.fit(checkpoint: ckpt)
    } throws: { error in
      guard case TrainingError.diverged = error else { return false }
      return "\(error)".contains("last good checkpoint")
    }
    let kept = try OperatorCheckpoint.read(from: ckpt)
    #expect(kept.trainingState!.epoch >= 1)
    let model: FNO<Float> = try kept.model()
    #expect(model.namedParameters().allSatisfy { $0.value.scalars.allSatisfy(\.isFinite) })
  }

  @Test("predictions file: prediction role, targets kept, readable; super-resolution interpolates inputs")
  func predictions() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 3, n: 8)
    let model = FNO<Float>(Self.tiny, seed: 2)
    let data = try FieldDataset(url: url)
    let (ni, nt) = try data.fitNormalizers()
    let checkpoint = OperatorCheckpoint(model: model, inputNormalizer: ni, targetNormalizer: nt)
    let out = dir.appendingPathComponent("p.nc")
    try writePredictions(model: model, checkpoint: checkpoint, input: data, to: out)
    let reader = try DatasetReader(url: out)
    #expect(reader.variables(role: .prediction).map(\.name) == ["output0_prediction"])
    #expect(reader.variables(role: .target).map(\.name) == ["u"])
    let predicted = try reader.read("output0_prediction", samples: 0..<3)
    let expected = checkpoint.predict(with: model, inputs: try data.inputs([0, 1, 2]))
    #expect(predicted.reshaped(expected.shape) == expected)
    #expect(throws: OperatorsError.self) {
      try writePredictions(model: model, checkpoint: checkpoint, input: data, to: out)
    }

    let fine = dir.appendingPathComponent("p16.nc")
    try writePredictions(model: model, checkpoint: checkpoint, input: data, to: fine, resolution: 16)
    let r16 = try DatasetReader(url: fine)
    #expect(r16.variables(role: .target).isEmpty)
    #expect(r16.axes.map(\.values.count) == [16, 16])
    #expect(abs(r16.axes[1].values[0] - 1.0 / 32) < 1e-12)
  }

  @Test("multilinear resampling is exact for linear functions; axis layouts are recognized")
  func resampling() {
    let coarse = (0..<5).map { (Double($0) + 0.5) / 5 }
    let fine = AxisLayout(coarse).points(9)
    #expect(abs(fine[0] - 1.0 / 18) < 1e-12 && abs(fine[8] - 17.0 / 18) < 1e-12)
    let periodic = AxisLayout((0..<4).map { Double($0) / 4 }).points(8)
    #expect(abs(periodic[1] - 1.0 / 8) < 1e-12 && abs(periodic[7] - 7.0 / 8) < 1e-12)
    let nodal = AxisLayout([0, 0.5, 1]).points(5)
    #expect(nodal == [0, 0.25, 0.5, 0.75, 1])
    // f(y, x) = 2y − 3x + 1 on the 5×5 grid → the interior of a 9×9 grid (inside the hull).
    let f = { (y: Double, x: Double) in 2 * y - 3 * x + 1 }
    let x = NDArray<Float>(shape: [1, 1, 5, 5]) { p in
      for i in 0..<5 { for j in 0..<5 { p[i * 5 + j] = Float(f(coarse[i], coarse[j])) } }
    }
    let y = resample(x, from: [coarse, coarse], to: [fine, fine])
    var worst = 0.0
    for i in 1..<8 {
      for j in 1..<8 { worst = max(worst, abs(Double(y[0, 0, i, j]) - f(fine[i], fine[j]))) }
    }
    #expect(worst < 1e-5)
  }
}
