// The module pattern: a layer or model is a value whose parameters are `Tensor`s with stable,
// dot-separated names ("blocks.0.spectral.weight"), visited in a fixed order. Differentiation
// binds a copy of the module to a fresh tape (every parameter becomes a tape variable), runs the
// forward pass, and returns the gradients by name. Optimizers update the module in place by name.
import Numerics

/// A value with named, trainable parameters.
///
/// Conforming types implement one requirement, ``visitParameters(_:)``, which calls its body once
/// per parameter — a module's own tensors and, with a name prefix, those of its submodules — in a
/// fixed order. Everything else (counting, reading, loading, differentiation, optimizer updates)
/// is built on it:
///
/// ```swift
/// struct TwoLayer: Module {
///   var first: PointwiseConv<Float>
///   var second: PointwiseConv<Float>
///   mutating func visitParameters(_ body: (String, inout Tensor<Float>) -> Void) {
///     first.visitParameters { body("first." + $0, &$1) }
///     second.visitParameters { body("second." + $0, &$1) }
///   }
///   func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { second(gelu(first(x))) }
/// }
/// ```
///
/// ### See Also
/// - `valueAndGradient(at:in:)`
/// - ``Gradients``
public protocol Module<Scalar>: Sendable {
  /// The element type of the parameters (Float for training, Double for gradient checks).
  associatedtype Scalar: RealScalar

  /// Calls `body(name, &parameter)` for every parameter, in a fixed order, with stable names.
  /// `body` may replace a parameter by one of the same shape.
  mutating func visitParameters(_ body: (_ name: String, _ parameter: inout Tensor<Scalar>) -> Void)
}

extension Module {
  /// The parameters by name, in visiting order.
  public func namedParameters() -> [(name: String, value: NDArray<Scalar>)] {
    var copy = self
    var out: [(name: String, value: NDArray<Scalar>)] = []
    copy.visitParameters { name, p in out.append((name, p.value)) }
    return out
  }

  /// Number of real scalars in all parameters (a complex weight stored as real/imaginary pairs
  /// counts twice, as neuraloperator's parameter count).
  public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.value.count } }

  /// Replaces parameters by name. Throws if a name is unknown or a shape differs; parameters not
  /// in `values` are left unchanged unless `requireAll` is true, in which case they are an error.
  public mutating func loadParameters(_ values: [String: NDArray<Scalar>], requireAll: Bool = true) throws {
    var known = Set<String>()
    var problems: [String] = []
    visitParameters { name, p in
      known.insert(name)
      guard let v = values[name] else {
        if requireAll { problems.append("missing parameter \(name)") }
        return
      }
      guard v.shape == p.shape else {
        problems.append("parameter \(name) has shape \(v.shape), expected \(p.shape)")
        return
      }
      p = Tensor(v)
    }
    for name in values.keys.sorted() where !known.contains(name) { problems.append("unknown parameter \(name)") }
    guard problems.isEmpty else { throw OperatorsError.parameterMismatch(problems) }
  }

  /// Applies `update(name, &value)` to every parameter array (used by optimizers).
  public mutating func updateParameters(_ update: (_ name: String, _ value: inout NDArray<Scalar>) -> Void) {
    visitParameters { name, p in
      var v = p.value
      update(name, &v)
      p = Tensor(v)
    }
  }
}

/// Gradients of a scalar with respect to a module's parameters, by name, in visiting order.
///
/// ```swift
/// let (loss, grads) = valueAndGradient(at: model) { m in lpLoss(m(x), y) }
/// grads["lifting.fcs.0.weight"]            // NDArray of the parameter's shape
/// let norm = grads.clipByGlobalNorm(1.0)   // in place, returns the norm before clipping
/// ```
public struct Gradients<Scalar: RealScalar>: Sendable {
  /// Parameter names, in the module's visiting order.
  public private(set) var names: [String]
  /// One gradient per name.
  public var arrays: [NDArray<Scalar>]
  private var index: [String: Int]

