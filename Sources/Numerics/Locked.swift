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

/// A lock that guards code rather than a value: calls to ``run(_:)`` never overlap.
///
/// Use it instead of `Locked<()>`: the empty value of that type shares its address with the lock
/// reference, which ThreadSanitizer reports as a race on every contended call.
public final class SerialLock: Sendable {
  private let lock = NSLock()

  /// A lock.
  public init() {}

  /// Runs `body` while holding the lock. Not re-entrant: calling `run` from inside `body` deadlocks.
  public func run<R>(_ body: () throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }
}
