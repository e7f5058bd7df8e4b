import CNetCDF
import Foundation
import Numerics

/// Creates and appends to a PDEKit NetCDF-4 dataset (schema of DESIGN.md).
///
/// ```
/// let w = try DatasetWriter.create(at: url, schema: schema)
/// try w.append(["coefficient": a, "solution": u], diagnostics: d)   // float32 fields, per-sample shape
/// try w.close()
/// ```
///
/// Data variables are float32, shaped (sample, axes...), chunked one sample per chunk and
/// deflated (level 1 by default). Every netCDF call is serialized process-wide. The writer is
/// used from one thread at a time.
public final class DatasetWriter {
  /// Path of the file being written.
  public let path: String
  var ncid: Int32
  var open = true
  let dataVarIDs: [String: Int32]
  let sampleShapes: [String: [Int]]
  let diagIDs: [String: Int32]
  /// Samples currently in the file (the length of the unlimited `sample` dimension).
  public private(set) var sampleCount: Int

  private init(
    path: String, ncid: Int32, dataVarIDs: [String: Int32], sampleShapes: [String: [Int]], diagIDs: [String: Int32],
    sampleCount: Int
  ) {
    self.path = path
    self.ncid = ncid
    self.dataVarIDs = dataVarIDs
    self.sampleShapes = sampleShapes
    self.diagIDs = diagIDs
    self.sampleCount = sampleCount
  }

  deinit { if open { NetCDF.serialized { _ = nc_close(ncid) } } }

