// NumPy-style broadcasting for the elementwise operations of the tape.
//
// Shapes are aligned on their trailing axes; an axis of extent 1 (or a missing leading axis)
// repeats along the other operand's extent. Before looping, axes of extent 1 in the result are
// dropped and adjacent axes along which every operand is either contiguous or broadcast are
// merged, so that the common cases of the layers — a bias [C, 1, 1] or a gate [1, C, 1, 1] over
// [B, C, H, W] — run as a short outer loop over (B, C) and a long inner loop over H·W.
import Numerics

/// An array of zeros, filled in specialized code (NDArray's own initializer is generic).
@inline(__always) func zeroArray<T: RealScalar>(_ shape: [Int]) -> NDArray<T> {
  NDArray(shape: shape) { $0.update(repeating: 0) }
}

/// An array whose every element the caller writes before reading (gemm outputs, FFT outputs).
@inline(__always) func uninitializedArray<T: BitwiseCopyable & Sendable>(_ shape: [Int]) -> NDArray<T> {
  NDArray(shape: shape) { _ in }
}

/// A complex array of zeros.
@inline(__always) func zeroSpectrum<T: RealScalar>(_ count: Int) -> NDArray<Complex<T>> {
  NDArray(shape: [count]) { $0.update(repeating: Complex(0, 0)) }
}

/// Σ p[0 ..< n] accumulated in Double, eight partial sums at a time (vectorized; a fixed order,
/// so the result is reproducible). The plain loop `acc += Double(p[j])` runs one dependent add
/// per element, a few % of an FNO training step in the bias gradients.
@inline(__always) func contiguousSum<T: RealScalar>(_ p: UnsafePointer<T>, _ n: Int) -> Double {
  var acc = SIMD8<Double>()
  var j = 0
  if T.self == Float.self {
    let f = UnsafeRawPointer(p)
    while j + 8 <= n {
      acc += SIMD8<Double>(f.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self))
      j += 8
    }
  } else {
    let d = UnsafeRawPointer(p)
    while j + 8 <= n {
      acc += d.loadUnaligned(fromByteOffset: 8 * j, as: SIMD8<Double>.self)
      j += 8
    }
  }
  var s = acc.sum()
  while j < n {
    s += Double(p[j])
    j += 1
  }
  return s
}

/// Σ p[j]·q[j] for j < n, each product rounded to T and accumulated in Double as
/// ``contiguousSum(_:_:)`` does (eight partial sums, a fixed order).
@inline(__always) func contiguousDot<T: RealScalar>(_ p: UnsafePointer<T>, _ q: UnsafePointer<T>, _ n: Int) -> Double {
  var acc = SIMD8<Double>()
  var j = 0
  if T.self == Float.self {
    let (a, b) = (UnsafeRawPointer(p), UnsafeRawPointer(q))
    while j + 8 <= n {
      let x = a.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
      let y = b.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
      acc += SIMD8<Double>(x * y)
      j += 8
    }
  } else {
    let (a, b) = (UnsafeRawPointer(p), UnsafeRawPointer(q))
    while j + 8 <= n {
      acc +=
        a.loadUnaligned(fromByteOffset: 8 * j, as: SIMD8<Double>.self)
        * b.loadUnaligned(fromByteOffset: 8 * j, as: SIMD8<Double>.self)
      j += 8
    }
  }
  var s = acc.sum()
  while j < n {
    s += Double(p[j] * q[j])
    j += 1
  }
  return s
}

/// `s · a` elementwise.
@inline(__always) func scaled<T: RealScalar>(_ a: NDArray<T>, by s: T) -> NDArray<T> {
  a.withUnsafeBufferPointer { p in NDArray(shape: a.shape) { q in for i in 0..<p.count { q[i] = s * p[i] } } }
}

/// An elementwise binary operation.
enum BinaryOperation {
  case add, subtract, multiply
}

/// The broadcast of two shapes, or nil when they are incompatible.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
  let rank = max(a.count, b.count)
  var out = [Int](repeating: 1, count: rank)
  for i in 0..<rank {
    let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
    let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
    guard x == y || x == 1 || y == 1 else { return nil }
    out[i] = x == 1 ? y : x
  }
  return out
}

/// Loop structure of a broadcast over `shape` with up to two broadcast operands.
struct BroadcastLayout {
  /// Coalesced extents (outer axes first; the last is the inner loop). Empty means one element.
  var extents: [Int]
  /// Coalesced strides of the result and of each operand (0 on broadcast axes).
  var strides: [[Int]]

