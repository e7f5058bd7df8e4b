// DeepONet: a branch network encodes the input function from its values at fixed sensors, a trunk
// network encodes a query point, and their features are merged by a dot product plus a bias,
// G(u)(y) ≈ Σ_k b_k(u) t_k(y) + b₀. As in DeepXDE's PyTorch `DeepONetCartesianProd` (and
// `DeepONet`): fully connected branch and trunk (`FNN`), the activation also applied to the trunk's
// output (not the branch's), Glorot-normal weights, zero biases, one scalar bias per output, and
// several outputs by splitting both feature vectors into equal groups ("split_both").
//
// Two forms: Cartesian product (every query point for every sample; one branch evaluation per
// sample, one trunk evaluation for all points, merged by one strided-batched GEMM) and aligned /
// unstacked (each sample with its own query points; DeepXDE's `DeepONet` when M = 1).
//
// For inputs on a 2D grid the branch may start with strided convolutions
// (``ConvolutionalBranch``, Lu et al. 2022's Darcy branch) before its fully connected layers.
//
// Not implemented: DeepXDE's "independent", "split_branch" and "split_trunk" strategies, input/output transforms (PDEKit normalizes data per channel in
// the trainer instead), and regularization.
//
// References: L. Lu, P. Jin, G. Pang, Z. Zhang, G. E. Karniadakis, "Learning nonlinear operators
// via DeepONet based on the universal approximation theorem of operators", Nat. Mach. Intell. 3,
// 218–229 (2021); L. Lu, X. Meng, Z. Mao, G. E. Karniadakis, "DeepXDE: A deep learning library
// for solving differential equations", SIAM Review 63 (2021); DeepXDE 1.15
// `deepxde/nn/pytorch/deeponet.py`, `deepxde/nn/deeponet_strategy.py`.
import Numerics

/// Hyperparameters of a ``DeepONet``.
///
/// ```swift
/// // DeepXDE's antiderivative tutorial: branch [100, 40, 40], trunk [1, 40, 40], ReLU
/// let config = DeepONetConfiguration(inChannels: 1, outChannels: 1, sensorGrid: [100],
///                                    branchWidths: [40, 40], trunkWidths: [40, 40], activation: .relu)
/// ```
///
/// The branch input size is `inChannels × sensors` (sensors: every `sensorStride`-th point of
/// `sensorGrid` per axis) and the trunk input size is the number of grid axes; the widths list the
/// layers after the input (DeepXDE's layer lists without their first entry). The last branch
/// and trunk widths must agree and be divisible by `outChannels`.
///
/// With `convolutionalBranch` (2D grids only) the sensor values stay an image
/// `[inChannels, sensorExtents]`, pass through the convolutions, and the flattened feature maps
/// are the input of the branch's fully connected layers:
///
/// ```swift
/// // Lu et al. 2022's Darcy DeepONet: 29×29 sensors, two 5×5 stride-2 convolutions, then [128, 128]
/// let darcy = DeepONetConfiguration(inChannels: 1, outChannels: 1, sensorGrid: [29, 29],
///                                   branchWidths: [128, 128], trunkWidths: [128, 128, 128, 128],
///                                   convolutionalBranch: ConvolutionalBranchConfiguration())
/// ```
public struct DeepONetConfiguration: Codable, Sendable, Equatable {
  /// Channels of the input function.
  public var inChannels: Int
  /// Channels of the output function.
  public var outChannels: Int
  /// The grid the input function is sampled on (the training grid).
  public var sensorGrid: [Int]
  /// Take every `sensorStride[i]`-th point of axis i as a sensor (1: all points).
  public var sensorStride: [Int]
  /// Branch layer widths after the input, e.g. [40, 40].
  public var branchWidths: [Int]
  /// Trunk layer widths after the input, e.g. [40, 40].
  public var trunkWidths: [Int]
  /// Activation of both networks.
  public var activation: DeepONetActivation
  /// Domain and point layout of each grid axis (the trunk's coordinates).
  public var domain: [GridAxisDomain]
  /// Convolutions before the branch's fully connected layers (nil: a fully connected branch, as
  /// DeepXDE's `FNN`). Checkpoints without this entry load as nil.
  public var convolutionalBranch: ConvolutionalBranchConfiguration?

