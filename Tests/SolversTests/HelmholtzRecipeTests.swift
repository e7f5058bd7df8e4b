import Datasets
import Foundation
import Numerics
import Solvers
import Testing

@Suite("Helmholtz recipe in 3D: fields, default solve against complex UMFPACK, refusals")
struct HelmholtzRecipeTests {
  /// The complex solution of sample `index` (run seed 0) by complex UMFPACK on the n×n complex
  /// matrix — a different code path from the generator's real 2×2 block solve.
  func complexReference(_ recipe: HelmholtzRecipe, index: Int) throws -> (re: [Double], im: [Double]) {
    let system = try recipe.makeProblem(sampleSeed: sampleSeed(runSeed: 0, index: index)).problem.complexSystem!
    let lu = try ComplexUmfpackLU(real: system.realPart, imaginary: system.imaginaryPart.values, ordering: .metis)
    return try lu.solve(re: system.rhs.map(\.re), im: system.rhs.map(\.im))
  }

  @Test("pdekit generate helmholtz --dimension 3 (default solver, GCRO-DR and UMFPACK) matches complex UMFPACK")
  func generatedMatchesComplexLU() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let n = 9  // 9³ nodes, h = 1/8: frequency 0.9 gives 0.7·8/0.9 = 6.2 points per shortest wavelength
    let parameters = ["frequency": 0.9]
    let recipe = try HelmholtzRecipe(resolution: n, dimension: 3, parameters: parameters)
    let reference = try (0..<2).map { try complexReference(recipe, index: $0) }
    for solver: SolverChoice? in [nil, .gcrodr, .umfpack] {
      let cfg = try GenerationConfig(
        recipe: "helmholtz", samples: 2, resolution: n, dimension: 3, solver: solver, rtol: 1e-9,
        parameters: parameters)
      let url = dir.appendingPathComponent("h3-\(solver?.rawValue ?? "default").nc")
      _ = try DatasetGenerator.run(cfg, output: url, options: GenerationOptions(threads: 1))
      let r = try DatasetReader(url: url)
      #expect(r.sampleCount == 2)
      #expect(try r.variable(named: "real_part").sampleShape == [n, n, n])
      let re = try r.read("real_part", samples: 0..<2).scalars
      let im = try r.read("imaginary_part", samples: 0..<2).scalars
      let count = n * n * n
      for i in 0..<2 {
        var diff = 0.0
        var norm = 0.0
        for p in 0..<count {
          let (dr, di) = (
            Double(re[i * count + p]) - reference[i].re[p], Double(im[i * count + p]) - reference[i].im[p]
          )
          diff += dr * dr + di * di
          norm += reference[i].re[p] * reference[i].re[p] + reference[i].im[p] * reference[i].im[p]
        }
        // Float32 storage bounds the agreement at ~1e-7 relative.
        #expect((diff / norm).squareRoot() < 1e-5, "solver \(cfg.solver?.rawValue ?? "?"), sample \(i)")
        #expect(norm > 0)
      }
    }
  }

  @Test("3D inputs: wave speed varies along every axis within c0(1 ± contrast); the source integrates to 1")
  func fields() throws {
    let n = 21
    let recipe = try HelmholtzRecipe(
      resolution: n, dimension: 3, parameters: ["frequency": 1, "source_width": 0.15, "contrast": 0.3])
    let (c, problem) = try recipe.makeProblem(sampleSeed: 7)
    #expect(c.count == n * n * n)
    #expect(c.allSatisfy { $0 > 0.7 && $0 < 1.3 })
    // Not constant along any axis (a genuinely 3D field): compare neighbours along z, y and x.
    for stride in [n * n, n, 1] {
      let jump = (0..<(n * n * n - stride)).map { abs(c[$0 + stride] - c[$0]) }.max()!
      #expect(jump > 1e-3, "stride \(stride)")
    }
    // rhs = trapezoid weight · f, so Σ rhs · h³ is the trapezoid integral of the normalized Gaussian
    // over the unit cube: (erf(0.5 / (0.15 √2)))³ = 0.99775.
    let h = 1 / Double(n - 1)
    let integral = problem.rhs[..<(n * n * n)].reduce(0, +) * h * h * h
    let exact = pow(erf(0.5 / (0.15 * 2.0.squareRoot())), 3)
    #expect(abs(integral - exact) < 5e-3, "integral \(integral) vs \(exact)")
    #expect(problem.rhs[(n * n * n)...].allSatisfy { $0 == 0 })  // real source
    #expect(problem.matrix.rows == 2 * n * n * n)
  }

  @Test("bad dimension, resolution and parameters are refused with what to do")
  func refusals() throws {
    func message(_ body: () throws -> Any) -> String {
      do {
        _ = try body()
        return ""
      } catch { return "\(error)" }
    }
    let d1 = message { try HelmholtzRecipe(resolution: 33, dimension: 1, parameters: [:]) }
    #expect(d1.contains("--dimension 2 or --dimension 3"), "\(d1)")
    let d4 = message { try GenerationConfig(recipe: "helmholtz", samples: 1, resolution: 33, dimension: 4) }
    #expect(d4.contains("2 or 3"), "\(d4)")
    let tiny = message { try HelmholtzRecipe(resolution: 2, dimension: 3, parameters: ["frequency": 0.1]) }
    #expect(tiny.contains("--resolution 3"), "\(tiny)")
    // Default frequency 4 at 21³ nodes: 0.175 / (1/20) = 3.5 points per shortest wavelength.
    let coarse = message { try HelmholtzRecipe(resolution: 21, dimension: 3, parameters: [:]) }
    #expect(coarse.contains("points per shortest wavelength") && coarse.contains("--resolution 36"), "\(coarse)")
    let contrast = message {
      try HelmholtzRecipe(resolution: 33, dimension: 3, parameters: ["frequency": 1, "contrast": 1.5])
    }
    #expect(contrast.contains("contrast") && contrast.contains("outside"), "\(contrast)")
    let unknown = message { try HelmholtzRecipe(resolution: 33, dimension: 3, parameters: ["wavenumber": 3]) }
    #expect(unknown.contains("wavenumber") && unknown.contains("frequency"), "\(unknown)")
    #expect(RecipeRegistry.listing().contains("helmholtz  (dimensions 2, 3;"))
  }
}
