import CNetCDF
import Foundation
import Numerics

/// A data variable as found in a dataset file.
public struct DatasetVariableInfo: Sendable, Equatable {
  /// Variable name.
  public var name: String
  /// `pdekit_role`.
  public var role: VariableRole
  /// Dimension names after `sample`.
  public var axes: [String]
  /// Extents of those dimensions.
  public var sampleShape: [Int]
  /// CF `long_name`.
  public var longName: String
  /// CF `units`, if present.
  public var units: String?
}

/// Opens a PDEKit NetCDF dataset, checks its schema, and reads variables by role and sample range.
///
/// ```
/// let r = try DatasetReader(url: url)
/// let x = try r.read(r.variables(role: .input)[0].name, samples: 0..<8)   // [8, ny, nx] float32
/// ```
///
/// The constructor checks the schema and throws a `DatasetError` naming the missing variable,
/// attribute or role. Reads are serialized process-wide (netCDF is not thread-safe).
///
/// Files may come from strangers: the reader checks that every variable it reads has the shape it
/// expects (diagnostics and coordinates one-dimensional over their own dimension) and refuses a
/// read whose declared size exceeds `maximumReadBytes` before allocating anything, so a header
/// claiming a dimension of 10¹² is an error, not an out-of-memory crash.
public final class DatasetReader {
  /// Path of the file.
  public let path: String
  let ncid: Int32
  var open = true
  /// Samples in the file.
  public let sampleCount: Int
  /// Data variables (those with a `pdekit_role`), in file order.
  public let variables: [DatasetVariableInfo]
  /// Grid/time axes with their coordinates.
  public let axes: [DatasetAxis]
  /// The largest allocation one read may make, in bytes (see ``defaultMaximumReadBytes``).
  public let maximumReadBytes: Int

  /// Half the physical memory: the default bound on one read.
  public static var defaultMaximumReadBytes: Int { Int(ProcessInfo.processInfo.physicalMemory / 2) }
  /// Global attributes as text (numeric attributes are rendered as decimal text).
  public let attributes: [String: String]
  /// `long_name` of each per-sample diagnostic variable (keys from `DiagnosticVariables.names`),
  /// e.g. "linear solver iterations", or the time stepper's step count for a time-dependent recipe.
  public let diagnosticDescriptions: [String: String]

  /// Opens and validates `url`.
  ///
  /// - Parameters:
  ///   - url: the NetCDF file.
  ///   - maximumReadBytes: reads (and coordinate axes) larger than this are refused with an error
  ///     naming the size; raise it for a genuine file with very large samples.
  public init(url: URL, maximumReadBytes: Int = DatasetReader.defaultMaximumReadBytes) throws {
    let limit = max(1, maximumReadBytes)
    self.maximumReadBytes = limit
    let path = url.path
    guard FileManager.default.fileExists(atPath: path) else {
      throw DatasetError.invalidArgument("\(path): no such file")
    }
    self.path = path
    // netCDF-C allocates from a classic header's counts before checking them against the file.
    try NetCDFClassicHeader.check(path: path)
    let ncid = try NetCDF.open(path, mode: NC_NOWRITE, context: "opening \(path)")
    self.ncid = ncid
    do {
      (sampleCount, variables, axes, attributes, diagnosticDescriptions) = try NetCDF.serialized {
        try Self.inspect(ncid, path, maximumReadBytes: limit)
      }
    } catch {
      NetCDF.serialized { _ = nc_close(ncid) }
      open = false
      throw error
    }
  }

  deinit { if open { NetCDF.serialized { _ = nc_close(ncid) } } }

  /// Closes the file.
  public func close() throws {
    guard open else { return }
    open = false
    try NetCDF.serialized { try NetCDF.check(nc_close(ncid), "closing \(path)") }
  }

  /// The byte size of `count` elements of `elementBytes` each with shape `shape`, or nil on overflow
  /// or a negative extent.
  static func byteSize(_ shape: [Int], count: Int = 1, elementBytes: Int) -> Int? {
    var total = elementBytes
    for n in shape + [count] {
      // A dimension length above 2⁶³ (possible in a CDF-5 header) reads as a negative Int.
      guard n >= 0 else { return nil }
      let (p, overflow) = total.multipliedReportingOverflow(by: n)
      if overflow { return nil }
      total = p
    }
    return total
  }

