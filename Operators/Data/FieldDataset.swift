// The training data loader: gridded input/target fields read from a PDEKit NetCDF file by
// `pdekit_role`, stacked as channels, in batches by sample index. Files that fit a memory
// budget are read once (one contiguous read per variable); larger files are streamed, each batch
// read sample by sample (the schema stores one sample per chunk, so a sample is one chunk read).
import Datasets
import Foundation
import Numerics

/// Input and target fields of a range of samples of a PDEKit dataset, as `[B, C, n₁, …, n_d]`
/// batches (C = number of input or target variables, one channel each).
///
/// ```swift
/// let train = try FieldDataset(url: URL(fileURLWithPath: "darcy.nc"), samples: 0..<200)
/// let (x, y) = try train.batch([3, 17, 42])     // [3, 1, 64, 64] each
/// ```
///
/// Every batch is checked for NaN and infinity; a bad value is an error naming the variable and
/// sample, never a silently poisoned gradient.
public final class FieldDataset: @unchecked Sendable {
  /// The file.
  public let url: URL
  /// Input variable names (channel order).
  public let inputNames: [String]
  /// Target variable names (channel order); empty when the dataset is read for prediction only.
  public let targetNames: [String]
  /// Grid axis names, slowest first.
  public let axes: [String]
  /// Grid extents, slowest first.
  public let gridShape: [Int]
  /// Samples of the file this dataset covers.
  public let samples: Range<Int>
  /// Whether the fields are held in memory (else batches are read from the file).
  public let isInMemory: Bool

  private let reader: DatasetReader
  private let lock = NSLock()
  private var cachedInputs: NDArray<Float>?
  private var cachedTargets: NDArray<Float>?

  /// Number of samples.
  public var count: Int { samples.count }
  /// Input channels.
  public var inputChannels: Int { inputNames.count }
  /// Target channels.
  public var targetChannels: Int { targetNames.count }

  /// Opens `url` and selects its variables.
  ///
  /// - Parameters:
  ///   - samples: the samples to use (default: all).
  ///   - inputs, targets: variable names (default: every variable with role `input` / `target`,
  ///     in file order). Pass `targets: []` to read inputs only (prediction).
  ///   - memoryBudget: bytes the fields may occupy in memory; above it batches are streamed.
  public init(
    url: URL, samples: Range<Int>? = nil, inputs: [String]? = nil, targets: [String]? = nil,
    memoryBudget: Int = 4 << 30
  ) throws {
    self.url = url
    let reader = try DatasetReader(url: url)
    self.reader = reader
    let range = samples ?? 0..<reader.sampleCount
    guard range.lowerBound >= 0, range.upperBound <= reader.sampleCount else {
      throw OperatorsError.invalidArgument(
        "\(url.path) has \(reader.sampleCount) samples; samples \(range.lowerBound)..<\(range.upperBound) are out of range"
      )
    }
    guard !range.isEmpty else { throw OperatorsError.invalidArgument("\(url.path): no samples selected") }
    self.samples = range
    func select(_ names: [String]?, role: VariableRole) throws -> [DatasetVariableInfo] {
      if let names {
        return try names.map { name in
          let v = try reader.variable(named: name)
          guard v.role == role else {
            throw OperatorsError.invalidArgument(
              "\(url.path): variable '\(name)' has pdekit_role \(v.role.rawValue), not \(role.rawValue)")
          }
          return v
        }
      }
      let found = reader.variables(role: role)
      guard !found.isEmpty else {
        throw OperatorsError.invalidArgument(
          "\(url.path) has no variable with pdekit_role = \(role.rawValue); training needs inputs and targets "
            + "(files written by pdekit generate have both)")
      }
      return found
    }
    let inputVars = try select(inputs, role: .input)
    let targetVars = targets == [] ? [] : try select(targets, role: .target)
    let first = inputVars[0]
    for v in inputVars + targetVars where v.axes != first.axes {
      throw OperatorsError.invalidArgument(
        "\(url.path): variable '\(v.name)' has axes (\(v.axes.joined(separator: ", "))) but '\(first.name)' has "
          + "(\(first.axes.joined(separator: ", "))); all fields of a model must live on one grid")
    }
    guard (1...3).contains(first.axes.count), !first.axes.contains("time") else {
      throw OperatorsError.invalidArgument(
        "\(url.path): variable '\(first.name)' has axes (\(first.axes.joined(separator: ", "))); this loader takes "
          + "fields on a 1–3 dimensional grid without a time axis")
    }
    inputNames = inputVars.map(\.name)
    targetNames = targetVars.map(\.name)
    axes = first.axes
    gridShape = first.sampleShape
    let bytes = range.count * gridShape.reduce(1, *) * (inputVars.count + targetVars.count) * 4
    isInMemory = bytes <= memoryBudget
    if isInMemory {
      cachedInputs = try load(inputNames, rows: range)
      if !targetNames.isEmpty { cachedTargets = try load(targetNames, rows: range) }
    }
  }

  /// Reads `names` for the file samples `rows` as [rows, C, grid…], checking for NaN.
  private func load(_ names: [String], rows: Range<Int>) throws -> NDArray<Float> {
    let points = gridShape.reduce(1, *)
    let c = names.count
    var out = NDArray<Float>(shape: [rows.count, c] + gridShape, repeating: 0)
    for (ch, name) in names.enumerated() {
      let block = try reader.read(name, samples: rows)
      try block.withUnsafeBufferPointer { src in
        if let bad = src.firstIndex(where: { !$0.isFinite }) {
          throw OperatorsError.invalidArgument(
            "\(url.path): variable '\(name)' has a NaN or infinite value in sample \(rows.lowerBound + bad / points); "
              + "regenerate the sample or exclude it with --train-samples/--test-samples")
        }
        out.withUnsafeMutableBufferPointer { dst in
          for s in 0..<rows.count {
            for j in 0..<points { dst[(s * c + ch) * points + j] = src[s * points + j] }
          }
        }
      }
    }
    return out
  }

