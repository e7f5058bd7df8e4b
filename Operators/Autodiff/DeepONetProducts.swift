// The DeepONet merge of branch and trunk features and the pointwise activations DeepXDE's
// networks use (ReLU, tanh), each with its hand-written pullback.
//
// Features are split into `outputs` groups of width p (DeepXDE's "split_both" strategy for
// several outputs; one group for a single output): output c uses columns c·p ..< (c+1)·p of both
// the branch and the trunk features.
//
// Reference: L. Lu, P. Jin, G. Pang, Z. Zhang, G. E. Karniadakis, "Learning nonlinear operators
// via DeepONet based on the universal approximation theorem of operators", Nat. Mach. Intell. 3
// (2021); L. Lu et al., "A comprehensive and fair comparison of two neural operators (with
// practical extensions) based on FAIR data", CMAME 393 (2022), §3.1.6; DeepXDE
// `deepxde/nn/pytorch/deeponet.py` (`DeepONetCartesianProd.merge_branch_trunk`: einsum "bi,ni->bn").
import Foundation
import Numerics

/// Cartesian-product merge: every sample's branch features against every query point's trunk
/// features, one strided-batched GEMM over the outputs.
///
/// ```
/// y[b, c, n] = Σ_{k<p} branch[b, c·p + k] · trunk[n, c·p + k]
///     branch: [B, C·p],  trunk: [N, C·p],  y: [B, C, N]
/// ∂branch[:, c·p..] = ḡ[:, c, :] · trunk[:, c·p..]       ∂trunk[:, c·p..] = ḡ[:, c, :]ᵀ · branch[:, c·p..]
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func cartesianProduct<T: RealScalar>(_ branch: Tensor<T>, _ trunk: Tensor<T>, outputs: Int) -> Tensor<T> {
  precondition(
    branch.rank == 2 && trunk.rank == 2 && branch.shape[1] == trunk.shape[1] && outputs >= 1
      && branch.shape[1] % outputs == 0,
    "cartesianProduct needs branch [B, C·p] and trunk [N, C·p] with C = \(outputs), got \(branch.shape), \(trunk.shape)"
  )
  let (b, n, width) = (branch.shape[0], trunk.shape[0], branch.shape[1])
  let c = outputs
  let p = width / c
  let (vb, vt) = (branch.value, trunk.value)
  var y: NDArray<T> = p > 0 ? uninitializedArray([b, c, n]) : zeroArray([b, c, n])
  if b > 0, n > 0, p > 0 {
    vb.withUnsafeBufferPointer { bp in
      vt.withUnsafeBufferPointer { tp in
        y.withUnsafeMutableBufferPointer { yp in
          BLAS.gemmStridedBatched(
            .none, .transpose, m: b, n: n, k: p, alpha: 1, a: bp.baseAddress!, lda: width, strideA: p,
            b: tp.baseAddress!, ldb: width, strideB: p, beta: 0, c: yp.baseAddress!, ldc: c * n, strideC: n,
            batch: c)
        }
      }
    }
  }
  return Tensor.record(y, [branch, trunk]) { g, need in
    var db: NDArray<T>? = need[0] ? zeroArray([b, width]) : nil
    var dt: NDArray<T>? = need[1] ? zeroArray([n, width]) : nil
    guard b > 0, n > 0, p > 0 else { return [db, dt] }
    g.withUnsafeBufferPointer { gp in
      if db != nil {
        vt.withUnsafeBufferPointer { tp in
          db!.withUnsafeMutableBufferPointer { dp in
            BLAS.gemmStridedBatched(
              .none, .none, m: b, n: p, k: n, alpha: 1, a: gp.baseAddress!, lda: c * n, strideA: n,
              b: tp.baseAddress!, ldb: width, strideB: p, beta: 0, c: dp.baseAddress!, ldc: width, strideC: p,
              batch: c)
          }
        }
      }
      if dt != nil {
        vb.withUnsafeBufferPointer { bp in
          dt!.withUnsafeMutableBufferPointer { dp in
            BLAS.gemmStridedBatched(
              .transpose, .none, m: n, n: p, k: b, alpha: 1, a: gp.baseAddress!, lda: c * n, strideA: n,
              b: bp.baseAddress!, ldb: width, strideB: p, beta: 0, c: dp.baseAddress!, ldc: width, strideC: p,
              batch: c)
          }
        }
      }
    }
    return [db, dt]
  }
}

