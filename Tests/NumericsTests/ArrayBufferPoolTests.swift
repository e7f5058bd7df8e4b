import Testing

@testable import Numerics

@Suite("Array buffer pool", .serialized)
struct ArrayBufferPoolTests {
  @Test("large freed buffers are reused by exact size, within the capacity; contents are re-initialized")
  func reuse() {
    // An odd element count that no other test allocates concurrently.
    let n = 123_457
    let bytes = n * MemoryLayout<Float>.stride
    ArrayBufferPool.enable(capacityBytes: 3 * bytes)
    defer { ArrayBufferPool.disable() }
    var first: UnsafeMutableRawPointer?
    do {
      let a = NDArray<Float>(shape: [n], repeating: 7)
      first = a.withUnsafeBufferPointer { UnsafeMutableRawPointer(mutating: $0.baseAddress!) }
    }
    #expect(ArrayBufferPool.cachedBytes >= bytes)
    let b = NDArray<Float>(shape: [n], repeating: 0)
    let second = b.withUnsafeBufferPointer { UnsafeMutableRawPointer(mutating: $0.baseAddress!) }
    #expect(second == first, "the freed buffer was not reused")
    #expect(b.scalars.allSatisfy { $0 == 0 }, "a reused buffer kept old contents")
    #expect(Int(bitPattern: second) % 64 == 0)
    // Beyond the capacity, freed buffers go back to the system.
    do {
      let many = (0..<5).map { _ in NDArray<Float>(shape: [n], repeating: 1) }
      #expect(many.count == 5)
    }
    #expect(ArrayBufferPool.cachedBytes <= 3 * bytes)
    // Small buffers are never cached.
    let before = ArrayBufferPool.cachedBytes
    do { _ = NDArray<Float>(shape: [100], repeating: 1) }
    #expect(ArrayBufferPool.cachedBytes == before)
    ArrayBufferPool.disable()
    #expect(ArrayBufferPool.cachedBytes == 0)
  }
}
