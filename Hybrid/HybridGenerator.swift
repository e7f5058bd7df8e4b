// `pdekit generate` with a surrogate in the loop: builds the initial-guess provider a generation
// config asks for and runs `DatasetGenerator` with it (see `NeuralWarmStart` and the warm-start
// section of DatasetGenerator.swift for what happens and why the result stays deterministic).
import Foundation
import Numerics
import Solvers

/// Runs dataset generation, warm-starting the solves when the config says so.
public enum HybridGenerator {
  /// What a run did, with the warm start's own figures.
  public struct Summary: Sendable {
    /// The generator's summary.
    public var generation: GenerationSummary
    /// Seconds spent training the surrogate in this process, retraining rounds included (0 when
    /// loaded or not used).
    public var trainingSeconds: Double
    /// Seconds of each round's training in this process (0: the bootstrap training, r: the r-th
    /// retraining); rounds reloaded from a resumed run's state are absent.
    public var trainingSecondsByRound: [Int: Double] = [:]
    /// Whether the surrogate was loaded from a file (a checkpoint, or the state of a resumed run).
    public var loadedModel: Bool
    /// Final training loss of the in-process training, if it ran here.
    public var finalTrainingLoss: Double?
  }

  /// Generates `config` into `output` (as `DatasetGenerator.run`); a config with `warmStart` gets a
  /// ``NeuralWarmStart``, retrained every ``WarmStartSettings/retrainEvery`` samples when set.
  ///
  /// ```swift
  /// let config = try GenerationConfig(
  ///   recipe: "darcy", samples: 1000, resolution: 128, solver: .amgCG, rtol: 1e-8,
  ///   warmStart: WarmStartSettings(bootstrap: 64, retrainEvery: 312, retrainEpochs: 1))
  /// let summary = try HybridGenerator.run(config, output: URL(fileURLWithPath: "darcy.nc"))
  /// print(summary.trainingSecondsByRound)   // [0: …, 1: …, 2: …]
  /// ``` FFTW plans made meanwhile use estimate rigor, which makes the
  /// surrogate's training and predictions repeatable bit for bit.
  public static func run(
    _ config: GenerationConfig, output: URL, options: GenerationOptions = GenerationOptions()
  ) throws -> Summary {
    guard let settings = config.warmStart else {
      let g = try DatasetGenerator.run(config, output: output, options: options)
      return Summary(generation: g, trainingSeconds: 0, loadedModel: false, finalTrainingLoss: nil)
    }
    let provider = NeuralWarmStart(settings)
    let previousRigor = FFT.defaultRigor
    FFT.defaultRigor = .estimate
    defer { FFT.defaultRigor = previousRigor }
    let g = try DatasetGenerator.run(config, output: output, options: options, initialGuess: provider)
    return Summary(
      generation: g, trainingSeconds: provider.trainingSeconds,
      trainingSecondsByRound: provider.trainingSecondsByRound, loadedModel: provider.loadedFromFile,
      finalTrainingLoss: provider.trainingHistory.last?.trainLoss)
  }
}
