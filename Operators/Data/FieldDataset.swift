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
  /// Autoregressive mode: the number k of consecutive frames that form one input (nil: the
  /// ordinary input → target mode). See ``init(url:samples:inputFrames:inputs:targets:memoryBudget:)``.
  public let inputFrames: Int?
  /// Autoregressive mode: frames per trajectory, F = 1 + the file's `time` extent (frame 0 is the
  /// initial state); 1 otherwise.
  public let frameCount: Int
  /// Autoregressive mode: the time of each frame, frame 0 at 0 and frame f ≥ 1 at the file's
  /// `time[f − 1]`; empty otherwise.
  public let frameTimes: [Double]

  private let reader: DatasetReader
  private let lock = NSLock()
  private var cachedInputs: NDArray<Float>?
  private var cachedTargets: NDArray<Float>?
  /// Autoregressive mode: every frame of every trajectory, [samples, F, C, grid…].
  private var trajectories: NDArray<Float>?

  /// Number of training pairs: samples, or samples × (F − k) windows in autoregressive mode.
  public var count: Int { samples.count * windowsPerSample }
  /// Windows per trajectory, F − k, in autoregressive mode; 1 otherwise.
  public var windowsPerSample: Int { inputFrames.map { frameCount - $0 } ?? 1 }
  /// Input channels (k · C in autoregressive mode: k frames of the C trajectory fields).
  public var inputChannels: Int { inputFrames.map { $0 * targetNames.count } ?? inputNames.count }
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
    let (reader, range) = try Self.open(url, samples)
    self.reader = reader
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
    self.inputFrames = nil
    self.frameCount = 1
    self.frameTimes = []
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

  /// Opens a time-dependent file for autoregressive training: input k consecutive frames of a
  /// trajectory, target the next frame.
  ///
  /// The time-index contract. A trajectory of sample s has F = 1 + T frames, T the extent of the
  /// file's `time` axis:
  ///
  /// ```
  /// frame 0        = the input variables (the initial state, no time axis), time 0
  /// frame f ≥ 1    = the target variables at time index f − 1, time = time[f − 1]
  /// window j       = inputs frames j ..< j + k (k·C channels, frame-major: frame j's C fields first),
  ///                  target frame j + k (C channels),     j = 0 … F − k − 1
  /// pair index     = s · (F − k) + j
  /// ```
  ///
  /// For `pdekit generate navier-stokes` (input `vorticity_initial`, target `vorticity(time, y, x)`
  /// at t = 1, 2, …, T): k = 10 gives the first pair w(0 … 9) → w(10) = `vorticity[time = 9]`.
  /// There must be one input variable (initial state) per target variable, in the same order, on the
  /// targets' spatial grid; pass `inputs:` to pick them when the file has other inputs. The
  /// trajectories are held in memory.
  ///
  /// - Parameters:
  ///   - inputFrames: k ≥ 1; F − k must be ≥ 1.
  public init(
    url: URL, samples: Range<Int>? = nil, inputFrames k: Int, inputs: [String]? = nil, targets: [String]? = nil,
    memoryBudget: Int = 4 << 30
  ) throws {
    guard k >= 1 else { throw OperatorsError.invalidArgument("input frames must be ≥ 1, got \(k)") }
    self.url = url
    let (reader, range) = try Self.open(url, samples)
    self.reader = reader
    self.samples = range
    func pick(_ names: [String]?, _ role: VariableRole) throws -> [DatasetVariableInfo] {
      let found = try names.map { try $0.map { try reader.variable(named: $0) } } ?? reader.variables(role: role)
      guard !found.isEmpty, found.allSatisfy({ $0.role == role }) else {
        throw OperatorsError.invalidArgument(
          "\(url.path): autoregressive training needs variables with pdekit_role = \(role.rawValue)")
      }
      return found
    }
    let targetVars = try pick(targets, .target)
    let spaceAxes = Array(targetVars[0].axes.dropFirst())
    for v in targetVars
    where v.axes.first != "time" || v.axes != targetVars[0].axes || !(1...3).contains(spaceAxes.count) {
      throw OperatorsError.invalidArgument(
        "\(url.path): target '\(v.name)' has axes (\(v.axes.joined(separator: ", "))); autoregressive training needs "
          + "every target on (time, 1–3 grid axes), the same for all (e.g. pdekit generate navier-stokes)")
    }
    let inputVars = try pick(inputs, .input)
    guard inputVars.count == targetVars.count, inputVars.allSatisfy({ $0.axes == spaceAxes }) else {
      throw OperatorsError.invalidArgument(
        "\(url.path): autoregressive training takes one initial-state input per target, on the grid "
          + "(\(spaceAxes.joined(separator: ", "))); found inputs \(inputVars.map { "\($0.name)(\($0.axes.joined(separator: ", ")))" }) "
          + "for targets \(targetVars.map(\.name)); choose the initial states with inputs:")
    }
    let times = targetVars[0].sampleShape[0]
    let frames = 1 + times
    guard frames - k >= 1 else {
      throw OperatorsError.invalidArgument(
        "\(url.path) has \(frames) frames per trajectory (the initial state and \(times) times); \(k) input frames "
          + "leave no frame to predict")
    }
    let grid = Array(targetVars[0].sampleShape.dropFirst())
    let points = grid.reduce(1, *)
    let c = targetVars.count
    let bytes = range.count * frames * c * points * 4
    guard bytes <= memoryBudget else {
      throw OperatorsError.invalidArgument(
        "\(url.path): the \(range.count) trajectories take \(bytes >> 20) MiB, more than the \(memoryBudget >> 20) MiB "
          + "budget; select fewer samples")
    }
    inputNames = inputVars.map(\.name)
    targetNames = targetVars.map(\.name)
    axes = spaceAxes
    gridShape = grid
    isInMemory = true
    inputFrames = k
    frameCount = frames
    let timeValues = reader.axes.first { $0.name == "time" }?.values ?? (1...times).map(Double.init)
    frameTimes = [0] + timeValues
    var all = NDArray<Float>(shape: [range.count, frames, c] + grid, repeating: 0)
    for ch in 0..<c {
      let initial = try reader.read(inputNames[ch], samples: range)
      let trajectory = try reader.read(targetNames[ch], samples: range)
      for (name, block) in [(inputNames[ch], initial), (targetNames[ch], trajectory)] {
        if let bad = block.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
          throw OperatorsError.invalidArgument(
            "\(url.path): variable '\(name)' has a NaN or infinite value in sample "
              + "\(range.lowerBound + bad / (block.count / range.count)); exclude it with the sample range")
        }
      }
      all.withUnsafeMutableBufferPointer { dst in
        initial.withUnsafeBufferPointer { a in
          trajectory.withUnsafeBufferPointer { w in
            for s in 0..<range.count {
              (dst.baseAddress! + ((s * frames) * c + ch) * points).update(
                from: a.baseAddress! + s * points, count: points)
              for t in 0..<times {
                (dst.baseAddress! + ((s * frames + 1 + t) * c + ch) * points).update(
                  from: w.baseAddress! + (s * times + t) * points, count: points)
              }
            }
          }
        }
      }
    }
    trajectories = all
  }

  /// Autoregressive mode: every frame of trajectory `sample` (0-based within ``samples``), [F, C, grid…].
  public func trajectory(_ sample: Int) throws -> NDArray<Float> {
    guard let trajectories else {
      throw OperatorsError.invalidArgument("\(url.path) was not opened for autoregressive use (inputFrames)")
    }
    guard (0..<samples.count).contains(sample) else {
      throw OperatorsError.invalidArgument("trajectory \(sample) is outside 0..<\(samples.count)")
    }
    return trajectories[sample: sample]
  }

  /// Autoregressive mode: the number of windows whose target lies `horizon` frames past the
  /// inputs, samples × (F − k − horizon + 1); `horizon` 1 gives ``count``.
  public func windowCount(horizon: Int) -> Int {
    guard let k = inputFrames, horizon >= 1 else { return 0 }
    return samples.count * Swift.max(0, frameCount - k - horizon + 1)
  }

  /// Autoregressive mode: inputs frames j ..< j + k and target frame j + k + horizon − 1 of the
  /// windows `indices` numbered s · (F − k − horizon + 1) + j (``windowCount(horizon:)`` of them);
  /// horizon 1 is ``batch(_:)``. The pushforward trick trains on these with horizon m.
  public func windows(_ indices: [Int], horizon: Int) throws -> (inputs: NDArray<Float>, targets: NDArray<Float>) {
    guard let k = inputFrames else {
      throw OperatorsError.invalidArgument("\(url.path) was not opened for autoregressive use (inputFrames)")
    }
    let perSample = frameCount - k - horizon + 1
    guard horizon >= 1, perSample >= 1 else {
      throw OperatorsError.invalidArgument(
        "\(url.path) has \(frameCount) frames per trajectory; \(k) input frames and a target \(horizon) frame(s) on "
          + "do not fit")
    }
    if let bad = indices.first(where: { $0 < 0 || $0 >= samples.count * perSample }) {
      throw OperatorsError.invalidArgument("window \(bad) is outside 0..<\(samples.count * perSample)")
    }
    // Renumber as horizon-1 windows (s · (F − k) + j), whose frames `frames` reads.
    let oneStep = indices.map { ($0 / perSample) * windowsPerSample + $0 % perSample }
    return (frames(oneStep, offset: 0, count: k), frames(oneStep, offset: k + horizon - 1, count: 1))
  }

  /// Frames `first ..< first + n` of the trajectories of window indices, stacked frame-major as
  /// channels: [indices.count, n · C, grid…].
  private func frames(_ indices: [Int], offset: Int, count n: Int) -> NDArray<Float> {
    let all = trajectories!
    let frameSize = targetNames.count * gridShape.reduce(1, *)
    let w = windowsPerSample
    return all.withUnsafeBufferPointer { src in
      NDArray<Float>(shape: [indices.count, n * targetNames.count] + gridShape) { dst in
        for (r, i) in indices.enumerated() {
          let (s, j) = (i / w, i % w)
          (dst.baseAddress! + r * n * frameSize).update(
            from: src.baseAddress! + (s * frameCount + j + offset) * frameSize, count: n * frameSize)
        }
      }
    }
  }

  /// Opens `url` and checks that `samples` (nil: all) is a non-empty range of its samples.
  private static func open(_ url: URL, _ samples: Range<Int>?) throws -> (DatasetReader, Range<Int>) {
    let reader = try DatasetReader(url: url)
    let range = samples ?? 0..<reader.sampleCount
    guard range.lowerBound >= 0, range.upperBound <= reader.sampleCount else {
      throw OperatorsError.invalidArgument(
        "\(url.path) has \(reader.sampleCount) samples; samples \(range.lowerBound)..<\(range.upperBound) are out of range"
      )
    }
    guard !range.isEmpty else { throw OperatorsError.invalidArgument("\(url.path): no samples selected") }
    return (reader, range)
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
    if let k = inputFrames { return frames(indices, offset: 0, count: k) }
    lock.lock()
    defer { lock.unlock() }
    if let cachedInputs { return Self.gather(cachedInputs, indices) }
    return try streamed(inputNames, indices)
  }

  /// Targets of the samples `indices`, `[B, targetChannels, grid…]`.
  public func targets(_ indices: [Int]) throws -> NDArray<Float> {
    guard !targetNames.isEmpty else { throw OperatorsError.invalidArgument("\(url.path): no targets selected") }
    try checkIndices(indices)
    if let k = inputFrames { return frames(indices, offset: k, count: 1) }
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
  /// samples and grid points). With a `group` (data-parallel training) each rank reads only its
  /// block of the samples and the per-rank sums are added over the group; the statistics then equal
  /// a single process's up to the rounding of the summation order.
  public func fitNormalizers(eps: Double = 1e-7, group: (any ProcessGroup)? = nil) throws -> (
    input: UnitGaussianNormalizer<Float>, target: UnitGaussianNormalizer<Float>?
  ) {
    func fit(_ channels: Int, _ read: ([Int]) throws -> NDArray<Float>) throws -> UnitGaussianNormalizer<Float> {
      let points = gridShape.reduce(1, *)
      let chunk = max(1, (1 << 24) / max(1, channels * points))
      var sums = [Double](repeating: 0, count: channels)
      var squares = [Double](repeating: 0, count: channels)
      // With a group each rank reads its block of the samples and the sums are added up.
      let mine = group?.block(of: count) ?? 0..<count
      for pass in 0..<2 {
        for start in stride(from: mine.lowerBound, to: mine.upperBound, by: chunk) {
          let block = try read(Array(start..<min(mine.upperBound, start + chunk)))
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
        if let group {
          if pass == 0 { sums = try group.sum(sums) } else { squares = try group.sum(squares) }
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
