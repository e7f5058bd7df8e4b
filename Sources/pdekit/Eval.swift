import ArgumentParser
import Foundation
import Numerics
import Operators

struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Test error of a trained model on a dataset: relative L2 and H1, mean and spread.",
    discussion: """
      Predicts every sample of --data with the checkpoint's model (inputs normalized and outputs \
      decoded with the normalizers stored in the checkpoint) and compares with the file's targets. \
      A model trained with --input-frames k is scored on every window of k frames → next frame of \
      each trajectory (the one-step error; pdekit predict --rollout gives the rollout error).

      Example: pdekit eval --checkpoint fno.safetensors --data darcy-test.nc
      """)

  @OptionGroup var options: InferenceOptions

  @Option(help: "PDEKit NetCDF dataset with the inputs and targets the model was trained on.")
  var data: String

  @Flag(help: "Print the result as JSON.")
  var json = false

  func run() throws {
    let (ckpt, url, range) = try options.prepare(file: data)
    let (inputs, targets) = (ckpt.trainingState?.data.inputs, ckpt.trainingState?.data.targets)
    // A model trained on k frames → next frame is evaluated on every such window (one-step error).
    let set =
      try ckpt.trainingState?.data.inputFrames.map {
        try FieldDataset(url: url, samples: range, inputFrames: $0, inputs: inputs, targets: targets)
      } ?? FieldDataset(url: url, samples: range, inputs: inputs, targets: targets)
    let report = try ckpt.withModel(Evaluate(checkpoint: ckpt, data: set, batchSize: options.batchSize))
    let msPerSample = report.warmMillisecondsPerSample
    let coldMsPerSample = 1000 * report.inferenceSeconds / Double(set.count)
    if json {
      let object: [String: Any] = [
        "samples": set.count, "grid": set.gridShape,
        "relative_l2": [
          "mean": report.relativeL2.mean, "std": report.relativeL2.standardDeviation,
          "median": report.relativeL2.median, "max": report.relativeL2.max,
        ],
        "relative_h1": [
          "mean": report.relativeH1.mean, "std": report.relativeH1.standardDeviation,
          "median": report.relativeH1.median, "max": report.relativeH1.max,
        ],
        "inference_ms_per_sample": msPerSample, "inference_all_batches_ms_per_sample": coldMsPerSample,
      ]
      let bytes = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      print(String(decoding: bytes, as: UTF8.self))
      return
    }
    if let k = set.inputFrames {
      print(
        "\(set.count) windows (\(k) frames → next) of \(set.samples.count) trajectories of \(data) on \(set.gridShape)")
    } else {
      print("\(set.count) samples of \(data) on \(set.gridShape)")
    }
    for (name, e) in [("relative L2", report.relativeL2), ("relative H1", report.relativeH1)] {
      // Window i of the autoregressive set is frame i mod (F − k) + k of trajectory i / (F − k).
      let worst = e.argmax ?? 0
      let place =
        set.inputFrames.map { k in
          "sample \(range.lowerBound + worst / set.windowsPerSample), frame \(worst % set.windowsPerSample + k)"
        } ?? "sample \(range.lowerBound + worst)"
      print(
        String(
          format: "%@: mean %.5f  std %.5f  median %.5f  max %.5f (%@)", name, e.mean, e.standardDeviation,
          e.median, e.max, place))
    }
    print(
      String(
        format: "inference: %.3f ms/sample warm (%.3f over all batches, including FFT planning)", msPerSample,
        coldMsPerSample))
  }
}

/// Evaluates the checkpoint's model, whatever its type, on a dataset.
private struct Evaluate: NeuralOperatorVisitor {
  let checkpoint: OperatorCheckpoint
  let data: FieldDataset
  let batchSize: Int

  func visit<M: NeuralOperator>(_ model: M) throws -> EvaluationReport where M.Scalar == Float {
    guard data.inputChannels == model.inputChannels, data.targetChannels == model.outputChannels,
      data.gridShape.count == model.spatialDimensions
    else {
      throw CLIError(
        "\(data.url.path) has \(data.inputChannels) input / \(data.targetChannels) target channel(s) on a "
          + "\(data.gridShape.count)D grid; the checkpoint's \(M.modelName) model takes \(model.inputChannels) → "
          + "\(model.outputChannels) on a \(model.spatialDimensions)D grid")
    }
    return try evaluate(
      model, on: data, inputNormalizer: checkpoint.inputNormalizer, targetNormalizer: checkpoint.targetNormalizer,
      batchSize: batchSize)
  }
}

/// Parses "a:b" into a..<b within 0..<count (nil: everything).
func parseRange(_ text: String?, count: Int) throws -> Range<Int> {
  guard let text else { return 0..<count }
  let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
  guard parts.count == 2, let a = parts[0], let b = parts[1], a >= 0, a < b, b <= count else {
    throw CLIError("--samples '\(text)' must be first:last with 0 ≤ first < last ≤ \(count)")
  }
  return a..<b
}
