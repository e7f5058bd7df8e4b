// Test error of a trained operator: per-sample relative L2 and H1 errors of the decoded
// predictions against the targets in physical units (as neuraloperator's evaluation, which
// decodes predictions with the target normalizer before the loss), with their spread.
import Foundation
import Numerics

/// Mean, spread and extremes of a per-sample error.
public struct ErrorSummary: Sendable, Equatable, Codable {
  /// Per-sample values.
  public var values: [Double]
  /// Mean.
  public var mean: Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
  /// Sample standard deviation (0 for one sample).
  public var standardDeviation: Double {
    guard values.count > 1 else { return 0 }
    let m = mean
    return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
  }
  /// Median.
  public var median: Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }
  /// Largest value.
  public var max: Double { values.max() ?? .nan }
  /// Index of the largest value.
  public var argmax: Int? { values.indices.max { values[$0] < values[$1] } }

  /// A summary of `values`.
  public init(values: [Double]) { self.values = values }
}

/// Errors of a model on a dataset.
public struct EvaluationReport: Sendable, Equatable {
  /// Per-sample relative L2 error ‖ŷ − y‖₂ / ‖y‖₂ (averaged over target channels).
  public var relativeL2: ErrorSummary
  /// Per-sample relative H1 error (``H1Loss``, averaged over target channels).
  public var relativeH1: ErrorSummary
  /// Seconds spent in the model's forward passes (including the first call's FFT planning).
  public var inferenceSeconds: Double
  /// Milliseconds per sample of a second, warm forward pass over the first batch (plans made,
  /// memory allocated): the steady-state inference cost.
  public var warmMillisecondsPerSample: Double
}

/// Evaluates `model` on every sample of `data`: inputs are encoded with `inputNormalizer`,
/// outputs decoded with `targetNormalizer`, and compared with the raw targets.
public func evaluate<M: NeuralOperator>(
  _ model: M, on data: FieldDataset, inputNormalizer: UnitGaussianNormalizer<Float>?,
  targetNormalizer: UnitGaussianNormalizer<Float>?, batchSize: Int = 20
) throws -> EvaluationReport where M.Scalar == Float {
  var l2: [Double] = []
  var h1: [Double] = []
  var seconds = 0.0
  let d = model.spatialDimensions
  let h1Loss = H1Loss(spatialDimensions: d)
  let c = data.targetChannels
  for start in stride(from: 0, to: data.count, by: max(1, batchSize)) {
    let indices = Array(start..<min(data.count, start + max(1, batchSize)))
    let (x, y) = try data.batch(indices)
    let t0 = DispatchTime.now().uptimeNanoseconds
    let encoded = inputNormalizer?.encode(x) ?? x
    let raw = batchSlicedForward(batch: indices.count, workers: batchWorkers(indices.count)) {
      model(Tensor(encoded.samples($0))).value
    }
    let prediction = targetNormalizer?.decode(raw) ?? raw
    seconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    let points = data.gridShape.reduce(1, *)
    prediction.withUnsafeBufferPointer { p in
      y.withUnsafeBufferPointer { t in
        for s in 0..<indices.count {
          var sum = 0.0
          for ch in 0..<c {
            var num = 0.0
            var den = 0.0
            let base = (s * c + ch) * points
            for j in 0..<points {
              let e = Double(p[base + j]) - Double(t[base + j])
              num += e * e
              den += Double(t[base + j]) * Double(t[base + j])
            }
            sum += num.squareRoot() / (den.squareRoot() + 1e-8)
          }
          l2.append(sum / Double(c))
        }
      }
    }
    for s in 0..<indices.count {
      let one = h1Loss(Tensor(prediction.samples(s..<s + 1)), Tensor(y.samples(s..<s + 1))).scalar
      h1.append(Double(one) / Double(c))
    }
  }
  let first = Array(0..<min(data.count, max(1, batchSize)))
  let x = try data.inputs(first)
  let t0 = DispatchTime.now().uptimeNanoseconds
  let encoded = inputNormalizer?.encode(x) ?? x
  let raw = batchSlicedForward(batch: first.count, workers: batchWorkers(first.count)) {
    model(Tensor(encoded.samples($0))).value
  }
  _ = targetNormalizer?.decode(raw) ?? raw
  let warm = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(first.count)
  return EvaluationReport(
    relativeL2: ErrorSummary(values: l2), relativeH1: ErrorSummary(values: h1), inferenceSeconds: seconds,
    warmMillisecondsPerSample: warm)
}
