// libFuzzer target: the NetCDF dataset reader. Each input is written to a temporary file and opened
// with `DatasetReader` (schema validation on top of netCDF-C/HDF5), then every data variable, the
// diagnostics and the statistics are read. A malformed file must throw a `DatasetError`; nothing
// may crash, hang, overrun a buffer or allocate more than the reader's limit (64 MiB here, far
// under libFuzzer's -malloc_limit_mb).
import Datasets
import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// One scratch file per fuzzing process, in memory-backed /dev/shm when there is one.
let scratch: URL = {
  let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
  return URL(fileURLWithPath: dir).appendingPathComponent("pdekit-fuzz-netcdf-\(getpid()).nc")
}()

func exercise(_ url: URL) {
  guard let reader = try? DatasetReader(url: url, maximumReadBytes: 64 << 20) else { return }
  let n = reader.sampleCount
  let first = 0..<min(n, 2)
  for v in reader.variables {
    if let block = try? reader.read(v.name, samples: first) {
      precondition(block.shape == [first.count] + v.sampleShape, "read returned the wrong shape")
    }
    _ = try? reader.statistics(v.name, batch: 1)
  }
  if let d = try? reader.diagnostics(samples: first) { precondition(d.count == first.count) }
  for a in reader.axes { precondition(!a.name.isEmpty) }
  _ = reader.config
  try? reader.close()
}

// libFuzzer takes `int *argc, char ***argv` (it may consume its own flags).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
_ = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
  guard let data else { return 0 }
  let bytes = Data(bytes: data, count: size)
  guard (try? bytes.write(to: scratch)) != nil else { return 0 }
  exercise(scratch)
  return 0
}
try? FileManager.default.removeItem(at: scratch)
