import Datasets
import Foundation
import Testing

@Suite("pdekit train/predict with the factorized transformers and autoregressive rollouts")
struct FactFormerCommandLineTests {
  @Test(
    "train --model factformer --input-frames (and ifactformer --pushforward) on a Navier-Stokes file, predict --rollout; ifactformer on Darcy"
  )
  func trainAndRollout() throws {
    let exe = pdekitExecutable().path
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-ff-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let ns = dir.appendingPathComponent("ns.nc").path
    let generate = try shell(
      "exec '\(exe)' generate navier-stokes --samples 4 --resolution 8 --param solver_resolution=16 --param t_end=5 "
        + "--param dt=1e-2 --threads 1 --quiet --out '\(ns)'")
    #expect(generate.status == 0, "\(generate.stderr)")
    let model = dir.appendingPathComponent("ff.safetensors").path
    let small = "--width 8 --layers 1 --heads 2 --head-width 4 --threads 1 --quiet"
    let train = try shell(
      "exec '\(exe)' train --model factformer --data '\(ns)' --input-frames 2 --epochs 1 --batch-size 4 \(small) "
        + "--out '\(model)'")
    #expect(train.status == 0, "\(train.stderr)")
    let pushed = try shell(
      "exec '\(exe)' train --model ifactformer --data '\(ns)' --input-frames 2 --pushforward 2 --epochs 1 "
        + "--batch-size 4 --repeats 2 \(small) --out '\(dir.path)/push.safetensors'")
    #expect(pushed.status == 0, "\(pushed.stderr)")
    let noFrames = try shell(
      "exec '\(exe)' train --model factformer --data '\(ns)' --pushforward 2 --out '\(dir.path)/np.safetensors'")
    #expect(noFrames.status != 0 && noFrames.stderr.contains("--input-frames"), "\(noFrames.stderr)")
    let rolled = dir.appendingPathComponent("roll.nc").path
    let predict = try shell(
      "exec '\(exe)' predict --checkpoint '\(model)' --input '\(ns)' --samples 3:4 --rollout 3 --out '\(rolled)'")
    #expect(predict.status == 0, "\(predict.stderr)")
    let reader = try DatasetReader(url: URL(fileURLWithPath: rolled))
    #expect(reader.sampleCount == 1)
    #expect(try reader.variable(named: "vorticity_rollout").axes == ["time", "y", "x"])
    // Frames 0 (initial), 1…5 (t = 1…5); k = 2: the 3 steps predict frames 2, 3, 4 at t = 2, 3, 4.
    #expect(reader.axes.first { $0.name == "time" }?.values == [2, 3, 4])
    let source = try DatasetReader(url: URL(fileURLWithPath: ns))
    let truth = try source.read("vorticity", samples: 3..<4).scalars
    #expect(try reader.read("vorticity", samples: 0..<1).scalars == Array(truth[64..<256]))
    let tooLong = try shell(
      "exec '\(exe)' predict --checkpoint '\(model)' --input '\(ns)' --rollout 5 --out '\(dir.path)/x.nc'")
    #expect(tooLong.status != 0 && tooLong.stderr.contains("rollout steps"), "\(tooLong.stderr)")

    let darcy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("data/darcy-32.nc").path
    let iff = try shell(
      "exec '\(exe)' train --model ifactformer --data '\(darcy)' --train-samples 4 --test-samples 2 --epochs 1 "
        + "--repeats 2 \(small) --out '\(dir.path)/iff.safetensors'")
    #expect(iff.status == 0, "\(iff.stderr)")
    let bad = try shell("exec '\(exe)' train --model factformer --data '\(darcy)' --width 7 --out '\(dir.path)/b.st'")
    #expect(bad.status != 0 && bad.stderr.contains("width must be even"), "\(bad.stderr)")
  }
}
