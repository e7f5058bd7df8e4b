import Foundation
import Numerics
import Testing

@Suite("Sparse matrices")
struct SparseTests {
  /// A random sparse m×n matrix with duplicate entries, plus its dense equivalent built independently.
  func randomCOO(_ m: Int, _ n: Int, entries: Int, seed: UInt64) -> (COOMatrix<Double>, NDArray<Double>) {
    var rng = PhiloxRandom(seed: seed)
    var coo = COOMatrix<Double>(rows: m, columns: n)
    var dense = NDArray<Double>.zeros([m, n])
    for _ in 0..<entries {
      let i = Int(rng.next() % UInt64(m))
      let j = Int(rng.next() % UInt64(n))
      let v = rng.nextGaussian()
      coo.append(i, j, v)
      dense[i, j] += v
    }
    return (coo, dense)
  }

  @Test("COO assembly sums duplicates; CSR/CSC/dense agree")
  func assembly() throws {
    var coo = COOMatrix<Double>(rows: 2, columns: 3)
    coo.append(1, 2, 1.5)
    coo.append(0, 0, 1)
    coo.append(1, 2, 2.5)
    coo.append(0, 1, -1)
    let a = try coo.csr()
    #expect(a.rowPointers == [0, 2, 3])
    #expect(a.columnIndices == [0, 1, 2])
    #expect(a.values == [1, -1, 4])
    let (c2, dense) = randomCOO(13, 9, entries: 60, seed: 1)
    let csr = try c2.csr()
    #expect(csr.dense().maxAbsDifference(dense) < 1e-14)
    #expect(try c2.csc().csr().dense().maxAbsDifference(dense) < 1e-14)
    #expect(csr.csc().csr().dense().maxAbsDifference(dense) < 1e-14)
    #expect(csr.nonzeroCount < c2.count)
  }

  @Test("SpMV equals dense matrix-vector product; 2-thread row blocks equal serial")
  func spmv() throws {
    let (coo, dense) = randomCOO(40, 30, entries: 200, seed: 2)
    let a = try coo.csr()
    let x = randomArray([30], seed: 3)
    let y = try a.multiply(x)
    let ref = try dense.matmul(x.reshaped([30, 1])).reshaped([40])
    #expect(y.maxAbsDifference(ref) < 1e-12)
    var y2 = NDArray<Double>.zeros([40])
    x.withUnsafeBufferPointer { xp in y2.withUnsafeMutableBufferPointer { a.multiply(xp, into: $0, threads: 2) } }
    #expect(y2 == y)
    var y3 = NDArray<Double>.zeros([40])
    let csc = a.csc()
    x.withUnsafeBufferPointer { xp in y3.withUnsafeMutableBufferPointer { csc.multiply(xp, into: $0) } }
    #expect(y3.maxAbsDifference(ref) < 1e-12)
    let blocks = a.rowBlocks(3)
    #expect(blocks.count == 3 && blocks.first!.lowerBound == 0 && blocks.last!.upperBound == 40)
    for (p, q) in zip(blocks, blocks.dropFirst()) { #expect(p.upperBound == q.lowerBound) }
  }

  @Test("transpose, diagonal, symmetry check")
  func transposeDiagonalSymmetry() throws {
    let (coo, dense) = randomCOO(8, 11, entries: 40, seed: 4)
    let a = try coo.csr()
    #expect(a.transposed().dense().maxAbsDifference(dense.transposed()) < 1e-14)
    #expect(a.csc().transposed().csr().dense().maxAbsDifference(dense.transposed()) < 1e-14)
    let (sq, sqDense) = randomCOO(9, 9, entries: 30, seed: 5)
    let s = try sq.csr()
    #expect(s.diagonal() == (0..<9).map { sqDense[$0, $0] })
    let sym = s.dense() + s.transposed().dense()
    var symCOO = COOMatrix<Double>(rows: 9, columns: 9)
    for i in 0..<9 { for j in 0..<9 where sym[i, j] != 0 { symCOO.append(i, j, sym[i, j]) } }
    #expect(try symCOO.csr().isSymmetric(tolerance: 1e-15))
    #expect(!s.isSymmetric())
  }

  @Test("inconsistent CSR arrays are rejected with a message")
  func invalidCSR() {
    #expect(throws: NumericsError.self) {
      try CSRMatrix<Double>(rows: 2, columns: 2, rowPointers: [0, 1], columnIndices: [0], values: [1])
    }
    #expect(throws: NumericsError.self) {
      try CSRMatrix<Double>(rows: 1, columns: 2, rowPointers: [0, 1], columnIndices: [2], values: [1])
    }
    #expect(throws: NumericsError.self) {
      try CSRMatrix<Double>(rows: 2, columns: 2, rowPointers: [0, 2, 1], columnIndices: [0, 1], values: [1, 2])
    }
  }
}

@Suite("NDArray")
struct NDArrayTests {
  @Test("views share storage until written (copy on write); reshape and slices are O(1)")
  func copyOnWrite() throws {
    var a = try NDArray<Double>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
    let b = a.reshaped([3, 2])
    let row = a[sample: 1]
    #expect(b[2, 1] == 6)
    #expect(row.scalars == [4, 5, 6])
    a[1, 0] = 40
    #expect(a[1, 0] == 40 && b[2, 0] == 5 && row[0] == 4)
    #expect(a.samples(1..<2).scalars == [40, 5, 6])
    #expect(a.reshaped([-1]).shape == [6])
    #expect(throws: NumericsError.self) { try NDArray<Double>(shape: [2, 2], data: [1, 2, 3]) }
  }

  @Test("reductions and elementwise ops")
  func reductions() throws {
    let a = try NDArray<Float>(shape: [4], data: [1, -2, 3, 0.5])
    #expect(a.sum() == 2.5)
    #expect(a.minMax()! == (-2, 3))
    #expect(abs(a.norm() - (1 + 4 + 9 + 0.25).squareRoot()) < 1e-12)
    #expect((a + a).scalars == (2 * a).scalars)
    #expect((a * a - a * a).scalars == [0, 0, 0, 0])
  }
}
