import CNetCDF
import Datasets
import Foundation
import Numerics
import Testing

func temporaryDirectory() throws -> URL {
  let d = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
  return d
}

func sampleSchema(ny: Int = 4, nx: Int = 5) -> DatasetSchema {
  DatasetSchema(
    title: "test", pde: "darcy", equation: "-div(a grad u) = f", boundaryConditions: "u = 0 on the boundary",
    discretization: "5-point finite volumes", solver: "cholmod", rtol: 1e-10,
    configJSON: #"{"recipe":"darcy","seed":1}"#,
    axes: [.cellCentred("y", count: ny), .cellCentred("x", count: nx)],
    variables: [
      DatasetVariable(name: "coefficient", role: .input, axes: ["y", "x"], longName: "permeability a", units: "1"),
      DatasetVariable(name: "solution", role: .target, axes: ["y", "x"], longName: "pressure u", units: "1"),
    ])
}

@Suite("NetCDF datasets")
struct DatasetTests {
  @Test("write, reopen, read by role; attributes, coordinates and diagnostics intact; append resumes")
  func roundTrip() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    let w = try DatasetWriter.create(at: url, schema: sampleSchema(), history: "pdekit test")
    var written: [(NDArray<Float>, NDArray<Float>)] = []
    for s in 0..<3 {
      var rng = PhiloxRandom(seed: 3, stream: UInt64(s))
      var a = NDArray<Float>.zeros([4, 5])
      a.withUnsafeMutableBufferPointer { rng.fillGaussian($0) }
      let u = 0.5 * a
      written.append((a, u))
      try w.append(
        ["coefficient": a, "solution": u],
        diagnostics: SampleDiagnostics(
          seed: UInt64(100 + s), iterations: Int32(s), relativeResidual: 1e-9 * Double(s), solveSeconds: 0.25))
    }
    try w.close()
    // Resume: reopen and append a fourth sample.
    let w2 = try DatasetWriter.open(appendingTo: url)
    #expect(w2.sampleCount == 3)
    try w2.append(
      ["coefficient": written[0].0, "solution": written[0].1],
      diagnostics: SampleDiagnostics(seed: 103, iterations: 7, relativeResidual: 0, solveSeconds: 1))
    try w2.close()

    let r = try DatasetReader(url: url)
    #expect(r.sampleCount == 4)
    #expect(r.variables(role: .input).map(\.name) == ["coefficient"])
    #expect(r.variables(role: .target).map(\.name) == ["solution"])
    #expect(r.variables[0].sampleShape == [4, 5] && r.variables[0].units == "1")
    let inputs = try r.read(r.variables(role: .input)[0].name, samples: 0..<3)
    let targets = try r.read("solution", samples: 1..<4)
    for s in 0..<3 { #expect(inputs[sample: s] == written[s].0) }
    #expect(targets[sample: 0] == written[1].1 && targets[sample: 2] == written[0].1)
    #expect(r.attributes["Conventions"] == "CF-1.10")
    #expect(r.attributes["pde"] == "darcy")
    #expect(r.attributes["boundary_conditions"] == "u = 0 on the boundary")
    #expect(r.attributes["generator"] == PDEKitVersion.generator)
    #expect(r.attributes["history"]?.hasSuffix("pdekit test") == true)
    #expect(r.attributes["rtol"] == "1e-10")
    #expect(r.config == #"{"recipe":"darcy","seed":1}"#)
    #expect(r.axes.map(\.name) == ["y", "x"])
    #expect(r.axes[1].values == [0.1, 0.3, 0.5, 0.7, 0.9])
    let d = try r.diagnostics(samples: 0..<4)
    #expect(d.map(\.seed) == [100, 101, 102, 103])
    #expect(d.map(\.iterations) == [0, 1, 2, 7])
    #expect(d[2].relativeResidual == 2e-9 && d[3].solveSeconds == 1)
    let stats = try r.statistics("solution", batch: 3)
    #expect(stats.count == 80)
    #expect(try r.summary().contains("coefficient(sample, y, x) [1]: permeability a"))
    #expect(throws: DatasetError.self) { try r.read("solution", samples: 2..<5) }
    #expect(throws: DatasetError.self) { try r.read("nope", samples: 0..<1) }
  }

