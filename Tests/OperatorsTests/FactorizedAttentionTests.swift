import Foundation
import Numerics
import Operators
import Testing

/// Coordinates linspace(0, 2π, n) of each axis of `grid`.
func circleCoordinates(_ grid: [Int]) -> [[Double]] { grid.map { axisCoordinates(count: $0, length: 2 * .pi) } }

/// Row-major linear index of `index` in `shape`.
func flatIndex(_ index: [Int], _ shape: [Int]) -> Int { zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 } }

/// Multi-index of linear index `i` in `shape`.
func multiIndex(_ i: Int, _ shape: [Int]) -> [Int] {
  var rest = i
  var out = [Int](repeating: 0, count: shape.count)
  for a in stride(from: shape.count - 1, through: 0, by: -1) {
    out[a] = rest % shape[a]
    rest /= shape[a]
  }
  return out
}

/// The block's output computed the explicit way: the full N × N kernel of each head assembled from
/// the axial kernels (their Kronecker product when chained; one axis at a time when parallel),
/// applied to the values by a dense sum over all grid points, then the output normalization by its
/// formula and the output MLP.
func explicitBlock(_ block: FactorizedAttention<Double>, _ u: NDArray<Double>) -> NDArray<Double> {
  let d = block.dimensions
  let grid = Array(u.shape[1...d])
  let (batch, heads, c) = (u.shape[0], block.heads, block.headWidth)
  let n = grid.reduce(1, *)
  let kernels = block.axialKernels(Tensor(u), coordinates: circleCoordinates(grid)).map(\.value)
  let v = block.toV(block.inNorm(Tensor(u))).value.scalars  // [B, grid, H·c]
  let branches = block.combination == .chained ? 1 : d
  let width = c * branches
  // z[b, p, h·width + branch·c + j]
  var z = [Double](repeating: 0, count: batch * n * heads * width)
  for b in 0..<batch {
    for h in 0..<heads {
      let g = b * heads + h
      for br in 0..<branches {
        for p in 0..<n {
          let ip = multiIndex(p, grid)
          for q in 0..<n {
            let iq = multiIndex(q, grid)
            // Full kernel entry K[p, q].
            var k = 1.0
            if block.combination == .chained {
              for a in 0..<d { k *= kernels[a][g, ip[a], iq[a]] }
            } else {
              for a in 0..<d where a != br && ip[a] != iq[a] { k = 0 }
              if k != 0 { k = kernels[br][g, ip[br], iq[br]] }
            }
            if k == 0 { continue }
            for j in 0..<c {
              z[(b * n + p) * heads * width + h * width + br * c + j] += k * v[(b * n + q) * heads * c + h * c + j]
            }
          }
        }
      }
    }
  }
  // Normalization: per (sample, head) over positions and channels, unbiased, ε = 1e-8 (chained);
  // per (sample, channel) over positions, biased, ε = 1e-5 (parallel).
  let sets: [[Int]] =
    block.combination == .chained
    ? (0..<batch).flatMap { b in
      (0..<heads).map { h in
        (0..<n).flatMap { p in (0..<width).map { (b * n + p) * heads * width + h * width + $0 } }
      }
    }
    : (0..<batch).flatMap { b in (0..<heads * width).map { ch in (0..<n).map { (b * n + $0) * heads * width + ch } } }
  let (eps, correction) = block.combination == .chained ? (1e-8, 1.0) : (1e-5, 0.0)
  var normalized = z
  for set in sets {
    let mean = set.reduce(0) { $0 + z[$1] } / Double(set.count)
    let variance = set.reduce(0) { $0 + (z[$1] - mean) * (z[$1] - mean) } / (Double(set.count) - correction)
    for i in set { normalized[i] = (z[i] - mean) / (variance + eps).squareRoot() }
  }
  let zt = try! NDArray<Double>(shape: [batch] + grid + [heads * width], data: normalized)
  return block.outSecond(gelu(block.outFirst(Tensor(zt)))).value
}

