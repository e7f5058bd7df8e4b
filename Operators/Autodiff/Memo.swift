// Process-wide memo tables for constants that ops rebuild from their arguments (DFT matrices,
// positional-feature tables): built once per key instead of on every forward pass.
import Numerics

/// A bounded memo table: values by key, emptied when it would exceed `capacity` entries.
final class MemoTable<Key: Hashable & Sendable>: Sendable {
  private let entries = Locked<[Key: any Sendable]>([:])
  private let capacity: Int

  init(capacity: Int = 32) { self.capacity = capacity }

  /// The value stored for `key`, or `make()` stored and returned. `make` runs outside the lock;
  /// two threads missing at once both build the value (equal values; the later one is kept).
  func value<V: Sendable>(_ key: Key, _ make: () -> V) -> V {
    if let hit = entries.withLock({ $0[key] }) as? V { return hit }
    let value = make()
    entries.withLock { table in
      if table.count >= capacity { table.removeAll() }
      table[key] = value
    }
    return value
  }
}
