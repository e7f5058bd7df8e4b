// Writing a model's predictions as a PDEKit NetCDF file (role `prediction`) on the coordinates
// of the input file, or on a finer/coarser grid of the same domain (zero-shot super-resolution:
// the FNO's grid embedding and spectral weights do not depend on the grid). Inputs are moved to
// another grid by multilinear interpolation over the axis coordinates (clamped at the ends); the
// domain of an axis is read off its coordinates: cell-centred (first point h/2 from the edge),
// periodic (first point on the edge, last one h short of the other) or nodal (both edges).
import Datasets
import Foundation
import Numerics

/// How an axis's coordinates cover its interval.
enum AxisLayout {
  case cellCentred(lower: Double, upper: Double)
  case periodic(lower: Double, upper: Double)
  case nodal(lower: Double, upper: Double)

  init(_ v: [Double]) {
    guard v.count >= 2 else {
      self = .nodal(lower: v.first ?? 0, upper: v.first ?? 0)
      return
    }
    let h = (v[v.count - 1] - v[0]) / Double(v.count - 1)
    let tol = 1e-6 * max(1, abs(h))
    if abs(v[0] - h / 2) < tol {
      self = .cellCentred(lower: v[0] - h / 2, upper: v[v.count - 1] + h / 2)
    } else if abs(v[0]) < tol && abs(v[v.count - 1] + h - 1) < tol {
      self = .periodic(lower: v[0], upper: v[v.count - 1] + h)
    } else {
      self = .nodal(lower: v[0], upper: v[v.count - 1])
    }
  }

  func points(_ n: Int) -> [Double] {
    switch self {
    case .cellCentred(let a, let b): return (0..<n).map { a + (Double($0) + 0.5) * (b - a) / Double(n) }
    case .periodic(let a, let b): return (0..<n).map { a + Double($0) * (b - a) / Double(n) }
    case .nodal(let a, let b): return (0..<n).map { n == 1 ? a : a + Double($0) * (b - a) / Double(n - 1) }
    }
  }
}

/// Multilinear interpolation of `[B, C, grid…]` from coordinates `from` to `to` (per axis).
func resample<T: RealScalar>(_ x: NDArray<T>, from: [[Double]], to: [[Double]]) -> NDArray<T> {
  var current = x
  for axis in 0..<from.count {
    let (src, dst) = (from[axis], to[axis])
    if src == dst { continue }
    let shape = current.shape
    let outer = shape[0..<(2 + axis)].reduce(1, *)
    let inner = shape[(3 + axis)...].reduce(1, *)
    let n = src.count
    // For each destination point: left index and weight of the right neighbour.
    let stencil: [(Int, Double)] = dst.map { t in
      if t <= src[0] || n == 1 { return (0, 0) }
      if t >= src[n - 1] { return (n - 2, 1) }
      var lo = 0
      var hi = n - 1
      while hi - lo > 1 {
        let mid = (lo + hi) / 2
        if src[mid] <= t { lo = mid } else { hi = mid }
      }
      return (lo, (t - src[lo]) / (src[lo + 1] - src[lo]))
    }
    var newShape = shape
    newShape[2 + axis] = dst.count
    current = current.withUnsafeBufferPointer { p in
      NDArray<T>(shape: newShape) { q in
        for o in 0..<outer {
          for (k, (i, w)) in stencil.enumerated() {
            let a = (o * n + i) * inner
            let b = n == 1 ? a : a + inner
            let out = (o * dst.count + k) * inner
            for j in 0..<inner { q[out + j] = T((1 - w) * Double(p[a + j]) + w * Double(p[b + j])) }
          }
        }
      }
    }
  }
  return current
}

