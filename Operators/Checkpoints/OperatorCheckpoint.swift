// PDEKit's checkpoint format (DESIGN.md, "Checkpoints"): one safetensors file with
//   - the model's parameters, Float32, under their PDEKit names (FNO: see `FNO`'s name table;
//     with the documented map they load into neuraloperator's PyTorch model);
//   - non-trainable model buffers (a POD basis): `buffer.<name>`;
//   - optional data normalizers: `normalizer.input.mean`, `normalizer.input.std`,
//     `normalizer.target.mean`, `normalizer.target.std` ([C] each);
//   - optional optimizer state: `optimizer.m.<parameter>`, `optimizer.v.<parameter>`;
//   - string metadata: `format` = "pdekit-checkpoint", `format_version` = "1", `model`,
//     `model_config` (JSON), `normalizer_eps`, `optimizer_step`, `training_state` (JSON), `generator`.
// Loading checks every part and refuses a file that does not fit, with the reason.
import Foundation
import Numerics

/// A model with everything needed to use it (normalizers) or to resume training it (optimizer
/// state, training state), stored as one safetensors file.
///
/// ```swift
/// let checkpoint = try OperatorCheckpoint.read(from: URL(fileURLWithPath: "model.safetensors"))
/// let fno: FNO<Float> = try checkpoint.model()
/// let y = checkpoint.predict(with: fno, inputs: x)     // normalizes x, decodes y
/// ```
public struct OperatorCheckpoint: Sendable {
  /// The format version this PDEKit writes and reads.
  public static let formatVersion = "1"
  /// The `format` metadata value.
  public static let formatName = "pdekit-checkpoint"

  /// Model name (``NeuralOperator/modelName``).
  public var modelName: String
  /// The model configuration as JSON.
  public var modelConfiguration: String
  /// Parameters by PDEKit name, in the model's order.
  public var parameters: [(name: String, value: NDArray<Float>)]
  /// Non-trainable model arrays (``NeuralOperator/namedBuffers()``), by name without the `buffer.` prefix.
  public var buffers: [(name: String, value: NDArray<Float>)] = []
  /// Input normalizer (nil: inputs are used as they are).
  public var inputNormalizer: UnitGaussianNormalizer<Float>?
  /// Target normalizer (nil: the model predicts targets directly).
  public var targetNormalizer: UnitGaussianNormalizer<Float>?
  /// Adam/AdamW state for resuming (nil in inference-only checkpoints).
  public var optimizerState: AdamState<Float>?
  /// Training progress for resuming.
  public var trainingState: TrainingState?

  /// A checkpoint of `model` with optional normalizers and training state.
  public init<M: NeuralOperator>(
    model: M, inputNormalizer: UnitGaussianNormalizer<Float>? = nil,
    targetNormalizer: UnitGaussianNormalizer<Float>? = nil, optimizerState: AdamState<Float>? = nil,
    trainingState: TrainingState? = nil
  ) where M.Scalar == Float {
    modelName = M.modelName
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    modelConfiguration = String(decoding: try! encoder.encode(model.configuration), as: UTF8.self)
    parameters = model.namedParameters()
    buffers = model.namedBuffers()
    self.inputNormalizer = inputNormalizer
    self.targetNormalizer = targetNormalizer
    self.optimizerState = optimizerState
    self.trainingState = trainingState
  }

