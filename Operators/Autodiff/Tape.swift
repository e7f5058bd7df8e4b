// Reverse-mode automatic differentiation on an explicit tape (Wengert list).
//
// Every differentiable operation on `Tensor` values computes its result eagerly and, when one of
// its inputs is tracked, appends a node to the inputs' tape: the result's shape, the tape indices
// of its inputs, and a hand-written pullback (vector-Jacobian product) that maps a cotangent of
// the result to cotangents of the inputs. `Tape.gradients(of:seed:withRespectTo:)` replays the
// nodes in reverse order, accumulating cotangents. Inputs always precede results on the tape, so
// the recording order is a topological order and no graph sort is needed.
//
// What the tape does not do: higher-order derivatives (pullbacks are not themselves recorded),
// in-place mutation of tracked values, or complex-valued tensors (complex parameters are stored
// as real/imaginary pairs and differentiated as two real variables).
//
// Reference: A. Griewank, A. Walther, "Evaluating Derivatives", 2nd ed., SIAM 2008, ch. 3–4.
import Numerics

/// A record of operations on tracked tensors, replayed in reverse to compute gradients.
///
/// ```swift
/// let tape = Tape<Double>()
/// let x = tape.variable(NDArray<Double>.randomNormal([3, 4], seed: 1))
/// let w = tape.variable(NDArray<Double>.randomNormal([5, 4], seed: 2))
/// let loss = gelu(linear(x, weight: w)).sum()
/// let grads = tape.gradients(of: loss, withRespectTo: [x, w])   // [dL/dx, dL/dw]
/// ```
///
/// A tape is meant for one forward and backward pass at a time; recording is serialized by a lock
/// so that a tape (and the tensors that refer to it) may be passed between tasks, but concurrent
/// recording from several threads interleaves nodes and is not useful. Most code never creates a
/// tape directly: ``valueAndGradient(at:in:)`` makes one per call.
///
/// ### See Also
/// - ``Tensor``
/// - ``valueAndGradient(at:in:)``
public final class Tape<T: RealScalar>: @unchecked Sendable {
  /// Maps the cotangent of a node's result to cotangents of its inputs. `needed[i]` says whether
  /// input `i` needs one; the pullback may return nil for inputs that do not.
  public typealias Pullback = @Sendable (_ cotangent: NDArray<T>, _ needed: [Bool]) -> [NDArray<T>?]

  struct Node {
    let shape: [Int]
    let inputs: [Int]
    var pullback: Pullback?
  }

  private let nodes = Locked<[Node]>([])

  /// An empty tape.
  public init() {}

  /// Number of recorded nodes (variables and operation results).
  public var count: Int { nodes.withLock { $0.count } }

  /// Element count of every recorded node (variables and operation results), in recording order:
  /// what a forward pass holds for the backward pass, for memory accounting.
  public var recordedElementCounts: [Int] { nodes.withLock { $0.map { $0.shape.reduce(1, *) } } }

  /// Removes every node; tensors recorded earlier must not be used with this tape afterwards.
  public func reset() { nodes.withLock { $0.removeAll(keepingCapacity: true) } }

  /// Starts tracking `value`: returns a leaf tensor whose gradient can be requested.
  public func variable(_ value: NDArray<T>) -> Tensor<T> {
    let index = nodes.withLock { n in
      n.append(Node(shape: value.shape, inputs: [], pullback: nil))
      return n.count - 1
    }
    return Tensor(value: value, tape: self, index: index)
  }

  /// Appends an operation result. `inputs` are tape indices (−1 for untracked inputs).
  func record(_ value: NDArray<T>, inputs: [Int], pullback: @escaping Pullback) -> Tensor<T> {
    let index = nodes.withLock { n in
      n.append(Node(shape: value.shape, inputs: inputs, pullback: pullback))
      return n.count - 1
    }
    return Tensor(value: value, tape: self, index: index)
  }

