// Heatmaps of 2D fields: every grid cell becomes a block of pixels coloured by viridis, with
// y increasing upwards (row 0 of the field, the smallest y, at the bottom, as `origin='lower'`
// in matplotlib), a two-line title and a colorbar labelled with the range and the units.
import Foundation

/// A 2D field drawn as a viridis heatmap with a colorbar.
///
/// ```
/// let map = Heatmap(values: u, rows: ny, columns: nx, title: "pressure u", subtitle: "sample 0", units: "1")
/// var image = RGBImage(width: 260, height: 240)
/// let layout = map.draw(into: &image, in: PixelRect(x: 0, y: 0, width: 260, height: 240))
/// ```
public struct Heatmap: Sendable {
  /// Field values, row-major `[rows][columns]`, row 0 at the smallest y (drawn at the bottom).
  public var values: [Float]
  /// Grid extents: `rows` along y, `columns` along x.
  public var rows: Int
  public var columns: Int
  /// Title (the variable's `long_name`) and a second line (sample, time, ...).
  public var title: String
  public var subtitle: String
  /// CF units, shown under the colorbar (nil: none).
  public var units: String?
  /// Value mapped to viridis(0) and viridis(1); default the finite minimum and maximum.
  public var range: ClosedRange<Float>?

  public init(
    values: [Float], rows: Int, columns: Int, title: String, subtitle: String = "", units: String? = nil,
    range: ClosedRange<Float>? = nil
  ) {
    precondition(values.count == rows * columns && rows > 0 && columns > 0, "heatmap needs rows × columns values")
    self.values = values
    self.rows = rows
    self.columns = columns
    self.title = title
    self.subtitle = subtitle
    self.units = units
    self.range = range
  }

  /// The finite minimum and maximum of `values` (nil if none is finite).
  public static func finiteRange(_ values: [Float]) -> ClosedRange<Float>? {
    var lo = Float.infinity
    var hi = -Float.infinity
    for v in values where v.isFinite {
      lo = min(lo, v)
      hi = max(hi, v)
    }
    return lo <= hi ? lo...hi : nil
  }

  /// Where the parts of a drawn heatmap are.
  public struct Layout: Sendable, Equatable {
    /// The field's pixels.
    public var field: PixelRect
    /// The colorbar's gradient (bottom = range minimum).
    public var colorbar: PixelRect
    /// The values at the bottom and top of the colorbar.
    public var range: ClosedRange<Float>
  }

  /// Horizontal room the colorbar and its labels take to the right of the field.
  static let colorbarWidth = 12
  static let colorbarLabelRoom = 8 * BitmapFont.advance + 8

  /// Draws the heatmap into `rect` of `image`; the field keeps the grid's aspect ratio (square cells).
  @discardableResult
  public func draw(into image: inout RGBImage, in rect: PixelRect) -> Layout {
    let lh = BitmapFont.lineHeight
    let range = self.range ?? Self.finiteRange(values) ?? 0...1
    let header = PanelHeader(title: title, subtitle: subtitle, width: rect.width - 8)
    let available = rect.inset(
      left: 6, top: header.height, right: 6 + Self.colorbarWidth + Self.colorbarLabelRoom, bottom: 6 + lh)
    // Largest box with the grid's aspect ratio.
    let scale = min(Double(available.width) / Double(columns), Double(available.height) / Double(rows))
    let fw = max(1, Int(Double(columns) * scale))
    let fh = max(1, Int(Double(rows) * scale))
    let field = PixelRect(x: available.x, y: available.y, width: fw, height: fh)
    let bar = PixelRect(x: field.maxX + 8, y: field.y, width: Self.colorbarWidth, height: fh)

    header.draw(into: &image, centerX: rect.x + rect.width / 2, y: rect.y)

    // Field: each pixel takes the colour of the cell under its centre.
    let lut = Viridis.lookupTable
    let (lo, span) = (Double(range.lowerBound), Double(range.upperBound - range.lowerBound))
    func color(_ v: Float) -> RGB {
      guard v.isFinite else { return .lightGrey }
      let t = span > 0 ? (Double(v) - lo) / span : 0.5
      return lut[Int((min(1, max(0, t)) * 255).rounded())]
    }
    values.withUnsafeBufferPointer { p in
      for py in 0..<fh {
        let row = rows - 1 - min(rows - 1, Int((Double(py) + 0.5) / Double(fh) * Double(rows)))
        for px in 0..<fw {
          let col = min(columns - 1, Int((Double(px) + 0.5) / Double(fw) * Double(columns)))
          image[field.x + px, field.y + py] = color(p[row * columns + col])
        }
      }
    }
    image.stroke(field.inset(left: -1, top: -1, right: -1, bottom: -1), .darkGrey)

    // Colorbar: bottom row viridis(0), top row viridis(1), labelled max / mid / min and units.
    for py in 0..<fh {
      let t = fh > 1 ? Double(fh - 1 - py) / Double(fh - 1) : 0.5
      image.fill(PixelRect(x: bar.x, y: bar.y + py, width: bar.width, height: 1), lut[Int((t * 255).rounded())])
    }
    image.stroke(bar.inset(left: -1, top: -1, right: -1, bottom: -1), .darkGrey)
    let labelX = bar.maxX + 6
    let mid = (range.lowerBound + range.upperBound) / 2
    let labels: [(Float, Int)] = [(range.upperBound, bar.y), (mid, bar.y + fh / 2), (range.lowerBound, bar.maxY - 1)]
    for (v, y) in labels {
      image.fill(PixelRect(x: bar.maxX, y: y, width: 3, height: 1), .darkGrey)
      BitmapFont.draw(
        Ticks.label(Double(v)), into: &image, x: labelX, y: y - BitmapFont.glyphHeight / 2, color: .darkGrey)
    }
    if let units, !units.isEmpty {
      let text = BitmapFont.fitted("[\(units)]", maxWidth: Self.colorbarWidth + Self.colorbarLabelRoom)
      BitmapFont.draw(text, into: &image, x: bar.x, y: bar.maxY + 6, color: .darkGrey)
    }
    return Layout(field: field, colorbar: bar, range: range)
  }
}
