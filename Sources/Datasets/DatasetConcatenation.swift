// Joining datasets along `sample` by copying compressed chunks (HDF5 1.10.3's H5Dread_chunk and
// H5Dwrite_chunk, "direct chunk I/O"; The HDF Group, "HDF5 Direct Chunk Write", 2012/2018).
//
// A PDEKit data variable is chunked one sample per chunk and deflated, so a sample of a part file
// is one compressed chunk. When a part was written with the same chunk shape and filters as the
// output, its chunks are copied byte for byte: nothing is decompressed or compressed again, and
// the compression work stays with the processes that wrote the parts (parallel workers, MPI
// ranks). The data read back are those of the parts exactly (the same zlib applied to the same
// bytes). Parts with other storage (older uncompressed parts of an interrupted run) go through
// netCDF's read and write instead.
import CNetCDF
import Foundation
import Numerics

/// Concatenation of PDEKit datasets with one schema, in order, into a new file.
public enum DatasetConcatenation {
  /// What a concatenation wrote.
  public struct Summary: Sendable, Equatable {
    /// Samples in the output.
    public var samples: Int
    /// Of those, samples whose compressed chunks were copied as they were.
    public var copiedSamples: Int
  }

  /// Writes the samples of `parts`, in order, into a new dataset at `url` with `schema` (the
  /// parts' schema, whose attributes and deflate level the output gets). Each part's diagnostics
  /// are kept.
  @discardableResult
  public static func concatenate(_ parts: [URL], schema: DatasetSchema, into url: URL, history: String?) throws
    -> Summary
  {
    let writer = try DatasetWriter.create(at: url, schema: schema, history: history)
    var copies: [(part: URL, first: Int, count: Int)] = []
    var written = 0
    do {
      for part in parts {
        let reader = try DatasetReader(url: part)
        defer { try? reader.close() }
        let n = reader.sampleCount
        guard n > 0 else { continue }
        let diagnostics = try reader.diagnostics(samples: 0..<n)
        if try chunksMatch(reader, schema) {
          for i in 0..<n { try writer.writeDiagnostics(sample: written + i, diagnostics[i]) }
          copies.append((part, written, n))
        } else {
          let fields = try schema.variables.map { ($0.name, try reader.read($0.name, samples: 0..<n)) }
          for i in 0..<n {
            var sample: [String: NDArray<Float>] = [:]
            for (name, block) in fields { sample[name] = block[sample: i] }
            try writer.write(sample: written + i, sample, diagnostics: diagnostics[i])
          }
        }
        written += n
      }
      try writer.close()
    } catch {
      try? writer.close()
      throw error
    }
    if !copies.isEmpty {
      try copyChunks(copies, schema: schema, total: written, into: url)
    }
    return Summary(samples: written, copiedSamples: copies.reduce(0) { $0 + $1.count })
  }

  /// Whether every data variable of `reader`'s file is stored as the output will be: one sample
  /// per chunk, and the same deflate and shuffle settings.
  static func chunksMatch(_ reader: DatasetReader, _ schema: DatasetSchema) throws -> Bool {
    try NetCDF.serialized {
      for variable in schema.variables {
        var id: Int32 = 0
        guard nc_inq_varid(reader.ncid, variable.name, &id) == NC_NOERR else { return false }
        var storage: Int32 = 0
        let shape = try schema.sampleShape(of: variable)
        var chunks = [Int](repeating: 0, count: shape.count + 1)
        guard nc_inq_var_chunking(reader.ncid, id, &storage, &chunks) == NC_NOERR, storage == NC_CHUNKED,
          chunks == [1] + shape
        else { return false }
        var shuffle: Int32 = 0
        var deflate: Int32 = 0
        var level: Int32 = 0
        guard nc_inq_var_deflate(reader.ncid, id, &shuffle, &deflate, &level) == NC_NOERR else { return false }
        let wanted = schema.deflateLevel
        if wanted > 0 {
          guard deflate == 1, level == Int32(wanted), shuffle == 1 else { return false }
        } else {
          guard deflate == 0, shuffle == 0 else { return false }
        }
      }
      return true
    }
  }

  /// Copies the chunks of each part's data variables into `url`, whose data variables are first
  /// extended to `total` samples.
  static func copyChunks(
    _ copies: [(part: URL, first: Int, count: Int)], schema: DatasetSchema, total: Int, into url: URL
  ) throws {
    let variables = schema.variables
    let shapes = try variables.map { try schema.sampleShape(of: $0).map { UInt64($0) } }
    try NetCDF.serialized {
      let out = H5Fopen(url.path, 1, 0)  // H5F_ACC_RDWR, H5P_DEFAULT
      guard out >= 0 else { throw failure("opening \(url.path) with HDF5 to copy chunks") }
      defer { _ = H5Fclose(out) }
      var outputs: [Int64] = []
      defer { for d in outputs { _ = H5Dclose(d) } }
      for (k, variable) in variables.enumerated() {
        let d = H5Dopen2(out, variable.name, 0)
        guard d >= 0 else { throw failure("opening variable '\(variable.name)' of \(url.path) with HDF5") }
        outputs.append(d)
        var extent = [UInt64(total)] + shapes[k]
        guard H5Dset_extent(d, &extent) >= 0 else {
          throw failure("extending '\(variable.name)' of \(url.path) to \(total) samples")
        }
      }
      var buffer = [UInt8](repeating: 0, count: 1 << 16)
      for copy in copies {
        let input = H5Fopen(copy.part.path, 0, 0)  // H5F_ACC_RDONLY
        guard input >= 0 else { throw failure("opening \(copy.part.path) with HDF5 to copy chunks") }
        defer { _ = H5Fclose(input) }
        for (k, variable) in variables.enumerated() {
          let source = H5Dopen2(input, variable.name, 0)
          guard source >= 0 else { throw failure("opening '\(variable.name)' of \(copy.part.path) with HDF5") }
          defer { _ = H5Dclose(source) }
          var from = [UInt64](repeating: 0, count: shapes[k].count + 1)
          var to = from
          for j in 0..<copy.count {
            from[0] = UInt64(j)
            to[0] = UInt64(copy.first + j)
            var bytes: UInt64 = 0
            guard H5Dget_chunk_storage_size(source, &from, &bytes) >= 0, bytes > 0, bytes < UInt64(Int.max) else {
              throw failure("reading the size of sample \(j) of '\(variable.name)' in \(copy.part.path)")
            }
            if buffer.count < Int(bytes) { buffer = [UInt8](repeating: 0, count: Int(bytes)) }
            var filters: UInt32 = 0
            let status = buffer.withUnsafeMutableBytes { b -> Int32 in
              guard H5Dread_chunk(source, 0, &from, &filters, b.baseAddress) >= 0 else { return -1 }
              return H5Dwrite_chunk(outputs[k], 0, filters, &to, Int(bytes), b.baseAddress)
            }
            guard status >= 0 else {
              throw failure(
                "copying sample \(j) of '\(variable.name)' from \(copy.part.path) to sample \(copy.first + j) of \(url.path)"
              )
            }
          }
        }
      }
    }
  }

  /// An HDF5 failure as a dataset error (netCDF's HDF error, with the system's reason when there is one).
  static func failure(_ context: String) -> DatasetError { NetCDF.error(NC_EHDFERR, context) }
}
