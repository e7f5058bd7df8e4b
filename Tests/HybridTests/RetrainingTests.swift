import Datasets
import Foundation
import Hybrid
import Numerics
import Operators
import Solvers
import Testing

@Suite("pdekit generate --warm-start neural --retrain-every")
struct RetrainingGenerationTests {
  /// 16 Darcy samples on 12², bootstrap 4, retrained after samples 8 and 12 (rounds 0, 1, 2), one
  /// epoch each. Batches of 3 do not divide the segments, so the segment boundaries must cut them.
  func config(retrainEvery: Int = 4) throws -> GenerationConfig {
    try GenerationConfig(
      recipe: "darcy", samples: 16, resolution: 12, seed: 3, solver: .amgCG, rtol: 1e-8,
      warmStart: WarmStartSettings(
        bootstrap: 4, epochs: 2, width: 8, modes: 4, retrainEvery: retrainEvery, retrainEpochs: 1))
  }

  func contents(_ url: URL) throws -> (data: [String: NDArray<Float>], diagnostics: [SampleDiagnostics]) {
    let r = try DatasetReader(url: url)
    defer { try? r.close() }
    var d: [String: NDArray<Float>] = [:]
    for v in r.variables { d[v.name] = try r.read(v.name, samples: 0..<r.sampleCount) }
    return (d, try r.diagnostics(samples: 0..<r.sampleCount))
  }

  /// The tensors of a safetensors file (its metadata names the training file, which differs by output name).
  func tensors(_ path: String) throws -> [String: [Float]] {
    let file = try SafeTensors.decode(Data(contentsOf: URL(fileURLWithPath: path)))
    var t: [String: [Float]] = [:]
    for e in file.entries where e.dtype == .float32 { t[e.name] = try file.array(named: e.name).scalars }
    return t
  }

  /// Diagnostics without the solve times (wall clock, never reproducible).
  func reproducible(_ d: [SampleDiagnostics]) -> [[Double]] {
    d.map {
      [
        Double($0.seed), Double($0.iterations), $0.relativeResidual, $0.warmStarted == true ? 1 : 0,
        Double($0.warmStartRound ?? -9),
      ]
    }
  }

