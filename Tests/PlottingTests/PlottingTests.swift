import Datasets
import Foundation
import Numerics
import Operators
import Testing

@testable import Plotting

func temporaryDirectory() throws -> URL {
  let d = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-plot-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
  return d
}

/// The description of the error `body` throws ("no error" if none).
func errorText(_ body: () throws -> Figure) -> String {
  do {
    _ = try body()
    return "no error"
  } catch { return "\(error)" }
}

/// The t ∈ [0, 1] whose viridis colour is nearest to `c` (searched on a 1/1020 grid).
func viridisParameter(_ c: RGB) -> Double {
  var best = (t: 0.0, d: Int.max)
  for k in 0...1020 {
    let v = Viridis.color(Double(k) / 1020)
    let d = [Int(v.r) - Int(c.r), Int(v.g) - Int(c.g), Int(v.b) - Int(c.b)].map { $0 * $0 }.reduce(0, +)
    if d < best.d { best = (Double(k) / 1020, d) }
  }
  return best.t
}

/// Writes a small dataset: `coefficient` (input) and `solution` (target) on ny × nx, optionally a
/// `solution_prediction`, a 1D variable on its own file, or a time-dependent target.
func writeDataset(
  at url: URL, samples: Int, ny: Int = 6, nx: Int = 8, prediction: Bool = false,
  field: (Int, Int, Int) -> Float
) throws {
  var variables = [
    DatasetVariable(name: "coefficient", role: .input, axes: ["y", "x"], longName: "permeability a", units: "1"),
    DatasetVariable(name: "solution", role: .target, axes: ["y", "x"], longName: "pressure u", units: "Pa"),
  ]
  if prediction {
    variables.append(
      DatasetVariable(
        name: "solution_prediction", role: .prediction, axes: ["y", "x"], longName: "FNO prediction of pressure u",
        units: "Pa"))
  }
  let schema = DatasetSchema(
    title: "plot test", pde: "darcy", equation: "-div(a grad u) = f", boundaryConditions: "u = 0",
    discretization: "finite volumes", solver: "cg", rtol: 1e-8, configJSON: "{}",
    axes: [.cellCentred("y", count: ny), .cellCentred("x", count: nx)], variables: variables)
  let w = try DatasetWriter.create(at: url, schema: schema)
  for s in 0..<samples {
    let u = try NDArray<Float>(shape: [ny, nx], data: (0..<ny * nx).map { field(s, $0 / nx, $0 % nx) })
    var fields = ["coefficient": u, "solution": 2 * u]
    if prediction { fields["solution_prediction"] = 2 * u + NDArray(shape: [ny, nx], repeating: 0.5) }
    try w.append(
      fields,
      diagnostics: SampleDiagnostics(
        seed: UInt64(s), iterations: Int32(10 + 5 * s), relativeResidual: pow(10, -Double(6 + s)),
        solveSeconds: 0.01 * Double(s + 1)))
  }
  try w.close()
}

@Suite("Plotting: colormap, font, PNG")
struct PlottingPrimitiveTests {
  @Test("viridis: the published end points, and entries between control points within 2/255")
  func viridis() {
    // matplotlib's 256-entry table (_cm_listed.py): entries 0, 100, 127, 200, 255.
    let table: [(Int, Double, Double, Double)] = [
      (0, 0.267004, 0.004874, 0.329415), (100, 0.166617, 0.463708, 0.558119), (127, 0.128729, 0.563265, 0.551229),
      (200, 0.440137, 0.811138, 0.340967), (255, 0.993248, 0.906157, 0.143936),
    ]
    for (i, r, g, b) in table {
      let c = Viridis.color(Double(i) / 255)
      for (got, want) in [(c.r, r), (c.g, g), (c.b, b)] { #expect(abs(Double(got) - want * 255) <= 2, "entry \(i)") }
    }
    #expect(Viridis.color(0) == RGB(68, 1, 84) && Viridis.color(1) == RGB(253, 231, 37))
    #expect(Viridis.color(-3) == Viridis.color(0) && Viridis.color(7) == Viridis.color(1))
    // Lightness (Rec. 709 luma) increases monotonically along the map.
    var last = -1.0
    for k in 0...255 {
      let c = Viridis.color(Double(k) / 255)
      let luma = 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b)
      #expect(luma >= last - 0.5)
      last = luma
    }
  }

