import ArgumentParser
import Foundation
import Numerics
import Solvers

/// Methods selectable on the command line.
enum MethodOption: String, ExpressibleByArgument, CaseIterable {
  case cholmod, umfpack, cg, minres, gmres, fgmres, bicgstab
}

/// Preconditioners selectable on the command line.
enum PreconditionerOption: String, ExpressibleByArgument, CaseIterable {
  case none, jacobi, ssor, ic0, ilu0, amg
}

struct Solve: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Solve a sparse linear system A x = b read from Matrix Market files.",
    discussion: """
      Reads A (coordinate or array Matrix Market), and b from --rhs if given; otherwise b = A·1 so \
      that the error against the known solution x* = 1 is reported too. Prints iterations, the \
      true final relative residual ||b - A x|| / ||b||, setup and solve times and the reason the \
      solver stopped; exits with status 1 if it did not converge.

      Methods: cholmod (sparse Cholesky, SPD), umfpack (sparse LU), cg (SPD), minres (symmetric), \
      gmres, fgmres, bicgstab (general). Preconditioners for the Krylov methods: jacobi, ssor, \
      ic0 (SPD M-matrices), ilu0 (nonsymmetric), amg (smoothed aggregation, as pyamg).

      Example: pdekit solve A.mtx --method cg --pc amg --rtol 1e-8 --out x.mtx
      """)

  @Argument(help: "Matrix Market file holding the square matrix A.")
  var matrix: String

  @Option(help: "Matrix Market file holding b (array n×1, or coordinate n×1). Default: b = A·1.")
  var rhs: String?

  @Option(help: "Solution method: \(MethodOption.allCases.map(\.rawValue).joined(separator: ", ")).")
  var method: MethodOption = .cg

  @Option(
    name: .customLong("pc"),
    help: "Preconditioner for Krylov methods: \(PreconditionerOption.allCases.map(\.rawValue).joined(separator: ", "))."
  )
  var preconditioner: PreconditionerOption = .none

  @Option(help: "Relative tolerance: stop when ||b - A x|| <= atol + rtol·||b||.")
  var rtol: Double = 1e-8

  @Option(help: "Absolute tolerance.")
  var atol: Double = 0

  @Option(help: "Iteration limit (default: 2n for CG/MINRES/BiCGStab, 10n for GMRES).")
  var maxIterations: Int?

  @Option(help: "GMRES/FGMRES restart length.")
  var restart: Int = 30

  @Option(help: "Relaxation ω of the SSOR preconditioner, in (0, 2).")
  var omega: Double = 1

  @Option(help: "Write the solution x to this Matrix Market file (array format).")
  var out: String?

  @Flag(help: "Print the statistics as one JSON object instead of a table.")
  var json = false

  @Flag(help: "Include the residual history in the output.")
  var history = false

  func validate() throws {
    guard rtol >= 0, atol >= 0, rtol.isFinite, atol.isFinite else {
      throw ValidationError("--rtol and --atol must be finite and non-negative")
    }
    guard rtol > 0 || atol > 0 else { throw ValidationError("set --rtol or --atol above zero") }
    guard restart >= 1 else { throw ValidationError("--restart must be at least 1") }
    guard omega > 0 && omega < 2 else { throw ValidationError("--omega must lie in (0, 2)") }
    if let m = maxIterations, m < 1 { throw ValidationError("--max-iterations must be at least 1") }
    if [.cholmod, .umfpack].contains(method) && preconditioner != .none {
      throw ValidationError("--pc applies to Krylov methods only; \(method.rawValue) is a direct solver")
    }
  }

  var algorithm: LinearSolverAlgorithm {
    let pc: PreconditionerKind
    switch preconditioner {
    case .none: pc = .none
    case .jacobi: pc = .jacobi
    case .ssor: pc = .ssor(omega: omega)
    case .ic0: pc = .ic0
    case .ilu0: pc = .ilu0
    case .amg: pc = .amg
    }
    switch method {
    case .cholmod: return .cholmod
    case .umfpack: return .umfpack
    case .cg: return .cg(preconditioner: pc)
    case .minres: return .minres(preconditioner: pc)
    case .gmres: return .gmres(restart: restart, preconditioner: pc)
    case .fgmres: return .fgmres(restart: restart, preconditioner: pc)
    case .bicgstab: return .bicgstab(preconditioner: pc)
    }
  }

  func run() throws {
    let report = try SolveReport.run(
      matrixPath: matrix, rhsPath: rhs, algorithm: algorithm,
      options: KrylovOptions(rtol: rtol, atol: atol, maxIterations: maxIterations, history: history))
    if let out {
      try MatrixMarket.write(
        NDArray(shape: [report.solution.x.count, 1], data: report.solution.x), to: URL(fileURLWithPath: out))
    }
    print(json ? try report.json() : report.table())
    if !report.solution.stats.converged { throw ExitCode(1) }
  }
}
