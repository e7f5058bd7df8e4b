// Relative Lp and H1 losses as neuraloperator 2.0 defines them (neuralop/losses/data_losses.py,
// `LpLoss.rel`, `H1Loss.rel`; finite differences from neuralop/losses/differentiation.py), as
// differentiable operations with hand-written pullbacks. Norms are taken per (sample, channel)
// — every leading axis — over the flattened trailing `spatialDimensions` axes, then reduced over
// the leading axes by a sum (neuraloperator's default) or a mean. The target is a constant: no
// cotangent flows to it. Sums accumulate in Double whatever the element type.
import Foundation
import Numerics

/// How per-(sample, channel) losses are combined.
public enum LossReduction: String, Codable, Sendable {
  /// Sum over the batch and channels (neuraloperator's default: divide by the batch size to
  /// compare with a mean).
  case sum
  /// Mean over the batch and channels.
  case mean
}

/// Relative Lp distance between functions on a grid.
///
/// ```
/// x, y: [B, C, n₁, …, n_d]  (any leading axes; the trailing d are flattened)
/// ℓ[b, c] = ‖x[b,c] − y[b,c]‖_p / (‖y[b,c]‖_p + ε)       ‖v‖_p = (Σⱼ |vⱼ|^p)^{1/p}
/// loss = Σ_{b,c} ℓ[b, c]   (.sum)   or   mean_{b,c} ℓ[b, c]   (.mean)
/// ∂x = ∂loss/∂ℓ · ‖e‖_p^{1−p} |e|^{p−1} sign(e) / (‖y‖_p + ε),   e = x − y
/// ```
///
/// Defaults: p = 2, reduction `.sum`, ε = 1e-8 (neuraloperator's `LpLoss(d, p=2)`).
///
/// ```swift
/// let loss = LpLoss(spatialDimensions: 2)(prediction, Tensor(target))   // shape []
/// ```
public struct LpLoss: Sendable {
  /// Number of trailing spatial axes d.
  public var spatialDimensions: Int
  /// Order p ≥ 1.
  public var p: Double
  /// Reduction over the leading axes.
  public var reduction: LossReduction
  /// Added to the target norm.
  public var eps: Double

  /// A relative Lp loss over `spatialDimensions` trailing axes.
  public init(spatialDimensions: Int, p: Double = 2, reduction: LossReduction = .sum, eps: Double = 1e-8) {
    precondition(spatialDimensions >= 1 && p >= 1, "LpLoss needs d ≥ 1 and p ≥ 1")
    self.spatialDimensions = spatialDimensions
    self.p = p
    self.reduction = reduction
    self.eps = eps
  }

