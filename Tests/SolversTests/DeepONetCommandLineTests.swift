import Datasets
import Foundation
import Testing

@Suite("pdekit train/predict with DeepONet options")
struct DeepONetCommandLineTests {
  @Test("train --model deeponet --branch-net cnn --query-points, predict --resolution; refusals with reasons")
  func cnnBranchAndQueryPoints() throws {
    let exe = pdekitExecutable().path
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pdekit-don-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let darcy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("data/darcy-32.nc").path
    let model = dir.appendingPathComponent("cnn.safetensors").path
    let common = "--data '\(darcy)' --train-samples 8 --test-samples 4 --batch-size 4 --threads 1 --quiet"
    let train = try shell(
      "exec '\(exe)' train --model deeponet \(common) --epochs 2 --sensor-stride 2 --branch-net cnn "
        + "--branch-conv 4,8 --branch-kernel 3 --branch 16 --trunk 16,16 --query-points 100 --out '\(model)'")
    #expect(train.status == 0, "\(train.stderr)")
    // The log records the recipe; a resumed run keeps the query points and the CNN branch.
    let resumed = try shell("exec '\(exe)' train --model deeponet \(common) --epochs 3 --resume --out '\(model)'")
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let fine = dir.appendingPathComponent("fine.nc").path
    let predict = try shell(
      "exec '\(exe)' predict --checkpoint '\(model)' --input '\(darcy)' --samples 0:2 --resolution 48 --out '\(fine)'")
    #expect(predict.status == 0, "\(predict.stderr)")
    let reader = try DatasetReader(url: URL(fileURLWithPath: fine))
    #expect(reader.sampleCount == 2 && reader.axes.map(\.values.count) == [48, 48])
    #expect(reader.attributes["pdekit_prediction_grid"]?.contains("model evaluated at the points") == true)

    let refusals: [(String, String)] = [
      ("--model pod-deeponet --query-points 10", "fixed POD modes"),
      ("--model fno --query-points 10", "option of --model deeponet"),
      ("--model deeponet --query-points 10 --loss h1", "--loss l2 or mse"),
      ("--model deeponet --query-points 5000", "has 1024 points"),
      ("--model fno --branch-net cnn", "option of --model deeponet and pod-deeponet"),
      ("--model deeponet --branch-net conv", "mlp or cnn"),
      (
        "--model deeponet --branch-net cnn --branch-conv 4,8,8,8",
        "convolution 4 has a 5×5 kernel but its input is only 1×1"
      ),
    ]
    for (args, reason) in refusals {
      let r = try shell("exec '\(exe)' train \(args) \(common) --epochs 1 --out '\(dir.path)/r.safetensors'")
      #expect(r.status != 0 && r.stderr.contains(reason), "\(args): \(r.stderr)")
      #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Backtrac"), "\(args): \(r.stderr)")
    }
  }
}
