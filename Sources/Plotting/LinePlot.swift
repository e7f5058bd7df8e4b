// Line plots with labelled axes: linear or logarithmic y, "nice" tick steps (1, 2 or 5 × 10^k,
// Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990), a legend, optional markers and
// dashed reference lines. Used for 1D fields, training curves and per-sample solver statistics.
import Foundation

/// One curve of a `LinePlot`.
public struct LineSeries: Sendable {
  /// Legend text (empty: not listed in the legend).
  public var label: String
  /// Abscissae.
  public var x: [Double]
  /// Ordinates (same count as `x`); non-finite values, and non-positive ones on a log axis, break the line.
  public var y: [Double]
  /// Line colour.
  public var color: RGB
  /// Draw a 3×3 marker at every point.
  public var markers: Bool
  /// Dashed line (reference levels such as a tolerance).
  public var dashed: Bool

  public init(label: String = "", x: [Double], y: [Double], color: RGB, markers: Bool = false, dashed: Bool = false) {
    self.label = label
    self.x = x
    self.y = y
    self.color = color
    self.markers = markers
    self.dashed = dashed
  }
}

/// The mapping from data coordinates to pixels of a drawn plot (returned by `LinePlot.draw`).
public struct PlotArea: Sendable {
  /// The inner rectangle the data is drawn in.
  public var rect: PixelRect
  /// Data range along x.
  public var xRange: ClosedRange<Double>
  /// Data range along y (of log10(y) on a logarithmic axis).
  public var yRange: ClosedRange<Double>
  /// Whether the y axis is logarithmic.
  public var logY: Bool

  /// The pixel of the data point (x, y), or nil if y cannot be shown (non-finite, or ≤ 0 on a log axis).
  public func pixel(x: Double, y: Double) -> (x: Int, y: Int)? {
    guard x.isFinite, y.isFinite, !logY || y > 0 else { return nil }
    let v = logY ? log10(y) : y
    let fx =
      xRange.upperBound > xRange.lowerBound ? (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) : 0.5
    let fy =
      yRange.upperBound > yRange.lowerBound ? (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) : 0.5
    return (
      rect.x + Int((fx * Double(rect.width - 1)).rounded()),
      rect.maxY - 1 - Int((fy * Double(rect.height - 1)).rounded())
    )
  }
}

/// Tick positions and labels for an axis.
enum Ticks {
  /// The "nice" number (1, 2, 5 or 10 × 10^k) closest to `x` (round) or not below it.
  static func nice(_ x: Double, round: Bool) -> Double {
    let e = floor(log10(x))
    let f = x / pow(10, e)
    let n: Double
    if round {
      n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
    } else {
      n = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
    }
    return n * pow(10, e)
  }

  /// About `count` ticks covering `range`, at multiples of a nice step; the range widened to them.
  static func linear(_ range: ClosedRange<Double>, count: Int = 5) -> (range: ClosedRange<Double>, ticks: [Double]) {
    var (lo, hi) = (range.lowerBound, range.upperBound)
    if !(hi > lo) {
      let pad = lo == 0 ? 1 : abs(lo) * 0.1
      (lo, hi) = (lo - pad, hi + pad)
    }
    let step = nice(nice(hi - lo, round: false) / Double(max(1, count - 1)), round: true)
    let first = floor(lo / step) * step
    let last = ceil(hi / step) * step
    var ticks: [Double] = []
    var t = first
    while t <= last + step * 1e-9 {
      ticks.append(abs(t) < step * 1e-9 ? 0 : t)
      t += step
    }
    return (first...last, ticks)
  }

  /// Ticks for a logarithmic axis over positive `range`, as log10 values: every decade (every
  /// k-th when there are many), plus 2 and 5 times each decade when the range spans at most two.
  /// The axis range is widened to whole decades.
  static func logarithmic(_ range: ClosedRange<Double>) -> (range: ClosedRange<Double>, ticks: [Double]) {
    var lo = floor(log10(range.lowerBound))
    var hi = ceil(log10(range.upperBound))
    if hi <= lo { (lo, hi) = (lo - 1, lo + 1) }
    let every = max(1, Int(ceil((hi - lo) / 6)))
    var ticks = stride(from: lo, through: hi, by: Double(every)).map { $0 }
    if hi - lo <= 2 {
      ticks = stride(from: lo, to: hi, by: 1).flatMap { [$0, $0 + log10(2), $0 + log10(5)] } + [hi]
    }
    return (lo...hi, ticks)
  }