  /// A configuration; `sensorStride` defaults to 1 per axis, `domain` to [0, 1] nodal per axis.
  public init(
    inChannels: Int, outChannels: Int, sensorGrid: [Int], sensorStride: [Int]? = nil, branchWidths: [Int],
    trunkWidths: [Int], activation: DeepONetActivation = .relu, domain: [GridAxisDomain]? = nil,
    convolutionalBranch: ConvolutionalBranchConfiguration? = nil
  ) {
    self.convolutionalBranch = convolutionalBranch
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.sensorGrid = sensorGrid
    self.sensorStride = sensorStride ?? Array(repeating: 1, count: sensorGrid.count)
    self.branchWidths = branchWidths
    self.trunkWidths = trunkWidths
    self.activation = activation
    self.domain = domain ?? GridAxisDomain.unit(sensorGrid.count)
  }

  /// Number of grid axes (the trunk's input size).
  public var dimensions: Int { sensorGrid.count }
  /// Sensors per axis (every stride-th point of the sensor grid).
  public var sensorExtents: [Int] { zip(sensorGrid, sensorStride).map { ($0 + $1 - 1) / $1 } }
  /// Sensors per input channel.
  public var sensors: Int { sensorExtents.reduce(1, *) }
  /// Input width of the branch's fully connected layers: `inChannels × sensors`, or with a
  /// convolutional branch the size of its flattened last feature map (nil if the convolutions do
  /// not fit the sensors or the size overflows).
  public var branchInputWidth: Int? {
    ConvolutionalBranchConfiguration.denseInputWidth(
      convolutionalBranch, inChannels: inChannels, extents: sensorExtents)
  }
  /// Width of the merged features (outChannels × features per output).
  public var featureWidth: Int { branchWidths.last ?? 0 }

  /// Throws ``OperatorsError/invalidArgument(_:)`` naming the first inconsistency.
  public func validate() throws {
    if let problem = deepONetProblem(
      inChannels: inChannels, outChannels: outChannels, sensorGrid: sensorGrid, sensorStride: sensorStride,
      domain: domain)
    {
      throw OperatorsError.invalidArgument("DeepONet: \(problem)")
    }
    guard !branchWidths.isEmpty, !trunkWidths.isEmpty, (branchWidths + trunkWidths).allSatisfy({ $0 >= 1 }) else {
      throw OperatorsError.invalidArgument(
        "DeepONet: branch and trunk need at least one layer of positive width, got \(branchWidths), \(trunkWidths)")
    }
    guard branchWidths.last == trunkWidths.last else {
      throw OperatorsError.invalidArgument(
        "DeepONet: the last branch width \(branchWidths.last!) and trunk width \(trunkWidths.last!) must agree")
    }
    guard featureWidth % outChannels == 0 else {
      throw OperatorsError.invalidArgument(
        "DeepONet: the feature width \(featureWidth) must be divisible by the \(outChannels) outputs")
    }
    try ConvolutionalBranchConfiguration.check(
      convolutionalBranch, inChannels: inChannels, extents: sensorExtents, model: "DeepONet")
  }
}

