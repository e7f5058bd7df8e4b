import Datasets
import Foundation
import Numerics
import Testing

@testable import Operators

/// Runs `model` with its parameters replaced by the tracked `values` (visiting order).
func bound<M: Module>(_ model: M, _ values: [Tensor<M.Scalar>]) -> M {
  var m = model
  var i = 0
  m.visitParameters { _, p in
    p = values[i]
    i += 1
  }
  return m
}

/// Parameter arrays of `model`, perturbed away from the initial zeros (biases) so that every
/// gradient is generic.
func perturbedParameters<M: Module>(_ model: M, seed: UInt64) -> [NDArray<Double>] where M.Scalar == Double {
  model.namedParameters().enumerated().map { i, p in
    var v = p.value
    let noise = randn(v.shape, seed: seed + UInt64(i))
    v.addScaled(noise, by: 0.1)
    return v
  }
}

/// Smooth 1D input functions on `n` nodal points of [0, 1] and their antiderivatives (trapezoid).
private func antiderivativePairs(count: Int, n: Int, seed: UInt64) -> (NDArray<Float>, NDArray<Float>) {
  var rng = PhiloxRandom(seed: seed)
  var v: [Float] = []
  var u: [Float] = []
  let h = 1 / Double(n - 1)
  for _ in 0..<count {
    let (a, b, c) = (rng.nextGaussian(), rng.nextGaussian(), rng.nextGaussian())
    let f = (0..<n).map { i -> Double in
      let x = Double(i) * h
      return a + b * sin(2 * .pi * x) + c * cos(3 * .pi * x)
    }
    v += f.map(Float.init)
    u += cumulativeTrapezoid(f, spacing: h).map(Float.init)
  }
  return (try! NDArray(shape: [count, 1, n], data: v), try! NDArray(shape: [count, 1, n], data: u))
}

/// The running trapezoid-rule integral of samples `f` with spacing `h`, starting at 0.
func cumulativeTrapezoid(_ f: [Double], spacing h: Double) -> [Double] {
  var acc = 0.0
  return [0]
    + (1..<f.count).map { i in
      acc += 0.5 * h * (f[i - 1] + f[i])
      return acc
    }
}

/// Trains `model` with Adam (learning rate 3e-3) on the relative L2 loss of one fixed batch for
/// `steps` steps; returns the mean relative L2 before the first and at the last step.
func overfit(_ start: DeepONet<Float>, inputs v: NDArray<Float>, targets u: NDArray<Float>, steps: Int) -> (
  first: Float, last: Float
) {
  var model = start
  var adam = Adam<Float>(learningRate: 3e-3)
  let loss = LpLoss(spatialDimensions: v.rank - 2)
  let samples = Float(v.shape[0])
  let first = loss(model(Tensor(v)), Tensor(u)).scalar / samples
  var last = first
  for _ in 0..<steps {
    let (value, grads) = valueAndGradient(at: model) { m in loss(m(Tensor(v)), Tensor(u)) }
    adam.update(&model, along: grads)
    last = value / samples
  }
  return (first, last)
}

@Suite("DeepONet and POD-DeepONet")
struct DeepONetTests {
  static let small = DeepONetConfiguration(
    inChannels: 2, outChannels: 2, sensorGrid: [3, 4], sensorStride: [1, 2], branchWidths: [5, 6], trunkWidths: [4, 6],
    activation: .tanh, domain: [GridAxisDomain(layout: .cellCentred), GridAxisDomain(lower: -1, upper: 2)])

  @Test("merge products, ReLU and tanh pull back as finite differences (Float64)")
  func operationGradients() {
    let branch = randn([3, 6], seed: 1)
    let trunk = randn([5, 6], seed: 2)
    let aligned = randn([3, 4, 6], seed: 3)
    #expect(pullbackError([branch, trunk]) { cartesianProduct($0[0], $0[1], outputs: 2) } < 1e-8)
    #expect(pullbackError([branch, trunk]) { cartesianProduct($0[0], $0[1], outputs: 1) } < 1e-8)
    #expect(pullbackError([branch, aligned]) { alignedProduct($0[0], $0[1], outputs: 3) } < 1e-8)
    #expect(pullbackError([randn([4, 7], seed: 4)]) { tanh($0[0]) } < 1e-8)
    // Keep ReLU's inputs away from the kink, where finite differences are not a derivative.
    let x = randn([4, 7], seed: 5).scalars.map { $0 + ($0 >= 0 ? 0.1 : -0.1) }
    #expect(pullbackError([try! NDArray(shape: [4, 7], data: x)]) { relu($0[0]) } < 1e-8)
  }