  /// Vector-Jacobian product: the cotangents of `leaves` given the cotangent `seed` of `output`.
  ///
  /// ```
  /// gradients[i] = (∂ output / ∂ leaves[i])ᵀ · seed        (shape of leaves[i])
  /// ```
  ///
  /// - Parameters:
  ///   - output: a tensor recorded on this tape.
  ///   - seed: the cotangent of `output` (its shape); nil means ones, i.e. the gradient of the sum
  ///     of `output`'s elements (the usual case for a scalar loss).
  ///   - leaves: tensors on this tape (usually from ``variable(_:)``).
  ///   - releasingGraph: empty the tape and drop each pullback (with the forward arrays it holds)
  ///     as soon as it has run, so that memory falls during the backward pass instead of peaking
  ///     at all activations plus all cotangents. The tape cannot be differentiated again after.
  /// - Returns: one array per leaf, zeros for leaves `output` does not depend on.
  public func gradients(
    of output: Tensor<T>, seed: NDArray<T>? = nil, withRespectTo leaves: [Tensor<T>], releasingGraph: Bool = false
  ) -> [NDArray<T>] {
    precondition(output.tape === self, "gradients(of:): the output was not recorded on this tape")
    for leaf in leaves { precondition(leaf.tape === self, "gradients(of:): a leaf was not recorded on this tape") }
    if let seed {
      precondition(seed.shape == output.shape, "seed shape \(seed.shape) differs from output shape \(output.shape)")
    }
    var graph =
      releasingGraph
      ? nodes.withLock { n in
        let all = n
        n.removeAll()
        return all
      } : nodes.withLock { $0 }
    let last = output.index
    var isLeaf = [Bool](repeating: false, count: last + 1)
    for leaf in leaves where leaf.index <= last { isLeaf[leaf.index] = true }
    // needs[i]: node i lies on a path from a requested leaf (inputs precede results).
    var needs = isLeaf
    for i in 0...last where !needs[i] {
      for j in graph[i].inputs where j >= 0 && needs[j] {
        needs[i] = true
        break
      }
    }
    var cotangents = [NDArray<T>?](repeating: nil, count: last + 1)
    cotangents[last] = seed ?? NDArray(shape: output.shape, repeating: 1)
    for i in stride(from: last, through: 0, by: -1) {
      guard needs[i], let g = cotangents[i], let pullback = graph[i].pullback else { continue }
      if !isLeaf[i] { cotangents[i] = nil }
      let inputs = graph[i].inputs
      let results = pullback(g, inputs.map { $0 >= 0 && needs[$0] })
      if releasingGraph { graph[i].pullback = nil }
      precondition(
        results.count == inputs.count, "pullback returned \(results.count) cotangents for \(inputs.count) inputs")
      for (j, r) in zip(inputs, results) where j >= 0 && needs[j] {
        guard let r else { continue }
        precondition(r.shape == graph[j].shape, "pullback cotangent shape \(r.shape) ≠ input shape \(graph[j].shape)")
        if cotangents[j] == nil {
          cotangents[j] = r
        } else {
          cotangents[j]!.addScaled(r, by: 1)
        }
      }
    }
    return leaves.map { leaf in
      leaf.index <= last ? (cotangents[leaf.index] ?? .zeros(leaf.shape)) : .zeros(leaf.shape)
    }
  }
}

/// An n-dimensional array that may be tracked on a ``Tape`` for reverse-mode differentiation.
///
/// ```
/// Tensor(value)               untracked constant (inference, data, targets)
/// tape.variable(value)        tracked leaf (parameters, inputs being differentiated)
/// op(a, b, …)                 tracked if any input is tracked; all tracked inputs share one tape
/// ```
///
/// A tensor is a value: the array plus, when tracked, its tape and index. Operations never
/// mutate their inputs. Modules store their parameters as tensors (untracked outside of
/// differentiation), as MLXNN modules store `MLXArray`s.
///
/// ### See Also
/// - ``Tape``
/// - ``Module``
public struct Tensor<T: RealScalar>: Sendable {
  /// The array.
  public let value: NDArray<T>
  /// The tape this tensor is recorded on, or nil for a constant.
  public let tape: Tape<T>?
  /// Index on the tape (−1 for a constant).
  let index: Int