  /// Creates a new file at `url` with the given schema; fails if it exists unless `overwrite`.
  /// `history` is the first line of the CF `history` attribute (e.g. the command line).
  public static func create(
    at url: URL, schema: DatasetSchema, overwrite: Bool = false, history: String? = nil
  ) throws -> DatasetWriter {
    try schema.validate()
    let path = url.path
    let ctx = "creating \(path)"
    return try NetCDF.serialized {
      var ncid: Int32 = 0
      let mode = NC_NETCDF4 | (overwrite ? NC_CLOBBER : NC_NOCLOBBER)
      try NetCDF.check(nc_create(path, mode, &ncid), ctx)
      do {
        // Dimensions and coordinate variables.
        var sampleDim: Int32 = 0
        try NetCDF.check(nc_def_dim(ncid, "sample", Int(NC_UNLIMITED), &sampleDim), "\(ctx): dimension 'sample'")
        var dimIDs: [String: Int32] = [:]
        for axis in schema.axes {
          var d: Int32 = 0
          try NetCDF.check(nc_def_dim(ncid, axis.name, axis.values.count, &d), "\(ctx): dimension '\(axis.name)'")
          dimIDs[axis.name] = d
          var v: Int32 = 0
          try NetCDF.check(
            nc_def_var(ncid, axis.name, nc_type(NC_DOUBLE), 1, &d, &v), "\(ctx): coordinate '\(axis.name)'")
          try NetCDF.putText(ncid, v, "units", axis.units, axis.name)
          try NetCDF.putText(ncid, v, "long_name", axis.longName, axis.name)
          let cfAxis = ["x": "X", "y": "Y", "z": "Z", "time": "T"][axis.name]
          if let a = cfAxis { try NetCDF.putText(ncid, v, "axis", a, axis.name) }
        }
        // Data variables.
        var dataIDs: [String: Int32] = [:]
        var shapes: [String: [Int]] = [:]
        for variable in schema.variables {
          let shape = try schema.sampleShape(of: variable)
          var dims = [sampleDim] + variable.axes.map { dimIDs[$0]! }
          var v: Int32 = 0
          try NetCDF.check(
            nc_def_var(ncid, variable.name, nc_type(NC_FLOAT), Int32(dims.count), &dims, &v),
            "\(ctx): variable '\(variable.name)'")
          var chunks = [1] + shape
          try NetCDF.check(nc_def_var_chunking(ncid, v, NC_CHUNKED, &chunks), "\(ctx): chunking '\(variable.name)'")
          if schema.deflateLevel > 0 {
            try NetCDF.check(
              nc_def_var_deflate(ncid, v, 1, 1, Int32(schema.deflateLevel)), "\(ctx): deflate '\(variable.name)'")
          }
          try NetCDF.putText(ncid, v, "long_name", variable.longName, variable.name)
          if let u = variable.units { try NetCDF.putText(ncid, v, "units", u, variable.name) }
          try NetCDF.putText(ncid, v, "pdekit_role", variable.role.rawValue, variable.name)
          dataIDs[variable.name] = v
          shapes[variable.name] = shape
        }
        // Per-sample diagnostics.
        var diag: [String: Int32] = [:]
        let diagSpecs: [(String, Int32, String, String)] = [
          (DiagnosticVariables.seed, NC_UINT64, "random seed (stream) of the sample's inputs", "1"),
          (DiagnosticVariables.iterations, NC_INT, "linear solver iterations", "1"),
          (DiagnosticVariables.residual, NC_DOUBLE, "final relative residual ||b - A x|| / ||b||", "1"),
          (DiagnosticVariables.seconds, NC_DOUBLE, "wall-clock time of the solve", "s"),
        ]
        for (name, type, long, units) in diagSpecs {
          var v: Int32 = 0
          var d = sampleDim
          try NetCDF.check(nc_def_var(ncid, name, nc_type(type), 1, &d, &v), "\(ctx): variable '\(name)'")
          try NetCDF.putText(ncid, v, "long_name", schema.diagnosticDescriptions[name] ?? long, name)
          try NetCDF.putText(ncid, v, "units", units, name)
          diag[name] = v
        }
        if schema.recordsWarmStart {
          let name = DiagnosticVariables.warmStart
          var v: Int32 = 0
          var d = sampleDim
          try NetCDF.check(nc_def_var(ncid, name, nc_type(NC_BYTE), 1, &d, &v), "\(ctx): variable '\(name)'")
          try NetCDF.putText(
            ncid, v, "long_name",
            "whether the solve started from a surrogate's prediction of the solution (1) or cold (0)", name)
          var flags: [Int8] = [0, 1]
          try NetCDF.check(
            nc_put_att_schar(ncid, v, "flag_values", nc_type(NC_BYTE), 2, &flags), "\(ctx): flag_values of '\(name)'")
          try NetCDF.putText(ncid, v, "flag_meanings", "cold_start warm_start", name)
          diag[name] = v
          let round = DiagnosticVariables.warmStartRound
          var r: Int32 = 0
          try NetCDF.check(nc_def_var(ncid, round, nc_type(NC_INT), 1, &d, &r), "\(ctx): variable '\(round)'")
          try NetCDF.putText(
            ncid, r, "long_name",
            "retraining round of the surrogate whose prediction started the solve (0: trained on the bootstrap samples or loaded from a checkpoint; r: after the r-th retraining; -1: cold start)",
            round)
          var lowest: Int32 = -1
          try NetCDF.check(
            nc_put_att_int(ncid, r, "valid_min", nc_type(NC_INT), 1, &lowest), "\(ctx): valid_min of '\(round)'")
          diag[round] = r
        }
        // Global attributes.
        let g = NC_GLOBAL
        let stamp = ISO8601DateFormatter().string(from: Date())
        let attrs: [(String, String)] = [
          ("Conventions", "CF-1.10"), ("title", schema.title), ("pde", schema.pde), ("equation", schema.equation),
          ("boundary_conditions", schema.boundaryConditions), ("discretization", schema.discretization),
          ("solver", schema.solver), ("generator", PDEKitVersion.generator),
          ("history", "\(stamp) \(history ?? "created by \(PDEKitVersion.generator)")"),
          ("pdekit_config", schema.configJSON),
        ]
        for (k, v) in attrs { try NetCDF.putText(ncid, g, k, v, "the file") }
        for (k, v) in schema.extraAttributes.sorted(by: { $0.key < $1.key }) where !attrs.contains(where: { $0.0 == k })
        {
          try NetCDF.putText(ncid, g, k, v, "the file")
        }
        try NetCDF.putDouble(ncid, g, "rtol", schema.rtol, "the file")
        for (k, v) in schema.numericAttributes.sorted(by: { $0.key < $1.key }) {
          try NetCDF.putDouble(ncid, g, k, v, "the file")
        }
        try NetCDF.check(nc_enddef(ncid), "\(ctx): leaving define mode")
        for axis in schema.axes {
          var v: Int32 = 0
          try NetCDF.check(nc_inq_varid(ncid, axis.name, &v), "\(ctx): coordinate '\(axis.name)'")
          try NetCDF.check(nc_put_var_double(ncid, v, axis.values), "\(ctx): writing coordinate '\(axis.name)'")
        }
        return DatasetWriter(
          path: path, ncid: ncid, dataVarIDs: dataIDs, sampleShapes: shapes, diagIDs: diag, sampleCount: 0)
      } catch {
        _ = nc_close(ncid)
        throw error
      }
    }
  }

  /// Reopens an existing PDEKit dataset for appending (e.g. to resume an interrupted run).
  /// The file is validated with `DatasetReader`'s schema checks first.
  public static func open(appendingTo url: URL) throws -> DatasetWriter {
    let info = try DatasetReader(url: url)
    let n = info.sampleCount
    let vars = info.variables
    try info.close()
    let path = url.path
    let ncid = try NetCDF.open(path, mode: NC_WRITE, context: "opening \(path) for writing")
    return try NetCDF.serialized {
      var ids: [String: Int32] = [:]
      var shapes: [String: [Int]] = [:]
      var diag: [String: Int32] = [:]
      // A file that fails these checks is closed again, not leaked.
      do {
        for v in vars {
          var id: Int32 = 0
          try NetCDF.check(nc_inq_varid(ncid, v.name, &id), "opening \(path): variable '\(v.name)'")
          ids[v.name] = id
          shapes[v.name] = v.sampleShape
        }
        for name in DiagnosticVariables.names {
          var id: Int32 = 0
          try NetCDF.check(nc_inq_varid(ncid, name, &id), "opening \(path): variable '\(name)'")
          diag[name] = id
        }
        for name in DiagnosticVariables.optionalNames {
          var id: Int32 = 0
          if nc_inq_varid(ncid, name, &id) == NC_NOERR { diag[name] = id }
        }
      } catch {
        _ = nc_close(ncid)
        throw error
      }
      return DatasetWriter(path: path, ncid: ncid, dataVarIDs: ids, sampleShapes: shapes, diagIDs: diag, sampleCount: n)
    }
  }