  /// Throws unless variable `varid` is one-dimensional over dimension `dim`.
  static func requireOneDimensional(
    _ ncid: Int32, _ varid: Int32, over dim: Int32, _ what: String, _ path: String
  ) throws {
    var ndims: Int32 = 0
    try NetCDF.check(nc_inq_varndims(ncid, varid, &ndims), "reading \(what) of \(path)")
    var dims = [Int32](repeating: -1, count: max(1, Int(ndims)))
    try NetCDF.check(nc_inq_vardimid(ncid, varid, &dims), "reading \(what) of \(path)")
    guard ndims == 1, dims[0] == dim else {
      throw DatasetError.schema(
        file: path, message: "\(what) must be one-dimensional over its own dimension; it has \(ndims) dimensions")
    }
  }

  private static func inspect(_ ncid: Int32, _ path: String, maximumReadBytes: Int) throws -> (
    Int, [DatasetVariableInfo], [DatasetAxis], [String: String], [String: String]
  ) {
    var attrs: [String: String] = [:]
    for name in try NetCDF.attributeNames(ncid, NC_GLOBAL) {
      if let v = try NetCDF.getText(ncid, NC_GLOBAL, name) { attrs[name] = v }
    }
    for required in ["Conventions", "pde", "pdekit_config"] where attrs[required] == nil {
      throw DatasetError.missingAttribute(file: path, variable: nil, attribute: required)
    }
    var sampleDim: Int32 = 0
    let st = nc_inq_dimid(ncid, "sample", &sampleDim)
    if st == NC_EBADDIM { throw DatasetError.schema(file: path, message: "there is no 'sample' dimension") }
    try NetCDF.check(st, "reading dimension 'sample' of \(path)")
    var nSamples = 0
    try NetCDF.check(nc_inq_dimlen(ncid, sampleDim, &nSamples), "reading dimension 'sample' of \(path)")
    // Every sample stores at least its seed and solver diagnostics (28 bytes before compression), so
    // a file cannot hold more samples than bytes: a larger count is a damaged or hostile header,
    // which would otherwise make a pass over the samples run for days.
    let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? Int.max
    guard nSamples >= 0, nSamples <= fileBytes else {
      throw DatasetError.schema(
        file: path,
        message: "the header declares \(nSamples) samples but the file has only \(fileBytes) bytes; it is damaged")
    }

    var nvars: Int32 = 0
    try NetCDF.check(nc_inq_nvars(ncid, &nvars), "counting variables of \(path)")
    var infos: [DatasetVariableInfo] = []
    var axisNames: [String] = []
    for varid in 0..<nvars {
      var nameBuf = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
      var ndims: Int32 = 0
      try NetCDF.check(nc_inq_varname(ncid, varid, &nameBuf), "reading variable names of \(path)")
      let name = NetCDF.string(nameBuf)
      try NetCDF.check(nc_inq_varndims(ncid, varid, &ndims), "reading '\(name)' of \(path)")
      var dimids = [Int32](repeating: 0, count: Int(ndims))
      try NetCDF.check(nc_inq_vardimid(ncid, varid, &dimids), "reading '\(name)' of \(path)")
      guard let roleText = try NetCDF.getText(ncid, varid, "pdekit_role") else { continue }
      guard let role = VariableRole(rawValue: roleText) else {
        throw DatasetError.schema(
          file: path,
          message:
            "variable '\(name)' has pdekit_role = \"\(roleText)\"; expected \"input\", \"target\" or \"prediction\"")
      }
      guard let first = dimids.first, first == sampleDim else {
        throw DatasetError.schema(file: path, message: "variable '\(name)' must have 'sample' as its first dimension")
      }
      var dimNames: [String] = []
      var extents: [Int] = []
      for d in dimids.dropFirst() {
        var buf = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
        var len = 0
        try NetCDF.check(nc_inq_dim(ncid, d, &buf, &len), "reading dimensions of '\(name)' in \(path)")
        dimNames.append(NetCDF.string(buf))
        extents.append(len)
      }
      guard let longName = try NetCDF.getText(ncid, varid, "long_name") else {
        throw DatasetError.missingAttribute(file: path, variable: name, attribute: "long_name")
      }
      let units = try NetCDF.getText(ncid, varid, "units")
      guard let sampleBytes = byteSize(extents, elementBytes: 4), sampleBytes <= maximumReadBytes else {
        throw DatasetError.schema(
          file: path,
          message:
            "variable '\(name)' declares samples of shape \(extents), larger than the read limit of "
            + "\(maximumReadBytes) bytes; the file is damaged, or open it with a larger maximumReadBytes")
      }
      infos.append(
        DatasetVariableInfo(
          name: name, role: role, axes: dimNames, sampleShape: extents, longName: longName, units: units))
      for a in dimNames where !axisNames.contains(a) { axisNames.append(a) }
    }
    if !infos.contains(where: { $0.role == .input }) { throw DatasetError.missingRole(file: path, role: "input") }
    if !infos.contains(where: { $0.role == .target || $0.role == .prediction }) {
      throw DatasetError.missingRole(file: path, role: "target")
    }
    var diagnosticDescriptions: [String: String] = [:]
    for name in DiagnosticVariables.names.sorted() {
      var id: Int32 = 0
      if nc_inq_varid(ncid, name, &id) != NC_NOERR { throw DatasetError.missingVariable(file: path, name: name) }
      try requireOneDimensional(ncid, id, over: sampleDim, "diagnostic variable '\(name)'", path)
      diagnosticDescriptions[name] = try NetCDF.getText(ncid, id, "long_name") ?? name
    }
    var axes: [DatasetAxis] = []
    for a in axisNames {
      var id: Int32 = 0
      guard nc_inq_varid(ncid, a, &id) == NC_NOERR else {
        throw DatasetError.missingVariable(file: path, name: a)
      }
      var dim: Int32 = 0
      var len = 0
      try NetCDF.check(nc_inq_dimid(ncid, a, &dim), "reading axis '\(a)' of \(path)")
      try NetCDF.check(nc_inq_dimlen(ncid, dim, &len), "reading axis '\(a)' of \(path)")
      try requireOneDimensional(ncid, id, over: dim, "coordinate variable '\(a)'", path)
      guard let bytes = byteSize([len], elementBytes: 8), bytes <= maximumReadBytes else {
        throw DatasetError.schema(
          file: path, message: "axis '\(a)' declares \(len) points, larger than the read limit; the file is damaged")
      }
      var values = [Double](repeating: 0, count: len)
      try NetCDF.check(nc_get_var_double(ncid, id, &values), "reading coordinate '\(a)' of \(path)")
      guard let units = try NetCDF.getText(ncid, id, "units") else {
        throw DatasetError.missingAttribute(file: path, variable: a, attribute: "units")
      }
      let long = try NetCDF.getText(ncid, id, "long_name") ?? a
      axes.append(DatasetAxis(name: a, values: values, units: units, longName: long))
    }
    return (nSamples, infos, axes, attrs, diagnosticDescriptions)
  }

