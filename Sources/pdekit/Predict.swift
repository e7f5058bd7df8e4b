import ArgumentParser
import Datasets
import Foundation
import Numerics
import Operators

struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Apply a trained model to a dataset's inputs and write the predictions as NetCDF.",
    discussion: """
      Writes a PDEKit NetCDF file with the inputs, the predictions (pdekit_role = prediction, named \
      <target>_prediction) and, when the input file has them, the true targets, on the input's \
      coordinates. With --resolution R the inputs are interpolated (multilinear) to R points per \
      axis of the same domain and the model is evaluated there: the FNO's weights do not depend on \
      the grid (zero-shot super-resolution), a DeepONet is evaluated at the new grid's coordinates by its \
      trunk while its branch reads the inputs on their own grid (no interpolation), and a POD-DeepONet's modes are \
      interpolated; targets are then left out.

      With --rollout T (a model trained with --input-frames k on time-dependent data) each trajectory \
      is rolled forward T steps from its first k frames (frame 0 = the initial-state input, frame f = \
      the target at time index f − 1), feeding predictions back; the file holds <target> (truth) and \
      <target>_rollout on (time, grid) for the predicted frames k … k + T − 1, and the relative L2 \
      error of each step is printed. T ≤ frames − k.

      Example: pdekit predict --checkpoint fno.safetensors --input darcy-test.nc --out pred.nc
               pdekit predict --checkpoint ns-ff.safetensors --input ns-test.nc --rollout 10 --out rollout.nc
      """)

  @OptionGroup var options: InferenceOptions

  @Option(help: "PDEKit NetCDF dataset whose inputs are predicted.")
  var input: String

  @Option(help: "Output NetCDF file.")
  var out: String

  @Option(help: "Points per axis of the output grid (default: the input's grid).")
  var resolution: Int?

  @Option(help: "Autoregressive rollout of this many steps from each trajectory's first frames (see above).")
  var rollout: Int?

  @Flag(help: "Replace an existing output file.")
  var overwrite = false

  func validate() throws {
    if let t = rollout, t < 1 { throw ValidationError("--rollout must be ≥ 1, got \(t)") }
    if rollout != nil && resolution != nil { throw ValidationError("--rollout and --resolution exclude each other") }
  }

  func run() throws {
    let (ckpt, url, range) = try options.prepare(file: input)
    if let steps = rollout {
      guard let k = ckpt.trainingState?.data.inputFrames else {
        throw CLIError(
          "\(options.checkpoint) was not trained autoregressively (pdekit train --input-frames k); --rollout needs such a model"
        )
      }
      let data = try FieldDataset(
        url: url, samples: range, inputFrames: k, inputs: ckpt.trainingState?.data.inputs,
        targets: ckpt.trainingState?.data.targets)
      let errors = try ckpt.withModel(
        WriteRollout(
          checkpoint: ckpt, data: data, steps: steps, batchSize: options.batchSize, out: URL(fileURLWithPath: out),
          overwrite: overwrite, history: "pdekit predict " + CommandLine.arguments.dropFirst().joined(separator: " ")))
      for (r, e) in errors.enumerated() {
        print(String(format: "step %d (time %g): relative L2 %.5f", r + 1, data.frameTimes[k + r], e))
      }
      print("wrote \(data.samples.count) rollouts of \(steps) steps to \(out)")
      return
    }
    if let k = ckpt.trainingState?.data.inputFrames {
      throw CLIError(
        "\(options.checkpoint) maps \(k) frames to the next one; predict its trajectories with --rollout T")
    }
    // Targets are written beside the predictions when the input file has them.
    let reader = try DatasetReader(url: url)
    let targetNames = ckpt.trainingState?.data.targets
    let hasTargets = targetNames.map { $0.allSatisfy { (try? reader.variable(named: $0))?.role == .target } } ?? true
    try reader.close()
    let data = try FieldDataset(
      url: url, samples: range, inputs: ckpt.trainingState?.data.inputs, targets: hasTargets ? targetNames : [])
    let n = try ckpt.withModel(
      WritePredictions(
        checkpoint: ckpt, input: data, out: URL(fileURLWithPath: out), resolution: resolution,
        batchSize: options.batchSize,
        overwrite: overwrite, history: "pdekit predict " + CommandLine.arguments.dropFirst().joined(separator: " ")))
    print("wrote \(n) predictions to \(out)")
  }
}

/// Writes the predictions of the checkpoint's model, whatever its type.
private struct WritePredictions: NeuralOperatorVisitor {
  let checkpoint: OperatorCheckpoint
  let input: FieldDataset
  let out: URL
  let resolution: Int?
  let batchSize: Int
  let overwrite: Bool
  let history: String

  func visit<M: NeuralOperator>(_ model: M) throws -> Int where M.Scalar == Float {
    try writePredictions(
      model: model, checkpoint: checkpoint, input: input, to: out, resolution: resolution, batchSize: batchSize,
      overwrite: overwrite, history: history)
  }
}

/// Rolls the checkpoint's model forward and writes the rollouts; returns the per-step errors.
private struct WriteRollout: NeuralOperatorVisitor {
  let checkpoint: OperatorCheckpoint
  let data: FieldDataset
  let steps: Int
  let batchSize: Int
  let out: URL
  let overwrite: Bool
  let history: String

  func visit<M: NeuralOperator>(_ model: M) throws -> [Double] where M.Scalar == Float {
    let result = try rolloutTrajectories(
      model, inputNormalizer: checkpoint.inputNormalizer, targetNormalizer: checkpoint.targetNormalizer, data: data,
      steps: steps, batchSize: batchSize)
    try writeRollout(
      result, data: data, modelName: M.modelName, modelConfiguration: checkpoint.modelConfiguration, to: out,
      overwrite: overwrite, history: history)
    return result.stepErrors
  }
}
