import ArgumentParser
import Datasets
import Foundation

struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Describe a PDEKit NetCDF dataset.",
    discussion: """
      Prints the PDE, dimensions, input and target variables (found by their pdekit_role \
      attribute) with min/max/mean, per-sample solver diagnostics and the generation config. \
      Variables are read in blocks, so files larger than memory are fine.
      """)

  @Argument(help: "The dataset file (.nc) to describe.")
  var file: String

  func validate() throws {
    guard FileManager.default.fileExists(atPath: file) else {
      throw ValidationError("no such file: \(file)")
    }
  }

  func run() throws {
    try DatasetProbe.check(file)
    do {
      let reader = try DatasetReader(url: URL(fileURLWithPath: file))
      print(try reader.summary())
    } catch let e as DatasetError {
      throw CLIError(
        "\(e.description)\n(`pdekit info` reads NetCDF-4 datasets written by PDEKit; check the path and the file's origin.)"
      )
    }
  }
}
