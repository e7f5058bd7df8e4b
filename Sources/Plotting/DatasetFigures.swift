// Figures of PDEKit NetCDF datasets: the fields of chosen samples (2D heatmaps, 1D line plots,
// 3D as the middle z slice, time series as a strip of frames), a prediction file's
// input / truth / prediction / |error| per sample, and the per-sample solver diagnostics.
import Datasets
import Foundation
import Numerics

/// Figures drawn from a PDEKit NetCDF dataset (what `pdekit plot FILE.nc` renders).
///
/// ```
/// let figure = try DatasetFigures.fields(in: URL(fileURLWithPath: "darcy.nc"), samples: [0, 1])
/// try figure.render().writePNG(to: URL(fileURLWithPath: "darcy.png"))
/// ```
public enum DatasetFigures {
  /// Samples drawn when none are chosen: the first three (or fewer).
  public static let defaultSampleCount = 3
  /// At most this many samples in one figure (one row or more each).
  public static let maximumSamples = 16

  /// The fields of `samples` (default: the first three) of `variable` (default: every input and
  /// target; for a prediction file, input / truth / prediction / |error|).
  ///
  /// - Parameters:
  ///   - frames: frames per time series (evenly spaced time indices, first and last included).
  /// - Throws: `PlotError.invalidArgument` naming the available variables or the sample count
  ///   when a variable is unknown or a sample is out of range; `DatasetError` when the file is
  ///   not a PDEKit dataset.
  public static func fields(in url: URL, variable: String? = nil, samples: [Int]? = nil, frames: Int = 6) throws
    -> Figure
  {
    guard frames >= 1 else { throw PlotError.invalidArgument("frames must be ≥ 1, got \(frames)") }
    let reader = try DatasetReader(url: url)
    defer { try? reader.close() }
    let chosen = try selectSamples(samples, count: reader.sampleCount, file: url.path)
    let source = FieldSource(reader: reader, frames: frames)
    let title = reader.attributes["title"] ?? url.lastPathComponent
    var rows: [[Panel]] = []
    if let variable {
      let info = try lookUp(variable, in: reader)
      for s in chosen { rows += try source.rows(for: [info], sample: s) }
      return Figure(title: "\(url.lastPathComponent): \(variable)", rows: rows)
    }
    let predictions = reader.variables(role: .prediction)
    if predictions.isEmpty {
      let shown = reader.variables.filter { $0.role != .prediction }
      for s in chosen { rows += try source.rows(for: shown, sample: s) }
      return Figure(title: title, rows: rows)
    }
    for s in chosen {
      for p in predictions { rows.append(try source.comparison(prediction: p, sample: s)) }
    }
    return Figure(title: title, rows: rows)
  }

  /// Per-sample solver diagnostics of every sample: iterations, final relative residual (log
  /// scale, with the file's `rtol` as a dashed line) and solve time.
  public static func solverStatistics(in url: URL) throws -> Figure {
    let reader = try DatasetReader(url: url)
    defer { try? reader.close() }
    guard reader.sampleCount > 0 else {
      throw PlotError.invalidArgument("\(url.path) has no samples, so there are no solver statistics to plot")
    }
    let d = try reader.diagnostics(samples: 0..<reader.sampleCount)
    let index = d.indices.map(Double.init)
    let describe = { (name: String) in reader.diagnosticDescriptions[name] ?? name }
    let markers = d.count <= 200
    let colors = LinePlot.palette
    let iterations = LinePlot(
      title: describe(DiagnosticVariables.iterations), subtitle: DiagnosticVariables.iterations, xLabel: "sample",
      yLabel: "iterations",
      series: [LineSeries(x: index, y: d.map { Double($0.iterations) }, color: colors[0], markers: markers)])
    var residualSeries = [
      LineSeries(label: "residual", x: index, y: d.map(\.relativeResidual), color: colors[1], markers: markers)
    ]
    if let rtol = reader.attributes["rtol"].flatMap(Double.init), rtol > 0 {
      residualSeries.append(
        LineSeries(
          label: "rtol " + Ticks.label(rtol), x: [index.first!, index.last!], y: [rtol, rtol], color: .darkGrey,
          dashed: true))
    }
    let positive = d.filter { $0.relativeResidual > 0 }.count
    let residual = LinePlot(
      title: describe(DiagnosticVariables.residual),
      subtitle: positive < d.count
        ? "\(d.count - positive) sample(s) with residual 0 not shown (log scale)" : DiagnosticVariables.residual,
      xLabel: "sample", yLabel: "relative residual", series: residualSeries, logY: true)
    let seconds = LinePlot(
      title: describe(DiagnosticVariables.seconds), subtitle: DiagnosticVariables.seconds, xLabel: "sample",
      yLabel: "seconds", series: [LineSeries(x: index, y: d.map(\.solveSeconds), color: colors[2], markers: markers)])
    let title = "\(url.lastPathComponent): solver statistics, \(d.count) samples"
    return Figure(title: title, rows: [[.line(iterations), .line(residual), .line(seconds)]])
  }

