// Tape operations of the factorized (axial) attention: axis permutation, batched matrix products,
// the application of a per-axis kernel along one axis of a field, and the rotary position
// embedding of queries and keys, each with its hand-written pullback.
//
// Reference: Z. Li, D. Shu, A. Barati Farimani, "Scalable Transformer for PDE Surrogate Modeling",
// NeurIPS 2023 (FactFormer; BaratiLab/FactFormer `libs/factorization_module.py`, `libs/attention.py`);
// J. Su, Y. Lu, S. Pan, A. Murtadha, B. Wen, Y. Liu, "RoFormer: Enhanced Transformer with Rotary
// Position Embedding", arXiv:2104.09864 (rotate-half form as lucidrains' x-transformers).
import Foundation
import Numerics

/// Copies `src` (shape `shape`) into `dst` with its axes permuted: dst axis i is src axis `axes[i]`.
@specialized(where T == Float)
@specialized(where T == Double)
func permuteCopy<T: RealScalar>(
  _ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, shape: [Int], axes: [Int]
) {
  let rank = shape.count
  let count = shape.reduce(1, *)
  guard count > 0 else { return }
  let srcStrides = contiguousStrides(shape)
  let outShape = axes.map { shape[$0] }
  let strides = axes.map { srcStrides[$0] }
  guard rank > 0 else {
    dst[0] = src[0]
    return
  }
  let inner = outShape[rank - 1]
  let innerStride = strides[rank - 1]
  var counter = [Int](repeating: 0, count: rank)
  var offset = 0
  var out = 0
  while out < count {
    let s = src + offset
    let d = dst + out
    if innerStride == 1 && inner >= 64 {
      d.update(from: s, count: inner)
    } else if innerStride == 1 {
      // Short runs (a head's channels): an inline loop, not a memmove call per run.
      for j in 0..<inner { d[j] = s[j] }
    } else {
      for j in 0..<inner { d[j] = s[j * innerStride] }
    }
    out += inner
    var axis = rank - 2
    while axis >= 0 {
      counter[axis] += 1
      offset += strides[axis]
      if counter[axis] < outShape[axis] { break }
      offset -= strides[axis] * outShape[axis]
      counter[axis] = 0
      axis -= 1
    }
  }
}

extension Tensor {
  /// The tensor with its axes reordered (`torch.permute`): result axis i is axis `axes[i]`.
  ///
  /// ```
  /// x: [2, 3, 4]   permuted([2, 0, 1]) → [4, 2, 3],   y[k, i, j] = x[i, j, k]
  /// ∂x = ḡ permuted by the inverse permutation
  /// ```
  @specialized(where T == Float)
  @specialized(where T == Double)
  public func permuted(_ axes: [Int]) -> Tensor {
    precondition(
      axes.count == rank && Set(axes) == Set(0..<rank), "permuted: \(axes) is not a permutation of 0..<\(rank)")
    if axes == Array(0..<rank) { return self }
    let shape = self.shape
    let outShape = axes.map { shape[$0] }
    var inverse = [Int](repeating: 0, count: rank)
    for (i, a) in axes.enumerated() { inverse[a] = i }
    let inverseAxes = inverse
    var y: NDArray<T> = uninitializedArray(outShape)
    value.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in
        if let s = xp.baseAddress, let d = yp.baseAddress { permuteCopy(s, d, shape: shape, axes: axes) }
      }
    }
    return Tensor.record(y, [self]) { g, _ in
      var dx: NDArray<T> = uninitializedArray(shape)
      g.withUnsafeBufferPointer { gp in
        dx.withUnsafeMutableBufferPointer { dp in
          if let s = gp.baseAddress, let d = dp.baseAddress { permuteCopy(s, d, shape: outShape, axes: inverseAxes) }
        }
      }
      return [dx]
    }
  }

  /// Mean over `axes` (kept with extent 1 when `keepingDimensions`).
  ///
  /// ```
  /// m = Σ_axes x / Π_axes nₐ        ∂x = ḡ / Π nₐ broadcast back over the axes
  /// ```
  public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let normalized = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
    let n = normalized.reduce(1) { $0 * shape[$1] }
    return sum(alongAxes: axes, keepingDimensions: keepingDimensions) * (T(1) / T(Swift.max(1, n)))
  }
}

