// The safetensors format (Hugging Face, https://github.com/huggingface/safetensors): a file that
// holds named tensors and a string-to-string metadata map, readable without executing code.
//
//   bytes 0..<8     N, the header length, unsigned 64-bit little-endian
//   bytes 8..<8+N   UTF-8 JSON object: for each tensor
//                     "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
//                   and optionally "__metadata__": {"key": "value", …} (strings only)
//   bytes 8+N…      the data buffer; offsets are relative to its start, little-endian, row-major
//
// The reader checks what the reference implementation checks: the header fits in the file, is a
// JSON object, every entry has a known dtype, non-negative shape and offsets whose length is
// shape × dtype size, and the entries tile the data buffer exactly (no gaps, no overlaps).
// The writer pads the header with spaces to a multiple of 8 bytes, as the Python writer does.
import Foundation
import Numerics

/// Reading and writing safetensors files.
///
/// ```swift
/// let bytes = try SafeTensors.encode(model.namedParameters(), metadata: ["format": "pt", "config": json])
/// try bytes.write(to: url)
/// let file = try SafeTensors.decode(try Data(contentsOf: url))
/// let weight: NDArray<Float> = try file.array(named: "lifting.fcs.0.weight")
/// file.metadata["config"]
/// ```
///
/// Element types read and written: F32 and F64 (either converts to `Float` or `Double` on read).
/// Other dtypes in a file (F16, BF16, integers, BOOL) are validated and listed but not converted.
public enum SafeTensors {
  /// Element types of the format, with their byte sizes.
  public enum DType: String, Sendable, CaseIterable {
    case float64 = "F64"
    case float32 = "F32"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int64 = "I64"
    case int32 = "I32"
    case int16 = "I16"
    case int8 = "I8"
    case uint64 = "U64"
    case uint32 = "U32"
    case uint16 = "U16"
    case uint8 = "U8"
    case bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
      switch self {
      case .float64, .int64, .uint64: return 8
      case .float32, .int32, .uint32: return 4
      case .float16, .bfloat16, .int16, .uint16: return 2
      case .int8, .uint8, .bool: return 1
      }
    }
  }

  /// One tensor's entry in the header.
  public struct Entry: Sendable, Hashable {
    /// Tensor name.
    public var name: String
    /// Element type.
    public var dtype: DType
    /// Extents.
    public var shape: [Int]
    /// Byte range in the data buffer.
    public var dataOffsets: Range<Int>
  }

  /// A decoded file: header entries, metadata and the data buffer.
  public struct File: Sendable {
    /// Entries in data-buffer order.
    public var entries: [Entry]
    /// The `__metadata__` map (empty when absent).
    public var metadata: [String: String]
    let data: Data
    /// Offset of the data buffer from the first byte of `data` (not an index: `data` may be a slice).
    let dataStart: Int

    /// The entry named `name`, if any.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// Tensor `name` as an array of `T` (F32 or F64 data, converted if needed).
    public func array<T: RealScalar>(named name: String) throws -> NDArray<T> {
      guard let e = entry(named: name) else {
        throw OperatorsError.malformedFile("safetensors: no tensor named \(name)")
      }
      let count = e.shape.reduce(1, *)
      return try data.withUnsafeBytes { raw -> NDArray<T> in
        let base = raw.baseAddress! + dataStart + e.dataOffsets.lowerBound
        switch e.dtype {
        case .float32:
          return NDArray<T>(shape: e.shape) { p in
            for i in 0..<count {
              p[i] = T(
                Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
            }
          }
        case .float64:
          return NDArray<T>(shape: e.shape) { p in
            for i in 0..<count {
              p[i] = T(
                Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
          }
        default:
          throw OperatorsError.malformedFile(
            "safetensors: tensor \(name) has dtype \(e.dtype.rawValue); only F32 and F64 are read")
        }
      }
    }
  }

  /// Serializes named arrays (as F32 when `T` is Float, F64 when Double) and string metadata.
  public static func encode<T: RealScalar>(
    _ tensors: [(name: String, value: NDArray<T>)], metadata: [String: String] = [:]
  ) throws -> Data {
    let dtype: DType = T.self == Float.self ? .float32 : .float64
    var fields: [String] = []
    var seen = Set<String>()
    var offset = 0
    for (name, value) in tensors {
      guard name != "__metadata__", seen.insert(name).inserted else {
        throw OperatorsError.invalidArgument("safetensors: duplicate or reserved tensor name \(name)")
      }
      let bytes = value.count * dtype.size
      let shape = value.shape.map(String.init).joined(separator: ",")
      fields.append(
        "\(jsonString(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}"
      )
      offset += bytes
    }
    if !metadata.isEmpty {
      let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
      fields.insert("\"__metadata__\":{" + pairs.joined(separator: ",") + "}", at: 0)
    }
    var json = Data(("{" + fields.joined(separator: ",") + "}").utf8)
    json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
    var out = Data(capacity: 8 + json.count + offset)
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(json)
    for (_, value) in tensors {
      value.withUnsafeBufferPointer { p in
        if T.self == Float.self {
          for v in p { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        } else {
          for v in p { withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
      }
    }
    return out
  }

  /// Parses and validates a safetensors file.
  public static func decode(_ data: Data) throws -> File {
    func fail(_ why: String) -> OperatorsError { .malformedFile("safetensors: \(why)") }
    guard data.count >= 8 else { throw fail("file of \(data.count) bytes has no 8-byte header length") }
    let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard n <= 100_000_000, Int(n) <= data.count - 8 else {
      throw fail("header length \(n) exceeds the file (\(data.count - 8) bytes after the length)")
    }
    let headerBytes = data.subdata(in: data.startIndex + 8..<data.startIndex + 8 + Int(n))
    guard String(data: headerBytes, encoding: .utf8) != nil,
      let header = try? JSONDecoder().decode([String: HeaderValue].self, from: headerBytes)
    else { throw fail("header is not a UTF-8 JSON object") }
    var metadata: [String: String] = [:]
    var entries: [Entry] = []
    for (name, value) in header {
      switch (name == "__metadata__", value) {
      case (true, .metadata(let map)):
        metadata = map
      case (true, _):
        throw fail("__metadata__ is not an object of strings")
      case (false, .entry(let dtypeName, let shape, let offsets)):
        guard let dtype = DType(rawValue: dtypeName) else { throw fail("entry \(name) has unknown dtype \(dtypeName)") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("entry \(name) has a negative extent in \(shape)") }
        guard offsets.count == 2, offsets[0] >= 0, offsets[1] >= offsets[0] else {
          throw fail("entry \(name) has invalid data_offsets \(offsets)")
        }
        var count = dtype.size
        for d in shape {
          let (p, overflow) = count.multipliedReportingOverflow(by: d)
          guard !overflow else { throw fail("entry \(name): shape \(shape) overflows") }
          count = p
        }
        guard offsets[1] - offsets[0] == count else {
          throw fail("entry \(name): \(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dtype.rawValue)")
        }
        entries.append(Entry(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1]))
      case (false, _):
        throw fail("entry \(name) is not {dtype, shape, data_offsets}")
      }
    }
    entries.sort {
      ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name) < (
        $1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name
      )
    }
    var end = 0
    for e in entries {
      guard e.dataOffsets.lowerBound == end else {
        throw fail("entry \(e.name) starts at byte \(e.dataOffsets.lowerBound), expected \(end) (gap or overlap)")
      }
      end = e.dataOffsets.upperBound
    }
    let bufferSize = data.count - 8 - Int(n)
    guard end == bufferSize else { throw fail("entries cover \(end) bytes but the data buffer holds \(bufferSize)") }
    // Relative to the first byte of `data`: `withUnsafeBytes` starts there also for a slice.
    return File(entries: entries, metadata: metadata, data: data, dataStart: 8 + Int(n))
  }

  /// A header value: a tensor entry, the metadata map, or something else.
  private enum HeaderValue: Decodable {
    case entry(dtype: String, shape: [Int], offsets: [Int])
    case metadata([String: String])
    case invalid

    private struct Fields: Decodable {
      let dtype: String
      let shape: [Int]
      let dataOffsets: [Int]
      enum CodingKeys: String, CodingKey {
        case dtype, shape
        case dataOffsets = "data_offsets"
      }
    }

    init(from decoder: any Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let f = try? c.decode(Fields.self) {
        self = .entry(dtype: f.dtype, shape: f.shape, offsets: f.dataOffsets)
      } else if let m = try? c.decode([String: String].self) {
        self = .metadata(m)
      } else {
        self = .invalid
      }
    }
  }

  /// A JSON string literal.
  private static func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
      default: out.unicodeScalars.append(u)
      }
    }
    return out + "\""
  }
}