  /// Sample indices from text: comma-separated integers and first:last ranges (last excluded, as
  /// `pdekit eval --samples`), e.g. "0,1,2" or "0:4,10". At most `maximumSamples`.
  public static func sampleIndices(_ text: String) throws -> [Int] {
    var indices: [Int] = []
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
      let bounds = item.split(separator: ":", omittingEmptySubsequences: false).map {
        Int($0.trimmingCharacters(in: .whitespaces))
      }
      switch bounds.count {
      case 1 where (bounds[0] ?? -1) >= 0: indices.append(bounds[0]!)
      case 2 where (bounds[0] ?? -1) >= 0 && (bounds[1] ?? -1) > bounds[0]!:
        // Capped, so that a huge range is refused below without building it.
        indices += bounds[0]!..<min(bounds[1]!, bounds[0]! + maximumSamples + 1)
      default:
        throw PlotError.invalidArgument(
          "samples are indices and first:last ranges separated by commas (e.g. 0,1,2 or 0:4), got '\(text)'")
      }
    }
    guard indices.count <= maximumSamples else {
      throw PlotError.invalidArgument(
        "'\(text)' selects more than \(maximumSamples) samples, the most one figure shows; plot several figures")
    }
    return indices
  }

  /// The samples to draw: `requested` checked against `count`, or the first few.
  static func selectSamples(_ requested: [Int]?, count: Int, file: String) throws -> [Int] {
    guard count > 0 else { throw PlotError.invalidArgument("\(file) has no samples to plot") }
    guard let requested else { return Array(0..<min(count, defaultSampleCount)) }
    guard !requested.isEmpty else { throw PlotError.invalidArgument("no samples requested; give e.g. --samples 0,1") }
    guard requested.count <= maximumSamples else {
      throw PlotError.invalidArgument(
        "\(requested.count) samples requested; a figure shows at most \(maximumSamples) (plot several figures)")
    }
    for s in requested where !(0..<count).contains(s) {
      throw PlotError.invalidArgument(
        "sample \(s) is out of range: \(file) has \(count) sample\(count == 1 ? "" : "s") (indices 0 to \(count - 1))")
    }
    return requested
  }

  /// The data variable `name`, or an error listing the ones there are.
  static func lookUp(_ name: String, in reader: DatasetReader) throws -> DatasetVariableInfo {
    if let v = reader.variables.first(where: { $0.name == name }) { return v }
    let available = reader.variables.map { "\($0.name) (\($0.role.rawValue))" }.joined(separator: ", ")
    var message = "\(reader.path) has no data variable '\(name)'; available: \(available)"
    if DiagnosticVariables.names.contains(name) {
      message += ". '\(name)' is a per-sample diagnostic: plot it with --solver-stats"
    }
    throw PlotError.invalidArgument(message)
  }
}

/// Reads samples of variables and turns them into panels.
struct FieldSource {
  let reader: DatasetReader
  let frames: Int

  /// One sample of a variable as a flat array, with its per-sample shape and axes.
  struct Field {
    var values: [Float]
    var info: DatasetVariableInfo
  }

  func field(_ info: DatasetVariableInfo, sample: Int) throws -> Field {
    Field(values: try reader.read(info.name, samples: sample..<sample + 1).scalars, info: info)
  }

  func coordinates(_ axis: String) -> DatasetAxis? { reader.axes.first { $0.name == axis } }

  /// Rows for `variables` of one sample: the fields without a time axis side by side, then one
  /// strip of frames per time-dependent field.
  func rows(for variables: [DatasetVariableInfo], sample: Int) throws -> [[Panel]] {
    var still: [Panel] = []
    var strips: [[Panel]] = []
    for v in variables {
      let f = try field(v, sample: sample)
      if v.axes.first == "time" {
        strips.append(try frameStrip(f, sample: sample))
      } else {
        still.append(try panel(values: f.values, info: v, title: v.longName, subtitle: "sample \(sample)"))
      }
    }
    return (still.isEmpty ? [] : [still]) + strips
  }

  /// Up to `frames` evenly spaced time slices of a time-dependent field, on a shared colour range.
  func frameStrip(_ f: Field, sample: Int) throws -> [Panel] {
    let nt = f.info.sampleShape[0]
    let per = f.info.sampleShape.dropFirst().reduce(1, *)
    let count = min(frames, nt)
    let indices = count == 1 ? [nt - 1] : (0..<count).map { ($0 * (nt - 1) + (count - 1) / 2) / (count - 1) }
    var spatial = f.info
    spatial.axes.removeFirst()
    spatial.sampleShape.removeFirst()
    let range = Heatmap.finiteRange(f.values)
    let times = coordinates("time")?.values
    return try indices.map { k in
      let t = times.map { "t = " + Ticks.label($0[k]) } ?? "time index \(k)"
      return try panel(
        values: Array(f.values[k * per..<(k + 1) * per]), info: spatial, title: f.info.longName,
        subtitle: "sample \(sample), \(t)", range: range)
    }
  }