  /// An untracked tensor (a constant for differentiation).
  public init(_ value: NDArray<T>) {
    self.value = value
    self.tape = nil
    self.index = -1
  }

  init(value: NDArray<T>, tape: Tape<T>?, index: Int) {
    self.value = value
    self.tape = tape
    self.index = index
  }

  /// Extent of each axis.
  public var shape: [Int] { value.shape }
  /// Number of axes.
  public var rank: Int { value.rank }
  /// Number of elements.
  public var count: Int { value.count }
  /// Whether operations on this tensor are recorded.
  public var isTracked: Bool { tape != nil }
  /// The same value, untracked (stops gradients).
  public var detached: Tensor { Tensor(value) }
  /// The single element of a one-element tensor (e.g. a scalar loss).
  public var scalar: T {
    precondition(count == 1, "scalar of a tensor of shape \(shape)")
    return value.withUnsafeBufferPointer { $0[0] }
  }
}

extension Tensor {
  /// Records `value` as the result of an operation on `inputs` (or returns an untracked tensor
  /// when no input is tracked). All tracked inputs must share one tape.
  static func record(_ value: NDArray<T>, _ inputs: [Tensor<T>], pullback: @escaping Tape<T>.Pullback) -> Tensor<T> {
    guard let tape = inputs.first(where: { $0.tape != nil })?.tape else { return Tensor(value) }
    let indices = inputs.map { input -> Int in
      guard let t = input.tape else { return -1 }
      precondition(t === tape, "operation mixes tensors recorded on different tapes")
      return input.index
    }
    return tape.record(value, inputs: indices, pullback: pullback)
  }
}

/// Evaluates `body` on tracked copies of `inputs` and returns its scalar value and its gradient
/// with respect to each input.
///
/// ```swift
/// let (value, grads) = valueAndGradient(at: [x, w]) { t in gelu(linear(t[0], weight: t[1])).sum() }
/// ```
///
/// `body` must return a one-element tensor.
public func valueAndGradient<T: RealScalar>(
  at inputs: [NDArray<T>], in body: ([Tensor<T>]) throws -> Tensor<T>
) rethrows -> (value: T, gradients: [NDArray<T>]) {
  let tape = Tape<T>()
  let leaves = inputs.map { tape.variable($0) }
  let out = try body(leaves)
  precondition(out.count == 1, "valueAndGradient needs a one-element result, got shape \(out.shape)")
  guard out.tape === tape else { return (out.scalar, inputs.map { .zeros($0.shape) }) }
  return (out.scalar, tape.gradients(of: out, withRespectTo: leaves, releasingGraph: true))
}

/// Evaluates `body` on tracked copies of `inputs` and pulls `cotangent` back through it.
///
/// ```
/// value      = body(inputs)
/// gradients  = [ (∂ value / ∂ inputs[i])ᵀ · cotangent  for each i ]
/// ```
///
/// This is the general vector-Jacobian product used by the finite-difference gradient checks.
public func valueAndPullback<T: RealScalar>(
  at inputs: [NDArray<T>], cotangent: NDArray<T>, in body: ([Tensor<T>]) throws -> Tensor<T>
) rethrows -> (value: NDArray<T>, gradients: [NDArray<T>]) {
  let tape = Tape<T>()
  let leaves = inputs.map { tape.variable($0) }
  let out = try body(leaves)
  guard out.tape === tape else { return (out.value, inputs.map { .zeros($0.shape) }) }
  return (out.value, tape.gradients(of: out, seed: cotangent, withRespectTo: leaves, releasingGraph: true))
}