/// The deep operator network (Lu et al. 2021) in DeepXDE's form.
///
/// ```
/// x: [B, in, n₁, …, n_d]  →  y: [B, out, n₁, …, n_d]
/// s      = sensors(x)                     [B, in·S]   (every stride-th point; other grids interpolated)
/// β      = branch(s)                      [B, out·p]  FNN in·S → widths…, no final activation
///          or branch(flatten(σ(conv_L(… σ(conv_1(s as [B, in, S₁, S₂]))))))   (convolutional branch)
/// τ      = σ(trunk(points(n₁, …, n_d)))   [N, out·p]  FNN d → widths…, then σ (as DeepXDE)
/// y[b,c] = Σ_k β[b, c·p+k] τ[:, c·p+k] + bias[c]
/// ```
///
/// The trunk's points are the grid of the input in the configured ``GridAxisDomain``s, so a model
/// evaluates on any grid of the same domain (`pdekit predict --resolution`), and
/// ``callAsFunction(_:at:)`` evaluates at arbitrary points. Parameters (DeepXDE state_dict keys in
/// brackets):
///
/// ```
/// branch.convs.{i}.weight   [out, in, k, k]  (convolutional branch only; PyTorch Conv2d layout)
/// branch.convs.{i}.bias     [out]
/// branch.linears.{i}.weight [out, in]   [branch.linears.{i}.weight]
/// branch.linears.{i}.bias   [out]       [branch.linears.{i}.bias]
/// trunk.linears.{i}.weight  [out, in]   [trunk.linears.{i}.weight]
/// trunk.linears.{i}.bias    [out]       [trunk.linears.{i}.bias]
/// bias                      [outputs]   [b.{c}] (one scalar per output)
/// ```
///
/// ```swift
/// let model = DeepONet<Float>(config, seed: 0)
/// let y = model(Tensor(x))                            // [B, 1, 100] → [B, 1, 100]
/// let z = model(Tensor(x), at: Tensor(points))        // points [N, 1] → [B, 1, N]
/// ```
///
/// ### See Also
/// - ``PODDeepONet``
/// - ``cartesianProduct(_:_:outputs:)``
/// - ``alignedProduct(_:_:outputs:)``
public struct DeepONet<T: RealScalar>: Module {
  public typealias Scalar = T
  /// The hyperparameters.
  public let configuration: DeepONetConfiguration
  /// Convolutions of the branch for 2D inputs (nil: a fully connected branch).
  public var branchConvolutions: ConvolutionalBranch<T>?
  /// Fully connected part of the branch network (sensor values or flattened feature maps → features).
  public var branch: FullyConnectedNetwork<T>
  /// Trunk network (coordinates → features).
  public var trunk: FullyConnectedNetwork<T>
  /// Output bias, one per output channel (DeepXDE initializes it to 0).
  public var bias: Tensor<T>

  /// A model initialized from `seed` (branch convolutions, branch, then trunk, from one Philox stream).
  public init(_ configuration: DeepONetConfiguration, seed: UInt64) {
    do { try configuration.validate() } catch { preconditionFailure("\(error)") }
    self.configuration = configuration
    var rng = PhiloxRandom(seed: seed)
    let c = configuration
    branchConvolutions = c.convolutionalBranch.map {
      ConvolutionalBranch($0, inChannels: c.inChannels, activation: c.activation, rng: &rng)
    }
    branch = FullyConnectedNetwork(widths: [c.branchInputWidth!] + c.branchWidths, activation: c.activation, rng: &rng)
    trunk = FullyConnectedNetwork(widths: [c.dimensions] + c.trunkWidths, activation: c.activation, rng: &rng)
    bias = Tensor(NDArray(shape: [c.outChannels], repeating: 0))
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    if branchConvolutions != nil { branchConvolutions!.visitParameters { body("branch." + $0, &$1) } }
    branch.visitParameters { body("branch." + $0, &$1) }
    trunk.visitParameters { body("trunk." + $0, &$1) }
    body("bias", &bias)
  }

  /// Branch features `[B, out·p]` of a batch of input functions `[B, in, grid…]`.
  public func branchFeatures(_ x: Tensor<T>) -> Tensor<T> {
    let c = configuration
    precondition(
      x.rank == c.dimensions + 2 && x.shape[1] == c.inChannels,
      "DeepONet expects [batch, \(c.inChannels), \(c.dimensions) spatial axes], got \(x.shape)")
    let s = sensorValues(x.value, sensorGrid: c.sensorGrid, stride: c.sensorStride, domain: c.domain)
    return branch(branchDenseInput(s, convolutions: branchConvolutions, extents: c.sensorExtents))
  }

