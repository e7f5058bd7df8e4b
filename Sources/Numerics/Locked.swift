import Foundation

/// A value guarded by a lock, for process-wide state such as plan caches and library handles
/// that are not thread-safe (FFTW's planner, netCDF/HDF5).
///
/// `withLock` is re-entrancy-free: calling it again from inside `body` on the same instance deadlocks.
public final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value

  /// Wraps `value`.
  public init(_ value: Value) { self.value = value }

  /// Runs `body` with exclusive access to the value.
  public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}
