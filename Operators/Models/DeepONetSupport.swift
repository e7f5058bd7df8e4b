// Pieces shared by DeepONet and POD-DeepONet: DeepXDE's fully connected network (`FNN`, Glorot
// normal weights, zero biases, activation after every layer but the last), the activations it
// offers here, the domain of each grid axis (so the trunk sees the same coordinates that
// `pdekit predict --resolution` interpolates to), and the sensor sampling of the branch input.
import Numerics

/// Activation of DeepONet's branch and trunk networks (DeepXDE's names).
public enum DeepONetActivation: String, Codable, Sendable, CaseIterable {
  /// max(x, 0), DeepXDE's antiderivative tutorial.
  case relu
  /// tanh(x), the DeepONet paper's default.
  case tanh
  /// x·Φ(x), exact GELU.
  case gelu

  @inline(__always) func callAsFunction<T: RealScalar>(_ x: Tensor<T>) -> Tensor<T> {
    switch self {
    case .relu: return Operators.relu(x)
    case .tanh: return Operators.tanh(x)
    case .gelu: return Operators.gelu(x)
    }
  }
}

/// How a grid axis covers its interval, read off a file's coordinates and used to place points on
/// any other number of points of the same interval.
///
/// ```
/// nodal         x_i = lower + i·(upper − lower)/(n − 1)        (both ends are grid points)
/// cellCentred   x_i = lower + (i + ½)·(upper − lower)/n
/// periodic      x_i = lower + i·(upper − lower)/n              (upper is lower's image)
/// ```
public struct GridAxisDomain: Codable, Sendable, Equatable {
  /// The three layouts above.
  public enum Layout: String, Codable, Sendable {
    /// Both ends are grid points.
    case nodal
    /// Points at the cell centres.
    case cellCentred = "cell-centred"
    /// The first point on the lower end, the last one a spacing short of the upper end.
    case periodic
  }
  /// Lower end of the interval.
  public var lower: Double
  /// Upper end of the interval.
  public var upper: Double
  /// Where the points sit.
  public var layout: Layout

  /// A domain with an explicit layout.
  public init(lower: Double = 0, upper: Double = 1, layout: Layout = .nodal) {
    self.lower = lower
    self.upper = upper
    self.layout = layout
  }

  /// The domain of an axis with coordinates `values` (the rule `pdekit predict` uses).
  public init(coordinates values: [Double]) {
    switch AxisLayout(values) {
    case .nodal(let a, let b): self.init(lower: a, upper: b, layout: .nodal)
    case .cellCentred(let a, let b): self.init(lower: a, upper: b, layout: .cellCentred)
    case .periodic(let a, let b): self.init(lower: a, upper: b, layout: .periodic)
    }
  }

  /// `n` points of this axis.
  public func points(_ n: Int) -> [Double] {
    switch layout {
    case .nodal: return AxisLayout.nodal(lower: lower, upper: upper).points(n)
    case .cellCentred: return AxisLayout.cellCentred(lower: lower, upper: upper).points(n)
    case .periodic: return AxisLayout.periodic(lower: lower, upper: upper).points(n)
    }
  }

  /// Default domains: [0, 1] with nodal points on every axis (DeepXDE's `linspace(0, 1, n)`).
  public static func unit(_ dimensions: Int) -> [GridAxisDomain] {
    Array(repeating: GridAxisDomain(), count: dimensions)
  }
}

/// The query points of a grid, `[n₁·…·n_d, d]`, first axis slowest (the order of `[B, C, n₁, …]`).
func gridPoints<T: RealScalar>(_ shape: [Int], domain: [GridAxisDomain]) -> NDArray<T> {
  let axes = zip(shape, domain).map { n, d in d.points(n) }
  let d = shape.count
  let count = shape.reduce(1, *)
  return NDArray<T>(shape: [count, d]) { p in
    var index = [Int](repeating: 0, count: d)
    for row in 0..<count {
      for a in 0..<d { p[row * d + a] = T(axes[a][index[a]]) }
      var a = d - 1
      while a >= 0 {
        index[a] += 1
        if index[a] < shape[a] { break }
        index[a] = 0
        a -= 1
      }
    }
  }
}

/// The points `indices` (flat, first axis slowest; nil: all) of a grid, `[indices.count, d]`.
func gridPoints<T: RealScalar>(_ shape: [Int], domain: [GridAxisDomain], indices: [Int]?) -> NDArray<T> {
  guard let indices else { return gridPoints(shape, domain: domain) }
  let axes = zip(shape, domain).map { n, d in d.points(n) }
  let d = shape.count
  let strides = contiguousStrides(shape)
  let count = shape.reduce(1, *)
  return NDArray<T>(shape: [indices.count, d]) { p in
    for (row, flat) in indices.enumerated() {
      precondition(flat >= 0 && flat < count, "grid point index \(flat) outside 0..<\(count)")
      for a in 0..<d { p[row * d + a] = T(axes[a][(flat / strides[a]) % shape[a]]) }
    }
  }
}