  /// A short label: up to four significant digits, or m e k (two digits of mantissa) for values
  /// below 1e-3 or from 1e5 on.
  static func label(_ v: Double) -> String {
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e-3 && a < 1e5 {
      var s = String(format: "%.4g", v)
      if s.contains("e") { s = String(format: "%.4f", v) }
      return s
    }
    var e = Int(floor(log10(a)))
    var m = (v / pow(10, Double(e)) * 10).rounded() / 10
    if abs(m) >= 10 {
      m /= 10
      e += 1
    }
    let mantissa = m == m.rounded() ? String(Int(m)) : String(format: "%.1f", m)
    return mantissa + "e" + String(e)
  }
}

/// A line plot: axes with ticks and labels, a title, one or more series and a legend.
///
/// ```
/// let plot = LinePlot(title: "u(x) at T", xLabel: "x", yLabel: "u",
///                     series: [LineSeries(x: xs, y: us, color: LinePlot.palette[0])])
/// var image = RGBImage(width: 400, height: 260)
/// let area = plot.draw(into: &image, in: PixelRect(x: 0, y: 0, width: 400, height: 260))
/// ```
public struct LinePlot: Sendable {
  /// Title (first line) and an optional second line.
  public var title: String
  public var subtitle: String
  /// Axis labels.
  public var xLabel: String
  public var yLabel: String
  /// The curves.
  public var series: [LineSeries]
  /// Logarithmic y axis (decades labelled 1e-k).
  public var logY: Bool
  /// Fixed y range (default: the data's, widened to nice ticks).
  public var yRange: ClosedRange<Double>?

  /// Colours for successive series (colour-blind-safe, after Okabe and Ito).
  public static let palette: [RGB] = [
    RGB(0, 114, 178), RGB(213, 94, 0), RGB(0, 158, 115), RGB(204, 121, 167), RGB(86, 180, 233), RGB(230, 159, 0),
  ]

  public init(
    title: String, subtitle: String = "", xLabel: String, yLabel: String, series: [LineSeries], logY: Bool = false,
    yRange: ClosedRange<Double>? = nil
  ) {
    self.title = title
    self.subtitle = subtitle
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
    self.logY = logY
    self.yRange = yRange
  }

  /// Whether a value can be placed on the y axis.
  private func showable(_ y: Double) -> Bool { y.isFinite && (!logY || y > 0) }

