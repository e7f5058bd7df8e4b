import Numerics
import Operators
import Testing

@Suite("Grid positional embedding (neuraloperator GridEmbeddingND)")
struct GridEmbeddingTests {
  @Test("2D: data channels copied, then i/N on the first axis and j/M on the second")
  func twoD() throws {
    let x = NDArray<Float>(shape: [2, 1, 3, 4]) { p in for i in 0..<p.count { p[i] = Float(i) } }
    let y = GridEmbedding(dimensions: 2)(x)
    #expect(y.shape == [2, 3, 3, 4])
    for b in 0..<2 {
      for i in 0..<3 {
        for j in 0..<4 {
          #expect(y[b, 0, i, j] == x[b, 0, i, j])
          #expect(y[b, 1, i, j] == Float(i) / 3)
          #expect(y[b, 2, i, j] == Float(j) / 4)
        }
      }
    }
  }

  @Test("1D and 3D coordinates")
  func oneAndThreeD() {
    let y1 = GridEmbedding(dimensions: 1)(NDArray<Double>.zeros([1, 2, 5]))
    #expect(y1[sample: 0][sample: 2].scalars == [0, 0.2, 0.4, 0.6, 0.8])
    let y3 = GridEmbedding(dimensions: 3)(NDArray<Double>.zeros([1, 1, 2, 3, 4]))
    #expect(y3.shape == [1, 4, 2, 3, 4])
    #expect(y3[0, 1, 1, 2, 3] == 0.5 && y3[0, 2, 1, 2, 3] == 2.0 / 3 && y3[0, 3, 1, 2, 3] == 0.75)
  }
}