  @Test("DeepONet parameter gradients (grid, arbitrary points, aligned) match finite differences")
  func modelGradients() {
    let model = DeepONet<Double>(Self.small, seed: 3)
    let x = Tensor(randn([2, 2, 3, 4], seed: 7))
    let points = Tensor(randn([5, 2], seed: 8))
    let alignedPoints = Tensor(randn([2, 3, 2], seed: 9))
    let params = perturbedParameters(model, seed: 20)
    #expect(pullbackError(params) { bound(model, $0)(x) } < 1e-7)
    #expect(pullbackError(params) { bound(model, $0)(x, at: points) } < 1e-7)
    #expect(pullbackError(params) { bound(model, $0)(x, alignedAt: alignedPoints) } < 1e-7)
    // Off the sensor grid (inputs interpolated to the sensors, trunk on the finer grid).
    let fine = Tensor(randn([2, 2, 5, 7], seed: 10))
    #expect(pullbackError(params) { bound(model, $0)(fine) } < 1e-7)
  }

  @Test("Cartesian-product output equals the unstacked form looped over samples and points")
  func cartesianEqualsLooped() {
    let model = DeepONet<Double>(Self.small, seed: 1)
    let params = perturbedParameters(model, seed: 30)
    let m = bound(model, params.map { Tensor($0) })
    let x = randn([3, 2, 3, 4], seed: 11)
    let y = m(Tensor(x)).value  // [3, 2, 3, 4]
    #expect(y.shape == [3, 2, 3, 4])
    let points: NDArray<Double> = gridPoints([3, 4], domain: Self.small.domain)
    #expect(abs(points.scalars[0] - 1.0 / 6) < 1e-15 && abs(points.scalars[1] + 1) < 1e-15)
    var worst = 0.0
    for b in 0..<3 {
      let xb = Tensor(x.samples(b..<b + 1))
      for n in 0..<12 {
        let q = Tensor(try! NDArray(shape: [1, 1, 2], data: Array(points.scalars[(2 * n)..<(2 * n + 2)])))
        let one = m(xb, alignedAt: q).value.scalars  // [1, 2, 1]
        for c in 0..<2 { worst = max(worst, abs(one[c] - y.scalars[(b * 2 + c) * 12 + n])) }
      }
    }
    #expect(worst < 1e-12, "max difference \(worst)")
  }

