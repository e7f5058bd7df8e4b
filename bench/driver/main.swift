// pdekit-bench: the PDEKit side of the benchmarks in bench/README.md. Each benchmark does the
// same work as the peer script of the same name in bench/peers/ and prints one JSON line per
// implementation: {"bench", "impl", "median_s", "min_s", "reps", "threads", ...}.
//
//   swift build -c release --scratch-path .build-bench --product pdekit-bench
//   .build-bench/release/pdekit-bench fft|spmv|gemm [--reps R] [--warmup W] [--threads T] [--n N]
//   .build-bench/release/pdekit-bench darcy-export|darcy|mm-read ...   (SolverBenches.swift)
//   .build-bench/release/pdekit-bench fno-step|fno-ops ...              (OperatorBenches.swift)
//   .build-bench/release/pdekit-bench factformer-step ...               (FactFormerBenches.swift)
//   .build-bench/release/pdekit-bench deeponet-data|deeponet-train ...  (DeepONetBenches.swift)
//   .build-bench/release/pdekit-bench hybrid|hybrid-bandit ...          (HybridBenches.swift)
//   .build-bench/release/pdekit-bench recycling --family darcy ...      (RecyclingBenches.swift)
import CBLAS
import Dispatch
import Foundation
import Numerics
import Solvers

struct Options {
  var bench = ""
  var reps = 20
  var warmup = 3
  var threads = 1
  var n: Int? = nil
}

