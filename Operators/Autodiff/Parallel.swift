// Data parallelism for elementwise kernels: a range split into contiguous chunks run on the
// cores with Dispatch. Used between BLAS/FFTW calls (which have their own threads), so the two
// never run at once.
import Dispatch
import Foundation

/// Raw pointers that a kernel shares between workers writing disjoint ranges.
struct SharedPointer<T>: @unchecked Sendable {
  let base: UnsafeMutablePointer<T>
}

/// Worker count for elementwise kernels: the active cores.
let elementwiseWorkers = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Calls `body` on contiguous chunks of `0..<count` (each at least `minimumChunk` long),
/// concurrently when there is more than one chunk.
@inline(__always)
func parallelChunks(_ count: Int, minimumChunk: Int = 1 << 15, _ body: @Sendable (Range<Int>) -> Void) {
  let chunks = min(elementwiseWorkers, max(1, count / minimumChunk))
  if chunks <= 1 {
    body(0..<count)
    return
  }
  DispatchQueue.concurrentPerform(iterations: chunks) { k in
    body(k * count / chunks..<(k + 1) * count / chunks)
  }
}
