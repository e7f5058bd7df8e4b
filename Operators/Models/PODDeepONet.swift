// POD-DeepONet: DeepONet whose trunk is replaced by the leading proper orthogonal decomposition
// modes of the training targets (mean removed), computed once from a LAPACK SVD; only the branch
// is trained and predicts the modes' coefficients,
//     G(u)(y) ≈ φ₀(y) + Σ_{k<K} β_k(u) φ_k(y),   φ₀ = mean of the training targets.
// As DeepXDE's `PODDeepONet` without a trunk (`layer_sizes_trunk=None`), plus the mean of Lu et
// al. 2022 (their Eq. for POD-DeepONet adds φ₀). One basis per output channel.
//
// For 2D inputs the branch may start with strided convolutions (``ConvolutionalBranch``), as in
// Lu et al. 2022's Darcy POD-DeepONet (lu-group/deeponet-fno `src/darcy_rectangular_pwc/deeponet_POD.py`).
//
// The modes live on the training grid. On another grid of the same domain (`pdekit predict
// --resolution`) they and the mean are interpolated multilinearly; that is an approximation the
// MLP-trunk ``DeepONet`` does not need.
//
// References: L. Lu, X. Meng, S. Cai, Z. Mao, S. Goswami, Z. Zhang, G. E. Karniadakis, "A
// comprehensive and fair comparison of two neural operators (with practical extensions) based on
// FAIR data", Comput. Methods Appl. Mech. Eng. 393, 114778 (2022), §3.1.3; DeepXDE 1.15
// `deepxde/nn/pytorch/deeponet.py` (`PODDeepONet`).
import Numerics

/// How many POD modes to keep.
public enum PODModeSelection: Sendable, Equatable {
  /// Exactly this many modes per output channel.
  case count(Int)
  /// The fewest modes whose share of the centred targets' energy (Σ σ²) reaches this fraction in
  /// every output channel, e.g. 0.999.
  case energy(Double)
}

/// Hyperparameters of a ``PODDeepONet``.
///
/// `branchWidths` are the hidden widths; the branch's last layer has `outChannels × modes` units
/// (the coefficients), added by the model.
public struct PODDeepONetConfiguration: Codable, Sendable, Equatable {
  /// Channels of the input function.
  public var inChannels: Int
  /// Channels of the output function.
  public var outChannels: Int
  /// The grid of the inputs and targets (the training grid; the modes live on it).
  public var grid: [Int]
  /// Take every `sensorStride[i]`-th point of axis i as a branch sensor (1: all points).
  public var sensorStride: [Int]
  /// Hidden widths of the branch, e.g. [128, 128].
  public var branchWidths: [Int]
  /// POD modes per output channel.
  public var modes: Int
  /// Activation of the branch.
  public var activation: DeepONetActivation
  /// Domain and point layout of each grid axis (used to interpolate to other grids).
  public var domain: [GridAxisDomain]
  /// Per output channel, the fraction of the training targets' centred energy the modes capture
  /// (filled by ``PODDeepONet/fit(_:selection:targets:seed:)``; informational).
  public var capturedEnergy: [Double]
  /// Convolutions before the branch's fully connected layers (2D grids; nil: fully connected).
  /// Checkpoints without this entry load as nil.
  public var convolutionalBranch: ConvolutionalBranchConfiguration?

  /// A configuration; `sensorStride` defaults to 1 per axis, `domain` to [0, 1] nodal per axis.
  public init(
    inChannels: Int, outChannels: Int, grid: [Int], sensorStride: [Int]? = nil, branchWidths: [Int], modes: Int,
    activation: DeepONetActivation = .relu, domain: [GridAxisDomain]? = nil, capturedEnergy: [Double] = [],
    convolutionalBranch: ConvolutionalBranchConfiguration? = nil
  ) {
    self.convolutionalBranch = convolutionalBranch
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.grid = grid
    self.sensorStride = sensorStride ?? Array(repeating: 1, count: grid.count)
    self.branchWidths = branchWidths
    self.modes = modes
    self.activation = activation
    self.domain = domain ?? GridAxisDomain.unit(grid.count)
    self.capturedEnergy = capturedEnergy
  }