/// Batched matrix product over the leading axis, with optional transposes (strided-batched gemm).
///
/// ```
/// c[i] = op(a[i]) · op(b[i])      op(m) = mᵀ when the transpose flag is set
///     a: [G, m, k] ([G, k, m] transposed),  b: [G, k, n] ([G, n, k] transposed),  c: [G, m, n]
/// ∂a[i] = ḡ[i] · op(b[i])ᵀ  (its transpose when a is transposed),  ∂b[i] = op(a[i])ᵀ · ḡ[i]  (likewise)
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func batchedMatmul<T: RealScalar>(
  _ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool = false, transposeB: Bool = false
) -> Tensor<T> {
  precondition(a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0], "batchedMatmul needs [G, ·, ·] operands")
  let g = a.shape[0]
  let (m, k) = transposeA ? (a.shape[2], a.shape[1]) : (a.shape[1], a.shape[2])
  let (k2, n) = transposeB ? (b.shape[2], b.shape[1]) : (b.shape[1], b.shape[2])
  precondition(k == k2, "batchedMatmul: inner extents differ, \(a.shape) × \(b.shape)")
  let (va, vb) = (a.value, b.value)
  let (sa, sb) = (a.shape, b.shape)
  let c = batchedGemm(transposeA, transposeB, va, sa, vb, sb, m: m, n: n, k: k, batch: g)
  return Tensor.record(c, [a, b]) { gr, need in
    let sg = [g, m, n]
    var da: NDArray<T>? = nil
    var db: NDArray<T>? = nil
    if need[0] {
      da =
        transposeA
        ? batchedGemm(transposeB, true, vb, sb, gr, sg, m: k, n: m, k: n, batch: g)
        : batchedGemm(false, !transposeB, gr, sg, vb, sb, m: m, n: k, k: n, batch: g)
    }
    if need[1] {
      db =
        transposeB
        ? batchedGemm(true, transposeA, gr, sg, va, sa, m: n, n: k, k: m, batch: g)
        : batchedGemm(!transposeA, false, va, sa, gr, sg, m: k, n: n, k: m, batch: g)
    }
    return [da, db]
  }
}

/// c[i] = op(a[i]) · op(b[i]) for row-major [G, rows, cols] arrays: c is [G, m, n].
@specialized(where T == Float)
@specialized(where T == Double)
func batchedGemm<T: RealScalar>(
  _ ta: Bool, _ tb: Bool, _ a: NDArray<T>, _ sa: [Int], _ b: NDArray<T>, _ sb: [Int], m: Int, n: Int, k: Int,
  batch: Int
) -> NDArray<T> {
  guard batch > 0, m > 0, n > 0, k > 0 else { return zeroArray([batch, m, n]) }
  var c: NDArray<T> = uninitializedArray([batch, m, n])
  a.withUnsafeBufferPointer { ap in
    b.withUnsafeBufferPointer { bp in
      c.withUnsafeMutableBufferPointer { cp in
        BLAS.gemmStridedBatched(
          ta ? .transpose : .none, tb ? .transpose : .none, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!,
          lda: sa[2], strideA: sa[1] * sa[2], b: bp.baseAddress!, ldb: sb[2], strideB: sb[1] * sb[2], beta: 0,
          c: cp.baseAddress!, ldc: n, strideC: m * n, batch: batch)
      }
    }
  }
  return c
}

/// The gemms of one axial product: per group g, a kernel K[g] [n, n] acts on the middle index of
/// v[g] viewed as [pre, n, post]. Operands are raw buffers with a per-group stride, so a product can
/// read or write a slot of a larger array (IFactFormer-m's concatenated branches).
struct AxialProduct<T: RealScalar> {
  let groups: Int
  let n: Int
  let pre: Int
  let post: Int

