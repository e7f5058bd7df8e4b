// Two-dimensional convolution (cross-correlation, as torch.nn.functional.conv2d and Keras'
// Conv2D) with a stride and no padding ("valid"), lowered to matrix products: each sample's
// receptive fields are unfolded into the columns of a matrix (im2col), the convolution is one
// GEMM of the weights with that matrix, and the pullback is two GEMMs plus the adjoint fold
// (col2im) that scatters column cotangents back onto the input.
//
// Not supported: padding, dilation and groups (DeepONet's convolutional branch, the one user,
// needs none of them).
//
// Reference: K. Chellapilla, S. Puri, P. Simard, "High performance convolutional neural networks
// for document processing", 10th International Workshop on Frontiers in Handwriting Recognition
// (2006) — the unfolding of convolutions into matrix products.
import Numerics

/// Output extent of a valid (unpadded) strided convolution, or nil when the kernel does not fit.
///
/// ```
/// out = ⌊(n − k) / s⌋ + 1        (n ≥ k)
/// ```
public func convolutionOutputExtent(_ n: Int, kernel k: Int, stride s: Int) -> Int? {
  guard n >= 1, k >= 1, s >= 1, n >= k else { return nil }
  return (n - k) / s + 1
}

/// Walks the receptive fields of one sample: for row (c, i, j) of the unfolded matrix
/// [C·kh·kw, Ho·Wo] and column (oy, ox), the input element x[c, oy·s + i, ox·s + j]. `fold` false
/// copies the inputs into `cols` (im2col); true adds `cols` back onto the inputs (col2im, the
/// adjoint).
@inline(__always)
private func unfold<T: RealScalar>(
  _ x: UnsafeMutablePointer<T>, _ cols: UnsafeMutablePointer<T>, fold: Bool, channels: Int, height: Int, width: Int,
  kh: Int, kw: Int, stride s: Int, ho: Int, wo: Int
) {
  let p = ho * wo
  for c in 0..<channels {
    let plane = x + c * height * width
    for i in 0..<kh {
      for j in 0..<kw {
        let row = cols + ((c * kh + i) * kw + j) * p
        for oy in 0..<ho {
          let field = plane + (oy * s + i) * width + j
          let unfolded = row + oy * wo
          if fold {
            for ox in 0..<wo { field[ox * s] += unfolded[ox] }
          } else {
            for ox in 0..<wo { unfolded[ox] = field[ox * s] }
          }
        }
      }
    }
  }
}

