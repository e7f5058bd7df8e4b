import Foundation
import Numerics
import Operators
import Testing

@Suite("Factorized-attention ops: values against direct formulas, pullbacks against finite differences (Float64)")
struct AxialOpsTests {
  @Test("layer norm: zero mean, unit (biased) variance per row; affine; pullback")
  func layerNormCheck() {
    let x = randn([2, 3, 5], seed: 1)
    let y = layerNorm(Tensor(x)).value
    for r in 0..<6 {
      let row = (0..<5).map { y.scalars[r * 5 + $0] }
      let mean = row.reduce(0, +) / 5
      let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5
      #expect(abs(mean) < 1e-12)
      // (σ²/(σ² + ε)) with ε = 1e-5 is within 1e-4 of one.
      #expect(abs(variance - 1) < 1e-3)
    }
    let w = randn([5], seed: 2)
    let b = randn([5], seed: 3)
    let affine = layerNorm(Tensor(x), weight: Tensor(w), bias: Tensor(b)).value
    for r in 0..<6 {
      for j in 0..<5 { #expect(abs(affine.scalars[r * 5 + j] - (y.scalars[r * 5 + j] * w[j] + b[j])) < 1e-12) }
    }
    #expect(pullbackError([x, w, b]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) } < 1e-6)
    #expect(pullbackError([x, w]) { layerNorm($0[0], weight: $0[1]) } < 1e-6)
    #expect(pullbackError([x, b]) { layerNorm($0[0], bias: $0[1]) } < 1e-6)
    #expect(pullbackError([x]) { layerNorm($0[0]) } < 1e-6)
  }

  @Test("group norm (unbiased, per sample and group over all positions) and instance norm: values and pullbacks")
  func groupNormCheck() {
    let x = randn([2, 3, 4, 6], seed: 4)
    let y = groupNorm(Tensor(x), groups: 2, eps: 1e-8, unbiased: true).value
    // Sample 1, group 1 = channels 3..<6 over all 12 positions: 36 values.
    var values: [Double] = []
    var normalized: [Double] = []
    for i in 0..<3 {
      for j in 0..<4 {
        for c in 3..<6 {
          values.append(x[1, i, j, c])
          normalized.append(y[1, i, j, c])
        }
      }
    }
    let mean = values.reduce(0, +) / 36
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 35
    for (v, n) in zip(values, normalized) { #expect(abs((v - mean) / (variance + 1e-8).squareRoot() - n) < 1e-12) }
    #expect(pullbackError([x]) { groupNorm($0[0], groups: 2, eps: 1e-8, unbiased: true) } < 1e-6)
    #expect(pullbackError([x]) { groupNorm($0[0], groups: 3, eps: 1e-5, unbiased: false) } < 1e-6)
    let z = instanceNorm(Tensor(x)).value
    let column = (0..<12).map { x[0, $0 / 4, $0 % 4, 5] }
    let m = column.reduce(0, +) / 12
    let s = (column.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 12 + 1e-5).squareRoot()
    #expect(abs(z[0, 2, 1, 5] - (x[0, 2, 1, 5] - m) / s) < 1e-12)
    #expect(pullbackError([x]) { instanceNorm($0[0]) } < 1e-6)
  }

  @Test("mean along axes and permutation: values and pullbacks")
  func meanAndPermute() {
    let x = randn([2, 3, 4, 5], seed: 5)
    let m = Tensor(x).mean(alongAxes: [1, 3]).value
    #expect(m.shape == [2, 4])
    var expected = 0.0
    for i in 0..<3 { for k in 0..<5 { expected += x[1, i, 2, k] } }
    #expect(abs(m[1, 2] - expected / 15) < 1e-13)
    #expect(pullbackError([x]) { $0[0].mean(alongAxes: [2], keepingDimensions: true) } < 1e-6)
    let p = Tensor(x).permuted([2, 0, 3, 1]).value
    #expect(p.shape == [4, 2, 5, 3])
    #expect(p[3, 1, 4, 2] == x[1, 2, 3, 4])
    #expect(pullbackError([x]) { $0[0].permuted([2, 0, 3, 1]) } < 1e-6)
    #expect(pullbackError([x]) { $0[0].permuted([0, 1, 3, 2]) } < 1e-6)
  }

  @Test(
    "axial means: every axis' mean over the other axes in one op equals mean(alongAxes:); pullback",
    arguments: [1, 2, 3])
  func axialMeansCheck(d: Int) {
    let grid = [3, 4, 2].prefix(d)
    let x = randn([2] + grid + [5], seed: 30 + UInt64(d))
    let m = axialMeans(Tensor(x), dimensions: d).value
    #expect(m.shape == [2, grid.reduce(0, +), 5])
    var start = 0
    for a in 0..<d {
      let others = (1...d).filter { $0 != a + 1 }
      let direct = others.isEmpty ? x : Tensor(x).mean(alongAxes: others).value
      for b in 0..<2 {
        for i in 0..<grid[a] {
          for j in 0..<5 { #expect(abs(m[b, start + i, j] - direct[b, i, j]) < 1e-13) }
        }
      }
      start += grid[a]
    }
    #expect(pullbackError([x]) { axialMeans($0[0], dimensions: d) } < 1e-6)
  }

  @Test("layout-swapping linear equals linear and a permutation, both ways; pullbacks with and without bias")
  func layoutSwappingLinearCheck() {
    let w = randn([4, 3], seed: 41)
    let bias = randn([4], seed: 42)
    let last = randn([2, 5, 3], seed: 43)  // [B, N, Cin]
    let first = randn([2, 3, 5], seed: 44)  // [B, Cin, N]
    let a = layoutSwappingLinear(Tensor(last), weight: Tensor(w), bias: Tensor(bias), .toChannelFirst).value
    let aRef = linear(Tensor(last), weight: Tensor(w), bias: Tensor(bias)).permuted([0, 2, 1]).value
    #expect(a.shape == [2, 4, 5] && a.maxAbsDifference(aRef) < 1e-13)
    let c = layoutSwappingLinear(Tensor(first), weight: Tensor(w), bias: Tensor(bias), .toChannelLast).value
    let cRef = linear(Tensor(first).permuted([0, 2, 1]), weight: Tensor(w), bias: Tensor(bias)).value
    #expect(c.shape == [2, 5, 4] && c.maxAbsDifference(cRef) < 1e-13)
    for (x, swap) in [(last, ChannelLayoutSwap.toChannelFirst), (first, .toChannelLast)] {
      #expect(pullbackError([x, w, bias]) { layoutSwappingLinear($0[0], weight: $0[1], bias: $0[2], swap) } < 1e-6)
      #expect(pullbackError([x, w]) { layoutSwappingLinear($0[0], weight: $0[1], swap) } < 1e-6)
    }
  }

  @Test("narrowed: the slice of one axis; pullback zero outside it")
  func narrowedCheck() {
    let x = randn([2, 7, 3], seed: 40)
    let y = Tensor(x).narrowed(axis: 1, 2..<5).value
    #expect(y.shape == [2, 3, 3])
    #expect(y[1, 2, 1] == x[1, 4, 1])
    #expect(pullbackError([x]) { $0[0].narrowed(axis: 1, 2..<5) } < 1e-6)
    #expect(pullbackError([x]) { $0[0].narrowed(axis: 2, 0..<1) } < 1e-6)
  }

  @Test(
    "batched matmul with every transpose combination",
    arguments: [(false, false), (true, false), (false, true), (true, true)])
  func batched(transposeA: Bool, transposeB: Bool) throws {
    let a = randn(transposeA ? [3, 4, 2] : [3, 2, 4], seed: 6)
    let b = randn(transposeB ? [3, 5, 4] : [3, 4, 5], seed: 7)
    let c = batchedMatmul(Tensor(a), Tensor(b), transposeA: transposeA, transposeB: transposeB).value
    #expect(c.shape == [3, 2, 5])
    var s = 0.0
    for k in 0..<4 { s += (transposeA ? a[2, k, 1] : a[2, 1, k]) * (transposeB ? b[2, 3, k] : b[2, k, 3]) }
    #expect(abs(c[2, 1, 3] - s) < 1e-13)
    #expect(
      pullbackError([a, b]) { batchedMatmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) } < 1e-6)
  }

  @Test("kernel applied along each axis of a 3D field equals the direct sum", arguments: [1, 2, 3])
  func alongAxis(axis: Int) {
    let v = randn([2, 3, 4, 5], seed: 8)
    let n = v.shape[axis]
    let k = randn([2, n, n], seed: 9)
    let y = applyAlongAxis(Tensor(k), Tensor(v), axis: axis).value
    var index = [1, 2, 3, 4]
    index[axis] = n - 1
    var s = 0.0
    for j in 0..<n {
      var src = index
      src[axis] = j
      s += k[1, n - 1, j] * v[src[0], src[1], src[2], src[3]]
    }
    #expect(abs(y[index[0], index[1], index[2], index[3]] - s) < 1e-13)
    #expect(pullbackError([k, v]) { applyAlongAxis($0[0], $0[1], axis: axis) } < 1e-6)
  }

  @Test("parallel axial products equal the concatenated single-axis products; pullback", arguments: [1, 2, 3])
  func parallelProducts(d: Int) {
    let grid = Array([3, 4, 2].prefix(d))
    let v = randn([2, 3] + grid, seed: 50)
    let kernels = (0..<d).map { randn([2, grid[$0], grid[$0]], seed: 51 + UInt64($0)) }
    let y = parallelAxialProducts(kernels.map { Tensor($0) }, Tensor(v), firstAxis: 2).value
    let reference = concatenate(
      (0..<d).map { applyAlongAxis(Tensor(kernels[$0]), Tensor(v), axis: 2 + $0) }, axis: 1
    ).value
    #expect(y.shape == [2, 3 * d] + grid && y.maxAbsDifference(reference) < 1e-13)
    #expect(pullbackError(kernels + [v]) { t in parallelAxialProducts(Array(t.prefix(d)), t[d], firstAxis: 2) } < 1e-6)
  }

  @Test("rotary embedding: rotate-half values, relative-position property, pullback")
  func rotary() {
    let positions = [0.0, 0.3, 1.1]
    let angles: NDArray<Double> = rotaryAngles(positions: positions, dimension: 6)
    // θ[i, j] = pos · 64 · 10000^(−2j/6)
    #expect(abs(angles[2, 1] - 1.1 * 64 * pow(10000, -2.0 / 6)) < 1e-12)
    let x = randn([2, 3, 2, 6], seed: 10)
    let y = rotaryEmbedding(Tensor(x), angles: angles).value
    let (c, s) = (cos(angles[1, 2]), sin(angles[1, 2]))
    #expect(abs(y[1, 1, 0, 2] - (x[1, 1, 0, 2] * c - x[1, 1, 0, 5] * s)) < 1e-13)
    #expect(abs(y[1, 1, 0, 5] - (x[1, 1, 0, 5] * c + x[1, 1, 0, 2] * s)) < 1e-13)
    // ⟨R(θ_a)q, R(θ_b)k⟩ depends only on the positions' difference: equal vectors at every
    // position give the same product for positions (0.3, 1.1) and (0, 0.8).
    let q = randn([6], seed: 11)
    let k = randn([6], seed: 12)
    func product(_ pa: Double, _ pb: Double) -> Double {
      let a: NDArray<Double> = rotaryAngles(positions: [pa, pb], dimension: 6)
      var stacked = NDArray<Double>.zeros([1, 2, 1, 6])
      stacked.withUnsafeMutableBufferPointer { p in
        for j in 0..<6 {
          p[j] = q[j]
          p[6 + j] = k[j]
        }
      }
      let r = rotaryEmbedding(Tensor(stacked), angles: a).value.scalars
      return (0..<6).reduce(0) { $0 + r[$1] * r[6 + $1] }
    }
    #expect(abs(product(0.3, 1.1) - product(0, 0.8)) < 1e-11)
    #expect(pullbackError([x]) { rotaryEmbedding($0[0], angles: angles) } < 1e-6)
  }

  @Test("gated GELU: gelu(first half) ⊙ second half, pullback")
  func gated() throws {
    let x = randn([3, 2, 8], seed: 13)
    let y = gatedGELU(Tensor(x)).value
    #expect(y.shape == [3, 2, 4])
    let a = x[2, 1, 1]
    #expect(abs(y[2, 1, 1] - a * 0.5 * (1 + erf(a / 2.0.squareRoot())) * x[2, 1, 5]) < 1e-14)
    #expect(pullbackError([x]) { gatedGELU($0[0]) } < 1e-6)
    let xf = NDArray<Float>.randomNormal([4, 6], seed: 14)
    let yf = gatedGELU(Tensor(xf)).value
    let yd = gatedGELU(Tensor(xf.converted(to: Double.self))).value
    #expect(yf.converted(to: Double.self).maxAbsDifference(yd) < 1e-5)
  }
}