  init(result shape: [Int], operands: [[Int]]) {
    let rank = shape.count
    var all: [[Int]] = [contiguousStrides(shape)]
    for s in operands {
      precondition(s.count <= rank, "operand shape \(s) has more axes than the result \(shape)")
      let padded = [Int](repeating: 1, count: rank - s.count) + s
      let cs = contiguousStrides(padded)
      all.append((0..<rank).map { padded[$0] == 1 && shape[$0] != 1 ? 0 : cs[$0] })
    }
    var ext: [Int] = []
    var str: [[Int]] = Array(repeating: [], count: all.count)
    for i in 0..<rank where shape[i] != 1 {
      if let last = ext.last, (0..<all.count).allSatisfy({ str[$0].last! == all[$0][i] * shape[i] }) {
        ext[ext.count - 1] = last * shape[i]
        for k in 0..<all.count { str[k][str[k].count - 1] = all[k][i] }
      } else {
        ext.append(shape[i])
        for k in 0..<all.count { str[k].append(all[k][i]) }
      }
    }
    extents = ext
    strides = str
  }

  /// Calls `body(offsets, n, innerStrides)` for each inner row: element j of the row is at
  /// `offsets[k] + j * innerStrides[k]` in buffer k (0 = result, 1… = operands).
  @inline(__always)
  func forEachRow(_ body: (_ offsets: (Int, Int, Int), _ n: Int, _ inner: (Int, Int, Int)) -> Void) {
    let k = strides.count
    func s(_ op: Int, _ axis: Int) -> Int { op < k ? strides[op][axis] : 0 }
    guard let n = extents.last else {
      body((0, 0, 0), 1, (0, 0, 0))
      return
    }
    let d = extents.count - 1
    let inner = (s(0, d), s(1, d), s(2, d))
    let outer = extents.dropLast().reduce(1, *)
    var counter = [Int](repeating: 0, count: d)
    var off = (0, 0, 0)
    for _ in 0..<outer {
      body(off, n, inner)
      // Advance the odometer over the outer axes.
      var axis = d - 1
      while axis >= 0 {
        counter[axis] += 1
        off.0 += s(0, axis)
        off.1 += s(1, axis)
        off.2 += s(2, axis)
        if counter[axis] < extents[axis] { break }
        off.0 -= s(0, axis) * extents[axis]
        off.1 -= s(1, axis) * extents[axis]
        off.2 -= s(2, axis) * extents[axis]
        counter[axis] = 0
        axis -= 1
      }
    }
  }
}

func contiguousStrides(_ shape: [Int]) -> [Int] {
  var s = [Int](repeating: 1, count: shape.count)
  var acc = 1
  for i in stride(from: shape.count - 1, through: 0, by: -1) {
    s[i] = acc
    acc *= shape[i]
  }
  return s
}

