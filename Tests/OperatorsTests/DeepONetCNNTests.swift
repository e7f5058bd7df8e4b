import Foundation
import Numerics
import Testing

@testable import Operators

/// Smooth 2D input functions on an n×n nodal grid of [0, 1]² and their antiderivatives along the
/// second axis (trapezoid rule), a linear operator a convolutional branch can learn.
private func rowAntiderivativePairs(count: Int, n: Int, seed: UInt64) -> (NDArray<Float>, NDArray<Float>) {
  var rng = PhiloxRandom(seed: seed)
  var v: [Float] = []
  var u: [Float] = []
  let h = 1 / Double(n - 1)
  for _ in 0..<count {
    let (a, b, c) = (rng.nextGaussian(), rng.nextGaussian(), rng.nextGaussian())
    for i in 0..<n {
      let y = Double(i) * h
      let f = (0..<n).map { j in a + b * sin(2 * .pi * Double(j) * h) + c * (2 * y - 1) }
      v += f.map(Float.init)
      u += cumulativeTrapezoid(f, spacing: h).map(Float.init)
    }
  }
  return (try! NDArray(shape: [count, 1, n, n], data: v), try! NDArray(shape: [count, 1, n, n], data: u))
}

@Suite("DeepONet with a convolutional branch")
struct DeepONetCNNTests {
  static let small = DeepONetConfiguration(
    inChannels: 2, outChannels: 1, sensorGrid: [9, 8], sensorStride: [1, 1], branchWidths: [5, 4],
    trunkWidths: [6, 4], activation: .tanh,
    convolutionalBranch: ConvolutionalBranchConfiguration(channels: [3, 2], kernelSize: 3, stride: 2))

  @Test("conv2d equals the direct sum and pulls back as finite differences (Float64)")
  func convolutionGradients() {
    let x = randn([2, 2, 7, 6], seed: 1)
    let w = randn([3, 2, 3, 2], seed: 2)
    let b = randn([3], seed: 3)
    for s in [1, 2, 3] {
      let y = conv2d(Tensor(x), weight: Tensor(w), bias: Tensor(b), stride: s).value
      let (ho, wo) = ((7 - 3) / s + 1, (6 - 2) / s + 1)
      #expect(y.shape == [2, 3, ho, wo])
      var worst = 0.0
      let (xs, ws, bs, ys) = (x.scalars, w.scalars, b.scalars, y.scalars)
      for n in 0..<2 {
        for o in 0..<3 {
          for oy in 0..<ho {
            for ox in 0..<wo {
              var acc = bs[o]
              for c in 0..<2 {
                for i in 0..<3 {
                  for j in 0..<2 {
                    acc += ws[((o * 2 + c) * 3 + i) * 2 + j] * xs[((n * 2 + c) * 7 + oy * s + i) * 6 + ox * s + j]
                  }
                }
              }
              worst = max(worst, abs(acc - ys[((n * 3 + o) * ho + oy) * wo + ox]))
            }
          }
        }
      }
      #expect(worst < 1e-12, "stride \(s): forward differs by \(worst)")
      #expect(pullbackError([x, w, b]) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: s) } < 1e-8)
      #expect(pullbackError([x, w]) { conv2d($0[0], weight: $0[1], stride: s) } < 1e-8)
    }
  }