  /// Data variables with the given role.
  public func variables(role: VariableRole) -> [DatasetVariableInfo] { variables.filter { $0.role == role } }

  /// The variable named `name`, or a `missingVariable` error.
  public func variable(named name: String) throws -> DatasetVariableInfo {
    guard let v = variables.first(where: { $0.name == name }) else {
      throw DatasetError.missingVariable(file: path, name: name)
    }
    return v
  }

  /// The generation config (global `pdekit_config`, JSON text).
  public var config: String { attributes["pdekit_config"] ?? "" }

  private func checkRange(_ samples: Range<Int>) throws {
    guard samples.lowerBound >= 0, samples.upperBound <= sampleCount else {
      throw DatasetError.invalidArgument("\(path): samples \(samples) out of range 0..<\(sampleCount)")
    }
  }

  /// Reads samples `samples` of variable `name` as float32, shape [samples.count] + per-sample shape.
  public func read(_ name: String, samples: Range<Int>) throws -> NDArray<Float> {
    let info = try variable(named: name)
    try checkRange(samples)
    guard open else { throw DatasetError.invalidArgument("\(path): the reader is closed") }
    guard let bytes = Self.byteSize(info.sampleShape, count: samples.count, elementBytes: 4),
      bytes <= maximumReadBytes
    else {
      throw DatasetError.invalidArgument(
        "\(path): reading \(samples.count) samples of '\(name)' needs more than the read limit of "
          + "\(maximumReadBytes) bytes; read fewer samples at a time")
    }
    var out = NDArray<Float>(shape: [samples.count] + info.sampleShape, repeating: 0)
    if samples.isEmpty { return out }
    try NetCDF.serialized {
      var id: Int32 = 0
      try NetCDF.check(nc_inq_varid(ncid, name, &id), "reading '\(name)' of \(path)")
      let start = [samples.lowerBound] + [Int](repeating: 0, count: info.sampleShape.count)
      let count = [samples.count] + info.sampleShape
      try out.withUnsafeMutableBufferPointer { p in
        try NetCDF.check(
          nc_get_vara_float(ncid, id, start, count, p.baseAddress), "reading samples \(samples) of '\(name)' in \(path)"
        )
      }
    }
    return out
  }