  /// The loss (shape `[]`); differentiable with respect to `prediction`.
  @specialized(where T == Float)
  @specialized(where T == Double)
  public func callAsFunction<T: RealScalar>(_ prediction: Tensor<T>, _ target: Tensor<T>) -> Tensor<T> {
    precondition(prediction.shape == target.shape, "LpLoss: shapes \(prediction.shape) and \(target.shape) differ")
    precondition(prediction.rank >= spatialDimensions, "LpLoss: \(prediction.shape) has fewer than d axes")
    let points = prediction.shape.suffix(spatialDimensions).reduce(1, *)
    let rows = points == 0 ? 0 : prediction.count / points
    let (p, eps) = (self.p, self.eps)
    let weight = reduction == .mean ? 1 / Double(Swift.max(1, rows)) : 1
    // Per row: ‖e‖_p^p and the row loss.
    var diffPower = [Double](repeating: 0, count: rows)
    var denominators = [Double](repeating: 0, count: rows)
    var total = 0.0
    let (vx, vy) = (prediction.value, target.value)
    vx.withUnsafeBufferPointer { xp in
      vy.withUnsafeBufferPointer { yp in
        for r in 0..<rows {
          var dsum = 0.0
          var ysum = 0.0
          for j in r * points..<(r + 1) * points {
            let e = abs(Double(xp[j]) - Double(yp[j]))
            let a = abs(Double(yp[j]))
            if p == 2 {
              dsum += e * e
              ysum += a * a
            } else {
              dsum += Foundation.pow(e, p)
              ysum += Foundation.pow(a, p)
            }
          }
          let dn = p == 1 ? dsum : Foundation.pow(dsum, 1 / p)
          let yn = p == 1 ? ysum : Foundation.pow(ysum, 1 / p)
          diffPower[r] = dsum
          denominators[r] = yn + eps
          total += dn / (yn + eps)
        }
      }
    }
    let value = NDArray<T>(shape: [], repeating: T(total * weight))
    let (rowPowers, rowDenominators) = (diffPower, denominators)
    return Tensor.record(value, [prediction]) { g, _ in
      let seed = Double(g.withUnsafeBufferPointer { $0[0] }) * weight
      return [
        vx.withUnsafeBufferPointer { xp in
          vy.withUnsafeBufferPointer { yp in
            NDArray<T>(shape: vx.shape) { dp in
              for r in 0..<rows {
                let dsum = rowPowers[r]
                // ∂ℓ/∂eⱼ = D^{1/p − 1} |eⱼ|^{p−1} sign(eⱼ) / (‖y‖ + ε), D = Σ|e|^p (0 where D = 0).
                let scale = dsum == 0 ? 0 : (p == 1 ? 1 : Foundation.pow(dsum, 1 / p - 1)) / rowDenominators[r] * seed
                for j in r * points..<(r + 1) * points {
                  let e = Double(xp[j]) - Double(yp[j])
                  let s: Double = e > 0 ? 1 : (e < 0 ? -1 : 0)
                  let mag = p == 2 ? abs(e) : (p == 1 ? 1 : Foundation.pow(abs(e), p - 1))
                  dp[j] = T(scale * mag * s)
                }
              }
            }
          }
        }
      ]
    }
  }
}

/// Relative H1 (Sobolev) distance between functions on a periodic grid.
///
/// ```
/// x, y: [B, C, n₁, …, n_d]   (d = 1, 2, 3 trailing axes)
/// ∂ₐu[i] = (u[i + eₐ] − u[i − eₐ]) / (2hₐ),   hₐ = 1/nₐ,  indices wrap (periodic)
/// ‖u‖²_H1 = Σᵢ u[i]² + Σₐ Σᵢ (∂ₐu[i])²                      (over one (b, c))
/// ℓ[b, c] = ‖x − y‖_H1 / (‖y‖_H1 + ε);   loss = Σ or mean over (b, c)
/// ∂x = ∂loss/∂ℓ · (e − Σₐ ∂ₐ∂ₐe) / (‖e‖_H1 (‖y‖_H1 + ε)),   e = x − y   (using ∂ₐᵀ = −∂ₐ)
/// ```
///
/// Defaults: reduction `.sum`, ε = 1e-8, as neuraloperator's `H1Loss(d)` with periodic axes and
/// domain measure 1 (the quadrature weights cancel in the relative loss).
public struct H1Loss: Sendable {
  /// Number of trailing spatial axes d (1–3).
  public var spatialDimensions: Int
  /// Reduction over the leading axes.
  public var reduction: LossReduction
  /// Added to the target norm.
  public var eps: Double

  /// A relative H1 loss over `spatialDimensions` trailing periodic axes.
  public init(spatialDimensions: Int, reduction: LossReduction = .sum, eps: Double = 1e-8) {
    precondition((1...3).contains(spatialDimensions), "H1Loss supports 1–3 spatial axes")
    self.spatialDimensions = spatialDimensions
    self.reduction = reduction
    self.eps = eps
  }

