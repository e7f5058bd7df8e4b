import ArgumentParser
import Foundation
import Numerics
import Solvers

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
    if let advice = SelfCheck.openBLASAdvice() {
      print("  note: \(advice)")
    } else if let core = ProcessInfo.processInfo.environment[OpenBLASKernels.marker] {
      print(
        "  note: OpenBLAS chose generic kernels on this CPU; pdekit runs it with OPENBLAS_CORETYPE=\(core) "
          + "(set PDEKIT_KEEP_OPENBLAS_CORE=1 to keep OpenBLAS's own choice).")
    }
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
