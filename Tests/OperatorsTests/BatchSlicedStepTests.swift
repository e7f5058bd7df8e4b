import Numerics
import Testing

@testable import Operators

@Suite("Batch-sliced training step and forward pass")
struct BatchSlicedStepTests {
  static let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 8, modes: [4, 4], layers: 2)

  @Test("the gradients do not depend on the worker count and equal the unsliced step's to rounding")
  func slicedGradients() {
    let model = FNO<Float>(Self.config, seed: 3)
    let x = NDArray<Float>.randomNormal([5, 1, 12, 12], seed: 4)
    let y = NDArray<Float>.randomNormal([5, 1, 12, 12], seed: 5)
    let loss = LpLoss(spatialDimensions: 2)
    func step(_ slices: Int, _ workers: Int) -> (Double, Gradients<Float>) {
      batchSlicedValueAndGradient(at: model, batch: 5, slices: slices, workers: workers) { m, s in
        loss(m(Tensor(x.samples(s))), Tensor(y.samples(s)))
      }
    }
    let (v1, g1) = step(3, 1)
    let (v2, g2) = step(3, 2)
    let (v3, g3) = step(3, 3)
    #expect(v1 == v2 && v2 == v3)
    #expect(g1.arrays == g2.arrays && g2.arrays == g3.arrays)
    let (whole, gw) = valueAndGradient(at: model) { loss($0(Tensor(x)), Tensor(y)) }
    #expect(abs(v1 - Double(whole)) <= 1e-5 * abs(Double(whole)))
    for (a, b) in zip(g1.arrays, gw.arrays) {
      let scale = b.scalars.map { abs(Double($0)) }.max()! + 1e-30
      #expect(zip(a.scalars, b.scalars).allSatisfy { abs(Double($0) - Double($1)) <= 1e-4 * scale })
    }
    // A slice whose loss is not finite makes the summed loss non-finite (the trainer's divergence check).
    var bad = x
    bad.withUnsafeMutableBufferPointer { $0[0] = .nan }
    let (vb, _) = batchSlicedValueAndGradient(at: model, batch: 5, slices: 2, workers: 2) { m, s in
      loss(m(Tensor(bad.samples(s))), Tensor(y.samples(s)))
    }
    #expect(!vb.isFinite)
  }

  @Test("factorized transformers: the sliced gradients do not depend on the worker count")
  func slicedFactorizedGradients() {
    let x = NDArray<Float>.randomNormal([4, 1, 16, 12], seed: 6)
    let y = NDArray<Float>.randomNormal([4, 1, 16, 12], seed: 7)
    let loss = LpLoss(spatialDimensions: 2)
    let ff = FactFormer<Float>(
      FactFormerConfiguration(
        inChannels: 1, outChannels: 1, dimensions: 2, width: 16, depth: 2, heads: 2, headWidth: 8),
      seed: 1)
    let iff = IFactFormer<Float>(
      IFactFormerConfiguration(
        inChannels: 1, outChannels: 1, dimensions: 2, width: 16, depth: 1, repeats: 2, heads: 2, headWidth: 8),
      seed: 2)
    func arrays<M: Module>(_ model: M, _ workers: Int, _ apply: (M, Tensor<Float>) -> Tensor<Float>) -> [NDArray<Float>]
    where M.Scalar == Float {
      batchSlicedValueAndGradient(at: model, batch: 4, slices: 2, workers: workers) { m, s in
        loss(apply(m, Tensor(x.samples(s))), Tensor(y.samples(s)))
      }.gradients.arrays
    }
    #expect(arrays(ff, 1) { $0($1) } == arrays(ff, 2) { $0($1) })
    #expect(arrays(iff, 1) { $0($1) } == arrays(iff, 2) { $0($1) })
  }

  @Test("the sliced forward pass joins the slices in order")
  func slicedForward() {
    let model = FNO<Float>(Self.config, seed: 3)
    let x = NDArray<Float>.randomNormal([5, 1, 12, 12], seed: 6)
    let whole = model(Tensor(x)).value
    let sliced = batchSlicedForward(batch: 5, workers: 2) { model(Tensor(x.samples($0))).value }
    #expect(sliced.shape == whole.shape)
    let scale = whole.scalars.map { abs(Double($0)) }.max()!
    #expect(zip(sliced.scalars, whole.scalars).allSatisfy { abs(Double($0) - Double($1)) <= 1e-5 * scale })
  }
}
