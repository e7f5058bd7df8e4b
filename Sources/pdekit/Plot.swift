import ArgumentParser
import Datasets
import Foundation
import Plotting

struct Plot: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Draw a dataset, a prediction file, solver statistics or training curves as a PNG.",
    discussion: """
      FILE.nc: one row per sample (default the first three), one panel per input and target \
      variable; 2D fields as viridis heatmaps with a colorbar (range and units) titled by the \
      variable's long_name, 1D fields as line plots, 3D fields as their middle z slice, and \
      time-dependent fields as a strip of --frames evenly spaced frames on one colour range. For a \
      file written by `pdekit predict`: input / truth / prediction / |prediction - truth| per \
      sample, truth and prediction on one colour range, with the sample's relative L2 error.

      --solver-stats FILE.nc: solver iterations, final relative residual (log scale, the file's \
      rtol dashed) and solve time for every sample.
      --log RUN.jsonl: training loss and test relative L2/H1 per epoch (log scale) and the \
      learning rate, from the log `pdekit train` writes.

      The PNG goes to --out (default: the input's name with extension .png).

      Examples:
        pdekit plot darcy.nc --samples 0,1,2 --out darcy.png
        pdekit plot darcy.nc --var solution --samples 4
        pdekit plot pred.nc --out pred.png
        pdekit plot ns.nc --var vorticity --frames 5
        pdekit plot --solver-stats darcy.nc --out stats.png
        pdekit plot --log fno.jsonl --out curves.png
      """)

  @Argument(help: "PDEKit NetCDF dataset or prediction file (not with --log).")
  var file: String?

  @Option(name: .customLong("var"), help: "Draw only this data variable (default: all inputs and targets).")
  var variable: String?

  @Option(help: "Samples: indices and first:last ranges, comma-separated, e.g. 0,1,2 or 0:4 (default: 0,1,2 or fewer).")
  var samples: String?

  @Option(help: "Frames per time-dependent field (evenly spaced, first and last included).")
  var frames = 6

  @Flag(help: "Draw FILE's per-sample solver iterations, relative residuals and solve times.")
  var solverStats = false

  @Option(help: "Draw the training curves of this `pdekit train` JSON-lines log instead of a dataset.")
  var log: String?

  @Option(help: "Output PNG file (default: the input's name with extension .png).")
  var out: String?

  func validate() throws {
    switch (file, log) {
    case (nil, nil): throw ValidationError("give a dataset FILE.nc, or --log RUN.jsonl for training curves")
    case (.some, .some): throw ValidationError("give either a dataset FILE.nc or --log, not both")
    default: break
    }
    if log != nil && (solverStats || variable != nil || samples != nil) {
      throw ValidationError("--log draws training curves; --var, --samples and --solver-stats apply to datasets")
    }
    if solverStats && (variable != nil || samples != nil) {
      throw ValidationError("--solver-stats draws every sample's diagnostics; leave out --var and --samples")
    }
    guard frames >= 1 else { throw ValidationError("--frames must be ≥ 1, got \(frames)") }
    if let input = file ?? log, !FileManager.default.fileExists(atPath: input) {
      throw ValidationError("no such file: \(input)")
    }
  }

  func run() throws {
    let inputPath = (file ?? log)!
    if log == nil { try DatasetProbe.check(inputPath) }
    let input = URL(fileURLWithPath: inputPath)
    // The path as the user would write it: --out, or the input's path with extension .png.
    let outputPath =
      out ?? (inputPath as NSString).deletingPathExtension + (solverStats ? "-solver-stats" : "") + ".png"
    let output = URL(fileURLWithPath: outputPath)
    let figure: Figure
    do {
      if log != nil {
        figure = try TrainingFigures.curves(log: input)
      } else if solverStats {
        figure = try DatasetFigures.solverStatistics(in: input)
      } else {
        figure = try DatasetFigures.fields(
          in: input, variable: variable, samples: try samples.map(DatasetFigures.sampleIndices), frames: frames)
      }
    } catch let e as DatasetError {
      throw CLIError(
        "\(e.description)\n(`pdekit plot FILE` reads NetCDF datasets written by PDEKit; for the training log of "
          + "`pdekit train` use --log FILE.jsonl.)")
    }
    let image = figure.render()
    try image.writePNG(to: output)
    print("wrote \(outputPath) (\(image.width)×\(image.height))")
  }
}
