import Datasets
import Foundation
import Numerics
import Testing

@Suite("Concatenating datasets by copying compressed chunks")
struct ConcatenationTests {
  /// Writes `count` random samples of `schema` to `url`; returns them by variable and the diagnostics.
  func writePart(
    _ url: URL, schema: DatasetSchema, count: Int, seed: UInt64
  ) throws -> ([[String: NDArray<Float>]], [SampleDiagnostics]) {
    let w = try DatasetWriter.create(at: url, schema: schema)
    var samples: [[String: NDArray<Float>]] = []
    var diagnostics: [SampleDiagnostics] = []
    for s in 0..<count {
      var rng = PhiloxRandom(seed: seed, stream: UInt64(s))
      var sample: [String: NDArray<Float>] = [:]
      for v in schema.variables {
        var a = NDArray<Float>.zeros(try schema.sampleShape(of: v))
        a.withUnsafeMutableBufferPointer { rng.fillGaussian($0) }
        sample[v.name] = a
      }
      let d = SampleDiagnostics(
        seed: seed * 100 + UInt64(s), iterations: Int32(s), relativeResidual: 1e-9, solveSeconds: Double(s))
      try w.append(sample, diagnostics: d)
      samples.append(sample)
      diagnostics.append(d)
    }
    try w.close()
    return (samples, diagnostics)
  }

  @Test(
    "parts with the output's storage are copied chunk for chunk, others rewritten; data, diagnostics and order intact (2D and time series)",
    arguments: [false, true])
  func concatenate(timeSeries: Bool) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let schema = timeSeries ? timeSeriesSchema() : sampleSchema()
    var uncompressed = schema
    uncompressed.deflateLevel = 0
    let parts = (0..<3).map { dir.appendingPathComponent("part-\($0).nc") }
    // Parts 0 and 2 are stored as the output (deflate 1 + shuffle); part 1 is not, so it takes the
    // decode/encode path; an empty part in between is skipped.
    let empty = dir.appendingPathComponent("empty.nc")
    try DatasetWriter.create(at: empty, schema: schema).close()
    let a = try writePart(parts[0], schema: schema, count: 3, seed: 1)
    let b = try writePart(parts[1], schema: uncompressed, count: 2, seed: 2)
    let c = try writePart(parts[2], schema: schema, count: 4, seed: 3)
    let out = dir.appendingPathComponent("all.nc")
    let summary = try DatasetConcatenation.concatenate(
      [parts[0], empty, parts[1], parts[2]], schema: schema, into: out, history: "test")
    #expect(summary.samples == 9 && summary.copiedSamples == 7)
    let reader = try DatasetReader(url: out)
    defer { try? reader.close() }
    #expect(reader.sampleCount == 9)
    let expected = a.0 + b.0 + c.0
    for v in schema.variables {
      let block = try reader.read(v.name, samples: 0..<9)
      for s in 0..<9 { #expect(block[sample: s] == expected[s][v.name]!, "\(v.name) sample \(s)") }
    }
    let d = try reader.diagnostics(samples: 0..<9)
    #expect(d.map(\.seed) == (a.1 + b.1 + c.1).map(\.seed))
    #expect(d.map(\.iterations) == (a.1 + b.1 + c.1).map(\.iterations))
    #expect(reader.attributes["history"]?.hasSuffix("test") == true)
    // The standard tool reads the file without complaint.
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/ncdump")
    p.arguments = ["-v", schema.variables[1].name, out.path]
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0 && message.isEmpty, "\(message)")
  }
}
