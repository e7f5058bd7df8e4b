// Elementwise arithmetic with broadcasting, reductions, reshape and concatenation on `Tensor`,
// each with its pullback. Broadcasting follows NumPy; the pullback of a broadcast operand sums
// the cotangent over the broadcast axes (`NDArray.sum(toShape:)`).
import Numerics

extension Tensor {
  /// Elementwise sum with broadcasting.
  ///
  /// ```
  /// c = a + b          shape broadcast(a.shape, b.shape)
  /// ∂a = Σ_broadcast ḡ,  ∂b = Σ_broadcast ḡ
  /// ```
  @specialized(where T == Float)
  @specialized(where T == Double)
  public static func + (a: Tensor, b: Tensor) -> Tensor {
    let (sa, sb) = (a.shape, b.shape)
    return record(.broadcasting(a.value, b.value, .add), [a, b]) { g, need in
      [need[0] ? g.sum(toShape: sa) : nil, need[1] ? g.sum(toShape: sb) : nil]
    }
  }

  /// Elementwise difference with broadcasting.
  @specialized(where T == Float)
  @specialized(where T == Double)
  public static func - (a: Tensor, b: Tensor) -> Tensor {
    let (sa, sb) = (a.shape, b.shape)
    return record(.broadcasting(a.value, b.value, .subtract), [a, b]) { g, need in
      [need[0] ? g.sum(toShape: sa) : nil, need[1] ? scaled(g, by: -1).sum(toShape: sb) : nil]
    }
  }

  /// Elementwise (Hadamard) product with broadcasting.
  ///
  /// ```
  /// c = a ⊙ b
  /// ∂a = Σ_broadcast ḡ ⊙ b,  ∂b = Σ_broadcast ḡ ⊙ a
  /// ```
  @specialized(where T == Float)
  @specialized(where T == Double)
  public static func * (a: Tensor, b: Tensor) -> Tensor {
    let (va, vb) = (a.value, b.value)
    return record(.broadcasting(va, vb, .multiply), [a, b]) { g, need in
      [
        need[0] ? NDArray.sumOfProducts(g, vb, toShape: va.shape) : nil,
        need[1] ? NDArray.sumOfProducts(g, va, toShape: vb.shape) : nil,
      ]
    }
  }

  /// Multiplication by a constant scalar.
  @specialized(where T == Float)
  @specialized(where T == Double)
  public static func * (s: T, a: Tensor) -> Tensor {
    record(scaled(a.value, by: s), [a]) { g, _ in [scaled(g, by: s)] }
  }

  /// Multiplication by a constant scalar.
  public static func * (a: Tensor, s: T) -> Tensor { s * a }

  /// Negation.
  public static prefix func - (a: Tensor) -> Tensor { T(-1) * a }

  /// Sum of all elements, a tensor of shape `[]`.
  ///
  /// ```
  /// s = Σᵢ aᵢ        ∂a = ḡ · 1
  /// ```
  @specialized(where T == Float)
  @specialized(where T == Double)
  public func sum() -> Tensor {
    let shape = self.shape
    let total = value.withUnsafeBufferPointer { p in
      var acc = 0.0
      for i in 0..<p.count { acc += Double(p[i]) }
      return T(acc)
    }
    return Tensor.record(NDArray(shape: [], repeating: total), [self]) { g, _ in
      let v = g.withUnsafeBufferPointer { $0[0] }
      return [NDArray(shape: shape) { $0.update(repeating: v) }]
    }
  }

  /// Mean of all elements, a tensor of shape `[]`.
  public func mean() -> Tensor { sum() * (T(1) / T(Swift.max(1, count))) }

  /// Sum over `axes`, keeping them with extent 1 when `keepingDimensions` is true.
  ///
  /// ```
  /// a: [2, 3, 4]   sum(alongAxes: [1])            → [2, 4]
  ///                sum(alongAxes: [1], keeping…)  → [2, 1, 4]
  /// ∂a = ḡ broadcast back over the summed axes
  /// ```
  @specialized(where T == Float)
  @specialized(where T == Double)
  public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let shape = self.shape
    let normalized = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
    precondition(normalized.allSatisfy { (0..<rank).contains($0) }, "axes \(axes) out of range for rank \(rank)")
    let kept = shape.enumerated().map { normalized.contains($0.offset) ? 1 : $0.element }
    let reduced = value.sum(toShape: kept)
    let outShape =
      keepingDimensions ? kept : shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
    return Tensor.record(reduced.reshaped(outShape), [self]) { g, _ in
      [g.reshaped(kept).broadcast(to: shape)]
    }
  }

  /// The same elements with a new shape (one extent may be −1).
  public func reshaped(_ newShape: [Int]) -> Tensor {
    let shape = self.shape
    return Tensor.record(value.reshaped(newShape), [self]) { g, _ in [g.reshaped(shape)] }
  }
}

