// Everything of an FNO block after its spectral convolution, in one pass over cache-sized tiles of
// grid points: the linear skip, the sum and activation, the channel MLP, the gated skip and the
// second activation (neuralop/layers/fno_block.py, `FNOBlocks.forward_with_postactivation`).
//
// Unfused these are eight array passes forward (skip gemm, sum, GELU, two MLP layers with GELU,
// gate, sum, GELU) and more back, over [B, C, n…] arrays that do not fit in cache; at FNO sizes
// the passes, not the products, are the cost. Per tile of T points everything stays in cache: the
// forward pass reads x and the spectral output s and writes y; the pullback recomputes the tile's
// intermediates (three small gemms, as activation checkpointing does) and writes ∂x and ∂s.
// Tiling for locality: K. Goto, R. van de Geijn, "Anatomy of high-performance matrix
// multiplication", ACM TOMS 34(3), 2008; GELU: D. Hendrycks, K. Gimpel, arXiv:1606.08415.
import Numerics

/// The tail of an FNO block, fused over tiles of points.
///
/// ```
/// x, s: [B, C, n₁, …]   W_s: [C, C]   W₁: [H, C]  b₁: [H]   W₂: [C, H]  b₂: [C]   g: C values
/// A = s + W_s x,   h = act(A)
/// M = W₂ gelu(W₁ h + b₁) + b₂
/// y = act(M + g ⊙ x)                        act = GELU, or the identity when `activation` is false
/// ```
///
/// Equals `addGELU(channelMLP(addGELU(s, W_s x)), x, gate: g)` up to rounding. The samples are
/// split between the BLAS threads (one worker per core, each with its own tile buffers and
/// gradient partials, added in worker order): reproducible for a thread count.
@specialized(where T == Float)
@specialized(where T == Double)
public func fusedFNOBlockTail<T: RealScalar>(
  _ x: Tensor<T>, spectral s: Tensor<T>, skipWeight: Tensor<T>, weight1: Tensor<T>, bias1: Tensor<T>,
  weight2: Tensor<T>, bias2: Tensor<T>, gate: Tensor<T>, activation: Bool, tile: Int = 256
) -> Tensor<T> {
  let c = x.rank >= 2 ? x.shape[1] : 0
  let hidden = weight1.shape[0]
  precondition(x.rank >= 2 && s.shape == x.shape, "fusedFNOBlockTail: x \(x.shape) and s \(s.shape) must agree")
  precondition(skipWeight.shape == [c, c], "fusedFNOBlockTail: skip weight \(skipWeight.shape) for \(c) channels")
  precondition(weight1.shape == [hidden, c] && bias1.shape == [hidden], "fusedFNOBlockTail: W₁/b₁ shapes")
  precondition(weight2.shape == [c, hidden] && bias2.shape == [c], "fusedFNOBlockTail: W₂/b₂ shapes")
  precondition(gate.count == c, "fusedFNOBlockTail: gate of shape \(gate.shape) for \(c) channels")
  let batch = x.shape[0]
  let points = x.shape.dropFirst(2).reduce(1, *)
  let tile = Swift.max(1, Swift.min(tile, points))
  // The operands' arrays, kept by the pullback too (it reads them through raw pointers).
  let arrays = [x.value, s.value, skipWeight.value, weight1.value, bias1.value, weight2.value, bias2.value, gate.value]
  let vx = arrays[0]
  let p = BlockPointers(arrays)
  let workers = batchWorkers(batch)
  var y: NDArray<T> = uninitializedArray(x.shape)
  let empty = batch == 0 || points == 0 || c == 0 || hidden == 0
  if !empty {
    withExtendedLifetime(arrays) {
      y.withUnsafeMutableBufferPointer { yp in
        let ys = SharedPointer(base: yp.baseAddress!)
        tileParallel(batch, workers: workers) { _, samples in
          let buffer = UnsafeMutablePointer<T>.allocate(capacity: (c + hidden) * tile)
          defer { buffer.deallocate() }
          let (a, z) = (buffer, buffer + c * tile)
          for n in samples {
            for p0 in stride(from: 0, to: points, by: tile) {
              let t = Swift.min(tile, points - p0)
              let out = ys.base + n * c * points + p0
              p.preActivation(sample: n, from: p0, count: t, points: points, into: a, ld: tile, c: c)
              if activation { geluInPlace(a, rows: c, columns: t, ld: tile) }
              p.mlp(
                a, count: t, ld: tile, hiddenInto: z, into: out, ldOut: points, c: c, hidden: hidden, geluHidden: true)
              p.addGate(sample: n, from: p0, count: t, points: points, to: out, c: c)
              if activation { geluInPlace(out, rows: c, columns: t, ld: points) }
            }
          }
        }
      }
    }
  } else if batch * c * points > 0 {
    y = zeroArray(x.shape)
  }
  let inputs = [x, s, skipWeight, weight1, bias1, weight2, bias2, gate]
  let gateShape = gate.shape
  return Tensor.record(y, inputs) { gy, need in
    let p = BlockPointers(arrays)
    var dx: NDArray<T> = uninitializedArray(vx.shape)
    var ds: NDArray<T> = uninitializedArray(vx.shape)
    // Per-worker partials: W_s [C, C], W₁ [H, C], W₂ [C, H], then b₁ [H], b₂ [C], g [C] (in Double).
    let weightCount = c * c + 2 * hidden * c
    var partials: NDArray<T> = zeroArray([workers, weightCount])
    var sums = [Double](repeating: 0, count: workers * (hidden + 2 * c) + 1)
    if empty {
      dx = zeroArray(vx.shape)
      ds = zeroArray(vx.shape)
    } else {
      withExtendedLifetime(arrays) {
        gy.withUnsafeBufferPointer { gp in
          dx.withUnsafeMutableBufferPointer { dxp in
            ds.withUnsafeMutableBufferPointer { dsp in
              partials.withUnsafeMutableBufferPointer { pp in
                sums.withUnsafeMutableBufferPointer { sp in
                  let (gs, dxs, dss, ps, ss) = (
                    SharedPointer(base: UnsafeMutablePointer(mutating: gp.baseAddress!)),
                    SharedPointer(base: dxp.baseAddress!), SharedPointer(base: dsp.baseAddress!),
                    SharedPointer(base: pp.baseAddress!), SharedPointer(base: sp.baseAddress!)
                  )
                  tileParallel(batch, workers: workers) { k, samples in
                    let buffer = UnsafeMutablePointer<T>.allocate(capacity: (4 * c + 3 * hidden) * tile)
                    defer { buffer.deallocate() }
                    // a: A then act′(A); h: act(A); dh; m: M then ∂M; z: Z then gelu′(Z); gz: gelu(Z); dg: ∂G then ∂Z.
                    let (a, h, dh, m) = (buffer, buffer + c * tile, buffer + 2 * c * tile, buffer + 3 * c * tile)
                    let (z, gz, dg) = (
                      buffer + 4 * c * tile, buffer + (4 * c + hidden) * tile, buffer + (4 * c + 2 * hidden) * tile
                    )
                    let dWs = ps.base + k * weightCount
                    let (dW1, dW2) = (dWs + c * c, dWs + c * c + hidden * c)
                    let (db1, db2, dgate) = (
                      ss.base + k * (hidden + 2 * c), ss.base + k * (hidden + 2 * c) + hidden,
                      ss.base + k * (hidden + 2 * c) + hidden + c
                    )
                    for n in samples {
                      for p0 in stride(from: 0, to: points, by: tile) {
                        let t = Swift.min(tile, points - p0)
                        let offset = n * c * points + p0
                        let (xt, gt, dxt, dst) = (
                          p.x.base + offset, gs.base + offset, dxs.base + offset, dss.base + offset
                        )
                        // Recompute A → (h, act′(A)), Z → (gelu(Z), gelu′(Z)), M.
                        p.preActivation(sample: n, from: p0, count: t, points: points, into: a, ld: tile, c: c)
                        if activation {
                          geluAndSlope(a, into: h, rows: c, columns: t, ld: tile, slopeOnly: false)
                        } else {
                          for r in 0..<c { (h + r * tile).update(from: a + r * tile, count: t) }
                        }
                        // Z = W₁ h + b₁ (in z), then gelu(Z) → gz and gelu′(Z) → z, and M = W₂ gelu(Z) + b₂.
                        p.mlp(
                          h, count: t, ld: tile, hiddenInto: z, into: m, ldOut: tile, c: c, hidden: hidden,
                          geluHidden: false)
                        geluAndSlope(z, into: gz, rows: hidden, columns: t, ld: tile, slopeOnly: false)
                        for r in 0..<c { (m + r * tile).update(repeating: p.b2.base[r], count: t) }
                        BLAS.gemm(
                          .none, .none, m: c, n: t, k: hidden, alpha: 1, a: p.w2.base, lda: hidden, b: gz, ldb: tile,
                          beta: 1, c: m, ldc: tile)
                        // ∂M = ḡ ⊙ act′(M + g ⊙ x); the gate's and b₂'s sums; ∂x starts as g ⊙ ∂M.
                        for r in 0..<c {
                          let (mr, gr, xr, dxr) = (m + r * tile, gt + r * points, xt + r * points, dxt + r * points)
                          let w = p.g.base[r]
                          geluSlopeOfSum(mr, xr, gate: w, cotangent: gr, into: mr, count: t, activation: activation)
                          db2[r] += contiguousSum(mr, t)
                          dgate[r] += contiguousDot(mr, xr, t)
                          for j in 0..<t { dxr[j] = w * mr[j] }
                        }
                        // W₂: ∂W₂ += ∂M gelu(Z)ᵀ;  ∂G = W₂ᵀ ∂M;  ∂Z = ∂G ⊙ gelu′(Z).
                        BLAS.gemm(
                          .none, .transpose, m: c, n: hidden, k: t, alpha: 1, a: m, lda: tile, b: gz, ldb: tile,
                          beta: 1,
                          c: dW2, ldc: hidden)
                        BLAS.gemm(
                          .transpose, .none, m: hidden, n: t, k: c, alpha: 1, a: p.w2.base, lda: hidden, b: m,
                          ldb: tile,
                          beta: 0, c: dg, ldc: tile)
                        for r in 0..<hidden {
                          let (d, sl) = (dg + r * tile, z + r * tile)
                          for j in 0..<t { d[j] *= sl[j] }
                          db1[r] += contiguousSum(d, t)
                        }
                        // W₁: ∂W₁ += ∂Z hᵀ;  ∂h = W₁ᵀ ∂Z;  ∂A = ∂h ⊙ act′(A) = ∂s.
                        BLAS.gemm(
                          .none, .transpose, m: hidden, n: c, k: t, alpha: 1, a: dg, lda: tile, b: h, ldb: tile,
                          beta: 1,
                          c: dW1, ldc: c)
                        BLAS.gemm(
                          .transpose, .none, m: c, n: t, k: hidden, alpha: 1, a: p.w1.base, lda: c, b: dg, ldb: tile,
                          beta: 0, c: dh, ldc: tile)
                        for r in 0..<c {
                          let (d, sl, out) = (dh + r * tile, a + r * tile, dst + r * points)
                          if activation {
                            for j in 0..<t { out[j] = d[j] * sl[j] }
                          } else {
                            out.update(from: d, count: t)
                          }
                        }
                        // Skip: ∂W_s += ∂A xᵀ;  ∂x += W_sᵀ ∂A.
                        BLAS.gemm(
                          .none, .transpose, m: c, n: c, k: t, alpha: 1, a: dst, lda: points, b: xt, ldb: points,
                          beta: 1,
                          c: dWs, ldc: c)
                        BLAS.gemm(
                          .transpose, .none, m: c, n: t, k: c, alpha: 1, a: p.ws.base, lda: c, b: dst, ldb: points,
                          beta: 1,
                          c: dxt, ldc: points)
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    func reduced(_ offset: Int, _ shape: [Int]) -> NDArray<T> {
      workerSum(partials, workers: workers, stride: weightCount, offset: offset, shape: shape)
    }
    func summed(_ offset: Int, _ shape: [Int]) -> NDArray<T> {
      workerSum(sums, workers: workers, stride: hidden + 2 * c, offset: offset, shape: shape)
    }
    return [
      need[0] ? dx : nil, need[1] ? ds : nil, need[2] ? reduced(0, [c, c]) : nil,
      need[3] ? reduced(c * c, [hidden, c]) : nil, need[4] ? summed(0, [hidden]) : nil,
      need[5] ? reduced(c * c + hidden * c, [c, hidden]) : nil, need[6] ? summed(hidden, [c]) : nil,
      need[7] ? summed(hidden + c, gateShape) : nil,
    ]
  }
}

/// Raw pointers to the operands of ``fusedFNOBlockTail(_:spectral:skipWeight:weight1:bias1:weight2:bias2:gate:activation:tile:)``,
/// valid while the arrays are alive (the op and its pullback hold them).
private struct BlockPointers<T: RealScalar>: @unchecked Sendable {
  let x: SharedPointer<T>
  let s: SharedPointer<T>
  let ws: SharedPointer<T>
  let w1: SharedPointer<T>
  let b1: SharedPointer<T>
  let w2: SharedPointer<T>
  let b2: SharedPointer<T>
  let g: SharedPointer<T>

  /// Pointers into [x, s, W_s, W₁, b₁, W₂, b₂, g]; the caller keeps the arrays alive while using them.
  init(_ a: [NDArray<T>]) {
    func base(_ a: NDArray<T>) -> SharedPointer<T> {
      a.withUnsafeBufferPointer { SharedPointer(base: UnsafeMutablePointer(mutating: $0.baseAddress!)) }
    }
    (x, s, ws, w1) = (base(a[0]), base(a[1]), base(a[2]), base(a[3]))
    (b1, w2, b2, g) = (base(a[4]), base(a[5]), base(a[6]), base(a[7]))
  }

  /// A = s_t + W_s x_t into a [C, ld].
  @inline(__always)
  func preActivation(
    sample n: Int, from p0: Int, count t: Int, points: Int, into a: UnsafeMutablePointer<T>, ld: Int, c: Int
  ) {
    let offset = n * c * points + p0
    for r in 0..<c { (a + r * ld).update(from: s.base + offset + r * points, count: t) }
    BLAS.gemm(
      .none, .none, m: c, n: t, k: c, alpha: 1, a: ws.base, lda: c, b: x.base + offset, ldb: points, beta: 1, c: a,
      ldc: ld)
  }

  /// out = W₂ φ(W₁ h + b₁) + b₂ for a tile h [C, ld] (φ = GELU when `geluHidden`, else the
  /// identity, leaving Z = W₁ h + b₁ in `z` [H, ld]).
  @inline(__always)
  func mlp(
    _ h: UnsafeMutablePointer<T>, count t: Int, ld: Int, hiddenInto z: UnsafeMutablePointer<T>,
    into out: UnsafeMutablePointer<T>, ldOut: Int, c: Int, hidden: Int, geluHidden: Bool
  ) {
    for r in 0..<hidden { (z + r * ld).update(repeating: b1.base[r], count: t) }
    BLAS.gemm(.none, .none, m: hidden, n: t, k: c, alpha: 1, a: w1.base, lda: c, b: h, ldb: ld, beta: 1, c: z, ldc: ld)
    guard geluHidden else { return }
    geluInPlace(z, rows: hidden, columns: t, ld: ld)
    for r in 0..<c { (out + r * ldOut).update(repeating: b2.base[r], count: t) }
    BLAS.gemm(
      .none, .none, m: c, n: t, k: hidden, alpha: 1, a: w2.base, lda: hidden, b: z, ldb: ld, beta: 1, c: out,
      ldc: ldOut)
  }

  /// out += g ⊙ x_t (the gated skip).
  @inline(__always)
  func addGate(sample n: Int, from p0: Int, count t: Int, points: Int, to out: UnsafeMutablePointer<T>, c: Int) {
    let offset = n * c * points + p0
    for r in 0..<c {
      let (o, xr, w) = (out + r * points, x.base + offset + r * points, g.base[r])
      for j in 0..<t { o[j] += w * xr[j] }
    }
  }
}
