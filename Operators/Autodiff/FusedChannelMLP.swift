// A two-layer channel MLP (1×1 → GELU → 1×1) evaluated in cache-sized tiles of grid points, so that
// its hidden activations never go to memory: neuraloperator's `ChannelMLP`
// (neuralop/layers/channel_mlp.py), which the FNO uses for lifting (in → 2·width → width), inside
// every block (width → width/2 → width) and for projection (width → 2·width → out).
//
// Unfused, the hidden [B, H, n…] array is written by the first gemm, read and written by GELU, read
// by the second gemm, and the backward pass makes the same trips with the cotangents: at FNO sizes
// those passes, not the products, are the cost. Here each tile of T points keeps its H × T hidden
// block in cache from the first product to the second, forward and back (the backward pass
// recomputes the hidden block from x, as activation checkpointing does: one small gemm instead
// of keeping two [B, H, n…] arrays alive between the passes).
// Tiling of matrix products for locality: K. Goto, R. van de Geijn, "Anatomy of high-performance
// matrix multiplication", ACM TOMS 34(3), 2008.
import Numerics

/// `W₂ · gelu(W₁ · x + b₁) + b₂` at every grid point, fused over tiles of points.
///
/// ```
/// x: [B, Cin, n₁, …]   W₁: [H, Cin]  b₁: [H]   W₂: [Cout, H]  b₂: [Cout]   →   y: [B, Cout, n₁, …]
/// per tile t of points:  Z = W₁ x_t + b₁,  G = gelu(Z),  y_t = W₂ G + b₂
/// pullback (Z, G recomputed per tile):
///   ∂G = W₂ᵀ ḡ_t,  ∂Z = ∂G ⊙ gelu′(Z),  ∂x_t = W₁ᵀ ∂Z
///   ∂W₂ = Σ ḡ_t Gᵀ,  ∂b₂ = Σ ḡ_t,  ∂W₁ = Σ ∂Z x_tᵀ,  ∂b₁ = Σ ∂Z       (sums over samples and tiles)
/// ```
///
/// Equals `channelMix(gelu(channelMix(x, W₁, b₁)), W₂, b₂)` up to rounding (the products are summed
/// in another order). The samples are split between the BLAS threads (one worker per core, each
/// with its own tile buffers and weight-gradient partials, added in worker order), so results are
/// reproducible for a thread count.
@specialized(where T == Float)
@specialized(where T == Double)
public func fusedChannelMLP<T: RealScalar>(
  _ x: Tensor<T>, weight1: Tensor<T>, bias1: Tensor<T>?, weight2: Tensor<T>, bias2: Tensor<T>?,
  tile: Int = 256
) -> Tensor<T> {
  precondition(weight1.rank == 2 && weight2.rank == 2, "fusedChannelMLP: weights must be [out, in]")
  let (hidden, cin, cout) = (weight1.shape[0], weight1.shape[1], weight2.shape[0])
  precondition(weight2.shape[1] == hidden, "fusedChannelMLP: W₂ \(weight2.shape) after W₁ \(weight1.shape)")
  precondition(x.rank >= 2 && x.shape[1] == cin, "fusedChannelMLP: input \(x.shape) needs \(cin) channels on axis 1")
  if let bias1 { precondition(bias1.shape == [hidden], "fusedChannelMLP: b₁ must be [\(hidden)]") }
  if let bias2 { precondition(bias2.shape == [cout], "fusedChannelMLP: b₂ must be [\(cout)]") }
  let batch = x.shape[0]
  let points = x.shape.dropFirst(2).reduce(1, *)
  let tile = Swift.max(1, Swift.min(tile, points))
  var outShape = x.shape
  outShape[1] = cout
  let (vx, w1, w2) = (x.value, weight1.value, weight2.value)
  let (b1, b2) = (bias1?.value, bias2?.value)
  // Every tile of y is written (bias fill and β = 1, or β = 0), so zeros are needed only for an empty product.
  var y: NDArray<T> = hidden > 0 && cin > 0 ? uninitializedArray(outShape) : zeroArray(outShape)
  if hidden == 0 || cin == 0, let b2 {
    y.withUnsafeMutableBufferPointer { yp in
      b2.withUnsafeBufferPointer { bp in
        for s in 0..<batch {
          for o in 0..<cout { (yp.baseAddress! + (s * cout + o) * points).update(repeating: bp[o], count: points) }
        }
      }
    }
  }
  let workers = batchWorkers(batch)
  if batch > 0, points > 0, hidden > 0, cin > 0, cout > 0 {
    let p = MLPPointers(x: vx, w1: w1, b1: b1, w2: w2, b2: b2)
    y.withUnsafeMutableBufferPointer { yp in
      let ys = SharedPointer(base: yp.baseAddress!)
      tileParallel(batch, workers: workers) { _, samples in
        let z = UnsafeMutablePointer<T>.allocate(capacity: hidden * tile)
        defer { z.deallocate() }
        for s in samples {
          for p0 in stride(from: 0, to: points, by: tile) {
            let t = Swift.min(tile, points - p0)
            p.hiddenTile(sample: s, from: p0, count: t, points: points, into: z, ldz: tile, cin: cin, hidden: hidden)
            geluInPlace(z, rows: hidden, columns: t, ld: tile)
            let out = ys.base + s * cout * points + p0
            if let b2 = p.b2 {
              for o in 0..<cout { (out + o * points).update(repeating: b2.base[o], count: t) }
            }
            BLAS.gemm(
              .none, .none, m: cout, n: t, k: hidden, alpha: 1, a: p.w2.base, lda: hidden, b: z, ldb: tile,
              beta: p.b2 == nil ? 0 : 1, c: out, ldc: points)
          }
        }
      }
    }
  }
  let inputs = [x, weight1] + (bias1.map { [$0] } ?? []) + [weight2] + (bias2.map { [$0] } ?? [])
  let hasB1 = bias1 != nil
  return Tensor.record(y, inputs) { g, need in
    let needX = need[0]
    let needW1 = need[1]
    let needB1 = hasB1 && need[2]
    let iW2 = hasB1 ? 3 : 2
    let needW2 = need[iW2]
    let needB2 = need.count > iW2 + 1 && need[iW2 + 1]
    var dx: NDArray<T>? = needX ? (hidden > 0 && cout > 0 ? uninitializedArray(vx.shape) : zeroArray(vx.shape)) : nil
    // Per-worker partials: ∂W₁ [H, Cin], ∂W₂ [Cout, H], ∂b₁ [H] (in Double).
    var partials: NDArray<T> = zeroArray([workers, hidden * cin + cout * hidden])
    var bias1Sums = [Double](repeating: 0, count: workers * hidden + 1)
    if batch > 0, points > 0, hidden > 0, cin > 0, cout > 0 {
      let p = MLPPointers(x: vx, w1: w1, b1: b1, w2: w2, b2: b2)
      g.withUnsafeBufferPointer { gp in
        partials.withUnsafeMutableBufferPointer { pp in
          bias1Sums.withUnsafeMutableBufferPointer { sp in
            withOptionalMutable(&dx) { dxs in
              let (gs, ps, ss) = (
                SharedPointer(base: UnsafeMutablePointer(mutating: gp.baseAddress!)),
                SharedPointer(base: pp.baseAddress!),
                SharedPointer(base: sp.baseAddress!)
              )
              tileParallel(batch, workers: workers) { k, samples in
                let z = UnsafeMutablePointer<T>.allocate(capacity: 3 * hidden * tile)
                defer { z.deallocate() }
                let (act, dz) = (z + hidden * tile, z + 2 * hidden * tile)
                let dW1 = ps.base + k * (hidden * cin + cout * hidden)
                let dW2 = dW1 + hidden * cin
                for s in samples {
                  for p0 in stride(from: 0, to: points, by: tile) {
                    let t = Swift.min(tile, points - p0)
                    let gt = gs.base + s * cout * points + p0
                    p.hiddenTile(
                      sample: s, from: p0, count: t, points: points, into: z, ldz: tile, cin: cin, hidden: hidden)
                    // act = gelu(Z) (for ∂W₂), dz = W₂ᵀ ḡ, then ∂Z = dz ⊙ gelu′(Z).
                    geluAndSlope(z, into: act, rows: hidden, columns: t, ld: tile, slopeOnly: !needW2)
                    if needW2 {
                      BLAS.gemm(
                        .none, .transpose, m: cout, n: hidden, k: t, alpha: 1, a: gt, lda: points, b: act, ldb: tile,
                        beta: 1, c: dW2, ldc: hidden)
                    }
                    BLAS.gemm(
                      .transpose, .none, m: hidden, n: t, k: cout, alpha: 1, a: p.w2.base, lda: hidden, b: gt,
                      ldb: points, beta: 0, c: dz, ldc: tile)
                    // z now holds gelu′(Z) (geluAndSlope wrote it there).
                    for h in 0..<hidden {
                      let (d, s) = (dz + h * tile, z + h * tile)
                      for j in 0..<t { d[j] *= s[j] }
                      if needB1 { ss.base[k * hidden + h] += contiguousSum(d, t) }
                    }
                    if needW1 {
                      BLAS.gemm(
                        .none, .transpose, m: hidden, n: cin, k: t, alpha: 1, a: dz, lda: tile,
                        b: p.x.base + s * cin * points + p0, ldb: points, beta: 1, c: dW1, ldc: cin)
                    }
                    if let dxs {
                      BLAS.gemm(
                        .transpose, .none, m: cin, n: t, k: hidden, alpha: 1, a: p.w1.base, lda: cin, b: dz, ldb: tile,
                        beta: 0, c: dxs.base + s * cin * points + p0, ldc: points)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    // Worker partials added in worker order.
    let block = hidden * cin + cout * hidden
    var result: [NDArray<T>?] = [needX ? (dx ?? zeroArray(vx.shape)) : nil]
    result.append(needW1 ? workerSum(partials, workers: workers, stride: block, offset: 0, shape: [hidden, cin]) : nil)
    if hasB1 {
      result.append(
        needB1 ? workerSum(bias1Sums, workers: workers, stride: hidden, offset: 0, shape: [hidden]) as NDArray<T> : nil)
    }
    result.append(
      needW2 ? workerSum(partials, workers: workers, stride: block, offset: hidden * cin, shape: [cout, hidden]) : nil)
    if need.count > iW2 + 1 {
      result.append(
        needB2
          ? (batch > 0 && points > 0
            ? g.withUnsafeBufferPointer {
              channelBiasGradient($0.baseAddress!, batch: batch, channels: cout, points: points)
            }
            : zeroArray([cout])) : nil)
    }
    return result
  }
}

/// Raw pointers to the operands of ``fusedChannelMLP(_:weight1:bias1:weight2:bias2:tile:)``, valid
/// while the arrays they come from are alive (the op holds them).
private struct MLPPointers<T: RealScalar>: @unchecked Sendable {
  let x: SharedPointer<T>
  let w1: SharedPointer<T>
  let b1: SharedPointer<T>?
  let w2: SharedPointer<T>
  let b2: SharedPointer<T>?

  init(x: NDArray<T>, w1: NDArray<T>, b1: NDArray<T>?, w2: NDArray<T>, b2: NDArray<T>?) {
    func base(_ a: NDArray<T>) -> SharedPointer<T> {
      a.withUnsafeBufferPointer { SharedPointer(base: UnsafeMutablePointer(mutating: $0.baseAddress!)) }
    }
    self.x = base(x)
    self.w1 = base(w1)
    self.b1 = b1.map(base)
    self.w2 = base(w2)
    self.b2 = b2.map(base)
  }

  /// Z = W₁ · x[sample, :, from ..< from + count] + b₁ into z [hidden, ldz].
  @inline(__always)
  func hiddenTile(
    sample s: Int, from p0: Int, count t: Int, points: Int, into z: UnsafeMutablePointer<T>, ldz: Int, cin: Int,
    hidden: Int
  ) {
    if let b1 {
      for h in 0..<hidden { (z + h * ldz).update(repeating: b1.base[h], count: t) }
    }
    BLAS.gemm(
      .none, .none, m: hidden, n: t, k: cin, alpha: 1, a: w1.base, lda: cin, b: x.base + s * cin * points + p0,
      ldb: points, beta: b1 == nil ? 0 : 1, c: z, ldc: ldz)
  }
}

/// z ← gelu(z) on `rows` rows of `columns` (row stride `ld`).
@inline(__always)
func geluInPlace<T: RealScalar>(_ z: UnsafeMutablePointer<T>, rows: Int, columns: Int, ld: Int) {
  for r in 0..<rows {
    let row = z + r * ld
    if T.self == Float.self {
      let f = floats(SharedPointer(base: row))
      for j in 0..<columns { f[j] = f[j] * fastNormalCDF(f[j]) }
    } else {
      for j in 0..<columns {
        let v = row[j]
        row[j] = v * (T(0.5) * (1 + erfT(v * T(0.70710678118654752440084436210484903928))))
      }
    }
  }
}

/// From Z in `z`: `act` ← gelu(Z) (unless `slopeOnly`) and `z` ← gelu′(Z) = Φ(Z) + Z·φ(Z).
@inline(__always)
func geluAndSlope<T: RealScalar>(
  _ z: UnsafeMutablePointer<T>, into act: UnsafeMutablePointer<T>, rows: Int, columns: Int, ld: Int, slopeOnly: Bool
) {
  for r in 0..<rows {
    let (row, out) = (z + r * ld, act + r * ld)
    if T.self == Float.self {
      let (f, a) = (floats(SharedPointer(base: row)), floats(SharedPointer(base: out)))
      let k = Float(0.398_942_280_401_432_677_94)
      for j in 0..<columns {
        let v = f[j]
        let (cdf, e) = fastNormalCDFAndGaussian(v)
        if !slopeOnly { a[j] = v * cdf }
        f[j] = mulAdd(v * k, e, cdf)
      }
    } else {
      for j in 0..<columns {
        let v = row[j]
        let c = T(0.5) * (1 + erfT(v * T(0.70710678118654752440084436210484903928)))
        if !slopeOnly { out[j] = v * c }
        row[j] = c + v * T(0.39894228040143267793994605993438186848) * expT(T(-0.5) * v * v)
      }
    }
  }
}
