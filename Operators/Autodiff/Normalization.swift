// Normalization layers on the tape: layer normalization over the last axis (torch.nn.LayerNorm),
// and group / instance normalization over all positions of a channel-last field, as the
// factorized transformers use them (FactFormer's domain-wise `GroupNorm` with one group per head,
// IFactFormer-m's `InstanceNorm3d`). All are one kernel: the array is viewed as
// [outer, positions, groups, width] and each (outer, group) set of positions × width values is
// shifted to mean 0 and scaled to variance 1. Statistics accumulate in Double.
//
// References: J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer Normalization", arXiv:1607.06450;
// Y. Wu, K. He, "Group Normalization", ECCV 2018; D. Ulyanov, A. Vedaldi, V. Lempitsky,
// "Instance Normalization", arXiv:1607.08022.
import Numerics

/// Normalizes each (outer, group) set of `positions · width` values of `x` viewed as
/// [outer, positions, groups, width]:
///
/// ```
/// y = (x − μ) / √(σ² + ε),   σ² = Σ (x − μ)² / (n − c),  n = positions · width,  c = 1 if unbiased else 0
/// ∂x = (ḡ − mean(ḡ) − y · Σ(ḡ ⊙ y) / (n − c)) / √(σ² + ε)        (per set)
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
func normalizeSets<T: RealScalar>(
  _ x: Tensor<T>, outer: Int, positions: Int, groups: Int, width: Int, eps: Double, unbiased: Bool
) -> Tensor<T> {
  precondition(outer * positions * groups * width == x.count, "normalizeSets: layout does not cover \(x.shape)")
  let n = positions * width
  let divisor = Double(n - (unbiased ? 1 : 0))
  precondition(
    divisor > 0, "normalization over \(n) value(s)\(unbiased ? " with the unbiased variance" : "") is undefined")
  let sets = outer * groups
  let rowStride = groups * width
  var y: NDArray<T> = uninitializedArray(x.shape)
  // 1/√(σ² + ε) per set, kept for the pullback with y.
  var inverse = [T](repeating: 0, count: sets)
  // Sets spread over many positions (group and instance norm of a channel-last field) accumulate
  // per lane of the contiguous row of groups · width values, so the loops run along rows and
  // vectorize; sets of one position (a contiguous run of `width` values) sum that run.
  let byLane = positions > 1 && rowStride <= 4096
  x.value.withUnsafeBufferPointer { xp in
    y.withUnsafeMutableBufferPointer { yp in
      var sum = [Double](repeating: 0, count: groups)
      var squares = [Double](repeating: 0, count: groups)
      var shifts = [Double](repeating: 0, count: groups)
      var lanes = LaneScratch<T>(byLane ? rowStride : 0)
      for o in 0..<outer {
        let base = o * positions * rowStride
        for g in 0..<groups {
          sum[g] = 0
          squares[g] = 0
        }
        if byLane {
          lanes.clear()
          for p in 0..<positions { lanes.accumulate(xp.baseAddress! + base + p * rowStride) }
          lanes.groupTotals(first: true, groups: groups, width: width, into: &sum)
          for g in 0..<groups { sum[g] /= Double(n) }
          lanes.clear()
          lanes.setShift(sum, width: width)
          for p in 0..<positions { lanes.accumulateSquares(xp.baseAddress! + base + p * rowStride) }
          lanes.groupTotals(first: false, groups: groups, width: width, into: &squares)
        } else {
          // One pass for both sums, shifted by the set's first value (Double sums of x − x₀ lose
          // nothing to cancellation at these sizes): mean = x₀ + S/n, Σ(x − mean)² = Q − S²/n.
          for g in 0..<groups { shifts[g] = Double(xp[base + g * width]) }
          for p in 0..<positions {
            let row = xp.baseAddress! + base + p * rowStride
            for g in 0..<groups {
              let (s1, s2) = partialSums(row + g * width, width, shift: shifts[g])
              sum[g] += s1
              squares[g] += s2
            }
          }
          for g in 0..<groups {
            squares[g] = Swift.max(0, squares[g] - sum[g] * sum[g] / Double(n))
            sum[g] = shifts[g] + sum[g] / Double(n)
          }
        }
        for g in 0..<groups { inverse[o * groups + g] = T(1 / (squares[g] / divisor + eps).squareRoot()) }
        if byLane {
          lanes.setAffine(mean: sum, scale: Array(inverse[o * groups..<(o + 1) * groups]), width: width)
          for p in 0..<positions {
            lanes.applyAffine(xp.baseAddress! + base + p * rowStride, yp.baseAddress! + base + p * rowStride)
          }
        } else {
          for p in 0..<positions {
            let row = xp.baseAddress! + base + p * rowStride
            let out = yp.baseAddress! + base + p * rowStride
            for g in 0..<groups {
              let mu = T(sum[g])
              let s = inverse[o * groups + g]
              let (src, dst) = (row + g * width, out + g * width)
              for j in 0..<width { dst[j] = (src[j] - mu) * s }
            }
          }
        }
      }
    }
  }
  let vy = y
  let scales = inverse
  return Tensor.record(y, [x]) { g, _ in
    var dx: NDArray<T> = uninitializedArray(vy.shape)
    g.withUnsafeBufferPointer { gp in
      vy.withUnsafeBufferPointer { yp in
        dx.withUnsafeMutableBufferPointer { dp in
          var sumG = [Double](repeating: 0, count: groups)
          var sumGY = [Double](repeating: 0, count: groups)
          var lanes = LaneScratch<T>(byLane ? rowStride : 0)
          for o in 0..<outer {
            let base = o * positions * rowStride
            for k in 0..<groups {
              sumG[k] = 0
              sumGY[k] = 0
            }
            if byLane {
              lanes.clear()
              for p in 0..<positions {
                lanes.accumulateProducts(gp.baseAddress! + base + p * rowStride, yp.baseAddress! + base + p * rowStride)
              }
              lanes.groupTotals(first: true, groups: groups, width: width, into: &sumG)
              lanes.groupTotals(first: false, groups: groups, width: width, into: &sumGY)
              lanes.setPullback(
                meanG: sumG.map { T($0 / Double(n)) }, c: sumGY.map { T($0 / divisor) },
                scale: Array(scales[o * groups..<(o + 1) * groups]), width: width)
              for p in 0..<positions {
                let at = base + p * rowStride
                lanes.applyPullback(gp.baseAddress! + at, yp.baseAddress! + at, dp.baseAddress! + at)
              }
              continue
            }
            for p in 0..<positions {
              let gr = gp.baseAddress! + base + p * rowStride
              let yr = yp.baseAddress! + base + p * rowStride
              for k in 0..<groups {
                let (a, b) = partialSumAndDot(gr + k * width, yr + k * width, width)
                sumG[k] += a
                sumGY[k] += b
              }
            }
            for p in 0..<positions {
              let gr = gp.baseAddress! + base + p * rowStride
              let yr = yp.baseAddress! + base + p * rowStride
              let dr = dp.baseAddress! + base + p * rowStride
              for k in 0..<groups {
                let meanG = T(sumG[k] / Double(n))
                let c = T(sumGY[k] / divisor)
                let s = scales[o * groups + k]
                let (gk, yk, dk) = (gr + k * width, yr + k * width, dr + k * width)
                for j in 0..<width { dk[j] = (gk[j] - meanG - yk[j] * c) * s }
              }
            }
          }
        }
      }
    }
    return [dx]
  }
}

