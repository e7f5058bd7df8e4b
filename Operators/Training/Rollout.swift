// Autoregressive rollout of a one-step model on time-dependent data: the model maps k frames to
// the next one, and a rollout feeds its own predictions back as inputs. Frames are indexed as
// `FieldDataset(url:samples:inputFrames:…)` documents (frame 0 = the initial state at time 0,
// frame f ≥ 1 = the file's time index f − 1); a rollout of T steps from frames 0 ..< k predicts
// frames k ..< k + T, and step r (1-based) is compared with frame k + r − 1.
import Datasets
import Foundation
import Numerics

/// Rolls a one-step model forward `steps` times from `initial`, in physical units.
///
/// ```
/// window₀ = initial                                   [B, k·C, grid…]   frames 0 … k−1
/// yᵣ = decode(model(encode(windowᵣ₋₁)))               [B, C, grid…]     frame k + r − 1
/// windowᵣ = windowᵣ₋₁ without its first C channels, then yᵣ
/// ```
///
/// - Parameters:
///   - inputNormalizer, targetNormalizer: the checkpoint's normalizers (nil: none).
/// - Returns: [B, steps, C, grid…], the predicted frames in order.
public func rollout<M: NeuralOperator>(
  _ model: M, inputNormalizer: UnitGaussianNormalizer<Float>?, targetNormalizer: UnitGaussianNormalizer<Float>?,
  initial: NDArray<Float>, steps: Int
) throws -> NDArray<Float> where M.Scalar == Float {
  let c = model.outputChannels
  guard initial.rank == model.spatialDimensions + 2, initial.shape[1] == model.inputChannels,
    model.inputChannels % c == 0
  else {
    throw TrainingError.dataMismatch(
      "rollout needs [batch, k·\(c), \(model.spatialDimensions) grid axes] with k·\(c) = \(model.inputChannels) "
        + "(the model's input), got \(initial.shape)")
  }
  guard steps >= 1 else { throw OperatorsError.invalidArgument("rollout steps must be ≥ 1, got \(steps)") }
  let batch = initial.shape[0]
  let grid = Array(initial.shape[2...])
  let frameSize = c * grid.reduce(1, *)
  let k = model.inputChannels / c
  var window = initial
  var out = NDArray<Float>(shape: [batch, steps, c] + grid, repeating: 0)
  for r in 0..<steps {
    let x = inputNormalizer?.encode(window) ?? window
    let y0 = batchSlicedForward(batch: batch, workers: batchWorkers(batch)) { model(Tensor(x.samples($0))).value }
    let y = targetNormalizer?.decode(y0) ?? y0
    y.withUnsafeBufferPointer { yp in
      out.withUnsafeMutableBufferPointer { op in
        for b in 0..<batch {
          (op.baseAddress! + (b * steps + r) * frameSize).update(
            from: yp.baseAddress! + b * frameSize, count: frameSize)
        }
      }
    }
    let previous = window
    window = previous.withUnsafeBufferPointer { wp in
      y.withUnsafeBufferPointer { yp in
        NDArray<Float>(shape: previous.shape) { np in
          for b in 0..<batch {
            let dst = np.baseAddress! + b * k * frameSize
            dst.update(from: wp.baseAddress! + b * k * frameSize + frameSize, count: (k - 1) * frameSize)
            (dst + (k - 1) * frameSize).update(from: yp.baseAddress! + b * frameSize, count: frameSize)
          }
        }
      }
    }
  }
  return out
}

/// Rollouts of every trajectory of `data` from its first k frames, with their per-step errors.
public struct RolloutResult: Sendable {
  /// Predicted frames k ..< k + steps of each trajectory, [trajectories, steps, C, grid…].
  public var predictions: NDArray<Float>
  /// The true frames k ..< k + steps, same shape.
  public var truth: NDArray<Float>
  /// Times of the predicted frames (``FieldDataset/frameTimes`` k ..< k + steps).
  public var times: [Double]
  /// Mean over trajectories of the relative L2 error ‖pred − true‖ / ‖true‖ (all channels and
  /// grid points of the frame) at each step.
  public var stepErrors: [Double]
}

