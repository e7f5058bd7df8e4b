import Foundation

/// 64-byte aligned, uniquely owned heap storage for trivially copyable elements.
///
/// 64-byte alignment satisfies FFTW's SIMD requirement (so plans made on aligned buffers apply)
/// and AVX-512 loads. `NDArray` shares one storage between values and copies it on write.
@usableFromInline
final class AlignedStorage<Element: BitwiseCopyable>: @unchecked Sendable {
  @usableFromInline let pointer: UnsafeMutablePointer<Element>
  @usableFromInline let count: Int

  @usableFromInline init(count: Int) {
    precondition(count >= 0, "negative element count")
    self.count = count
    let bytes = max(1, count) * MemoryLayout<Element>.stride
    if let cached = ArrayBufferPool.take(bytes: bytes) {
      pointer = cached.bindMemory(to: Element.self, capacity: max(1, count))
      return
    }
    var raw: UnsafeMutableRawPointer?
    let status = posix_memalign(&raw, 64, bytes)
    precondition(status == 0 && raw != nil, "out of memory allocating \(bytes) bytes")
    pointer = raw!.bindMemory(to: Element.self, capacity: max(1, count))
  }

  deinit {
    let raw = UnsafeMutableRawPointer(pointer)
    if !ArrayBufferPool.give(raw, bytes: max(1, count) * MemoryLayout<Element>.stride) { free(raw) }
  }
}

/// A dense, contiguous, row-major N-dimensional array of `Float`, `Double` or `Complex` values.
///
/// ```
/// var a = NDArray<Double>(shape: [2, 3], repeating: 0)   // 2×3 zeros
/// a[1, 2] = 5
/// let b = a.reshaped([3, 2])         // O(1): shares storage
/// let row = a[sample: 1]            // O(1) view of the second row, shape [3]
/// ```
///
/// Values have copy-on-write semantics: copies share storage until one of them is mutated.
/// Reshapes and leading-axis slices (`[sample:]`, `samples(_:)`) are O(1) views into the same
/// storage. Storage is 64-byte aligned. Hot loops should use `withUnsafeBufferPointer` /
/// `withUnsafeMutableBufferPointer`, which run without bounds checks in release builds.
public struct NDArray<Element: BitwiseCopyable & Sendable>: Sendable {
  @usableFromInline var storage: AlignedStorage<Element>
  @usableFromInline var offset: Int
  /// Extent of each axis, slowest-varying first.
  public private(set) var shape: [Int]
  /// Number of elements (product of `shape`).
  public let count: Int