  @Test("chunking is one sample per chunk with deflate level 1")
  func chunking() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("c.nc")
    try DatasetWriter.create(at: url, schema: sampleSchema(ny: 6, nx: 7)).close()
    let ncid = try NetCDF.open(url.path, mode: NC_NOWRITE, context: "reading \(url.path)")
    NetCDF.serialized {
      defer { nc_close(ncid) }
      var v: Int32 = 0
      #expect(nc_inq_varid(ncid, "solution", &v) == NC_NOERR)
      var storage: Int32 = -1
      var chunks = [Int](repeating: 0, count: 3)
      #expect(nc_inq_var_chunking(ncid, v, &storage, &chunks) == NC_NOERR)
      #expect(storage == NC_CHUNKED && chunks == [1, 6, 7])
      var shuffle: Int32 = 0
      var deflate: Int32 = 0
      var level: Int32 = 0
      #expect(nc_inq_var_deflate(ncid, v, &shuffle, &deflate, &level) == NC_NOERR)
      #expect(deflate == 1 && level == 1)
    }
  }

  @Test("a file without a target variable gives the named missing-role error")
  func missingRole() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("m.nc")
    try DatasetWriter.create(at: url, schema: sampleSchema()).close()
    // Remove the target role by renaming the attribute with the C API.
    let ncid = try NetCDF.open(url.path, mode: NC_WRITE, context: "editing \(url.path)")
    NetCDF.serialized {
      var v: Int32 = 0
      #expect(nc_inq_varid(ncid, "solution", &v) == NC_NOERR)
      #expect(nc_redef(ncid) == NC_NOERR)
      #expect(nc_rename_att(ncid, v, "pdekit_role", "old_role") == NC_NOERR)
      #expect(nc_close(ncid) == NC_NOERR)
    }
    #expect(throws: DatasetError.missingRole(file: url.path, role: "target")) { try DatasetReader(url: url) }
    #expect(throws: DatasetError.self) { try DatasetWriter.open(appendingTo: url) }
  }

  @Test(
    "a file locked for a moment (as while a child process is being spawned) opens once the lock is gone; a lasting lock is a clear error"
  )
  func transientLock() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("l.nc")
    let w = try DatasetWriter.create(at: url, schema: sampleSchema())
    try w.append(
      ["coefficient": .zeros([4, 5]), "solution": .zeros([4, 5])],
      diagnostics: SampleDiagnostics(seed: 1, iterations: 1, relativeResidual: 0, solveSeconds: 0))
    try w.close()
    // Another open file description holding an exclusive flock, as HDF5 takes for writing.
    let fd = open(url.path, O_RDWR)
    #expect(fd >= 0 && flock(fd, LOCK_EX) == 0)
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
      flock(fd, LOCK_UN)
      close(fd)
    }
    let reader = try DatasetReader(url: url)
    #expect(reader.sampleCount == 1)
    try reader.close()
    let held = open(url.path, O_RDWR)
    #expect(held >= 0 && flock(held, LOCK_EX) == 0)
    defer { close(held) }
    #expect {
      try DatasetWriter.open(appendingTo: url)
    } throws: { error in
      "\(error)".contains("another process holds HDF5's lock") && "\(error)".contains(url.path)
    }
  }

  @Test("a missing global attribute and a missing file are named")
  func missingPieces() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("g.nc")
    try DatasetWriter.create(at: url, schema: sampleSchema()).close()
    let ncid = try NetCDF.open(url.path, mode: NC_WRITE, context: "editing \(url.path)")
    NetCDF.serialized {
      #expect(nc_redef(ncid) == NC_NOERR)
      #expect(nc_del_att(ncid, NC_GLOBAL, "pdekit_config") == NC_NOERR)
      #expect(nc_close(ncid) == NC_NOERR)
    }
    #expect(throws: DatasetError.missingAttribute(file: url.path, variable: nil, attribute: "pdekit_config")) {
      try DatasetReader(url: url)
    }
    #expect(throws: DatasetError.self) { try DatasetReader(url: dir.appendingPathComponent("absent.nc")) }
  }

  /// A valid two-sample file edited with the C API by `edit` (in define mode), for hostile-file tests.
  func editedFile(in dir: URL, _ edit: (Int32) -> Void) throws -> URL {
    let url = dir.appendingPathComponent("hostile-\(UUID().uuidString).nc")
    let w = try DatasetWriter.create(at: url, schema: sampleSchema())
    for s in 0..<2 {
      try w.append(
        ["coefficient": .zeros([4, 5]), "solution": .zeros([4, 5])],
        diagnostics: SampleDiagnostics(seed: UInt64(s), iterations: 1, relativeResidual: 0, solveSeconds: 0))
    }
    try w.close()
    let ncid = try NetCDF.open(url.path, mode: NC_WRITE, context: "editing \(url.path)")
    NetCDF.serialized {
      #expect(nc_redef(ncid) == NC_NOERR)
      edit(ncid)
      #expect(nc_close(ncid) == NC_NOERR)
    }
    return url
  }

  func addText(_ ncid: Int32, _ varid: Int32, _ name: String, _ value: String) {
    #expect(nc_put_att_text(ncid, varid, name, value.utf8.count, value) == NC_NOERR)
  }

  @Test("hostile shapes are refused before anything is allocated or overrun")
  func hostileShapes() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    // A data variable over a dimension of 10^12 points: refused at open, nothing allocated.
    let huge = try editedFile(in: dir) { ncid in
      var sample: Int32 = 0
      var big: Int32 = 0
      var v: Int32 = 0
      #expect(nc_inq_dimid(ncid, "sample", &sample) == NC_NOERR)
      #expect(nc_def_dim(ncid, "big", 1_000_000_000_000, &big) == NC_NOERR)
      #expect(nc_def_var(ncid, "huge", nc_type(NC_FLOAT), 2, [sample, big], &v) == NC_NOERR)
      addText(ncid, v, "pdekit_role", "input")
      addText(ncid, v, "long_name", "huge")
    }
    #expect {
      try DatasetReader(url: huge)
    } throws: { error in
      "\(error)".contains("'huge'") && "\(error)".contains("read limit")
    }
    // A read larger than the reader's limit is refused with the size, before allocating.
    let fine = try editedFile(in: dir) { _ in }
    let small = try DatasetReader(url: fine, maximumReadBytes: 4 * 20)
    #expect(try small.read("solution", samples: 0..<1).shape == [1, 4, 5])
    #expect(throws: DatasetError.self) { try small.read("solution", samples: 0..<2) }
    // A coordinate variable that is two-dimensional (reading it as 1-D would overrun the buffer).
    let coordinate2D = try editedFile(in: dir) { ncid in
      var sample: Int32 = 0
      var x: Int32 = 0
      var w: Int32 = 0
      var coord: Int32 = 0
      var v: Int32 = 0
      #expect(nc_inq_dimid(ncid, "sample", &sample) == NC_NOERR)
      #expect(nc_inq_dimid(ncid, "x", &x) == NC_NOERR)
      #expect(nc_def_dim(ncid, "w", 3, &w) == NC_NOERR)
      #expect(nc_def_var(ncid, "w", nc_type(NC_DOUBLE), 2, [w, x], &coord) == NC_NOERR)
      addText(ncid, coord, "units", "m")
      #expect(nc_def_var(ncid, "extra", nc_type(NC_FLOAT), 2, [sample, w], &v) == NC_NOERR)
      addText(ncid, v, "pdekit_role", "input")
      addText(ncid, v, "long_name", "extra")
    }
    #expect {
      try DatasetReader(url: coordinate2D)
    } throws: { error in
      "\(error)".contains("coordinate variable 'w' must be one-dimensional")
    }
    // A per-sample diagnostic with an extra dimension (nc_get_vara would read past start/count).
    let diagnostic2D = try editedFile(in: dir) { ncid in
      var sample: Int32 = 0
      var x: Int32 = 0
      var old: Int32 = 0
      var v: Int32 = 0
      #expect(nc_inq_dimid(ncid, "sample", &sample) == NC_NOERR)
      #expect(nc_inq_dimid(ncid, "x", &x) == NC_NOERR)
      #expect(nc_inq_varid(ncid, DiagnosticVariables.iterations, &old) == NC_NOERR)
      #expect(nc_rename_var(ncid, old, "old_iterations") == NC_NOERR)
      #expect(nc_def_var(ncid, DiagnosticVariables.iterations, nc_type(NC_INT), 2, [sample, x], &v) == NC_NOERR)
    }
    #expect {
      try DatasetReader(url: diagnostic2D)
    } throws: { error in
      "\(error)".contains("diagnostic variable '\(DiagnosticVariables.iterations)' must be one-dimensional")
    }
  }

  @Test("classic-format (CDF-5) copies read like the netCDF-4 original; a header declaring 4 TB is refused")
  func classicHeaders() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let original = try editedFile(in: dir) { _ in }
    let cdf5 = dir.appendingPathComponent("copy-cdf5.nc")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/nccopy")
    p.arguments = ["-k", "cdf5", original.path, cdf5.path]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    try NetCDFClassicHeader.check(path: cdf5.path)
    let a = try DatasetReader(url: original)
    let b = try DatasetReader(url: cdf5)
    #expect(b.variables == a.variables && b.axes == a.axes && b.sampleCount == 2)
    #expect(try b.read("coefficient", samples: 0..<2) == (try a.read("coefficient", samples: 0..<2)))
    #expect(try b.diagnostics(samples: 0..<2) == (try a.diagnostics(samples: 0..<2)))
    // Every truncation of the CDF-5 header is refused by the check, never handed to netCDF-C.
    let bytes = try Data(contentsOf: cdf5)
    let truncated = dir.appendingPathComponent("truncated.nc")
    for cut in stride(from: 4, to: 200, by: 7) {
      try bytes.prefix(cut).write(to: truncated)
      #expect(throws: DatasetError.self) { try NetCDFClassicHeader.check(path: truncated.path) }
    }
    // Found by fuzz-netcdf: a header declaring 10^12 records (samples) in a file of a few KB made a
    // pass over the samples (statistics) run for days; refused at open.
    var manySamples = bytes
    let records = UInt64(1_000_000_000_000)
    for i in 0..<8 { manySamples[4 + i] = UInt8(truncatingIfNeeded: records >> (8 * UInt64(7 - i))) }
    let manyURL = dir.appendingPathComponent("many-samples.nc")
    try manySamples.write(to: manyURL)
    #expect {
      try DatasetReader(url: manyURL)
    } throws: { error in
      "\(error)".contains("declares 1000000000000 samples")
    }
    // Found by fuzz-netcdf: a CDF-5 dimension longer than 2^63 reads as a negative Int, which trapped
    // in an array allocation.
    let negative = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/fuzz-cdf5-negative-dimension.nc")
    #expect {
      try DatasetReader(url: negative)
    } throws: { error in
      "\(error)".contains("the file is damaged")
    }
    // Found by fuzz-netcdf: a global attribute declaring 2^42 values made netCDF-C ask malloc for 4 TB.
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/fuzz-cdf5-attribute-4tb.nc")
    #expect {
      try DatasetReader(url: fixture)
    } throws: { error in
      "\(error)".contains("classic netCDF header is damaged") && "\(error)".contains("more than the")
    }
  }

  @Test("bad schemas and bad samples are rejected before touching the disk")
  func validation() throws {
    var s = sampleSchema()
    s.variables.removeLast()
    #expect(throws: DatasetError.self) { try s.validate() }
    var t = sampleSchema()
    t.variables[0].axes = ["y", "q"]
    #expect(throws: DatasetError.self) { try t.validate() }
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("v.nc")
    let w = try DatasetWriter.create(at: url, schema: sampleSchema())
    let diag = SampleDiagnostics(seed: 0, iterations: 0, relativeResidual: 0, solveSeconds: 0)
    #expect(throws: DatasetError.self) { try w.append(["coefficient": .zeros([4, 5])], diagnostics: diag) }
    #expect(throws: DatasetError.self) {
      try w.append(["coefficient": .zeros([5, 4]), "solution": .zeros([4, 5])], diagnostics: diag)
    }
    // Existing file is not clobbered by default.
    #expect(throws: DatasetError.self) { try DatasetWriter.create(at: url, schema: sampleSchema()) }
    try w.close()
  }
}

