import Foundation
import Numerics

/// Set-up shared by train, eval and predict: BLAS and FFTW get `threads` (default: all cores),
/// and large array buffers are cached for reuse (``ArrayBufferPool``, up to 4 GiB), since these
/// commands allocate and free the same temporaries at every step. Returns the thread count.
func prepareNumerics(threads: Int?) -> Int {
  ArrayBufferPool.enable(capacityBytes: 4 << 30)
  let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
  BLAS.setThreads(count)
  FFT.defaultThreads = count
  return count
}
