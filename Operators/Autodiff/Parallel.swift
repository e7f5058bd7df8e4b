// Data parallelism for elementwise kernels: a range split into contiguous chunks run on the
// cores with Dispatch. Used between BLAS/FFTW calls (which have their own threads), so the two
// never run at once.
import Dispatch
import Foundation
import Numerics

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

/// Runs `body(worker, samples)` on contiguous ranges of `0..<batch`, one per BLAS thread, at the
/// same time, with BLAS single-threaded inside: per-sample gemms too small for BLAS's own threads
/// to pay (a 1×1 convolution of one 64² sample) then run one per core. The split depends only on
/// `batch` and BLAS's thread count (never on the machine), so results are reproducible for a
/// thread count. Nested calls run serially. Returns the number of workers used.
@discardableResult
func batchParallel(_ batch: Int, _ body: @Sendable (_ worker: Int, _ samples: Range<Int>) -> Void) -> Int {
  let workers = min(batch, BLAS.threadCount)
  guard workers > 1 else {
    body(0, 0..<batch)
    return 1
  }
  BLAS.withSingleThread {
    DispatchQueue.concurrentPerform(iterations: workers) { k in
      body(k, k * batch / workers..<(k + 1) * batch / workers)
    }
  }
  return workers
}

/// The number of workers ``batchParallel(_:_:)`` will use for `batch` samples.
func batchWorkers(_ batch: Int) -> Int { max(1, min(batch, BLAS.threadCount)) }
