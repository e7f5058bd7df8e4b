import Foundation
import Numerics
import Solvers
import Testing

/// Runs `pdekit` with `arguments`; returns the exit status and standard output and error together.
func runPDEKit(_ arguments: [String]) throws -> (status: Int32, output: String, signalled: Bool) {
  let process = Process()
  process.executableURL = pdekitExecutable()
  process.arguments = arguments
  let out = Pipe()
  process.standardOutput = out
  process.standardError = out
  try process.run()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    process.terminationStatus, String(decoding: data, as: UTF8.self),
    process.terminationReason == .uncaughtSignal
  )
}

/// A solver fault: Matrix Market inputs, the `pdekit solve` options, and what the user must read.
struct SolverFault: CustomTestStringConvertible, Sendable {
  var name: String
  var matrix: String
  var rhs: String?
  var options: [String]
  var expected: String
  var testDescription: String { name }
}

private let spdHeader = "%%MatrixMarket matrix coordinate real symmetric\n"
private let generalHeader = "%%MatrixMarket matrix coordinate real general\n"
/// [[1, 1, 0], [1, 1, 0], [0, 0, 2]]: symmetric, singular (two equal rows).
private let singular = spdHeader + "3 3 4\n1 1 1\n2 2 1\n3 3 2\n2 1 1\n"
/// diag(1, -1, 1) with a coupling: symmetric indefinite.
private let indefinite = spdHeader + "3 3 4\n1 1 1\n2 2 -1\n3 3 1\n2 1 0.5\n"
/// Row 2 is zero.
private let zeroRow = generalHeader + "3 3 3\n1 1 2\n3 3 2\n1 3 1\n"
/// b outside the range of `singular`.
private let inconsistent = "%%MatrixMarket matrix array real general\n3 1\n1\n2\n1\n"

let solverFaults: [SolverFault] = [
  SolverFault(
    name: "NaN in the matrix", matrix: spdHeader + "3 3 3\n1 1 2\n2 2 nan\n3 3 2\n", options: [],
    expected: "is NaN or infinite"),
  SolverFault(
    name: "Inf in the right-hand side", matrix: spdHeader + "3 3 3\n1 1 2\n2 2 2\n3 3 2\n",
    rhs: "%%MatrixMarket matrix array real general\n3 1\n1\ninf\n1\n", options: [], expected: "is NaN or infinite"),
  SolverFault(
    name: "zero row to UMFPACK", matrix: zeroRow, options: ["--method", "umfpack"], expected: "matrix is singular"),
  SolverFault(
    name: "zero row to CG (not symmetric)", matrix: zeroRow, options: ["--method", "cg"],
    expected: "needs a symmetric matrix"),
  SolverFault(
    name: "indefinite matrix to CHOLMOD", matrix: indefinite, options: ["--method", "cholmod"],
    expected: "not positive definite"),
  SolverFault(
    name: "indefinite matrix to CG", matrix: indefinite, options: ["--method", "cg"], expected: "indefiniteOperator"),
  SolverFault(
    name: "indefinite matrix to CG with IC(0)", matrix: indefinite, options: ["--method", "cg", "--pc", "ic0"],
    expected: "IC(0): pivot"),
  SolverFault(
    name: "singular matrix to CHOLMOD", matrix: singular, options: ["--method", "cholmod"],
    expected: "not positive definite"),
  SolverFault(
    name: "singular matrix to UMFPACK", matrix: singular, options: ["--method", "umfpack"],
    expected: "matrix is singular"),
  SolverFault(
    name: "inconsistent singular system to GMRES", matrix: singular, rhs: inconsistent, options: ["--method", "gmres"],
    expected: "status:             breakdown"),
  SolverFault(
    name: "inconsistent singular system to MINRES", matrix: singular, rhs: inconsistent,
    options: ["--method", "minres"], expected: "status:             maxIterations"),
]