/// The branch input of a batch: the sensors (every `stride`-th point of the sensor grid per axis)
/// of each channel, flattened to `[B, C·S]`. Inputs on another grid of the same domain are first
/// interpolated multilinearly to the sensor grid. Inputs are data: no gradient flows to them.
func sensorValues<T: RealScalar>(
  _ x: NDArray<T>, sensorGrid: [Int], stride: [Int], domain: [GridAxisDomain]
) -> NDArray<T> {
  let grid = Array(x.shape.dropFirst(2))
  var onGrid = x
  if grid != sensorGrid {
    onGrid = resample(
      x, from: zip(grid, domain).map { $1.points($0) }, to: zip(sensorGrid, domain).map { $1.points($0) })
  }
  let (b, c) = (x.shape[0], x.shape[1])
  let picked = zip(sensorGrid, stride).map { n, s in (n + s - 1) / s }
  if stride.allSatisfy({ $0 == 1 }) { return onGrid.reshaped([b, c * picked.reduce(1, *)]) }
  let d = sensorGrid.count
  let sensors = picked.reduce(1, *)
  let strides = contiguousStrides(sensorGrid)
  // Offsets of the picked points within one field.
  var offsets = [Int](repeating: 0, count: sensors)
  var index = [Int](repeating: 0, count: d)
  for k in 0..<sensors {
    offsets[k] = (0..<d).reduce(0) { $0 + index[$1] * stride[$1] * strides[$1] }
    var a = d - 1
    while a >= 0 {
      index[a] += 1
      if index[a] < picked[a] { break }
      index[a] = 0
      a -= 1
    }
  }
  let field = sensorGrid.reduce(1, *)
  return onGrid.withUnsafeBufferPointer { src in
    NDArray<T>(shape: [b, c * sensors]) { dst in
      for f in 0..<(b * c) {
        let (from, to) = (src.baseAddress! + f * field, dst.baseAddress! + f * sensors)
        for k in 0..<sensors { to[k] = from[offsets[k]] }
      }
    }
  }
}

/// A fully connected network as DeepXDE's `FNN`: Linear layers with the activation after every
/// layer but the last.
///
/// ```
/// h₀ = x                       [..., widths[0]]
/// hᵢ = σ(Wᵢ hᵢ₋₁ + bᵢ)         i = 1 … L − 1
/// y  = W_L h_{L−1} + b_L       [..., widths[L]]   (no activation)
/// Wᵢ ~ N(0, 2 / (fan_in + fan_out))   (Glorot normal, torch.nn.init.xavier_normal_)
/// bᵢ = 0
/// ```
///
/// Parameters are named `linears.{i}.weight` [out, in] and `linears.{i}.bias` [out], the keys of
/// DeepXDE's PyTorch `FNN.state_dict()`.
public struct FullyConnectedNetwork<T: RealScalar>: Module {
  public typealias Scalar = T
  /// The affine layers.
  public var linears: [Linear<T>]
  /// The activation between layers.
  public let activation: DeepONetActivation

  /// A network with layer sizes `widths` (input size first), Glorot-normal weights drawn from `rng`.
  public init(widths: [Int], activation: DeepONetActivation, rng: inout PhiloxRandom) {
    precondition(widths.count >= 2 && widths.allSatisfy { $0 >= 1 }, "FullyConnectedNetwork widths \(widths)")
    self.activation = activation
    linears = (1..<widths.count).map { i in
      let (fanIn, fanOut) = (widths[i - 1], widths[i])
      let std = (2 / Double(fanIn + fanOut)).squareRoot()
      let weight: Tensor<T> = normalParameter([fanOut, fanIn], std: std, rng: &rng)
      return Linear(weight: weight.value, bias: NDArray<T>(shape: [fanOut], repeating: 0))
    }
  }

  public mutating func visitParameters(_ body: (String, inout Tensor<T>) -> Void) {
    for i in linears.indices { linears[i].visitParameters { body("linears.\(i)." + $0, &$1) } }
  }

  /// The network on the last axis of `x`.
  public func callAsFunction(_ x: Tensor<T>) -> Tensor<T> {
    var h = x
    for (i, layer) in linears.enumerated() {
      h = layer(h)
      if i < linears.count - 1 { h = activation(h) }
    }
    return h
  }
}

/// Checks shared by the DeepONet configurations; returns the problem, or nil.
func deepONetProblem(
  inChannels: Int, outChannels: Int, sensorGrid: [Int], sensorStride: [Int], domain: [GridAxisDomain]
) -> String? {
  if inChannels < 1 || outChannels < 1 { return "channels must be ≥ 1, got \(inChannels) → \(outChannels)" }
  if !(1...3).contains(sensorGrid.count) || sensorGrid.contains(where: { $0 < 1 }) {
    return "the sensor grid must have 1–3 positive extents, got \(sensorGrid)"
  }
  if (CheckedCount.product(sensorGrid) ?? .max) > 1 << 32 {
    return "the sensor grid \(sensorGrid) has more than 2^32 points"
  }
  if sensorStride.count != sensorGrid.count || sensorStride.contains(where: { $0 < 1 }) {
    return "the sensor stride \(sensorStride) must have one positive entry per grid axis (\(sensorGrid.count))"
  }
  if domain.count != sensorGrid.count { return "the domain has \(domain.count) axes, the grid \(sensorGrid.count)" }
  if domain.contains(where: { !($0.upper > $0.lower) && $0.upper != $0.lower }) {
    return "every axis domain needs lower ≤ upper, got \(domain)"
  }
  return nil
}
