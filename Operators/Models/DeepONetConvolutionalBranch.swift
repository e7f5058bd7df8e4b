// The convolutional branch of DeepONet for inputs on a 2D grid: strided convolutions without
// padding, each followed by the network's activation, whose flattened feature maps feed the
// fully connected part of the branch. This is the branch Lu et al. 2022 use for the Darcy
// problems (29×29 sensors → Conv2D(64, 5×5, stride 2) → Conv2D(128, 5×5, stride 2) → flatten →
// Dense 128 → Dense 128, ReLU), built there from Keras layers inside DeepXDE's
// `DeepONetCartesianProd`.
//
// Differences from that script: PDEKit initializes the convolutions Glorot normal (DeepXDE's
// initializer name) where Keras defaults to Glorot uniform, and the layout is channels-first.
//
// References: L. Lu, X. Meng, S. Cai, Z. Mao, S. Goswami, Z. Zhang, G. E. Karniadakis, "A
// comprehensive and fair comparison of two neural operators (with practical extensions) based on
// FAIR data", Comput. Methods Appl. Mech. Eng. 393, 114778 (2022), §3.1 and Appendix; the
// authors' code lu-group/deeponet-fno `src/darcy_rectangular_pwc/deeponet.py`.
import Numerics

/// The convolutional part of a DeepONet branch: how many convolutions, their channels, kernel and
/// stride.
///
/// ```swift
/// // Lu et al. 2022's Darcy branch: two 5×5 convolutions with stride 2, 64 and 128 channels
/// let cnn = ConvolutionalBranchConfiguration(channels: [64, 128], kernelSize: 5, stride: 2)
/// ```
public struct ConvolutionalBranchConfiguration: Codable, Sendable, Equatable {
  /// Output channels of each convolution, in order.
  public var channels: [Int]
  /// Kernel extent (square) of every convolution.
  public var kernelSize: Int
  /// Stride of every convolution.
  public var stride: Int

  /// A configuration (defaults: Lu et al. 2022's Darcy branch).
  public init(channels: [Int] = [64, 128], kernelSize: Int = 5, stride: Int = 2) {
    self.channels = channels
    self.kernelSize = kernelSize
    self.stride = stride
  }

  /// Channels and extents of the feature map after each convolution of an input of extents
  /// `grid`. Throws ``OperatorsError/invalidArgument(_:)`` when the grid is not 2D, a value is out
  /// of range or a kernel does not fit its input.
  public func featureMaps(grid: [Int]) throws -> [(channels: Int, extents: [Int])] {
    func bad(_ s: String) -> OperatorsError { .invalidArgument("DeepONet convolutional branch: \(s)") }
    guard grid.count == 2 else {
      throw bad("needs inputs on a 2D grid, got a \(grid.count)D grid; use the MLP branch for 1D and 3D data")
    }
    guard !channels.isEmpty, channels.allSatisfy({ (1...(1 << 16)).contains($0) }) else {
      throw bad("needs at least one convolution with 1...65536 channels, got \(channels)")
    }
    guard (1...(1 << 10)).contains(kernelSize), (1...(1 << 10)).contains(stride) else {
      throw bad("kernel size and stride must be in 1...1024, got \(kernelSize) and \(stride)")
    }
    var maps: [(channels: Int, extents: [Int])] = []
    var extents = grid
    for (i, c) in channels.enumerated() {
      let next = extents.compactMap { convolutionOutputExtent($0, kernel: kernelSize, stride: stride) }
      guard next.count == 2 else {
        throw bad(
          "convolution \(i + 1) has a \(kernelSize)×\(kernelSize) kernel but its input is only "
            + "\(extents[0])×\(extents[1]); use fewer convolutions, a smaller kernel or stride, or more sensors "
            + "(a smaller --sensor-stride)")
      }
      extents = next
      maps.append((c, extents))
    }
    return maps
  }
}