  /// Elements of v[g].
  var slab: Int { pre * n * post }

  /// y[g] ← β·y[g] + K[g] ×_axis v[g].
  func forward(
    _ k: UnsafePointer<T>, _ v: UnsafePointer<T>, vStride: Int, _ y: UnsafeMutablePointer<T>, yStride: Int, beta: T
  ) {
    for g in 0..<groups {
      let (kg, vg, yg) = (k + g * n * n, v + g * vStride, y + g * yStride)
      if post == 1 {
        // y[g] = v[g] · K[g]ᵀ, one [pre, n] × [n, n] product.
        BLAS.blockedGemm(
          .none, .transpose, m: pre, n: n, k: n, alpha: 1, a: vg, lda: n, b: kg, ldb: n, beta: beta, c: yg, ldc: n)
      } else {
        for p in 0..<pre {
          BLAS.blockedGemm(
            .none, .none, m: n, n: post, k: n, alpha: 1, a: kg, lda: n, b: vg + p * n * post, ldb: post, beta: beta,
            c: yg + p * n * post, ldc: post)
        }
      }
    }
  }

  /// dK[g] ← Σ_p ḡ[g, p] · v[g, p]ᵀ (overwrites dk).
  func kernelGradient(
    _ gr: UnsafePointer<T>, gStride: Int, _ v: UnsafePointer<T>, vStride: Int, _ dk: UnsafeMutablePointer<T>
  ) {
    for g in 0..<groups {
      let (gg, vg, dg) = (gr + g * gStride, v + g * vStride, dk + g * n * n)
      if post == 1 {
        BLAS.blockedGemm(
          .transpose, .none, m: n, n: n, k: pre, alpha: 1, a: gg, lda: n, b: vg, ldb: n, beta: 0, c: dg, ldc: n)
      } else {
        for p in 0..<pre {
          BLAS.gemm(
            .none, .transpose, m: n, n: n, k: post, alpha: 1, a: gg + p * n * post, lda: post, b: vg + p * n * post,
            ldb: post, beta: p == 0 ? 0 : 1, c: dg, ldc: n)
        }
      }
    }
  }

  /// dv[g] ← β·dv[g] + K[g]ᵀ ×_axis ḡ[g].
  func valueGradient(
    _ k: UnsafePointer<T>, _ gr: UnsafePointer<T>, gStride: Int, _ dv: UnsafeMutablePointer<T>, dvStride: Int,
    beta: T
  ) {
    for g in 0..<groups {
      let (kg, gg, dg) = (k + g * n * n, gr + g * gStride, dv + g * dvStride)
      if post == 1 {
        BLAS.blockedGemm(
          .none, .none, m: pre, n: n, k: n, alpha: 1, a: gg, lda: n, b: kg, ldb: n, beta: beta, c: dg, ldc: n)
      } else {
        for p in 0..<pre {
          BLAS.blockedGemm(
            .transpose, .none, m: n, n: post, k: n, alpha: 1, a: kg, lda: n, b: gg + p * n * post, ldb: post,
            beta: beta, c: dg + p * n * post, ldc: post)
        }
      }
    }
  }
}

/// The product layout of a [G, n, n] kernel along `axis` of `v` (checked).
private func axialProduct<T: RealScalar>(_ kernel: Tensor<T>, _ v: Tensor<T>, axis: Int, _ name: String)
  -> AxialProduct<T>
{
  precondition(kernel.rank == 3 && kernel.shape[1] == kernel.shape[2], "\(name): kernel must be [G, n, n]")
  precondition(axis >= 1 && axis < v.rank, "\(name): axis \(axis) must be a non-leading axis of \(v.shape)")
  let (groups, n) = (kernel.shape[0], kernel.shape[1])
  precondition(
    v.shape[0] == groups && v.shape[axis] == n,
    "\(name): kernel \(kernel.shape) does not fit axis \(axis) of \(v.shape)")
  return AxialProduct(
    groups: groups, n: n, pre: v.shape[1..<axis].reduce(1, *), post: v.shape[(axis + 1)...].reduce(1, *))
}

