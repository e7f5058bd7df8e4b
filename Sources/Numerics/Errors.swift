import Foundation

/// Errors raised by the Numerics layer. Every case says what went wrong and, where it helps,
/// what to do about it; `description` is the message a command-line user sees.
public enum NumericsError: Error, CustomStringConvertible, LocalizedError, Equatable {
  /// Two operands (or an operand and a declared shape) disagree.
  case shapeMismatch(String)
  /// An argument is outside its valid range.
  case invalidArgument(String)
  /// A LAPACK routine returned a non-zero `info`.
  case lapack(routine: String, info: Int, meaning: String)
  /// FFTW could not create a plan for the requested transform.
  case fftPlanFailed(String)
  /// A Matrix Market file is malformed; `line` is 1-based.
  case matrixMarket(line: Int, message: String)
  /// An I/O problem (file missing, unreadable, unwritable).
  case io(String)

  public var description: String {
    switch self {
    case .shapeMismatch(let s): return "shape mismatch: \(s)"
    case .invalidArgument(let s): return "invalid argument: \(s)"
    case .lapack(let routine, let info, let meaning):
      return "LAPACK \(routine) failed (info = \(info)): \(meaning)"
    case .fftPlanFailed(let s): return "FFTW could not plan the transform: \(s)"
    case .matrixMarket(let line, let message): return "Matrix Market, line \(line): \(message)"
    case .io(let s): return s
    }
  }

  public var errorDescription: String? { description }
}
