// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC'11, 2011), checked against the Random123 known-answer vectors.
//
// A generator is keyed by (seed, stream): with stream = sample index, sample i of a run draws the
// same numbers whichever thread computes it and in whatever order, which is what makes datasets
// reproducible under `--threads`. Normals use the Box–Muller transform in Double precision.

/// The Philox4x32-10 block function (10 rounds): 128-bit counter, 64-bit key → 128 random bits.
@inlinable
public func philox4x32(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (
  UInt32, UInt32, UInt32, UInt32
) {
  var (c0, c1, c2, c3) = counter
  var (k0, k1) = key
  for round in 0..<10 {
    if round > 0 {
      k0 &+= 0x9E37_79B9
      k1 &+= 0xBB67_AE85
    }
    let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
    let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
    let hi0 = UInt32(truncatingIfNeeded: p0 >> 32)
    let lo0 = UInt32(truncatingIfNeeded: p0)
    let hi1 = UInt32(truncatingIfNeeded: p1 >> 32)
    let lo1 = UInt32(truncatingIfNeeded: p1)
    (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
  }
  return (c0, c1, c2, c3)
}

/// A reproducible random number generator for sample `stream` of a run seeded with `seed`.
///
/// ```
/// var rng = PhiloxRandom(seed: 42, stream: UInt64(sampleIndex))
/// let u = Double.random(in: 0..<1, using: &rng)
/// let z = rng.nextGaussian()                 // standard normal
/// ```
///
/// The key is `seed`; the counter's upper 64 bits are `stream` and its lower 64 bits count
/// blocks, so streams never overlap (each can draw 2⁶⁴ blocks of 128 bits).
public struct PhiloxRandom: RandomNumberGenerator, Sendable {
  /// The seed (Philox key).
  public let seed: UInt64
  /// The stream (e.g. sample index).
  public let stream: UInt64
  @usableFromInline var block: UInt64 = 0
  @usableFromInline var buffer: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
  @usableFromInline var used = 4
  @usableFromInline var spareGaussian: Double? = nil

  /// A generator for stream `stream` under `seed`.
  public init(seed: UInt64, stream: UInt64 = 0) {
    self.seed = seed
    self.stream = stream
  }

  @inlinable mutating func refill() {
    buffer = philox4x32(
      counter: (
        UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: block >> 32),
        UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)
      ),
      key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    block &+= 1
    used = 0
  }

  /// Next 32 random bits.
  @inlinable public mutating func next32() -> UInt32 {
    if used == 4 { refill() }
    defer { used += 1 }
    switch used {
    case 0: return buffer.0
    case 1: return buffer.1
    case 2: return buffer.2
    default: return buffer.3
    }
  }

  /// Next 64 random bits.
  @inlinable public mutating func next() -> UInt64 {
    UInt64(next32()) | (UInt64(next32()) << 32)
  }

  /// Uniform double in the open interval (0, 1), 53 random bits.
  @inlinable public mutating func nextOpenUnit() -> Double {
    (Double(next() >> 11) + 0.5) * 0x1p-53
  }

  /// A standard normal deviate (Box–Muller; the second value of each pair is kept for the next call).
  @inlinable public mutating func nextGaussian() -> Double {
    if let z = spareGaussian {
      spareGaussian = nil
      return z
    }
    let u1 = nextOpenUnit()
    let u2 = nextOpenUnit()
    let r = (-2 * _log(u1)).squareRoot()
    let t = 2 * Double.pi * u2
    spareGaussian = r * _sin(t)
    return r * _cos(t)
  }

  /// Fills `buffer` with independent standard normals.
  public mutating func fillGaussian<T: RealScalar>(_ buffer: UnsafeMutableBufferPointer<T>) {
    for i in 0..<buffer.count { buffer[i] = T(nextGaussian()) }
  }
}

#if canImport(Glibc)
  import Glibc
  @usableFromInline @inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
  @usableFromInline @inline(__always) func _sin(_ x: Double) -> Double { Glibc.sin(x) }
  @usableFromInline @inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
  import Foundation
  @usableFromInline @inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
  @usableFromInline @inline(__always) func _sin(_ x: Double) -> Double { Foundation.sin(x) }
  @usableFromInline @inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif

extension NDArray where Element: RealScalar {
  /// An array of independent standard normals drawn from stream `stream` of `seed`
  /// (reproducible whatever thread calls it).
  public static func randomNormal(_ shape: [Int], seed: UInt64, stream: UInt64 = 0) -> NDArray {
    var rng = PhiloxRandom(seed: seed, stream: stream)
    var a = NDArray.zeros(shape)
    a.withUnsafeMutableBufferPointer { rng.fillGaussian($0) }
    return a
  }
}
