// A training step's loss and gradients computed on contiguous slices of the batch at the same time,
// one slice per core, each slice on its own tape with single-threaded BLAS and kernels (data
// parallelism inside one process, the scheme of DataParallel.swift across processes).
//
// Why: with op-level threading every operation of a step is split between the cores and joined
// again, hundreds of times per step, and OpenBLAS's idle threads spin (sched_yield) between their
// calls while the elementwise kernels run — measured on the FNO step at 64²: a third of the
// samples of a 2-thread profile were that spinning, and 2 threads gave 1.27× over 1 thread. A
// slice per core has no joins inside the step.
//
// Exactness: every loss PDEKit trains with is a sum over samples of per-sample terms (LpLoss,
// H1Loss, the per-sample MSE), and no layer mixes samples (the normalizations are per sample), so
// the batch's gradient is the sum of the slices' gradients. The slice count is fixed by the
// machine's cores (stepSlices), not by the threads; every slice is computed single-threaded and
// the slices are summed in slice order, so the weights of a run do not depend on --threads (they
// differ from an unsliced step in rounding only).
import Dispatch
import Numerics

/// One slot per slice, each written by one worker (raw storage: concurrent writes to distinct
/// elements of a Swift array property would be overlapping accesses to the array).
private final class SliceSlots<V>: @unchecked Sendable {
  let count: Int
  let slots: UnsafeMutablePointer<V?>
  init(_ n: Int) {
    count = n
    slots = .allocate(capacity: n)
    slots.initialize(repeating: nil, count: n)
  }
  deinit {
    slots.deinitialize(count: count)
    slots.deallocate()
  }
  /// The value of slot k (every slot is written before it is read).
  subscript(k: Int) -> V {
    get { slots[k]! }
    set { slots[k] = newValue }
  }
}

/// A value shared read-only by the workers of a step.
private struct Shared<V>: @unchecked Sendable { let value: V }

/// The number of slices a training step cuts a batch of `batch` samples into: one per core of this
/// machine (at most 8), however many threads compute them, so that a run's weights depend on the
/// seed and the machine's core count but not on `--threads` or on BLAS's thread setting.
public func stepSlices(batch: Int) -> Int {
  max(1, min(batch, elementwiseWorkers, 8))
}

/// The loss and its gradients for a batch of `batch` samples whose loss is a sum over samples,
/// computed on `slices` contiguous slices, `workers` of them at once.
///
/// ```
/// slices: s_k = [k·B/S, (k+1)·B/S),  k = 0 … S−1      (worker w takes slices [w·S/W, (w+1)·S/W))
/// value   = Σ_k body(model, s_k)                    (in k order, in Double)
/// ∇value  = Σ_k ∇ body(model, s_k)                  (in k order)
/// ```
///
/// Each slice binds its own copy of the model to its own ``Tape`` and runs inside
/// ``BLAS/withSingleThread(_:)``, where the elementwise kernels and FFTW plans use one thread too,
/// so the result depends on `slices` but not on `workers`. With one slice this is
/// ``valueAndGradient(at:in:)`` on the whole batch.
public func batchSlicedValueAndGradient<M: Module>(
  at model: M, batch: Int, slices: Int, workers: Int, _ body: (M, Range<Int>) -> Tensor<M.Scalar>
) -> (value: Double, gradients: Gradients<M.Scalar>) {
  let slices = max(1, min(slices, batch))
  let workers = max(1, min(workers, slices))
  if slices == 1 && workers == 1 {
    let (value, gradients) = valueAndGradient(at: model) { body($0, 0..<batch) }
    return (Double(value), gradients)
  }
  let results = SliceSlots<(value: Double, gradients: Gradients<M.Scalar>)>(slices)
  withoutActuallyEscaping(body) { body in
    let shared = Shared(value: (model, body))
    BLAS.withSingleThread {
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        let (model, body) = shared.value
        for k in w * slices / workers..<(w + 1) * slices / workers {
          let slice = k * batch / slices..<(k + 1) * batch / slices
          let (value, gradients) = valueAndGradient(at: model) { body($0, slice) }
          results[k] = (Double(value), gradients)
        }
      }
    }
  }
  // Summed with single-threaded BLAS: a threaded axpy here would wake OpenBLAS's helper thread,
  // which then spins (sched_yield) through the next step's slices, about 8% of a 2-thread FNO step.
  var (value, total) = results[0]
  BLAS.withSingleThread {
    for k in 1..<slices {
      let (v, g) = results[k]
      for i in total.arrays.indices { total.arrays[i].addScaled(g.arrays[i], by: 1) }
      value += v
    }
  }
  return (value, total)
}

/// `body(0 ..< batch)` computed as `workers` contiguous slices at once, one per core, and joined
/// along the first axis (inference: evaluation, prediction, rollout).
///
/// ```
/// slices s_k = [k·B/W, (k+1)·B/W);   result = concat_k body(s_k)    (body(s) has s.count rows)
/// ```
///
/// Each slice runs inside ``BLAS/withSingleThread(_:)`` like the slices of
/// ``batchSlicedValueAndGradient(at:batch:workers:_:)``. The values equal the unsliced call's up to
/// the rounding of the operations that split their work by thread count.
public func batchSlicedForward<T: BitwiseCopyable & Sendable>(
  batch: Int, workers: Int, _ body: (Range<Int>) -> NDArray<T>
) -> NDArray<T> {
  let workers = max(1, min(workers, batch))
  if workers == 1 { return body(0..<batch) }
  let outputs = SliceSlots<NDArray<T>>(workers)
  withoutActuallyEscaping(body) { body in
    let shared = Shared(value: body)
    BLAS.withSingleThread {
      DispatchQueue.concurrentPerform(iterations: workers) { k in
        outputs[k] = shared.value(k * batch / workers..<(k + 1) * batch / workers)
      }
    }
  }
  let parts = (0..<workers).map { outputs[$0] }
  let tail = Array(parts[0].shape.dropFirst())
  precondition(
    parts.allSatisfy { Array($0.shape.dropFirst()) == tail },
    "batchSlicedForward: slices returned shapes \(parts.map(\.shape))")
  return NDArray<T>(shape: [parts.reduce(0) { $0 + $1.shape[0] }] + tail) { out in
    var offset = 0
    for part in parts {
      part.withUnsafeBufferPointer { p in
        if p.count > 0 { (out.baseAddress! + offset).update(from: p.baseAddress!, count: p.count) }
        offset += p.count
      }
    }
  }
}