  /// Creates an array of the given shape with every element equal to `value`.
  public init(shape: [Int], repeating value: Element) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    let n = shape.reduce(1, *)
    storage = AlignedStorage(count: n)
    storage.pointer.initialize(repeating: value, count: n)
    offset = 0
    self.shape = shape
    count = n
  }

  /// Creates an array from row-major `data`; throws if `data.count` is not the product of `shape`.
  public init(shape: [Int], data: [Element]) throws {
    guard shape.allSatisfy({ $0 >= 0 }) else {
      throw NumericsError.invalidArgument("negative extent in shape \(shape)")
    }
    let n = shape.reduce(1, *)
    guard n == data.count else {
      throw NumericsError.shapeMismatch("shape \(shape) holds \(n) elements but \(data.count) were given")
    }
    let fresh = AlignedStorage<Element>(count: n)
    data.withUnsafeBufferPointer { if n > 0 { fresh.pointer.initialize(from: $0.baseAddress!, count: n) } }
    storage = fresh
    offset = 0
    self.shape = shape
    count = n
  }

  /// Creates an uninitialized-by-contract array whose elements are then written by `body`.
  /// `body` receives a buffer of `shape.product` elements and must write every element.
  public init(shape: [Int], initializingWith body: (UnsafeMutableBufferPointer<Element>) throws -> Void)
    rethrows
  {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    let n = shape.reduce(1, *)
    storage = AlignedStorage(count: n)
    offset = 0
    self.shape = shape
    count = n
    try body(UnsafeMutableBufferPointer(start: storage.pointer, count: n))
  }

  @usableFromInline init(storage: AlignedStorage<Element>, offset: Int, shape: [Int]) {
    self.storage = storage
    self.offset = offset
    self.shape = shape
    count = shape.reduce(1, *)
  }

  /// Number of axes.
  public var rank: Int { shape.count }

  /// Row-major strides in elements.
  public var strides: [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
      s[i] = acc
      acc *= shape[i]
    }
    return s
  }

  /// Calls `body` with a read-only buffer over the elements in row-major order.
  @inlinable
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: storage.pointer + offset, count: count))
  }

  /// Calls `body` with a mutable buffer over the elements, first copying the storage if it is
  /// shared with another array (copy-on-write).
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (UnsafeMutableBufferPointer<Element>) throws -> R
  ) rethrows -> R {
    makeUnique()
    return try body(UnsafeMutableBufferPointer(start: storage.pointer + offset, count: count))
  }

  @inlinable mutating func makeUnique() {
    if !isKnownUniquelyReferenced(&storage) {
      let fresh = AlignedStorage<Element>(count: count)
      fresh.pointer.initialize(from: storage.pointer + offset, count: count)
      storage = fresh
      offset = 0
    }
  }

  /// The elements as a Swift array (copies).
  public var scalars: [Element] { withUnsafeBufferPointer { Array($0) } }

  @inlinable func linearIndex(_ index: [Int]) -> Int {
    precondition(index.count == shape.count, "index \(index) has \(index.count) components for rank \(shape.count)")
    var lin = 0
    for (i, (k, n)) in zip(index, shape).enumerated() {
      precondition(k >= 0 && k < n, "index \(k) out of range 0..<\(n) on axis \(i)")
      lin = lin * n + k
    }
    return lin
  }

  /// Bounds-checked element access by multi-index (convenience; use buffer pointers in hot loops).
  public subscript(_ index: Int...) -> Element {
    get { storage.pointer[offset + linearIndex(index)] }
    set {
      let i = linearIndex(index)
      makeUnique()
      storage.pointer[offset + i] = newValue
    }
  }

  /// O(1) view of sample `i` along the first axis (shape drops that axis).
  public subscript(sample i: Int) -> NDArray {
    precondition(rank >= 1 && i >= 0 && i < shape[0], "sample index \(i) out of range for shape \(shape)")
    let inner = Array(shape.dropFirst())
    let n = inner.reduce(1, *)
    return NDArray(storage: storage, offset: offset + i * n, shape: inner)
  }

  /// O(1) view of a contiguous range of the first axis.
  public func samples(_ range: Range<Int>) -> NDArray {
    precondition(
      rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
      "range \(range) out of bounds for shape \(shape)")
    let n = shape.dropFirst().reduce(1, *)
    var s = shape
    s[0] = range.count
    return NDArray(storage: storage, offset: offset + range.lowerBound * n, shape: s)
  }

  /// O(1) reshape to a shape with the same number of elements. One extent may be -1 (inferred).
  public func reshaped(_ newShape: [Int]) -> NDArray {
    var s = newShape
    if let k = s.firstIndex(of: -1) {
      let rest = s.enumerated().filter { $0.offset != k }.map(\.element).reduce(1, *)
      precondition(rest > 0 && count % rest == 0, "cannot infer -1 in \(newShape) for \(count) elements")
      s[k] = count / rest
    }
    precondition(s.reduce(1, *) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
    return NDArray(storage: storage, offset: offset, shape: s)
  }

  /// Applies `transform` elementwise, producing a new array of the same shape.
  public func map<U: BitwiseCopyable & Sendable>(_ transform: (Element) -> U) -> NDArray<U> {
    withUnsafeBufferPointer { src in
      NDArray<U>(shape: shape) { dst in
        for i in 0..<src.count { dst[i] = transform(src[i]) }
      }
    }
  }
}

