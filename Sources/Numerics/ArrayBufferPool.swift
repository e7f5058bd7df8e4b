// A caching allocator for large array buffers, in the manner of PyTorch's CPU caching allocator:
// code that allocates and frees the same large temporaries at every step (a training step makes
// ~100 arrays of up to 20 MB) otherwise leaves glibc's heap fragmented, so the resident size
// creeps up from step to step, and pays page faults and kernel zeroing for fresh blocks. Freed
// buffers of at least 64 KiB are kept by exact byte size and handed back to the next array of
// that size; small buffers go straight to malloc. Off by default (generation and library use
// keep plain malloc/free); `pdekit train/eval/predict` turn it on.
import Foundation

/// The opt-in cache of large freed ``NDArray`` buffers.
///
/// ```swift
/// ArrayBufferPool.enable(capacityBytes: 4 << 30)   // at start-up of a training process
/// ```
public enum ArrayBufferPool {
  /// Buffers smaller than this are never cached.
  public static let minimumBytes = 1 << 16

  struct Buffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
  }

  struct State {
    var capacity = 0
    var cachedBytes = 0
    var free: [Int: [Buffer]] = [:]
  }

  static let state = Locked(State())
  // Read without the lock on every large allocation: set once at start-up, before arrays are made.
  nonisolated(unsafe) static var isEnabled = false

  /// Starts caching freed buffers of ≥ 64 KiB, holding at most `capacityBytes` of them (beyond
  /// that, freed buffers are released to the system).
  public static func enable(capacityBytes: Int) {
    state.withLock { $0.capacity = max(0, capacityBytes) }
    isEnabled = true
  }

  /// Stops caching and releases every cached buffer.
  public static func disable() {
    isEnabled = false
    state.withLock { s in
      for list in s.free.values { for b in list { free(b.pointer) } }
      s = State()
    }
  }

  /// Bytes currently held in the cache (not in use by any array).
  public static var cachedBytes: Int { state.withLock { $0.cachedBytes } }

  /// A cached buffer of exactly `bytes`, or nil.
  @usableFromInline static func take(bytes: Int) -> UnsafeMutableRawPointer? {
    guard isEnabled, bytes >= minimumBytes else { return nil }
    return state.withLock { s -> UnsafeMutableRawPointer? in
      guard let b = s.free[bytes]?.popLast() else { return nil }
      s.cachedBytes -= bytes
      return b.pointer
    }
  }

  /// Keeps `pointer` (of `bytes`) for reuse; false if the caller must free it.
  @usableFromInline static func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) -> Bool {
    guard isEnabled, bytes >= minimumBytes else { return false }
    return state.withLock { s in
      guard s.cachedBytes + bytes <= s.capacity else { return false }
      s.free[bytes, default: []].append(Buffer(pointer: pointer))
      s.cachedBytes += bytes
      return true
    }
  }
}