  @Test("CNN-branch DeepONet: parameter gradients match finite differences, names and counts as documented")
  func modelGradients() throws {
    try Self.small.validate()
    let model = DeepONet<Double>(Self.small, seed: 3)
    #expect(
      model.namedParameters().map(\.name).prefix(6) == [
        "branch.convs.0.weight", "branch.convs.0.bias", "branch.convs.1.weight", "branch.convs.1.bias",
        "branch.linears.0.weight", "branch.linears.0.bias",
      ])
    // 9×8 → 4×3 → 1×1 with 2 channels: the dense branch starts at 2.
    #expect(Self.small.branchInputWidth == 2)
    #expect(model.namedParameters()[4].value.shape == [5, 2])
    #expect(DeepONet<Double>.storageCount(Self.small) == model.parameterCount)
    let x = Tensor(randn([3, 2, 9, 8], seed: 7))
    let params = perturbedParameters(model, seed: 20)
    #expect(pullbackError(params) { bound(model, $0)(x) } < 1e-7)
    // Inputs on another grid are interpolated to the 9×8 sensors before the convolutions.
    #expect(pullbackError(params) { bound(model, $0)(Tensor(randn([2, 2, 5, 11], seed: 8))) } < 1e-7)
  }

  @Test("configurations the convolutions do not fit are refused with the reason")
  func refusals() {
    func message(_ c: DeepONetConfiguration) -> String {
      do {
        try c.validate()
        return ""
      } catch { return "\(error)" }
    }
    var c = Self.small
    c.convolutionalBranch!.kernelSize = 5  // 9×8 → 3×2 → the second 5×5 kernel does not fit
    #expect(message(c).contains("convolution 2 has a 5×5 kernel but its input is only 3×2"))
    c = Self.small
    c.sensorStride = [4, 4]  // 3×2 sensors
    #expect(message(c).contains("convolution 1"))
    let oneD = DeepONetConfiguration(
      inChannels: 1, outChannels: 1, sensorGrid: [32], branchWidths: [4], trunkWidths: [4],
      convolutionalBranch: ConvolutionalBranchConfiguration())
    #expect(message(oneD).contains("2D grid"))
    c = Self.small
    c.convolutionalBranch!.channels = []
    #expect(message(c).contains("at least one convolution"))
    c.convolutionalBranch!.channels = [1 << 16, 1 << 16]
    c.convolutionalBranch!.kernelSize = 1
    #expect(message(c).isEmpty)
    #expect(DeepONet<Float>.storageCount(c)! > 1 << 32)
  }

  @Test("a tiny CNN-branch DeepONet overfits four 2D antiderivative pairs")
  func overfits() {
    let (v, u) = rowAntiderivativePairs(count: 4, n: 9, seed: 5)
    let config = DeepONetConfiguration(
      inChannels: 1, outChannels: 1, sensorGrid: [9, 9], branchWidths: [16, 16], trunkWidths: [16, 16],
      activation: .relu, convolutionalBranch: ConvolutionalBranchConfiguration(channels: [4, 8], kernelSize: 3))
    let (first, last) = overfit(DeepONet<Float>(config, seed: 0), inputs: v, targets: u, steps: 1500)
    #expect(first > 0.3 && last < 0.03, "relative L2 \(first) → \(last)")
  }

  @Test("checkpoint round trip of a CNN-branch model; checkpoints of the other branch kind are refused")
  func checkpoints() throws {
    let model = DeepONet<Float>(Self.small, seed: 4)
    let x = NDArray<Float>.randomNormal([2, 2, 9, 8], seed: 3)
    let read = try OperatorCheckpoint.decode(try OperatorCheckpoint(model: model).encoded())
    let loaded: DeepONet<Float> = try read.model()
    #expect(loaded.configuration == Self.small)
    #expect(loaded(Tensor(x)).value == model(Tensor(x)).value)
    // The CNN weights under an MLP configuration (model_config edited): named as unknown parameters.
    let meta = try SafeTensors.decode(try OperatorCheckpoint(model: model).encoded()).metadata
    var mlp = Self.small
    mlp.convolutionalBranch = nil
    var edited = meta
    edited["model_config"] = String(decoding: try JSONEncoder().encode(mlp), as: UTF8.self)
    let stripped = try OperatorCheckpoint.decode(try SafeTensors.encode(model.namedParameters(), metadata: edited))
    #expect {
      _ = try stripped.model(DeepONet<Float>.self)
    } throws: { error in "\(error)".contains("branch.convs.0.weight") }
    // Channels edited up: the model would need far more scalars than the file stores.
    var huge = Self.small
    huge.convolutionalBranch!.channels = [3, 40000]
    edited["model_config"] = String(decoding: try JSONEncoder().encode(huge), as: UTF8.self)
    let inflated = try OperatorCheckpoint.decode(try SafeTensors.encode(model.namedParameters(), metadata: edited))
    #expect {
      _ = try inflated.model(DeepONet<Float>.self)
    } throws: { error in "\(error)".contains("but the file stores") }
    // An MLP checkpoint (written before the CNN option existed: no convolutionalBranch key) still loads.
    let plain = DeepONet<Float>(mlp, seed: 1)
    let old = try OperatorCheckpoint.decode(try OperatorCheckpoint(model: plain).encoded())
    #expect(!old.modelConfiguration.contains("convolutionalBranch"))
    #expect(try old.model(DeepONet<Float>.self).configuration == mlp)
  }

  @Test("POD-DeepONet with a convolutional branch: gradients, storage count, checkpoint round trip")
  func podWithConvolutions() throws {
    let (_, u) = rowAntiderivativePairs(count: 6, n: 9, seed: 3)
    let config = PODDeepONetConfiguration(
      inChannels: 1, outChannels: 1, grid: [9, 9], branchWidths: [5], modes: 3, activation: .tanh,
      convolutionalBranch: ConvolutionalBranchConfiguration(channels: [2, 3], kernelSize: 3, stride: 2))
    try config.validate()
    #expect(config.branchInputWidth == 3)  // 9×9 → 4×4 → 1×1 with 3 channels
    let pod = try PODDeepONet<Float>.fit(config, targets: u, seed: 1)
    #expect(
      pod.namedParameters().map(\.name).prefix(3) == [
        "branch.convs.0.weight", "branch.convs.0.bias", "branch.convs.1.weight",
      ])
    #expect(
      PODDeepONet<Float>.storageCount(pod.configuration)
        == pod.parameterCount + pod.namedBuffers().reduce(0) { $0 + $1.value.count })
    let x = NDArray<Float>.randomNormal([2, 1, 9, 9], seed: 6)
    let loaded: PODDeepONet<Float> = try OperatorCheckpoint.decode(try OperatorCheckpoint(model: pod).encoded()).model()
    #expect(loaded.configuration == pod.configuration && loaded(Tensor(x)).value == pod(Tensor(x)).value)
    let pod64 = try PODDeepONet<Double>.fit(
      config, targets: NDArray(shape: u.shape, data: u.scalars.map(Double.init)), seed: 2)
    let x64 = Tensor(randn([2, 1, 9, 9], seed: 7))
    #expect(pullbackError(perturbedParameters(pod64, seed: 60)) { bound(pod64, $0)(x64) } < 1e-7)
    var tooSmall = config
    tooSmall.sensorStride = [4, 4]
    #expect(throws: OperatorsError.self) { try tooSmall.validate() }
  }
}