  /// Number of grid axes.
  public var dimensions: Int { grid.count }
  /// Grid points of one field.
  public var points: Int { grid.reduce(1, *) }
  /// Sensors per axis (every stride-th grid point).
  public var sensorExtents: [Int] { zip(grid, sensorStride).map { ($0 + $1 - 1) / $1 } }
  /// Sensors per input channel.
  public var sensors: Int { sensorExtents.reduce(1, *) }
  /// Input width of the branch's fully connected layers (`inChannels × sensors`, or the flattened
  /// last feature map of the convolutions); nil if the convolutions do not fit.
  public var branchInputWidth: Int? {
    ConvolutionalBranchConfiguration.denseInputWidth(
      convolutionalBranch, inChannels: inChannels, extents: sensorExtents)
  }

  /// Throws ``OperatorsError/invalidArgument(_:)`` naming the first inconsistency.
  public func validate() throws {
    if let problem = deepONetProblem(
      inChannels: inChannels, outChannels: outChannels, sensorGrid: grid, sensorStride: sensorStride, domain: domain)
    {
      throw OperatorsError.invalidArgument("POD-DeepONet: \(problem)")
    }
    guard branchWidths.allSatisfy({ $0 >= 1 }) else {
      throw OperatorsError.invalidArgument("POD-DeepONet: branch widths must be positive, got \(branchWidths)")
    }
    guard modes >= 1, modes <= points else {
      throw OperatorsError.invalidArgument("POD-DeepONet: modes must be in 1...\(points) (grid points), got \(modes)")
    }
    try ConvolutionalBranchConfiguration.check(
      convolutionalBranch, inChannels: inChannels, extents: sensorExtents, model: "POD-DeepONet")
  }
}

/// DeepONet with a POD trunk (Lu et al. 2022).
///
/// ```
/// x: [B, in, n₁, …]  →  y: [B, out, n₁, …]             N = n₁·…·n_d points of the training grid
/// β      = branch(sensors(x))                [B, out·K]   FNN in·S → widths… → out·K
/// y[b,c] = Σ_k β[b, c·K+k] ψ_{c,k} + φ₀,c      one strided-batched GEMM, as ``DeepONet``
/// ψ_{c,k} = √N · v_{c,k}                       v: right singular vectors of the centred targets
/// ```
///
/// The modes are scaled to mean square 1 ((1/N) Σ_n ψ_j ψ_k = δ_jk) so that the coefficients are
/// O(1) for normalized targets. They and the mean are non-trainable buffers (checkpoint entries
/// `buffer.pod.basis` [N, out·K], column c·K+k = ψ_{c,k}, and `buffer.pod.mean` [out, N]);
/// ``init(_:seed:)`` leaves them zero for ``loadBuffers(_:)`` to fill, so build a new model with
/// ``fit(_:selection:targets:seed:)``. Parameters: `branch.linears.{i}.weight`/`.bias` (DeepXDE's
/// keys), Glorot-normal weights, zero biases.
///
/// ```swift
/// let targets = try train.targets(Array(0..<train.count))           // [S, 1, 64, 64], normalized
/// let model = try PODDeepONet<Float>.fit(config, selection: .energy(0.999), targets: targets, seed: 0)
/// ```
public struct PODDeepONet<T: RealScalar>: Module {
  public typealias Scalar = T
  /// The hyperparameters.
  public let configuration: PODDeepONetConfiguration
  /// Convolutions of the branch for 2D inputs (nil: a fully connected branch).
  public var branchConvolutions: ConvolutionalBranch<T>?
  /// Fully connected part of the branch (sensor values or flattened feature maps → mode coefficients).
  public var branch: FullyConnectedNetwork<T>
  /// ψ as `[N, out·K]` (the trunk features of the grid points).
  public private(set) var basis: NDArray<T>
  /// φ₀ as `[out, N]`.
  public private(set) var mean: NDArray<T>

