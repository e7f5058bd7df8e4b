// Activation functions on the tape. GELU is the exact (erf) form, PyTorch's default
// (`torch.nn.functional.gelu(x, approximate="none")`), which neuraloperator's FNO uses.
// Reference: D. Hendrycks, K. Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415.
import Foundation
import Numerics

@inline(__always) func erfT<T: RealScalar>(_ x: T) -> T {
  T.self == Float.self ? T(erff(Float(x))) : T(erf(Double(x)))
}

@inline(__always) func expT<T: RealScalar>(_ x: T) -> T {
  T.self == Float.self ? T(expf(Float(x))) : T(exp(Double(x)))
}

// Float kernels without libm calls, so that the GELU loops vectorize (as PyTorch's vectorized CPU
// kernels do); Horner steps are fused multiply-adds (vfmadd in PDEKit's default native release
// builds; a portable PDEKIT_PORTABLE=1 build on a CPU without FMA pays a libm call for each).
// One formula over the whole line, so that a vector evaluates one branch, not two:
//   ½ erfc(t) = ½ e^(−t²) · R(t),  t = |x|/√2,  R(t) ≈ erfcx(t) = e^(t²) erfc(t),
//   R = P₄(t)/Q₅(t), a rational least-squares fit in relative error on [0, 10] made for PDEKit
//   (≤ 7e-9 in exact arithmetic, ≤ 4.2e-7 evaluated in Float),
//   Φ(x) = ½ erfc(t) for x ≤ 0 and 1 − ½ erfc(t) for x > 0, so Φ keeps its relative accuracy in the
//   negative tail, where the textbook ½(1 + erf(x/√2)) cancels; and
//   φ(x) = e^(−t²)/√(2π) reuses the same exponential in the derivative.
//   exp(y) = 2ᵏ · (1 + r + r² Q(r)), y = k ln 2 + r, Q of degree 4 (≤ 1e-8 relative).

/// a·b + c with one rounding.
@inline(__always) func mulAdd(_ a: Float, _ b: Float, _ c: Float) -> Float { c.addingProduct(a, b) }

/// e^y for y ≤ 0 (clamped at −87, where Float stays normal), branch-free.
@inline(__always) func fastExp(_ y: Float) -> Float {
  let yc: Float = y > -87 ? y : -87
  let shifter: Float = 12_582_912  // 1.5 · 2²³: adding it rounds to an integer
  let z = shifter + yc * 1.442_695_0
  let k = z - shifter
  let r = (yc - k * 0.693_145_751_953_125) - k * 1.428_606_765_330_187e-06
  var q: Float = 0.001_393_364_3
  q = mulAdd(q, r, 0.008_363_175_2)
  q = mulAdd(q, r, 0.041_666_467)
  q = mulAdd(q, r, 0.166_665_76)
  q = mulAdd(q, r, 0.5)
  let p = (1 + r) + (r * r) * q
  let bits = (z.bitPattern &- shifter.bitPattern &+ 127) << 23
  return p * Float(bitPattern: bits)
}

/// Φ(x) and e^(−x²/2) in Float, branch-free (see the formulas above); NaN gives NaN.
@inline(__always) func fastNormalCDFAndGaussian(_ x: Float) -> (cdf: Float, gaussian: Float) {
  // e^(−x²/2) with x² split as hi + lo (lo = the rounding error of x·x, one FMA): in the far tail
  // (x²/2 up to 87) a rounded exponent alone would cost up to 87 ulp of relative accuracy.
  let hi = x * x
  let lo = mulAdd(x, x, -hi)
  let e = fastExp(-0.5 * hi) * mulAdd(-0.5, lo, 1)
  let u = x * 0.707_106_78
  let a = abs(u)
  let t: Float = a < 10 ? a : 10
  var p: Float = 3.275_071_3e-02
  p = mulAdd(p, t, 0.229_081_53)
  p = mulAdd(p, t, 0.731_397_16)
  p = mulAdd(p, t, 1.238_298_6)
  p = mulAdd(p, t, 1)
  var q: Float = 5.804_843_6e-02
  q = mulAdd(q, t, 0.406_062_63)
  q = mulAdd(q, t, 1.324_963_5)
  q = mulAdd(q, t, 2.401_899_5)
  q = mulAdd(q, t, 2.366_678_2)
  q = mulAdd(q, t, 1)
  let halfErfc = (0.5 * e) * (p / q)
  let cdf = u > 0 ? 1 - halfErfc : halfErfc
  return (x.isNaN ? x : cdf, e)
}