/// Per-lane accumulators over the rows of a [positions, row] block (row = groups · width values),
/// for normalizations whose sets are narrow: every loop runs along a contiguous row.
private struct LaneScratch<T: RealScalar> {
  let count: Int
  /// Two Double accumulators per lane.
  var first: [Double]
  var second: [Double]
  /// Per-lane constants (shift in Double; a, b, c in T).
  var shift: [Double]
  var a: [T]
  var b: [T]
  var c: [T]

  init(_ count: Int) {
    self.count = count
    first = Array(repeating: 0, count: count)
    second = Array(repeating: 0, count: count)
    shift = Array(repeating: 0, count: count)
    a = Array(repeating: 0, count: count)
    b = Array(repeating: 0, count: count)
    c = Array(repeating: 0, count: count)
  }

  mutating func clear() {
    first.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    second.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
  }

  /// first[i] += row[i].
  @inline(__always) mutating func accumulate(_ row: UnsafePointer<T>) {
    first.withUnsafeMutableBufferPointer { f in
      for i in 0..<count { f[i] += Double(row[i]) }
    }
  }

  /// second[i] += (row[i] − shift[i])².
  @inline(__always) mutating func accumulateSquares(_ row: UnsafePointer<T>) {
    shift.withUnsafeBufferPointer { s in
      second.withUnsafeMutableBufferPointer { q in
        for i in 0..<count {
          let d = Double(row[i]) - s[i]
          q[i] += d * d
        }
      }
    }
  }

