// Matrix products on the tape: matmul, linear (last-axis affine map) and channel mixing
// (1×1 convolution over [batch, channels, points…]). All run on BLAS gemm, row-major.
import Numerics

/// Matrix product of two rank-2 tensors (BLAS gemm).
///
/// ```
/// c = a · b          a: [m, k], b: [k, n], c: [m, n]
/// ∂a = ḡ · bᵀ,  ∂b = aᵀ · ḡ
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func matmul<T: RealScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
  precondition(
    a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0], "matmul needs [m, k] × [k, n], got \(a.shape) × \(b.shape)")
  let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
  let (va, vb) = (a.value, b.value)
  let c = gemmArrays(.none, .none, va, vb, m: m, n: n, k: k)
  return Tensor.record(c, [a, b]) { g, need in
    [
      need[0] ? gemmArrays(.none, .transpose, g, vb, m: m, n: k, k: n) : nil,
      need[1] ? gemmArrays(.transpose, .none, va, g, m: k, n: n, k: m) : nil,
    ]
  }
}

/// C = op(A)·op(B) for row-major arrays whose stored layout matches the transposes.
@specialized(where T == Float)
@specialized(where T == Double)
func gemmArrays<T: RealScalar>(
  _ ta: Transpose, _ tb: Transpose, _ a: NDArray<T>, _ b: NDArray<T>, m: Int, n: Int, k: Int
) -> NDArray<T> {
  guard m > 0, n > 0, k > 0 else { return zeroArray([m, n]) }
  var c: NDArray<T> = uninitializedArray([m, n])
  a.withUnsafeBufferPointer { ap in
    b.withUnsafeBufferPointer { bp in
      c.withUnsafeMutableBufferPointer { cp in
        BLAS.blockedGemm(
          ta, tb, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: ta == .none ? k : m,
          b: bp.baseAddress!, ldb: tb == .none ? n : k, beta: 0, c: cp.baseAddress!, ldc: n)
      }
    }
  }
  return c
}

