import Foundation
import Numerics

extension DatasetReader {
  /// A human-readable description of the file: PDE, dimensions, variables by role with their
  /// min/max/mean, diagnostics summary and the generation config (what `pdekit info` prints).
  public func summary() throws -> String {
    var out: [String] = []
    out.append("file:                \(path)")
    out.append("pde:                 \(attributes["pde"] ?? "?")  (\(attributes["equation"] ?? ""))")
    if let t = attributes["title"] { out.append("title:               \(t)") }
    for key in ["boundary_conditions", "discretization", "solver", "rtol", "generator"] {
      if let v = attributes[key] { out.append("\((key + ":").padding(toLength: 21, withPad: " ", startingAt: 0))\(v)") }
    }
    out.append("samples:             \(sampleCount)")
    out.append(
      "dimensions:          sample = \(sampleCount) (unlimited), "
        + axes.map { "\($0.name) = \($0.values.count)" }.joined(separator: ", "))
    for role in VariableRole.allCases where !variables(role: role).isEmpty {
      out.append("\(role.rawValue)s:")
      for v in variables(role: role) {
        let stats = try statistics(v.name)
        let dims = (["sample"] + v.axes).joined(separator: ", ")
        let units = v.units.map { " [\($0)]" } ?? ""
        let range =
          stats.count > 0
          ? String(format: "min %.4g  max %.4g  mean %.4g", stats.min, stats.max, stats.mean) : "no data"
        out.append("  \(v.name)(\(dims))\(units): \(v.longName); \(range)")
      }
    }
    if sampleCount > 0 {
      let d = try diagnostics(samples: 0..<sampleCount)
      let its = d.map { Double($0.iterations) }
      let res = d.map(\.relativeResidual)
      let secs = d.map(\.solveSeconds)
      out.append(
        String(
          format:
            "solver stats:        iterations mean %.1f (max %.0f); relative residual max %.2e; solve time total %.3f s",
          its.reduce(0, +) / Double(d.count), its.max() ?? 0, res.max() ?? 0, secs.reduce(0, +)))
      let warm = d.filter { $0.warmStarted == true }.map { Double($0.iterations) }
      let cold = d.filter { $0.warmStarted == false }.map { Double($0.iterations) }
      if d.contains(where: { $0.warmStarted != nil }) {
        out.append(
          String(
            format: "warm start:          %d samples warm-started (mean iterations %.2f), %d cold (mean %.2f)",
            warm.count, warm.isEmpty ? 0 : warm.reduce(0, +) / Double(warm.count), cold.count,
            cold.isEmpty ? 0 : cold.reduce(0, +) / Double(cold.count)))
      }
      let rounds = Set(d.compactMap(\.warmStartRound).filter { $0 >= 0 }).sorted()
      if rounds.count > 1 {
        let parts = rounds.map { r -> String in
          let its = d.filter { $0.warmStartRound == r }.map { Double($0.iterations) }
          return String(
            format: "model %d: %d samples, mean iterations %.2f", r, its.count, its.reduce(0, +) / Double(its.count))
        }
        out.append("warm-start models:   " + parts.joined(separator: "; "))
      }
    }
    out.append("config:              \(config)")
    return out.joined(separator: "\n")
  }
}
