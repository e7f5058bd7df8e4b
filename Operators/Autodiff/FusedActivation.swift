// A sum, an optional per-channel gate and GELU in one pass: the tail of both halves of an FNO block
// (neuralop/layers/fno_block.py: `gelu(conv(x) + skip(x))` and `gelu(mlp(h) + gate ⊙ x)`).
// Done as separate tape ops these are a product, a sum and the activation, each one pass over
// [B, C, n…] arrays that do not fit in cache, plus their pullbacks; at FNO sizes the passes, not
// the arithmetic, are what they cost. Fused: one pass forward (the sum is not stored; the
// pullback recomputes it from the operands), one pass back.
// GELU: D. Hendrycks, K. Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415.
import Numerics

/// `act(a + b ⊙ w)` in one pass, with `act` GELU (exact form) or the identity.
///
/// ```
/// a, b: [B, C, n₁, …]   w: C values (any shape of C elements, e.g. [1, C, 1, …]) or none (w = 1)
/// z = a + b ⊙ w          (w broadcast over batch and space)
/// y = gelu(z)  if activation,  else z
/// ∂z = ḡ ⊙ gelu′(z) (or ḡ);  ∂a = ∂z;  ∂b = ∂z ⊙ w;  ∂w[c] = Σ_{batch, points} ∂z ⊙ b
/// ```
///
/// Equals `gelu(a + b * w)` up to rounding (Float computes a + b·w with one rounding). The
/// pullback keeps `a` and `b`, not `z`.
@specialized(where T == Float)
@specialized(where T == Double)
public func addGELU<T: RealScalar>(_ a: Tensor<T>, _ b: Tensor<T>, gate: Tensor<T>? = nil, activation: Bool = true)
  -> Tensor<T>
{
  precondition(a.shape == b.shape, "addGELU: operands of shapes \(a.shape) and \(b.shape) differ")
  precondition(a.rank >= 2, "addGELU: operands need [batch, channels, …], got \(a.shape)")
  let channels = a.shape[1]
  if let gate { precondition(gate.count == channels, "addGELU: gate of shape \(gate.shape) for \(channels) channels") }
  let rows = a.shape[0] * channels
  let points = a.count / Swift.max(1, rows)
  let (va, vb) = (a.value, b.value)
  let vw = gate?.value
  var y: NDArray<T> = uninitializedArray(a.shape)
  withRows(va, vb, vw) { ap, bp, wp in
    y.withUnsafeMutableBufferPointer { yp in
      let ys = SharedPointer(base: yp.baseAddress!)
      parallelChunks(rows, minimumChunk: Swift.max(1, (1 << 15) / Swift.max(1, points))) { range in
        for r in range {
          let w = wp.map { $0.base[r % channels] } ?? 1
          let (x1, x2, out) = (ap.base + r * points, bp.base + r * points, ys.base + r * points)
          if T.self == Float.self {
            let (p, q, o) = (
              floats(SharedPointer(base: x1)), floats(SharedPointer(base: x2)), floats(SharedPointer(base: out))
            )
            let wf = Float(w)
            if activation {
              for j in 0..<points {
                let z = mulAdd(q[j], wf, p[j])
                o[j] = z * fastNormalCDF(z)
              }
            } else {
              for j in 0..<points { o[j] = mulAdd(q[j], wf, p[j]) }
            }
          } else {
            for j in 0..<points {
              let z = x1[j] + x2[j] * w
              out[j] = activation ? z * (T(0.5) * (1 + erfT(z * T(0.70710678118654752440084436210484903928)))) : z
            }
          }
        }
      }
    }
  }
  let gateShape = gate?.shape
  let inputs = gate.map { [a, b, $0] } ?? [a, b]
  return Tensor.record(y, inputs) { g, need in
    // ∂z, with ∂a = ∂z; ∂b = ∂z ⊙ w and the gate's per-row sums Σ ∂z ⊙ b when gated.
    var dz: NDArray<T> = uninitializedArray(va.shape)
    var db: NDArray<T>? = vw != nil && need[1] ? uninitializedArray(va.shape) : nil
    let wantRowSums = vw != nil && need.count == 3 && need[2]
    var rowSums = [Double](repeating: 0, count: rows + 1)
    withRows(va, vb, vw) { ap, bp, wp in
      g.withUnsafeBufferPointer { gp in
        dz.withUnsafeMutableBufferPointer { dp in
          withOptionalMutable(&db) { dbp in
            rowSums.withUnsafeMutableBufferPointer { sp in
              let (gs, ds, ss) = (
                SharedPointer(base: UnsafeMutablePointer(mutating: gp.baseAddress!)),
                SharedPointer(base: dp.baseAddress!),
                SharedPointer(base: sp.baseAddress!)
              )
              let dbs = dbp
              parallelChunks(rows, minimumChunk: Swift.max(1, (1 << 15) / Swift.max(1, points))) { range in
                for r in range {
                  let w = wp.map { $0.base[r % channels] } ?? 1
                  let (x1, x2) = (ap.base + r * points, bp.base + r * points)
                  let (gr, dr) = (gs.base + r * points, ds.base + r * points)
                  geluSlopeOfSum(x1, x2, gate: w, cotangent: gr, into: dr, count: points, activation: activation)
                  if let dbs {
                    let o = dbs.base + r * points
                    for j in 0..<points { o[j] = dr[j] * w }
                  }
                  if wantRowSums { ss.base[r] = contiguousDot(dr, x2, points) }
                }
              }
            }
          }
        }
      }
    }
    var result: [NDArray<T>?] = [need[0] ? dz : nil, need[1] ? (db ?? dz) : nil]
    if let gateShape {
      result.append(
        wantRowSums
          ? NDArray<T>(shape: gateShape) { wp in
            for c in 0..<channels {
              var s = 0.0
              for r in stride(from: c, to: rows, by: channels) { s += rowSums[r] }
              wp[c] = T(s)
            }
          } : nil)
    }
    return result
  }
}

