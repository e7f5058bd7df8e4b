// `pdekit doctor`'s self-check: small, real computations through each system library.
import CFFTW
import Datasets
import Foundation
import Numerics

/// Outcome of one self-check.
public struct SelfCheckResult: Sendable {
  /// What was checked.
  public var name: String
  /// Whether it passed.
  public var passed: Bool
  /// Measured figure or the reason for failure.
  public var detail: String
}

/// Versions of the system libraries PDEKit is linked against, and a self-check that exercises them.
public enum SelfCheck {
  /// (library, version/configuration) pairs.
  public static func libraryVersions() -> [(String, String)] {
    let blas = BLAS.openBLASInfo
    return [
      ("PDEKit", PDEKitVersion.version),
      ("FFTW", FFT.fftwVersion),
      ("OpenBLAS", "\(blas.config); core \(blas.coreName); \(blas.threads) thread(s)"),
      ("SuiteSparse", "\(CholmodCholesky.suiteSparseVersion) (CHOLMOD \(CholmodCholesky.version))"),
      ("netCDF", NetCDF.libraryVersion),
    ]
  }

  /// The OpenBLAS core type this CPU should use when OpenBLAS fell back to generic kernels:
  /// OpenBLAS 0.3.21 (Debian 12) does not recognise some recent Xeons and picks "Prescott" (SSE3)
  /// kernels, several times slower than its Haswell/SkylakeX kernels for gemm. Returns
  /// "SkylakeX" (AVX-512F/BW) or "Haswell" (AVX2 + FMA) from the kernel's CPU flags (which lack
  /// features the OS has not enabled), or nil when OpenBLAS's choice is fine.
  public static func suggestedOpenBLASCoreType() -> String? {
    let core = BLAS.openBLASInfo.coreName.lowercased()
    guard ["prescott", "core2", "katmai", "coppermine", "northwood", "banias"].contains(core),
      let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
    else { return nil }
    let flags = Set(cpu.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
    if flags.contains("avx512f") && flags.contains("avx512bw") { return "SkylakeX" }
    if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
    return nil
  }

  /// Advice when OpenBLAS runs generic kernels on a CPU that has faster ones (see
  /// ``suggestedOpenBLASCoreType()``). Nil when nothing to say.
  public static func openBLASAdvice() -> String? {
    guard let suggestion = suggestedOpenBLASCoreType() else { return nil }
    return "OpenBLAS picked its generic '\(BLAS.openBLASInfo.coreName)' kernels although this CPU supports "
      + "\(suggestion == "SkylakeX" ? "AVX-512" : "AVX2/FMA"); export OPENBLAS_CORETYPE=\(suggestion) for much "
      + "faster dense linear algebra (then rerun `pdekit doctor` to check it)."
  }

  /// Runs every check; files go to a fresh temporary folder under `directory` that is removed after.
  public static func run(directory: URL = FileManager.default.temporaryDirectory) -> [SelfCheckResult] {
    [
      check("FFT round trip (rfft2/irfft2, 48×40, float64)", { try fftRoundTrip(Double.self, tolerance: 1e-12) }),
      check("FFT round trip (rfft2/irfft2, 48×40, float32)", { try fftRoundTrip(Float.self, tolerance: 1e-5) }),
      check("gemm 64×48×32 vs naive triple loop", gemm),
      check("CHOLMOD factorization of a 2D Laplacian (20×20 grid)", cholmod),
      check("netCDF-4 write and read back", { try netcdf(directory) }),
    ]
  }

  static func check(_ name: String, _ body: () throws -> String) -> SelfCheckResult {
    do { return SelfCheckResult(name: name, passed: true, detail: try body()) } catch {
      return SelfCheckResult(name: name, passed: false, detail: "\(error)")
    }
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  static func fftRoundTrip<T: RealScalar>(_: T.Type, tolerance: Double) throws -> String {
    let x = NDArray<T>.randomNormal([3, 48, 40], seed: 1)
    let back = try FFT.irfft(try FFT.rfft(x, rank: 2), lastAxisSize: 40, rank: 2)
    let err = back.maxAbsDifference(x)
    guard err < tolerance else { throw Failure(description: "max error \(err) exceeds \(tolerance)") }
    return String(format: "max error %.1e", err)
  }

  static func gemm() throws -> String {
    let a = NDArray<Double>.randomNormal([64, 32], seed: 3)
    let b = NDArray<Double>.randomNormal([32, 48], seed: 3, stream: 1)
    let c = try a.matmul(b)
    var err = 0.0
    for i in 0..<64 {
      for j in 0..<48 {
        var s = 0.0
        for k in 0..<32 { s += a[i, k] * b[k, j] }
        err = max(err, abs(s - c[i, j]))
      }
    }
    guard err < 1e-12 else { throw Failure(description: "max error \(err) exceeds 1e-12") }
    return String(format: "max error %.1e", err)
  }

  static func cholmod() throws -> String {
    let n = 20
    var coo = COOMatrix<Double>(rows: n * n, columns: n * n)
    for i in 0..<n {
      for j in 0..<n {
        let r = i * n + j
        coo.append(r, r, 4)
        if i > 0 { coo.append(r, r - n, -1) }
        if i < n - 1 { coo.append(r, r + n, -1) }
        if j > 0 { coo.append(r, r - 1, -1) }
        if j < n - 1 { coo.append(r, r + 1, -1) }
      }
    }
    let a = try coo.csr()
    let xTrue = (0..<(n * n)).map { sin(Double($0)) }
    let b = try a.multiply(NDArray(shape: [n * n], data: xTrue)).scalars
    let x = try CholmodCholesky(a).solve(b)
    let err = zip(x, xTrue).map { abs($0 - $1) }.max()!
    guard err < 1e-10 else { throw Failure(description: "solution error \(err) exceeds 1e-10") }
    return String(format: "n = %d, max solution error %.1e", n * n, err)
  }

  static func netcdf(_ directory: URL) throws -> String {
    let dir = directory.appendingPathComponent("pdekit-doctor-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("check.nc")
    let schema = DatasetSchema(
      title: "pdekit doctor self-check", pde: "none", equation: "u = 2 a", boundaryConditions: "none",
      discretization: "none", solver: "none", rtol: 0, configJSON: "{}",
      axes: [.cellCentred("y", count: 6), .cellCentred("x", count: 5)],
      variables: [
        DatasetVariable(name: "a", role: .input, axes: ["y", "x"], longName: "input"),
        DatasetVariable(name: "u", role: .target, axes: ["y", "x"], longName: "target"),
      ])
    let w = try DatasetWriter.create(at: url, schema: schema)
    for s in 0..<3 {
      let a = NDArray<Float>(shape: [6, 5]) { p in for i in 0..<p.count { p[i] = Float(s * 100 + i) } }
      try w.append(
        ["a": a, "u": 2 * a],
        diagnostics: SampleDiagnostics(seed: UInt64(s), iterations: 0, relativeResidual: 0, solveSeconds: 0))
    }
    try w.close()
    let r = try DatasetReader(url: url)
    let u = try r.read("u", samples: 0..<3)
    let a = try r.read("a", samples: 0..<3)
    guard r.sampleCount == 3, u == 2 * a, a[2, 5, 4] == 229 else {
      throw Failure(description: "data read back differs from data written")
    }
    return "3 samples of 6×5 round-tripped exactly"
  }
}
