// libFuzzer target: the Matrix Market reader (coordinate and array formats, every field and
// symmetry). Malformed input must throw; it must never crash, hang or allocate more than the
// input can justify.
import Foundation
import Numerics

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Working-memory bound of the CSR conversion (far under libFuzzer's -malloc_limit_mb): a valid
/// empty matrix may declare 2³¹−1 rows in 30 bytes, and `csr(maximumBytes:)` must refuse it.
let csrLimit = 256 << 20

// libFuzzer takes `int *argc, char ***argv` (it may consume its own flags).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
_ = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
  guard let data else { return 0 }
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  // Both entry points: the public String parser and the file reader. They share the byte parser;
  // the file reader sees the bytes as given, which differ from the String's only when the input is
  // not valid UTF-8 (decoding replaces bad bytes), so the file is written only then.
  var parsed: [MatrixMarket.Matrix] = []
  if let m = try? MatrixMarket.parse(text) { parsed.append(m) }
  if text.utf8.count != size || !text.utf8.elementsEqual(UnsafeBufferPointer(start: data, count: size)) {
    let url = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("fuzz-matrixmarket-\(getpid()).mtx")
    if (try? Data(bytes: data, count: size).write(to: url)) != nil {
      if let m = try? MatrixMarket.read(contentsOf: url) { parsed.append(m) }
    }
  }
  for m in parsed {
    precondition(m.rows >= 0 && m.columns >= 0)
    switch m {
    case .sparse(let a, _):
      precondition(a.rows == m.rows && a.columns == m.columns)
    case .dense(let a, _):
      precondition(a.count == m.rows * m.columns)
    }
    if let csr = try? m.csr(maximumBytes: csrLimit) {
      precondition(csr.rows == m.rows && csr.columns == m.columns)
    }
  }
  return 0
}
