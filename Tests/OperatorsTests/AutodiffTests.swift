import Dispatch
import Foundation
import Numerics
import Operators
import Testing

@Suite("Autodiff: every op's pullback against central finite differences (Float64)")
struct AutodiffTests {
  @Test(
    "broadcasting add, subtract, multiply",
    arguments: [
      ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [3, 1]), ([2, 3, 4, 5], [3, 1, 1]), ([2, 3, 4, 5], [1, 3, 1, 1]),
      ([4], [3, 1]), ([2, 1, 4], [1, 3, 1]), ([3, 4], []),
    ])
  func broadcasting(a: [Int], b: [Int]) {
    let x = randn(a, seed: 1)
    let y = randn(b, seed: 2)
    #expect(pullbackError([x, y]) { $0[0] + $0[1] } < 1e-6)
    #expect(pullbackError([x, y]) { $0[0] - $0[1] } < 1e-6)
    #expect(pullbackError([x, y]) { $0[0] * $0[1] } < 1e-6)
    #expect(pullbackError([x, y]) { $0[1] * $0[0] * $0[0] } < 1e-6)
  }

  @Test("Float32 reductions of the gate, bias and channel-mix gradients agree with Float64 (vectorized sums)")
  func floatReductions() {
    // Rows of 4099 points: the eight-lane loops and their tails.
    let x = randn([3, 5, 4099], seed: 7)
    let gate = randn([1, 5, 1], seed: 8)
    let bias = randn([5, 1], seed: 9)
    let w = randn([4, 5], seed: 10)
    let b = randn([4], seed: 11)
    let g = randn([3, 4, 4099], seed: 12)
    func grads<T: RealScalar>(_ type: T.Type) -> [NDArray<T>] {
      let inputs: [NDArray<T>] = [x, gate, bias, w, b].map { $0.converted(to: T.self) }
      return valueAndPullback(at: inputs, cotangent: g.converted(to: T.self)) { t in
        channelMix(t[0] * t[1] + t[2], weight: t[3], bias: t[4])
      }.gradients
    }
    for (single, double) in zip(grads(Float.self), grads(Double.self)) {
      let scale = double.scalars.map { abs($0) }.max()!
      #expect(single.converted(to: Double.self).maxAbsDifference(double) < 2e-5 * scale)
    }
  }

  @Test("channelMix pullbacks from several threads at once (BLAS's thread count changing under them) agree")
  func concurrentChannelMix() {
    let x = randn([6, 5, 300], seed: 13)
    let w = randn([4, 5], seed: 14)
    let b = randn([4], seed: 15)
    let g = randn([6, 4, 300], seed: 16)
    @Sendable func run() -> [NDArray<Double>] {
      let r = valueAndPullback(at: [x, w, b], cotangent: g) { t in channelMix(t[0], weight: t[1], bias: t[2]) }
      return [r.value] + r.gradients
    }
    let reference = run()
    let results = Locked([[NDArray<Double>]]())
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
      let r = run()
      results.withLock { $0.append(r) }
    }
    for r in results.withLock({ $0 }) {
      for (u, v) in zip(r, reference) {
        #expect(u.maxAbsDifference(v) < 1e-12 * max(1, v.scalars.map { abs($0) }.max()!))
      }
    }
  }

  @Test("broadcast values: bias over channels and per-channel gate")
  func broadcastValues() throws {
    let x = try NDArray<Double>(shape: [2, 3, 2], data: (0..<12).map(Double.init))
    let bias = try NDArray<Double>(shape: [3, 1], data: [10, 20, 30])
    let gate = try NDArray<Double>(shape: [1, 3, 1], data: [1, 2, 3])
    let s = (Tensor(x) + Tensor(bias)).value
    let p = (Tensor(x) * Tensor(gate)).value
    for b in 0..<2 {
      for c in 0..<3 {
        for j in 0..<2 {
          #expect(s[b, c, j] == x[b, c, j] + bias[c, 0])
          #expect(p[b, c, j] == x[b, c, j] * gate[0, c, 0])
        }
      }
    }
  }

  @Test("scalar multiple, negation, sum, mean, sum along axes")
  func reductions() {
    let x = randn([2, 3, 4], seed: 3)
    #expect(pullbackError([x]) { 2.5 * $0[0] } < 1e-6)
    #expect(pullbackError([x]) { -$0[0] } < 1e-6)
    #expect(pullbackError([x]) { $0[0].sum() } < 1e-6)
    #expect(pullbackError([x]) { ($0[0] * $0[0]).mean() } < 1e-6)
    #expect(pullbackError([x]) { $0[0].sum(alongAxes: [1]) } < 1e-6)
    #expect(pullbackError([x]) { $0[0].sum(alongAxes: [0, 2], keepingDimensions: true) } < 1e-6)
    let s = Tensor(x).sum(alongAxes: [1]).value
    #expect(s.shape == [2, 4])
    #expect(abs(s[1, 2] - (x[1, 0, 2] + x[1, 1, 2] + x[1, 2, 2])) < 1e-14)
    #expect(abs(Tensor(x).mean().scalar - x.mean()) < 1e-14)
  }

  @Test("matmul and linear (with and without bias, leading axes)")
  func matrixProducts() throws {
    let a = randn([3, 4], seed: 4)
    let b = randn([4, 5], seed: 5)
    #expect(pullbackError([a, b]) { matmul($0[0], $0[1]) } < 1e-6)
    let ref = try a.matmul(b)
    #expect(matmul(Tensor(a), Tensor(b)).value.maxAbsDifference(ref) < 1e-14)
    let x = randn([2, 3, 4], seed: 6)
    let w = randn([5, 4], seed: 7)
    let bias = randn([5], seed: 8)
    #expect(pullbackError([x, w, bias]) { linear($0[0], weight: $0[1], bias: $0[2]) } < 1e-6)
    #expect(pullbackError([x, w]) { linear($0[0], weight: $0[1]) } < 1e-6)
    let y = linear(Tensor(x), weight: Tensor(w), bias: Tensor(bias)).value
    var expected = bias[3]
    for i in 0..<4 { expected += x[1, 2, i] * w[3, i] }
    #expect(abs(y[1, 2, 3] - expected) < 1e-13)
  }

  @Test("channel mixing (1×1 convolution) on 1D and 2D grids")
  func channelMixing() {
    let x = randn([2, 3, 4, 5], seed: 9)
    let w = randn([4, 3], seed: 10)
    let b = randn([4], seed: 11)
    #expect(pullbackError([x, w, b]) { channelMix($0[0], weight: $0[1], bias: $0[2]) } < 1e-6)
    #expect(
      pullbackError([randn([3, 2, 7], seed: 12), randn([2, 2], seed: 13)]) { channelMix($0[0], weight: $0[1]) } < 1e-6)
    let y = channelMix(Tensor(x), weight: Tensor(w), bias: Tensor(b)).value
    var expected = b[2]
    for i in 0..<3 { expected += w[2, i] * x[1, i, 3, 4] }
    #expect(abs(y[1, 2, 3, 4] - expected) < 1e-13)
  }

  @Test("GELU (exact erf form): values and pullback")
  func geluCheck() throws {
    let x = randn([3, 7], seed: 14)
    #expect(pullbackError([(2.0 * Tensor(x)).value]) { gelu($0[0]) } < 1e-6)
    // PyTorch: F.gelu(torch.tensor([-3., -1., 0., 0.5, 2.], dtype=torch.float64))
    let v = gelu(Tensor(try NDArray<Double>(shape: [5], data: [-3, -1, 0, 0.5, 2]))).value.scalars
    let expected = [-0.00404969409489031, -0.15865525393145707, 0, 0.34573123063700656, 1.9544997361036416]
    for (a, b) in zip(v, expected) { #expect(abs(a - b) < 1e-15) }
  }

  @Test("GELU in Float32 (vectorized Φ) agrees with the Float64 erf form, tails included")
  func geluFloat32() throws {
    let xs = stride(from: -14.0, through: 14.0, by: 0.00137).map { Float($0) } + [0, -0, 1e-30, -1e-30]
    let xf = try NDArray<Float>(shape: [xs.count], data: xs)
    let (yf, gf) = valueAndPullback(at: [xf], cotangent: NDArray(shape: [xs.count], repeating: 1)) { gelu($0[0]) }
    var worstValue = 0.0
    var worstSlope = 0.0
    for (i, v) in xs.enumerated() {
      let x = Double(v)
      let cdf = 0.5 * erfc(-x / 2.0.squareRoot())
      let y = x * cdf
      let slope = cdf + x * exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
      // Relative accuracy down to Float's smallest normals; Φ is computed from erfc in the tail.
      if abs(y) > 1e-36 { worstValue = max(worstValue, abs(Double(yf[i]) - y) / abs(y)) }
      // The slope Φ + xφ vanishes near x ≈ −0.75; measure against the size of its terms.
      let scale = cdf + abs(x) * exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
      if scale > 1e-36 { worstSlope = max(worstSlope, abs(Double(gf[0][i]) - slope) / scale) }
    }
    #expect(worstValue < 2e-5)
    #expect(worstSlope < 1e-5)
    // Near the origin and for positive x, a few ulp.
    let mid = xs.indices.filter { abs(xs[$0]) < 2 && abs(xs[$0]) > 1e-3 }
    let midWorst = mid.map { i -> Double in
      let x = Double(xs[i])
      let y = x * 0.5 * erfc(-x / 2.0.squareRoot())
      return abs(Double(yf[i]) - y) / abs(y)
    }.max()!
    #expect(midWorst < 1e-6)
    #expect(gelu(Tensor(try NDArray<Float>(shape: [1], data: [.nan]))).value[0].isNaN)
  }

  @Test("addGELU: fused act(a + b ⊙ w) pullbacks, with and without gate and activation, and its Float32 values")
  func fusedAddGELU() throws {
    let a = randn([2, 3, 5, 4], seed: 40)
    let b = randn([2, 3, 5, 4], seed: 41)
    let w = randn([1, 3, 1, 1], seed: 42)
    for activation in [true, false] {
      #expect(pullbackError([a, b, w]) { addGELU($0[0], $0[1], gate: $0[2], activation: activation) } < 1e-6)
      #expect(pullbackError([a, b]) { addGELU($0[0], $0[1], activation: activation) } < 1e-6)
      // The same function as the unfused ops.
      let fused = addGELU(Tensor(a), Tensor(b), gate: Tensor(w), activation: activation).value
      let plain = Tensor(a) + Tensor(b) * Tensor(w)
      let reference = (activation ? gelu(plain) : plain).value
      #expect(zip(fused.scalars, reference.scalars).allSatisfy { abs($0 - $1) <= 1e-14 * max(1, abs($1)) })
    }
    // Float32 against the Float64 result, and the gate's gradient against the unfused ops'.
    let (af, bf, wf) = (a.map { Float($0) }, b.map { Float($0) }, w.map { Float($0) })
    let yf = addGELU(Tensor(af), Tensor(bf), gate: Tensor(wf)).value
    let yd = addGELU(Tensor(a), Tensor(b), gate: Tensor(w)).value
    #expect(zip(yf.scalars, yd.scalars).allSatisfy { abs(Double($0) - $1) <= 1e-6 * max(1, abs($1)) })
    let c = randn(a.shape, seed: 43).map { Float($0) }
    let (_, fusedGrads) = valueAndPullback(at: [af, bf, wf], cotangent: c) { addGELU($0[0], $0[1], gate: $0[2]) }
    let (_, plainGrads) = valueAndPullback(at: [af, bf, wf], cotangent: c) { gelu($0[0] + $0[1] * $0[2]) }
    for (f, p) in zip(fusedGrads, plainGrads) {
      let scale = p.scalars.map { abs(Double($0)) }.max()!
      #expect(zip(f.scalars, p.scalars).allSatisfy { abs(Double($0) - Double($1)) <= 2e-6 * scale })
    }
  }

  @Test(
    "fusedChannelMLP: pullbacks by finite differences, tiles that do not divide the grid, equal to the unfused layers")
  func fusedChannelMLPTest() throws {
    let x = randn([3, 4, 5, 4], seed: 50)  // 20 points: tiles of 7 leave a short last tile
    let (w1, b1) = (randn([6, 4], seed: 51), randn([6], seed: 52))
    let (w2, b2) = (randn([3, 6], seed: 53), randn([3], seed: 54))
    for tile in [7, 256] {
      #expect(
        pullbackError([x, w1, b1, w2, b2]) {
          fusedChannelMLP($0[0], weight1: $0[1], bias1: $0[2], weight2: $0[3], bias2: $0[4], tile: tile)
        } < 1e-6)
      #expect(
        pullbackError([x, w1, w2]) {
          fusedChannelMLP($0[0], weight1: $0[1], bias1: nil, weight2: $0[2], bias2: nil, tile: tile)
        }
          < 1e-6)
      let fused = fusedChannelMLP(
        Tensor(x), weight1: Tensor(w1), bias1: Tensor(b1), weight2: Tensor(w2), bias2: Tensor(b2), tile: tile
      ).value
      let plain = channelMix(
        gelu(channelMix(Tensor(x), weight: Tensor(w1), bias: Tensor(b1))), weight: Tensor(w2), bias: Tensor(b2)
      ).value
      #expect(fused.shape == [3, 3, 5, 4])
      #expect(zip(fused.scalars, plain.scalars).allSatisfy { abs($0 - $1) <= 1e-13 * max(1, abs($1)) })
    }
    // Float32: values and every gradient against the unfused layers.
    let xs = [x, w1, b1, w2, b2].map { $0.map { Float($0) } }
    let c = randn([3, 3, 5, 4], seed: 55).map { Float($0) }
    let (yf, fusedGrads) = valueAndPullback(at: xs, cotangent: c) {
      fusedChannelMLP($0[0], weight1: $0[1], bias1: $0[2], weight2: $0[3], bias2: $0[4], tile: 7)
    }
    let (yp, plainGrads) = valueAndPullback(at: xs, cotangent: c) {
      channelMix(gelu(channelMix($0[0], weight: $0[1], bias: $0[2])), weight: $0[3], bias: $0[4])
    }
    for (f, p) in zip([yf] + fusedGrads, [yp] + plainGrads) {
      let scale = p.scalars.map { abs(Double($0)) }.max()!
      #expect(zip(f.scalars, p.scalars).allSatisfy { abs(Double($0) - Double($1)) <= 2e-6 * scale })
    }
  }

  @Test("fusedFNOBlockTail: pullbacks by finite differences (with and without activation), equal to the unfused block")
  func fusedFNOBlockTailTest() throws {
    let x = randn([3, 4, 5, 4], seed: 60)  // 20 points: tiles of 7 leave a short last tile
    let s = randn([3, 4, 5, 4], seed: 61)
    let ws = randn([4, 4], seed: 62)
    let (w1, b1) = (randn([2, 4], seed: 63), randn([2], seed: 64))
    let (w2, b2) = (randn([4, 2], seed: 65), randn([4], seed: 66))
    let g = randn([1, 4, 1, 1], seed: 67)
    func unfused(_ t: [Tensor<Double>], _ activation: Bool) -> Tensor<Double> {
      let h = addGELU(t[1], channelMix(t[0], weight: t[2]), activation: activation)
      let m = channelMix(gelu(channelMix(h, weight: t[3], bias: t[4])), weight: t[5], bias: t[6])
      return addGELU(m, t[0], gate: t[7], activation: activation)
    }
    let all = [x, s, ws, w1, b1, w2, b2, g]
    for activation in [true, false] {
      for tile in [7, 256] {
        #expect(
          pullbackError(all) {
            fusedFNOBlockTail(
              $0[0], spectral: $0[1], skipWeight: $0[2], weight1: $0[3], bias1: $0[4], weight2: $0[5], bias2: $0[6],
              gate: $0[7], activation: activation, tile: tile)
          } < 1e-6)
        let c = randn(x.shape, seed: 68)
        let (fy, fg) = valueAndPullback(at: all, cotangent: c) {
          fusedFNOBlockTail(
            $0[0], spectral: $0[1], skipWeight: $0[2], weight1: $0[3], bias1: $0[4], weight2: $0[5], bias2: $0[6],
            gate: $0[7], activation: activation, tile: tile)
        }
        let (uy, ug) = valueAndPullback(at: all, cotangent: c) { unfused($0, activation) }
        for (f, u) in zip([fy] + fg, [uy] + ug) {
          #expect(f.shape == u.shape)
          #expect(zip(f.scalars, u.scalars).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
        }
      }
    }
  }

  @Test("reshape, concatenate, grid embedding")
  func structural() {
    let a = randn([2, 3, 4], seed: 15)
    let b = randn([2, 2, 4], seed: 16)
    #expect(pullbackError([a]) { $0[0].reshaped([6, 4]) * $0[0].reshaped([6, 4]) } < 1e-6)
    #expect(pullbackError([a, b]) { concatenate([$0[0], $0[1], $0[0]], axis: 1) } < 1e-6)
    #expect(pullbackError([a, b]) { concatenate([$0[0], $0[1]], axis: -2).reshaped([-1]) } < 1e-6)
    let c = concatenate([Tensor(a), Tensor(b)], axis: 1).value
    #expect(c.shape == [2, 5, 4] && c[1, 3, 2] == b[1, 0, 2] && c[0, 2, 1] == a[0, 2, 1])
    #expect(pullbackError([randn([2, 2, 3, 4], seed: 17)]) { GridEmbedding(dimensions: 2)($0[0]) } < 1e-6)
  }

  @Test("a value used twice accumulates both cotangents; untracked branches get none")
  func accumulation() {
    let x = randn([3, 4], seed: 18)
    let w = randn([4, 4], seed: 19)
    #expect(pullbackError([x, w]) { t in gelu(matmul(t[0], t[1])) * t[0] + matmul(t[0], t[1]) } < 1e-6)
    let tape = Tape<Double>()
    let v = tape.variable(x)
    let y = (Tensor(w) + Tensor(w)).sum() + v.sum()
    let g = tape.gradients(of: y, withRespectTo: [v])
    #expect(g[0].scalars.allSatisfy { $0 == 1 })
  }
}
