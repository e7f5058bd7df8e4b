// libFuzzer target: the safetensors reader (`SafeTensors.decode`, then every entry read as Float)
// and the checkpoint reader built on it (`OperatorCheckpoint.decode`, then the model it holds is
// built from its `model_config` and loaded with its weights). Malformed input (header
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

/// Builds the checkpoint's model (validating its configuration against the stored weights).
struct CountScalars: NeuralOperatorVisitor {
  func visit<M: NeuralOperator>(_ model: M) throws -> Int where M.Scalar == Float { model.parameterCount }
}

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
  // It must decode to the same tensors, bit for bit.
  let direct = try? SafeTensors.decode(bytes)
  if let file = try? SafeTensors.decode(padded.dropFirst(3)) {
    precondition(direct != nil, "a slice decodes but the same bytes do not")
    for e in file.entries {
      let a = try? file.array(named: e.name) as NDArray<Float>
      let b = try? direct!.array(named: e.name) as NDArray<Float>
      precondition((a == nil) == (b == nil))
      if let a, let b {
        let same = a.withUnsafeBufferPointer { p in
          b.withUnsafeBufferPointer { q in zip(p, q).allSatisfy { $0.bitPattern == $1.bitPattern } }
        }
        precondition(same && a.shape == b.shape, "tensor \(e.name) differs when read from a Data slice")
      }
    }
  } else {
    precondition(direct == nil, "the same bytes decode but a slice of them does not")
  }
  if let checkpoint = try? OperatorCheckpoint.decode(bytes) {
    _ = try? checkpoint.withModel(CountScalars())
  }
  return 0
}
