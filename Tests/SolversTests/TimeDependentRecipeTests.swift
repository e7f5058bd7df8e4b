import Datasets
import Foundation
import Numerics
import Solvers
import Testing

@Suite("pdekit generate: time-dependent recipes (burgers, navier-stokes, heat)")
struct TimeDependentRecipeTests {
  static let burgers: [String: Double] = ["solver_resolution": 128, "dt": 1e-3, "t_end": 0.1, "snapshots": 4]
  static let navierStokes: [String: Double] = [
    "solver_resolution": 32, "dt": 1e-2, "t_end": 0.4, "record_interval": 0.1,
  ]

  @Test("files carry inputs, time-series targets, the time coordinate and dt / resolutions as attributes")
  func schemas() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let cases: [(String, Int, Int, [String: Double], [String: [Int]], [Double])] = [
      ("burgers", 32, 1, Self.burgers, ["initial_condition": [32], "solution": [4, 32]], [0.025, 0.05, 0.075, 0.1]),
      (
        "navier-stokes", 16, 2, Self.navierStokes, ["vorticity_initial": [16, 16], "vorticity": [4, 16, 16]],
        [0.1, 0.2, 0.3, 0.4]
      ),
      (
        "heat", 12, 2, ["steps": 6, "record_every": 2, "dt": 1e-3],
        ["conductivity": [12, 12], "initial_temperature": [12, 12], "temperature": [3, 12, 12]], [0.002, 0.004, 0.006]
      ),
    ]
    for (name, n, d, params, shapes, times) in cases {
      let url = dir.appendingPathComponent("\(name).nc")
      let summary = try DatasetGenerator.run(
        try GenerationConfig(recipe: name, samples: 3, resolution: n, dimension: d, parameters: params), output: url,
        options: GenerationOptions(threads: 2))
      #expect(summary.samplesWritten == 3)
      let r = try DatasetReader(url: url)
      for (v, shape) in shapes { #expect(try r.variable(named: v).sampleShape == shape, "\(name) \(v)") }
      let time = try #require(r.axes.first { $0.name == "time" })
      #expect(zip(time.values, times).allSatisfy { abs($0 - $1) < 1e-12 }, "\(name): \(time.values)")
      #expect(time.units == "1")
      #expect(r.attributes["time_step"] != nil && r.attributes["stored_resolution"] == "\(Double(n))")
      #expect(r.attributes["solver_resolution"] != nil)
      for v in r.variables { #expect(try r.statistics(v.name).count == 3 * shapes[v.name]!.reduce(1, *)) }
      if name != "heat" {
        #expect(try r.diagnostics(samples: 0..<3).allSatisfy { $0.iterations > 0 && $0.relativeResidual == 0 })
        #expect(summary.fftSeconds > 0 && summary.fftSeconds < summary.solveSeconds)
      }
    }
  }

  @Test("spectral recipes are bit-identical at 1 and 2 threads and after a crash and resume")
  func determinism() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for (name, n, d, params) in [
      ("burgers", 32, 1, Self.burgers), ("navier-stokes", 16, 2, Self.navierStokes),
    ] {
      let cfg = try GenerationConfig(
        recipe: name, samples: 6, resolution: n, dimension: d, seed: 11, parameters: params)
      let a = dir.appendingPathComponent("\(name)-1.nc")
      let b = dir.appendingPathComponent("\(name)-2.nc")
      let c = dir.appendingPathComponent("\(name)-crash.nc")
      _ = try DatasetGenerator.run(cfg, output: a, options: GenerationOptions(threads: 1))
      _ = try DatasetGenerator.run(cfg, output: b, options: GenerationOptions(threads: 2))
      #expect(throws: GenerationError.self) {
        try DatasetGenerator.run(cfg, output: c, options: GenerationOptions(threads: 2, abortAfterSamples: 2))
      }
      let resumed = try DatasetGenerator.run(cfg, output: c, options: GenerationOptions(threads: 1, resume: true))
      #expect(resumed.resumedSamples >= 2 && resumed.computedSamples < 6)
      let (ca, sa, _, _) = try contents(a)
      let (cb, sb, _, _) = try contents(b)
      let (cc, sc, _, _) = try contents(c)
      #expect(ca == cb && ca == cc, "\(name)")
      #expect(sa == sb && sa == sc)
      // Different samples differ.
      let first = try #require(ca.values.first)
      #expect(first[sample: 0] != first[sample: 1])
    }
  }

  @Test("heat's last frame is the thermal recipe's u(T); the trajectory decays (maximum principle)")
  func heatTrajectory() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let heat = dir.appendingPathComponent("heat.nc")
    let thermal = dir.appendingPathComponent("thermal.nc")
    let common: [String: Double] = ["steps": 8, "dt": 2e-3]
    _ = try DatasetGenerator.run(
      try GenerationConfig(
        recipe: "heat", samples: 2, resolution: 16, seed: 5,
        parameters: common.merging(["record_every": 2]) { a, _ in a }
      ), output: heat)
    _ = try DatasetGenerator.run(
      try GenerationConfig(recipe: "thermal", samples: 2, resolution: 16, seed: 5, parameters: common), output: thermal)
    let h = try DatasetReader(url: heat).read("temperature", samples: 0..<2)
    let t = try DatasetReader(url: thermal).read("temperature", samples: 0..<2)
    let u0 = try DatasetReader(url: heat).read("initial_temperature", samples: 0..<2)
    for s in 0..<2 {
      let frames = h[sample: s]
      let last = NDArray<Float>(
        shape: [16, 16],
        initializingWith: { p in
          frames.withUnsafeBufferPointer { f in for i in 0..<256 { p[i] = f[3 * 256 + i] } }
        })
      #expect(last == t[sample: s])
      var previous = Double(u0[sample: s].scalars.map(abs).max()!)
      for k in 0..<4 {
        let m = Double(frames.scalars[(k * 256)..<((k + 1) * 256)].map(abs).max()!)
        #expect(m < previous)
        previous = m
      }
    }
  }

  @Test("Burgers samples keep zero mean and lose energy; Navier–Stokes stored fields are finite and evolve")
  func physics() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("b.nc")
    _ = try DatasetGenerator.run(
      try GenerationConfig(recipe: "burgers", samples: 2, resolution: 64, dimension: 1, parameters: Self.burgers),
      output: url)
    let r = try DatasetReader(url: url)
    let u0 = try r.read("initial_condition", samples: 0..<2)
    let u = try r.read("solution", samples: 0..<2)
    for s in 0..<2 {
      let series = [u0[sample: s].scalars] + (0..<4).map { k in Array(u[sample: s].scalars[(k * 64)..<((k + 1) * 64)]) }
      var energy = Double.infinity
      for f in series {
        let mean = f.reduce(0) { $0 + Double($1) } / 64
        let e = f.reduce(0) { $0 + Double($1) * Double($1) } / 64
        #expect(abs(mean) < 1e-5)
        #expect(e < energy)
        energy = e
      }
      #expect(energy > 0)
    }
  }

  @Test("refusals: --solver for a spectral recipe, wrong dimension, odd or too fine --resolution, dt not dividing")
  func refusals() throws {
    #expect(throws: GenerationError.self) {
      try GenerationConfig(recipe: "burgers", samples: 1, resolution: 32, dimension: 1, solver: .cholmod)
    }
    #expect(throws: GenerationError.self) { try GenerationConfig(recipe: "burgers", samples: 1, resolution: 32) }
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let bad: [(String, Int, Int, [String: Double])] = [
      ("burgers", 33, 1, ["solver_resolution": 128]), ("burgers", 256, 1, ["solver_resolution": 128]),
      ("navier-stokes", 16, 2, ["solver_resolution": 32, "dt": 0.03, "record_interval": 0.1]),
      ("navier-stokes", 16, 2, ["solver_resolution": 32, "t_end": 0.25, "record_interval": 0.1, "dt": 0.01]),
      ("heat", 12, 2, ["steps": 10, "record_every": 3]),
    ]
    for (name, n, d, params) in bad {
      let url = dir.appendingPathComponent("\(name).nc")
      #expect(throws: GenerationError.self, "\(name) \(n) \(params)") {
        try DatasetGenerator.run(
          try GenerationConfig(recipe: name, samples: 1, resolution: n, dimension: d, parameters: params), output: url)
      }
      #expect(!FileManager.default.fileExists(atPath: url.path + ".parts"))
    }
    #expect(RecipeRegistry.listing().contains("navier-stokes  (dimensions 2; solver: Crank-Nicolson"))
  }
}
