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
      `predict` fit a Fourier neural operator to a dataset and apply it; `pdekit plot` draws \
      datasets, predictions, solver statistics and training curves as PNG figures.
      """,
    version: PDEKitVersion.version,
    subcommands: [
      Generate.self, Solve.self, Train.self, Eval.self, Predict.self, Plot.self, Info.self, Doctor.self,
      ProbeDataset.self,
    ])

  static func main() {
    OpenBLASKernels.reexecIfNeeded()
    // A file-size limit (ulimit -f) then fails the write with EFBIG, which is reported like a full
    // disk, instead of killing the process with SIGXFSZ.
    signal(SIGXFSZ, SIG_IGN)
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      // Report, then leave without running atexit handlers: after a failed nc_close (a full disk,
      // a file-size limit) HDF5's exit-time clean-up dereferences freed state and crashes, which
      // would bury the real error under a backtrace.
      fflush(nil)  // what print() buffered
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if !message.isEmpty {
        let handle = code == .success ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data((message + "\n").utf8))
      }
      _exit(code.rawValue)
    }
  }
}

/// A user-facing error: printed as "Error: <message>" with exit status 1, without the usage text.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ message: String) { description = message }
}
