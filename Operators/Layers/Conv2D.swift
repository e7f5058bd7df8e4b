// A strided 2D convolution layer without padding (torch.nn.Conv2d(in, out, k, stride=s) and
// Keras' Conv2D(out, k, strides=s) with their default "valid" padding), initialized as DeepXDE
// initializes its networks (Glorot normal weights, zero biases).
import Numerics

/// A two-dimensional convolution with a square kernel, a stride and no padding.
///
/// ```
/// y[b, o, oy, ox] = Σ_{c,i,j} W[o, c, i, j] · x[b, c, oy·s + i, ox·s + j] + bias[o]
///     x: [B, in, H, W],  W: [out, in, k, k],  bias: [out],  y: [B, out, ⌊(H−k)/s⌋+1, ⌊(W−k)/s⌋+1]
/// ```
///
/// Initialization (DeepXDE's "Glorot normal", `torch.nn.init.xavier_normal_` on the 4-D weight):
///
/// ```
/// W ~ N(0, 2 / (in·k² + out·k²))   [out, in, k, k]
/// bias = 0                          [out]
/// ```
///
/// ```swift
/// var rng = PhiloxRandom(seed: 0)
/// let conv = Conv2D<Float>(1, 64, kernelSize: 5, stride: 2, rng: &rng)
/// let y = conv(Tensor(x))              // [B, 1, 29, 29] → [B, 64, 13, 13]
/// ```
///
/// ### See Also
/// - ``conv2d(_:weight:bias:stride:)``
/// - ``ConvolutionalBranch``
public struct Conv2D<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Weight, shape [out, in, k, k].
  public var weight: Tensor<T>
  /// Bias, shape [out].
  public var bias: Tensor<T>
  /// Step between receptive fields on both axes.
  public let stride: Int

  /// A layer with Glorot-normal weights drawn from `rng` and zero biases.
  public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int, rng: inout PhiloxRandom) {
    precondition(
      inChannels >= 1 && outChannels >= 1 && kernelSize >= 1 && stride >= 1,
      "Conv2D needs positive channels, kernel size and stride, got \(inChannels) → \(outChannels), "
        + "k \(kernelSize), s \(stride)")
    let area = Double(kernelSize * kernelSize)
    let std = (2 / (Double(inChannels) * area + Double(outChannels) * area)).squareRoot()
    weight = normalParameter([outChannels, inChannels, kernelSize, kernelSize], std: std, rng: &rng)
    bias = Tensor(NDArray(shape: [outChannels], repeating: 0))
    self.stride = stride
  }

  /// Input channels.
  public var inChannels: Int { weight.shape[1] }
  /// Output channels.
  public var outChannels: Int { weight.shape[0] }
  /// Kernel extent on both axes.
  public var kernelSize: Int { weight.shape[2] }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    body("weight", &weight)
    body("bias", &bias)
  }

  /// The convolution of `x` [B, in, H, W].
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    conv2d(x, weight: weight, bias: bias, stride: stride)
  }
}