/// Aligned (unstacked) merge: each sample has its own query points.
///
/// ```
/// y[b, c, m] = Σ_{k<p} branch[b, c·p + k] · trunk[b, m, c·p + k]
///     branch: [B, C·p],  trunk: [B, M, C·p],  y: [B, C, M]
/// ∂branch[b, c·p..] = trunk[b, :, c·p..]ᵀ · ḡ[b, c, :]    ∂trunk[b, :, c·p..] = ḡ[b, c, :] ⊗ branch[b, c·p..]
/// ```
///
/// One GEMV per (sample, output) forward and backward; with M = 1 this is DeepXDE's `DeepONet`
/// (one query point per input function, einsum "bi,bi->b").
@specialized(where T == Float)
@specialized(where T == Double)
public func alignedProduct<T: RealScalar>(_ branch: Tensor<T>, _ trunk: Tensor<T>, outputs: Int) -> Tensor<T> {
  precondition(
    branch.rank == 2 && trunk.rank == 3 && trunk.shape[0] == branch.shape[0] && trunk.shape[2] == branch.shape[1]
      && outputs >= 1 && branch.shape[1] % outputs == 0,
    "alignedProduct needs branch [B, C·p] and trunk [B, M, C·p] with C = \(outputs), got \(branch.shape), "
      + "\(trunk.shape)")
  let (b, m, width) = (branch.shape[0], trunk.shape[1], branch.shape[1])
  let c = outputs
  let p = width / c
  let (vb, vt) = (branch.value, trunk.value)
  var y: NDArray<T> = zeroArray([b, c, m])
  if b > 0, m > 0, p > 0 {
    vb.withUnsafeBufferPointer { bp in
      vt.withUnsafeBufferPointer { tp in
        y.withUnsafeMutableBufferPointer { yp in
          for s in 0..<b {
            for o in 0..<c {
              BLAS.gemv(
                .none, m: m, n: p, alpha: 1, a: tp.baseAddress! + s * m * width + o * p, lda: width,
                x: bp.baseAddress! + s * width + o * p, beta: 0, y: yp.baseAddress! + (s * c + o) * m)
            }
          }
        }
      }
    }
  }
  return Tensor.record(y, [branch, trunk]) { g, need in
    var db: NDArray<T>? = need[0] ? zeroArray([b, width]) : nil
    var dt: NDArray<T>? = need[1] ? zeroArray([b, m, width]) : nil
    guard b > 0, m > 0, p > 0 else { return [db, dt] }
    g.withUnsafeBufferPointer { gp in
      if db != nil {
        vt.withUnsafeBufferPointer { tp in
          db!.withUnsafeMutableBufferPointer { dp in
            for s in 0..<b {
              for o in 0..<c {
                BLAS.gemv(
                  .transpose, m: m, n: p, alpha: 1, a: tp.baseAddress! + s * m * width + o * p, lda: width,
                  x: gp.baseAddress! + (s * c + o) * m, beta: 0, y: dp.baseAddress! + s * width + o * p)
              }
            }
          }
        }
      }
      if dt != nil {
        vb.withUnsafeBufferPointer { bp in
          dt!.withUnsafeMutableBufferPointer { dp in
            for s in 0..<b {
              for o in 0..<c {
                // Rank-1 update ḡ[b, c, :] ⊗ branch[b, c·p..] as a k = 1 GEMM.
                BLAS.gemm(
                  .none, .none, m: m, n: p, k: 1, alpha: 1, a: gp.baseAddress! + (s * c + o) * m, lda: 1,
                  b: bp.baseAddress! + s * width + o * p, ldb: p, beta: 0,
                  c: dp.baseAddress! + s * m * width + o * p, ldc: width)
              }
            }
          }
        }
      }
    }
    return [db, dt]
  }
}

/// Rectified linear unit.
///
/// ```
/// relu(x) = max(x, 0)        relu′(x) = 1 if x > 0 else 0
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func relu<T: RealScalar>(_ x: Tensor<T>) -> Tensor<T> {
  let vx = x.value
  let y = vx.withUnsafeBufferPointer { xp in
    NDArray<T>(shape: vx.shape) { yp in
      for i in 0..<xp.count { yp[i] = xp[i] > 0 ? xp[i] : 0 }
    }
  }
  return Tensor.record(y, [x]) { g, _ in
    let d = vx.withUnsafeBufferPointer { xp in
      g.withUnsafeBufferPointer { gp in
        NDArray<T>(shape: vx.shape) { dp in
          for i in 0..<xp.count { dp[i] = xp[i] > 0 ? gp[i] : 0 }
        }
      }
    }
    return [d]
  }
}

/// Hyperbolic tangent.
///
/// ```
/// tanh′(x) = 1 − tanh(x)²        (the pullback reuses the forward result)
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func tanh<T: RealScalar>(_ x: Tensor<T>) -> Tensor<T> {
  let vx = x.value
  let y = vx.withUnsafeBufferPointer { xp in
    NDArray<T>(shape: vx.shape) { yp in
      if T.self == Float.self {
        for i in 0..<xp.count { yp[i] = T(Foundation.tanhf(Float(xp[i]))) }
      } else {
        for i in 0..<xp.count { yp[i] = T(Foundation.tanh(Double(xp[i]))) }
      }
    }
  }
  return Tensor.record(y, [x]) { g, _ in
    let d = y.withUnsafeBufferPointer { yp in
      g.withUnsafeBufferPointer { gp in
        NDArray<T>(shape: vx.shape) { dp in
          for i in 0..<yp.count { dp[i] = gp[i] * (1 - yp[i] * yp[i]) }
        }
      }
    }
    return [d]
  }
}
