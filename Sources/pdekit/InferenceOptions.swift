import ArgumentParser
import Foundation
import Numerics
import Operators

/// The options eval and predict share: the checkpoint, which samples, batch size and threads.
struct InferenceOptions: ParsableArguments {
  @Option(help: "Checkpoint written by pdekit train.")
  var checkpoint: String

  @Option(help: "Use only the samples first..<last of the file, written first:last (default: all).")
  var samples: String?

  @Option(help: "Samples per forward pass.")
  var batchSize = 20

  @Option(help: "Threads for BLAS and FFTW (default: all cores).")
  var threads: Int?

  /// Sets up the numerics for a few forward passes and reads the checkpoint and the sample range
  /// of `file`.
  func prepare(file: String) throws -> (checkpoint: OperatorCheckpoint, url: URL, samples: Range<Int>) {
    _ = prepareNumerics(threads: threads, planning: .estimate)
    let ckpt = try OperatorCheckpoint.read(from: URL(fileURLWithPath: checkpoint))
    try DatasetProbe.check(file)
    let url = URL(fileURLWithPath: file)
    return (ckpt, url, try parseRange(samples, count: try sampleCount(url)))
  }
}