  @Test("PNG round trip through libpng: size and every pixel")
  func pngRoundTrip() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var image = RGBImage(width: 37, height: 23)
    for y in 0..<23 { for x in 0..<37 { image[x, y] = RGB(UInt8(x * 7), UInt8(y * 11), UInt8((x * y) % 256)) } }
    let url = dir.appendingPathComponent("a.png")
    try image.writePNG(to: url)
    let bytes = try Data(contentsOf: url)
    // PNG signature, then the IHDR chunk: width and height big-endian, bit depth 8, colour type 2 (RGB).
    #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR")
    let be = { (o: Int) in bytes[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
    #expect(be(16) == 37 && be(20) == 23 && bytes[24] == 8 && bytes[25] == 2)
    #expect(try RGBImage.readPNG(from: url) == image)
  }

  @Test("PNG errors name the file")
  func pngErrors() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let missing = dir.appendingPathComponent("no/such/dir/a.png")
    #expect(throws: PlotError.self) { try RGBImage(width: 2, height: 2).writePNG(to: missing) }
    do { try RGBImage(width: 2, height: 2).writePNG(to: missing) } catch let e as PlotError {
      #expect(e.description.contains("no/such/dir/a.png"))
    }
    let notPNG = dir.appendingPathComponent("b.png")
    try Data("not a png".utf8).write(to: notPNG)
    #expect(throws: PlotError.self) { _ = try RGBImage.readPNG(from: notPNG) }
  }

