// Training curves from the JSON-lines log `pdekit train` writes (one `EpochRecord` per line):
// training loss and test relative L2/H1 errors per epoch on a logarithmic axis, and the
// learning-rate schedule.
import Foundation
import Operators

/// Figures of a training run (what `pdekit plot --log train.jsonl` renders).
public enum TrainingFigures {
  /// Reads a `pdekit train` log: one JSON `EpochRecord` per non-empty line.
  ///
  /// - Throws: `PlotError.io` if the file cannot be read; `PlotError.invalidArgument` naming the
  ///   line that is not an epoch record, or if there is none.
  public static func readLog(_ url: URL) throws -> [EpochRecord] {
    let text: String
    do { text = try String(contentsOf: url, encoding: .utf8) } catch {
      throw PlotError.io(
        "cannot read the training log \(url.path): \(error.localizedDescription) (expected the JSON-lines log "
          + "`pdekit train` writes, one epoch per line)")
    }
    let decoder = JSONDecoder()
    var records: [EpochRecord] = []
    for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty { continue }
      do { records.append(try decoder.decode(EpochRecord.self, from: Data(trimmed.utf8))) } catch {
        throw PlotError.invalidArgument(
          "\(url.path), line \(n + 1): not a `pdekit train` epoch record (expected JSON with epoch, train_loss, "
            + "test_l2, test_h1, epoch_seconds, lr); got: \(trimmed.prefix(80))")
      }
    }
    guard !records.isEmpty else {
      throw PlotError.invalidArgument(
        "\(url.path) holds no epochs; `pdekit train` appends one line per finished epoch")
    }
    return records
  }

  /// Training loss and test errors per epoch (log scale), beside the learning rate.
  public static func curves(log url: URL) throws -> Figure {
    let records = try readLog(url)
    let epochs = records.map { Double($0.epoch) }
    let colors = LinePlot.palette
    let few = records.count <= 60
    var series = [
      LineSeries(label: "train loss", x: epochs, y: records.map(\.trainLoss), color: colors[0], markers: few)
    ]
    if records.contains(where: { $0.testL2 != nil }) {
      series.append(
        LineSeries(
          label: "test rel. L2", x: epochs, y: records.map { $0.testL2 ?? .nan }, color: colors[1], markers: few))
    }
    if records.contains(where: { $0.testH1 != nil }) {
      series.append(
        LineSeries(
          label: "test rel. H1", x: epochs, y: records.map { $0.testH1 ?? .nan }, color: colors[2], markers: few))
    }
    let last = records.last!
    var subtitle = "epoch \(last.epoch): train loss " + String(format: "%.4g", last.trainLoss)
    if let l2 = last.testL2 { subtitle += ", test L2 " + String(format: "%.4g", l2) }
    let losses = LinePlot(
      title: "loss and test error", subtitle: subtitle, xLabel: "epoch", yLabel: "loss / relative error",
      series: series, logY: true)
    let rate = LinePlot(
      title: "learning rate",
      subtitle: String(
        format: "%.3g s per epoch (mean)", records.map(\.epochSeconds).reduce(0, +) / Double(records.count)),
      xLabel: "epoch", yLabel: "learning rate",
      series: [LineSeries(x: epochs, y: records.map(\.learningRate), color: colors[3], markers: few)], logY: true)
    return Figure(title: "\(url.lastPathComponent): \(records.count) epochs", rows: [[.line(losses), .line(rate)]])
  }
}