  /// first[i] += g[i], second[i] += g[i]·y[i].
  @inline(__always) mutating func accumulateProducts(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>) {
    first.withUnsafeMutableBufferPointer { f in
      second.withUnsafeMutableBufferPointer { q in
        for i in 0..<count {
          let gi = Double(g[i])
          f[i] += gi
          q[i] += gi * Double(y[i])
        }
      }
    }
  }

  /// totals[g] += Σ_{j < width} (first or second)[g·width + j].
  func groupTotals(first useFirst: Bool, groups: Int, width: Int, into totals: inout [Double]) {
    let lanes = useFirst ? first : second
    for g in 0..<groups {
      var t = 0.0
      for j in 0..<width { t += lanes[g * width + j] }
      totals[g] += t
    }
  }

  mutating func setShift(_ mean: [Double], width: Int) {
    for i in 0..<count { shift[i] = mean[i / width] }
  }

  mutating func setAffine(mean: [Double], scale: [T], width: Int) {
    for i in 0..<count {
      a[i] = T(mean[i / width])
      b[i] = scale[i / width]
    }
  }

  /// out[i] = (row[i] − a[i]) · b[i].
  @inline(__always) func applyAffine(_ row: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>) {
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        for i in 0..<count { out[i] = (row[i] - a[i]) * b[i] }
      }
    }
  }

  mutating func setPullback(meanG: [T], c cs: [T], scale: [T], width: Int) {
    for i in 0..<count {
      a[i] = meanG[i / width]
      b[i] = cs[i / width]
      c[i] = scale[i / width]
    }
  }

  /// d[i] = (g[i] − a[i] − y[i]·b[i]) · c[i].
  @inline(__always) func applyPullback(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ d: UnsafeMutablePointer<T>) {
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        c.withUnsafeBufferPointer { c in
          for i in 0..<count { d[i] = (g[i] - a[i] - y[i] * b[i]) * c[i] }
        }
      }
    }
  }
}

/// Σ (x − shift) and Σ (x − shift)² over `n` values, in Double with eight independent partial
/// sums (SIMD lanes; a single accumulator is a chain of dependent additions).
@inline(__always) func partialSums<T: RealScalar>(_ x: UnsafePointer<T>, _ n: Int, shift: Double) -> (
  sum: Double, squares: Double
) {
  var s = SIMD8<Double>()
  var q = SIMD8<Double>()
  var j = 0
  let raw = UnsafeRawPointer(x)
  let shifts = SIMD8<Double>(repeating: shift)
  while j + 8 <= n {
    let a =
      (T.self == Float.self
        ? SIMD8<Double>(raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self))
        : raw.loadUnaligned(fromByteOffset: 8 * j, as: SIMD8<Double>.self)) - shifts
    s += a
    q += a * a
    j += 8
  }
  var (st, qt) = (s.sum(), q.sum())
  while j < n {
    let a = Double(x[j]) - shift
    st += a
    qt += a * a
    j += 1
  }
  return (st, qt)
}

