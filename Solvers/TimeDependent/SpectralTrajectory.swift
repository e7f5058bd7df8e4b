/// What a spectral time stepper's `run` returns (``BurgersETDRK4``, ``VorticityCrankNicolson``).
public struct SpectralTrajectory: Sendable {
  /// The field at every `recordEvery`-th step (the last at the final step), spectrally truncated
  /// from the solver grid to the stored grid (row-major in 2D).
  public var snapshots: [[Double]]
  /// Times of the snapshots.
  public var times: [Double]
  /// The initial field as the solver used it, at the stored grid (spectrally truncated).
  public var initial: [Double]
  /// Steps taken.
  public var steps: Int
  /// Seconds inside FFTW calls (measured around every transform).
  public var fftSeconds: Double
  /// Seconds of the whole run.
  public var seconds: Double
}