/// Rolls `model` forward `steps` steps from frames 0 ..< k of every trajectory of `data` (opened
/// with `inputFrames` = k) and compares with frames k ..< k + steps; steps ≤ F − k.
public func rolloutTrajectories<M: NeuralOperator>(
  _ model: M, inputNormalizer: UnitGaussianNormalizer<Float>?, targetNormalizer: UnitGaussianNormalizer<Float>?,
  data: FieldDataset, steps: Int, batchSize: Int = 20
) throws -> RolloutResult where M.Scalar == Float {
  guard let k = data.inputFrames else {
    throw OperatorsError.invalidArgument(
      "\(data.url.path) was not opened with input frames; rollout needs trajectories")
  }
  guard steps >= 1, k + steps <= data.frameCount else {
    throw OperatorsError.invalidArgument(
      "\(data.url.path) has \(data.frameCount) frames per trajectory; \(k) input frames leave 1…\(data.frameCount - k) "
        + "rollout steps with known truth, got \(steps)")
  }
  let c = data.targetChannels
  let grid = data.gridShape
  let frameSize = c * grid.reduce(1, *)
  let n = data.samples.count
  var predictions = NDArray<Float>(shape: [n, steps, c] + grid, repeating: 0)
  var truth = NDArray<Float>(shape: [n, steps, c] + grid, repeating: 0)
  for start in stride(from: 0, to: n, by: max(1, batchSize)) {
    let rows = Array(start..<min(n, start + max(1, batchSize)))
    let trajectories = try rows.map { try data.trajectory($0) }
    let initial = NDArray<Float>(shape: [rows.count, k * c] + grid) { p in
      for (b, t) in trajectories.enumerated() {
        t.withUnsafeBufferPointer {
          (p.baseAddress! + b * k * frameSize).update(from: $0.baseAddress!, count: k * frameSize)
        }
      }
    }
    let y = try rollout(
      model, inputNormalizer: inputNormalizer, targetNormalizer: targetNormalizer, initial: initial, steps: steps)
    predictions.withUnsafeMutableBufferPointer { pp in
      truth.withUnsafeMutableBufferPointer { tp in
        y.withUnsafeBufferPointer { yp in
          for (b, t) in trajectories.enumerated() {
            let row = rows[b] * steps * frameSize
            (pp.baseAddress! + row).update(from: yp.baseAddress! + b * steps * frameSize, count: steps * frameSize)
            t.withUnsafeBufferPointer {
              (tp.baseAddress! + row).update(from: $0.baseAddress! + k * frameSize, count: steps * frameSize)
            }
          }
        }
      }
    }
  }
  var errors = [Double](repeating: 0, count: steps)
  predictions.withUnsafeBufferPointer { pp in
    truth.withUnsafeBufferPointer { tp in
      for s in 0..<n {
        for r in 0..<steps {
          let base = (s * steps + r) * frameSize
          var diff = 0.0
          var norm = 0.0
          for j in 0..<frameSize {
            let (a, b) = (Double(pp[base + j]), Double(tp[base + j]))
            diff += (a - b) * (a - b)
            norm += b * b
          }
          errors[r] += (diff.squareRoot() / max(norm.squareRoot(), 1e-30)) / Double(n)
        }
      }
    }
  }
  return RolloutResult(
    predictions: predictions, truth: truth, times: Array(data.frameTimes[k..<(k + steps)]), stepErrors: errors)
}