/// The standard normal CDF Φ(x) = ½(1 + erf(x/√2)) in Float, branch-free.
@inline(__always) func fastNormalCDF(_ x: Float) -> Float { fastNormalCDFAndGaussian(x).cdf }

@inline(__always) func floats<T>(_ p: SharedPointer<T>) -> UnsafeMutablePointer<Float> {
  UnsafeMutableRawPointer(p.base).assumingMemoryBound(to: Float.self)
}

/// Gaussian error linear unit, exact form.
///
/// ```
/// gelu(x) = x · Φ(x) = ½ · x · (1 + erf(x / √2))
/// gelu′(x) = Φ(x) + x · φ(x),   φ(x) = exp(−x²/2) / √(2π)
/// ```
///
/// Shapes are unchanged. Float64 evaluates erf and exp with libm; Float32 uses PDEKit's
/// vectorizable kernels (Φ within a few ulp, accurate in the negative tail), as PyTorch's CPU
/// kernels use vectorized approximations.
@specialized(where T == Float)
@specialized(where T == Double)
public func gelu<T: RealScalar>(_ x: Tensor<T>) -> Tensor<T> {
  let vx = x.value
  let n = vx.count
  let invSqrt2 = T(0.70710678118654752440084436210484903928)
  // Only x is kept for the pullback, which recomputes Φ(x) (as PyTorch's GELU backward does):
  // one array fewer held per GELU for the whole forward pass.
  var y = NDArray<T>(shape: vx.shape) { _ in }
  vx.withUnsafeBufferPointer { xp in
    y.withUnsafeMutableBufferPointer { yp in
      let (xs, ys) = (
        SharedPointer(base: UnsafeMutablePointer(mutating: xp.baseAddress!)), SharedPointer(base: yp.baseAddress!)
      )
      parallelChunks(n) { range in
        if T.self == Float.self {
          let (x, y) = (floats(xs), floats(ys))
          for i in range {
            let v = x[i]
            y[i] = v * fastNormalCDF(v)
          }
        } else {
          for i in range {
            let v = xs.base[i]
            ys.base[i] = v * (T(0.5) * (1 + erfT(v * invSqrt2)))
          }
        }
      }
    }
  }
  return Tensor.record(y, [x]) { g, _ in
    let invSqrt2Pi = T(0.39894228040143267793994605993438186848)
    var d = NDArray<T>(shape: vx.shape) { _ in }
    vx.withUnsafeBufferPointer { xp in
      g.withUnsafeBufferPointer { gp in
        d.withUnsafeMutableBufferPointer { dp in
          let (xs, gs, ds) = (
            SharedPointer(base: UnsafeMutablePointer(mutating: xp.baseAddress!)),
            SharedPointer(base: UnsafeMutablePointer(mutating: gp.baseAddress!)), SharedPointer(base: dp.baseAddress!)
          )
          parallelChunks(n) { range in
            if T.self == Float.self {
              let (x, g, d) = (floats(xs), floats(gs), floats(ds))
              let k = Float(invSqrt2Pi)
              for i in range {
                let v = x[i]
                let (cdf, e) = fastNormalCDFAndGaussian(v)
                d[i] = g[i] * mulAdd(v * k, e, cdf)
              }
            } else {
              for i in range {
                let v = xs.base[i]
                let c = T(0.5) * (1 + erfT(v * invSqrt2))
                ds.base[i] = gs.base[i] * (c + v * invSqrt2Pi * expT(T(-0.5) * v * v))
              }
            }
          }
        }
      }
    }
    return [d]
  }
}
