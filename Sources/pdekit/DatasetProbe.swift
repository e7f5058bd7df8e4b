// Opening a netCDF-4 file from a stranger in a child process first.
//
// netCDF-4 files are read through libhdf5, which is not hardened against damaged or hostile files:
// a fuzzed 48 KB file makes Debian's HDF5 1.10.8 abort inside `nc_open` with an invalid free
// (fuzz/README.md, finding 8), below anything PDEKit can check. Before a command reads a netCDF-4
// file in its own process, a child `pdekit` opens it, checks the schema and reads the first sample
// of every variable; a child killed by a signal means the file would have crashed the command, and
// the command stops with an error instead. Classic-format files are checked in-process (their
// header is bounds-checked before netCDF-C reads it), so they are not probed.
import ArgumentParser
import Datasets
import Foundation

enum DatasetProbe {
  /// HDF5's format signature, at the start of a netCDF-4 file.
  static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

  /// Throws a `CLIError` if opening the netCDF-4 file at `path` crashes a child process. Files in
  /// other formats, missing files (the command reports those itself) and `PDEKIT_NO_PROBE=1` skip it.
  static func check(_ path: String) throws {
    guard ProcessInfo.processInfo.environment["PDEKIT_NO_PROBE"] != "1",
      let handle = FileHandle(forReadingAtPath: path)
    else { return }
    let head = (try? handle.read(upToCount: 8)) ?? Data()
    try? handle.close()
    guard [UInt8](head) == hdf5Signature else { return }
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    child.arguments = ["probe-dataset", path]
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"  // the parent reports the crash, in one line
    child.environment = environment
    child.standardOutput = FileHandle.nullDevice
    child.standardError = FileHandle.nullDevice
    try child.run()
    child.waitUntilExit()
    // 0: the file reads; ProbeDataset.refused: a normal error, which the command reports itself.
    // Anything else is a crash: a signal, or a sanitizer's exit status in instrumented builds.
    let status = child.terminationStatus
    let crashed = child.terminationReason == .uncaughtSignal || (status != 0 && status != ProbeDataset.refused)
    if crashed {
      let how =
        child.terminationReason == .uncaughtSignal
        ? "died of signal \(status), \(String(cString: strsignal(status)))" : "ended with status \(status)"
      throw CLIError(
        "\(path): reading this netCDF-4 file crashes the HDF5 library (a child process opening it \(how)); "
          + "the file is damaged or was crafted. Ask for a new copy, or check it with `h5dump -H` or "
          + "`ncdump -h`. (PDEKIT_NO_PROBE=1 skips this check.)")
    }
  }
}

/// The child side of ``DatasetProbe``: opens the file and reads its first sample. Not listed in
/// `pdekit --help`; its exit status matters only when a signal ends it.
struct ProbeDataset: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "probe-dataset", abstract: "Open a dataset and read its first sample (used by other commands).",
    shouldDisplay: false)

  /// Exit status for a file refused with an ordinary error (not a crash).
  static let refused: Int32 = 3

  @Argument(help: "The dataset file.")
  var file: String

  func run() throws {
    do {
      let reader = try DatasetReader(url: URL(fileURLWithPath: file))
      let first = 0..<min(1, reader.sampleCount)
      for v in reader.variables { _ = try reader.read(v.name, samples: first) }
      _ = try reader.diagnostics(samples: first)
      try reader.close()
    } catch {
      throw ExitCode(Self.refused)
    }
  }
}
