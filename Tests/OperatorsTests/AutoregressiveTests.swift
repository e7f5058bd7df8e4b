import Datasets
import Foundation
import Numerics
import Operators
import Testing

/// Writes a time-dependent dataset whose values name their place: w0 (frame 0) of sample s is
/// 100·s + ε(y, x), and w at time index t (frame t + 1) is 100·s + t + 1 + ε(y, x), with a small
/// position pattern ε; times are 0.5, 1.0, …
func writeFrameLabelledDataset(_ url: URL, samples: Int, times: Int, n: Int) throws {
  let timeValues = (1...times).map { 0.5 * Double($0) }
  let schema = DatasetSchema(
    title: "frame-labelled trajectories", pde: "test", equation: "", boundaryConditions: "periodic",
    discretization: "", solver: "", rtol: 0, configJSON: "{}",
    axes: [
      DatasetAxis(name: "time", values: timeValues, units: "1", longName: "time"), .periodic("y", count: n),
      .periodic("x", count: n),
    ],
    variables: [
      DatasetVariable(name: "w0", role: .input, axes: ["y", "x"], longName: "initial state", units: "1"),
      DatasetVariable(name: "w", role: .target, axes: ["time", "y", "x"], longName: "state", units: "1"),
    ])
  let writer = try DatasetWriter.create(at: url, schema: schema, overwrite: true)
  let pattern = (0..<n * n).map { 1e-3 * Float($0) }
  for s in 0..<samples {
    let w0 = try NDArray<Float>(shape: [n, n], data: pattern.map { 100 * Float(s) + $0 })
    let w = try NDArray<Float>(
      shape: [times, n, n], data: (0..<times).flatMap { t in pattern.map { 100 * Float(s) + Float(t + 1) + $0 } })
    try writer.append(
      ["w0": w0, "w": w],
      diagnostics: SampleDiagnostics(seed: UInt64(s), iterations: 0, relativeResidual: 0, solveSeconds: 0))
  }
  try writer.close()
}

@Suite("Autoregressive data: the time-index contract, rollouts, training")
struct AutoregressiveTests {
  @Test(
    "k input frames → next frame: window j of sample s is frames j…j+k−1 → frame j+k; frame f ≥ 1 is time index f−1")
  func contract() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("t.nc")
    try writeFrameLabelledDataset(url, samples: 4, times: 4, n: 3)
    let data = try FieldDataset(url: url, samples: 1..<4, inputFrames: 2)
    // F = 1 + 4 frames, F − k = 3 windows per sample, 3 samples.
    #expect(data.frameCount == 5 && data.windowsPerSample == 3 && data.count == 9)
    #expect(data.inputChannels == 2 && data.targetChannels == 1 && data.gridShape == [3, 3])
    #expect(data.frameTimes == [0, 0.5, 1.0, 1.5, 2.0])
    // Pair 4 = sample 1 of the range (file sample 2), window 1: frames 1, 2 → frame 3.
    let (x, y) = try data.batch([4, 0, 8])
    #expect(x.shape == [3, 2, 3, 3] && y.shape == [3, 1, 3, 3])
    #expect(x[0, 0, 0, 0] == 201 && x[0, 1, 0, 0] == 202 && y[0, 0, 0, 0] == 203)
    #expect(abs(x[0, 1, 2, 1] - (202 + 7e-3)) < 1e-4)
    // Pair 0: file sample 1, frames 0 (the input variable w0) and 1 (w at time index 0) → frame 2.
    #expect(x[1, 0, 0, 0] == 100 && x[1, 1, 0, 0] == 101 && y[1, 0, 0, 0] == 102)
    // Pair 8: file sample 3, window 2: frames 2, 3 → frame 4 = w at the last time index.
    #expect(x[2, 0, 0, 0] == 302 && x[2, 1, 0, 0] == 303 && y[2, 0, 0, 0] == 304)
    let trajectory = try data.trajectory(2)
    #expect(trajectory.shape == [5, 1, 3, 3] && trajectory[0, 0, 0, 0] == 300 && trajectory[4, 0, 0, 0] == 304)
    // k = F leaves nothing to predict; a file without time axis is refused in this mode.
    #expect(throws: OperatorsError.self) { _ = try FieldDataset(url: url, inputFrames: 5) }
    let plain = dir.appendingPathComponent("plain.nc")
    try writeSmoothingDataset(plain, count: 3, n: 4)
    #expect(throws: OperatorsError.self) { _ = try FieldDataset(url: plain, inputFrames: 1) }
    #expect(throws: OperatorsError.self) { _ = try FieldDataset(url: url) }
  }

  @Test(
    "rollout: step 1 is the one-step prediction of frames 0…k−1; step 2 feeds it back; truth is frames k…; deterministic"
  )
  func rolloutContract() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("t.nc")
    try writeFrameLabelledDataset(url, samples: 3, times: 5, n: 4)
    let data = try FieldDataset(url: url, inputFrames: 2)
    let config = FactFormerConfiguration(
      inChannels: 2, outChannels: 1, dimensions: 2, width: 8, depth: 1, heads: 2, headWidth: 2)
    var trainer = try Trainer(
      model: FactFormer<Float>(config, seed: 1),
      configuration: TrainingConfiguration(epochs: 2, batchSize: 4, learningRate: 1e-3), train: data, test: nil)
    for _ in 0..<2 { _ = try trainer.trainEpoch() }
    let checkpoint = trainer.checkpoint()
    #expect(checkpoint.trainingState?.data.inputFrames == 2)
    let model: FactFormer<Float> = try OperatorCheckpoint.decode(try checkpoint.encoded()).model()
    let (ni, nt) = (checkpoint.inputNormalizer, checkpoint.targetNormalizer)
    let result = try rolloutTrajectories(model, inputNormalizer: ni, targetNormalizer: nt, data: data, steps: 3)
    #expect(result.predictions.shape == [3, 3, 1, 4, 4] && result.times == [1.0, 1.5, 2.0])
    // Truth of step r (1-based) is frame k + r − 1 = the file's time index k + r − 2.
    #expect(result.truth[1, 0, 0, 0, 0] == 102 && result.truth[1, 2, 0, 0, 0] == 104)
    // Step 1 = the one-step prediction of pair (sample 1, window 0).
    let first = checkpoint.predict(with: model, inputs: try data.inputs([1 * data.windowsPerSample]))
    #expect(result.predictions[sample: 1][sample: 0] == first[sample: 0])
    // Step 2 = the model on (frame 1, predicted frame 2).
    let frames = try data.trajectory(1)
    var window = NDArray<Float>(shape: [1, 2, 4, 4], repeating: 0)
    window.withUnsafeMutableBufferPointer { w in
      frames.withUnsafeBufferPointer { f in for i in 0..<16 { w[i] = f[16 + i] } }
      first.withUnsafeBufferPointer { p in for i in 0..<16 { w[16 + i] = p[i] } }
    }
    let second = checkpoint.predict(with: model, inputs: window)
    #expect(result.predictions[sample: 1][sample: 1] == second[sample: 0])
    let again = try rolloutTrajectories(model, inputNormalizer: ni, targetNormalizer: nt, data: data, steps: 3)
    #expect(again.predictions == result.predictions && again.stepErrors == result.stepErrors)
    #expect(result.stepErrors.count == 3 && result.stepErrors.allSatisfy { $0.isFinite && $0 > 0 })
    #expect(throws: OperatorsError.self) {
      _ = try rolloutTrajectories(model, inputNormalizer: ni, targetNormalizer: nt, data: data, steps: 5)
    }
  }
}