  @Test("segments and rounds: each sample records the model that started it; every round trains on all samples so far")
  func roundsAndDeterminism() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let cfg = try config()
    #expect(cfg.warmStart!.segmentStarts(samples: 16) == [4, 8, 12])
    let one = dir.appendingPathComponent("one.nc")
    let two = dir.appendingPathComponent("two.nc")
    let s1 = try HybridGenerator.run(cfg, output: one, options: GenerationOptions(threads: 1, batchSize: 3))
    let s2 = try HybridGenerator.run(cfg, output: two, options: GenerationOptions(threads: 2, batchSize: 3))
    #expect(Set(s1.trainingSecondsByRound.keys) == [0, 1, 2] && Set(s2.trainingSecondsByRound.keys) == [0, 1, 2])
    #expect(s1.trainingSecondsByRound.values.allSatisfy { $0 > 0 })
    let a = try contents(one)
    let b = try contents(two)
    // Same seed: bit-identical data and diagnostics at 1 and 2 threads.
    #expect(a.data == b.data)
    #expect(reproducible(a.diagnostics) == reproducible(b.diagnostics))
    let rounds = a.diagnostics.map { $0.warmStartRound }
    #expect(rounds == [-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2].map { Int32($0) })
    #expect(a.diagnostics.map { $0.warmStarted } == (0..<16).map { $0 >= 4 })
    #expect(a.diagnostics.allSatisfy { $0.relativeResidual <= 1e-8 })
    // The kept model is the last round's: trained 2 + 1 + 1 epochs, the last on samples 0..<12;
    // identical bytes at 1 and 2 threads.
    let kept = one.path + ".warm-start.safetensors"
    let checkpoint = try OperatorCheckpoint.read(from: URL(fileURLWithPath: kept))
    #expect(checkpoint.trainingState?.history.count == 4)
    #expect(checkpoint.trainingState?.data.trainSamples == 12)
    #expect(checkpoint.optimizerState != nil)
    let weights = try tensors(kept)
    #expect(weights.count > 10)
    #expect(try weights == tensors(two.path + ".warm-start.safetensors"))
    #expect(!FileManager.default.fileExists(atPath: one.path + ".parts"))
    // pdekit info reports the iterations per model.
    let info = try DatasetReader(url: one)
    let summary = try info.summary()
    try info.close()
    #expect(summary.contains("model 0: 4 samples") && summary.contains("model 2: 4 samples"), "\(summary)")
    // The same run without retraining: rounds 0 throughout, the same bootstrap, a model trained on 4 samples.
    var plain = cfg
    plain.warmStart!.retrainEvery = nil
    plain.warmStart!.retrainEpochs = nil
    let plainURL = dir.appendingPathComponent("plain.nc")
    _ = try HybridGenerator.run(plain, output: plainURL, options: GenerationOptions(threads: 2, batchSize: 3))
    let p = try contents(plainURL)
    #expect(p.diagnostics.map { $0.warmStartRound } == (0..<16).map { Int32($0 >= 4 ? 0 : -1) })
    #expect(reproducible(Array(p.diagnostics.prefix(8))) == reproducible(Array(a.diagnostics.prefix(8))))
    let plainModel = try OperatorCheckpoint.read(from: URL(fileURLWithPath: plainURL.path + ".warm-start.safetensors"))
    #expect(plainModel.trainingState?.data.trainSamples == 4 && plainModel.optimizerState == nil)
  }

  @Test("killed in the bootstrap, after a retraining or in the last segment, --resume gives the clean run's file")
  func resume() throws {
    let dir = try scratchDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let cfg = try config()
    let clean = dir.appendingPathComponent("clean.nc")
    _ = try HybridGenerator.run(cfg, output: clean, options: GenerationOptions(threads: 2, batchSize: 3))
    let reference = try contents(clean)
    let keptReference = try tensors(clean.path + ".warm-start.safetensors")

    // Batches: [0,3) [3,4) | [4,7) [7,8) | [8,11) [11,12) | [12,15) [15,16). With one thread the
    // crash comes after the first batch that reaches the count.
    for (abortAfter, states) in [(3, [false, false, false]), (9, [true, true, false]), (13, [true, true, true])] {
      let out = dir.appendingPathComponent("crash-\(abortAfter).nc")
      #expect(throws: GenerationError.self) {
        try HybridGenerator.run(
          cfg, output: out, options: GenerationOptions(threads: 1, batchSize: 3, abortAfterSamples: abortAfter))
      }
      let parts = out.path + ".parts/"
      let found = ["warm-start.safetensors", "warm-start-round-1.safetensors", "warm-start-round-2.safetensors"].map {
        FileManager.default.fileExists(atPath: parts + $0)
      }
      #expect(found == states, "after \(abortAfter) samples")
      // A different retraining setting is refused, and named.
      #expect {
        try HybridGenerator.run(
          try config(retrainEvery: 5), output: out, options: GenerationOptions(resume: true, batchSize: 3))
      } throws: { "\($0)".contains("--retrain-every") && "\($0)".contains("retrained every 4 samples") }
      let resumed = try HybridGenerator.run(
        cfg, output: out, options: GenerationOptions(threads: 2, resume: true, batchSize: 3))
      #expect(resumed.generation.resumedSamples > 0 && resumed.generation.samplesWritten == 16)
      // Rounds already trained are reloaded, the others trained here.
      let trainedHere = Set(resumed.trainingSecondsByRound.keys)
      #expect(trainedHere == Set((0..<3).filter { !states[$0] }), "after \(abortAfter) samples")
      let got = try contents(out)
      #expect(got.data == reference.data, "after \(abortAfter) samples")
      #expect(reproducible(got.diagnostics) == reproducible(reference.diagnostics), "after \(abortAfter) samples")
      #expect(try tensors(out.path + ".warm-start.safetensors") == keptReference)
    }
    // A completed file is not regenerated with other retraining settings either.
    #expect {
      try HybridGenerator.run(try config(retrainEvery: 6), output: clean, options: GenerationOptions(resume: true))
    } throws: { "\($0)".contains("--retrain-every") }
  }

  @Test("bad retraining settings are refused with what to do")
  func refusals() throws {
    func refused(_ settings: WarmStartSettings, samples: Int = 16, _ needle: String) {
      #expect {
        try GenerationConfig(recipe: "darcy", samples: samples, resolution: 8, warmStart: settings)
      } throws: { "\($0)".contains(needle) }
    }
    refused(WarmStartSettings(bootstrap: 4, retrainEvery: 0), "--retrain-every must be ≥ 1")
    refused(WarmStartSettings(bootstrap: 4, retrainEvery: -3), "--retrain-every must be ≥ 1")
    refused(WarmStartSettings(bootstrap: 4, retrainEvery: 4, retrainEpochs: 0), "--retrain-epochs must be ≥ 1")
    refused(WarmStartSettings(bootstrap: 4, retrainEpochs: 3), "needs --retrain-every")
    refused(WarmStartSettings(bootstrap: 4, retrainEvery: 12), samples: 16, "use a --retrain-every below 12")
    refused(
      WarmStartSettings(checkpoint: "/tmp/m.safetensors", bootstrap: 0, retrainEvery: 4),
      "a checkpoint FILE is used as it is"
    )
    // The largest accepted value retrains once, before the last sample.
    let ok = try GenerationConfig(
      recipe: "darcy", samples: 16, resolution: 8, warmStart: WarmStartSettings(bootstrap: 4, retrainEvery: 11))
    #expect(ok.warmStart!.segmentStarts(samples: 16) == [4, 15])
    #expect(ok.warmStart!.retrainEpochs == WarmStartSettings.defaultRetrainEpochs)
    #expect(ok.warmStart!.round(of: 3) == nil && ok.warmStart!.round(of: 14) == 0 && ok.warmStart!.round(of: 15) == 1)
    // Older configs (no retraining keys) still decode, as no retraining.
    let old = try GenerationConfig.decode(
      try GenerationConfig(recipe: "darcy", samples: 16, resolution: 8, warmStart: WarmStartSettings(bootstrap: 4))
        .json())
    #expect(old.warmStart?.retrainEvery == nil && old.warmStart?.retrainEpochs == nil)
    #expect(!(try old.json()).contains("retrain"))
  }
}
