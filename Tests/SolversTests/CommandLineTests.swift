import Datasets
import Foundation
import Testing

/// The `pdekit` executable built beside the test bundle (`swift build` builds it; CI runs that first).
func pdekitExecutable() -> URL {
  URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    .appendingPathComponent("pdekit")
}

/// Runs a shell command line; returns the exit status and standard error.
func shell(_ command: String) throws -> (status: Int32, stderr: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/bin/sh")
  process.arguments = ["-c", command]
  let err = Pipe()
  process.standardError = err
  process.standardOutput = FileHandle.nullDevice
  try process.run()
  let data = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// True when this process runs under ThreadSanitizer (its runtime exports `__tsan_init`).
let runningUnderThreadSanitizer: Bool = {
  guard let handle = dlopen(nil, RTLD_NOW) else { return false }
  return dlsym(handle, "__tsan_init") != nil
}()

@Suite("pdekit command line")
struct CommandLineTests {
  /// Skipped under ThreadSanitizer: with `ulimit -f` in force, the TSan runtime of the child pdekit
  /// itself dies of SIGBUS (it maps memory beyond the file-size limit), before PDEKit's code runs.
  @Test(
    "a full disk (file-size limit) is a clear error with exit 1, not a crash; --resume then finishes the file",
    .disabled(if: runningUnderThreadSanitizer, "ThreadSanitizer's runtime cannot run under ulimit -f"))
  func fullDisk() throws {
    let exe = pdekitExecutable()
    #expect(FileManager.default.isExecutableFile(atPath: exe.path), "build the pdekit product first: swift build")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("d.nc").path
    let clean = dir.appendingPathComponent("clean.nc").path
    let args = "generate darcy --samples 48 --resolution 24 --batch-size 8 --threads 1 --quiet"
    // 96 blocks of 1 KiB: the first part files fit, a later one does not.
    let limited = try shell("ulimit -f 96; exec '\(exe.path)' \(args) --out '\(out)'")
    #expect(limited.status == 1, "exit status \(limited.status); stderr: \(limited.stderr)")
    #expect(limited.stderr.contains("file-size limit"), "\(limited.stderr)")
    #expect(!limited.stderr.contains("crashed") && !limited.stderr.contains("Backtrac"))
    #expect(!FileManager.default.fileExists(atPath: out), "a partial output file was left behind")
    let resumed = try shell("exec '\(exe.path)' \(args) --out '\(out)' --resume")
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let reference = try shell("exec '\(exe.path)' \(args) --out '\(clean)'")
    #expect(reference.status == 0, "\(reference.stderr)")
    let (a, b) = (
      try DatasetReader(url: URL(fileURLWithPath: out)), try DatasetReader(url: URL(fileURLWithPath: clean))
    )
    #expect(a.sampleCount == 48 && b.sampleCount == 48)
    for name in ["coefficient", "solution"] {
      #expect(try a.read(name, samples: 0..<48) == b.read(name, samples: 0..<48), "\(name) differs after resume")
    }
  }
}