@Suite("Autoregressive training: pushforward")
struct PushforwardTests {
  @Test("windows with horizon m: frames j…j+k−1 → frame j+k+m−1, numbered s·(F−k−m+1) + j")
  func horizonWindows() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("t.nc")
    try writeFrameLabelledDataset(url, samples: 2, times: 4, n: 3)
    let data = try FieldDataset(url: url, inputFrames: 2)
    // F = 5, k = 2, m = 2: 2 windows per sample.
    #expect(data.windowCount(horizon: 2) == 4 && data.windowCount(horizon: 1) == data.count)
    let (x, y) = try data.windows([3, 0], horizon: 2)
    #expect(x[0, 0, 0, 0] == 101 && x[0, 1, 0, 0] == 102 && y[0, 0, 0, 0] == 104)
    #expect(x[1, 0, 0, 0] == 0 && x[1, 1, 0, 0] == 1 && y[1, 0, 0, 0] == 3)
    #expect(throws: OperatorsError.self) { _ = try data.windows([4], horizon: 2) }
    #expect(throws: OperatorsError.self) { _ = try data.windows([0], horizon: 4) }
  }

  @Test("pushforward 2: the first epoch's loss is the one-step loss on (frame j+1, model's frame j+2) → frame j+3")
  func pushforwardLoss() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("t.nc")
    try writeFrameLabelledDataset(url, samples: 3, times: 4, n: 4)
    let data = try FieldDataset(url: url, inputFrames: 2)
    let model = FactFormer<Float>(
      FactFormerConfiguration(inChannels: 2, outChannels: 1, dimensions: 2, width: 8, depth: 1, heads: 2, headWidth: 2),
      seed: 3)
    let pairs = data.windowCount(horizon: 2)
    var trainer = try Trainer(
      model: model,
      configuration: TrainingConfiguration(epochs: 1, batchSize: pairs, normalize: false, pushforwardSteps: 2),
      train: data, test: nil)
    #expect(trainer.trainingPairs == 6)
    let record = try trainer.trainEpoch()
    let (x, y) = try data.windows(Array(0..<pairs), horizon: 2)
    let first = model(Tensor(x)).value  // frame j + 2 predicted from frames j, j + 1
    let window = NDArray<Float>(shape: x.shape) { p in
      x.withUnsafeBufferPointer { xs in
        first.withUnsafeBufferPointer { fs in
          for b in 0..<pairs {
            for i in 0..<16 {
              p[b * 32 + i] = xs[b * 32 + 16 + i]
              p[b * 32 + 16 + i] = fs[b * 16 + i]
            }
          }
        }
      }
    }
    let expected = LpLoss(spatialDimensions: 2)(model(Tensor(window)), Tensor(y)).scalar / Float(pairs)
    #expect(abs(Float(record.trainLoss) - expected) <= 1e-5 * expected, "\(record.trainLoss) vs \(expected)")
    #expect(throws: TrainingError.self) {
      _ = try Trainer(
        model: model, configuration: TrainingConfiguration(pushforwardSteps: 4), train: data, test: nil)
    }
  }
}