@Suite("Faults: bad matrices and right-hand sides are named errors, never crashes or silent answers")
struct FaultTests {
  @Test("pdekit solve exits with status 1 and names the fault", arguments: solverFaults)
  func commandLine(_ fault: SolverFault) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-faults-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let a = dir.appendingPathComponent("A.mtx")
    try fault.matrix.write(to: a, atomically: true, encoding: .utf8)
    var arguments = ["solve", a.path] + fault.options
    if let rhs = fault.rhs {
      let b = dir.appendingPathComponent("b.mtx")
      try rhs.write(to: b, atomically: true, encoding: .utf8)
      arguments += ["--rhs", b.path]
    }
    let result = try runPDEKit(arguments)
    #expect(!result.signalled, "pdekit crashed: \(result.output)")
    #expect(result.status == 1, "exit status \(result.status): \(result.output)")
    #expect(result.output.contains(fault.expected), "expected '\(fault.expected)' in: \(result.output)")
  }

  @Test("every algorithm refuses NaN/Inf in A or b through the library, naming the entry")
  func library() throws {
    var coo = COOMatrix<Double>(rows: 3, columns: 3)
    for i in 0..<3 { coo.append(i, i, 2) }
    let a = try coo.csr()
    var poisoned = a
    poisoned.values[1] = .infinity
    let algorithms: [LinearSolverAlgorithm] = [
      .cholmod, .umfpack, .cg(preconditioner: .amg), .minres(preconditioner: .none),
      .gmres(restart: 5, preconditioner: .ilu0), .fgmres(restart: 5, preconditioner: .none),
      .bicgstab(preconditioner: .jacobi),
    ]
    for algorithm in algorithms {
      let solver = LinearSolver(algorithm)
      #expect {
        try solver.solve(LinearSystem(matrix: a, rhs: [1, .nan, 1]))
      } throws: { error in
        "\(error)".contains("right-hand side entry 1 is nan")
      }
      #expect {
        try solver.solve(LinearSystem(matrix: poisoned, rhs: [1, 1, 1]))
      } throws: { error in
        "\(error)".contains("(row 1, column 1) is inf")
      }
    }
  }

  @Test("an output path that cannot be created is exit 1 naming the path, for generate and train")
  func unwritableOutputs() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-faults-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    // /proc refuses new files even to root (CI runs as root, so permission bits would not do).
    let generate = try runPDEKit([
      "generate", "darcy", "--samples", "2", "--resolution", "8", "--out", "/proc/pdekit-fault.nc", "--quiet",
    ])
    #expect(!generate.signalled && generate.status == 1, "\(generate.output)")
    #expect(generate.output.contains("/proc/pdekit-fault.nc"), "\(generate.output)")
    let data = dir.appendingPathComponent("d.nc").path
    let made = try runPDEKit(["generate", "darcy", "--samples", "10", "--resolution", "8", "--out", data, "--quiet"])
    #expect(made.status == 0, "\(made.output)")
    let train = try runPDEKit([
      "train", "--data", data, "--epochs", "1", "--width", "4", "--modes", "2", "--out",
      "/proc/pdekit-fault.safetensors",
      "--quiet",
    ])
    #expect(!train.signalled && train.status == 1, "\(train.output)")
    #expect(train.output.contains("cannot write checkpoint /proc/pdekit-fault.safetensors"), "\(train.output)")
  }

  @Test("a netCDF-4 file that crashes libhdf5 is an error from info, eval-style commands and plot, not a crash")
  func hdf5CrashIsContained() throws {
    // fuzz/README.md finding 8: this mutated file makes HDF5 1.10.8 abort inside nc_open.
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent(
        "fuzz/crashes/fuzz-netcdf-hdf5/hdf5-1.10.8-invalid-free-H5G-dense-iterate.nc"
      ).path
    for arguments in [["info", file], ["plot", file, "--out", "/tmp/pdekit-fault-\(UUID().uuidString).png"]] {
      let result = try runPDEKit(arguments)
      #expect(!result.signalled && result.status == 1, "\(arguments[0]): \(result.output)")
      // glibc's allocator aborts on HDF5's invalid free (and AddressSanitizer reports it), so the
      // probe child dies; ThreadSanitizer's allocator lets HDF5 fail with an ordinary error instead.
      let expected = runningUnderThreadSanitizer ? "NetCDF: HDF error" : "crashes the HDF5 library"
      #expect(result.output.contains(expected), "\(arguments[0]): \(result.output)")
    }
  }
}
