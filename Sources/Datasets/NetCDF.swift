// Checked, serialized access to the netCDF-C library (Unidata, netCDF-4 on HDF5).
// netCDF-C and HDF5 are not thread-safe in Debian's builds: every call goes through
// `NetCDF.call`, which holds one process-wide lock, and every status code becomes a
// `DatasetError.netcdf` carrying `nc_strerror`'s text and what PDEKit was doing.
import CNetCDF
import Foundation
import Numerics

/// Errors from reading or writing PDEKit datasets. Messages name the file, variable or attribute.
public enum DatasetError: Error, CustomStringConvertible, LocalizedError, Equatable {
  /// A netCDF library call failed: status code, `nc_strerror` text, and the operation.
  case netcdf(status: Int32, message: String, context: String)
  /// The file lacks a variable the schema requires.
  case missingVariable(file: String, name: String)
  /// A variable or the file (variable nil) lacks a required attribute.
  case missingAttribute(file: String, variable: String?, attribute: String)
  /// No variable in the file has `pdekit_role` = the given role.
  case missingRole(file: String, role: String)
  /// Anything else that does not match the schema.
  case schema(file: String, message: String)
  /// Arguments that do not fit the file (wrong shape, sample range out of bounds, ...).
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .netcdf(let status, let message, let context): return "netCDF error \(status) while \(context): \(message)"
    case .missingVariable(let file, let name): return "\(file): required variable '\(name)' is missing"
    case .missingAttribute(let file, let variable, let attribute):
      if let v = variable { return "\(file): variable '\(v)' has no '\(attribute)' attribute" }
      return "\(file): global attribute '\(attribute)' is missing"
    case .missingRole(let file, let role):
      return
        "\(file): no variable has pdekit_role = \"\(role)\"; a PDEKit dataset needs at least one input and one target variable"
    case .schema(let file, let message): return "\(file): \(message)"
    case .invalidArgument(let s): return s
    }
  }
  public var errorDescription: String? { description }
}

/// Low-level helpers around the netCDF C API.
public enum NetCDF {
  static let lock = SerialLock()

  /// Runs `body` (which makes netCDF calls) holding the process-wide netCDF lock.
  public static func serialized<R>(_ body: () throws -> R) rethrows -> R {
    try lock.run {
      silenceHDF5OnThisThread()
      return try body()
    }
  }

  /// Opens `path` (`nc_open` with `mode`, NC_NOWRITE or NC_WRITE) and returns its netCDF id,
  /// waiting out a lock that is only in passing.
  ///
  /// HDF5 locks a file (flock) while it is open, and the lock belongs to the open file description.
  /// A child process being spawned (Foundation's `Process`, posix_spawn) holds copies of all of this
  /// process's descriptors until it execs, so a file this process closed a moment ago can still be
  /// locked then, and nc_open fails with an HDF error and errno EWOULDBLOCK. That case is retried
  /// for up to about 2 s, releasing the netCDF lock in between; a file another process keeps open
  /// for writing still fails after that, with that reason.
  public static func open(_ path: String, mode: Int32, context: @autoclosure () -> String) throws -> Int32 {
    var ncid: Int32 = 0
    for attempt in 0..<100 {
      let (status, cause) = serialized { () -> (Int32, Int32) in
        errno = 0
        let s = nc_open(path, mode, &ncid)
        return (s, errno)
      }
      if status == NC_NOERR { return ncid }
      guard status == NC_EHDFERR, cause == EWOULDBLOCK || cause == EAGAIN else {
        try check(status, context())
        return ncid
      }
      if attempt == 99 {
        throw DatasetError.netcdf(
          status: status, message: String(cString: nc_strerror(status)),
          context: context()
            + ": another process holds HDF5's lock on the file (it is open for writing elsewhere). Wait for it; "
            + "on a file system without working locks (some NFS mounts) set HDF5_USE_FILE_LOCKING=FALSE")
      }
      usleep(20_000)
    }
    return ncid
  }