  @Test("bitmap font: glyph ink where the table says, width, wrapping and rotation")
  func font() {
    var image = RGBImage(width: 40, height: 20)
    BitmapFont.draw("T1", into: &image, x: 2, y: 3, color: .black)
    // 'T': full top row, then only the centre column.
    for c in 0..<5 { #expect(image[2 + c, 3] == .black) }
    #expect(image[4, 6] == .black && image[2, 6] == .white && image[6, 6] == .white)
    // '1' starts 6 pixels later: its base row ".###." at row 6.
    #expect(image[8 + 1, 9] == .black && image[8, 9] == .white)
    #expect(BitmapFont.width(of: "T1") == 11 && BitmapFont.width(of: "T1", scale: 2) == 22)
    let lines = BitmapFont.wrapped("permeability a where the GRF is positive", maxWidth: 100)
    #expect(lines.count == 2 && lines.allSatisfy { BitmapFont.width(of: $0) <= 100 })
    #expect(lines[0] == "permeability a")
    // Rotated: the top row of 'T' becomes the left column, read upwards from (x, y).
    var r = RGBImage(width: 20, height: 20)
    BitmapFont.draw("T", into: &r, x: 3, y: 15, rotated: true)
    for c in 0..<5 { #expect(r[3, 15 - c] == .black) }
    #expect(r[4, 15] == .white && r[5, 13] == .black)
  }
}

@Suite("Plotting: heatmaps and line plots")
struct PlottingPanelTests {
  @Test("heatmap: min cell is viridis(0), max cell viridis(1), y up, colorbar monotone from min to max")
  func heatmap() {
    let (ny, nx) = (4, 5)
    // Values increase with the flat index except the minimum at (row 0, col 3) and maximum at (row 3, col 1).
    var v = (0..<ny * nx).map { Float($0) }
    v[0 * nx + 3] = -7
    v[3 * nx + 1] = 42
    var image = RGBImage(width: 300, height: 260)
    let map = Heatmap(values: v, rows: ny, columns: nx, title: "pressure u", subtitle: "sample 0", units: "Pa")
    let layout = map.draw(into: &image, in: PixelRect(x: 0, y: 0, width: 300, height: 260))
    #expect(layout.range == -7...42)
    let f = layout.field
    // Centre pixel of cell (row, col); row 0 is the bottom.
    func centre(_ row: Int, _ col: Int) -> RGB {
      image[
        f.x + Int((Double(col) + 0.5) * Double(f.width) / Double(nx)),
        f.maxY - 1 - Int((Double(row) + 0.5) * Double(f.height) / Double(ny))]
    }
    #expect(centre(0, 3) == Viridis.color(0))
    #expect(centre(3, 1) == Viridis.color(1))
    // Square cells: the field keeps the 5:4 aspect ratio.
    #expect(abs(Double(f.width) / Double(f.height) - 1.25) < 0.02)
    // A cell in between: value 12 at (row 2, col 2) → t = 19/49.
    #expect(abs(viridisParameter(centre(2, 2)) - 19.0 / 49.0) < 0.01)
    // Colorbar: bottom viridis(0), top viridis(1), monotone upwards.
    let bar = layout.colorbar
    let x = bar.x + bar.width / 2
    #expect(image[x, bar.maxY - 1] == Viridis.color(0) && image[x, bar.y] == Viridis.color(1))
    var last = -1.0
    for y in stride(from: bar.maxY - 1, through: bar.y, by: -1) {
      let t = viridisParameter(image[x, y])
      #expect(t >= last)
      last = t
    }
    // Labels (dark ink) right of the colorbar at the top and bottom, none inside the field.
    let hasInk = { (r: PixelRect) in
      (r.y..<r.maxY).contains { y in (r.x..<r.maxX).contains { image[$0, y] == .darkGrey } }
    }
    #expect(hasInk(PixelRect(x: bar.maxX + 4, y: bar.y - 4, width: 40, height: 9)))
    #expect(hasInk(PixelRect(x: bar.maxX + 4, y: bar.maxY - 5, width: 40, height: 9)))
    #expect(hasInk(PixelRect(x: bar.x, y: bar.maxY + 4, width: 40, height: 9)))  // units "[Pa]"
  }

  @Test("heatmap: NaN cells grey, a constant field mid-colour")
  func heatmapEdgeCases() {
    var image = RGBImage(width: 200, height: 200)
    let l = Heatmap(values: [1, .nan, 1, 1], rows: 2, columns: 2, title: "c").draw(
      into: &image, in: PixelRect(x: 0, y: 0, width: 200, height: 200))
    #expect(image[l.field.x + 3 * l.field.width / 4, l.field.maxY - 1 - l.field.height / 4] == .lightGrey)
    #expect(image[l.field.x + l.field.width / 4, l.field.y + l.field.height / 4] == Viridis.lookupTable[128])
  }

  @Test("line plot: the curve's pixels lie where the axes map its points; log axis by decades")
  func linePlot() {
    let xs = (0...20).map { Double($0) / 20 }
    let ys = xs.map { 3 * $0 - 1 }
    let color = LinePlot.palette[1]
    let plot = LinePlot(
      title: "u", xLabel: "x", yLabel: "u", series: [LineSeries(label: "u", x: xs, y: ys, color: color)])
    var image = RGBImage(width: 400, height: 260)
    let area = plot.draw(into: &image, in: PixelRect(x: 0, y: 0, width: 400, height: 260))
    // Nice y ticks cover [-1, 2] exactly; the x range is the data's.
    #expect(area.yRange == -1...2 && area.xRange == 0...1)
    for (x, y) in zip(xs, ys) {
      let p = area.pixel(x: x, y: y)!
      #expect(image[p.x, p.y] == color, "point (\(x), \(y))")
    }
    // Far from the line (above it at x = 0.2) the plot is background or grid.
    let off = area.pixel(x: 0.2, y: 1.5)!
    #expect(image[off.x, off.y] != color)
    #expect(area.pixel(x: 0, y: -1)! == (area.rect.x, area.rect.maxY - 1))
    #expect(area.pixel(x: 1, y: 2)! == (area.rect.maxX - 1, area.rect.y))

    let log = LinePlot(
      title: "loss", xLabel: "epoch", yLabel: "loss",
      series: [LineSeries(x: [1, 2, 3], y: [0.5, 0.02, 0.003], color: color, markers: true)], logY: true)
    var image2 = RGBImage(width: 400, height: 260)
    let a2 = log.draw(into: &image2, in: PixelRect(x: 0, y: 0, width: 400, height: 260))
    #expect(a2.yRange == -3...0)
    let p = a2.pixel(x: 2, y: 0.02)!
    let expectedY = a2.rect.maxY - 1 - Int(((log10(0.02) + 3) / 3 * Double(a2.rect.height - 1)).rounded())
    #expect(p.y == expectedY && image2[p.x, p.y] == color)
    #expect(a2.pixel(x: 1, y: 0) == nil && a2.pixel(x: 1, y: -1) == nil)
  }
}

@Suite("Plotting: axis ticks")
struct TickTests {
  @Test("nice linear ticks (1, 2, 5 × 10^k) covering the data; decade and 1-2-5 log ticks; short labels")
  func ticks() {
    let a = Ticks.linear(0.013...0.97)
    #expect(a.range == 0...1 && a.ticks.count == 6 && abs(a.ticks[1] - 0.2) < 1e-12)
    let b = Ticks.linear(-3.2...7.9)
    #expect(b.range == -5...10 && b.ticks == [-5, 0, 5, 10])
    let c = Ticks.linear(5...5)  // a constant: widened around the value
    #expect(c.range.lowerBound < 5 && c.range.upperBound > 5)
    let d = Ticks.logarithmic(3e-11...2e-3)
    #expect(d.range == -11 ... -2 && d.ticks == [-11, -9, -7, -5, -3])
    let e = Ticks.logarithmic(0.05...0.6)
    #expect(e.range == -2...0 && e.ticks.count == 7)
    #expect(zip(e.ticks, [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]).allSatisfy { abs(pow(10, $0) - $1) < 1e-12 })
    #expect(Ticks.label(0) == "0" && Ticks.label(0.25) == "0.25" && Ticks.label(12) == "12")
    #expect(Ticks.label(0.006683) == "0.006683" && Ticks.label(-7.5) == "-7.5")
    #expect(Ticks.label(1e-10) == "1e-10" && Ticks.label(6.83e-5) == "6.8e-5" && Ticks.label(2.5e6) == "2.5e6")
    #expect(Ticks.label(9.97e-5) == "1e-4" && Ticks.label(-3e-7) == "-3e-7")
  }
}

@Suite("Plotting: figures of datasets, predictions, solver statistics and training logs")
struct PlottingFigureTests {
  @Test("dataset figure: one row per sample, written and decoded; min and max cells at viridis ends")
  func datasetFigure() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("d.nc")
    try writeDataset(at: url, samples: 4) { s, i, j in Float(s * 100 + i * 8 + j) }
    let figure = try DatasetFigures.fields(in: url, samples: [1, 3])
    #expect(figure.rows.count == 2 && figure.rows.allSatisfy { $0.count == 2 })
    let png = dir.appendingPathComponent("d.png")
    let image = figure.render()
    try image.writePNG(to: png)
    let back = try RGBImage.readPNG(from: png)
    #expect(back == image)
    #expect(back.width == 2 * Figure.heatmapCell.width)
    #expect(back.height == figure.cell(row: 1, column: 0).maxY)
    // Re-draw the first panel alone at its cell to find the field; its corners are min and max.
    var probe = RGBImage(width: back.width, height: back.height)
    guard case .heatmap(let h) = figure.rows[0][0] else {
      Issue.record("expected a heatmap")
      return
    }
    #expect(h.title == "permeability a" && h.subtitle == "sample 1" && h.units == "1")
    let l = h.draw(into: &probe, in: figure.cell(row: 0, column: 0))
    #expect(back[l.field.x, l.field.maxY - 1] == Viridis.color(0))  // cell (0, 0): the minimum
    #expect(back[l.field.maxX - 1, l.field.y] == Viridis.color(1))  // cell (5, 7): the maximum
    // --var picks one variable.
    let one = try DatasetFigures.fields(in: url, variable: "solution", samples: [0])
    #expect(one.rows.count == 1 && one.rows[0].count == 1)
  }

  @Test("prediction file: input / truth / prediction / |error| per sample, truth and prediction on one range")
  func predictionFigure() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("p.nc")
    try writeDataset(at: url, samples: 2, prediction: true) { s, i, j in Float(i + j + s) }
    let figure = try DatasetFigures.fields(in: url)
    #expect(figure.rows.count == 2 && figure.rows.allSatisfy { $0.count == 4 })
    guard case .heatmap(let truth) = figure.rows[1][1], case .heatmap(let pred) = figure.rows[1][2],
      case .heatmap(let err) = figure.rows[1][3]
    else {
      Issue.record("expected four heatmaps")
      return
    }
    // Truth 2(i + j + 1) in [2, 26]; prediction = truth + 0.5: shared range [2, 26.5]; error 0.5 everywhere.
    #expect(truth.range == 2...26.5 && pred.range == truth.range)
    #expect(err.values.allSatisfy { $0 == 0.5 } && err.range == 0...0.5)
    #expect(err.title == "|prediction - truth|" && err.subtitle.hasPrefix("sample 1, rel. L2 "))
    #expect(pred.title == "FNO prediction of pressure u" && truth.units == "Pa")
    let image = figure.render()
    #expect(image.width == 4 * Figure.heatmapCell.width)
  }

