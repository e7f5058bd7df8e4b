// A 5×7 bitmap font for figure labels: printable ASCII plus a few symbols that appear in PDEKit's
// variable descriptions and units (², ³, ·, °, ±, µ, ×, en/em dash, minus sign). Glyphs were drawn
// for PDEKit on a 5-wide, 7-high grid; each advances 6 pixels (one blank column) and lines are 9
// pixels apart, times the integer scale. The descenders of g, j, p, q, y and µ take an eighth row
// below the baseline. Characters without a glyph are drawn as '?'.

/// The built-in bitmap font used for titles, tick labels and legends.
///
/// ```
/// BitmapFont.draw("u(x, t)", into: &image, x: 10, y: 4, color: .black, scale: 2)
/// let w = BitmapFont.width(of: "u(x, t)", scale: 2)     // 84 pixels
/// ```
public enum BitmapFont {
  /// Glyph width and height in font pixels.
  public static let glyphWidth = 5
  public static let glyphHeight = 7
  /// Horizontal advance per character and line spacing, in font pixels.
  public static let advance = 6
  public static let lineHeight = 9

  /// Seven rows of five cells per glyph (eight for descenders), top row first, '#' = ink.
  static let source: [Character: String] = [
    " ": "..... ..... ..... ..... ..... ..... .....",
    "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
    "\"": ".#.#. .#.#. ..... ..... ..... ..... .....",
    "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
    "$": "..#.. .#### #.#.. .###. ..#.# ####. ..#..",
    "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
    "&": ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#",
    "'": "..#.. ..#.. ..... ..... ..... ..... .....",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
    ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    "*": "..... ..#.. #.#.# .###. #.#.# ..#.. .....",
    "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...",
    "-": "..... ..... ..... ##### ..... ..... .....",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    "/": "..... ....# ...#. ..#.. .#... #.... .....",
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    ";": "..... .##.. .##.. ..... .##.. ..#.. .#...",
    "<": "...#. ..#.. .#... #.... .#... ..#.. ...#.",
    "=": "..... ..... ##### ..... ##### ..... .....",
    ">": ".#... ..#.. ...#. ....# ...#. ..#.. .#...",
    "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
    "@": ".###. #...# ....# .##.# #.#.# #.#.# .###.",
    "A": ".###. #...# #...# ##### #...# #...# #...#",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "D": "###.. #..#. #...# #...# #...# #..#. ###..",
    "E": "##### #.... #.... ####. #.... #.... #####",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####",
    "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
    "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    "[": ".###. .#... .#... .#... .#... .#... .###.",
    "\\": "..... #.... .#... ..#.. ...#. ....# .....",
    "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
    "^": "..#.. .#.#. #...# ..... ..... ..... .....",
    "_": "..... ..... ..... ..... ..... ..... #####",
    "`": ".#... ..#.. ..... ..... ..... ..... .....",
    "a": "..... ..... .###. ....# .#### #...# .####",
    "b": "#.... #.... #.##. ##..# #...# #...# ####.",
    "c": "..... ..... .###. #.... #.... #...# .###.",
    "d": "....# ....# .##.# #..## #...# #...# .####",
    "e": "..... ..... .###. #...# ##### #.... .###.",
    "f": "..##. .#..# .#... ###.. .#... .#... .#...",
    "g": "..... ..... .#### #...# #...# .#### ....# .###.",
    "h": "#.... #.... #.##. ##..# #...# #...# #...#",
    "i": "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
    "j": "...#. ..... ..##. ...#. ...#. ...#. #..#. .##..",
    "k": "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
    "l": ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "m": "..... ..... ##.#. #.#.# #.#.# #...# #...#",
    "n": "..... ..... #.##. ##..# #...# #...# #...#",
    "o": "..... ..... .###. #...# #...# #...# .###.",
    "p": "..... ..... ####. #...# #...# ####. #.... #....",
    "q": "..... ..... .#### #...# #...# .#### ....# ....#",
    "r": "..... ..... #.##. ##..# #.... #.... #....",
    "s": "..... ..... .###. #.... .###. ....# ####.",
    "t": ".#... .#... ###.. .#... .#... .#..# ..##.",
    "u": "..... ..... #...# #...# #...# #..## .##.#",
    "v": "..... ..... #...# #...# #...# .#.#. ..#..",
    "w": "..... ..... #...# #...# #.#.# #.#.# .#.#.",
    "x": "..... ..... #...# .#.#. ..#.. .#.#. #...#",
    "y": "..... ..... #...# #...# #...# .#### ....# .###.",
    "z": "..... ..... ##### ...#. ..#.. .#... #####",
    "{": "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.",
    "|": "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "}": ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#...",
    "~": "..... ..... .#... #.#.# ...#. ..... .....",
    "²": ".##.. ...#. ..#.. .###. ..... ..... .....",
    "³": ".##.. ..##. ...#. .##.. ..... ..... .....",
    "·": "..... ..... ..... ..#.. ..... ..... .....",
    "°": ".##.. #..#. .##.. ..... ..... ..... .....",
    "±": "..#.. ..#.. ##### ..#.. ..#.. ..... #####",
    "µ": "..... ..... #...# #...# #..## ###.# #.... #....",
    "×": "..... #...# .#.#. ..#.. .#.#. #...# .....",
    "–": "..... ..... ..... .###. ..... ..... .....",
    "—": "..... ..... ..... ##### ..... ..... .....",
    "−": "..... ..... ..... ##### ..... ..... .....",
  ]

