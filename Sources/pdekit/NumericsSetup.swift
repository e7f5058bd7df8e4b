import Foundation
import Numerics

/// Thread counts and allocator setting shared by train, eval and predict: BLAS and FFTW get
/// `threads` (default: all cores), and large freed blocks stay in the process, since these
/// commands allocate and free the same large temporaries at every step. Returns the thread count.
func prepareNumerics(threads: Int?) -> Int {
  MemoryTuning.retainFreedMemory()
  let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
  BLAS.setThreads(count)
  FFT.defaultThreads = count
  return count
}