  /// Turns off HDF5's automatic error-stack printing for the calling thread (once per thread).
  static func silenceHDF5OnThisThread() {
    let key = "pdekit.hdf5.silenced"
    let dict = Thread.current.threadDictionary
    if dict[key] == nil {
      _ = H5Eset_auto2(0, nil, nil)  // 0 = H5E_DEFAULT
      dict[key] = true
    }
  }

  /// Throws `DatasetError.netcdf` if `status` is not NC_NOERR.
  @inline(__always)
  static func check(_ status: Int32, _ context: @autoclosure () -> String) throws {
    if status != NC_NOERR { throw error(status, context()) }
  }

  /// The error for a failed netCDF (or, with NC_EHDFERR, HDF5) call. netCDF reports a failed write
  /// as a generic HDF or I/O error; the system error (errno, read here) says why.
  static func error(_ status: Int32, _ context: String) -> DatasetError {
    let cause = errno
    var message = String(cString: nc_strerror(status))
    if status == NC_EHDFERR || status == NC_EIO, [ENOSPC, EFBIG, EDQUOT].contains(cause) {
      message +=
        " (\(String(cString: strerror(cause))): the disk is full or a file-size limit was reached; free space "
        + "and run again)"
    }
    return DatasetError.netcdf(status: status, message: message, context: context)
  }

  /// Decodes a NUL-terminated name buffer filled by a netCDF call.
  static func string(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The netCDF-C library version string.
  public static var libraryVersion: String { serialized { String(cString: nc_inq_libvers()) } }

  static func putText(_ ncid: Int32, _ varid: Int32, _ name: String, _ value: String, _ ctx: String) throws {
    let bytes = Array(value.utf8)
    try check(
      nc_put_att_text(ncid, varid, name, bytes.count, bytes.map { CChar(bitPattern: $0) }),
      "writing attribute '\(name)' of \(ctx)")
  }

  static func putDouble(_ ncid: Int32, _ varid: Int32, _ name: String, _ value: Double, _ ctx: String) throws {
    var v = value
    try check(nc_put_att_double(ncid, varid, name, nc_type(NC_DOUBLE), 1, &v), "writing attribute '\(name)' of \(ctx)")
  }

  /// Reads a text attribute, or nil if it does not exist.
  static func getText(_ ncid: Int32, _ varid: Int32, _ name: String) throws -> String? {
    var type: nc_type = 0
    var len = 0
    let st = nc_inq_att(ncid, varid, name, &type, &len)
    if st == NC_ENOTATT { return nil }
    try check(st, "reading attribute '\(name)'")
    if type == nc_type(NC_CHAR) {
      var buf = [CChar](repeating: 0, count: len + 1)
      try check(nc_get_att_text(ncid, varid, name, &buf), "reading attribute '\(name)'")
      return String(decoding: buf.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    if type == nc_type(NC_DOUBLE) || type == nc_type(NC_FLOAT) {
      var vals = [Double](repeating: 0, count: len)
      try check(nc_get_att_double(ncid, varid, name, &vals), "reading attribute '\(name)'")
      return vals.map { String($0) }.joined(separator: " ")
    }
    return nil
  }

  /// Names of all attributes of `varid` (NC_GLOBAL for the file).
  static func attributeNames(_ ncid: Int32, _ varid: Int32) throws -> [String] {
    var natts: Int32 = 0
    if varid == NC_GLOBAL {
      try check(nc_inq_natts(ncid, &natts), "counting global attributes")
    } else {
      try check(nc_inq_varnatts(ncid, varid, &natts), "counting attributes")
    }
    var names: [String] = []
    for i in 0..<natts {
      var buf = [CChar](repeating: 0, count: Int(NC_MAX_NAME) + 1)
      try check(nc_inq_attname(ncid, varid, i, &buf), "reading attribute name")
      names.append(NetCDF.string(buf))
    }
    return names
  }
}
