import Foundation
import Numerics
import Operators
import Testing

@Suite("safetensors: round trip and malformed files")
struct SafeTensorsTests {
  /// A file from its header text and data bytes.
  func file(_ header: String, data: [UInt8] = []) -> Data {
    var d = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
    d.append(contentsOf: Array(header.utf8))
    d.append(contentsOf: data)
    return d
  }

  @Test("FNO parameters round-trip bit for bit (Float32), with the config as metadata")
  func roundTrip() throws {
    let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: 4, modes: [4, 4], layers: 2)
    let fno = FNO<Float>(config, seed: 3)
    let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
    let bytes = try SafeTensors.encode(
      fno.namedParameters(), metadata: ["format": "pt", "config": json, "quote": "a\"b\\c\n"])
    // Layout: 8-byte length, header padded to a multiple of 8, then the data.
    let n = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
    #expect(n % 8 == 0)
    #expect(bytes.count == 8 + n + 4 * fno.parameterCount)
    let decoded = try SafeTensors.decode(bytes)
    #expect(decoded.metadata == ["format": "pt", "config": json, "quote": "a\"b\\c\n"])
    #expect(try JSONDecoder().decode(FNOConfiguration.self, from: Data(decoded.metadata["config"]!.utf8)) == config)
    var restored = FNO<Float>(config, seed: 99)
    var values: [String: NDArray<Float>] = [:]
    for e in decoded.entries { values[e.name] = try decoded.array(named: e.name) }
    try restored.loadParameters(values)
    #expect(restored.namedParameters().map(\.value) == fno.namedParameters().map(\.value))
    #expect(decoded.entry(named: "blocks.0.spectral.weight")?.shape == [4, 4, 4, 3, 2])
    #expect(decoded.entry(named: "blocks.0.spectral.weight")?.dtype == .float32)
    // Float64 files read as Float64 and convert to Float32.
    let x = try NDArray<Double>(shape: [2, 2], data: [1, -2.5, 3e-300, .pi])
    let d64 = try SafeTensors.decode(try SafeTensors.encode([("x", x)]))
    #expect(try d64.array(named: "x") == x)
    #expect(try d64.array(named: "x") == x.converted(to: Float.self))
    #expect(d64.metadata.isEmpty)
  }

  @Test("a file written by hand (Python's layout) decodes")
  func handWritten() throws {
    let one: [UInt8] = [0, 0, 128, 63]  // 1.0f little-endian
    let two: [UInt8] = [0, 0, 0, 64]  // 2.0f
    let f = try SafeTensors.decode(
      file(
        #"{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"__metadata__":{"format":"pt"}}  "#,
        data: one + two))
    #expect(f.entries.map(\.name) == ["a", "b"])
    #expect(try f.array(named: "a") as NDArray<Float> == NDArray(shape: [], repeating: 1))
    #expect(try f.array(named: "b") as NDArray<Double> == NDArray(shape: [1], repeating: 2))
  }

  @Test(
    "malformed files are rejected with an error",
    arguments: [
      "short", "length past end", "not JSON", "JSON array", "unknown dtype", "negative shape", "size mismatch",
      "gap", "overlap", "trailing bytes", "offsets reversed", "metadata not strings", "missing field",
    ])
  func malformed(kind: String) {
    let four: [UInt8] = [0, 0, 128, 63]
    let data: Data
    switch kind {
    case "short": data = Data([1, 2, 3])
    case "length past end":
      var d = Data()
      withUnsafeBytes(of: UInt64(1000).littleEndian) { d.append(contentsOf: $0) }
      d.append(contentsOf: Array("{}".utf8))
      data = d
    case "not JSON": data = file("{\"a\": ", data: four)
    case "JSON array": data = file("[1, 2]")
    case "unknown dtype": data = file(#"{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,4]}}"#, data: four)
    case "negative shape": data = file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: four)
    case "size mismatch": data = file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: four)
    case "gap": data = file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: four + four)
    case "overlap":
      data = file(
        #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
        data: four)
    case "trailing bytes": data = file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: four + four)
    case "offsets reversed": data = file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: four)
    case "metadata not strings": data = file(#"{"__metadata__":{"a":1}}"#)
    default: data = file(#"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, data: four)
    }
    #expect(throws: OperatorsError.self) { try SafeTensors.decode(data) }
  }

  @Test("reading a missing name or a non-float dtype throws")
  func readErrors() throws {
    let f = try SafeTensors.decode(
      file(#"{"i":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#, data: [1, 0, 0, 0]))
    #expect(f.entry(named: "i")?.dtype == .int32)
    #expect(throws: OperatorsError.self) { let _: NDArray<Float> = try f.array(named: "i") }
    #expect(throws: OperatorsError.self) { let _: NDArray<Float> = try f.array(named: "nope") }
  }

  @Test(
    "a file inside a larger buffer (a Data slice) decodes to the same tensors (regression: offsets were taken from the parent buffer)"
  )
  func sliceOfLargerBuffer() throws {
    let x = try NDArray<Float>(shape: [2, 3], data: (0..<6).map { Float($0) + 0.5 })
    let y = try NDArray<Float>(shape: [1], data: [-7])
    let bytes = try SafeTensors.encode([("x", x), ("y", y)])
    var buffer = Data([0xAA, 0xBB, 0xCC])
    buffer.append(bytes)
    buffer.append(contentsOf: [0xDD, 0xEE, 0xFF, 0x11])
    let slice = buffer[3..<(3 + bytes.count)]
    #expect(slice.startIndex == 3)
    let f = try SafeTensors.decode(slice)
    #expect(try f.array(named: "x") as NDArray<Float> == x)
    #expect(try f.array(named: "y") as NDArray<Float> == y)
  }
}