func parseOptions() -> Options {
  var o = Options()
  var args = CommandLine.arguments.dropFirst()
  guard let b = args.popFirst(), ["fft", "spmv", "gemm"].contains(b) else {
    FileHandle.standardError.write(
      ("usage: pdekit-bench fft|spmv|gemm [--reps R] [--warmup W] [--threads T] [--n N]\n"
        + "       pdekit-bench darcy-export --n N --samples S --dim 2|3 --dir D [--seed K] [--storage symmetric|general]\n"
        + "       pdekit-bench darcy --dir D [--methods cholmod,amg-cg,amg-cg-fresh,ic0-cg,cg] [--samples K] [--rtol R]\n"
        + "       pdekit-bench mm-read --file F [--reps R] [--warmup W]\n"
        + "       pdekit-bench fno-step [--n 64] [--batch 20] [--width 32] [--modes 12] [--reps 5] [--threads 2] [--transform automatic|fft|pruned] [--sliced-only 1]\n"
        + "       pdekit-bench fno-ops [--n 64] [--batch 20] [--width 32] [--modes 12] [--reps 7] [--threads 2]   (per-op breakdown)\n"
        + "       pdekit-bench factformer-step [--model factformer|ifactformer] [--n 64] [--batch 8] [--width 64] [--layers 2] [--heads 4] [--head-width 16] [--reps 5] [--threads 2]\n"
        + "       pdekit-bench hybrid --n N --samples S --dir D [--bootstrap B] [--epochs E] [--configs ...] [--reps K] [--dim 2|3] [--rtol R] [--recipe darcy|poisson]\n"
        + "       pdekit-bench hybrid-bandit --n N --samples S [--rtol R] [--cost-scale C]\n"
        + "       pdekit-bench recycling --family darcy|thermal|poisson|helmholtz [--n N] [--pc P] [--configs a,b,c,...] (--help for all)\n")
        .data(using: .utf8)!)
    exit(2)
  }
  o.bench = b
  while let flag = args.popFirst() {
    guard let value = args.popFirst().flatMap(Int.init), value >= 0 else {
      FileHandle.standardError.write("\(flag) needs a non-negative integer\n".data(using: .utf8)!)
      exit(2)
    }
    switch flag {
    case "--reps": o.reps = max(1, value)
    case "--warmup": o.warmup = value
    case "--threads": o.threads = max(1, value)
    case "--n": o.n = value
    default:
      FileHandle.standardError.write("unknown option \(flag)\n".data(using: .utf8)!)
      exit(2)
    }
  }
  return o
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// CPU seconds of the process so far (all threads): the work done, less sensitive than wall time
/// to other tenants of a shared machine (but it counts spin-waits).
func processCPUSeconds() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Wall seconds of one call of `body`.
func wallSeconds(_ body: () -> Void) -> Double {
  let t0 = now()
  body()
  return now() - t0
}

/// Runs `body` warmup + reps times; returns the per-rep seconds of the timed reps.
func time(_ o: Options, _ body: () -> Void) -> [Double] {
  for _ in 0..<o.warmup { body() }
  return (0..<o.reps).map { _ in
    let t0 = now()
    body()
    return now() - t0
  }
}

func median(_ xs: [Double]) -> Double {
  let s = xs.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
}

func emit(_ fields: [String: Any]) {
  let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}

func record(_ bench: String, _ impl: String, _ o: Options, _ t: [Double], _ extra: [String: Any] = [:]) {
  var f: [String: Any] = [
    "bench": bench, "impl": impl, "median_s": median(t), "min_s": t.min()!, "reps": o.reps,
    "threads": o.threads, "times_s": t,
  ]
  for (k, v) in extra { f[k] = v }
  emit(f)
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write("pdekit-bench: \(message)\n".data(using: .utf8)!)
  exit(1)
}

// MARK: - FFT: batched rfft2 + irfft2 round trip, float32, 1024 × 128², 1/N on the inverse.

func benchFFT(_ o: Options) throws {
  let n = o.n ?? 128
  let batch = 1024
  let shape = [n, n]
  let x = NDArray<Float>.randomNormal([batch, n, n], seed: 12345)
  let t0 = now()
  let r2c = try FFTPlan<Float>(.realToComplex, shape: shape, batch: batch, threads: o.threads, rigor: .measure)
  let c2r = try FFTPlan<Float>(.complexToReal, shape: shape, batch: batch, threads: o.threads, rigor: .measure)
  let planSeconds = now() - t0
  var spectrum = NDArray<Complex<Float>>.zeros([batch, n, n / 2 + 1])
  var y = NDArray<Float>.zeros([batch, n, n])
  let scale = 1 / Float(n * n)
  var forward: [Double] = []
  var inverse: [Double] = []
  let times = x.withUnsafeBufferPointer { xp in
    spectrum.withUnsafeMutableBufferPointer { sp in
      y.withUnsafeMutableBufferPointer { yp in
        time(o) {
          let a = now()
          r2c.execute(UnsafeRawPointer(xp.baseAddress!), UnsafeMutableRawPointer(sp.baseAddress!))
          let b = now()
          c2r.execute(UnsafeRawPointer(sp.baseAddress!), UnsafeMutableRawPointer(yp.baseAddress!))
          BLAS.scal(scale, yp)
          forward.append(b - a)
          inverse.append(now() - b)
        }
      }
    }
  }
  let err = y.maxAbsDifference(x) / Double(x.minMax()!.max)
  guard err < 1e-4 else { fail("FFT round trip error \(err) exceeds 1e-4") }
  let timed = o.reps
  record(
    "fft2_roundtrip_f32_1024x\(n)x\(n)", "pdekit", o, times,
    [
      "plan_s": planSeconds, "fwd_median_s": median(Array(forward.suffix(timed))),
      "inv_median_s": median(Array(inverse.suffix(timed))), "roundtrip_rel_err": err,
      "fftw_version": FFT.fftwVersion,
    ])
}

// MARK: - SpMV: 2D 5-point Laplacian (Dirichlet), N² unknowns, float64, Int32 indices.

func benchSpMV(_ o: Options) throws {
  let n = o.n ?? 1024
  let rows = n * n
  var coo = COOMatrix<Double>(rows: rows, columns: rows, reserve: 5 * rows)
  for i in 0..<n {
    for j in 0..<n {
      let r = i * n + j
      if i > 0 { coo.append(r, r - n, -1) }
      if j > 0 { coo.append(r, r - 1, -1) }
      coo.append(r, r, 4)
      if j < n - 1 { coo.append(r, r + 1, -1) }
      if i < n - 1 { coo.append(r, r + n, -1) }
    }
  }
  let a = try coo.csr()
  var rng = PhiloxRandom(seed: 12345)
  var x = [Double](repeating: 0, count: rows)
  x.withUnsafeMutableBufferPointer { rng.fillGaussian($0) }
  var y = [Double](repeating: 0, count: rows)
  let nnz = a.nonzeroCount
  let bytes = nnz * (8 + 4) + (rows + 1) * 4 + rows * 8 + rows * 8
  for threads in Set([1, o.threads]).sorted() {
    var oo = o
    oo.threads = threads
    let t = x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in time(oo) { a.multiply(xp, into: yp, threads: threads) } }
    }
    // Check one interior row against the stencil.
    let r = (n / 2) * n + n / 2
    let ref = 4 * x[r] - x[r - 1] - x[r + 1] - x[r - n] - x[r + n]
    guard abs(y[r] - ref) < 1e-12 * max(1, abs(ref)) else { fail("SpMV result wrong at row \(r)") }
    record(
      "spmv_laplace2d_\(n)", threads == 1 ? "pdekit" : "pdekit_2threads", oo, t,
      [
        "n": rows, "nnz": nnz, "index_bytes": 4, "bytes_model": bytes, "gbps": Double(bytes) / median(t) / 1e9,
      ])
  }
}