/// Applies one square kernel per leading index along one axis of a field: the axial product of
/// the factorized attention (`einsum("bhij,bhjmc->bhimc")` for the first axis, and so on).
///
/// ```
/// y[g, …, i, …] = Σⱼ K[g, i, j] · v[g, …, j, …]        (i, j on `axis`)
///     kernel: [G, n, n],  v: [G, a₁, …, n, …],  y: v's shape
/// ∂v[g, p] = K[g]ᵀ · ḡ[g, p],   ∂K[g] = Σ_p ḡ[g, p] · v[g, p]ᵀ     (p: the axes before `axis`)
/// ```
///
/// The cost is G · n² · (the other extents) — linear in the grid points for each axis' extent;
/// no kernel over all grid points is ever formed. Along the last axis each group is one product.
@specialized(where T == Float)
@specialized(where T == Double)
public func applyAlongAxis<T: RealScalar>(_ kernel: Tensor<T>, _ v: Tensor<T>, axis: Int) -> Tensor<T> {
  stackedAxialProducts([kernel], v, axes: [axis], "applyAlongAxis")
}

/// IFactFormer-m's parallel axial products: kernel a applied along axis `firstAxis + a` of the same
/// values, the results stacked on axis 1 — `concatenate((0..<d).map { applyAlongAxis(kernels[$0], v,
/// axis: firstAxis + $0) }, axis: 1)`, with each product written straight into its slot.
///
/// ```
/// v: [G, c, n₁, …, n_d] (firstAxis = 2)  →  y: [G, d·c, n₁, …, n_d],   y[g, a·c + j] = (K_a ×_a v)[g, j]
/// ∂v = Σ_a K_aᵀ ×_a ḡ_a,   ∂K_a = as applyAlongAxis with ḡ_a = ḡ[:, a·c ..< (a+1)·c]
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func parallelAxialProducts<T: RealScalar>(_ kernels: [Tensor<T>], _ v: Tensor<T>, firstAxis: Int = 2)
  -> Tensor<T>
{
  let d = kernels.count
  precondition(
    d >= 1 && firstAxis >= 2 && firstAxis + d <= v.rank,
    "parallelAxialProducts: \(d) axes from \(firstAxis) do not fit \(v.shape)")
  return stackedAxialProducts(kernels, v, axes: Array(firstAxis..<(firstAxis + d)), "parallelAxialProducts")
}

/// Kernel a applied along `axes[a]` of v, the d results stacked on axis 1 (one result: v's shape):
/// the tape op behind ``applyAlongAxis(_:_:axis:)`` and ``parallelAxialProducts(_:_:firstAxis:)``.
/// Each product writes straight into its slot; the pullback reads the slots in place and sums the
/// products' value gradients into ∂v.
@specialized(where T == Float)
@specialized(where T == Double)
private func stackedAxialProducts<T: RealScalar>(_ kernels: [Tensor<T>], _ v: Tensor<T>, axes: [Int], _ name: String)
  -> Tensor<T>
{
  let d = kernels.count
  let products = (0..<d).map { axialProduct(kernels[$0], v, axis: axes[$0], name) }
  let slab = products[0].slab
  let stride = d * slab
  var outShape = v.shape
  outShape[1] *= d
  let values = kernels.map(\.value)
  let vv = v.value
  let empty = slab == 0 || products[0].groups == 0
  var y: NDArray<T> = empty ? zeroArray(outShape) : uninitializedArray(outShape)
  if !empty {
    vv.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in
        for a in 0..<d {
          values[a].withUnsafeBufferPointer { kp in
            products[a].forward(
              kp.baseAddress!, xp.baseAddress!, vStride: slab, yp.baseAddress! + a * slab, yStride: stride, beta: 0)
          }
        }
      }
    }
  }
  let vShape = v.shape
  return Tensor.record(y, kernels + [v]) { gr, need in
    var grads: [NDArray<T>?] = (0..<d).map { a in
      need[a] ? (empty ? zeroArray(values[a].shape) : uninitializedArray(values[a].shape)) : nil
    }
    var dv: NDArray<T>? = need[d] ? (empty ? zeroArray(vShape) : uninitializedArray(vShape)) : nil
    guard !empty else { return grads + [dv] }
    gr.withUnsafeBufferPointer { gp in
      for a in 0..<d {
        if grads[a] != nil {
          vv.withUnsafeBufferPointer { xp in
            grads[a]!.withUnsafeMutableBufferPointer { dp in
              products[a].kernelGradient(
                gp.baseAddress! + a * slab, gStride: stride, xp.baseAddress!, vStride: slab, dp.baseAddress!)
            }
          }
        }
        if dv != nil {
          values[a].withUnsafeBufferPointer { kp in
            dv!.withUnsafeMutableBufferPointer { dp in
              products[a].valueGradient(
                kp.baseAddress!, gp.baseAddress! + a * slab, gStride: stride, dp.baseAddress!, dvStride: slab,
                beta: a == 0 ? 0 : 1)
            }
          }
        }
      }
    }
    return grads + [dv]
  }
}