extension NDArray where Element: RealScalar {
  /// `a op b` elementwise with broadcasting (one loop per operation, no closure per element).
  @specialized(where Element == Float)
  @specialized(where Element == Double)
  static func broadcasting(_ a: NDArray, _ b: NDArray, _ op: BinaryOperation) -> NDArray {
    guard let shape = broadcastShape(a.shape, b.shape) else {
      preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    @Sendable @inline(__always) func row(
      _ o: UnsafeMutablePointer<Element>, _ p: UnsafePointer<Element>, _ q: UnsafePointer<Element>, _ n: Int,
      _ st: (Int, Int, Int)
    ) {
      switch (op, st.1, st.2) {
      case (.add, 1, 1): for j in 0..<n { o[j] = p[j] + q[j] }
      case (.add, 1, 0): for j in 0..<n { o[j] = p[j] + q[0] }
      case (.add, 0, 1): for j in 0..<n { o[j] = p[0] + q[j] }
      case (.add, _, _): for j in 0..<n { o[j * st.0] = p[j * st.1] + q[j * st.2] }
      case (.subtract, 1, 1): for j in 0..<n { o[j] = p[j] - q[j] }
      case (.subtract, _, _): for j in 0..<n { o[j * st.0] = p[j * st.1] - q[j * st.2] }
      case (.multiply, 1, 1): for j in 0..<n { o[j] = p[j] * q[j] }
      case (.multiply, 1, 0): for j in 0..<n { o[j] = p[j] * q[0] }
      case (.multiply, 0, 1): for j in 0..<n { o[j] = p[0] * q[j] }
      case (.multiply, _, _): for j in 0..<n { o[j * st.0] = p[j * st.1] * q[j * st.2] }
      }
    }
    return a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        NDArray(shape: shape) { cp in
          guard let c = cp.baseAddress, let x = ap.baseAddress, let y = bp.baseAddress else { return }
          if a.shape == b.shape {
            // Same shapes (residual sums, gating products): a memory-bound pass split over the cores.
            let (cs, xs, ys) = (
              SharedPointer(base: c), SharedPointer(base: UnsafeMutablePointer(mutating: x)),
              SharedPointer(base: UnsafeMutablePointer(mutating: y))
            )
            parallelChunks(cp.count) { r in
              row(cs.base + r.lowerBound, xs.base + r.lowerBound, ys.base + r.lowerBound, r.count, (1, 1, 1))
            }
            return
          }
          BroadcastLayout(result: shape, operands: [a.shape, b.shape]).forEachRow { off, n, st in
            row(c + off.0, x + off.1, y + off.2, n, st)
          }
        }
      }
    }
  }

  /// (g ⊙ a) summed to `shape` (the cotangent of a broadcast product's other operand) in one
  /// pass, without forming g ⊙ a: `g` has the broadcast shape, `a` and `shape` broadcast to it.
  @specialized(where Element == Float)
  @specialized(where Element == Double)
  static func sumOfProducts(_ g: NDArray, _ a: NDArray, toShape shape: [Int]) -> NDArray {
    if shape == g.shape { return broadcasting(g, a, .multiply) }
    guard broadcastShape(shape, g.shape) == g.shape, broadcastShape(a.shape, g.shape) == g.shape else {
      preconditionFailure("shapes \(shape) and \(a.shape) do not broadcast to \(g.shape)")
    }
    var out: NDArray = zeroArray(shape)
    g.withUnsafeBufferPointer { gp in
      a.withUnsafeBufferPointer { ap in
        out.withUnsafeMutableBufferPointer { rp in
          guard let gb = gp.baseAddress, let ab = ap.baseAddress, let r = rp.baseAddress else { return }
          BroadcastLayout(result: g.shape, operands: [a.shape, shape]).forEachRow { off, n, st in
            let (p, q, o) = (gb + off.0, ab + off.1, r + off.2)
            if st.2 == 0 {
              var acc = 0.0
              if st.0 == 1 && st.1 == 1 {
                acc = contiguousDot(p, q, n)
              } else {
                for j in 0..<n { acc += Double(p[j * st.0] * q[j * st.1]) }
              }
              o[0] += Element(acc)
            } else {
              for j in 0..<n { o[j * st.2] += p[j * st.0] * q[j * st.1] }
            }
          }
        }
      }
    }
    return out
  }

  /// This array repeated to `shape` (broadcasting).
  @specialized(where Element == Float)
  @specialized(where Element == Double)
  func broadcast(to shape: [Int]) -> NDArray {
    if self.shape == shape { return self }
    guard broadcastShape(self.shape, shape) == shape else {
      preconditionFailure("shape \(self.shape) does not broadcast to \(shape)")
    }
    return withUnsafeBufferPointer { ap in
      NDArray(shape: shape) { cp in
        guard let c = cp.baseAddress, let x = ap.baseAddress else { return }
        BroadcastLayout(result: shape, operands: [self.shape]).forEachRow { off, n, st in
          let (o, p) = (c + off.0, x + off.1)
          if st.1 == 0 {
            let v = p[0]
            for j in 0..<n { o[j * st.0] = v }
          } else {
            for j in 0..<n { o[j * st.0] = p[j * st.1] }
          }
        }
      }
    }
  }

  /// Sums this array over the axes along which `shape` was broadcast to produce it: the adjoint
  /// of `broadcast(to:)`. Rows reduced along their inner axis accumulate in Double.
  @specialized(where Element == Float)
  @specialized(where Element == Double)
  func sum(toShape shape: [Int]) -> NDArray {
    if self.shape == shape { return self }
    guard broadcastShape(shape, self.shape) == self.shape else {
      preconditionFailure("shape \(shape) does not broadcast to \(self.shape)")
    }
    // A bias over the last axis (Linear on channel-last data): column sums of [rows, n], one row
    // at a time into Double accumulators (a vectorized loop, not a call per row).
    if shape.count == 1, let n = self.shape.last, n == shape[0], n > 0 {
      let rows = count / n
      var acc = [Double](repeating: 0, count: n)
      withUnsafeBufferPointer { gp in
        acc.withUnsafeMutableBufferPointer { ap in
          for r in 0..<rows {
            let row = gp.baseAddress! + r * n
            for j in 0..<n { ap[j] += Double(row[j]) }
          }
        }
      }
      return NDArray(shape: shape) { out in for j in 0..<n { out[j] = Element(acc[j]) } }
    }
    var out: NDArray = zeroArray(shape)
    withUnsafeBufferPointer { gp in
      out.withUnsafeMutableBufferPointer { rp in
        guard let g = gp.baseAddress, let r = rp.baseAddress else { return }
        BroadcastLayout(result: self.shape, operands: [shape]).forEachRow { off, n, st in
          let (p, q) = (g + off.0, r + off.1)
          if st.1 == 0 {
            var acc = 0.0
            if st.0 == 1 {
              acc = contiguousSum(p, n)
            } else {
              for j in 0..<n { acc += Double(p[j * st.0]) }
            }
            q[0] += Element(acc)
          } else {
            for j in 0..<n { q[j * st.1] += p[j * st.0] }
          }
        }
      }
    }
    return out
  }
}