/// Affine map over the last axis, as `torch.nn.functional.linear`.
///
/// ```
/// y = x · Wᵀ + b       x: [..., in], W: [out, in], b: [out], y: [..., out]
/// ∂x = ḡ · W,  ∂W = ḡᵀ · x,  ∂b = Σ_rows ḡ
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func linear<T: RealScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>? = nil) -> Tensor<T> {
  precondition(weight.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
  let (outF, inF) = (weight.shape[0], weight.shape[1])
  precondition(x.rank >= 1 && x.shape.last == inF, "linear: input \(x.shape) does not end in \(inF)")
  if let bias { precondition(bias.shape == [outF], "linear: bias must be [\(outF)], got \(bias.shape)") }
  let rows = x.count / Swift.max(1, inF)
  let (vx, vw) = (x.value.reshaped([rows, inF]), weight.value)
  var y = gemmArrays(.none, .transpose, vx, vw, m: rows, n: outF, k: inF)
  if let bias {
    bias.value.withUnsafeBufferPointer { bp in
      y.withUnsafeMutableBufferPointer { yp in
        for r in 0..<rows { for o in 0..<outF { yp[r * outF + o] += bp[o] } }
      }
    }
  }
  let outShape = Array(x.shape.dropLast()) + [outF]
  let xShape = x.shape
  let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
  return Tensor.record(y.reshaped(outShape), inputs) { g, need in
    let g2 = g.reshaped([rows, outF])
    var result: [NDArray<T>?] = [
      need[0] ? gemmArrays(.none, .none, g2, vw, m: rows, n: inF, k: outF).reshaped(xShape) : nil,
      need[1] ? gemmArrays(.transpose, .none, g2, vx, m: outF, n: inF, k: rows) : nil,
    ]
    if need.count == 3 { result.append(need[2] ? g2.sum(toShape: [outF]) : nil) }
    return result
  }
}

/// Pointwise channel mixing (a 1×1 convolution): a gemm per sample over [batch, channels, points].
///
/// ```
/// y[b, o, p] = Σᵢ W[o, i] · x[b, i, p] + bias[o]
///     x: [B, Cin, n₁, …],  W: [Cout, Cin],  bias: [Cout],  y: [B, Cout, n₁, …]
/// ∂x[b] = Wᵀ · ḡ[b],  ∂W = Σ_b ḡ[b] · x[b]ᵀ,  ∂bias[o] = Σ_{b,p} ḡ[b, o, p]
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func channelMix<T: RealScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>? = nil) -> Tensor<T> {
  precondition(weight.rank == 2, "channelMix: weight must be [out, in], got \(weight.shape)")
  let (cout, cin) = (weight.shape[0], weight.shape[1])
  precondition(x.rank >= 2 && x.shape[1] == cin, "channelMix: input \(x.shape) needs \(cin) channels on axis 1")
  if let bias { precondition(bias.shape == [cout], "channelMix: bias must be [\(cout)], got \(bias.shape)") }
  let batch = x.shape[0]
  let points = x.shape.dropFirst(2).reduce(1, *)
  var outShape = x.shape
  outShape[1] = cout
  let (vx, vw) = (x.value, weight.value)
  // With a bias, y starts as the bias broadcast and the gemm accumulates onto it (β = 1): one
  // pass over y fewer than adding the bias afterwards.
  // (The bias fill writes every element, so y needs zeros only when there is no gemm and no bias.)
  var y: NDArray<T> = cin > 0 || bias != nil ? uninitializedArray(outShape) : zeroArray(outShape)
  if let bias {
    bias.value.withUnsafeBufferPointer { bp in
      y.withUnsafeMutableBufferPointer { yp in
        for b in 0..<batch {
          for o in 0..<cout {
            UnsafeMutableBufferPointer(start: yp.baseAddress! + (b * cout + o) * points, count: points)
              .update(repeating: bp[o])
          }
        }
      }
    }
  }
  // One gemm per sample, the samples split between the BLAS threads (batchParallel).
  let beta: T = bias == nil ? 0 : 1
  let workers = batchWorkers(batch)
  vx.withUnsafeBufferPointer { xp in
    vw.withUnsafeBufferPointer { wp in
      y.withUnsafeMutableBufferPointer { yp in
        guard batch > 0, points > 0, cin > 0, cout > 0 else { return }
        let (xs, ws, ys) = (
          SharedPointer(base: UnsafeMutablePointer(mutating: xp.baseAddress!)),
          SharedPointer(base: UnsafeMutablePointer(mutating: wp.baseAddress!)), SharedPointer(base: yp.baseAddress!)
        )
        batchParallel(batch, workers: workers) { _, r in
          BLAS.gemmStridedBatched(
            .none, .none, m: cout, n: points, k: cin, alpha: 1, a: ws.base, lda: cin, strideA: 0,
            b: xs.base + r.lowerBound * cin * points, ldb: points, strideB: cin * points, beta: beta,
            c: ys.base + r.lowerBound * cout * points, ldc: points, strideC: cout * points, batch: r.count)
        }
      }
    }
  }
  let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
  let xShape = x.shape
  return Tensor.record(y, inputs) { g, need in
    var dx: NDArray<T>? = nil
    var dw: NDArray<T>? = nil
    var db: NDArray<T>? = nil
    g.withUnsafeBufferPointer { gp in
      guard batch > 0, points > 0, cin > 0, cout > 0 else { return }
      let gs = SharedPointer(base: UnsafeMutablePointer(mutating: gp.baseAddress!))
      if need[0] {
        dx = NDArray<T>(shape: xShape) { dp in
          vw.withUnsafeBufferPointer { wp in
            let (ws, ds) = (
              SharedPointer(base: UnsafeMutablePointer(mutating: wp.baseAddress!)), SharedPointer(base: dp.baseAddress!)
            )
            batchParallel(batch, workers: workers) { _, r in
              BLAS.gemmStridedBatched(
                .transpose, .none, m: cin, n: points, k: cout, alpha: 1, a: ws.base, lda: cin, strideA: 0,
                b: gs.base + r.lowerBound * cout * points, ldb: points, strideB: cout * points, beta: 0,
                c: ds.base + r.lowerBound * cin * points, ldc: points, strideC: cin * points, batch: r.count)
            }
          }
        }
      }
      if need[1] {
        // Each worker sums its samples' ḡ[b] · x[b]ᵀ into its own partial; the partials are then
        // added in worker order (a fixed order for a thread count).
        var partials: NDArray<T> = zeroArray([workers, cout, cin])
        vx.withUnsafeBufferPointer { xp in
          partials.withUnsafeMutableBufferPointer { pp in
            let (xs, ps) = (
              SharedPointer(base: UnsafeMutablePointer(mutating: xp.baseAddress!)), SharedPointer(base: pp.baseAddress!)
            )
            batchParallel(batch, workers: workers) { k, r in
              for b in r {
                BLAS.gemm(
                  .none, .transpose, m: cout, n: cin, k: points, alpha: 1, a: gs.base + b * cout * points,
                  lda: points, b: xs.base + b * cin * points, ldb: points, beta: 1, c: ps.base + k * cout * cin,
                  ldc: cin)
              }
            }
          }
        }
        dw = NDArray<T>(shape: [cout, cin]) { wp in
          partials.withUnsafeBufferPointer { pp in
            for i in 0..<cout * cin {
              var s = pp[i]
              for k in 1..<workers { s += pp[k * cout * cin + i] }
              wp[i] = s
            }
          }
        }
      }
      if need.count == 3 && need[2] {
        db = channelBiasGradient(gp.baseAddress!, batch: batch, channels: cout, points: points)
      }
    }
    if need.count == 3 && need[2] && db == nil { db = zeroArray([cout]) }
    if need[0] && dx == nil { dx = zeroArray(xShape) }
    if need[1] && dw == nil { dw = zeroArray([cout, cin]) }
    return need.count == 3 ? [dx, dw, db] : [dx, dw]
  }
}

/// Adds `bias[o]` to every point of channel o of `y` [batch, channels, points] (a per-channel bias
/// of a channel-mixing or convolution layer).
@inline(__always)
func addChannelBias<T: RealScalar>(_ bias: NDArray<T>, to y: inout NDArray<T>, batch: Int, channels: Int, points: Int) {
  bias.withUnsafeBufferPointer { bp in
    y.withUnsafeMutableBufferPointer { yp in
      for b in 0..<batch {
        for o in 0..<channels {
          let row = yp.baseAddress! + (b * channels + o) * points
          let v = bp[o]
          for p in 0..<points { row[p] += v }
        }
      }
    }
  }
}

/// The pullback of ``addChannelBias(_:to:batch:channels:points:)``: Σ over batch and points of the
/// cotangent `g` [batch, channels, points], per channel, accumulated in Double.
@inline(__always)
func channelBiasGradient<T: RealScalar>(_ g: UnsafePointer<T>, batch: Int, channels: Int, points: Int) -> NDArray<T> {
  NDArray<T>(shape: [channels]) { bp in
    for o in 0..<channels {
      var acc = 0.0
      for b in 0..<batch { acc += contiguousSum(g + (b * channels + o) * points, points) }
      bp[o] = T(acc)
    }
  }
}