/// Predicts the targets of every sample of `input` with the model in `checkpoint` and writes a
/// NetCDF file holding the inputs, the predictions (role `prediction`, named `<target>_prediction`)
/// and, on the input's own grid, the targets when the input file has them.
///
/// - Parameters:
///   - resolution: points per axis of the output grid (nil: the input's grid). Inputs are
///     interpolated to it; targets are then left out, since they are not known there.
///   - batchSize: samples per forward pass.
/// - Returns: the number of samples written.
@discardableResult
public func writePredictions<M: NeuralOperator>(
  model: M, checkpoint: OperatorCheckpoint, input: FieldDataset, to url: URL, resolution: Int? = nil,
  batchSize: Int = 20, overwrite: Bool = false, history: String? = nil, progress: ((Int, Int) -> Void)? = nil
) throws -> Int where M.Scalar == Float {
  if let state = checkpoint.trainingState {
    guard state.data.inputs == input.inputNames else {
      throw TrainingError.dataMismatch(
        "the model was trained on inputs \(state.data.inputs) but \(input.url.path) has \(input.inputNames)")
    }
  }
  guard input.inputChannels == model.inputChannels, input.gridShape.count == model.spatialDimensions else {
    throw TrainingError.dataMismatch(
      "\(input.url.path) has \(input.inputChannels) input channel(s) on a \(input.gridShape.count)D grid; the model "
        + "takes \(model.inputChannels) on a \(model.spatialDimensions)D grid")
  }
  if let r = resolution, r < 2 { throw OperatorsError.invalidArgument("resolution must be ≥ 2, got \(r)") }
  let fileAxes = try input.axes.map { name in
    guard let a = input.fileAxes.first(where: { $0.name == name }) else {
      throw OperatorsError.malformedFile("\(input.url.path): no coordinate variable for axis '\(name)'")
    }
    return a
  }
  let outAxes: [DatasetAxis] = fileAxes.map { a in
    guard let r = resolution, r != a.values.count else { return a }
    return DatasetAxis(name: a.name, values: AxisLayout(a.values).points(r), units: a.units, longName: a.longName)
  }
  let resampled = zip(fileAxes, outAxes).contains { $0.values != $1.values }
  let writeTargets = !resampled && !input.targetNames.isEmpty
  let info = Dictionary(input.fileVariables.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
  let targetNames = checkpoint.trainingState?.data.targets ?? (0..<model.outputChannels).map { "output\($0)" }
  guard targetNames.count == model.outputChannels else {
    throw TrainingError.dataMismatch(
      "the checkpoint names \(targetNames.count) targets for \(model.outputChannels) outputs")
  }
  var variables: [DatasetVariable] = input.inputNames.map {
    DatasetVariable(
      name: $0, role: .input, axes: input.axes, longName: info[$0]?.longName ?? $0, units: info[$0]?.units)
  }
  if writeTargets {
    variables += input.targetNames.map {
      DatasetVariable(
        name: $0, role: .target, axes: input.axes, longName: info[$0]?.longName ?? $0, units: info[$0]?.units)
    }
  }
  let predictionNames = targetNames.map { $0 + "_prediction" }
  for (t, p) in zip(targetNames, predictionNames) {
    variables.append(
      DatasetVariable(
        name: p, role: .prediction, axes: input.axes,
        longName: "\(M.modelName.uppercased()) prediction of \(info[t]?.longName ?? t)", units: info[t]?.units))
  }
  var schema = derivedSchema(
    of: input, title: "\(M.modelName.uppercased()) predictions", axes: outAxes, variables: variables)
  schema.extraAttributes = [
    "pdekit_prediction_model": M.modelName, "pdekit_prediction_model_config": checkpoint.modelConfiguration,
    "pdekit_prediction_source": input.url.path,
    "pdekit_prediction_grid": !resampled
      ? "the input file's grid"
      : M.evaluatesAtQueryPoints
        ? "model evaluated at the points of \(outAxes.map(\.values.count)) from inputs on \(input.gridShape); the "
          + "input fields written here are interpolated multilinearly for reference"
        : "inputs interpolated multilinearly from \(input.gridShape) to \(outAxes.map(\.values.count))",
    "pdekit_prediction_note": "solver diagnostics describe the source samples, not the predictions",
  ]
  try writeAtomically(to: url, schema: schema, overwrite: overwrite, history: history) { writer in
    let diagnostics = try input.diagnostics()
    let gridShape = outAxes.map(\.values.count)
    for start in stride(from: 0, to: input.count, by: max(1, batchSize)) {
      let indices = Array(start..<min(input.count, start + max(1, batchSize)))
      var x = try input.inputs(indices)
      let y: NDArray<Float>
      if resampled && M.evaluatesAtQueryPoints {
        // The model takes the inputs on their own grid and evaluates at the new grid's points.
        y = checkpoint.predict(with: model, inputs: x, queryGrid: gridShape)
        x = resample(x, from: fileAxes.map(\.values), to: outAxes.map(\.values))
      } else {
        if resampled { x = resample(x, from: fileAxes.map(\.values), to: outAxes.map(\.values)) }
        y = checkpoint.predict(with: model, inputs: x)
      }
      let targets = writeTargets ? try input.targets(indices) : nil
      for (k, i) in indices.enumerated() {
        var fields: [String: NDArray<Float>] = [:]
        for (c, name) in input.inputNames.enumerated() {
          fields[name] = x[sample: k].samples(c..<c + 1).reshaped(gridShape)
        }
        for (c, name) in predictionNames.enumerated() {
          fields[name] = y[sample: k].samples(c..<c + 1).reshaped(gridShape)
        }
        if let targets {
          for (c, name) in input.targetNames.enumerated() {
            fields[name] = targets[sample: k].samples(c..<c + 1).reshaped(gridShape)
          }
        }
        _ = try writer.append(fields, diagnostics: diagnostics[i])
      }
      progress?(indices.last! + 1, input.count)
    }
  }
  return input.count
}

/// A schema for data derived from `source`'s file (predictions, rollouts): the file's descriptive
/// attributes (pde, equation, boundary conditions, discretization, solver, rtol, generation
/// config) with `title` prefixed to its title, and the given axes and variables.
func derivedSchema(of source: FieldDataset, title: String, axes: [DatasetAxis], variables: [DatasetVariable])
  -> DatasetSchema
{
  let attributes = source.fileAttributes
  return DatasetSchema(
    title: "\(title) for \(attributes["title"] ?? source.url.lastPathComponent)",
    pde: attributes["pde"] ?? "unknown", equation: attributes["equation"] ?? "",
    boundaryConditions: attributes["boundary_conditions"] ?? "", discretization: attributes["discretization"] ?? "",
    solver: attributes["solver"] ?? "", rtol: Double(attributes["rtol"] ?? "") ?? 0,
    configJSON: attributes["pdekit_config"] ?? "{}", axes: axes, variables: variables)
}

/// Writes a dataset atomically: `body` appends the samples to a writer on a temporary file, which
/// replaces `url` only once complete (removed on error). Refuses an existing `url` unless `overwrite`.
func writeAtomically(
  to url: URL, schema: DatasetSchema, overwrite: Bool, history: String?, _ body: (DatasetWriter) throws -> Void
) throws {
  let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
  try? FileManager.default.removeItem(at: tmp)
  if FileManager.default.fileExists(atPath: url.path) && !overwrite {
    throw OperatorsError.invalidArgument("\(url.path) exists; pass --overwrite to replace it")
  }
  let writer = try DatasetWriter.create(at: tmp, schema: schema, overwrite: true, history: history)
  do {
    try body(writer)
    try writer.close()
    guard rename(tmp.path, url.path) == 0 else {
      throw OperatorsError.invalidArgument(
        "cannot rename \(tmp.path) to \(url.path): \(String(cString: strerror(errno)))")
    }
  } catch {
    try? writer.close()
    try? FileManager.default.removeItem(at: tmp)
    throw error
  }
}