/// Writes rollouts as a PDEKit NetCDF file on the axes (time, grid…): the initial states (role
/// input, on the grid), per trajectory variable `<name>` the true frames (role target) and
/// `<name>_rollout` the predicted ones (role prediction), with time the predicted frames' times; samples are `data`'s trajectories, in order,
/// with their solver diagnostics.
public func writeRollout(
  _ result: RolloutResult, data: FieldDataset, modelName: String, modelConfiguration: String, to url: URL,
  overwrite: Bool = false, history: String? = nil
) throws {
  let spaceAxes = try data.axes.map { name in
    guard let a = data.fileAxes.first(where: { $0.name == name }) else {
      throw OperatorsError.malformedFile("\(data.url.path): no coordinate variable for axis '\(name)'")
    }
    return a
  }
  let fileTime = data.fileAxes.first { $0.name == "time" }
  let timeAxis = DatasetAxis(
    name: "time", values: result.times, units: fileTime?.units ?? "1", longName: fileTime?.longName ?? "time")
  let axes = ["time"] + data.axes
  let info = Dictionary(data.fileVariables.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
  var variables: [DatasetVariable] = data.inputNames.map {
    DatasetVariable(
      name: $0, role: .input, axes: data.axes, longName: info[$0]?.longName ?? $0, units: info[$0]?.units)
  }
  for name in data.targetNames {
    variables.append(
      DatasetVariable(
        name: name, role: .target, axes: axes, longName: info[name]?.longName ?? name, units: info[name]?.units))
    variables.append(
      DatasetVariable(
        name: name + "_rollout", role: .prediction, axes: axes,
        longName: "\(modelName) autoregressive rollout of \(info[name]?.longName ?? name)", units: info[name]?.units))
  }
  var schema = derivedSchema(
    of: data, title: "\(modelName) rollouts", axes: [timeAxis] + spaceAxes, variables: variables)
  let k = data.inputFrames ?? 0
  schema.extraAttributes = [
    "pdekit_prediction_model": modelName, "pdekit_prediction_model_config": modelConfiguration,
    "pdekit_prediction_source": data.url.path,
    "pdekit_rollout": "\(result.times.count) steps from frames 0..<\(k) (frame 0 = the initial state at time 0, "
      + "frame f = the source's time index f - 1); step r predicts frame \(k) + r - 1",
    "pdekit_rollout_step_relative_l2": result.stepErrors.map { String(format: "%.6g", $0) }.joined(separator: " "),
    "pdekit_prediction_note": "solver diagnostics describe the source samples, not the predictions",
  ]
  try writeAtomically(to: url, schema: schema, overwrite: overwrite, history: history) { writer in
    let diagnostics = try data.diagnostics()
    let steps = result.times.count
    let c = data.targetChannels
    for s in 0..<data.samples.count {
      let (p, t) = (result.predictions[sample: s], result.truth[sample: s])
      var fields: [String: NDArray<Float>] = [:]
      let initial = try data.trajectory(s)[sample: 0]
      for (ch, name) in data.inputNames.enumerated() {
        fields[name] = initial.samples(ch..<ch + 1).reshaped(data.gridShape)
      }
      for (ch, name) in data.targetNames.enumerated() {
        func channel(_ a: NDArray<Float>) -> NDArray<Float> {
          let size = data.gridShape.reduce(1, *)
          return a.withUnsafeBufferPointer { src in
            NDArray<Float>(shape: [steps] + data.gridShape) { dst in
              for r in 0..<steps {
                (dst.baseAddress! + r * size).update(from: src.baseAddress! + (r * c + ch) * size, count: size)
              }
            }
          }
        }
        fields[name] = channel(t)
        fields[name + "_rollout"] = channel(p)
      }
      _ = try writer.append(fields, diagnostics: diagnostics[s])
    }
  }
}

/// The last k frames of `window` ([B, k·C, grid…]) followed by `predicted` ([B, m, C, grid…]):
/// the input window after m rollout steps, [B, k·C, grid…].
func lastFrames(of window: NDArray<Float>, then predicted: NDArray<Float>) -> NDArray<Float> {
  let (batch, steps) = (predicted.shape[0], predicted.shape[1])
  let frameSize = predicted.count / Swift.max(1, batch * steps)
  let k = window.count / Swift.max(1, batch * frameSize)
  let keep = Swift.max(0, k - steps)
  return window.withUnsafeBufferPointer { w in
    predicted.withUnsafeBufferPointer { p in
      NDArray<Float>(shape: window.shape) { out in
        for b in 0..<batch {
          let dst = out.baseAddress! + b * k * frameSize
          dst.update(from: w.baseAddress! + (b * k + k - keep) * frameSize, count: keep * frameSize)
          let used = k - keep
          (dst + keep * frameSize).update(
            from: p.baseAddress! + (b * steps + steps - used) * frameSize, count: used * frameSize)
        }
      }
    }
  }
}