@Suite("Factorized attention: explicit reference computations, axial pooling, gradients (Float64)")
struct FactorizedAttentionTests {
  static func block(_ d: Int, _ combination: AxialCombination, multiplier: Int = 2) -> FactorizedAttention<Double> {
    var rng = PhiloxRandom(seed: 5)
    var b = FactorizedAttention<Double>(
      dimensions: d, channels: 6, heads: 2, headWidth: 3, kernelMultiplier: multiplier, combination: combination,
      rng: &rng)
    // The reference's 0.02-gain q/k initialization makes kernels ~1e-5; larger weights make the
    // comparison sensitive to every term.
    for a in 0..<d {
      b.kernels[a].toQ.weight = Tensor(randn(b.kernels[a].toQ.weight.shape, seed: UInt64(10 + a)))
      b.kernels[a].toK.weight = Tensor(randn(b.kernels[a].toK.weight.shape, seed: UInt64(20 + a)))
    }
    return b
  }

  @Test(
    "block output equals the explicit N×N kernel (Kronecker product of the axial kernels / one axis per branch)",
    arguments: [(2, AxialCombination.chained), (3, .chained), (2, .parallel), (3, .parallel), (1, .chained)])
  func explicitReference(d: Int, combination: AxialCombination) {
    let grid = [4, 3, 2].prefix(d)
    let blk = Self.block(d, combination)
    let u = randn([2] + grid + [6], seed: 3)
    let y = blk(Tensor(u), coordinates: circleCoordinates(Array(grid))).value
    let reference = explicitBlock(blk, u)
    #expect(y.shape == u.shape)
    let scale = reference.scalars.map(abs).max()!
    #expect(y.maxAbsDifference(reference) < 1e-12 * scale, "\(y.maxAbsDifference(reference)) vs scale \(scale)")
  }

  @Test("axial kernel: q kᵀ of the rotary-embedded projections, no softmax; scaling 1 up to multiplier 4, 1/√w above")
  func kernelFormula() {
    for multiplier in [2, 6] {
      let blk = Self.block(2, .chained, multiplier: multiplier)
      let kernel = blk.kernels[1]
      let r = randn([2, 5, 6], seed: 4)
      let positions = axisCoordinates(count: 5, length: 2 * .pi)
      let angles: NDArray<Double> = rotaryAngles(positions: positions, dimension: kernel.width)
      let k = kernel(Tensor(r), angles: angles).value
      #expect(k.shape == [4, 5, 5])
      let w = kernel.width
      let (wq, wk) = (kernel.toQ.weight.value, kernel.toK.weight.value)
      func embedded(_ weight: NDArray<Double>, b: Int, i: Int, h: Int) -> [Double] {
        let x = (0..<w).map { j in (0..<6).reduce(0.0) { $0 + r[b, i, $1] * weight[h * w + j, $1] } }
        return (0..<w).map { j in
          let jj = j % (w / 2)
          let theta = positions[i] * 64 * pow(10000, -Double(2 * jj) / Double(w))
          return j < w / 2 ? x[j] * cos(theta) - x[j + w / 2] * sin(theta) : x[j] * cos(theta) + x[jj] * sin(theta)
        }
      }
      let scaling = multiplier > 4 ? 1 / Double(w).squareRoot() : 1
      var worst = 0.0
      for b in 0..<2 {
        for h in 0..<2 {
          for i in 0..<5 {
            for j in 0..<5 {
              let q = embedded(wq, b: b, i: i, h: h)
              let kk = embedded(wk, b: b, i: j, h: h)
              let expected = scaling * zip(q, kk).reduce(0) { $0 + $1.0 * $1.1 }
              worst = max(worst, abs(k[b * 2 + h, i, j] - expected))
            }
          }
        }
      }
      #expect(worst < 1e-12)
    }
  }