  /// Gathers rows `indices` (relative to `samples`) of a [N, C, grid…] array.
  private static func gather(_ a: NDArray<Float>, _ indices: [Int]) -> NDArray<Float> {
    let row = a.count / a.shape[0]
    return a.withUnsafeBufferPointer { src in
      NDArray<Float>(shape: [indices.count] + a.shape.dropFirst()) { dst in
        for (k, i) in indices.enumerated() {
          UnsafeMutableRawPointer(dst.baseAddress! + k * row).copyMemory(
            from: src.baseAddress! + i * row, byteCount: row * 4)
        }
      }
    }
  }

  private func streamed(_ names: [String], _ indices: [Int]) throws -> NDArray<Float> {
    let row = names.count * gridShape.reduce(1, *)
    var out = NDArray<Float>(shape: [indices.count, names.count] + gridShape, repeating: 0)
    for (k, i) in indices.enumerated() {
      let one = try load(names, rows: samples.lowerBound + i..<samples.lowerBound + i + 1)
      one.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
          UnsafeMutableRawPointer(dst.baseAddress! + k * row).copyMemory(from: src.baseAddress!, byteCount: row * 4)
        }
      }
    }
    return out
  }

  private func checkIndices(_ indices: [Int]) throws {
    if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
      throw OperatorsError.invalidArgument("sample index \(bad) is outside this dataset's 0..<\(count)")
    }
  }

  /// Inputs of the samples `indices` (0-based within ``samples``), `[B, inputChannels, grid…]`.
  public func inputs(_ indices: [Int]) throws -> NDArray<Float> {
    try checkIndices(indices)
    lock.lock()
    defer { lock.unlock() }
    if let cachedInputs { return Self.gather(cachedInputs, indices) }
    return try streamed(inputNames, indices)
  }

  /// Targets of the samples `indices`, `[B, targetChannels, grid…]`.
  public func targets(_ indices: [Int]) throws -> NDArray<Float> {
    guard !targetNames.isEmpty else { throw OperatorsError.invalidArgument("\(url.path): no targets selected") }
    try checkIndices(indices)
    lock.lock()
    defer { lock.unlock() }
    if let cachedTargets { return Self.gather(cachedTargets, indices) }
    return try streamed(targetNames, indices)
  }

  /// Inputs and targets of the samples `indices`.
  public func batch(_ indices: [Int]) throws -> (inputs: NDArray<Float>, targets: NDArray<Float>) {
    (try inputs(indices), try targets(indices))
  }

  /// Per-channel Gaussian normalizers fitted on this dataset's inputs and targets, accumulated in
  /// Double over chunks of samples (so a streamed file is never loaded whole). Same statistics as
  /// ``UnitGaussianNormalizer/init(fitting:eps:)`` (mean and unbiased standard deviation over
  /// samples and grid points).
  public func fitNormalizers(eps: Double = 1e-7) throws -> (
    input: UnitGaussianNormalizer<Float>, target: UnitGaussianNormalizer<Float>?
  ) {
    func fit(_ channels: Int, _ read: ([Int]) throws -> NDArray<Float>) throws -> UnitGaussianNormalizer<Float> {
      let points = gridShape.reduce(1, *)
      let chunk = max(1, (1 << 24) / max(1, channels * points))
      var sums = [Double](repeating: 0, count: channels)
      var squares = [Double](repeating: 0, count: channels)
      for pass in 0..<2 {
        for start in stride(from: 0, to: count, by: chunk) {
          let block = try read(Array(start..<min(count, start + chunk)))
          block.withUnsafeBufferPointer { p in
            for s in 0..<block.shape[0] {
              for c in 0..<channels {
                let base = (s * channels + c) * points
                if pass == 0 {
                  var acc = 0.0
                  for j in 0..<points { acc += Double(p[base + j]) }
                  sums[c] += acc
                } else {
                  let m = sums[c]
                  var acc = 0.0
                  for j in 0..<points {
                    let d = Double(p[base + j]) - m
                    acc += d * d
                  }
                  squares[c] += acc
                }
              }
            }
          }
        }
        if pass == 0 { sums = sums.map { $0 / Double(count * points) } }
      }
      let n = Double(count * points)
      guard n >= 2 else { throw OperatorsError.invalidArgument("normalizers need at least two values per channel") }
      return UnitGaussianNormalizer(
        mean: try NDArray(shape: [channels], data: sums.map { Float($0) }),
        std: try NDArray(shape: [channels], data: squares.map { Float(($0 / (n - 1)).squareRoot()) }), eps: eps)
    }
    let input = try fit(inputChannels, inputs)
    let target = targetNames.isEmpty ? nil : try fit(targetChannels, targets)
    return (input, target)
  }

  /// The underlying file's axes (coordinates with units), for writing predictions.
  public var fileAxes: [DatasetAxis] { reader.axes }
  /// The underlying file's global attributes.
  public var fileAttributes: [String: String] { reader.attributes }
  /// Variable descriptions of the underlying file.
  public var fileVariables: [DatasetVariableInfo] { reader.variables }
  /// Per-sample diagnostics of the covered samples.
  public func diagnostics() throws -> [SampleDiagnostics] { try reader.diagnostics(samples: samples) }
}