/// Calls `body` with shared pointers to the elements of `a`, `b` and (if present) `w`.
@inline(__always)
private func withRows<T: RealScalar>(
  _ a: NDArray<T>, _ b: NDArray<T>, _ w: NDArray<T>?,
  _ body: (SharedPointer<T>, SharedPointer<T>, SharedPointer<T>?) -> Void
) {
  guard a.count > 0 else { return }
  a.withUnsafeBufferPointer { ap in
    b.withUnsafeBufferPointer { bp in
      let (sa, sb) = (
        SharedPointer(base: UnsafeMutablePointer(mutating: ap.baseAddress!)),
        SharedPointer(base: UnsafeMutablePointer(mutating: bp.baseAddress!))
      )
      guard let w else { return body(sa, sb, nil) }
      w.withUnsafeBufferPointer { wp in
        body(sa, sb, SharedPointer(base: UnsafeMutablePointer(mutating: wp.baseAddress!)))
      }
    }
  }
}

/// Calls `body` with a shared pointer to the elements of `array`, or nil when there is none.
@inline(__always)
func withOptionalMutable<T: RealScalar>(_ array: inout NDArray<T>?, _ body: (SharedPointer<T>?) -> Void) {
  guard array != nil else { return body(nil) }
  array!.withUnsafeMutableBufferPointer { body(SharedPointer(base: $0.baseAddress!)) }
}

/// out[j] = ḡ[j] · act′(a[j] + w·b[j]), act = GELU (Float: a + w·b with one rounding), or
/// out[j] = ḡ[j] without activation. `out` may be `a`.
@inline(__always)
func geluSlopeOfSum<T: RealScalar>(
  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, gate w: T, cotangent g: UnsafePointer<T>,
  into out: UnsafeMutablePointer<T>, count: Int, activation: Bool
) {
  guard activation else {
    out.update(from: g, count: count)
    return
  }
  if T.self == Float.self {
    func f(_ p: UnsafePointer<T>) -> UnsafeMutablePointer<Float> {
      floats(SharedPointer(base: UnsafeMutablePointer(mutating: p)))
    }
    let (af, bf, gf, of) = (f(a), f(b), f(g), floats(SharedPointer(base: out)))
    let (wf, k) = (Float(w), Float(0.398_942_280_401_432_677_94))
    for j in 0..<count {
      let z = mulAdd(bf[j], wf, af[j])
      let (cdf, e) = fastNormalCDFAndGaussian(z)
      of[j] = gf[j] * mulAdd(z * k, e, cdf)
    }
  } else {
    for j in 0..<count {
      let z = a[j] + b[j] * w
      let cdf = T(0.5) * (1 + erfT(z * T(0.70710678118654752440084436210484903928)))
      out[j] = g[j] * (cdf + z * T(0.39894228040143267793994605993438186848) * expT(T(-0.5) * z * z))
    }
  }
}
