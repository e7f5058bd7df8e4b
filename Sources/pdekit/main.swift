// The `pdekit` command-line tool: a thin veneer over the PDEKit libraries.
import ArgumentParser
import Datasets
import Foundation
import Numerics
import Solvers

@main
struct PDEKitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pdekit",
    abstract: "Sparse PDE solvers, NetCDF training data and neural operators.",
    discussion: """
      PDEKit generates PDE datasets with classical sparse solvers (SuiteSparse, preconditioned \
      Krylov methods), writes them as CF-compliant NetCDF-4 files, and trains neural operators on them.

      Start with `pdekit doctor` to check the system libraries, and `pdekit info FILE.nc` to \
      inspect a dataset.
      """,
    version: PDEKitVersion.version,
    subcommands: [Doctor.self, Info.self])
}

struct Doctor: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print library versions and run a self-check of FFTW, OpenBLAS, CHOLMOD and netCDF.",
    discussion: """
      Each check does a small real computation (an FFT round trip, a gemm against a naive loop, a \
      CHOLMOD solve of a 2D Laplacian, a netCDF-4 write and read back in a temporary folder) and \
      reports ok or FAILED with the reason. The exit status is non-zero if any check fails.
      """)

  @Option(help: "Folder for the temporary netCDF file (default: the system temporary folder).")
  var tmp: String?

  func run() throws {
    print("PDEKit \(PDEKitVersion.version)")
    for (lib, version) in SelfCheck.libraryVersions().dropFirst() {
      print("  \(lib.padding(toLength: 12, withPad: " ", startingAt: 0)) \(version)")
    }
    if let advice = SelfCheck.openBLASAdvice() { print("  note: \(advice)") }
    print("Self-check:")
    let dir = tmp.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
    let results = SelfCheck.run(directory: dir)
    for r in results {
      print("  [\(r.passed ? "ok" : "FAILED")] \(r.name): \(r.detail)")
    }
    let failed = results.filter { !$0.passed }.count
    if failed > 0 {
      print("\(failed) of \(results.count) checks failed. Reinstall the system packages listed in README.md and retry.")
      throw ExitCode(1)
    }
    print("All \(results.count) checks passed.")
  }
}

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

/// A user-facing error: printed as "Error: <message>" with exit status 1, without the usage text.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ message: String) { description = message }
}
