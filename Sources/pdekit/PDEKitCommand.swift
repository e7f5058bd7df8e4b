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

      Start with `pdekit doctor` to check the system libraries, `pdekit generate --list` to see \
      the recipes, and `pdekit info FILE.nc` to inspect a dataset. `pdekit train`, `eval` and \
      `predict` fit a Fourier neural operator to a dataset and apply it.
      """,
    version: PDEKitVersion.version,
    subcommands: [Generate.self, Solve.self, Train.self, Eval.self, Predict.self, Info.self, Doctor.self])

  static func main() {
    OpenBLASKernels.reexecIfNeeded()
    main(nil)
  }
}

/// A user-facing error: printed as "Error: <message>" with exit status 1, without the usage text.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ message: String) { description = message }
}
