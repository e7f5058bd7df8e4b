// pdekit-bench deeponet-data / deeponet-train: the antiderivative operator of DeepXDE's DeepONet
// tutorial (demos/operator/antiderivative_aligned), PDEKit's side of bench/deeponet.
//
//   pdekit-bench deeponet-data --dir D [--train 150] [--test 1000] [--points 100] [--seed 0]
//   pdekit-bench deeponet-train --dir D [--iterations 10000] [--eval-every 1000] [--threads 2] [--seed 0]
//                               [--loss mse|l2] [--normalize 0|1]
//
// deeponet-data writes D/antiderivative-train.nc and D/antiderivative-test.nc (PDEKit datasets:
// input `v` (role input), target `u` (role target) on the nodal grid x_j = j/(m−1), j < m):
//   v ~ PDEKit's periodic GaussianRandomField on [0, 1), covariance σ²(−Δ + τ²)^(−α), α = 2, τ = 5,
//       σ set so that E v(x)² = 1 (DeepXDE's tutorial uses an RBF kernel of variance 1), drawn on
//       the fine periodic grid of 10(m−1) points (the nodal points are every 10th, x = 1 wraps);
//   u(x) = ∫₀ˣ v, the trapezoid rule on the fine grid (h = 1/(10(m−1)); error ~1e-6 relative).
// Both sides read these files (bench/deeponet/deepxde_antiderivative.py with netCDF4).
//
// deeponet-train trains DeepONet<Float> (branch [m, 40, 40], trunk [1, 40, 40], ReLU, Glorot
// normal, DeepXDE's tutorial network) with Adam lr 1e-3 on the full training batch each iteration
// (DeepXDE's default without batch_size), through PDEKit's Trainer; every --eval-every iterations
// it computes the test relative L2 error (as DeepXDE's display_every = 1000 evaluates the test
// loss and metric). Prints one JSON line: iterations per second over the whole loop (evaluations
// included, as DeepXDE's train() time), final test relative L2 (mean over samples).
import Datasets
import Foundation
import Numerics
import Operators

let deepONetSubcommands: Set<String> = ["deeponet-data", "deeponet-train"]

func runDeepONetSubcommand(_ name: String, _ rawArgs: ArraySlice<String>) {
  var values: [String: String] = [
    "dir": "", "train": "150", "test": "1000", "points": "100", "seed": "0", "iterations": "10000",
    "eval-every": "1000", "threads": "2", "loss": "mse", "normalize": "0",
  ]
  var args = rawArgs
  while let flag = args.popFirst() {
    let key = String(flag.drop(while: { $0 == "-" }))
    guard values[key] != nil, let v = args.popFirst() else {
      fail(
        "\(name): unknown option or missing value at \(flag); options: " + values.keys.sorted().joined(separator: ", "))
    }
    values[key] = v
  }
  guard !values["dir"]!.isEmpty else { fail("\(name): --dir is required") }
  func int(_ key: String) -> Int {
    guard let v = Int(values[key]!), v >= 0 else { fail("\(name): --\(key) needs a non-negative integer") }
    return v
  }
  let dir = URL(fileURLWithPath: values["dir"]!)
  do {
    if name == "deeponet-data" {
      try writeAntiderivativeData(
        dir: dir, train: int("train"), test: int("test"), points: int("points"), seed: UInt64(int("seed")))
    } else {
      guard let loss = ["mse", "l2"].first(where: { $0 == values["loss"] }) else { fail("--loss must be mse or l2") }
      try trainAntiderivative(
        dir: dir, iterations: int("iterations"), evalEvery: max(1, int("eval-every")), threads: max(1, int("threads")),
        seed: UInt64(int("seed")), mse: loss == "mse", normalize: int("normalize") != 0)
    }
  } catch {
    fail("\(name): \(error)")
  }
}