  @Test(
    "kernels from pooled means equal the reference order (W_in and the reducer's input map on every point, then the mean)",
    arguments: [1, 2, 3])
  func poolingOrder(d: Int) {
    let blk = Self.block(d, .chained)
    let grid = Array([4, 3, 2].prefix(d))
    let u = Tensor(randn([2] + grid + [6], seed: 8))
    let coordinates = circleCoordinates(grid)
    let pooled = blk.axialKernels(u, coordinates: coordinates).map(\.value)
    let s = blk.toIn(blk.inNorm(u))
    for a in 0..<d {
      let r = blk.reducers[a]
      let others = (1...d).filter { $0 != a + 1 }
      var h = r.toIn(s)
      if !others.isEmpty { h = h.mean(alongAxes: others) }
      let summary = r.project(gatedGELU(r.expand(r.norm(h))))
      let angles: NDArray<Double> = rotaryAngles(positions: coordinates[a], dimension: blk.kernels[a].width)
      let reference = blk.kernels[a](summary, angles: angles).value
      let scale = reference.scalars.map(abs).max()!
      #expect(pooled[a].maxAbsDifference(reference) < 1e-12 * scale)
      // The reducer called on the field pools itself the same way.
      #expect(
        r(s, axis: a, dimensions: d).value.maxAbsDifference(summary.value) < 1e-12 * summary.value.scalars.map(abs)
          .max()!)
    }
  }

  @Test("a scaled block (IFactFormer-m's 1/L on W₂) equals the scaled update; its gradients match finite differences")
  func scaledUpdate() {
    let blk = Self.block(2, .parallel)
    let u = randn([2, 4, 3, 6], seed: 9)
    let coordinates = circleCoordinates([4, 3])
    let plain = blk(Tensor(u), coordinates: coordinates).value
    let scaled = blk(Tensor(u), coordinates: coordinates, scale: 0.25).value
    let scale = plain.scalars.map(abs).max()!
    #expect(zip(plain.scalars, scaled.scalars).allSatisfy { abs(0.25 * $0 - $1) < 1e-13 * scale })
    let w = blk.outSecond.weight.value
    #expect(
      pullbackError([u, w]) { t in
        var b = blk
        b.outSecond.weight = t[1]
        return b(t[0], coordinates: coordinates, scale: 0.25)
      } < 1e-6)
  }

  @Test("each axis' kernel pools over the other axes: permuting the grid along y leaves K_x unchanged, changes K_y")
  func pooling() {
    let blk = Self.block(2, .chained)
    let u = randn([1, 4, 3, 6], seed: 6)
    let coordinates = circleCoordinates([4, 3])
    let original = u.scalars
    var swapped = original
    for i in 0..<4 {
      for ch in 0..<6 {
        swapped[(i * 3 + 0) * 6 + ch] = original[(i * 3 + 2) * 6 + ch]
        swapped[(i * 3 + 2) * 6 + ch] = original[(i * 3 + 0) * 6 + ch]
      }
    }
    let k1 = blk.axialKernels(Tensor(u), coordinates: coordinates).map(\.value)
    let k2 = blk.axialKernels(Tensor(try! NDArray(shape: [1, 4, 3, 6], data: swapped)), coordinates: coordinates)
      .map(\.value)
    #expect(k1[0].maxAbsDifference(k2[0]) < 1e-12)
    #expect(k1[1].maxAbsDifference(k2[1]) > 1e-3)
  }

  @Test(
    "block pullback (input, value, query and reducer weights) against finite differences",
    arguments: [
      AxialCombination.chained, .parallel,
    ])
  func gradient(combination: AxialCombination) {
    let blk = Self.block(2, combination)
    let u = randn([2, 3, 4, 6], seed: 7)
    let coordinates = circleCoordinates([3, 4])
    let inputs = [u, blk.toV.weight.value, blk.kernels[0].toQ.weight.value, blk.reducers[1].expand.weight.value]
    let error = pullbackError(inputs, samples: 12) { t in
      var b = blk
      b.toV.weight = t[1]
      b.kernels[0].toQ.weight = t[2]
      b.reducers[1].expand.weight = t[3]
      return b(t[0], coordinates: coordinates)
    }
    #expect(error < 1e-5)
  }
}