@Suite("Interoperability")
struct InteropTests {
  @Test("ncdump reads the file without complaint and shows the CF schema")
  func ncdump() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("interop.nc")
    let w = try DatasetWriter.create(at: url, schema: sampleSchema())
    for s in 0..<2 {
      try w.append(
        [
          "coefficient": NDArray(shape: [4, 5], repeating: Float(s)), "solution": NDArray(shape: [4, 5], repeating: 1),
        ],
        diagnostics: SampleDiagnostics(seed: UInt64(s), iterations: 3, relativeResidual: 1e-11, solveSeconds: 0.1))
    }
    try w.close()
    if let keep = ProcessInfo.processInfo.environment["PDEKIT_KEEP_TEST_FILES"] {
      try? FileManager.default.copyItem(at: url, to: URL(fileURLWithPath: keep).appendingPathComponent("interop.nc"))
    }
    // netcdf-bin is one of the packages README.md installs; the test needs its ncdump.
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
    #expect(p.terminationStatus == 0)
    #expect(errText.isEmpty, "ncdump wrote to stderr: \(errText)")
    for needle in [
      "sample = UNLIMITED ; // (2 currently)", "float coefficient(sample, y, x) ;",
      "coefficient:pdekit_role = \"input\" ;",
      "solution:_ChunkSizes = 1, 4, 5 ;", "solution:_DeflateLevel = 1 ;", ":Conventions = \"CF-1.10\" ;",
      "double x(x) ;", "x:units = \"1\" ;", "uint64 sample_seed(sample) ;", ":_Format = \"netCDF-4\" ;",
    ] {
      #expect(text.contains(needle), "ncdump -h output lacks \(needle)")
    }
  }
}