  /// Each glyph as seven or eight 5-bit rows (bit 4 = left-most column).
  static let glyphs: [Character: [UInt8]] = source.mapValues { text in
    text.split(separator: " ").map { row in row.reduce(UInt8(0)) { ($0 << 1) | ($1 == "#" ? 1 : 0) } }
  }

  /// Width in pixels of `text` drawn at `scale` (the blank column after the last glyph excluded).
  public static func width(of text: String, scale: Int = 1) -> Int {
    text.isEmpty ? 0 : (text.count * advance - 1) * scale
  }

  /// Height in pixels of one line of text at `scale`.
  public static func height(scale: Int = 1) -> Int { glyphHeight * scale }

  /// `text` shortened with ".." so that it fits in `maxWidth` pixels at `scale`.
  public static func fitted(_ text: String, maxWidth: Int, scale: Int = 1) -> String {
    if width(of: text, scale: scale) <= maxWidth { return text }
    let n = max(0, (maxWidth / scale + 1) / advance - 2)
    return String(text.prefix(n)) + ".."
  }

  /// `text` broken at spaces into at most `maxLines` lines that fit `maxWidth` pixels (the last
  /// line shortened with ".." if the text is longer still).
  public static func wrapped(_ text: String, maxWidth: Int, maxLines: Int = 2, scale: Int = 1) -> [String] {
    var lines: [String] = []
    var current = ""
    var words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)[...]
    while let word = words.first {
      let candidate = current.isEmpty ? word : current + " " + word
      if width(of: candidate, scale: scale) <= maxWidth || current.isEmpty {
        current = candidate
        words.removeFirst()
      } else {
        if lines.count == maxLines - 1 { break }
        lines.append(current)
        current = ""
      }
    }
    let rest = ([current] + words).filter { !$0.isEmpty }.joined(separator: " ")
    lines.append(fitted(rest, maxWidth: maxWidth, scale: scale))
    return lines.filter { !$0.isEmpty }
  }

  /// Draws `text` with the top-left corner of its first glyph at (`x`, `y`). With `rotated`, the
  /// text runs upwards (rotated 90° anticlockwise, as a y-axis label) and (`x`, `y`) is the
  /// bottom-left corner of the first glyph.
  public static func draw(
    _ text: String, into image: inout RGBImage, x: Int, y: Int, color: RGB = .black, scale: Int = 1,
    rotated: Bool = false
  ) {
    for (k, ch) in text.enumerated() {
      guard let rows = glyphs[ch] ?? glyphs["?"] else { continue }
      let origin = k * advance
      for (r, bits) in rows.enumerated() {
        for c in 0..<glyphWidth where bits & (1 << (glyphWidth - 1 - c)) != 0 {
          // Glyph cell (c, r) → pixel block, unrotated: right along x, down along y.
          let (px, py) =
            rotated ? (x + r * scale, y - (origin + c + 1) * scale + 1) : (x + (origin + c) * scale, y + r * scale)
          image.fill(PixelRect(x: px, y: py, width: scale, height: scale), color)
        }
      }
    }
  }

  /// Draws `text` centred horizontally on `centerX`, top at `y`.
  public static func drawCentred(
    _ text: String, into image: inout RGBImage, centerX: Int, y: Int, color: RGB = .black, scale: Int = 1
  ) {
    draw(text, into: &image, x: centerX - width(of: text, scale: scale) / 2, y: y, color: color, scale: scale)
  }
}
