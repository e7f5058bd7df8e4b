// pdekit-bench fno-step: forward (inference), taped forward and backward of the FNO on one
// batch, the unit of work of an FNO training step (bench/fno compares whole training runs).
//
//   pdekit-bench fno-step [--n 64] [--batch 20] [--width 32] [--modes 12] [--reps 5] [--warmup 1] [--threads 2]
//                         [--transform automatic|fft|pruned]   (how the spectral convolutions transform)
//                         [--sliced-only 1]   (only the batch-sliced step of `pdekit train`, e.g. for profiling)
//
// Prints one JSON line per phase: {"bench": "fno_step_<phase>", "impl": "pdekit", "median_s", ...}.
//
// pdekit-bench fno-ops: the same step taken apart, op by op (see runFNOOps).
import Foundation
import Numerics
import Operators

let operatorSubcommands: Set<String> = ["fno-step", "fno-ops"]

func runOperatorSubcommand(_ name: String, _ rawArgs: ArraySlice<String>) {
  if name == "fno-ops" { return runFNOOps(rawArgs) }
  var values = ["n": 64, "batch": 20, "width": 32, "modes": 12, "reps": 5, "warmup": 1, "threads": 2, "sliced-only": 0]
  var transform = SpectralTransform.automatic
  var args = rawArgs
  while let flag = args.popFirst() {
    let key = String(flag.drop(while: { $0 == "-" }))
    if key == "transform" {
      switch args.popFirst() {
      case "fft": transform = .fft
      case "pruned": transform = .prunedDFT
      case "automatic": transform = .automatic
      default: fail("fno-step: --transform takes fft, pruned or automatic")
      }
      continue
    }
    guard values[key] != nil, let v = args.popFirst().flatMap(Int.init),
      v >= 1 || key == "warmup" || key == "sliced-only"
    else {
      fail("fno-step: unknown option or bad value at \(flag); options: " + values.keys.sorted().joined(separator: ", "))
    }
    values[key] = v
  }
  let (n, batch, width, modes) = (values["n"]!, values["batch"]!, values["width"]!, values["modes"]!)
  BLAS.setThreads(values["threads"]!)
  FFT.defaultThreads = values["threads"]!
  // As `pdekit train` (prepareNumerics): large temporaries come from the buffer cache.
  ArrayBufferPool.enable(capacityBytes: 4 << 30)
  let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: width, modes: [modes, modes])
  var model = FNO<Float>(config, seed: 0)
  for i in model.blocks.indices { model.blocks[i].spectral.transform = transform }
  let x = NDArray<Float>.randomNormal([batch, 1, n, n], seed: 1)
  let y = NDArray<Float>.randomNormal([batch, 1, n, n], seed: 2)
  let loss = LpLoss(spatialDimensions: 2)
  var inference: [Double] = []
  var taped: [Double] = []
  var backward: [Double] = []
  for rep in 0..<(values["sliced-only"]! == 0 ? values["warmup"]! + values["reps"]! : 0) {
    let t1 = wallSeconds { _ = model(x) }
    let tape = Tape<Float>()
    var bound = model
    var leaves: [Tensor<Float>] = []
    var out: Tensor<Float>? = nil
    let t2 = wallSeconds {
      bound.visitParameters { _, p in
        p = tape.variable(p.value)
        leaves.append(p)
      }
      out = loss(bound(Tensor(x)), Tensor(y))
    }
    let t3 = wallSeconds { _ = tape.gradients(of: out!, withRespectTo: leaves) }
    if rep >= values["warmup"]! {
      inference.append(t1)
      taped.append(t2)
      backward.append(t3)
    }
  }
  // The step as `pdekit train` takes it: the batch cut into one slice per thread (BatchSlicedStep).
  var sliced: [Double] = []
  for rep in 0..<(values["warmup"]! + values["reps"]!) {
    let t = wallSeconds {
      _ = batchSlicedValueAndGradient(
        at: model, batch: batch, slices: stepSlices(batch: batch), workers: values["threads"]!
      ) { m, s in
        loss(m(Tensor(x.samples(s))), Tensor(y.samples(s)))
      }
    }
    if rep >= values["warmup"]! { sliced.append(t) }
  }
  let o = Options(bench: name, reps: values["reps"]!, warmup: values["warmup"]!, threads: values["threads"]!, n: n)
  let extra: [String: Any] = [
    "batch": batch, "width": width, "modes": modes, "parameters": model.parameterCount, "transform": "\(transform)",
    "openblas_core": BLAS.openBLASInfo.coreName,
  ]
  if !inference.isEmpty {
    record("fno_step_forward", "pdekit", o, inference, extra)
    record("fno_step_taped_forward", "pdekit", o, taped, extra)
    record("fno_step_backward", "pdekit", o, backward, extra)
  }
  record("fno_step_sliced_forward_backward", "pdekit", o, sliced, extra)
}