/// Σ g and Σ g·y over `n` values, in Double with eight independent partial sums (SIMD lanes).
@inline(__always) func partialSumAndDot<T: RealScalar>(_ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ n: Int) -> (
  Double, Double
) {
  var s = SIMD8<Double>()
  var d = SIMD8<Double>()
  var j = 0
  let (gr, yr) = (UnsafeRawPointer(g), UnsafeRawPointer(y))
  while j + 8 <= n {
    let (a, b) =
      T.self == Float.self
      ? (
        SIMD8<Double>(gr.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)),
        SIMD8<Double>(yr.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self))
      )
      : (
        gr.loadUnaligned(fromByteOffset: 8 * j, as: SIMD8<Double>.self),
        yr.loadUnaligned(fromByteOffset: 8 * j, as: SIMD8<Double>.self)
      )
    s += a
    d += a * b
    j += 8
  }
  var (st, dt) = (s.sum(), d.sum())
  while j < n {
    let a = Double(g[j])
    st += a
    dt += a * Double(y[j])
    j += 1
  }
  return (st, dt)
}

/// Layer normalization over the last axis, with an optional elementwise affine map
/// (`torch.nn.LayerNorm(C)`: biased variance, ε = 1e-5 by default).
///
/// ```
/// y = x̂ ⊙ weight + bias,   x̂ = (x − μ) / √(σ² + ε)        μ, σ² over the last axis of each row
///     x: [..., C],  weight, bias: [C]
/// ĝ = ḡ ⊙ weight:   ∂x = (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)) / √(σ² + ε)     (per row)
/// ∂weight = Σ_rows ḡ ⊙ x̂,   ∂bias = Σ_rows ḡ
/// ```
///
/// One op: the normalization and the affine map run row by row in one pass, the pullback in one
/// more (x̂ is recomputed from x and the kept row statistics). Row statistics accumulate in Double;
/// the parameter gradients in T over blocks of 128 rows, the block sums in Double.
@specialized(where T == Float)
@specialized(where T == Double)
public func layerNorm<T: RealScalar>(
  _ x: Tensor<T>, weight: Tensor<T>? = nil, bias: Tensor<T>? = nil, eps: Double = 1e-5
) -> Tensor<T> {
  precondition(x.rank >= 1 && x.shape.last! >= 1, "layerNorm needs a last axis, got \(x.shape)")
  let c = x.shape.last!
  if let weight { precondition(weight.shape == [c], "layerNorm weight must be [\(c)], got \(weight.shape)") }
  if let bias { precondition(bias.shape == [c], "layerNorm bias must be [\(c)], got \(bias.shape)") }
  let rows = x.count / c
  let vx = x.value
  let w = weight?.value ?? NDArray(shape: [c], repeating: 1)
  let b = bias?.value ?? NDArray(shape: [c], repeating: 0)
  // Per row: the mean and 1/√(σ² + ε), kept for the pullback.
  var means = [T](repeating: 0, count: rows)
  var scales = [T](repeating: 0, count: rows)
  var y: NDArray<T> = uninitializedArray(x.shape)
  vx.withUnsafeBufferPointer { xp in
    w.withUnsafeBufferPointer { wp in
      b.withUnsafeBufferPointer { bp in
        y.withUnsafeMutableBufferPointer { yp in
          means.withUnsafeMutableBufferPointer { mp in
            scales.withUnsafeMutableBufferPointer { sp in
              let (wv, bv) = (wp.baseAddress!, bp.baseAddress!)
              for r in 0..<rows {
                let row = xp.baseAddress! + r * c
                let out = yp.baseAddress! + r * c
                let mu = partialSums(row, c, shift: 0).sum / Double(c)
                let s = 1 / (partialSums(row, c, shift: mu).squares / Double(c) + eps).squareRoot()
                let (m, sc) = (T(mu), T(s))
                mp[r] = m
                sp[r] = sc
                for j in 0..<c { out[j] = (row[j] - m) * sc * wv[j] + bv[j] }
              }
            }
          }
        }
      }
    }
  }
  let inputs = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
  let (rowMeans, rowScales) = (means, scales)
  let (hasWeight, hasBias) = (weight != nil, bias != nil)
  return Tensor.record(y, inputs) { g, need in
    let needX = need[0]
    var dx: NDArray<T> = uninitializedArray(needX ? vx.shape : [0])
    // Σ_rows ḡ ⊙ x̂ and Σ_rows ḡ, per channel.
    var dw = [Double](repeating: 0, count: c)
    var db = [Double](repeating: 0, count: c)
    // Per-row x̂ and ĝ, and Float partial sums of ḡ ⊙ x̂ and ḡ over blocks of 128 rows (flushed
    // into the Double totals): one fused loop per row instead of a Double conversion per element.
    var scratch = [T](repeating: 0, count: 4 * c)
    g.withUnsafeBufferPointer { gp in
      vx.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
          rowMeans.withUnsafeBufferPointer { mp in
            rowScales.withUnsafeBufferPointer { sp in
              dw.withUnsafeMutableBufferPointer { dwp in
                db.withUnsafeMutableBufferPointer { dbp in
                  scratch.withUnsafeMutableBufferPointer { scp in
                    dx.withUnsafeMutableBufferPointer { dp in
                      let (xh, gh, fw, fb) = (
                        scp.baseAddress!, scp.baseAddress! + c, scp.baseAddress! + 2 * c, scp.baseAddress! + 3 * c
                      )
                      let wv = wp.baseAddress!
                      for r in 0..<rows {
                        let (row, gr) = (xp.baseAddress! + r * c, gp.baseAddress! + r * c)
                        let (m, sc) = (mp[r], sp[r])
                        for j in 0..<c {
                          let hat = (row[j] - m) * sc
                          let gj = gr[j]
                          xh[j] = hat
                          gh[j] = gj * wv[j]
                          fw[j] += gj * hat
                          fb[j] += gj
                        }
                        if r % 128 == 127 || r == rows - 1 {
                          for j in 0..<c {
                            dwp[j] += Double(fw[j])
                            dbp[j] += Double(fb[j])
                            fw[j] = 0
                            fb[j] = 0
                          }
                        }
                        guard needX else { continue }
                        let (sumG, sumGX) = partialSumAndDot(UnsafePointer(gh), UnsafePointer(xh), c)
                        let (a, bb) = (T(sumG / Double(c)), T(sumGX / Double(c)))
                        let out = dp.baseAddress! + r * c
                        for j in 0..<c { out[j] = (gh[j] - a - xh[j] * bb) * sc }
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
    var grads: [NDArray<T>?] = [needX ? dx : nil]
    if hasWeight { grads.append(need[1] ? NDArray(shape: [c]) { p in for j in 0..<c { p[j] = T(dw[j]) } } : nil) }
    if hasBias {
      grads.append(need[hasWeight ? 2 : 1] ? NDArray(shape: [c]) { p in for j in 0..<c { p[j] = T(db[j]) } } : nil)
    }
    return grads
  }
}

/// Group normalization of a channel-last field over all its positions (no affine map): the
/// channels split into `groups` consecutive groups, and each (sample, group) is normalized over
/// every position and every channel of the group. FactFormer's `GroupNorm(heads, …, domain_wise=True,
/// affine=False)` uses the unbiased variance (`torch.var`) and ε = 1e-8.
///
/// ```
/// x: [B, n₁, …, n_d, C],  C = groups · w
/// y[b, …, g·w + j] = (x − μ_{b,g}) / √(σ²_{b,g} + ε),   μ, σ² over all positions and the w channels of group g
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func groupNorm<T: RealScalar>(_ x: Tensor<T>, groups: Int, eps: Double, unbiased: Bool) -> Tensor<T> {
  precondition(x.rank >= 2, "groupNorm needs [batch, positions…, channels], got \(x.shape)")
  let c = x.shape.last!
  precondition(groups >= 1 && c % groups == 0, "groupNorm: \(c) channels do not split into \(groups) groups")
  let batch = x.shape[0]
  let positions = x.shape.dropFirst().dropLast().reduce(1, *)
  return normalizeSets(
    x, outer: batch, positions: positions, groups: groups, width: c / groups, eps: eps, unbiased: unbiased)
}

/// Instance normalization of a channel-last field (no affine map), as `torch.nn.InstanceNorm3d`
/// with its defaults: each (sample, channel) normalized over all positions, biased variance,
/// ε = 1e-5.
///
/// ```
/// x: [B, n₁, …, n_d, C]:   y[b, …, c] = (x − μ_{b,c}) / √(σ²_{b,c} + ε)
/// ```
public func instanceNorm<T: RealScalar>(_ x: Tensor<T>, eps: Double = 1e-5) -> Tensor<T> {
  groupNorm(x, groups: x.shape.last!, eps: eps, unbiased: false)
}
