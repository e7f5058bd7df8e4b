import Foundation
import Numerics

/// Thread counts shared by train, eval and predict: BLAS and FFTW get `threads` (default: all
/// cores). Returns the thread count.
func prepareNumerics(threads: Int?) -> Int {
  let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
  BLAS.setThreads(count)
  FFT.defaultThreads = count
  return count
}
