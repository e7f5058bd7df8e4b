// An 8-bit RGB raster for PDEKit's figures, with the few drawing primitives the figures need
// (filled rectangles, lines, blits) and PNG input/output through libpng's simplified `png_image`
// API (libpng 1.6), which compresses with zlib and reports errors in the image's message field
// rather than by longjmp. No anti-aliasing: figures are drawn on an integer pixel grid, so that
// tests can decode a PNG and check exact colours.
import CPNG
import Foundation

/// An 8-bit sRGB colour.
public struct RGB: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var r: UInt8
  public var g: UInt8
  public var b: UInt8

  /// A colour from its 8-bit channels.
  public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
    self.r = r
    self.g = g
    self.b = b
  }

  /// A colour from channels in [0, 1] (clamped, rounded to the nearest 8-bit value).
  public init(unit r: Double, _ g: Double, _ b: Double) {
    func q(_ v: Double) -> UInt8 { UInt8((min(1, max(0, v)) * 255).rounded()) }
    self.init(q(r), q(g), q(b))
  }

  public static let white = RGB(255, 255, 255)
  public static let black = RGB(0, 0, 0)
  /// Axis and text grey.
  public static let darkGrey = RGB(64, 64, 64)
  /// Grid-line and missing-value grey.
  public static let lightGrey = RGB(215, 215, 215)

  public var description: String { "RGB(\(r), \(g), \(b))" }
}

/// A rectangle of pixels: `x`, `y` of the top-left corner (y grows downwards), width and height.
public struct PixelRect: Equatable, Sendable {
  public var x: Int
  public var y: Int
  public var width: Int
  public var height: Int

  public init(x: Int, y: Int, width: Int, height: Int) {
    self.x = x
    self.y = y
    self.width = width
    self.height = height
  }

  /// One past the right-most column.
  public var maxX: Int { x + width }
  /// One past the bottom row.
  public var maxY: Int { y + height }

  /// The rectangle shrunk by the given margins.
  public func inset(left: Int = 0, top: Int = 0, right: Int = 0, bottom: Int = 0) -> PixelRect {
    PixelRect(x: x + left, y: y + top, width: max(0, width - left - right), height: max(0, height - top - bottom))
  }
}

/// Errors of the plotting layer: what failed, on which file, and what to do.
public enum PlotError: Error, CustomStringConvertible, LocalizedError, Equatable {
  /// A request that does not fit the data (unknown variable, sample out of range, ...).
  case invalidArgument(String)
  /// A file that could not be read or written (PNG, training log).
  case io(String)

  public var description: String {
    switch self {
    case .invalidArgument(let s), .io(let s): return s
    }
  }
  public var errorDescription: String? { description }
}

