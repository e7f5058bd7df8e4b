// A linear map over the channels that also moves them between the last axis and axis 1, one gemm
// per sample with the transposes folded into the gemm: the factorized attention computes its values
// channel-first (each head's channels then hold whole grids, so the axial products and the
// per-head normalization need no permutation) from a channel-last field, and maps them back.
import Numerics

/// Which way ``layoutSwappingLinear(_:weight:bias:_:)`` moves the channels.
public enum ChannelLayoutSwap: Sendable {
  /// x: [B, N, Cin] (channel-last) → y: [B, Cout, N] (channel-first).
  case toChannelFirst
  /// x: [B, Cin, N] (channel-first) → y: [B, N, Cout] (channel-last).
  case toChannelLast
}

/// A linear map over the channels between the channel-last and channel-first layouts, per sample.
///
/// ```
/// .toChannelFirst:  x: [B, N, Cin] → y: [B, Cout, N],   y[b] = W · x[b]ᵀ + bias ⊗ 1
///     ∂x[b] = ḡ[b]ᵀ · W,   ∂W = Σ_b ḡ[b] · x[b],    ∂bias = Σ_{b,p} ḡ[b, :, p]
/// .toChannelLast:   x: [B, Cin, N] → y: [B, N, Cout],   y[b] = x[b]ᵀ · Wᵀ + 1 ⊗ bias
///     ∂x[b] = Wᵀ · ḡ[b]ᵀ,   ∂W = Σ_b ḡ[b]ᵀ · x[b]ᵀ,  ∂bias = Σ_{b,p} ḡ[b, p, :]
///     W: [Cout, Cin],  bias: [Cout]
/// ```
///
/// Equal to `linear` followed (or preceded) by a permutation of the last axis to axis 1, without
/// the permutation's passes over the data. Weight gradients sum the samples in order.
@specialized(where T == Float)
@specialized(where T == Double)
public func layoutSwappingLinear<T: RealScalar>(
  _ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>? = nil, _ swap: ChannelLayoutSwap
) -> Tensor<T> {
  precondition(x.rank == 3, "layoutSwappingLinear expects [batch, ·, ·], got \(x.shape)")
  precondition(weight.rank == 2, "layoutSwappingLinear: weight must be [out, in], got \(weight.shape)")
  let (cout, cin) = (weight.shape[0], weight.shape[1])
  precondition(
    cout >= 1 && cin >= 1, "layoutSwappingLinear: weight \(weight.shape) needs at least one channel each way")
  let toFirst = swap == .toChannelFirst
  let (batch, points) = (x.shape[0], toFirst ? x.shape[1] : x.shape[2])
  precondition(
    (toFirst ? x.shape[2] : x.shape[1]) == cin,
    "layoutSwappingLinear: input \(x.shape) does not have \(cin) channels on axis \(toFirst ? 2 : 1)")
  if let bias { precondition(bias.shape == [cout], "layoutSwappingLinear: bias must be [\(cout)], got \(bias.shape)") }
  let (vx, vw) = (x.value, weight.value)
  let outShape = toFirst ? [batch, cout, points] : [batch, points, cout]
  let empty = batch == 0 || points == 0  // then y has no elements
  var y: NDArray<T> = empty ? zeroArray(outShape) : uninitializedArray(outShape)
  guard !empty else {
    return Tensor.record(y, bias.map { [x, weight, $0] } ?? [x, weight]) { _, need in
      need.enumerated().map { i, n in n ? zeroArray(i == 0 ? vx.shape : i == 1 ? vw.shape : [cout]) : nil }
    }
  }
  let slab = points * cin
  let outSlab = points * cout
  // Wᵀ [Cin × Cout] for the channel-first input, whose small-kernel form needs W transposed.
  let wt = toFirst ? vw : vw.transposed()
  vx.withUnsafeBufferPointer { xp in
    wt.withUnsafeBufferPointer { tp in
      y.withUnsafeMutableBufferPointer { yp in
        for b in 0..<batch {
          let (xb, yb) = (xp.baseAddress! + b * slab, yp.baseAddress! + b * outSlab)
          if toFirst {
            // y[b] = W · x[b]ᵀ (a column-major TN product, which the small kernels do not take: one packed call)
            BLAS.gemm(
              .none, .transpose, m: cout, n: points, k: cin, alpha: 1, a: tp.baseAddress!, lda: cin, b: xb,
              ldb: cin, beta: 0, c: yb, ldc: points)
          } else {
            // y[b] = x[b]ᵀ · Wᵀ
            BLAS.blockedGemm(
              .transpose, .none, m: points, n: cout, k: cin, alpha: 1, a: xb, lda: points, b: tp.baseAddress!,
              ldb: cout, beta: 0, c: yb, ldc: cout)
          }
        }
      }
    }
  }
  if let bias {
    if toFirst {
      addChannelBias(bias.value, to: &y, batch: batch, channels: cout, points: points)
    } else {
      bias.value.withUnsafeBufferPointer { bp in
        y.withUnsafeMutableBufferPointer { yp in
          for r in 0..<batch * points { for o in 0..<cout { yp[r * cout + o] += bp[o] } }
        }
      }
    }
  }
  let xShape = x.shape
  return Tensor.record(y, bias.map { [x, weight, $0] } ?? [x, weight]) { g, need in
    var dx: NDArray<T>? = need[0] ? uninitializedArray(xShape) : nil
    // ∂W, or ∂Wᵀ [Cin × Cout] for the channel-first input (accumulated as x[b] · ḡ[b]).
    var dwAcc: NDArray<T>? = need[1] ? zeroArray(toFirst ? [cout, cin] : [cin, cout]) : nil
    g.withUnsafeBufferPointer { gp in
      vx.withUnsafeBufferPointer { xp in
        vw.withUnsafeBufferPointer { wp in
          for b in 0..<batch {
            let (xb, gb) = (xp.baseAddress! + b * slab, gp.baseAddress! + b * outSlab)
            if dx != nil {
              dx!.withUnsafeMutableBufferPointer { dp in
                let db = dp.baseAddress! + b * slab
                if toFirst {
                  // ∂x[b] = ḡ[b]ᵀ · W
                  BLAS.blockedGemm(
                    .transpose, .none, m: points, n: cin, k: cout, alpha: 1, a: gb, lda: points, b: wp.baseAddress!,
                    ldb: cin, beta: 0, c: db, ldc: cin)
                } else {
                  // ∂x[b] = Wᵀ · ḡ[b]ᵀ (one packed call)
                  BLAS.gemm(
                    .transpose, .transpose, m: cin, n: points, k: cout, alpha: 1, a: wp.baseAddress!, lda: cin, b: gb,
                    ldb: cout, beta: 0, c: db, ldc: points)
                }
              }
            }
            if dwAcc != nil {
              dwAcc!.withUnsafeMutableBufferPointer { dp in
                if toFirst {
                  // ∂W += ḡ[b] · x[b]
                  BLAS.blockedGemm(
                    .none, .none, m: cout, n: cin, k: points, alpha: 1, a: gb, lda: points, b: xb, ldb: cin, beta: 1,
                    c: dp.baseAddress!, ldc: cin)
                } else {
                  // ∂Wᵀ += x[b] · ḡ[b]
                  BLAS.blockedGemm(
                    .none, .none, m: cin, n: cout, k: points, alpha: 1, a: xb, lda: points, b: gb, ldb: cout, beta: 1,
                    c: dp.baseAddress!, ldc: cout)
                }
              }
            }
          }
        }
      }
    }
    let dw = dwAcc.map { toFirst ? $0 : $0.transposed() }
    guard need.count == 3 else { return [dx, dw] }
    var dbias: NDArray<T>? = nil
    if need[2] {
      dbias =
        toFirst
        ? g.withUnsafeBufferPointer {
          channelBiasGradient($0.baseAddress!, batch: batch, channels: cout, points: points)
        }
        : g.reshaped([batch * points, cout]).sum(toShape: [cout])
    }
    return [dx, dw, dbias]
  }
}