  /// The loss (shape `[]`); differentiable with respect to `prediction`.
  @specialized(where T == Float)
  @specialized(where T == Double)
  public func callAsFunction<T: RealScalar>(_ prediction: Tensor<T>, _ target: Tensor<T>) -> Tensor<T> {
    precondition(prediction.shape == target.shape, "H1Loss: shapes \(prediction.shape) and \(target.shape) differ")
    precondition(prediction.rank >= spatialDimensions, "H1Loss: \(prediction.shape) has fewer than d axes")
    let dims = Array(prediction.shape.suffix(spatialDimensions))
    let points = dims.reduce(1, *)
    let rows = points == 0 ? 0 : prediction.count / points
    let weight = reduction == .mean ? 1 / Double(Swift.max(1, rows)) : 1
    let eps = self.eps
    var norms = [Double](repeating: 0, count: rows)
    var denominators = [Double](repeating: 0, count: rows)
    var total = 0.0
    let (vx, vy) = (prediction.value, target.value)
    var e = [Double](repeating: 0, count: points)
    var t = [Double](repeating: 0, count: points)
    var de = [Double](repeating: 0, count: points)
    vx.withUnsafeBufferPointer { xp in
      vy.withUnsafeBufferPointer { yp in
        for r in 0..<rows {
          for j in 0..<points {
            t[j] = Double(yp[r * points + j])
            e[j] = Double(xp[r * points + j]) - t[j]
          }
          var dsum = e.reduce(0) { $0 + $1 * $1 }
          var ysum = t.reduce(0) { $0 + $1 * $1 }
          for a in 0..<dims.count {
            periodicCentralDifference(e, into: &de, dims: dims, axis: a)
            dsum += de.reduce(0) { $0 + $1 * $1 }
            periodicCentralDifference(t, into: &de, dims: dims, axis: a)
            ysum += de.reduce(0) { $0 + $1 * $1 }
          }
          norms[r] = dsum.squareRoot()
          denominators[r] = ysum.squareRoot() + eps
          total += norms[r] / denominators[r]
        }
      }
    }
    let value = NDArray<T>(shape: [], repeating: T(total * weight))
    let (rowNorms, rowDenominators) = (norms, denominators)
    return Tensor.record(value, [prediction]) { g, _ in
      let seed = Double(g.withUnsafeBufferPointer { $0[0] }) * weight
      var e = [Double](repeating: 0, count: points)
      var d1 = [Double](repeating: 0, count: points)
      var d2 = [Double](repeating: 0, count: points)
      let grad = vx.withUnsafeBufferPointer { xp in
        vy.withUnsafeBufferPointer { yp in
          NDArray<T>(shape: vx.shape) { dp in
            for r in 0..<rows {
              guard rowNorms[r] > 0 else {
                for j in 0..<points { dp[r * points + j] = 0 }
                continue
              }
              for j in 0..<points { e[j] = Double(xp[r * points + j]) - Double(yp[r * points + j]) }
              var q = e
              for a in 0..<dims.count {
                periodicCentralDifference(e, into: &d1, dims: dims, axis: a)
                periodicCentralDifference(d1, into: &d2, dims: dims, axis: a)
                for j in 0..<points { q[j] -= d2[j] }
              }
              let scale = seed / (rowNorms[r] * rowDenominators[r])
              for j in 0..<points { dp[r * points + j] = T(scale * q[j]) }
            }
          }
        }
      }
      return [grad]
    }
  }
}

/// (u[i + eₐ] − u[i − eₐ]) · nₐ/2 along `axis` of a row-major grid `dims`, periodic.
func periodicCentralDifference(_ u: [Double], into out: inout [Double], dims: [Int], axis: Int) {
  let n = dims[axis]
  let inner = dims[(axis + 1)...].reduce(1, *)
  let outer = dims[..<axis].reduce(1, *)
  let factor = Double(n) / 2
  u.withUnsafeBufferPointer { up in
    out.withUnsafeMutableBufferPointer { op in
      for o in 0..<outer {
        let base = o * n * inner
        for i in 0..<n {
          let plus = base + ((i + 1) % n) * inner
          let minus = base + ((i + n - 1) % n) * inner
          let here = base + i * inner
          for j in 0..<inner { op[here + j] = (up[plus + j] - up[minus + j]) * factor }
        }
      }
    }
  }
}
