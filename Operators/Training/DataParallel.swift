// Data-parallel training over a ProcessGroup (Horovod's scheme: Sergeev & Del Balso, "Horovod:
// fast and easy distributed deep learning in TensorFlow", 2018; Goyal et al., "Accurate, Large
// Minibatch SGD", 2017). Every rank holds the whole model; each global batch of P × B samples is
// split into P contiguous slices, each rank computes the loss and gradients of its slice, and one
// all-reduce sums them. The loss is summed over samples (as neuraloperator's LpLoss), so the summed
// gradient is the gradient of the serial step with the P × B batch, and the identical reduced
// gradient gives every rank the identical optimizer step.
import Numerics

/// Gradient and loss reduction of one data-parallel step.
struct GradientReducer {
  let group: any ProcessGroup
  private var buffer: [Float] = []

  init(group: any ProcessGroup) { self.group = group }

  /// The zero gradients of `model`'s parameters (a rank with no sample in a short last batch
  /// still takes part in the sum).
  static func zeros<M: Module>(of model: M) -> Gradients<M.Scalar> {
    let parameters = model.namedParameters()
    return Gradients(names: parameters.map(\.name), arrays: parameters.map { NDArray.zeros($0.value.shape) })
  }

  /// Replaces `gradients` and `loss` by their sums over the group (one all-reduce of the packed
  /// gradients, one of the loss).
  mutating func sum(_ gradients: inout Gradients<Float>, loss: inout Double) throws {
    let total = gradients.arrays.reduce(0) { $0 + $1.count }
    if buffer.count != total { buffer = [Float](repeating: 0, count: total) }
    try buffer.withUnsafeMutableBufferPointer { flat in
      var offset = 0
      for a in gradients.arrays {
        a.withUnsafeBufferPointer { p in
          for i in 0..<p.count { flat[offset + i] = p[i] }
        }
        offset += a.count
      }
      try group.sum(flat)
      offset = 0
      for k in gradients.arrays.indices {
        gradients.arrays[k].withUnsafeMutableBufferPointer { p in
          for i in 0..<p.count { p[i] = flat[offset + i] }
        }
        offset += gradients.arrays[k].count
      }
    }
    var l = [loss]
    l = try group.sum(l)
    loss = l[0]
  }
}

/// FNV-1a over the bits of every parameter, in visiting order: equal on two ranks exactly when
/// their weights are bit-identical (up to a 2^-64 collision chance).
func weightDigest<M: Module>(_ model: M) -> UInt64 where M.Scalar == Float {
  var h: UInt64 = 0xcbf2_9ce4_8422_2325
  for (_, value) in model.namedParameters() {
    value.withUnsafeBufferPointer { p in
      for i in 0..<p.count {
        h = (h ^ UInt64(p[i].bitPattern)) &* 0x0000_0100_0000_01b3
      }
    }
  }
  return h
}