  @Test("Glorot-normal weights, zero biases, DeepXDE parameter names")
  func initialization() {
    let config = DeepONetConfiguration(
      inChannels: 1, outChannels: 1, sensorGrid: [100], branchWidths: [40, 40], trunkWidths: [40, 40])
    let model = DeepONet<Float>(config, seed: 0)
    let names = model.namedParameters().map(\.name)
    #expect(
      names == [
        "branch.linears.0.weight", "branch.linears.0.bias", "branch.linears.1.weight", "branch.linears.1.bias",
        "trunk.linears.0.weight", "trunk.linears.0.bias", "trunk.linears.1.weight", "trunk.linears.1.bias", "bias",
      ])
    let w = model.namedParameters()[0].value.scalars.map(Double.init)  // [40, 100]
    let variance = w.reduce(0) { $0 + $1 * $1 } / Double(w.count)
    #expect(abs(variance - 2.0 / 140) < 0.15 * 2.0 / 140, "variance \(variance)")
    #expect(model.namedParameters()[1].value.scalars.allSatisfy { $0 == 0 })
    #expect(model.parameterCount == 100 * 40 + 40 + 40 * 40 + 40 + 40 + 40 + 40 * 40 + 40 + 1)
    #expect(throws: OperatorsError.self) {
      try DeepONetConfiguration(
        inChannels: 1, outChannels: 3, sensorGrid: [8], branchWidths: [8], trunkWidths: [8]
      ).validate()
    }
  }

  @Test("a tiny DeepONet overfits four antiderivative pairs")
  func overfits() {
    let (v, u) = antiderivativePairs(count: 4, n: 12, seed: 5)
    let config = DeepONetConfiguration(
      inChannels: 1, outChannels: 1, sensorGrid: [12], branchWidths: [16, 16], trunkWidths: [16, 16],
      activation: .relu)
    let (first, last) = overfit(DeepONet<Float>(config, seed: 0), inputs: v, targets: u, steps: 1500)
    #expect(first > 0.3 && last < 0.03, "relative L2 \(first) → \(last)")
  }

  @Test("POD modes are orthonormal and reconstruct the training targets to the captured energy")
  func podModes() throws {
    let (v, u) = antiderivativePairs(count: 10, n: 16, seed: 2)
    // Two target channels: the antiderivative and the input itself.
    let targets = try NDArray<Float>(
      shape: [10, 2, 16],
      data: (0..<10).flatMap { s in u[sample: s].scalars + v[sample: s].scalars })
    let config = PODDeepONetConfiguration(inChannels: 1, outChannels: 2, grid: [16], branchWidths: [8], modes: 1)
    let model = try PODDeepONet<Float>.fit(config, selection: .energy(0.999), targets: targets, seed: 0)
    let k = model.configuration.modes
    // Three random coefficients per sample: the centred data have rank ≤ 3 in each channel.
    #expect(k >= 1 && k <= 3, "modes \(k)")
    #expect(model.configuration.capturedEnergy.allSatisfy { $0 >= 0.999 })
    let psi = model.basis.scalars.map(Double.init)  // [16, 2k]
    let mu = model.mean.scalars.map(Double.init)  // [2, 16]
    let t = targets.scalars.map(Double.init)
    for c in 0..<2 {
      for i in 0..<k {
        for j in 0..<k {
          let g = (0..<16).reduce(0.0) { $0 + psi[$1 * 2 * k + c * k + i] * psi[$1 * 2 * k + c * k + j] } / 16
          #expect(abs(g - (i == j ? 1 : 0)) < 1e-5, "channel \(c) Gram[\(i),\(j)] = \(g)")
        }
      }
      // Projection of the centred targets on the modes: the residual energy is 1 − captured.
      var residual = 0.0
      var total = 0.0
      for s in 0..<10 {
        let y = (0..<16).map { t[(s * 2 + c) * 16 + $0] - mu[c * 16 + $0] }
        var r = y
        for i in 0..<k {
          let coef = (0..<16).reduce(0.0) { $0 + y[$1] * psi[$1 * 2 * k + c * k + i] } / 16
          for n in 0..<16 { r[n] -= coef * psi[n * 2 * k + c * k + i] }
        }
        residual += r.reduce(0) { $0 + $1 * $1 }
        total += y.reduce(0) { $0 + $1 * $1 }
      }
      let expected = 1 - model.configuration.capturedEnergy[c]
      #expect(abs(residual / total - expected) < 1e-5, "channel \(c): \(residual / total) vs \(expected)")
    }
    // A fixed count, and a count the data cannot give.
    let two = try PODDeepONet<Float>.fit(config, selection: .count(2), targets: targets, seed: 0)
    #expect(two.configuration.modes == 2 && two.basis.shape == [16, 4])
    #expect(throws: OperatorsError.self) {
      _ = try PODDeepONet<Float>.fit(config, selection: .count(11), targets: targets, seed: 0)
    }
    // Branch gradients of the POD model (Float64).
    let pod64 = try PODDeepONet<Double>.fit(
      config, selection: .count(2), targets: NDArray(shape: targets.shape, data: t), seed: 1)
    let x = Tensor(randn([3, 1, 16], seed: 4))
    #expect(pullbackError(perturbedParameters(pod64, seed: 40)) { bound(pod64, $0)(x) } < 1e-7)
  }

  @Test("checkpoint round trip of both models, dispatch by model name, refusal of missing POD buffers")
  func checkpoints() throws {
    struct Name: NeuralOperatorVisitor {
      let x: NDArray<Float>
      func visit<M: NeuralOperator>(_ model: M) throws -> (String, NDArray<Float>) where M.Scalar == Float {
        (M.modelName, model(Tensor(x)).value)
      }
    }
    let x = NDArray<Float>.randomNormal([2, 2, 3, 4], seed: 3)
    let don = DeepONet<Float>(Self.small, seed: 4)
    let read = try OperatorCheckpoint.decode(try OperatorCheckpoint(model: don).encoded())
    let (name, y) = try read.withModel(Name(x: x))
    #expect(name == "deeponet" && y == don(Tensor(x)).value && read.buffers.isEmpty)

    let (_, u) = antiderivativePairs(count: 6, n: 8, seed: 9)
    let config = PODDeepONetConfiguration(inChannels: 1, outChannels: 1, grid: [8], branchWidths: [5], modes: 3)
    let pod = try PODDeepONet<Float>.fit(config, targets: u, seed: 2)
    let checkpoint = OperatorCheckpoint(model: pod)
    let back = try OperatorCheckpoint.decode(try checkpoint.encoded())
    #expect(back.buffers.map(\.name).sorted() == ["pod.basis", "pod.mean"])
    let loaded: PODDeepONet<Float> = try back.model()
    let xs = NDArray<Float>.randomNormal([3, 1, 8], seed: 5)
    #expect(loaded.basis == pod.basis && loaded.mean == pod.mean && loaded.configuration == pod.configuration)
    #expect(loaded(Tensor(xs)).value == pod(Tensor(xs)).value)
    var broken = back
    broken.buffers.removeAll { $0.name == "pod.mean" }
    #expect(throws: OperatorsError.self) { _ = try broken.model(PODDeepONet<Float>.self) }
    var stray = read
    stray.buffers = [("pod.mean", NDArray<Float>(shape: [1], repeating: 0))]
    #expect(throws: OperatorsError.self) { _ = try stray.model(DeepONet<Float>.self) }
  }

  @Test("DeepONet off the training grid: the trunk takes the new points, the branch the interpolated sensors")
  func offGrid() throws {
    let config = DeepONetConfiguration(
      inChannels: 1, outChannels: 1, sensorGrid: [5], branchWidths: [6, 4], trunkWidths: [6, 4], activation: .gelu)
    let model = DeepONet<Double>(config, seed: 6)
    // Linear inputs, so that interpolating the fine grid back to the sensors is exact.
    func line(_ n: Int, _ a: Double, _ b: Double) -> [Double] { (0..<n).map { a + b * Double($0) / Double(n - 1) } }
    let coarse = try NDArray<Double>(shape: [2, 1, 5], data: line(5, 1, 2) + line(5, -1, 0.5))
    let fine = try NDArray<Double>(shape: [2, 1, 9], data: line(9, 1, 2) + line(9, -1, 0.5))
    let expected = model(Tensor(coarse), at: Tensor(try NDArray(shape: [9, 1], data: line(9, 0, 1)))).value
    let got = model(Tensor(fine)).value
    #expect(got.shape == [2, 1, 9] && got.maxAbsDifference(expected) < 1e-12)
  }

  @Test("train, checkpoint, evaluate and predict at another resolution through the generic path")
  func endToEnd() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 6, n: 8)
    let train = try FieldDataset(url: url, samples: 0..<4)
    let test = try FieldDataset(url: url, samples: 4..<6)
    let domain = train.axes.map { name in
      GridAxisDomain(coordinates: train.fileAxes.first { $0.name == name }!.values)
    }
    #expect(domain.allSatisfy { $0.layout == .cellCentred })
    let config = DeepONetConfiguration(
      inChannels: 1, outChannels: 1, sensorGrid: [8, 8], sensorStride: [2, 2], branchWidths: [8, 8],
      trunkWidths: [8, 8], domain: domain)
    var trainer = try Trainer(
      model: DeepONet<Float>(config, seed: 0), configuration: TrainingConfiguration(epochs: 2, batchSize: 2),
      train: train, test: test)
    let ckptURL = dir.appendingPathComponent("m.safetensors")
    try trainer.fit(checkpoint: ckptURL)
    #expect(trainer.history.count == 2 && trainer.history.allSatisfy { $0.testL2?.isFinite == true })
    let ckpt = try OperatorCheckpoint.read(from: ckptURL)
    let resumed = try Trainer<DeepONet<Float>>(resuming: ckpt, train: train, test: test, epochs: 3)
    #expect(resumed.completedEpochs == 2)
    struct Predict: NeuralOperatorVisitor {
      let ckpt: OperatorCheckpoint
      let data: FieldDataset
      let out: URL
      func visit<M: NeuralOperator>(_ model: M) throws -> Int where M.Scalar == Float {
        try writePredictions(model: model, checkpoint: ckpt, input: data, to: out, resolution: 12)
      }
    }
    let out = dir.appendingPathComponent("p.nc")
    #expect(try ckpt.withModel(Predict(ckpt: ckpt, data: test, out: out)) == 2)
    let reader = try DatasetReader(url: out)
    let prediction = try reader.read("u_prediction", samples: 0..<2)
    #expect(prediction.shape == [2, 12, 12] && prediction.scalars.allSatisfy { $0.isFinite })
  }

  @Test("the mse training loss is DeepXDE's mean squared error per sample")
  func mseLoss() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeSmoothingDataset(url, count: 3, n: 8)
    let data = try FieldDataset(url: url)
    let config = DeepONetConfiguration(
      inChannels: 1, outChannels: 1, sensorGrid: [8, 8], branchWidths: [4], trunkWidths: [4])
    let model = DeepONet<Float>(config, seed: 1)
    var trainer = try Trainer(
      model: model, configuration: TrainingConfiguration(epochs: 1, batchSize: 3, loss: .mse, normalize: false),
      train: data, test: nil)
    // One batch: the epoch's loss is the loss at the initial parameters.
    let record = try trainer.trainEpoch()
    let (x, y) = try data.batch([0, 1, 2])
    let p = model(Tensor(x)).value.scalars.map(Double.init)
    let t = y.scalars.map(Double.init)
    let mse = zip(p, t).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(p.count)
    #expect(abs(record.trainLoss - mse) < 1e-5 * mse, "\(record.trainLoss) vs \(mse)")
  }
}