// MARK: - sgemm 1024³: the PDEKit wrapper vs a direct cblas_sgemm call (same OpenBLAS).

func benchGEMM(_ o: Options) throws {
  let n = o.n ?? 1024
  BLAS.setThreads(o.threads)
  let a = NDArray<Float>.randomNormal([n, n], seed: 12345)
  let b = NDArray<Float>.randomNormal([n, n], seed: 12345, stream: 1)
  var c = NDArray<Float>.zeros([n, n])
  let flops = 2 * Double(n) * Double(n) * Double(n)
  let info = BLAS.openBLASInfo
  let extra: [String: Any] = ["n": n, "openblas": info.config, "corename": info.coreName, "blas_threads": info.threads]
  // Interleave the two implementations rep by rep so machine noise hits both alike.
  var wrapperTimes: [Double] = []
  var directTimes: [Double] = []
  a.withUnsafeBufferPointer { ap in
    b.withUnsafeBufferPointer { bp in
      c.withUnsafeMutableBufferPointer { cp in
        let (A, B, C) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
        let n32 = Int32(n)
        for rep in 0..<(o.warmup + o.reps) {
          let t0 = now()
          BLAS.gemm(.none, .none, m: n, n: n, k: n, alpha: 1, a: A, lda: n, b: B, ldb: n, beta: 0, c: C, ldc: n)
          let t1 = now()
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, n32, n32, 1, A, n32, B, n32, 0, C, n32)
          let t2 = now()
          if rep >= o.warmup {
            wrapperTimes.append(t1 - t0)
            directTimes.append(t2 - t1)
          }
        }
      }
    }
  }
  // Check a few entries against a float64 dot product.
  for (i, j) in [(0, 0), (n / 2, n / 3), (n - 1, n - 1)] {
    var s = 0.0
    for k in 0..<n { s += Double(a[i, k]) * Double(b[k, j]) }
    guard abs(Double(c[i, j]) - s) < 1e-3 * Double(n).squareRoot() else { fail("sgemm result wrong at (\(i), \(j))") }
  }
  var e1 = extra
  e1["gflops"] = flops / median(wrapperTimes) / 1e9
  record("sgemm_\(n)", "pdekit", o, wrapperTimes, e1)
  var e2 = extra
  e2["gflops"] = flops / median(directTimes) / 1e9
  record("sgemm_\(n)", "cblas_direct", o, directTimes, e2)
}

// As pdekit: OpenBLAS's kernels for this CPU, not the generic ones Debian's 0.3.21 falls back to
// on recent Xeons (measurements would otherwise time SSE3 kernels).
OpenBLASKernels.reexecIfNeeded()
if CommandLine.arguments.count > 1, factFormerSubcommands.contains(CommandLine.arguments[1]) {
  runFactFormerStep(CommandLine.arguments.dropFirst(2))
  exit(0)
}
if CommandLine.arguments.count > 1, operatorSubcommands.contains(CommandLine.arguments[1]) {
  runOperatorSubcommand(CommandLine.arguments[1], CommandLine.arguments.dropFirst(2))
  exit(0)
}
if CommandLine.arguments.count > 1, deepONetSubcommands.contains(CommandLine.arguments[1]) {
  runDeepONetSubcommand(CommandLine.arguments[1], CommandLine.arguments.dropFirst(2))
  exit(0)
}
if CommandLine.arguments.count > 1, hybridSubcommands.contains(CommandLine.arguments[1]) {
  runHybridSubcommand(CommandLine.arguments[1], CommandLine.arguments.dropFirst(2))
  exit(0)
}
if CommandLine.arguments.count > 1, solverSubcommands.contains(CommandLine.arguments[1]) {
  runSolverSubcommand(CommandLine.arguments[1], CommandLine.arguments.dropFirst(2))
  exit(0)
}
if CommandLine.arguments.count > 1, recyclingSubcommands.contains(CommandLine.arguments[1]) {
  runRecyclingSubcommand(CommandLine.arguments[1], CommandLine.arguments.dropFirst(2))
  exit(0)
}
let options = parseOptions()
do {
  switch options.bench {
  case "fft": try benchFFT(options)
  case "spmv": try benchSpMV(options)
  default: try benchGEMM(options)
  }
} catch {
  fail("\(error)")
}