extension ConvolutionalBranchConfiguration {
  /// Input width of the fully connected layers after the convolutions: the size of the flattened
  /// last feature map for inputs `[inChannels] + extents`, or without convolutions (`cnn` nil)
  /// `inChannels × Π extents`; nil if the convolutions do not fit or the size overflows.
  static func denseInputWidth(_ cnn: ConvolutionalBranchConfiguration?, inChannels: Int, extents: [Int]) -> Int? {
    guard let cnn else { return CheckedCount.product([inChannels] + extents) }
    guard let last = (try? cnn.featureMaps(grid: extents))?.last else { return nil }
    return CheckedCount.product([last.channels] + last.extents)
  }

  /// Weights and biases of the convolutions for `inChannels` input channels on `extents` (0 without
  /// convolutions); nil if they do not fit or the count overflows.
  static func parameterCount(_ cnn: ConvolutionalBranchConfiguration?, inChannels: Int, extents: [Int]) -> Int? {
    guard let cnn else { return 0 }
    guard let maps = try? cnn.featureMaps(grid: extents) else { return nil }
    let ins = [inChannels] + maps.dropLast().map(\.channels)
    return CheckedCount.sum(
      zip(ins, maps).map { cin, map in
        CheckedCount.sum([CheckedCount.product([map.channels, cin, cnn.kernelSize, cnn.kernelSize]), map.channels])
      })
  }

  /// Throws unless the convolutions (if any) fit inputs of `extents` and their output size is countable.
  static func check(_ cnn: ConvolutionalBranchConfiguration?, inChannels: Int, extents: [Int], model: String) throws {
    guard let cnn else { return }
    _ = try cnn.featureMaps(grid: extents)
    guard denseInputWidth(cnn, inChannels: inChannels, extents: extents) != nil,
      parameterCount(cnn, inChannels: inChannels, extents: extents) != nil
    else {
      throw OperatorsError.invalidArgument("\(model): the convolutional branch's size overflows")
    }
  }
}

/// The branch's input for the dense layers: the sensor values `s` [B, in·S] as they are, or passed
/// through `convs` as images [B, in, extents…] and flattened.
func branchDenseInput<T: RealScalar>(_ s: NDArray<T>, convolutions convs: ConvolutionalBranch<T>?, extents: [Int])
  -> Tensor<T>
{
  guard let convs else { return Tensor(s) }
  let batch = s.shape[0]
  return convs(Tensor(s.reshaped([batch, s.shape[1] / Swift.max(1, extents.reduce(1, *))] + extents)))
}

/// Strided convolutions, each followed by an activation, then flattened: the convolutional part
/// of a DeepONet branch.
///
/// ```
/// h₀ = x                               [B, in, n₁, n₂]
/// hᵢ = σ(convᵢ(hᵢ₋₁))                   [B, channelsᵢ, ⌊(nᵢ₋₁ − k)/s⌋ + 1, …]
/// y  = flatten(h_L)                     [B, channels_L · n₁' · n₂']     (channel slowest)
/// ```
///
/// Parameters `convs.{i}.weight` [out, in, k, k] and `convs.{i}.bias` [out] (PyTorch's
/// `Conv2d` layout), Glorot-normal weights and zero biases.
///
/// ### See Also
/// - ``Conv2D``
/// - ``DeepONet``
public struct ConvolutionalBranch<T: RealScalar>: Module {
  public typealias Scalar = T
  /// The convolutions.
  public var convs: [Conv2D<T>]
  /// The activation after every convolution.
  public let activation: DeepONetActivation

  /// Convolutions from `inChannels` through `configuration.channels`, weights drawn from `rng`.
  public init(
    _ configuration: ConvolutionalBranchConfiguration, inChannels: Int, activation: DeepONetActivation,
    rng: inout PhiloxRandom
  ) {
    self.activation = activation
    let ins = [inChannels] + configuration.channels.dropLast()
    convs = zip(ins, configuration.channels).map { cin, cout in
      Conv2D(cin, cout, kernelSize: configuration.kernelSize, stride: configuration.stride, rng: &rng)
    }
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    for i in convs.indices { convs[i].visitParameters { body("convs.\(i)." + $0, &$1) } }
  }

  /// The flattened feature maps `[B, features]` of `x` [B, in, n₁, n₂].
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    var h = x
    for conv in convs { h = activation(conv(h)) }
    return h.reshaped([h.shape[0], h.shape.dropFirst().reduce(1, *)])
  }
}