  @Test("1D prediction file: the prediction drawn over the truth on one y range")
  func predictionFigure1D() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("p1.nc")
    let nx = 32
    let schema = DatasetSchema(
      title: "1D predictions", pde: "burgers", equation: "u_t + u u_x = nu u_xx", boundaryConditions: "periodic",
      discretization: "spectral", solver: "etdrk4", rtol: 0, configJSON: "{}", axes: [.periodic("x", count: nx)],
      variables: [
        DatasetVariable(name: "u0", role: .input, axes: ["x"], longName: "initial velocity", units: "1"),
        DatasetVariable(name: "u", role: .target, axes: ["x"], longName: "velocity u(1, x)", units: "1"),
        DatasetVariable(name: "u_prediction", role: .prediction, axes: ["x"], longName: "FNO prediction", units: "1"),
      ])
    let w = try DatasetWriter.create(at: url, schema: schema)
    let x = (0..<nx).map { Float($0) / Float(nx) }
    let truth = try NDArray<Float>(shape: [nx], data: x.map { sin(2 * .pi * $0) })
    let prediction = try NDArray<Float>(shape: [nx], data: x.map { 0.5 * sin(2 * .pi * $0) + 0.25 })
    try w.append(
      ["u0": truth, "u": truth, "u_prediction": prediction],
      diagnostics: SampleDiagnostics(seed: 0, iterations: 0, relativeResidual: 0, solveSeconds: 0))
    try w.close()
    let figure = try DatasetFigures.fields(in: url)
    #expect(figure.rows.count == 1 && figure.rows[0].count == 4)
    guard case .line(let overlay) = figure.rows[0][2] else {
      Issue.record("expected a line plot")
      return
    }
    #expect(overlay.series.map(\.label) == ["truth", "prediction"])
    #expect(overlay.series[0].y == truth.scalars.map(Double.init))
    #expect(overlay.series[1].y == prediction.scalars.map(Double.init))
    let image = figure.render()
    var probe = RGBImage(width: image.width, height: image.height)
    let area = overlay.draw(into: &probe, in: figure.cell(row: 0, column: 2))
    // The y range covers both curves; the prediction's points carry its colour (it is drawn last).
    #expect(area.yRange.lowerBound <= -1 && area.yRange.upperBound >= 1)
    for (xv, yv) in zip(overlay.series[1].x, overlay.series[1].y) {
      let p = area.pixel(x: xv, y: yv)!
      #expect(image[p.x, p.y] == overlay.series[1].color)
    }
  }

  @Test("time series as a strip of frames; 1D fields as line plots")
  func framesAndLines() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("t.nc")
    let (nt, nx) = (9, 16)
    let schema = DatasetSchema(
      title: "burgers test", pde: "burgers", equation: "u_t + u u_x = nu u_xx", boundaryConditions: "periodic",
      discretization: "spectral", solver: "etdrk4", rtol: 0, configJSON: "{}",
      axes: [DatasetAxis(name: "time", values: (0..<nt).map { Double($0) / 8 }), .periodic("x", count: nx)],
      variables: [
        DatasetVariable(name: "u0", role: .input, axes: ["x"], longName: "initial velocity", units: "1"),
        DatasetVariable(name: "u", role: .target, axes: ["time", "x"], longName: "velocity u(t, x)", units: "1"),
      ])
    let w = try DatasetWriter.create(at: url, schema: schema)
    let u0 = try NDArray<Float>(shape: [nx], data: (0..<nx).map { sin(2 * .pi * Float($0) / Float(nx)) })
    let u = try NDArray<Float>(shape: [nt, nx], data: (0..<nt * nx).map { Float($0 / nx) * u0.scalars[$0 % nx] })
    try w.append(
      ["u0": u0, "u": u], diagnostics: SampleDiagnostics(seed: 0, iterations: 0, relativeResidual: 0, solveSeconds: 0))
    try w.close()
    let figure = try DatasetFigures.fields(in: url, frames: 5)
    // Row 1: the 1D input; row 2: five frames at t = 0, 0.25, 0.5, 0.75, 1 on one y range.
    #expect(figure.rows.count == 2 && figure.rows[0].count == 1 && figure.rows[1].count == 5)
    var subtitles: [String] = []
    for panel in figure.rows[1] {
      guard case .line(let p) = panel else {
        Issue.record("expected line plots")
        return
      }
      subtitles.append(p.subtitle)
      #expect(p.yRange == Double(u.minMax()!.min)...Double(u.minMax()!.max))
    }
    #expect(
      subtitles == [
        "sample 0, t = 0", "sample 0, t = 0.25", "sample 0, t = 0.5", "sample 0, t = 0.75", "sample 0, t = 1",
      ])
    // The last frame's curve passes through its data points.
    guard case .line(let last) = figure.rows[1][4] else { return }
    var image = RGBImage(width: 420, height: 270)
    let area = last.draw(into: &image, in: PixelRect(x: 0, y: 0, width: 420, height: 270))
    for (x, y) in zip(last.series[0].x, last.series[0].y) {
      let p = area.pixel(x: x, y: y)!
      #expect(image[p.x, p.y] == LinePlot.palette[0])
    }
  }

  @Test("solver statistics: iterations and residuals per sample at the right pixels")
  func solverStatistics() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("s.nc")
    try writeDataset(at: url, samples: 5) { _, i, j in Float(i * j) }
    let figure = try DatasetFigures.solverStatistics(in: url)
    #expect(figure.rows.count == 1 && figure.rows[0].count == 3)
    guard case .line(let its) = figure.rows[0][0], case .line(let res) = figure.rows[0][1] else {
      Issue.record("expected line plots")
      return
    }
    #expect(its.series[0].y == [10, 15, 20, 25, 30] && its.title == "linear solver iterations")
    #expect(res.logY && res.series[0].y == [1e-6, 1e-7, 1e-8, 1e-9, 1e-10])
    #expect(res.series.count == 2 && res.series[1].y == [1e-8, 1e-8] && res.series[1].dashed)  // rtol
    let image = figure.render()
    var probe = RGBImage(width: image.width, height: image.height)
    let area = res.draw(into: &probe, in: figure.cell(row: 0, column: 1))
    #expect(area.yRange == -10 ... -6)
    for (s, r) in res.series[0].y.enumerated() {
      let p = area.pixel(x: Double(s), y: r)!
      #expect(image[p.x, p.y] == LinePlot.palette[1])
    }
  }

  @Test("training log: loss and test error curves on a log axis; malformed lines named")
  func trainingLog() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("run.jsonl")
    let encoder = JSONEncoder()
    var text = ""
    for e in 1...6 {
      let r = EpochRecord(
        epoch: e, trainLoss: 0.5 / Double(e * e), testL2: 0.4 / Double(e), testH1: 0.6 / Double(e), epochSeconds: 1.5,
        learningRate: 1e-3)
      text += String(decoding: try encoder.encode(r), as: UTF8.self) + "\n"
    }
    try text.write(to: url, atomically: true, encoding: .utf8)
    let figure = try TrainingFigures.curves(log: url)
    guard case .line(let losses) = figure.rows[0][0] else {
      Issue.record("expected a line plot")
      return
    }
    #expect(losses.logY && losses.series.map(\.label) == ["train loss", "test rel. L2", "test rel. H1"])
    #expect(losses.series[1].y == (1...6).map { 0.4 / Double($0) })
    let image = figure.render()
    let png = dir.appendingPathComponent("run.png")
    try image.writePNG(to: png)
    let back = try RGBImage.readPNG(from: png)
    var probe = RGBImage(width: back.width, height: back.height)
    let area = losses.draw(into: &probe, in: figure.cell(row: 0, column: 0))
    // Train loss at epoch 4 (0.03125) and test L2 at epoch 6 (0.0667), where no legend covers them.
    let a = area.pixel(x: 4, y: 0.5 / 16)!
    let b = area.pixel(x: 6, y: 0.4 / 6)!
    #expect(back[a.x, a.y] == LinePlot.palette[0] && back[b.x, b.y] == LinePlot.palette[1])

    try (text + "{\"epoch\": 7}\n").write(to: url, atomically: true, encoding: .utf8)
    #expect(errorText { try TrainingFigures.curves(log: url) }.contains("line 7"))
    try "".write(to: url, atomically: true, encoding: .utf8)
    #expect(errorText { try TrainingFigures.curves(log: url) }.contains("holds no epochs"))
  }

  @Test("errors: unknown variable lists the available ones; sample out of range states the count")
  func errors() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("e.nc")
    try writeDataset(at: url, samples: 3) { _, i, j in Float(i - j) }
    let unknown = errorText { try DatasetFigures.fields(in: url, variable: "pressure") }
    #expect(unknown.contains("no data variable 'pressure'"))
    #expect(unknown.contains("available: coefficient (input), solution (target)"))
    let diagnostic = errorText { try DatasetFigures.fields(in: url, variable: "solver_iterations") }
    #expect(diagnostic.contains("--solver-stats"))
    let range = errorText { try DatasetFigures.fields(in: url, samples: [0, 3]) }
    #expect(range.contains("sample 3 is out of range") && range.contains("has 3 samples (indices 0 to 2)"))
    let many = errorText { try DatasetFigures.fields(in: url, samples: Array(repeating: 0, count: 17)) }
    #expect(many.contains("at most 16"))
    let missing = errorText { try DatasetFigures.fields(in: dir.appendingPathComponent("nope.nc")) }
    #expect(missing.contains("nope.nc: no such file"))
    #expect(errorText { try TrainingFigures.curves(log: dir.appendingPathComponent("x.jsonl")) }.contains("x.jsonl"))
    #expect(try DatasetFigures.sampleIndices("0,1,2") == [0, 1, 2])
    #expect(try DatasetFigures.sampleIndices("0:3, 7") == [0, 1, 2, 7])
    for bad in ["", "a", "3:2", "-1", "1,,2", "0:2:4"] {
      #expect(throws: PlotError.self, "'\(bad)'") { try DatasetFigures.sampleIndices(bad) }
    }
    #expect(throws: PlotError.self) { try DatasetFigures.sampleIndices("0:1000000000") }
    #expect(throws: PlotError.self) { try DatasetFigures.sampleIndices("0:17") }
    #expect(try DatasetFigures.sampleIndices("0:16").count == 16)
  }
}
