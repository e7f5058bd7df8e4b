// What `pdekit solve` does, as one library call: read A (and b) from Matrix Market, solve, report.
import Foundation
import Numerics

/// The outcome of solving a Matrix Market system, with everything `pdekit solve` prints.
public struct SolveReport: Sendable {
  /// Path of A.
  public var matrixPath: String
  /// Order n and stored entries of A.
  public var rows: Int
  public var nonzeros: Int
  /// Whether b was read from a file (false: b = A·1).
  public var rhsFromFile: Bool
  /// The solution and its statistics.
  public var solution: LinearSolution
  /// ‖x − 1‖∞ when b = A·1, else nil.
  public var errorAgainstOnes: Double?
  /// Seconds spent reading the input files.
  public var readSeconds: Double

  /// Reads A (and b, or sets b = A·1), solves with `algorithm`, and returns the report.
  /// Throws `NumericsError` for unreadable or malformed files, `SolverSetupError` for unusable
  /// systems and `DirectSolverError` for failed factorizations.
  public static func run(
    matrixPath: String, rhsPath: String?, algorithm: LinearSolverAlgorithm, options: KrylovOptions
  ) throws -> SolveReport {
    let t0 = monotonicSeconds()
    let a = try MatrixMarket.read(contentsOf: URL(fileURLWithPath: matrixPath)).csr()
    var b: [Double]
    if let rhsPath {
      let m = try MatrixMarket.read(contentsOf: URL(fileURLWithPath: rhsPath))
      guard m.columns == 1 else {
        throw SolverSetupError.dimensionMismatch("\(rhsPath) holds a \(m.rows)×\(m.columns) matrix; b must be n×1")
      }
      b = try m.csr().dense().scalars
    } else {
      guard a.rows == a.columns else {
        throw SolverSetupError.invalidMatrix(
          "\(matrixPath) holds a \(a.rows)×\(a.columns) matrix; a linear solve needs a square matrix")
      }
      b = try a.multiply(NDArray(shape: [a.columns], repeating: 1)).scalars
    }
    let readSeconds = monotonicSeconds() - t0
    let solver = LinearSolver(algorithm, options: options)
    let solution = try solver.solve(LinearSystem(matrix: a, rhs: b))
    let error = rhsPath == nil ? solution.x.map { abs($0 - 1) }.max() ?? 0 : nil
    return SolveReport(
      matrixPath: matrixPath, rows: a.rows, nonzeros: a.nonzeroCount, rhsFromFile: rhsPath != nil,
      solution: solution, errorAgainstOnes: error, readSeconds: readSeconds)
  }

  /// A human-readable table.
  public func table() -> String {
    let s = solution.stats
    var lines = [
      "matrix:             \(matrixPath) (n = \(rows), nnz = \(nonzeros))",
      "right-hand side:    \(rhsFromFile ? "from file" : "b = A·1 (exact solution x* = 1)")",
      "method:             \(s.method)",
      "status:             \(s.reason.rawValue) — \(s.reason)",
      "iterations:         \(s.iterations)",
      String(format: "relative residual:  %.3e  (true ||b - A x|| / ||b||)", s.relativeResidual),
      String(format: "setup time:         %.4f s", solution.setupSeconds),
      String(format: "solve time:         %.4f s", s.seconds),
      String(format: "read time:          %.4f s", readSeconds),
    ]
    if let e = errorAgainstOnes { lines.append(String(format: "max |x - x*|:       %.3e", e)) }
    if !s.residualHistory.isEmpty {
      lines.append("residual history:   " + s.residualHistory.map { String(format: "%.3e", $0) }.joined(separator: " "))
    }
    return lines.joined(separator: "\n")
  }

  /// One JSON object with the same content.
  public func json() throws -> String {
    struct Payload: Encodable {
      var matrix: String
      var n: Int
      var nnz: Int
      var rhs: String
      var stats: SolverStats
      var setupSeconds: Double
      var readSeconds: Double
      var maxErrorVsOnes: Double?
      enum CodingKeys: String, CodingKey {
        case matrix, n, nnz, rhs, stats
        case setupSeconds = "setup_seconds"
        case readSeconds = "read_seconds"
        case maxErrorVsOnes = "max_error_vs_ones"
      }
    }
    let p = Payload(
      matrix: matrixPath, n: rows, nnz: nonzeros, rhs: rhsFromFile ? "file" : "A*ones", stats: solution.stats,
      setupSeconds: solution.setupSeconds, readSeconds: readSeconds, maxErrorVsOnes: errorAgainstOnes)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(p), as: UTF8.self)
  }
}