  /// The model stored in the checkpoint. Throws if the checkpoint holds another model, a
  /// configuration that does not decode, or parameters whose names or shapes do not fit.
  public func model<M: NeuralOperator>(_ type: M.Type = M.self) throws -> M where M.Scalar == Float {
    guard modelName == M.modelName else {
      throw OperatorsError.invalidArgument(
        "the checkpoint holds a '\(modelName)' model, not '\(M.modelName)'; choose --model \(modelName)")
    }
    let configuration: M.Configuration
    do {
      configuration = try JSONDecoder().decode(M.Configuration.self, from: Data(modelConfiguration.utf8))
    } catch {
      throw OperatorsError.malformedFile("checkpoint model_config does not describe a \(modelName) model: \(error)")
    }
    do {
      try M.validate(configuration)
    } catch {
      throw OperatorsError.malformedFile("checkpoint model_config is not a valid \(modelName) model: \(error)")
    }
    // The stored arrays bound what the file can describe: a configuration implying far more
    // scalars than the file stores is refused before a model is built from it (within that bound,
    // loading names the parameters that are missing or have the wrong shape).
    let stored = CheckedCount.sum(parameters.map(\.value.count) + buffers.map(\.value.count)) ?? 0
    guard let expected = M.storageCount(configuration), expected <= 2 * stored + (1 << 20) else {
      throw OperatorsError.malformedFile(
        "checkpoint model_config describes a \(modelName) model of "
          + (M.storageCount(configuration).map { "\($0) scalars" } ?? "more scalars than can be counted")
          + " but the file stores \(stored); the file is damaged or its model_config was edited")
    }
    var model = M(configuration, seed: 0)
    try model.loadParameters(Dictionary(parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
    try model.loadBuffers(Dictionary(buffers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
    return model
  }

  /// Applies `model` to raw inputs `[B, C, …]`: normalizes them, runs the model, decodes the output.
  public func predict<M: NeuralOperator>(with model: M, inputs: NDArray<Float>) -> NDArray<Float>
  where M.Scalar == Float {
    let x = inputNormalizer?.encode(inputs) ?? inputs
    let y = model(Tensor(x)).value
    return targetNormalizer?.decode(y) ?? y
  }

  /// Applies a model that evaluates anywhere (``NeuralOperator/evaluatesAtQueryPoints``) to raw
  /// inputs `[B, C, …]` on their own grid and returns the decoded outputs on every point of the grid
  /// `queryGrid` of its domain, `[B, outputs] + queryGrid`.
  public func predict<M: NeuralOperator>(with model: M, inputs: NDArray<Float>, queryGrid: [Int]) -> NDArray<Float>
  where M.Scalar == Float {
    precondition(
      M.evaluatesAtQueryPoints, "predict(queryGrid:): the \(M.modelName) model outputs on its input grid only")
    let x = inputNormalizer?.encode(inputs) ?? inputs
    let y = model(Tensor(x), queryGrid: queryGrid, indices: nil)!.value
    let decoded = targetNormalizer?.decode(y) ?? y
    return decoded.reshaped([inputs.shape[0], model.outputChannels] + queryGrid)
  }

  // MARK: - Serialization

  /// The checkpoint as safetensors bytes.
  public func encoded() throws -> Data {
    var tensors = parameters + buffers.map { ("buffer." + $0.name, $0.value) }
    var metadata: [String: String] = [
      "format": Self.formatName, "format_version": Self.formatVersion, "model": modelName,
      "model_config": modelConfiguration, "generator": PDEKitVersion.generator,
    ]
    var eps: Double?
    for (role, n) in [("input", inputNormalizer), ("target", targetNormalizer)] {
      guard let n else { continue }
      tensors.append(("normalizer.\(role).mean", n.mean))
      tensors.append(("normalizer.\(role).std", n.std))
      eps = n.eps
    }
    if let eps { metadata["normalizer_eps"] = "\(eps)" }
    if let state = optimizerState {
      metadata["optimizer_step"] = "\(state.step)"
      for (name, _) in parameters {
        guard let m = state.moments[name] else { continue }
        tensors.append(("optimizer.m.\(name)", m.m))
        tensors.append(("optimizer.v.\(name)", m.v))
      }
    }
    if let trainingState {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      metadata["training_state"] = String(decoding: try! encoder.encode(trainingState), as: UTF8.self)
    }
    return try SafeTensors.encode(tensors, metadata: metadata)
  }

  /// Writes the checkpoint atomically (a temporary file renamed over `url`), so that a crash
  /// never leaves a half-written checkpoint and the previous one survives until the new one is
  /// complete.
  public func write(to url: URL) throws {
    let data = try encoded()
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
    do {
      try data.write(to: tmp)
      guard rename(tmp.path, url.path) == 0 else {
        throw OperatorsError.invalidArgument(
          "cannot rename \(tmp.path) to \(url.path): \(String(cString: strerror(errno)))")
      }
    } catch {
      try? FileManager.default.removeItem(at: tmp)
      throw OperatorsError.invalidArgument("cannot write checkpoint \(url.path): \(error.localizedDescription)")
    }
  }

  /// Reads a checkpoint file.
  public static func read(from url: URL) throws -> OperatorCheckpoint {
    let data: Data
    do {
      data = try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
      throw OperatorsError.invalidArgument("cannot read checkpoint \(url.path): \(error.localizedDescription)")
    }
    do {
      return try decode(data)
    } catch let e as OperatorsError {
      throw OperatorsError.malformedFile("\(url.path): \(e.detail)")
    }
  }

  /// Parses checkpoint bytes, validating the format, version and every part.
  public static func decode(_ data: Data) throws -> OperatorCheckpoint {
    let file = try SafeTensors.decode(data)
    let meta = file.metadata
    guard let format = meta["format"] else {
      throw OperatorsError.malformedFile(
        "not a PDEKit checkpoint (no 'format' metadata). A neuraloperator state_dict must be converted first: "
          + "bench/fno/export_neuraloperator.py")
    }
    guard format == formatName else {
      throw OperatorsError.malformedFile("format is '\(format)', expected '\(formatName)'")
    }
    guard let version = meta["format_version"] else {
      throw OperatorsError.malformedFile("no 'format_version' metadata")
    }
    guard version == formatVersion else {
      throw OperatorsError.malformedFile(
        "checkpoint format version \(version) is not supported by \(PDEKitVersion.generator) (it reads version "
          + "\(formatVersion)); use the PDEKit version that wrote it")
    }
    guard let model = meta["model"], !model.isEmpty else { throw OperatorsError.malformedFile("no 'model' metadata") }
    guard let config = meta["model_config"] else { throw OperatorsError.malformedFile("no 'model_config' metadata") }

    var parameters: [(name: String, value: NDArray<Float>)] = []
    var buffers: [(name: String, value: NDArray<Float>)] = []
    var extra: [String: NDArray<Float>] = [:]
    for e in file.entries {
      let value: NDArray<Float> = try file.array(named: e.name)
      if e.name.hasPrefix("buffer.") {
        buffers.append((String(e.name.dropFirst("buffer.".count)), value))
      } else if e.name.hasPrefix("normalizer.") || e.name.hasPrefix("optimizer.") {
        extra[e.name] = value
      } else {
        parameters.append((e.name, value))
      }
    }
    func nonFinite(_ a: NDArray<Float>) -> Bool { a.withUnsafeBufferPointer { $0.contains { !$0.isFinite } } }
    if let bad = parameters.first(where: { nonFinite($0.value) }) {
      throw OperatorsError.malformedFile("parameter \(bad.name) contains NaN or infinity")
    }
    if let bad = buffers.first(where: { nonFinite($0.value) }) {
      throw OperatorsError.malformedFile("buffer \(bad.name) contains NaN or infinity")
    }
    let eps = Double(meta["normalizer_eps"] ?? "1e-7") ?? 1e-7
    func normalizer(_ role: String) throws -> UnitGaussianNormalizer<Float>? {
      let (m, s) = (extra["normalizer.\(role).mean"], extra["normalizer.\(role).std"])
      switch (m, s) {
      case (nil, nil): return nil
      case (let m?, let s?):
        guard m.rank == 1, s.shape == m.shape, !nonFinite(m), !nonFinite(s) else {
          throw OperatorsError.malformedFile("normalizer.\(role) mean \(m.shape) / std \(s.shape) are not finite [C]")
        }
        return UnitGaussianNormalizer(mean: m, std: s, eps: eps)
      default:
        throw OperatorsError.malformedFile("normalizer.\(role) has a mean or a std but not both")
      }
    }
    var checkpoint = OperatorCheckpoint(
      modelName: model, modelConfiguration: config, parameters: parameters,
      inputNormalizer: try normalizer("input"), targetNormalizer: try normalizer("target"))
    checkpoint.buffers = buffers
    if let stepText = meta["optimizer_step"] {
      guard let step = Int(stepText), step >= 0 else {
        throw OperatorsError.malformedFile("optimizer_step '\(stepText)' is not a count")
      }
      var moments: [String: AdamMoments<Float>] = [:]
      for (name, value) in parameters {
        switch (extra["optimizer.m.\(name)"], extra["optimizer.v.\(name)"]) {
        case (nil, nil): continue
        case (let m?, let v?) where m.shape == value.shape && v.shape == value.shape:
          moments[name] = AdamMoments(m: m, v: v)
        default:
          throw OperatorsError.malformedFile("optimizer moments of \(name) are missing one half or have another shape")
        }
      }
      checkpoint.optimizerState = AdamState(step: step, moments: moments)
    }
    if let state = meta["training_state"] {
      do {
        checkpoint.trainingState = try JSONDecoder().decode(TrainingState.self, from: Data(state.utf8))
      } catch {
        throw OperatorsError.malformedFile("training_state is not valid: \(error)")
      }
    }
    return checkpoint
  }

  private init(
    modelName: String, modelConfiguration: String, parameters: [(name: String, value: NDArray<Float>)],
    inputNormalizer: UnitGaussianNormalizer<Float>?, targetNormalizer: UnitGaussianNormalizer<Float>?
  ) {
    self.modelName = modelName
    self.modelConfiguration = modelConfiguration
    self.parameters = parameters
    self.inputNormalizer = inputNormalizer
    self.targetNormalizer = targetNormalizer
  }
}

extension OperatorsError {
  /// The message without the category prefix.
  var detail: String {
    switch self {
    case .parameterMismatch(let p): return "parameters do not match the model: " + p.joined(separator: "; ")
    case .invalidArgument(let s), .malformedFile(let s): return s
    }
  }
}