  /// Appends one sample (every data variable, float32, per-sample shape) and its diagnostics.
  /// Returns the sample's index.
  @discardableResult
  public func append(_ fields: [String: NDArray<Float>], diagnostics: SampleDiagnostics) throws -> Int {
    let index = sampleCount
    try write(sample: index, fields, diagnostics: diagnostics)
    return index
  }

  /// Writes sample `index` (≤ `sampleCount`; writing past the end extends the file, and a gap
  /// is filled with the netCDF fill value). Used by parallel generators that finish out of order.
  public func write(sample index: Int, _ fields: [String: NDArray<Float>], diagnostics: SampleDiagnostics) throws {
    guard open else { throw DatasetError.invalidArgument("\(path): the writer is closed") }
    guard index >= 0 else { throw DatasetError.invalidArgument("sample index \(index) is negative") }
    let missing = Set(dataVarIDs.keys).subtracting(fields.keys)
    let extra = Set(fields.keys).subtracting(dataVarIDs.keys)
    guard missing.isEmpty, extra.isEmpty else {
      throw DatasetError.invalidArgument(
        "\(path): sample \(index) must give exactly the variables \(dataVarIDs.keys.sorted()); missing \(missing.sorted()), unknown \(extra.sorted())"
      )
    }
    for (name, array) in fields where array.shape != sampleShapes[name]! {
      throw DatasetError.invalidArgument(
        "\(path): variable '\(name)' expects per-sample shape \(sampleShapes[name]!), got \(array.shape)")
    }
    try NetCDF.serialized {
      for (name, array) in fields.sorted(by: { $0.key < $1.key }) {
        let shape = sampleShapes[name]!
        let start = [index] + [Int](repeating: 0, count: shape.count)
        let count = [1] + shape
        try array.withUnsafeBufferPointer { p in
          try NetCDF.check(
            nc_put_vara_float(ncid, dataVarIDs[name]!, start, count, p.baseAddress),
            "writing sample \(index) of '\(name)' to \(path)")
        }
      }
      try writeDiagnosticsLocked(sample: index, diagnostics)
    }
    sampleCount = max(sampleCount, index + 1)
  }

  /// Writes only the diagnostics of sample `index` (the data of the sample are written some other
  /// way, as by ``DatasetConcatenation``).
  func writeDiagnostics(sample index: Int, _ diagnostics: SampleDiagnostics) throws {
    guard open else { throw DatasetError.invalidArgument("\(path): the writer is closed") }
    try NetCDF.serialized { try writeDiagnosticsLocked(sample: index, diagnostics) }
    sampleCount = max(sampleCount, index + 1)
  }

  /// The diagnostics writes; the caller holds the netCDF lock.
  private func writeDiagnosticsLocked(sample index: Int, _ diagnostics: SampleDiagnostics) throws {
    var seed = diagnostics.seed
    var its = diagnostics.iterations
    var res = diagnostics.relativeResidual
    var secs = diagnostics.solveSeconds
    var s = index
    var one = 1
    try NetCDF.check(
      nc_put_vara_ulonglong(ncid, diagIDs[DiagnosticVariables.seed]!, &s, &one, &seed),
      "writing seed of sample \(index)")
    try NetCDF.check(
      nc_put_vara_int(ncid, diagIDs[DiagnosticVariables.iterations]!, &s, &one, &its),
      "writing iterations of sample \(index)")
    try NetCDF.check(
      nc_put_vara_double(ncid, diagIDs[DiagnosticVariables.residual]!, &s, &one, &res),
      "writing residual of sample \(index)")
    try NetCDF.check(
      nc_put_vara_double(ncid, diagIDs[DiagnosticVariables.seconds]!, &s, &one, &secs),
      "writing solve time of sample \(index)")
    if let id = diagIDs[DiagnosticVariables.warmStart] {
      var flag: Int8 = diagnostics.warmStarted == true ? 1 : 0
      try NetCDF.check(nc_put_vara_schar(ncid, id, &s, &one, &flag), "writing warm-start flag of sample \(index)")
    }
    if let id = diagIDs[DiagnosticVariables.warmStartRound] {
      var round: Int32 = diagnostics.warmStartRound ?? -1
      try NetCDF.check(nc_put_vara_int(ncid, id, &s, &one, &round), "writing warm-start round of sample \(index)")
    }
  }

  /// Flushes buffered data to disk (nc_sync).
  public func sync() throws {
    guard open else { return }
    try NetCDF.serialized { try NetCDF.check(nc_sync(ncid), "syncing \(path)") }
  }

  /// Closes the file; further writes throw.
  public func close() throws {
    guard open else { return }
    open = false
    try NetCDF.serialized { try NetCDF.check(nc_close(ncid), "closing \(path)") }
  }
}
