// libFuzzer target: the generation config JSON. Two paths: a `--config` file (decoded into
// optional settings, as `pdekit generate` does, then validated by `GenerationConfig.init`), and
// the `pdekit_config` attribute of a dataset (`GenerationConfig.decode`, re-validated the same
// way). Malformed or out-of-range settings must throw; nothing may crash or hang.
import Foundation
import Solvers

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The settings of a `--config` file, all optional (mirrors `Generate.FileSettings` in pdekit).
struct FileSettings: Decodable {
  var recipe: String?
  var samples: Int?
  var resolution: Int?
  var dimension: Int?
  var seed: UInt64?
  var solver: String?
  var rtol: Double?
  var parameters: [String: Double]?
  var ordering: String?
}

func validate(
  recipe: String, samples: Int, resolution: Int, dimension: Int?, seed: UInt64, solver: String?, rtol: Double,
  parameters: [String: Double], ordering: String?
) {
  var choice: SolverChoice?
  if let s = solver {
    guard let c = SolverChoice(rawValue: s) else { return }
    choice = c
  }
  guard let r = try? RecipeRegistry.recipe(named: recipe) else { return }
  let dims = r.dimensions
  let dimension = dimension ?? (dims.contains(2) ? 2 : dims[0])
  if let c = try? GenerationConfig(
    recipe: recipe, samples: samples, resolution: resolution, dimension: dimension, seed: seed, solver: choice,
    rtol: rtol, parameters: parameters, ordering: ordering)
  {
    precondition(c.samples >= 1 && (4...8192).contains(c.resolution) && c.rtol > 0 && c.rtol < 1)
    if let json = try? c.json(), let back = try? GenerationConfig.decode(json) {
      precondition(back == c, "config does not round-trip through JSON")
    }
  }
}

// libFuzzer takes `int *argc, char ***argv` (it may consume its own flags).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
_ = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
  guard let data else { return 0 }
  let bytes = Data(bytes: data, count: size)
  if let f = try? JSONDecoder().decode(FileSettings.self, from: bytes) {
    validate(
      recipe: f.recipe ?? "", samples: f.samples ?? 64, resolution: f.resolution ?? 32, dimension: f.dimension,
      seed: f.seed ?? 0, solver: f.solver, rtol: f.rtol ?? 1e-10, parameters: f.parameters ?? [:],
      ordering: f.ordering)
  }
  if let c = try? GenerationConfig.decode(String(decoding: bytes, as: UTF8.self)) {
    validate(
      recipe: c.recipe, samples: c.samples, resolution: c.resolution, dimension: c.dimension, seed: c.seed,
      solver: c.solver?.rawValue, rtol: c.rtol, parameters: c.parameters, ordering: c.ordering)
  }
  return 0
}