/// Concatenates tensors along `axis`; all other extents must agree.
///
/// ```
/// concatenate([a: [2, 3, 5], b: [2, 1, 5]], axis: 1) → [2, 4, 5]
/// ∂a, ∂b = the matching slices of ḡ
/// ```
@specialized(where T == Float)
@specialized(where T == Double)
public func concatenate<T: RealScalar>(_ tensors: [Tensor<T>], axis: Int) -> Tensor<T> {
  precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
  let rank = tensors[0].rank
  let ax = axis < 0 ? axis + rank : axis
  precondition((0..<rank).contains(ax), "axis \(axis) out of range for rank \(rank)")
  for t in tensors {
    precondition(
      t.rank == rank && (0..<rank).allSatisfy { $0 == ax || t.shape[$0] == tensors[0].shape[$0] },
      "concatenate: shape \(t.shape) does not match \(tensors[0].shape) off axis \(ax)")
  }
  let outer = tensors[0].shape[..<ax].reduce(1, *)
  let inner = tensors[0].shape[(ax + 1)...].reduce(1, *)
  let widths = tensors.map { $0.shape[ax] * inner }
  let total = widths.reduce(0, +)
  var outShape = tensors[0].shape
  outShape[ax] = tensors.map { $0.shape[ax] }.reduce(0, +)
  var out: NDArray<T> = zeroArray(outShape)
  out.withUnsafeMutableBufferPointer { op in
    var start = 0
    for (t, w) in zip(tensors, widths) {
      t.value.withUnsafeBufferPointer { tp in
        for o in 0..<outer { (op.baseAddress! + o * total + start).update(from: tp.baseAddress! + o * w, count: w) }
      }
      start += w
    }
  }
  let shapes = tensors.map(\.shape)
  return Tensor.record(out, tensors) { g, need in
    var start = 0
    return g.withUnsafeBufferPointer { gp in
      zip(shapes, widths).enumerated().map { k, sw in
        defer { start += sw.1 }
        guard need[k] else { return nil }
        return NDArray<T>(shape: sw.0) { dp in
          for o in 0..<outer {
            (dp.baseAddress! + o * sw.1).update(from: gp.baseAddress! + o * total + start, count: sw.1)
          }
        }
      }
    }
  }
}

extension Tensor {
  /// The slice `range` of axis `axis` (`torch.narrow`).
  ///
  /// ```
  /// x: [2, 7, 5]  narrowed(axis: 1, 2..<5) → [2, 3, 5],   y[i, j, k] = x[i, 2 + j, k]
  /// ∂x = ḡ in the slice, 0 elsewhere
  /// ```
  @specialized(where T == Float)
  @specialized(where T == Double)
  public func narrowed(axis: Int, _ range: Range<Int>) -> Tensor {
    let ax = axis < 0 ? axis + rank : axis
    precondition((0..<rank).contains(ax), "narrowed: axis \(axis) out of range for rank \(rank)")
    precondition(
      range.lowerBound >= 0 && range.upperBound <= shape[ax], "narrowed: \(range) is outside axis \(ax) of \(shape)")
    let shape = self.shape
    let outer = shape[..<ax].reduce(1, *)
    let inner = shape[(ax + 1)...].reduce(1, *)
    let (full, part, start) = (shape[ax] * inner, range.count * inner, range.lowerBound * inner)
    var outShape = shape
    outShape[ax] = range.count
    let y = NDArray<T>(shape: outShape) { yp in
      value.withUnsafeBufferPointer { xp in
        for o in 0..<outer {
          (yp.baseAddress! + o * part).update(from: xp.baseAddress! + o * full + start, count: part)
        }
      }
    }
    return Tensor.record(y, [self]) { g, _ in
      var dx: NDArray<T> = zeroArray(shape)
      dx.withUnsafeMutableBufferPointer { dp in
        g.withUnsafeBufferPointer { gp in
          for o in 0..<outer {
            (dp.baseAddress! + o * full + start).update(from: gp.baseAddress! + o * part, count: part)
          }
        }
      }
      return [dx]
    }
  }
}