/// Two-dimensional strided convolution without padding, as `torch.nn.functional.conv2d(x, w, b,
/// stride=s)`.
///
/// ```
/// y[b, o, oy, ox] = Σ_{c,i,j} W[o, c, i, j] · x[b, c, oy·s + i, ox·s + j] + bias[o]
///     x: [B, C, H, W],  W: [O, C, kh, kw],  bias: [O],  y: [B, O, Ho, Wo]
///     Ho = ⌊(H − kh)/s⌋ + 1,  Wo = ⌊(W − kw)/s⌋ + 1
/// per sample (cols = im2col(x[b]) [C·kh·kw, Ho·Wo]):
///     y[b] = W · cols
///     ∂W   = Σ_b ḡ[b] · colsᵀ       ∂x[b] = col2im(Wᵀ · ḡ[b])       ∂bias[o] = Σ_{b,oy,ox} ḡ[b, o, oy, ox]
/// ```
///
/// The unfolded inputs of the whole batch are kept for the pullback (B·C·kh·kw·Ho·Wo scalars).
@specialized(where T == Float)
@specialized(where T == Double)
public func conv2d<T: RealScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>? = nil, stride: Int = 1)
  -> Tensor<T>
{
  precondition(weight.rank == 4, "conv2d: weight must be [out, in, kh, kw], got \(weight.shape)")
  let (cout, cin, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
  precondition(
    x.rank == 4 && x.shape[1] == cin, "conv2d: input must be [batch, \(cin), height, width], got \(x.shape)")
  precondition(stride >= 1, "conv2d: stride must be ≥ 1, got \(stride)")
  if let bias { precondition(bias.shape == [cout], "conv2d: bias must be [\(cout)], got \(bias.shape)") }
  let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
  guard let ho = convolutionOutputExtent(height, kernel: kh, stride: stride),
    let wo = convolutionOutputExtent(width, kernel: kw, stride: stride)
  else {
    preconditionFailure("conv2d: a \(kh)×\(kw) kernel does not fit the \(height)×\(width) input")
  }
  let (k, p) = (cin * kh * kw, ho * wo)
  let (vx, vw) = (x.value, weight.value)
  let outShape = [batch, cout, ho, wo]
  var cols: NDArray<T> = uninitializedArray([batch, k, p])
  var y: NDArray<T> = k > 0 ? uninitializedArray(outShape) : zeroArray(outShape)
  if batch > 0, cout > 0, k > 0 {
    vx.withUnsafeBufferPointer { xp in
      cols.withUnsafeMutableBufferPointer { cp in
        for b in 0..<batch {
          unfold(
            UnsafeMutablePointer(mutating: xp.baseAddress! + b * cin * height * width), cp.baseAddress! + b * k * p,
            fold: false, channels: cin, height: height, width: width, kh: kh, kw: kw, stride: stride, ho: ho, wo: wo)
        }
      }
    }
    cols.withUnsafeBufferPointer { cp in
      vw.withUnsafeBufferPointer { wp in
        y.withUnsafeMutableBufferPointer { yp in
          BLAS.gemmStridedBatched(
            .none, .none, m: cout, n: p, k: k, alpha: 1, a: wp.baseAddress!, lda: k, strideA: 0,
            b: cp.baseAddress!, ldb: p, strideB: k * p, beta: 0, c: yp.baseAddress!, ldc: p, strideC: cout * p,
            batch: batch)
        }
      }
    }
  }
  if let bias { addChannelBias(bias.value, to: &y, batch: batch, channels: cout, points: p) }
  let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
  let (xShape, wShape, unfolded) = (x.shape, weight.shape, cols)
  return Tensor.record(y, inputs) { g, need in
    var dx: NDArray<T>? = need[0] ? zeroArray(xShape) : nil
    var dw: NDArray<T>? = need[1] ? zeroArray(wShape) : nil
    var db: NDArray<T>? = need.count == 3 && need[2] ? zeroArray([cout]) : nil
    guard batch > 0, cout > 0, k > 0 else { return need.count == 3 ? [dx, dw, db] : [dx, dw] }
    g.withUnsafeBufferPointer { gp in
      if dw != nil {
        unfolded.withUnsafeBufferPointer { cp in
          dw!.withUnsafeMutableBufferPointer { dp in
            for b in 0..<batch {
              BLAS.gemm(
                .none, .transpose, m: cout, n: k, k: p, alpha: 1, a: gp.baseAddress! + b * cout * p, lda: p,
                b: cp.baseAddress! + b * k * p, ldb: p, beta: 1, c: dp.baseAddress!, ldc: k)
            }
          }
        }
      }
      if dx != nil {
        // Column cotangents Wᵀ·ḡ[b] for the whole batch, then folded back onto the inputs.
        var dcols: NDArray<T> = uninitializedArray([batch, k, p])
        vw.withUnsafeBufferPointer { wp in
          dcols.withUnsafeMutableBufferPointer { cp in
            BLAS.gemmStridedBatched(
              .transpose, .none, m: k, n: p, k: cout, alpha: 1, a: wp.baseAddress!, lda: k, strideA: 0,
              b: gp.baseAddress!, ldb: p, strideB: cout * p, beta: 0, c: cp.baseAddress!, ldc: p, strideC: k * p,
              batch: batch)
          }
        }
        dcols.withUnsafeMutableBufferPointer { cp in
          dx!.withUnsafeMutableBufferPointer { dp in
            for b in 0..<batch {
              unfold(
                dp.baseAddress! + b * cin * height * width, cp.baseAddress! + b * k * p, fold: true, channels: cin,
                height: height, width: width, kh: kh, kw: kw, stride: stride, ho: ho, wo: wo)
            }
          }
        }
      }
      if db != nil { db = channelBiasGradient(gp.baseAddress!, batch: batch, channels: cout, points: p) }
    }
    return need.count == 3 ? [dx, dw, db] : [dx, dw]
  }
}
