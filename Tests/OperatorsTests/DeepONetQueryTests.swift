import Datasets
import Foundation
import Numerics
import Testing

@testable import Operators

@Suite("DeepONet on random query points and off the training grid")
struct DeepONetQueryTests {
  static let config = DeepONetConfiguration(
    inChannels: 1, outChannels: 2, sensorGrid: [5, 6], branchWidths: [6, 8], trunkWidths: [7, 8], activation: .tanh,
    domain: [GridAxisDomain(layout: .cellCentred), GridAxisDomain(lower: -1, upper: 2, layout: .periodic)])

  @Test("loss and gradients on a query subset equal those of the full grid restricted to the subset (Float64)")
  func subsetEqualsRestrictedFullGrid() {
    let model = DeepONet<Double>(Self.config, seed: 2)
    let params = perturbedParameters(model, seed: 50)
    let x = randn([3, 1, 5, 6], seed: 1)
    let y = randn([3, 2, 5, 6], seed: 2)
    let subset = [0, 4, 7, 11, 12, 23, 29]
    // The targets at the subset, and the 0/1 mask of the subset on the full grid.
    let picked = NDArray<Double>(shape: [3, 2, subset.count]) { p in
      let ys = y.scalars
      for r in 0..<6 { for (k, i) in subset.enumerated() { p[r * subset.count + k] = ys[r * 30 + i] } }
    }
    var mask = NDArray<Double>(shape: [3, 2, 5, 6], repeating: 0)
    mask.withUnsafeMutableBufferPointer { p in
      for r in 0..<6 { for i in subset { p[r * 30 + i] = 1 } }
    }
    // Relative L2: ‖m⊙(ŷ − y)‖ / ‖m⊙y‖ on the full grid is the relative L2 on the subset.
    let (subL2, subL2Grads) = valueAndGradient(at: params) { p in
      LpLoss(spatialDimensions: 1)(bound(model, p)(Tensor(x), queryGrid: [5, 6], indices: subset)!, Tensor(picked))
    }
    let (fullL2, fullL2Grads) = valueAndGradient(at: params) { p in
      LpLoss(spatialDimensions: 2)(bound(model, p)(Tensor(x)) * Tensor(mask), Tensor(y) * Tensor(mask))
    }
    // Squared error summed over the subset.
    let (subSq, subSqGrads) = valueAndGradient(at: params) { p in
      let e = bound(model, p)(Tensor(x), queryGrid: [5, 6], indices: subset)! - Tensor(picked)
      return (e * e).sum()
    }
    let (fullSq, fullSqGrads) = valueAndGradient(at: params) { p in
      let e = (bound(model, p)(Tensor(x)) - Tensor(y)) * Tensor(mask)
      return (e * e).sum()
    }
    #expect(abs(subL2 - fullL2) < 1e-12 * abs(fullL2) && abs(subSq - fullSq) < 1e-12 * abs(fullSq))
    for (a, b) in zip(subL2Grads + subSqGrads, fullL2Grads + fullSqGrads) {
      #expect(a.maxAbsDifference(b) < 1e-12 * max(1, b.scalars.map(abs).max()!))
    }
    // All indices (nil) is the model on the grid.
    let full = model(Tensor(x)).value
    #expect(model(Tensor(x), queryGrid: [5, 6], indices: nil)!.value.reshaped([3, 2, 5, 6]) == full)
  }

