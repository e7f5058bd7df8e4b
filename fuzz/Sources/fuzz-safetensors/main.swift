// libFuzzer target: the safetensors reader (`SafeTensors.decode`, then every entry read as Float)
// and the checkpoint reader built on it (`OperatorCheckpoint.decode`). Malformed input (header
// length, JSON header, dtype, shapes, offsets out of range or overlapping, sizes that overflow)
// must throw; it must never crash, hang or allocate more than the file holds.
import Foundation
import Numerics
import Operators

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

// libFuzzer takes `int *argc, char ***argv` (it may consume its own flags).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
_ = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
  guard let data else { return 0 }
  let bytes = Data(bytes: data, count: size)
  if let file = try? SafeTensors.decode(bytes) {
    var covered = 0
    for e in file.entries {
      precondition(e.dataOffsets.lowerBound >= 0 && e.dataOffsets.upperBound <= size)
      covered += e.dataOffsets.count
      if let a: NDArray<Float> = try? file.array(named: e.name) {
        precondition(a.shape == e.shape)
      }
    }
    precondition(covered <= size)
  }
  // A Data slice (non-zero startIndex), as a reader of a larger buffer would pass.
  var padded = Data([0, 0, 0])
  padded.append(bytes)
  if let file = try? SafeTensors.decode(padded.dropFirst(3)) {
    for e in file.entries { _ = try? file.array(named: e.name) as NDArray<Float> }
  }
  _ = try? OperatorCheckpoint.decode(bytes)
  return 0
}