extension NDArray where Element: RealScalar {
  /// An array of zeros.
  public static func zeros(_ shape: [Int]) -> NDArray { NDArray(shape: shape, repeating: 0) }

  /// Sum of all elements (pairwise-free Kahan-compensated loop in Double precision).
  public func sum() -> Double {
    withUnsafeBufferPointer { p in
      var s = 0.0
      var c = 0.0
      for i in 0..<p.count {
        let y = Double(p[i]) - c
        let t = s + y
        c = (t - s) - y
        s = t
      }
      return s
    }
  }

  /// Mean of all elements (NaN for an empty array).
  public func mean() -> Double { count == 0 ? .nan : sum() / Double(count) }

  /// Smallest and largest element, or nil when empty. NaNs are ignored.
  public func minMax() -> (min: Element, max: Element)? {
    withUnsafeBufferPointer { p in
      var lo = Element.infinity
      var hi = -Element.infinity
      var any = false
      for i in 0..<p.count where !p[i].isNaN {
        lo = Swift.min(lo, p[i])
        hi = Swift.max(hi, p[i])
        any = true
      }
      return any ? (lo, hi) : nil
    }
  }

  /// Euclidean norm of all elements, accumulated in Double.
  public func norm() -> Double {
    withUnsafeBufferPointer { p in
      var s = 0.0
      for i in 0..<p.count { s += Double(p[i]) * Double(p[i]) }
      return s.squareRoot()
    }
  }

  /// Largest absolute elementwise difference from `other` (shapes must match).
  public func maxAbsDifference(_ other: NDArray) -> Double {
    precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
    return withUnsafeBufferPointer { a in
      other.withUnsafeBufferPointer { b in
        var m = 0.0
        for i in 0..<a.count { m = Swift.max(m, abs(Double(a[i]) - Double(b[i]))) }
        return m
      }
    }
  }

  /// Converts the element type (e.g. Double fields to Float32 for storage).
  public func converted<U: RealScalar>(to: U.Type) -> NDArray<U> { map { U($0) } }

  /// Elementwise binary operation on two arrays of equal shape.
  @inlinable
  func zipWith(_ other: NDArray, _ op: (Element, Element) -> Element) -> NDArray {
    precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
    return withUnsafeBufferPointer { a in
      other.withUnsafeBufferPointer { b in
        NDArray(shape: shape) { c in
          for i in 0..<c.count { c[i] = op(a[i], b[i]) }
        }
      }
    }
  }

  /// Elementwise sum.
  public static func + (a: NDArray, b: NDArray) -> NDArray { a.zipWith(b, +) }
  /// Elementwise difference.
  public static func - (a: NDArray, b: NDArray) -> NDArray { a.zipWith(b, -) }
  /// Elementwise (Hadamard) product.
  public static func * (a: NDArray, b: NDArray) -> NDArray { a.zipWith(b, *) }
  /// Scalar multiple.
  public static func * (s: Element, a: NDArray) -> NDArray { a.map { s * $0 } }

  /// In-place `self += alpha * x` (BLAS axpy).
  public mutating func addScaled(_ x: NDArray, by alpha: Element) {
    precondition(shape == x.shape, "shapes \(shape) and \(x.shape) differ")
    withUnsafeMutableBufferPointer { yp in
      x.withUnsafeBufferPointer { xp in BLAS.axpy(alpha, xp, yp) }
    }
  }
}

extension NDArray where Element == Complex<Float> {
  /// Complex zeros.
  public static func zeros(_ shape: [Int]) -> NDArray { NDArray(shape: shape, repeating: .zero) }
}

extension NDArray where Element == Complex<Double> {
  /// Complex zeros.
  public static func zeros(_ shape: [Int]) -> NDArray { NDArray(shape: shape, repeating: .zero) }
}

extension NDArray: Equatable where Element: Equatable {
  public static func == (a: NDArray, b: NDArray) -> Bool {
    guard a.shape == b.shape else { return false }
    return a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
  }
}
