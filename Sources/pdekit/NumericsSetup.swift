import Foundation
import Numerics

/// Set-up shared by train, eval and predict: BLAS and FFTW get `threads` (default: all cores),
/// and large array buffers are cached for reuse (``ArrayBufferPool``, up to 4 GiB), since these
/// commands allocate and free the same temporaries at every step. `planning` is FFTW's planner
/// rigor: training runs thousands of transforms per plan and measures (the default); eval and
/// predict run a few and estimate, since measuring costs more than it saves there. Returns the
/// thread count.
func prepareNumerics(threads: Int?, planning: FFTRigor = .measure) -> Int {
  ArrayBufferPool.enable(capacityBytes: 4 << 30)
  FFT.defaultRigor = planning
  let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
  BLAS.setThreads(count)
  FFT.defaultThreads = count
  return count
}
