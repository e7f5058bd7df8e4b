// A figure: a title over a grid of equally sized panels (heatmaps or line plots), rendered to one
// RGB image.

/// One cell of a figure.
public enum Panel: Sendable {
  case heatmap(Heatmap)
  case line(LinePlot)
  /// An empty cell (keeps the columns of a grid aligned).
  case empty

  /// Draws the panel into `rect`.
  func draw(into image: inout RGBImage, in rect: PixelRect) {
    switch self {
    case .heatmap(let h): h.draw(into: &image, in: rect)
    case .line(let l): l.draw(into: &image, in: rect)
    case .empty: break
    }
  }
}

/// Panels laid out in rows under a title.
///
/// ```
/// let figure = Figure(title: "darcy.nc", rows: [[.heatmap(a), .heatmap(u)]])
/// try figure.render().writePNG(to: url)
/// ```
public struct Figure: Sendable {
  /// Figure title, drawn at twice the label size.
  public var title: String
  /// Rows of panels; shorter rows are padded with empty cells.
  public var rows: [[Panel]]
  /// Size of every panel cell in pixels.
  public var panelWidth: Int
  public var panelHeight: Int

  /// Default cell sizes: heatmaps are near-square, line plots wider.
  public static let heatmapCell = (width: 280, height: 250)
  public static let lineCell = (width: 420, height: 270)

  public init(title: String, rows: [[Panel]], panelWidth: Int? = nil, panelHeight: Int? = nil) {
    self.title = title
    self.rows = rows
    let anyHeatmap = rows.joined().contains { if case .heatmap = $0 { return true } else { return false } }
    self.panelWidth = panelWidth ?? (anyHeatmap ? Self.heatmapCell.width : Self.lineCell.width)
    self.panelHeight = panelHeight ?? (anyHeatmap ? Self.heatmapCell.height : Self.lineCell.height)
  }

  /// Height of the title band.
  static let titleHeight = 2 * BitmapFont.lineHeight + 12

  /// The rectangle of panel (`row`, `column`) in the rendered image.
  public func cell(row: Int, column: Int) -> PixelRect {
    PixelRect(
      x: column * panelWidth, y: Self.titleHeight + row * panelHeight, width: panelWidth, height: panelHeight)
  }

  /// Renders the figure.
  public func render() -> RGBImage {
    let columns = max(1, rows.map(\.count).max() ?? 1)
    let width = max(columns * panelWidth, BitmapFont.width(of: title, scale: 2) + 20)
    var image = RGBImage(width: width, height: Self.titleHeight + max(1, rows.count) * panelHeight)
    BitmapFont.drawCentred(
      BitmapFont.fitted(title, maxWidth: width - 8, scale: 2), into: &image, centerX: width / 2, y: 8, scale: 2)
    for (r, row) in rows.enumerated() {
      for (c, panel) in row.enumerated() { panel.draw(into: &image, in: cell(row: r, column: c)) }
    }
    return image
  }
}

/// The header of a panel: the title wrapped to at most two lines, then the subtitle in grey.
struct PanelHeader {
  var lines: [(text: String, color: RGB)]

  init(title: String, subtitle: String, width: Int) {
    lines = BitmapFont.wrapped(title, maxWidth: width).map { ($0, RGB.black) }
    if !subtitle.isEmpty { lines.append((BitmapFont.fitted(subtitle, maxWidth: width), .darkGrey)) }
  }

  /// Lines reserved whatever the header holds, so that the panels of a row line up.
  static let reservedLines = 3

  /// Pixels the header takes, margins included.
  var height: Int { 4 + max(Self.reservedLines, lines.count) * BitmapFont.lineHeight + 4 }

  /// Draws the lines centred on `centerX`, bottom-aligned in the header that starts at `y`.
  func draw(into image: inout RGBImage, centerX: Int, y: Int) {
    let first = y + 4 + max(0, Self.reservedLines - lines.count) * BitmapFont.lineHeight
    for (k, line) in lines.enumerated() {
      BitmapFont.drawCentred(
        line.text, into: &image, centerX: centerX, y: first + k * BitmapFont.lineHeight, color: line.color)
    }
  }
}