  /// A model with a freshly initialized branch and zero modes (to be loaded with ``loadBuffers(_:)``).
  public init(_ configuration: PODDeepONetConfiguration, seed: UInt64) {
    do { try configuration.validate() } catch { preconditionFailure("\(error)") }
    self.configuration = configuration
    let c = configuration
    var rng = PhiloxRandom(seed: seed)
    branchConvolutions = c.convolutionalBranch.map {
      ConvolutionalBranch($0, inChannels: c.inChannels, activation: c.activation, rng: &rng)
    }
    branch = FullyConnectedNetwork(
      widths: [c.branchInputWidth!] + c.branchWidths + [c.outChannels * c.modes], activation: c.activation,
      rng: &rng)
    basis = NDArray(shape: [c.points, c.outChannels * c.modes], repeating: 0)
    mean = NDArray(shape: [c.outChannels, c.points], repeating: 0)
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    if branchConvolutions != nil { branchConvolutions!.visitParameters { body("branch." + $0, &$1) } }
    branch.visitParameters { body("branch." + $0, &$1) }
  }

  /// A model whose modes are the POD of `targets` ([S, out, grid…], in the units the model is
  /// trained in, i.e. normalized if the trainer normalizes), keeping the modes `selection` asks for
  /// (default: `configuration.modes`). The returned configuration records the mode count and the
  /// captured energy.
  ///
  /// Throws if the targets do not match the configuration, are fewer than two samples, or more modes
  /// are asked for than the data have (min(S, N)).
  public static func fit(
    _ configuration: PODDeepONetConfiguration, selection: PODModeSelection? = nil, targets: NDArray<T>,
    seed: UInt64
  ) throws -> PODDeepONet {
    var config = configuration
    let (n, c) = (config.points, config.outChannels)
    guard targets.rank == config.dimensions + 2, targets.shape[1] == c, Array(targets.shape.dropFirst(2)) == config.grid
    else {
      throw OperatorsError.invalidArgument(
        "POD-DeepONet: targets \(targets.shape) do not match [samples, \(c), \(config.grid)]")
    }
    let s = targets.shape[0]
    guard s >= 2 else { throw OperatorsError.invalidArgument("POD-DeepONet needs ≥ 2 training samples, got \(s)") }
    // Per channel: the mean over samples, the centred snapshot matrix [S, N] and its SVD (Double).
    var means: [[Double]] = []
    var vts: [NDArray<Double>] = []
    var energies: [[Double]] = []
    for ch in 0..<c {
      var mu = [Double](repeating: 0, count: n)
      var centred = NDArray<Double>(shape: [s, n], repeating: 0)
      targets.withUnsafeBufferPointer { tp in
        for i in 0..<s { for j in 0..<n { mu[j] += Double(tp[(i * c + ch) * n + j]) } }
        for j in 0..<n { mu[j] /= Double(s) }
        centred.withUnsafeMutableBufferPointer { yp in
          for i in 0..<s { for j in 0..<n { yp[i * n + j] = Double(tp[(i * c + ch) * n + j]) - mu[j] } }
        }
      }
      let (_, sv, vt) = try centred.svd()
      let squares = sv.scalars.map { $0 * $0 }
      let total = squares.reduce(0, +)
      var running = 0.0
      energies.append(
        squares.map { sq in
          running += sq
          return total > 0 ? running / total : 1
        })
      means.append(mu)
      vts.append(vt)
    }
    let available = min(s, n)
    let k: Int
    switch selection ?? .count(config.modes) {
    case .count(let m):
      guard m >= 1, m <= available else {
        throw OperatorsError.invalidArgument(
          "POD-DeepONet: \(m) modes asked for, but \(s) samples on \(n) points give at most \(available)")
      }
      k = m
    case .energy(let e):
      guard e > 0, e <= 1 else {
        throw OperatorsError.invalidArgument("POD-DeepONet: energy must be in (0, 1], got \(e)")
      }
      k = energies.map { cum in (cum.firstIndex { $0 >= e - 1e-12 } ?? (cum.count - 1)) + 1 }.max()!
    }
    config.modes = k
    config.capturedEnergy = energies.map { $0[k - 1] }
    var model = PODDeepONet(config, seed: seed)
    let scale = Double(n).squareRoot()
    model.basis = NDArray(shape: [n, c * k]) { p in
      for ch in 0..<c {
        vts[ch].withUnsafeBufferPointer { v in
          for m in 0..<k { for j in 0..<n { p[j * c * k + ch * k + m] = T(scale * v[m * n + j]) } }
        }
      }
    }
    model.mean = NDArray(shape: [c, n]) { p in
      for ch in 0..<c { for j in 0..<n { p[ch * n + j] = T(means[ch][j]) } }
    }
    return model
  }

