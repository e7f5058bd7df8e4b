// The spectral convolution layer of the Fourier neural operator, as neuraloperator's dense
// `SpectralConv` (neuralop/layers/spectral_convolution.py): weights on a block of low Fourier
// modes, complex, stored here as real/imaginary pairs; a bias per output channel.
import Numerics

/// Convolution with a learned kernel parameterized by its low Fourier modes.
///
/// ```
/// x: [B, in, n₁, …, n_d]  →  y: [B, out, n₁, …, n_d]           d = 1, 2, 3
/// y = irfftn( W ⊙_channels rfftn(x, norm: forward)|kept modes, s: (n₁, …, n_d), norm: forward ) + bias
/// Y[b, o, k] = Σᵢ X[b, i, k] · W[i, o, k]                        ("bixy,ioxy->boxy")
/// ```
///
/// `modes` = (K₁, …, K_d) as neuraloperator's `n_modes`: K_a centred frequencies
/// (−K_a/2 … K_a/2 − 1) on each axis but the last, and K_d/2 + 1 non-negative ones on the last.
/// The weight is complex, stored as `[in, out, K₁, …, K_{d−1}, K_d/2 + 1, 2]` (real, imaginary):
/// neuraloperator's `weight.tensor` under `torch.view_as_real`.
///
/// Initialization (neuraloperator's `init_std="auto"`):
///
/// ```
/// σ = √(2 / (in + out))
/// Re W, Im W ~ N(0, σ²/2)        (complex normal of standard deviation σ)
/// bias ~ N(0, σ²)                 [out, 1, …, 1]
/// ```
///
/// The layer is resolution independent: the same weights apply to any grid with at least the
/// kept modes (zero-shot super-resolution); on a coarser grid the block is cut as neuraloperator
/// cuts it.
///
/// ```swift
/// var rng = PhiloxRandom(seed: 0)
/// let conv = SpectralConv<Float>(inChannels: 32, outChannels: 32, modes: [12, 12], rng: &rng)
/// let y = conv(x)                        // [B, 32, 64, 64] → [B, 32, 64, 64]
/// ```
///
/// ### See Also
/// - ``spectralConvolution(_:weight:bias:modes:transform:)``
/// - ``FNOBlock``
public struct SpectralConv<T: RealScalar>: Module {
  public typealias Scalar = T
  /// Complex weight as real/imaginary pairs, [in, out, K₁, …, K_d/2 + 1, 2].
  public var weight: Tensor<T>
  /// Bias, [out, 1, …, 1], or nil.
  public var bias: Tensor<T>?
  /// Mode counts (K₁, …, K_d), neuraloperator's `n_modes`.
  public let modes: [Int]
  /// How the kept modes are computed (FFTW or the pruned DFT; equal to rounding). Not a
  /// parameter and not saved in checkpoints; `.automatic` picks the faster for the input's grid.
  public var transform: SpectralTransform = .automatic

  /// A layer with neuraloperator's initialization drawn from `rng`.
  public init(inChannels: Int, outChannels: Int, modes: [Int], bias: Bool = true, rng: inout PhiloxRandom) {
    precondition((1...3).contains(modes.count), "SpectralConv supports 1–3 spatial axes, got modes \(modes)")
    let std = (2 / Double(inChannels + outChannels)).squareRoot()
    self.modes = modes
    weight = normalParameter(
      spectralWeightShape(inChannels: inChannels, outChannels: outChannels, modes: modes),
      std: std / 2.0.squareRoot(), rng: &rng)
    self.bias =
      bias ? normalParameter([outChannels] + Array(repeating: 1, count: modes.count), std: std, rng: &rng) : nil
  }

  /// A layer with the given weight ([in, out, K₁, …, K_d/2 + 1, 2]) and bias ([out, 1, …, 1]).
  public init(weight: NDArray<T>, bias: NDArray<T>?, modes: [Int]) {
    precondition(weight.rank == modes.count + 3, "SpectralConv weight \(weight.shape) does not match modes \(modes)")
    precondition(
      weight.shape == spectralWeightShape(inChannels: weight.shape[0], outChannels: weight.shape[1], modes: modes),
      "SpectralConv weight \(weight.shape) does not match modes \(modes)")
    self.modes = modes
    self.weight = Tensor(weight)
    self.bias = bias.map { Tensor($0) }
  }

  /// Input channels.
  public var inChannels: Int { weight.shape[0] }
  /// Output channels.
  public var outChannels: Int { weight.shape[1] }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    body("weight", &weight)
    if bias != nil { body("bias", &bias!) }
  }

  /// Applies the spectral convolution on the input's grid.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    spectralConvolution(x, weight: weight, bias: bias, modes: modes, transform: transform)
  }
}