  /// A panel for one spatial field: heatmap (2D, or the middle z slice of 3D) or line plot (1D).
  func panel(
    values: [Float], info: DatasetVariableInfo, title: String, subtitle: String, range: ClosedRange<Float>? = nil
  ) throws -> Panel {
    let shape = info.sampleShape
    switch shape.count {
    case 1:
      let xs = coordinates(info.axes[0])?.values ?? (0..<shape[0]).map(Double.init)
      let units = info.units.map { " [\($0)]" } ?? ""
      return .line(
        LinePlot(
          title: title, subtitle: subtitle, xLabel: info.axes[0], yLabel: info.name + units,
          series: [LineSeries(x: xs, y: values.map(Double.init), color: LinePlot.palette[0])],
          yRange: range.map { Double($0.lowerBound)...Double($0.upperBound) }))
    case 2:
      return .heatmap(
        Heatmap(
          values: values, rows: shape[0], columns: shape[1], title: title, subtitle: subtitle, units: info.units,
          range: range))
    case 3:
      let k = shape[0] / 2
      let per = shape[1] * shape[2]
      let z = coordinates(info.axes[0]).map { "\(info.axes[0]) = " + Ticks.label($0.values[k]) } ?? "slice \(k)"
      return .heatmap(
        Heatmap(
          values: Array(values[k * per..<(k + 1) * per]), rows: shape[1], columns: shape[2], title: title,
          subtitle: subtitle + ", " + z, units: info.units, range: range))
    default:
      throw PlotError.invalidArgument(
        "'\(info.name)' has \(shape.count) grid axes (\(info.axes.joined(separator: ", "))); "
          + "pdekit plot draws fields on 1, 2 or 3 axes, optionally with a time axis first")
    }
  }

  /// Inputs, truth, prediction and |prediction − truth| of one sample, the truth and prediction on
  /// one colour range (1D: one y range, and the truth also drawn in grey under the prediction).
  /// Without a truth variable (predictions on another grid) only inputs and prediction.
  func comparison(prediction p: DatasetVariableInfo, sample: Int) throws -> [Panel] {
    let label = "sample \(sample)"
    var row: [Panel] = []
    for input in reader.variables(role: .input) {
      row.append(
        try panel(
          values: try field(input, sample: sample).values, info: input, title: input.longName,
          subtitle: label + ", input"))
    }
    let predicted = try field(p, sample: sample).values
    let targetName = p.name.hasSuffix("_prediction") ? String(p.name.dropLast("_prediction".count)) : nil
    guard let t = reader.variables(role: .target).first(where: { $0.name == targetName }),
      t.sampleShape == p.sampleShape
    else {
      row.append(try panel(values: predicted, info: p, title: p.longName, subtitle: label + ", prediction"))
      return row
    }
    let truth = try field(t, sample: sample).values
    let shared = Heatmap.finiteRange(truth + predicted)
    var error = [Float](repeating: 0, count: truth.count)
    var (num, den) = (0.0, 0.0)
    for i in truth.indices {
      let e = predicted[i] - truth[i]
      error[i] = abs(e)
      num += Double(e) * Double(e)
      den += Double(truth[i]) * Double(truth[i])
    }
    let relative = den > 0 ? (num / den).squareRoot() : .nan
    row.append(try panel(values: truth, info: t, title: t.longName, subtitle: label + ", truth", range: shared))
    var prediction = try panel(
      values: predicted, info: p, title: p.longName, subtitle: label + ", prediction", range: shared)
    if case .line(var plot) = prediction {
      // 1D: the truth drawn under the prediction, so that the two curves compare directly.
      plot.series[0].label = "prediction"
      plot.series.insert(
        LineSeries(label: "truth", x: plot.series[0].x, y: truth.map(Double.init), color: RGB(150, 150, 150)), at: 0)
      prediction = .line(plot)
    }
    row.append(prediction)
    let errorRange = Heatmap.finiteRange(error).map { 0...max($0.upperBound, Float.leastNormalMagnitude) }
    var errorInfo = p
    errorInfo.name = "|error|"  // the 1D panel's y label
    row.append(
      try panel(
        values: error, info: errorInfo, title: "|prediction - truth|",
        subtitle: label + ", rel. L2 " + String(format: "%.3g", relative), range: errorRange))
    return row
  }
}
