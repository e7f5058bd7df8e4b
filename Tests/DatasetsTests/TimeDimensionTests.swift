import Datasets
import Foundation
import Numerics
import Testing

/// A time-series schema: input w0(y, x), target w(time, y, x), with the numeric attributes and
/// diagnostic descriptions a time stepper writes.
func timeSeriesSchema(times: [Double] = [1, 2, 3], n: Int = 4) -> DatasetSchema {
  var schema = DatasetSchema(
    title: "time series test", pde: "navier-stokes", equation: "w_t + u.grad w = nu Lap w + f",
    boundaryConditions: "periodic", discretization: "pseudo-spectral", solver: "Crank-Nicolson", rtol: 0,
    configJSON: "{}",
    axes: [
      DatasetAxis(name: "time", values: times, units: "1", longName: "time (nondimensional)"),
      .periodic("y", count: n), .periodic("x", count: n),
    ],
    variables: [
      DatasetVariable(name: "w0", role: .input, axes: ["y", "x"], longName: "initial vorticity", units: "1"),
      DatasetVariable(name: "w", role: .target, axes: ["time", "y", "x"], longName: "vorticity", units: "1"),
    ])
  schema.numericAttributes = ["time_step": 1e-4, "solver_resolution": 256, "stored_resolution": Double(n)]
  schema.diagnosticDescriptions = [DiagnosticVariables.iterations: "time steps taken"]
  return schema
}

@Suite("NetCDF datasets with a time dimension")
struct TimeDimensionTests {
  @Test("a (sample, time, y, x) variable round-trips with its time coordinate and numeric attributes")
  func roundTrip() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("ts.nc")
    let w = try DatasetWriter.create(at: url, schema: timeSeriesSchema())
    var targets: [NDArray<Float>] = []
    for s in 0..<2 {
      let series = NDArray<Float>(shape: [3, 4, 4]) { p in for i in 0..<p.count { p[i] = Float(i + 100 * s) } }
      targets.append(series)
      try w.append(
        ["w0": NDArray(shape: [4, 4], repeating: Float(s)), "w": series],
        diagnostics: SampleDiagnostics(seed: UInt64(s), iterations: 30_000, relativeResidual: 0, solveSeconds: 1))
    }
    // A per-sample shape without the time axis is refused.
    #expect(throws: DatasetError.self) {
      try w.append(
        ["w0": NDArray(shape: [4, 4], repeating: 0), "w": NDArray(shape: [4, 4], repeating: 0)],
        diagnostics: SampleDiagnostics(seed: 9, iterations: 0, relativeResidual: 0, solveSeconds: 0))
    }
    try w.close()
    let r = try DatasetReader(url: url)
    #expect(r.sampleCount == 2)
    #expect(try r.variable(named: "w").axes == ["time", "y", "x"])
    #expect(try r.variable(named: "w").sampleShape == [3, 4, 4])
    let time = try #require(r.axes.first { $0.name == "time" })
    #expect(time.values == [1, 2, 3] && time.units == "1" && time.longName == "time (nondimensional)")
    #expect(
      try r.read("w", samples: 0..<2) == NDArray(shape: [2, 3, 4, 4], data: targets[0].scalars + targets[1].scalars))
    #expect(r.attributes["time_step"] == "0.0001" && r.attributes["solver_resolution"] == "256.0")
    #expect(r.attributes["stored_resolution"] == "4.0")
    #expect(try r.diagnostics(samples: 0..<2).map(\.iterations) == [30_000, 30_000])
  }

  @Test("ncdump shows the time dimension, its CF coordinate and the double attributes without complaint")
  func ncdump() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("ts.nc")
    let w = try DatasetWriter.create(at: url, schema: timeSeriesSchema())
    try w.append(
      ["w0": NDArray(shape: [4, 4], repeating: 1), "w": NDArray(shape: [3, 4, 4], repeating: 2)],
      diagnostics: SampleDiagnostics(seed: 1, iterations: 3, relativeResidual: 0, solveSeconds: 0.1))
    try w.close()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/ncdump")
    p.arguments = ["-h", "-s", url.path]
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0 && errText.isEmpty, "ncdump: \(errText)")
    for needle in [
      "time = 3 ;", "double time(time) ;", "time:units = \"1\" ;", "time:axis = \"T\" ;",
      "time:long_name = \"time (nondimensional)\" ;", "float w(sample, time, y, x) ;", "w:_ChunkSizes = 1, 3, 4, 4 ;",
      ":time_step = 0.0001 ;", ":solver_resolution = 256. ;", "solver_iterations:long_name = \"time steps taken\" ;",
    ] {
      #expect(text.contains(needle), "ncdump -h output lacks \(needle)")
    }
  }

  @Test("bad numeric attributes and unknown diagnostic names are refused before touching the disk")
  func validation() throws {
    var s = timeSeriesSchema()
    s.numericAttributes["title"] = 1
    #expect(throws: DatasetError.self) { try s.validate() }
    s = timeSeriesSchema()
    s.numericAttributes["dt"] = .nan
    #expect(throws: DatasetError.self) { try s.validate() }
    s = timeSeriesSchema()
    s.diagnosticDescriptions["steps"] = "x"
    #expect(throws: DatasetError.self) { try s.validate() }
    try timeSeriesSchema().validate()
  }
}