/// `pdekit-bench fno-ops [--n 64] [--batch 20] [--width 32] [--modes 12] [--reps 7] [--threads 2] [--cpu-time]`:
/// where the time of one FNO training step goes. Each op of the step is run on its own at the
/// step's shapes — forward on a fresh tape, then its pullback with a fixed cotangent — and its
/// median is multiplied by how often the step runs it (4 Fourier layers: ops inside a block ×4,
/// GELUs by their shape). The spectral convolution is also split into its FFTs. The table ends
/// with the sum of the ops and the measured whole step (taped forward + backward + Adam) for
/// comparison; the difference is tape bookkeeping and what the op list leaves out.
func runFNOOps(_ rawArgs: ArraySlice<String>) {
  var values = ["n": 64, "batch": 20, "width": 32, "modes": 12, "reps": 7, "threads": 2]
  var cpuClock = false
  var args = rawArgs
  while let flag = args.popFirst() {
    let key = String(flag.drop(while: { $0 == "-" }))
    if key == "cpu-time" {
      cpuClock = true
      continue
    }
    guard values[key] != nil, let v = args.popFirst().flatMap(Int.init), v >= 1 else {
      fail("fno-ops: unknown option or bad value at \(flag); options: " + values.keys.sorted().joined(separator: ", "))
    }
    values[key] = v
  }
  let (n, b, w, modes, reps) = (values["n"]!, values["batch"]!, values["width"]!, values["modes"]!, values["reps"]!)
  let threads = values["threads"]!
  BLAS.setThreads(threads)
  FFT.defaultThreads = threads
  ArrayBufferPool.enable(capacityBytes: 4 << 30)  // as `pdekit train`
  // --cpu-time: the process's CPU seconds (all threads) instead of wall time — work done, less
  // sensitive to other processes on a shared machine (but it counts BLAS threads' spin-waits).
  func clock() -> Double { cpuClock ? processCPUSeconds() : now() }
  func seconds(_ body: () -> Void) -> Double {
    let t0 = clock()
    body()
    return clock() - t0
  }
  func med(_ xs: [Double]) -> Double { median(xs) }
  var rows: [(name: String, count: Int, forward: Double, backward: Double)] = []
  /// Times `op` on tracked copies of `inputs`: forward (recording) and pullback of a fixed cotangent.
  func op(_ name: String, count: Int, _ inputs: [NDArray<Float>], _ body: ([Tensor<Float>]) -> Tensor<Float>) {
    var fwd: [Double] = []
    var bwd: [Double] = []
    for rep in 0..<(reps + 1) {
      let tape = Tape<Float>()
      let leaves = inputs.map { tape.variable($0) }
      var out: Tensor<Float>? = nil
      let tf = seconds { out = body(leaves) }
      let seed = NDArray<Float>.randomNormal(out!.shape, seed: 99)
      let tb = seconds { _ = tape.gradients(of: out!, seed: seed, withRespectTo: leaves, releasingGraph: true) }
      if rep > 0 {
        fwd.append(tf)
        bwd.append(tb)
      }
    }
    rows.append((name, count, med(fwd), med(bwd)))
  }
  var rng = PhiloxRandom(seed: 5)
  func field(_ c: Int, _ seed: UInt64) -> NDArray<Float> { .randomNormal([b, c, n, n], seed: seed) }
  func pointwise(_ cin: Int, _ cout: Int, bias: Bool = true) -> PointwiseConv<Float> {
    PointwiseConv<Float>(cin, cout, bias: bias, rng: &rng)
  }
  let layers = 4
  let (lift, proj, hidden) = (2 * w, 2 * w, w / 2)
  op("grid embedding", count: 1, [field(1, 1)]) { GridEmbedding(dimensions: 2)($0[0]) }
  let l0 = pointwise(3, lift)
  op("lifting 1x1 \(3)->\(lift)", count: 1, [field(3, 2)]) { l0($0[0]) }
  op("gelu [B,\(lift),n,n]", count: 2, [field(lift, 3)]) { gelu($0[0]) }
  let l1 = pointwise(lift, w)
  op("lifting 1x1 \(lift)->\(w)", count: 1, [field(lift, 4)]) { l1($0[0]) }
  let spectral = SpectralConv<Float>(inChannels: w, outChannels: w, modes: [modes, modes], rng: &rng)
  op("spectral conv \(w)->\(w)", count: layers, [field(w, 5)]) { spectral($0[0]) }
  // Both transforms of the spectral convolution, for comparison (not counted in the sum).
  for t in [SpectralTransform.fft, .prunedDFT] {
    op("  (spectral conv with transform .\(t))", count: 0, [field(w, 5)]) {
      spectralConvolution($0[0], weight: spectral.weight, bias: spectral.bias, modes: spectral.modes, transform: t)
    }
  }
  let skip = pointwise(w, w, bias: false)
  op("fno skip 1x1 \(w)->\(w)", count: layers, [field(w, 6)]) { skip($0[0]) }
  let gate = SoftGating<Float>(channels: w, dimensions: 2)
  op("soft gating", count: layers, [field(w, 7)]) { gate($0[0]) }
  op("add [B,\(w),n,n]", count: 2 * layers, [field(w, 8), field(w, 9)]) { $0[0] + $0[1] }
  op("gelu [B,\(w),n,n]", count: 2 * (layers - 1), [field(w, 10)]) { gelu($0[0]) }
  let m0 = pointwise(w, hidden)
  op("mlp 1x1 \(w)->\(hidden)", count: layers, [field(w, 11)]) { m0($0[0]) }
  op("gelu [B,\(hidden),n,n]", count: layers, [field(hidden, 12)]) { gelu($0[0]) }
  let m1 = pointwise(hidden, w)
  op("mlp 1x1 \(hidden)->\(w)", count: layers, [field(hidden, 13)]) { m1($0[0]) }
  let p0 = pointwise(w, proj)
  op("projection 1x1 \(w)->\(proj)", count: 1, [field(w, 14)]) { p0($0[0]) }
  let p1 = pointwise(proj, 1)
  op("projection 1x1 \(proj)->1", count: 1, [field(proj, 15)]) { p1($0[0]) }
  let target = Tensor(field(1, 16))
  op("LpLoss", count: 1, [field(1, 17)]) { LpLoss(spatialDimensions: 2)($0[0], target) }

  // The FFTs inside one spectral convolution: forward r2c of the input, c2r of the output; the
  // pullback runs one of each again.
  let spatial = [n, n]
  let half = n * (n / 2 + 1)
  let r2c = try! FFTPlan<Float>(.realToComplex, shape: spatial, batch: b * w)
  let c2r = try! FFTPlan<Float>(.complexToReal, shape: spatial, batch: b * w)
  let real = field(w, 18)
  var spectrum = NDArray<Complex<Float>>(shape: [b * w * half], repeating: .zero)
  var back = NDArray<Float>(shape: [b * w * n * n], repeating: 0)
  var tr2c: [Double] = []
  var tc2r: [Double] = []
  for rep in 0..<(reps + 1) {
    let a = seconds {
      real.withUnsafeBufferPointer { xp in
        spectrum.withUnsafeMutableBufferPointer { sp in
          r2c.execute(UnsafeRawPointer(xp.baseAddress!), UnsafeMutableRawPointer(sp.baseAddress!))
        }
      }
    }
    let c = seconds {
      spectrum.withUnsafeMutableBufferPointer { sp in
        back.withUnsafeMutableBufferPointer { op in
          c2r.execute(UnsafeRawPointer(sp.baseAddress!), UnsafeMutableRawPointer(op.baseAddress!))
        }
      }
    }
    if rep > 0 {
      tr2c.append(a)
      tc2r.append(c)
    }
  }
  // The same kept modes by the pruned DFT (analysis of the input, synthesis of the output).
  let keptRows = (0..<modes).map { ($0 - modes / 2 + n) % n }
  let pruned = PrunedRealDFT<Float>(
    rows: n, columns: n, rowFrequencies: keptRows, keptColumns: modes / 2 + 1, scale: 1 / Float(n * n))
  var kept = NDArray<Complex<Float>>(shape: [b * w * pruned.modesPerField], repeating: .zero)
  var tAnalyze: [Double] = []
  var tSynthesize: [Double] = []
  for rep in 0..<(reps + 1) {
    let a = seconds {
      real.withUnsafeBufferPointer { xp in
        kept.withUnsafeMutableBufferPointer { kp in
          pruned.analyze(xp.baseAddress!, fields: b * w, into: kp.baseAddress!)
        }
      }
    }
    let c = seconds {
      kept.withUnsafeBufferPointer { kp in
        back.withUnsafeMutableBufferPointer { op in
          pruned.synthesize(kp.baseAddress!, fields: b * w, into: op.baseAddress!)
        }
      }
    }
    if rep > 0 {
      tAnalyze.append(a)
      tSynthesize.append(c)
    }
  }

  // Adam on the whole model's gradients.
  let config = FNOConfiguration(inChannels: 1, outChannels: 1, hiddenChannels: w, modes: [modes, modes])
  var model = FNO<Float>(config, seed: 0)
  let x = NDArray<Float>.randomNormal([b, 1, n, n], seed: 1)
  let y = NDArray<Float>.randomNormal([b, 1, n, n], seed: 2)
  let loss = LpLoss(spatialDimensions: 2)
  var adam = Adam<Float>(learningRate: 1e-3)
  var tAdam: [Double] = []
  var tStep: [Double] = []
  for rep in 0..<(reps + 1) {
    var grads: Gradients<Float>? = nil
    let s = seconds { grads = valueAndGradient(at: model) { m in loss(m(Tensor(x)), Tensor(y)) }.gradients }
    let a = seconds {
      _ = grads!.globalNorm
      adam.update(&model, along: grads!)
    }
    if rep > 0 {
      tAdam.append(a)
      tStep.append(s + a)
    }
  }
  rows.append(("Adam + gradient norm", 1, med(tAdam), 0))

  let total = rows.reduce(0.0) { $0 + Double($1.count) * ($1.forward + $1.backward) }
  func ms(_ s: Double) -> String { String(format: "%8.2f", s * 1e3) }
  print(
    "FNO step, batch \(b), \(n)x\(n), width \(w), modes \(modes), \(layers) layers, \(threads) threads, "
      + "OpenBLAS core \(BLAS.openBLASInfo.coreName); medians of \(reps) reps (ms\(cpuClock ? " of process CPU time" : ""))"
  )
  print("| op | per step | forward | backward | step total (count × both) | share |")
  print("|---|---:|---:|---:|---:|---:|")
  for r in rows {
    let t = Double(r.count) * (r.forward + r.backward)
    print(
      "| \(r.name) | \(r.count == 0 ? "—" : String(r.count)) | \(ms(r.forward)) | \(ms(r.backward)) | \(ms(t)) | \(String(format: "%4.1f", 100 * t / total)) % |"
    )
  }
  print("| sum of ops | | | | \(ms(total)) | |")
  print("| measured step (taped forward + backward + Adam) | | | | \(ms(med(tStep))) | |")
  print("")
  print("inside one spectral conv (forward: one analysis + one synthesis; pullback: their adjoints):")
  print(
    "  rfft2 r2c [\(b * w) × \(n)²]  \(ms(med(tr2c))) ms;  irfft2 c2r  \(ms(med(tc2r))) ms;  "
      + "per step (4 layers × 2 each): \(ms(Double(2 * layers) * (med(tr2c) + med(tc2r)))) ms")
  print(
    "  pruned DFT analysis          \(ms(med(tAnalyze))) ms;  synthesis   \(ms(med(tSynthesize))) ms;  "
      + "per step (4 layers × 2 each): \(ms(Double(2 * layers) * (med(tAnalyze) + med(tSynthesize)))) ms")
}
