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
/// concurrently when there is more than one chunk. The chunk count is at most the active cores
/// and at most ``BLAS/threadCount``: `--threads N` bounds the elementwise kernels as it bounds
/// BLAS, and inside ``BLAS/withSingleThread(_:)`` (the workers of a batch-sliced training step,
/// ``batchParallel(_:workers:_:)``) the kernels run on the calling thread.
@inline(__always)
func parallelChunks(_ count: Int, minimumChunk: Int = 1 << 15, _ body: @Sendable (Range<Int>) -> Void) {
  let chunks = min(elementwiseWorkers, BLAS.threadCount, max(1, count / minimumChunk))
  if chunks <= 1 {
    body(0..<count)
    return
  }
  DispatchQueue.concurrentPerform(iterations: chunks) { k in
    body(k * count / chunks..<(k + 1) * count / chunks)
  }
}

/// Runs `body(worker, samples)` on `workers` contiguous ranges of `0..<batch` at the same time,
/// with BLAS single-threaded inside: per-sample gemms too small for BLAS's own threads to pay (a
/// 1×1 convolution of one 64² sample) then run one per core. Take `workers` from
/// ``batchWorkers(_:)`` once per operation and pass the same value to every call of that
/// operation: BLAS's thread count is process-wide and another thread's ``BLAS/withSingleThread(_:)``
/// may change it in between. The split depends only on `batch` and `workers`, so results are
/// reproducible for a thread count.
func batchParallel(_ batch: Int, workers: Int, _ body: @Sendable (_ worker: Int, _ samples: Range<Int>) -> Void) {
  precondition(workers >= 1 && workers <= max(1, batch), "batchParallel: \(workers) workers for \(batch) samples")
  guard workers > 1 else {
    body(0, 0..<batch)
    return
  }
  BLAS.withSingleThread {
    DispatchQueue.concurrentPerform(iterations: workers) { k in
      body(k, k * batch / workers..<(k + 1) * batch / workers)
    }
  }
}

/// The number of workers for ``batchParallel(_:workers:_:)``: one per BLAS thread, at most one
/// per sample (1 inside ``BLAS/withSingleThread(_:)``).
func batchWorkers(_ batch: Int) -> Int { max(1, min(batch, BLAS.threadCount)) }

/// ``batchParallel(_:workers:_:)`` with BLAS single-threaded even when there is one worker: for
/// ops made of many small gemms on tiles (the fused FNO kernels), where BLAS threads cannot pay
/// and OpenBLAS's choice of kernel (its small-matrix kernels run only single-threaded) would
/// otherwise depend on the process-wide thread count at the moment of the call.
func tileParallel(_ batch: Int, workers: Int, _ body: @Sendable (_ worker: Int, _ samples: Range<Int>) -> Void) {
  BLAS.withSingleThread { batchParallel(batch, workers: workers, body) }
}

/// The workers' partials of one gradient added in worker order: element i of the result is
/// Σ_k partials[k·stride + offset + i], for k < workers (the per-worker accumulators of the
/// tiled ops, each worker's block `stride` elements long).
func workerSum<T: RealScalar>(_ partials: NDArray<T>, workers: Int, stride: Int, offset: Int, shape: [Int]) -> NDArray<
  T
> {
  partials.withUnsafeBufferPointer { pp in
    NDArray<T>(shape: shape) { out in
      for i in 0..<out.count {
        var v = pp[offset + i]
        for k in 1..<workers { v += pp[k * stride + offset + i] }
        out[i] = v
      }
    }
  }
}

/// ``workerSum(_:workers:stride:offset:shape:)`` for partials accumulated in Double (bias and gate
/// sums), rounded to T once at the end.
func workerSum<T: RealScalar>(_ partials: [Double], workers: Int, stride: Int, offset: Int, shape: [Int]) -> NDArray<T>
{
  NDArray<T>(shape: shape) { out in
    for i in 0..<out.count {
      var v = 0.0
      for k in 0..<workers { v += partials[k * stride + offset + i] }
      out[i] = T(v)
    }
  }
}
