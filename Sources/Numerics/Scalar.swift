/// A real floating-point element type that PDEKit's numerics support: `Float` and `Double`.
///
/// The protocol carries the precision-specific entry points of BLAS, LAPACK and FFTW as static
/// requirements, so that generic code (`NDArray<T>`, `matmul`, `FFTPlan<T>`) dispatches to
/// `sgemm`/`dgemm`, `fftwf_*`/`fftw_*` at compile time with no runtime cost.
public protocol RealScalar: BinaryFloatingPoint, BitwiseCopyable, Sendable, LosslessStringConvertible
where Self.RawSignificand: FixedWidthInteger {
  /// Human-readable precision name ("float32", "float64").
  static var precisionName: String { get }
}

extension Float: RealScalar {
  public static var precisionName: String { "float32" }
}

extension Double: RealScalar {
  public static var precisionName: String { "float64" }
}

/// A complex number stored as two adjacent reals `(re, im)`.
///
/// The layout is that of C99 `T _Complex`, FFTW's `fftw_complex` and LAPACK's complex types, so
/// buffers of `Complex<T>` are handed to those libraries without copying.
@frozen
public struct Complex<T: RealScalar>: BitwiseCopyable, Sendable, Equatable, CustomStringConvertible {
  /// Real part.
  public var re: T
  /// Imaginary part.
  public var im: T

  /// Creates `re + i·im`.
  @inlinable public init(_ re: T, _ im: T = 0) {
    self.re = re
    self.im = im
  }

  /// Zero.
  public static var zero: Complex { Complex(0, 0) }
  /// |z|², without the square root.
  @inlinable public var lengthSquared: T { re * re + im * im }
  /// |z|.
  @inlinable public var length: T { (re * re + im * im).squareRoot() }
  /// Complex conjugate.
  @inlinable public var conjugate: Complex { Complex(re, -im) }

  @inlinable public static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
  @inlinable public static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
  @inlinable public static func * (a: Complex, b: Complex) -> Complex {
    Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
  }
  @inlinable public static func * (a: T, b: Complex) -> Complex { Complex(a * b.re, a * b.im) }
  @inlinable public static func / (a: Complex, b: Complex) -> Complex {
    let d = b.re * b.re + b.im * b.im
    return Complex((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d)
  }

  public var description: String { im < 0 ? "\(re)-\(-im)i" : "\(re)+\(im)i" }
}