/// Writes the train and test files of the antiderivative benchmark.
func writeAntiderivativeData(dir: URL, train: Int, test: Int, points m: Int, seed: UInt64) throws {
  guard m >= 2, train >= 1, test >= 1 else { fail("deeponet-data: need ≥ 2 points and ≥ 1 sample per split") }
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let refine = 10
  let fine = refine * (m - 1)
  let (alpha, tau) = (2.0, 5.0)
  // σ² Σ_k (4π²k² + τ²)^(−α) over the grid's wavenumbers = 1.
  let variance = (0..<fine).reduce(0.0) { acc, i in
    let k = Double(i <= fine / 2 ? i : i - fine)
    return acc + pow(4 * Double.pi * Double.pi * k * k + tau * tau, -alpha)
  }
  let sigma = 1 / variance.squareRoot()
  let grf = try GaussianRandomField(shape: [fine], alpha: alpha, tau: tau, sigma: sigma)
  let nodal = (0..<m).map { Double($0) / Double(m - 1) }
  let h = 1 / Double(fine)
  for (split, count, stream) in [("train", train, UInt64(0)), ("test", test, UInt64(1))] {
    let schema = DatasetSchema(
      title: "antiderivative operator (DeepXDE DeepONet tutorial), \(split) split", pde: "antiderivative",
      equation: "du/dx = v(x), u(0) = 0", boundaryConditions: "u(0) = 0",
      discretization: "trapezoid rule on \(fine) periodic points, stored every \(refine)th (nodal, x = 1 wraps)",
      solver: "cumulative trapezoid", rtol: 0,
      configJSON:
        "{\"alpha\":\(alpha),\"tau\":\(tau),\"sigma\":\(sigma),\"seed\":\(seed),\"stream\":\(stream),\"points\":\(m),\"fine\":\(fine)}",
      axes: [DatasetAxis(name: "x", values: nodal, units: "1", longName: "position")],
      variables: [
        DatasetVariable(name: "v", role: .input, axes: ["x"], longName: "input function v ~ GRF", units: "1"),
        DatasetVariable(name: "u", role: .target, axes: ["x"], longName: "antiderivative of v", units: "1"),
      ])
    let url = dir.appendingPathComponent("antiderivative-\(split).nc")
    let writer = try DatasetWriter.create(at: url, schema: schema, overwrite: true)
    for s in 0..<count {
      let field = grf.sample(seed: seed &+ stream &* 1_000_003, index: UInt64(s)).scalars
      var v = [Float](repeating: 0, count: m)
      var u = [Float](repeating: 0, count: m)
      var acc = 0.0
      for i in 0..<fine {
        if i % refine == 0 {
          v[i / refine] = Float(field[i])
          u[i / refine] = Float(acc)
        }
        acc += 0.5 * h * (field[i] + field[(i + 1) % fine])
      }
      v[m - 1] = Float(field[0])
      u[m - 1] = Float(acc)
      _ = try writer.append(
        ["v": try NDArray(shape: [m], data: v), "u": try NDArray(shape: [m], data: u)],
        diagnostics: SampleDiagnostics(seed: UInt64(s), iterations: 0, relativeResidual: 0, solveSeconds: 0))
    }
    try writer.close()
  }
  print("wrote \(train) + \(test) samples on \(m) points to \(dir.path) (α \(alpha), τ \(tau), σ \(sigma))")
}

/// Trains the tutorial's DeepONet and prints the timing and the test error as one JSON line.
func trainAntiderivative(
  dir: URL, iterations: Int, evalEvery: Int, threads: Int, seed: UInt64, mse: Bool, normalize: Bool
) throws {
  BLAS.setThreads(threads)
  let train = try FieldDataset(url: dir.appendingPathComponent("antiderivative-train.nc"))
  let test = try FieldDataset(url: dir.appendingPathComponent("antiderivative-test.nc"))
  let domain = [GridAxisDomain(coordinates: train.fileAxes[0].values)]
  let config = DeepONetConfiguration(
    inChannels: 1, outChannels: 1, sensorGrid: train.gridShape, branchWidths: [40, 40], trunkWidths: [40, 40],
    activation: .relu, domain: domain)
  let training = TrainingConfiguration(
    epochs: iterations, batchSize: train.count, learningRate: 1e-3, loss: mse ? .mse : .l2, seed: seed,
    normalize: normalize)
  var trainer = try Trainer(
    model: DeepONet<Float>(config, seed: seed), configuration: training, train: train, test: nil)
  var curve: [[String: Double]] = []
  func testError() throws -> Double {
    try evaluate(
      trainer.model, on: test, inputNormalizer: trainer.inputNormalizer, targetNormalizer: trainer.targetNormalizer,
      batchSize: test.count
    ).relativeL2.mean
  }
  let t0 = now()
  var lastLoss = 0.0
  for it in 1...iterations {
    lastLoss = try trainer.trainEpoch().trainLoss
    if it % evalEvery == 0 || it == iterations {
      curve.append(["iteration": Double(it), "train_loss": lastLoss, "test_l2": try testError(), "seconds": now() - t0])
    }
  }
  let seconds = now() - t0
  emit([
    "bench": "deeponet_antiderivative", "impl": "pdekit", "iterations": iterations, "seconds": seconds,
    "it_per_s": Double(iterations) / seconds, "test_rel_l2": curve.last!["test_l2"]!, "train_loss": lastLoss,
    "loss": mse ? "mse" : "relative_l2", "normalize": normalize, "threads": threads, "curve": curve,
    "parameters": trainer.model.parameterCount, "train_samples": train.count, "test_samples": test.count,
  ])
}
