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
      the grid (zero-shot super-resolution), a DeepONet's trunk takes any coordinates (its branch \
      sees the inputs interpolated back to its sensors), and a POD-DeepONet's modes are \
      interpolated; targets are then left out.

      Example: pdekit predict --checkpoint fno.safetensors --input darcy-test.nc --out pred.nc
      """)

  @OptionGroup var options: InferenceOptions

  @Option(help: "PDEKit NetCDF dataset whose inputs are predicted.")
  var input: String

  @Option(help: "Output NetCDF file.")
  var out: String

  @Option(help: "Points per axis of the output grid (default: the input's grid).")
  var resolution: Int?

  @Flag(help: "Replace an existing output file.")
  var overwrite = false

  func run() throws {
    let (ckpt, url, range) = try options.prepare(file: input)
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