  /// The operator on the input's grid: `[B, in, n₁, …]` → `[B, out, n₁, …]` (modes interpolated
  /// when the grid is not the training grid).
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    let cfg = configuration
    precondition(
      x.rank == cfg.dimensions + 2 && x.shape[1] == cfg.inChannels,
      "POD-DeepONet expects [batch, \(cfg.inChannels), \(cfg.dimensions) spatial axes], got \(x.shape)")
    let grid = Array(x.shape.dropFirst(2))
    let s = sensorValues(x.value, sensorGrid: cfg.grid, stride: cfg.sensorStride, domain: cfg.domain)
    let beta = branch(branchDenseInput(s, convolutions: branchConvolutions, extents: cfg.sensorExtents))
    var (psi, mu) = (basis, mean)
    if grid != cfg.grid {
      let from = zip(cfg.grid, cfg.domain).map { $1.points($0) }
      let to = zip(grid, cfg.domain).map { $1.points($0) }
      let width = cfg.outChannels * cfg.modes
      let columns = resample(basis.transposed().reshaped([1, width] + cfg.grid), from: from, to: to)
      psi = columns.reshaped([width, grid.reduce(1, *)]).transposed()
      mu = resample(mean.reshaped([1, cfg.outChannels] + cfg.grid), from: from, to: to)
        .reshaped([cfg.outChannels, grid.reduce(1, *)])
    }
    let y = cartesianProduct(beta, Tensor(psi), outputs: cfg.outChannels)
    return (y + Tensor(mu.reshaped([1, cfg.outChannels, mu.shape[1]]))).reshaped(
      [x.shape[0], cfg.outChannels] + grid)
  }
}

extension PODDeepONet: NeuralOperator {
  public static var modelName: String { "pod-deeponet" }
  public var inputChannels: Int { configuration.inChannels }
  public var outputChannels: Int { configuration.outChannels }
  public var spatialDimensions: Int { configuration.dimensions }

  public static func validate(_ configuration: PODDeepONetConfiguration) throws { try configuration.validate() }

  public static func storageCount(_ c: PODDeepONetConfiguration) -> Int? {
    guard let inputs = c.branchInputWidth, let outputs = CheckedCount.product([c.outChannels, c.modes]),
      let convolutions = ConvolutionalBranchConfiguration.parameterCount(
        c.convolutionalBranch, inChannels: c.inChannels, extents: c.sensorExtents)
    else { return nil }
    return CheckedCount.sum([
      convolutions,
      CheckedCount.denseLayers([inputs] + c.branchWidths + [outputs]),
      CheckedCount.product([c.points, outputs]),  // basis buffer
      CheckedCount.product([c.outChannels, c.points]),  // mean buffer
    ])
  }

  public func namedBuffers() -> [(name: String, value: NDArray<T>)] { [("pod.basis", basis), ("pod.mean", mean)] }

  public mutating func loadBuffers(_ values: [String: NDArray<T>]) throws {
    var problems: [String] = []
    for (name, expected) in [("pod.basis", basis.shape), ("pod.mean", mean.shape)] {
      guard let v = values[name] else {
        problems.append("missing buffer \(name)")
        continue
      }
      guard v.shape == expected else {
        problems.append("buffer \(name) has shape \(v.shape), expected \(expected)")
        continue
      }
      if name == "pod.basis" { basis = v } else { mean = v }
    }
    for name in values.keys.sorted() where name != "pod.basis" && name != "pod.mean" {
      problems.append("unknown buffer \(name)")
    }
    guard problems.isEmpty else { throw OperatorsError.parameterMismatch(problems) }
  }
}