  @Test("the trainer draws reproducible distinct subsets, trains on them, and refuses what cannot use them")
  func trainerSubsets() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 5, n: 8)
    let train = try FieldDataset(url: url, samples: 0..<4)
    let domain = train.axes.map { name in
      GridAxisDomain(coordinates: train.fileAxes.first { $0.name == name }!.values)
    }
    let config = DeepONetConfiguration(
      inChannels: 1, outChannels: 1, sensorGrid: [8, 8], branchWidths: [8, 8], trunkWidths: [8, 8], domain: domain)
    let training = TrainingConfiguration(epochs: 2, batchSize: 4, loss: .mse, seed: 7, queryPoints: 10)
    let model = DeepONet<Float>(config, seed: 3)
    var trainer = try Trainer(model: model, configuration: training, train: train, test: nil)
    let first = trainer.queryIndices(epoch: 0, batch: 0)!
    #expect(
      first.count == 10 && Set(first).count == 10 && first == first.sorted()
        && first.allSatisfy { (0..<64).contains($0) })
    #expect(trainer.queryIndices(epoch: 0, batch: 0) == first)
    #expect(trainer.queryIndices(epoch: 1, batch: 0) != first && trainer.queryIndices(epoch: 0, batch: 1) != first)
    // One batch per epoch: the epoch's loss is the subset MSE at the initial parameters.
    let (x, y) = try trainer.trainingBatch(trainer.permutation(epoch: 0))
    let prediction = model(Tensor(x), queryGrid: [8, 8], indices: first)!.value.scalars.map(Double.init)
    let target = Trainer<DeepONet<Float>>.gather(y, first).scalars.map(Double.init)
    // DeepXDE's MSE per sample (mean over the 10 points), averaged over the 4 samples.
    let mse = zip(prediction, target).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / 40
    let record = try trainer.trainEpoch()
    #expect(abs(record.trainLoss - mse) < 1e-5 * mse, "\(record.trainLoss) vs \(mse)")
    try trainer.fit()
    var twin = try Trainer(model: model, configuration: training, train: train, test: nil)
    try twin.fit()
    #expect(twin.model.namedParameters().map(\.value) == trainer.model.namedParameters().map(\.value))
    var whole = try Trainer(
      model: model, configuration: TrainingConfiguration(epochs: 2, batchSize: 4, loss: .mse, seed: 7), train: train,
      test: nil)
    try whole.fit()
    #expect(whole.model.namedParameters().map(\.value) != trainer.model.namedParameters().map(\.value))

    func refusal(_ body: () throws -> Void) -> String {
      do {
        try body()
        return ""
      } catch { return "\(error)" }
    }
    var tooMany = training
    tooMany.queryPoints = 65
    #expect(
      refusal { _ = try Trainer(model: model, configuration: tooMany, train: train, test: nil) }.contains(
        "has 64 points"))
    var h1 = training
    h1.loss = .h1
    #expect(refusal { try h1.validate() }.contains("l2 or mse"))
    let fno = FNO<Float>(
      FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 4, modes: [2, 2], layers: 1), seed: 0)
    #expect(
      refusal { _ = try Trainer(model: fno, configuration: training, train: train, test: nil) }.contains("deeponet"))
    let pod = try PODDeepONet<Float>.fit(
      PODDeepONetConfiguration(inChannels: 1, outChannels: 1, grid: [8, 8], branchWidths: [4], modes: 2),
      targets: try train.targets(Array(0..<4)), seed: 0)
    #expect(
      refusal { _ = try Trainer(model: pod, configuration: training, train: train, test: nil) }.contains("POD modes"))
  }

  @Test("predict on another grid queries the trunk there; grid points shared with the input's grid agree with it")
  func predictOffGrid() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 3, n: 8)
    let data = try FieldDataset(url: url)
    let domain = data.axes.map { name in GridAxisDomain(coordinates: data.fileAxes.first { $0.name == name }!.values) }
    let config = DeepONetConfiguration(
      inChannels: 1, outChannels: 1, sensorGrid: [8, 8], branchWidths: [8, 8], trunkWidths: [8, 8], activation: .gelu,
      domain: domain)
    var trainer = try Trainer(
      model: DeepONet<Float>(config, seed: 1), configuration: TrainingConfiguration(epochs: 1, batchSize: 3),
      train: data, test: nil)
    try trainer.fit()
    let ckpt = trainer.checkpoint()
    let (same, fine) = (dir.appendingPathComponent("same.nc"), dir.appendingPathComponent("fine.nc"))
    try writePredictions(model: trainer.model, checkpoint: ckpt, input: data, to: same)
    try writePredictions(model: trainer.model, checkpoint: ckpt, input: data, to: fine, resolution: 24)
    let onGrid = try DatasetReader(url: same).read("u_prediction", samples: 0..<3)
    let reader = try DatasetReader(url: fine)
    let fineGrid = try reader.read("u_prediction", samples: 0..<3)
    #expect(fineGrid.shape == [3, 24, 24])
    #expect(reader.attributes["pdekit_prediction_grid"]?.contains("model evaluated at the points") == true)
    // Cell centres: (i + ½)/24 = (j + ½)/8 for i = 3j + 1. There the branch input and the trunk
    // coordinates are those of the 8×8 prediction, so the outputs agree.
    var worst: Float = 0
    let (a, b) = (onGrid.scalars, fineGrid.scalars)
    for s in 0..<3 {
      for j in 0..<8 {
        for k in 0..<8 { worst = max(worst, abs(a[(s * 8 + j) * 8 + k] - b[(s * 24 + 3 * j + 1) * 24 + 3 * k + 1])) }
      }
    }
    let scale = a.map(abs).max()!
    #expect(worst <= 1e-5 * scale, "largest difference \(worst) (scale \(scale))")
    // Between those points the trunk is evaluated at new coordinates: not a copy of a neighbour.
    #expect(b[1] != b[0] || b[2] != b[1])
  }
}