  /// Reads the per-sample diagnostics of `samples`.
  public func diagnostics(samples: Range<Int>) throws -> [SampleDiagnostics] {
    try checkRange(samples)
    if samples.isEmpty { return [] }
    return try NetCDF.serialized {
      func id(_ n: String) throws -> Int32 {
        var v: Int32 = 0
        try NetCDF.check(nc_inq_varid(ncid, n, &v), "reading '\(n)' of \(path)")
        return v
      }
      var start = samples.lowerBound
      var count = samples.count
      var seeds = [UInt64](repeating: 0, count: count)
      var its = [Int32](repeating: 0, count: count)
      var res = [Double](repeating: 0, count: count)
      var secs = [Double](repeating: 0, count: count)
      try NetCDF.check(
        nc_get_vara_ulonglong(ncid, try id(DiagnosticVariables.seed), &start, &count, &seeds),
        "reading seeds of \(path)")
      try NetCDF.check(
        nc_get_vara_int(ncid, try id(DiagnosticVariables.iterations), &start, &count, &its),
        "reading iterations of \(path)")
      try NetCDF.check(
        nc_get_vara_double(ncid, try id(DiagnosticVariables.residual), &start, &count, &res),
        "reading residuals of \(path)")
      try NetCDF.check(
        nc_get_vara_double(ncid, try id(DiagnosticVariables.seconds), &start, &count, &secs),
        "reading solve times of \(path)")
      var warm: [Int8]?
      var warmID: Int32 = 0
      if nc_inq_varid(ncid, DiagnosticVariables.warmStart, &warmID) == NC_NOERR {
        var flags = [Int8](repeating: 0, count: count)
        try NetCDF.check(nc_get_vara_schar(ncid, warmID, &start, &count, &flags), "reading warm-start flags of \(path)")
        warm = flags
      }
      var rounds: [Int32]?
      var roundID: Int32 = 0
      if nc_inq_varid(ncid, DiagnosticVariables.warmStartRound, &roundID) == NC_NOERR {
        var values = [Int32](repeating: 0, count: count)
        try NetCDF.check(
          nc_get_vara_int(ncid, roundID, &start, &count, &values), "reading warm-start rounds of \(path)")
        rounds = values
      }
      return (0..<count).map { i in
        SampleDiagnostics(
          seed: seeds[i], iterations: its[i], relativeResidual: res[i], solveSeconds: secs[i],
          warmStarted: warm.map { $0[i] != 0 }, warmStartRound: rounds.map { $0[i] })
      }
    }
  }

  /// Streams a variable in blocks of `batch` samples and returns its min, max and mean
  /// (fill values and NaNs ignored), without loading the whole variable.
  public func statistics(_ name: String, batch: Int = 64) throws -> (min: Float, max: Float, mean: Double, count: Int) {
    var lo = Float.infinity
    var hi = -Float.infinity
    var sum = 0.0
    var n = 0
    var s = 0
    while s < sampleCount {
      let block = try read(name, samples: s..<min(sampleCount, s + max(1, batch)))
      block.withUnsafeBufferPointer { p in
        for v in p where v.isFinite && abs(v) < 9.9e36 {
          lo = min(lo, v)
          hi = max(hi, v)
          sum += Double(v)
          n += 1
        }
      }
      s += max(1, batch)
    }
    return (lo, hi, n > 0 ? sum / Double(n) : .nan, n)
  }
}