/// Rotation angles of the rotary position embedding for coordinates `positions` and a feature
/// width `dimension` (even), as FactFormer's `RotaryEmbedding(dim, min_freq=1/64)`:
///
/// ```
/// θ[i, j] = positions[i] · scale · ω_j,   ω_j = 10000^(−2j/dimension),  j < dimension/2,  scale = 64
/// ```
///
/// Returns [positions.count, dimension/2].
public func rotaryAngles<T: RealScalar>(positions: [Double], dimension: Int, scale: Double = 64) -> NDArray<T> {
  precondition(dimension >= 2 && dimension % 2 == 0, "rotary embedding needs an even feature width, got \(dimension)")
  let half = dimension / 2
  return NDArray<T>(shape: [positions.count, half]) { p in
    for (i, x) in positions.enumerated() {
      for j in 0..<half { p[i * half + j] = T(x * scale * pow(10000, -Double(2 * j) / Double(dimension))) }
    }
  }
}

/// Rotary position embedding in the rotate-half form: the feature vector of position i is split
/// into halves (x₁, x₂) and each pair (x₁[j], x₂[j]) is rotated by θ[i, j].
///
/// ```
/// y₁ = x₁ cos θ − x₂ sin θ,   y₂ = x₂ cos θ + x₁ sin θ       (x · cos + rotate_half(x) · sin)
///     x: [A, n, M, d],  angles: [n, d/2]  (``rotaryAngles(positions:dimension:scale:)``)
/// ∂x₁ = ḡ₁ cos θ + ḡ₂ sin θ,   ∂x₂ = ḡ₂ cos θ − ḡ₁ sin θ      (the inverse rotation)
/// ```
///
/// The angles are constants (positions are not differentiated).
@specialized(where T == Float)
@specialized(where T == Double)
public func rotaryEmbedding<T: RealScalar>(_ x: Tensor<T>, angles: NDArray<T>) -> Tensor<T> {
  precondition(x.rank == 4, "rotaryEmbedding needs [A, n, M, d], got \(x.shape)")
  let (outer, n, m, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  precondition(
    d % 2 == 0 && angles.shape == [n, d / 2], "rotaryEmbedding: angles \(angles.shape) do not fit \(x.shape)")
  let half = d / 2
  var cosines: NDArray<T> = uninitializedArray([n, half])
  var sines: NDArray<T> = uninitializedArray([n, half])
  angles.withUnsafeBufferPointer { ap in
    cosines.withUnsafeMutableBufferPointer { cp in
      sines.withUnsafeMutableBufferPointer { sp in
        for i in 0..<ap.count {
          cp[i] = T(cos(Double(ap[i])))
          sp[i] = T(sin(Double(ap[i])))
        }
      }
    }
  }
  let (cosTable, sinTable) = (cosines, sines)
  /// Rotates every pair by +θ (sign 1) or −θ (sign −1).
  @Sendable func rotate(_ src: NDArray<T>, sign: T) -> NDArray<T> {
    var out: NDArray<T> = uninitializedArray(src.shape)
    src.withUnsafeBufferPointer { xp in
      cosTable.withUnsafeBufferPointer { cp in
        sinTable.withUnsafeBufferPointer { sp in
          out.withUnsafeMutableBufferPointer { yp in
            for a in 0..<outer {
              for i in 0..<n {
                let c = cp.baseAddress! + i * half
                let s = sp.baseAddress! + i * half
                for h in 0..<m {
                  let off = ((a * n + i) * m + h) * d
                  let (x1, x2) = (xp.baseAddress! + off, xp.baseAddress! + off + half)
                  let (y1, y2) = (yp.baseAddress! + off, yp.baseAddress! + off + half)
                  for j in 0..<half {
                    let sn = sign * s[j]
                    y1[j] = x1[j] * c[j] - x2[j] * sn
                    y2[j] = x2[j] * c[j] + x1[j] * sn
                  }
                }
              }
            }
          }
        }
      }
    }
    return out
  }
  return Tensor.record(rotate(x.value, sign: 1), [x]) { g, _ in [rotate(g, sign: -1)] }
}

/// Gated GELU (FactFormer's `GeAct(nn.GELU())`): the last axis splits into halves (a, b) and the
/// result is gelu(a) ⊙ b.
///
/// ```
/// x: [..., 2m] → y: [..., m],   y = gelu(x[..., :m]) ⊙ x[..., m:]
/// ∂a = ḡ ⊙ b ⊙ gelu′(a),   ∂b = ḡ ⊙ gelu(a)
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func gatedGELU<T: RealScalar>(_ x: Tensor<T>) -> Tensor<T> {
  precondition(x.rank >= 1 && x.shape.last! % 2 == 0, "gatedGELU needs an even last axis, got \(x.shape)")
  let width = x.shape.last!
  let half = width / 2
  let rows = x.count / Swift.max(1, width)
  let outShape = Array(x.shape.dropLast()) + [half]
  let vx = x.value
  var y: NDArray<T> = uninitializedArray(outShape)
  vx.withUnsafeBufferPointer { xp in
    y.withUnsafeMutableBufferPointer { yp in
      for r in 0..<rows {
        let (a, b, o) = (xp.baseAddress! + r * width, xp.baseAddress! + r * width + half, yp.baseAddress! + r * half)
        for j in 0..<half { o[j] = a[j] * normalCDF(a[j]) * b[j] }
      }
    }
  }
  return Tensor.record(y, [x]) { g, _ in
    var dx: NDArray<T> = uninitializedArray(vx.shape)
    let invSqrt2Pi = T(0.39894228040143267793994605993438186848)
    vx.withUnsafeBufferPointer { xp in
      g.withUnsafeBufferPointer { gp in
        dx.withUnsafeMutableBufferPointer { dp in
          for r in 0..<rows {
            let (a, b) = (xp.baseAddress! + r * width, xp.baseAddress! + r * width + half)
            let (da, db) = (dp.baseAddress! + r * width, dp.baseAddress! + r * width + half)
            let gr = gp.baseAddress! + r * half
            for j in 0..<half {
              let v = a[j]
              let cdf = normalCDF(v)
              da[j] = gr[j] * b[j] * (cdf + v * invSqrt2Pi * expT(T(-0.5) * v * v))
              db[j] = gr[j] * v * cdf
            }
          }
        }
      }
    }
    return [dx]
  }
}

/// Φ(x), the standard normal CDF: PDEKit's vectorizable kernel in Float (as ``gelu(_:)``), erf in Double.
@inline(__always) func normalCDF<T: RealScalar>(_ x: T) -> T {
  if T.self == Float.self { return T(fastNormalCDF(Float(x))) }
  return T(0.5) * (1 + erfT(x * T(0.70710678118654752440084436210484903928)))
}

/// The means of a channel-last field over all spatial axes but one, for every axis at once, stacked
/// along axis 1: the pooled summaries of FactFormer's reducers in one pass over the field.
///
/// ```
/// x: [B, n₁, …, n_d, C]  →  m: [B, n₁ + … + n_d, C]
/// m[b, o_a + i, :] = Σ_{p: p_a = i} x[b, p, :] / (N / n_a)       o_a = n₁ + … + n_{a−1},  N = n₁ ⋯ n_d
/// ∂x[b, p, :] = Σ_a ḡ[b, o_a + p_a, :] / (N / n_a)
/// ```
///
/// Sums accumulate in Double. With one spatial axis the "mean over the other axes" is x itself.
@specialized(where T == Float)
@specialized(where T == Double)
public func axialMeans<T: RealScalar>(_ x: Tensor<T>, dimensions d: Int) -> Tensor<T> {
  precondition(
    (1...3).contains(d) && x.rank == d + 2, "axialMeans expects [batch, \(d) spatial axes, channels], got \(x.shape)")
  let shape = x.shape
  let (batch, c) = (shape[0], shape[d + 1])
  let grid = Array(shape[1...d])
  let points = grid.reduce(1, *)
  let offsets = (0..<d).map { a in grid[..<a].reduce(0, +) }
  let stacked = grid.reduce(0, +)
  // Weight of each point in the mean of axis a: n_a / N.
  let weights = grid.map { Double($0) / Double(Swift.max(1, points)) }
  let strides = contiguousStrides(grid)
  var sums = [Double](repeating: 0, count: stacked * c)
  let y = NDArray<T>(shape: [batch, stacked, c]) { yp in
    x.value.withUnsafeBufferPointer { xp in
      sums.withUnsafeMutableBufferPointer { sp in
        for b in 0..<batch {
          sp.update(repeating: 0)
          for p in 0..<points {
            let row = xp.baseAddress! + (b * points + p) * c
            for a in 0..<d {
              let acc = sp.baseAddress! + (offsets[a] + (p / strides[a]) % grid[a]) * c
              for j in 0..<c { acc[j] += Double(row[j]) }
            }
          }
          for a in 0..<d {
            for i in 0..<grid[a] {
              let at = (offsets[a] + i) * c
              for j in 0..<c { yp[b * stacked * c + at + j] = T(sp[at + j] * weights[a]) }
            }
          }
        }
      }
    }
  }
  return Tensor.record(y, [x]) { g, _ in
    // Cotangent rows pre-scaled by n_a / N, then each point sums its d rows.
    var scaled: NDArray<T> = uninitializedArray([batch, stacked, c])
    g.withUnsafeBufferPointer { gp in
      scaled.withUnsafeMutableBufferPointer { sp in
        for b in 0..<batch {
          for a in 0..<d {
            for i in 0..<grid[a] {
              let at = (b * stacked + offsets[a] + i) * c
              for j in 0..<c { sp[at + j] = T(Double(gp[at + j]) * weights[a]) }
            }
          }
        }
      }
    }
    var dx: NDArray<T> = uninitializedArray(shape)
    scaled.withUnsafeBufferPointer { sp in
      dx.withUnsafeMutableBufferPointer { dp in
        for b in 0..<batch {
          for p in 0..<points {
            let out = dp.baseAddress! + (b * points + p) * c
            let first = sp.baseAddress! + (b * stacked + (p / strides[0]) % grid[0]) * c
            out.update(from: first, count: c)
            for a in 1..<Swift.max(1, d) {
              let row = sp.baseAddress! + (b * stacked + offsets[a] + (p / strides[a]) % grid[a]) * c
              for j in 0..<c { out[j] += row[j] }
            }
          }
        }
      }
    }
    return [dx]
  }
}
