import Foundation
import Numerics
import Operators
import Testing

/// The committed neuraloperator fixtures (made by bench/fno/export_neuraloperator.py; see
/// Fixtures/README.md).
func fixtureURL(_ name: String) -> URL {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
}

@Suite("Parity with neuraloperator 2.0 (PyTorch)")
struct ParityTests {
  @Test(
    "weights exported from neuraloperator give PyTorch's forward output to 1e-5 relative",
    arguments: ["fno2d", "fno1d"])
  func forwardParity(_ name: String) throws {
    let checkpoint = try OperatorCheckpoint.read(from: fixtureURL("\(name)-parity.safetensors"))
    let model: FNO<Float> = try checkpoint.model()
    #expect(checkpoint.inputNormalizer == nil && checkpoint.targetNormalizer == nil)
    let io = try SafeTensors.decode(try Data(contentsOf: fixtureURL("\(name)-parity-io.safetensors")))
    let input: NDArray<Float> = try io.array(named: "input")
    let expected: NDArray<Float> = try io.array(named: "output")
    let output = model(input)
    #expect(output.shape == expected.shape)
    let relative = (output - expected).norm() / expected.norm()
    #expect(relative <= 1e-5, "relative L2 difference \(relative)")
    // Every exported parameter maps to a neuraloperator key with the documented shape.
    let expectedCount = checkpoint.parameters.count
    #expect(model.neuraloperatorParameters().count == expectedCount)
  }
}