  /// Trunk features `[..., out·p]` of points `[..., d]` (with the trunk's final activation).
  public func trunkFeatures(_ points: Tensor<T>) -> Tensor<T> {
    precondition(
      points.rank >= 1 && points.shape.last == configuration.dimensions,
      "DeepONet query points must end in \(configuration.dimensions) coordinates, got \(points.shape)")
    return configuration.activation(trunk(points))
  }

  /// Cartesian-product form at arbitrary points: `x` [B, in, grid…], `points` [N, d] → [B, out, N].
  public func callAsFunction(_ x: Tensor<T>, at points: Tensor<T>) -> Tensor<T> {
    precondition(points.rank == 2, "DeepONet points must be [N, d], got \(points.shape)")
    let y = cartesianProduct(branchFeatures(x), trunkFeatures(points), outputs: configuration.outChannels)
    return y + bias.reshaped([1, configuration.outChannels, 1])
  }

  /// Aligned (unstacked) form: sample b at its own points, `points` [B, M, d] → [B, out, M].
  public func callAsFunction(_ x: Tensor<T>, alignedAt points: Tensor<T>) -> Tensor<T> {
    precondition(
      points.rank == 3 && points.shape[0] == x.shape[0],
      "DeepONet aligned points must be [\(x.shape[0]), M, d], got \(points.shape)")
    let y = alignedProduct(branchFeatures(x), trunkFeatures(points), outputs: configuration.outChannels)
    return y + bias.reshaped([1, configuration.outChannels, 1])
  }

  /// The operator on the input's own grid: `[B, in, n₁, …]` → `[B, out, n₁, …]`.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    let grid = Array(x.shape.dropFirst(2))
    let points: NDArray<T> = gridPoints(grid, domain: configuration.domain)
    return self(x, at: Tensor(points)).reshaped([x.shape[0], configuration.outChannels] + grid)
  }
}

extension DeepONet: NeuralOperator {
  public static var modelName: String { "deeponet" }
  public var inputChannels: Int { configuration.inChannels }
  public var outputChannels: Int { configuration.outChannels }
  public var spatialDimensions: Int { configuration.dimensions }

  public static func validate(_ configuration: DeepONetConfiguration) throws { try configuration.validate() }

  public static var evaluatesAtQueryPoints: Bool { true }

  /// The Cartesian-product form at the points `indices` (all if nil) of the grid `grid` of the
  /// configured domain: `x` [B, in, any grid…] → [B, out, points]. The branch sees `x` (interpolated
  /// to the sensors if it is on another grid), the trunk the query coordinates.
  public func callAsFunction(_ x: Tensor<T>, queryGrid grid: [Int], indices: [Int]?) -> Tensor<T>? {
    precondition(
      grid.count == configuration.dimensions && grid.allSatisfy { $0 >= 1 },
      "DeepONet query grid \(grid) must have \(configuration.dimensions) positive extents")
    let points: NDArray<T> = gridPoints(grid, domain: configuration.domain, indices: indices)
    return self(x, at: Tensor(points))
  }

  public static func storageCount(_ c: DeepONetConfiguration) -> Int? {
    guard let inputs = c.branchInputWidth,
      let convolutions = ConvolutionalBranchConfiguration.parameterCount(
        c.convolutionalBranch, inChannels: c.inChannels, extents: c.sensorExtents)
    else { return nil }
    return CheckedCount.sum([
      convolutions,
      CheckedCount.denseLayers([inputs] + c.branchWidths), CheckedCount.denseLayers([c.dimensions] + c.trunkWidths),
      c.outChannels,
    ])
  }
}
