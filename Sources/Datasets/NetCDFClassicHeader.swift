// A bounds check of the header of a classic-format netCDF file (CDF-1, CDF-2 or CDF-5) before
// netCDF-C reads it.
//
// Format: "NetCDF Classic and 64-bit Offset File Formats" and "CDF-5 File Format Specification"
// (Unidata, netCDF-C documentation, docs/file_format_specifications.md). A header is
//   magic numrecs dim_list gatt_list var_list
// where every list is a 4-byte tag and an element count, names are a count and bytes padded to 4,
// and attribute values are nelems × size(type) bytes padded to 4. Counts are 4 bytes in CDF-1/2 and
// 8 bytes in CDF-5; variable offsets are 4 bytes in CDF-1 and 8 bytes in CDF-2/5.
//
// netCDF-C allocates each list and attribute from the counts it reads before it checks them
// against the file (an attribute that declares 2⁴² values makes it ask malloc for 4 TB). This check
// walks the same structure and refuses a header whose counts or sizes run past the end of the
// file, so that a damaged or hostile file is an error and nothing is allocated from its counts.
// It does not check the data section (netCDF-C reads variables with bounds checks) nor HDF5-based
// netCDF-4 files (HDF5 does its own checks); it is not a validator of everything the spec says.
import Foundation

/// Checks the header of a classic-format netCDF file against the file's size.
public enum NetCDFClassicHeader {
  /// Throws ``DatasetError/schema(file:message:)`` if the file at `path` starts with a classic
  /// netCDF magic number (`CDF` 1, 2 or 5) and its header declares more than the file holds or is
  /// otherwise malformed. Files in other formats (netCDF-4/HDF5) pass unchecked.
  public static func check(path: String) throws {
    guard let handle = FileHandle(forReadingAtPath: path) else { return }
    defer { try? handle.close() }
    guard let magic = try handle.read(upToCount: 4), magic.count == 4, magic.starts(with: Array("CDF".utf8)),
      [1, 2, 5].contains(magic[3])
    else { return }
    let size = Int(try handle.seekToEnd())
    try handle.seek(toOffset: 0)
    // The header of a file PDEKit reads is small; read at most the first 64 MiB to check it.
    let bytes = try handle.read(upToCount: min(size, 64 << 20)) ?? Data()
    var parser = Parser(bytes: [UInt8](bytes), fileSize: size, version: magic[3], path: path)
    do {
      try parser.header()
    } catch is BeyondCheckedPrefix {
      // A header longer than the prefix read (huge attributes): netCDF-C checks the rest.
    }
  }

  /// The walk reached the end of the prefix that was read, before the end of the file.
  private struct BeyondCheckedPrefix: Error {}

  private struct Parser {
    let bytes: [UInt8]
    let fileSize: Int
    let version: UInt8
    let path: String
    var offset = 4

    init(bytes: [UInt8], fileSize: Int, version: UInt8, path: String) {
      self.bytes = bytes
      self.fileSize = fileSize
      self.version = version
      self.path = path
    }

    func fail(_ what: String) -> DatasetError {
      .schema(
        file: path,
        message:
          "the classic netCDF header is damaged: \(what) (at byte \(offset) of \(fileSize)); the file is truncated "
          + "or not a valid netCDF file")
    }

    /// Bytes of the file after the current offset.
    var remaining: Int { fileSize - offset }

    /// Bytes per value of each nc_type (1–6 classic, 7–11 CDF-5 only).
    static let typeSizes: [UInt64: UInt64] = [1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8]

    mutating func uint(_ width: Int) throws -> UInt64 {
      guard remaining >= width else { throw fail("it ends inside a \(width)-byte field") }
      guard offset + width <= bytes.count else { throw BeyondCheckedPrefix() }
      var v: UInt64 = 0
      for i in 0..<width { v = v << 8 | UInt64(bytes[offset + i]) }
      offset += width
      return v
    }

    /// A count (nelems, dimension length, vsize): 4 bytes, or 8 in CDF-5.
    mutating func count() throws -> UInt64 { try uint(version == 5 ? 8 : 4) }

    /// Skips `n` bytes padded to a multiple of 4, refusing to go past the end.
    mutating func skipPadded(_ n: UInt64, _ what: String) throws {
      let padded = (n &+ 3) & ~3
      guard n <= UInt64(Int.max - 3), padded <= UInt64(remaining) else {
        throw fail("\(what) declares \(n) bytes, more than the \(remaining) left in the file")
      }
      offset += Int(padded)
    }

    mutating func name(_ what: String) throws {
      let n = try count()
      guard n >= 1 else { throw fail("\(what) has an empty name") }
      try skipPadded(n, "the name of \(what)")
    }

    /// A list header: tag and element count; returns the count (0 for ABSENT).
    mutating func list(tag expected: UInt64, minimumElementBytes: Int, _ what: String) throws -> Int {
      let tag = try uint(4)
      let n = try count()
      if tag == 0 {
        guard n == 0 else { throw fail("an absent \(what) list has \(n) elements") }
        return 0
      }
      guard tag == expected else { throw fail("the \(what) list has tag \(tag), expected \(expected)") }
      guard n <= UInt64(remaining / minimumElementBytes) else {
        throw fail("the \(what) list declares \(n) elements, more than the file can hold")
      }
      return Int(n)
    }

    mutating func attributes(_ owner: String) throws {
      let n = try list(tag: 0x0C, minimumElementBytes: 12, "attribute of \(owner)")
      for _ in 0..<n {
        try name("an attribute of \(owner)")
        let type = try uint(4)
        guard let width = Self.typeSizes[type], version == 5 || type <= 6 else {
          throw fail("an attribute of \(owner) has unknown type \(type)")
        }
        let values = try count()
        let (total, overflow) = values.multipliedReportingOverflow(by: width)
        guard !overflow else { throw fail("an attribute of \(owner) declares \(values) values") }
        try skipPadded(total, "an attribute of \(owner)")
      }
    }

    mutating func header() throws {
      _ = try count()  // numrecs (or STREAMING)
      let dims = try list(tag: 0x0A, minimumElementBytes: 8, "dimension")
      for _ in 0..<dims {
        try name("a dimension")
        _ = try count()
      }
      try attributes("the file")
      let vars = try list(tag: 0x0B, minimumElementBytes: 24, "variable")
      for v in 0..<vars {
        try name("variable \(v)")
        let rank = try count()
        guard rank <= UInt64(remaining / 4) else { throw fail("variable \(v) declares \(rank) dimensions") }
        for _ in 0..<rank {
          let id = try count()
          guard id < UInt64(dims) else { throw fail("variable \(v) uses dimension \(id) of \(dims)") }
        }
        try attributes("variable \(v)")
        let type = try uint(4)
        guard (1...(version == 5 ? 11 : 6)).contains(type) else { throw fail("variable \(v) has unknown type \(type)") }
        _ = try count()  // vsize
        _ = try uint(version == 1 ? 4 : 8)  // begin
      }
    }
  }
}
