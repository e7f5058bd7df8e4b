// pdekit-bench factformer-step: the batch-sliced training step of `pdekit train --model
// factformer|ifactformer` (taped forward, backward, slices summed) on random data, at the
// configuration bench/factformer/run.sh times against PyTorch (64², batch 8, width 64, 4 heads × 16).
//
//   pdekit-bench factformer-step [--model factformer|ifactformer] [--n 64] [--batch 8] [--width 64]
//                                [--layers 2] [--repeats 4] [--heads 4] [--head-width 16] [--kernel-multiplier 2]
//                                (ifactformer: --layers 1 --kernel-multiplier 3 unless given)
//                                [--reps 5] [--warmup 1] [--threads 2] [--slices S (default: as train, stepSlices)]
//
// Prints one JSON line: {"bench": "factformer_step", "impl": "pdekit", "model", "median_s", ...}.
// For profiling: `perf record -g .build-bench/release/pdekit-bench factformer-step --reps 30`.
import Foundation
import Numerics
import Operators

let factFormerSubcommands: Set<String> = ["factformer-step"]

func runFactFormerStep(_ rawArgs: ArraySlice<String>) {
  var values = [
    "n": 64, "batch": 8, "width": 64, "layers": 2, "repeats": 4, "heads": 4, "head-width": 16,
    "kernel-multiplier": 2, "slices": 0, "reps": 5, "warmup": 1, "threads": 2,
  ]
  var modelName = "factformer"
  var given: Set<String> = []
  var args = rawArgs
  while let flag = args.popFirst() {
    let key = String(flag.drop(while: { $0 == "-" }))
    if key == "model" {
      guard let m = args.popFirst(), ["factformer", "ifactformer"].contains(m) else {
        fail("factformer-step: --model takes factformer or ifactformer")
      }
      modelName = m
      continue
    }
    guard values[key] != nil, let v = args.popFirst().flatMap(Int.init), v >= 1 || key == "warmup" || key == "slices"
    else {
      fail(
        "factformer-step: unknown option or bad value at \(flag); options: model, "
          + values.keys.sorted().joined(separator: ", "))
    }
    values[key] = v
    given.insert(key)
  }
  // IFactFormer-m as bench/factformer/run.sh trains it: one shared layer, its kernel multiplier 3.
  if modelName == "ifactformer" {
    if !given.contains("layers") { values["layers"] = 1 }
    if !given.contains("kernel-multiplier") { values["kernel-multiplier"] = 3 }
  }
  let (n, batch, threads) = (values["n"]!, values["batch"]!, values["threads"]!)
  BLAS.setThreads(threads)
  FFT.defaultThreads = threads
  ArrayBufferPool.enable(capacityBytes: 4 << 30)  // as `pdekit train`
  let x = NDArray<Float>.randomNormal([batch, 1, n, n], seed: 1)
  let y = NDArray<Float>.randomNormal([batch, 1, n, n], seed: 2)
  let loss = LpLoss(spatialDimensions: 2)
  func measure<M: Module & Sendable>(_ model: M, _ apply: @escaping @Sendable (M, Tensor<Float>) -> Tensor<Float>)
    -> [Double] where M.Scalar == Float
  {
    var times: [Double] = []
    for rep in 0..<(values["warmup"]! + values["reps"]!) {
      let c0 = processCPUSeconds()
      let t = wallSeconds {
        _ = batchSlicedValueAndGradient(
          at: model, batch: batch, slices: values["slices"]! > 0 ? values["slices"]! : stepSlices(batch: batch),
          workers: threads
        ) {
          m, s in loss(apply(m, Tensor(x.samples(s))), Tensor(y.samples(s)))
        }
      }
      if rep >= values["warmup"]! {
        times.append(t)
        cpu.append(processCPUSeconds() - c0)
      }
    }
    return times
  }
  var cpu: [Double] = []
  let times: [Double]
  let parameters: Int
  if modelName == "factformer" {
    let config = FactFormerConfiguration(
      inChannels: 1, outChannels: 1, dimensions: 2, width: values["width"]!, depth: values["layers"]!,
      heads: values["heads"]!, headWidth: values["head-width"]!, kernelMultiplier: values["kernel-multiplier"]!)
    let model = FactFormer<Float>(config, seed: 0)
    parameters = model.parameterCount
    times = measure(model) { m, u in m(u) }
  } else {
    let config = IFactFormerConfiguration(
      inChannels: 1, outChannels: 1, dimensions: 2, width: values["width"]!, depth: values["layers"]!,
      repeats: values["repeats"]!, heads: values["heads"]!, headWidth: values["head-width"]!,
      kernelMultiplier: values["kernel-multiplier"]!)
    let model = IFactFormer<Float>(config, seed: 0)
    parameters = model.parameterCount
    times = measure(model) { m, u in m(u) }
  }
  let o = Options(bench: "factformer-step", reps: values["reps"]!, warmup: values["warmup"]!, threads: threads, n: n)
  var extra: [String: Any] = [
    "median_cpu_s": median(cpu),
    "model": modelName, "parameters": parameters, "openblas_core": BLAS.openBLASInfo.coreName,
  ]
  for (k, v) in values where !["reps", "warmup", "threads", "n"].contains(k) { extra[k] = v }
  record("factformer_step", "pdekit", o, times, extra)
}