/// An 8-bit RGB image, rows top to bottom, three bytes per pixel.
///
/// ```
/// var image = RGBImage(width: 200, height: 100)
/// image.fill(PixelRect(x: 10, y: 10, width: 50, height: 20), .black)
/// try image.writePNG(to: URL(fileURLWithPath: "fig.png"))
/// ```
public struct RGBImage: Equatable, Sendable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// Interleaved R, G, B bytes, row-major from the top row.
  public private(set) var bytes: [UInt8]

  /// A blank image filled with `background`.
  public init(width: Int, height: Int, background: RGB = .white) {
    precondition(width > 0 && height > 0, "image size must be positive")
    self.width = width
    self.height = height
    var b = [UInt8](repeating: 0, count: width * height * 3)
    for i in stride(from: 0, to: b.count, by: 3) {
      b[i] = background.r
      b[i + 1] = background.g
      b[i + 2] = background.b
    }
    bytes = b
  }

  /// The pixel at column `x`, row `y` (top row 0). Writes outside the image are ignored.
  public subscript(x: Int, y: Int) -> RGB {
    get {
      precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
      let i = (y * width + x) * 3
      return RGB(bytes[i], bytes[i + 1], bytes[i + 2])
    }
    set {
      guard x >= 0, x < width, y >= 0, y < height else { return }
      let i = (y * width + x) * 3
      bytes[i] = newValue.r
      bytes[i + 1] = newValue.g
      bytes[i + 2] = newValue.b
    }
  }

  /// Fills `rect` (clipped to the image) with `color`.
  public mutating func fill(_ rect: PixelRect, _ color: RGB) {
    let x0 = max(0, rect.x)
    let x1 = min(width, rect.maxX)
    let y0 = max(0, rect.y)
    let y1 = min(height, rect.maxY)
    guard x0 < x1, y0 < y1 else { return }
    let w = width
    bytes.withUnsafeMutableBufferPointer { p in
      for y in y0..<y1 {
        for x in x0..<x1 {
          let i = (y * w + x) * 3
          p[i] = color.r
          p[i + 1] = color.g
          p[i + 2] = color.b
        }
      }
    }
  }

  /// Draws the outline of `rect` one pixel wide.
  public mutating func stroke(_ rect: PixelRect, _ color: RGB) {
    fill(PixelRect(x: rect.x, y: rect.y, width: rect.width, height: 1), color)
    fill(PixelRect(x: rect.x, y: rect.maxY - 1, width: rect.width, height: 1), color)
    fill(PixelRect(x: rect.x, y: rect.y, width: 1, height: rect.height), color)
    fill(PixelRect(x: rect.maxX - 1, y: rect.y, width: 1, height: rect.height), color)
  }

  /// Draws a straight line between pixel centres (Bresenham), `thickness` pixels wide (a square
  /// brush centred on the line), optionally dashed (`dash` pixels on, `dash` off).
  public mutating func drawLine(
    from p0: (x: Int, y: Int), to p1: (x: Int, y: Int), color: RGB, thickness: Int = 1, dash: Int? = nil
  ) {
    var (x, y) = p0
    let dx = abs(p1.x - x)
    let dy = -abs(p1.y - y)
    let sx = x < p1.x ? 1 : -1
    let sy = y < p1.y ? 1 : -1
    var err = dx + dy
    let lo = -(thickness - 1) / 2
    let hi = thickness / 2
    var step = 0
    while true {
      if dash.map({ (step / max(1, $0)) % 2 == 0 }) ?? true {
        for oy in lo...hi { for ox in lo...hi { self[x + ox, y + oy] = color } }
      }
      step += 1
      if x == p1.x && y == p1.y { break }
      let e2 = 2 * err
      if e2 >= dy {
        err += dy
        x += sx
      }
      if e2 <= dx {
        err += dx
        y += sy
      }
    }
  }

  // MARK: PNG

  /// Writes the image as an 8-bit RGB PNG (libpng, zlib compression).
  public func writePNG(to url: URL) throws {
    var image = png_image()
    image.version = png_uint_32(PNG_IMAGE_VERSION)
    image.width = png_uint_32(width)
    image.height = png_uint_32(height)
    image.format = png_uint_32(PNG_FORMAT_RGB)
    let ok = bytes.withUnsafeBufferPointer { p in
      png_image_write_to_file(&image, url.path, 0, p.baseAddress, png_int_32(width * 3), nil)
    }
    if ok == 0 {
      let message = Self.message(of: &image)
      png_image_free(&image)
      throw PlotError.io(
        "cannot write the PNG \(url.path): \(message) (check that the directory exists and is writable)")
    }
  }

  /// Reads a PNG file (any bit depth or colour type libpng reads) as 8-bit RGB; transparency is
  /// composited onto white.
  public static func readPNG(from url: URL) throws -> RGBImage {
    var image = png_image()
    image.version = png_uint_32(PNG_IMAGE_VERSION)
    guard png_image_begin_read_from_file(&image, url.path) != 0 else {
      let message = Self.message(of: &image)
      png_image_free(&image)
      throw PlotError.io("cannot read the PNG \(url.path): \(message)")
    }
    image.format = png_uint_32(PNG_FORMAT_RGB)
    let (w, h) = (Int(image.width), Int(image.height))
    guard w > 0, h > 0 else {
      png_image_free(&image)
      throw PlotError.io("\(url.path): the PNG has no pixels")
    }
    var result = RGBImage(width: w, height: h)
    var background = png_color(red: 255, green: 255, blue: 255)
    let ok = result.bytes.withUnsafeMutableBufferPointer { p in
      png_image_finish_read(&image, &background, p.baseAddress, png_int_32(w * 3), nil)
    }
    guard ok != 0 else {
      let message = Self.message(of: &image)
      png_image_free(&image)
      throw PlotError.io("cannot decode the PNG \(url.path): \(message)")
    }
    return result
  }

  /// libpng's error text (a NUL-terminated char[64] inside `png_image`).
  private static func message(of image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
  }
}