  /// Gradients from parallel name and array lists.
  public init(names: [String], arrays: [NDArray<Scalar>]) {
    precondition(names.count == arrays.count, "\(names.count) names for \(arrays.count) arrays")
    self.names = names
    self.arrays = arrays
    index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($0.element, $0.offset) })
  }

  /// The gradient of parameter `name`, if present.
  public subscript(name: String) -> NDArray<Scalar>? {
    get { index[name].map { arrays[$0] } }
    set {
      guard let i = index[name], let newValue else { return }
      arrays[i] = newValue
    }
  }

  /// √(Σ over all entries of all gradients of g²), accumulated in Double.
  public var globalNorm: Double { sumOfSquares(arrays).squareRoot() }

  /// Scales all gradients by min(1, maxNorm / (norm + 1e-6)) where norm is the global norm, as
  /// `torch.nn.utils.clip_grad_norm_`; returns the norm before clipping.
  ///
  /// ```
  /// norm = √(Σᵢ ‖gᵢ‖²);   if maxNorm / (norm + 1e-6) < 1:  gᵢ ← gᵢ · maxNorm / (norm + 1e-6)
  /// ```
  @discardableResult
  public mutating func clipByGlobalNorm(_ maxNorm: Double) -> Double {
    let norm = globalNorm
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
      let c = Scalar(coefficient)
      for i in arrays.indices { arrays[i].withUnsafeMutableBufferPointer { BLAS.scal(c, $0) } }
    }
    return norm
  }
}

/// Σ over all entries of all arrays of x², accumulated in Double in order. Specialized: the
/// generic loop converts each element through `RealScalar`'s witnesses (~100× slower, a tenth
/// of an FNO training step before it was specialized).
@specialized(where T == Float)
@specialized(where T == Double)
func sumOfSquares<T: RealScalar>(_ arrays: [NDArray<T>]) -> Double {
  var s = 0.0
  for a in arrays {
    a.withUnsafeBufferPointer { p in
      for i in 0..<p.count { s += Double(p[i]) * Double(p[i]) }
    }
  }
  return s
}

/// Evaluates `body` on `model` with every parameter tracked and returns its scalar value and the
/// gradients of that value with respect to the parameters.
///
/// ```swift
/// let (loss, grads) = valueAndGradient(at: model) { m in
///   LpLoss(spatialDimensions: 2)(m(Tensor(x)), Tensor(y))
/// }
/// optimizer.update(&model, along: grads)
/// ```
///
/// `model` itself is not modified; a copy is bound to a fresh ``Tape``.
public func valueAndGradient<M: Module>(at model: M, in body: (M) throws -> Tensor<M.Scalar>) rethrows
  -> (value: M.Scalar, gradients: Gradients<M.Scalar>)
{
  let tape = Tape<M.Scalar>()
  var bound = model
  var names: [String] = []
  var leaves: [Tensor<M.Scalar>] = []
  bound.visitParameters { name, p in
    p = tape.variable(p.value)
    names.append(name)
    leaves.append(p)
  }
  let out = try body(bound)
  precondition(out.count == 1, "valueAndGradient needs a one-element result, got shape \(out.shape)")
  let grads =
    out.tape === tape
    ? tape.gradients(of: out, withRespectTo: leaves, releasingGraph: true) : leaves.map { NDArray.zeros($0.shape) }
  return (out.scalar, Gradients(names: names, arrays: grads))
}

/// Errors raised by the Operators library.
public enum OperatorsError: Error, CustomStringConvertible, Equatable {
  /// Loaded parameters do not match a module's names or shapes.
  case parameterMismatch([String])
  /// An argument is outside its valid range.
  case invalidArgument(String)
  /// A file is malformed (checkpoints).
  case malformedFile(String)

  public var description: String {
    switch self {
    case .parameterMismatch(let problems):
      return "parameters do not match the model: " + problems.joined(separator: "; ")
    case .invalidArgument(let s): return "invalid argument: \(s)"
    case .malformedFile(let s): return "malformed file: \(s)"
    }
  }
}

/// Fills a parameter with U(−bound, bound) draws (PyTorch's default for Linear and Conv weights
/// and biases: bound = 1/√fan_in).
func uniformParameter<T: RealScalar>(_ shape: [Int], bound: Double, rng: inout PhiloxRandom) -> Tensor<T> {
  Tensor(
    NDArray<T>(shape: shape) { p in
      for i in 0..<p.count { p[i] = T((2 * rng.nextOpenUnit() - 1) * bound) }
    })
}

/// Fills a parameter with N(0, std²) draws.
func normalParameter<T: RealScalar>(_ shape: [Int], std: Double, rng: inout PhiloxRandom) -> Tensor<T> {
  Tensor(
    NDArray<T>(shape: shape) { p in
      for i in 0..<p.count { p[i] = T(std * rng.nextGaussian()) }
    })
}