  /// Draws the plot inside `rect` and returns the data-to-pixel mapping of its inner area.
  @discardableResult
  public func draw(into image: inout RGBImage, in rect: PixelRect) -> PlotArea {
    let lh = BitmapFont.lineHeight
    let header = PanelHeader(title: title, subtitle: subtitle, width: rect.width - 8)
    // Data ranges.
    let xs = series.flatMap { $0.x }.filter(\.isFinite)
    let ys = series.flatMap { $0.y }.filter(showable)
    let xData = (xs.min() ?? 0)...(xs.max() ?? 1)
    let yData = yRange ?? ((ys.min() ?? (logY ? 0.1 : 0))...(ys.max() ?? (logY ? 1 : 1)))
    let xt = Ticks.linear(xData)
    let yt = logY ? Ticks.logarithmic(yData) : Ticks.linear(yData)
    let xRange = xData.upperBound > xData.lowerBound ? xData : xt.range
    let yLabels = yt.ticks.map { Ticks.label(logY ? pow(10, $0) : $0) }
    let yLabelWidth = yLabels.map { BitmapFont.width(of: $0) }.max() ?? 0
    let inner = rect.inset(left: 6 + lh + yLabelWidth + 6, top: header.height + 2, right: 14, bottom: 4 + 2 * lh + 8)
    let area = PlotArea(rect: inner, xRange: xRange, yRange: yt.range, logY: logY)
    guard inner.width > 4, inner.height > 4 else { return area }

    let centre = inner.x + inner.width / 2
    header.draw(into: &image, centerX: rect.x + rect.width / 2, y: rect.y)
    // Grid lines and ticks.
    for (t, label) in zip(yt.ticks, yLabels) {
      let fy = (t - yt.range.lowerBound) / (yt.range.upperBound - yt.range.lowerBound)
      let py = inner.maxY - 1 - Int((fy * Double(inner.height - 1)).rounded())
      image.fill(PixelRect(x: inner.x, y: py, width: inner.width, height: 1), .lightGrey)
      image.fill(PixelRect(x: inner.x - 4, y: py, width: 4, height: 1), .darkGrey)
      BitmapFont.draw(
        label, into: &image, x: inner.x - 6 - BitmapFont.width(of: label), y: py - BitmapFont.glyphHeight / 2,
        color: .darkGrey)
    }
    for t in xt.ticks where t >= xRange.lowerBound - 1e-12 && t <= xRange.upperBound + 1e-12 {
      guard let p = area.pixel(x: t, y: logY ? pow(10, yt.range.lowerBound) : yt.range.lowerBound) else { continue }
      image.fill(PixelRect(x: p.x, y: inner.y, width: 1, height: inner.height), .lightGrey)
      image.fill(PixelRect(x: p.x, y: inner.maxY, width: 1, height: 4), .darkGrey)
      BitmapFont.drawCentred(Ticks.label(t), into: &image, centerX: p.x, y: inner.maxY + 6, color: .darkGrey)
    }
    image.stroke(inner.inset(left: -1, top: -1, right: -1, bottom: -1), .darkGrey)
    // Axis labels.
    BitmapFont.drawCentred(xLabel, into: &image, centerX: centre, y: inner.maxY + 6 + lh, color: .black)
    let yl = BitmapFont.fitted(yLabel, maxWidth: inner.height)
    BitmapFont.draw(
      yl, into: &image, x: rect.x + 4, y: inner.y + inner.height / 2 + BitmapFont.width(of: yl) / 2, rotated: true)

    // Series: dashed reference lines first, so that data drawn over them stays visible.
    for s in series.filter(\.dashed) + series.filter({ !$0.dashed }) {
      var previous: (x: Int, y: Int)? = nil
      for (x, y) in zip(s.x, s.y) {
        guard showable(y), let p = area.pixel(x: x, y: y) else {
          previous = nil
          continue
        }
        if let q = previous {
          image.drawLine(from: q, to: p, color: s.color, thickness: 2, dash: s.dashed ? 5 : nil)
        } else if !s.markers {
          image.fill(PixelRect(x: p.x, y: p.y, width: 2, height: 2), s.color)
        }
        if s.markers { image.fill(PixelRect(x: p.x - 1, y: p.y - 1, width: 3, height: 3), s.color) }
        previous = p
      }
    }
    // Legend: one line per labelled series, in the inner corner that hides the fewest curve pixels.
    let labelled = series.filter { !$0.label.isEmpty }
    if labelled.count > 1 || labelled.contains(where: \.dashed) {
      let w = (labelled.map { BitmapFont.width(of: $0.label) }.max() ?? 0) + 22
      let (bw, bh) = (w + 2, labelled.count * lh + 4)
      let colors = Set(series.map(\.color))
      let corners = [
        PixelRect(x: inner.maxX - bw - 4, y: inner.y + 4, width: bw, height: bh),
        PixelRect(x: inner.x + 4, y: inner.y + 4, width: bw, height: bh),
        PixelRect(x: inner.maxX - bw - 4, y: inner.maxY - bh - 4, width: bw, height: bh),
        PixelRect(x: inner.x + 4, y: inner.maxY - bh - 4, width: bw, height: bh),
      ]
      let hidden = corners.map { r in
        (max(0, r.y)..<min(image.height, r.maxY)).reduce(0) { n, y in
          n + (max(0, r.x)..<min(image.width, r.maxX)).filter { colors.contains(image[$0, y]) }.count
        }
      }
      let box = corners[hidden.indices.min { hidden[$0] < hidden[$1] }!]
      image.fill(box, .white)
      image.stroke(box, .lightGrey)
      for (k, s) in labelled.enumerated() {
        let y = box.y + 3 + k * lh
        image.drawLine(
          from: (box.x + 3, y + 3), to: (box.x + 14, y + 3), color: s.color, thickness: 2, dash: s.dashed ? 3 : nil)
        BitmapFont.draw(s.label, into: &image, x: box.x + 18, y: y, color: .black)
      }
    }
    return area
  }
}
