import Foundation
import Numerics
import Testing

// Tests for MatrixMarket (NIST IR 5935 exchange format): round trips, parsing, malformed input.

/// Deterministic generator (SplitMix64) so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// A fresh path in the temporary directory, removed by the caller.
private func temporaryURL() -> URL {
  FileManager.default.temporaryDirectory.appendingPathComponent("mm-test-\(UUID().uuidString).mtx")
}

/// Asserts two CSR matrices have identical shape, pattern and (bitwise) values.
private func expectSame(
  _ a: CSRMatrix<Double>, _ b: CSRMatrix<Double>, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(a.rows == b.rows && a.columns == b.columns, sourceLocation: sourceLocation)
  #expect(a.rowPointers == b.rowPointers, sourceLocation: sourceLocation)
  #expect(a.columnIndices == b.columnIndices, sourceLocation: sourceLocation)
  #expect(a.values.map(\.bitPattern) == b.values.map(\.bitPattern), sourceLocation: sourceLocation)
}

/// Parses `text`, expecting `.matrixMarket(line:message:)` at `line` whose message contains
/// every keyword (case-insensitive).
private func expectMalformed(
  _ text: String, line: Int, mentions keywords: String...,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let error = #expect(throws: NumericsError.self, sourceLocation: sourceLocation) {
    _ = try MatrixMarket.parse(text)
  }
  guard case .matrixMarket(let l, let message)? = error else {
    if let error {
      Issue.record("expected .matrixMarket, got \(error)", sourceLocation: sourceLocation)
    }
    return
  }
  #expect(l == line, "message: \(message)", sourceLocation: sourceLocation)
  for k in keywords {
    #expect(
      message.lowercased().contains(k.lowercased()), "message: \(message)",
      sourceLocation: sourceLocation)
  }
}

/// 5-point Laplacian on a k×k grid (Dirichlet), n = k² unknowns: symmetric, 4 on the diagonal.
private func laplacian2D(_ k: Int) throws -> CSRMatrix<Double> {
  var coo = COOMatrix<Double>(rows: k * k, columns: k * k)
  for y in 0..<k {
    for x in 0..<k {
      let i = y * k + x
      coo.append(i, i, 4)
      if x > 0 { coo.append(i, i - 1, -1) }
      if x < k - 1 { coo.append(i, i + 1, -1) }
      if y > 0 { coo.append(i, i - k, -1) }
      if y < k - 1 { coo.append(i, i + k, -1) }
    }
  }
  return try coo.csr()
}

private let banner = "%%MatrixMarket matrix coordinate real general\n"

// MARK: - Round trips

@Test func roundTripGeneralSparse() throws {
  var rng = SplitMix64(state: 42)
  var coo = COOMatrix<Double>(rows: 30, columns: 20)
  for _ in 0..<90 {
    coo.append(
      Int.random(in: 0..<30, using: &rng), Int.random(in: 0..<20, using: &rng),
      .random(in: -10...10, using: &rng))
  }
  // Guaranteed duplicates and awkward values.
  coo.append(3, 4, 1.0 / 3)
  coo.append(3, 4, 2.0 / 3)
  coo.append(29, 19, 1e-300)
  coo.append(0, 0, 6.02214076e23)
  coo.append(7, 1, -0.0)
  coo.append(12, 5, .leastNonzeroMagnitude)
  coo.append(12, 6, .greatestFiniteMagnitude)
  let a = try coo.csr()

  let url = temporaryURL()
  defer { try? FileManager.default.removeItem(at: url) }
  try MatrixMarket.write(a, to: url, comment: "random test matrix\nsecond comment line")
  let text = try String(contentsOf: url, encoding: .utf8)
  #expect(
    text.hasPrefix(
      banner + "% random test matrix\n% second comment line\n30 20 \(a.nonzeroCount)\n"))

  let m = try MatrixMarket.read(contentsOf: url)
  #expect(m.header == MatrixMarket.Header(format: .coordinate, field: .real, symmetry: .general))
  #expect(m.rows == 30 && m.columns == 20)
  expectSame(try m.csr(), a)
}

@Test func roundTripSymmetricLaplacian() throws {
  let a = try laplacian2D(4)
  #expect(a.isSymmetric())
  let url = temporaryURL()
  defer { try? FileManager.default.removeItem(at: url) }
  try MatrixMarket.write(a, to: url, symmetric: true)

  let text = try String(contentsOf: url, encoding: .utf8)
  let lines = text.split(separator: "\n")
  #expect(lines[0] == "%%MatrixMarket matrix coordinate real symmetric")
  let stored = (a.nonzeroCount + a.rows) / 2  // diagonal once, each off-diagonal pair once
  #expect(lines[1] == "16 16 \(stored)")
  #expect(lines.count == 2 + stored)
  for entry in lines.dropFirst(2) {
    let t = entry.split(separator: " ")
    #expect(Int(t[0])! >= Int(t[1])!, "upper-triangle entry written: \(entry)")
  }

  let m = try MatrixMarket.read(contentsOf: url)
  #expect(m.header.symmetry == .symmetric)
  expectSame(try m.csr(), a)
}

@Test func writeSymmetricRejectsNonSymmetricMatrix() throws {
  var coo = COOMatrix<Double>(rows: 2, columns: 2)
  coo.append(0, 1, 1)
  coo.append(1, 0, 2)
  let error = #expect(throws: NumericsError.self) {
    _ = try MatrixMarket.format(try coo.csr(), symmetric: true)
  }
  guard case .invalidArgument(let message)? = error else { return }
  #expect(message.contains("not equal to its transpose"))
}

@Test func writeRejectsNonFiniteValues() throws {
  var coo = COOMatrix<Double>(rows: 1, columns: 1)
  coo.append(0, 0, .nan)
  #expect(throws: NumericsError.self) { _ = try MatrixMarket.format(try coo.csr()) }
  let d = try NDArray<Double>(shape: [1, 2], data: [1, .infinity])
  #expect(throws: NumericsError.self) { _ = try MatrixMarket.format(d) }
}

@Test func writeToUnwritablePathThrowsIO() throws {
  let a = try NDArray<Double>(shape: [1, 1], data: [1])
  let url = URL(fileURLWithPath: "/nonexistent-dir-\(UUID().uuidString)/a.mtx")
  let error = #expect(throws: NumericsError.self) { try MatrixMarket.write(a, to: url) }
  guard case .io? = error else {
    Issue.record("expected .io, got \(String(describing: error))")
    return
  }
}

@Test func readMissingFileThrowsIO() {
  let url = URL(fileURLWithPath: "/nonexistent-dir-\(UUID().uuidString)/a.mtx")
  let error = #expect(throws: NumericsError.self) { _ = try MatrixMarket.read(contentsOf: url) }
  guard case .io(let message)? = error else {
    Issue.record("expected .io, got \(String(describing: error))")
    return
  }
  #expect(message.contains("cannot read"))
}

@Test func denseArrayIsColumnMajorAndRoundTrips() throws {
  let a = try NDArray<Double>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6.5])
  let text = try MatrixMarket.format(a)
  #expect(text == "%%MatrixMarket matrix array real general\n2 3\n1.0\n4.0\n2.0\n5.0\n3.0\n6.5\n")

  let url = temporaryURL()
  defer { try? FileManager.default.removeItem(at: url) }
  try MatrixMarket.write(a, to: url)
  let m = try MatrixMarket.read(contentsOf: url)
  guard case .dense(let b, let header) = m else {
    Issue.record("expected a dense matrix")
    return
  }
  #expect(header == MatrixMarket.Header(format: .array))
  #expect(b.shape == [2, 3])
  #expect(b == a)
  #expect(b[1, 0] == 4 && b[0, 2] == 3)

  // Random non-square, exact bits; and conversion to CSR keeps the nonzeros.
  var rng = SplitMix64(state: 7)
  let r = try NDArray<Double>(
    shape: [5, 3], data: (0..<15).map { _ in .random(in: -1...1, using: &rng) })
  let back = try MatrixMarket.parse(MatrixMarket.format(r))
  guard case .dense(let r2, _) = back else {
    Issue.record("expected a dense matrix")
    return
  }
  #expect(r2.scalars.map(\.bitPattern) == r.scalars.map(\.bitPattern))
  #expect(try back.csr().dense() == r)
}

@Test func denseNon2DIsRejected() throws {
  let a = try NDArray<Double>(shape: [2, 2, 2], data: Array(repeating: 0, count: 8))
  #expect(throws: NumericsError.self) { _ = try MatrixMarket.format(a) }
}

// MARK: - Parsing

@Test func symmetricArrayStoresLowerTriangleByColumns() throws {
  let text = "%%MatrixMarket matrix array real symmetric\n3 3\n1\n2\n3\n4\n5\n6\n"
  guard case .dense(let a, let h) = try MatrixMarket.parse(text) else {
    Issue.record("expected dense")
    return
  }
  #expect(h.symmetry == .symmetric)
  #expect(a.scalars == [1, 2, 3, 2, 4, 5, 3, 5, 6])
}

@Test func symmetricCoordinateExpandsOffDiagonal() throws {
  let text =
    banner.replacingOccurrences(of: "general", with: "symmetric") + "3 3 3\n1 1 2\n3 1 -1\n2 2 5\n"
  let m = try MatrixMarket.parse(text)
  guard case .sparse(let coo, _) = m else {
    Issue.record("expected sparse")
    return
  }
  #expect(coo.count == 4)  // (3,1) stored twice, diagonals once
  #expect(try m.csr().dense().scalars == [2, 0, -1, 0, 5, 0, -1, 0, 0])
}

@Test func patternFieldEntriesAreOne() throws {
  let general = "%%MatrixMarket matrix coordinate pattern general\n2 3 3\n1 1\n2 3\n1 3\n"
  let a = try MatrixMarket.parse(general)
  #expect(a.header.field == .pattern)
  #expect(try a.csr().dense().scalars == [1, 0, 1, 0, 0, 1])

  let symmetric = "%%MatrixMarket matrix coordinate pattern symmetric\n2 2 2\n2 1\n2 2\n"
  #expect(try MatrixMarket.parse(symmetric).csr().dense().scalars == [0, 1, 1, 1])
}

@Test func integerFieldParsesIntegers() throws {
  let text =
    "%%MatrixMarket matrix coordinate integer general\n2 2 3\n1 1 -3\n2 2 +7\n1 2 1152921504606846976\n"
  let m = try MatrixMarket.parse(text)
  #expect(m.header.field == .integer)
  #expect(try m.csr().values == [-3, 0x1p60, 7])
  let array = "%%MatrixMarket matrix array integer general\n1 2\n4\n-5\n"
  #expect(try MatrixMarket.parse(array).csr().values == [4, -5])
}

@Test func duplicatesAreSummedInCSR() throws {
  let m = try MatrixMarket.parse(banner + "2 2 3\n1 2 1.5\n1 2 2.5\n2 1 1e2\n")
  #expect(try m.csr().dense().scalars == [0, 4, 100, 0])
}

@Test func commentsBlankLinesCaseAndCRLFAreAccepted() throws {
  let text = """
    %%matrixmarket MATRIX Coordinate REAL General\r
    % a comment

      % an indented comment\r
    \t
    3 3 2
    % comment between entries

    1 1 1.5e0\r
      3   2\t-2.25
    """
  let m = try MatrixMarket.parse(text)
  #expect(m.header == MatrixMarket.Header(format: .coordinate))
  #expect(try m.csr().dense().scalars == [1.5, 0, 0, 0, 0, 0, 0, -2.25, 0])
}

@Test func emptyMatricesParse() throws {
  #expect(try MatrixMarket.parse(banner + "0 0 0\n").csr().nonzeroCount == 0)
  #expect(try MatrixMarket.parse(banner + "4 5 0\n").csr().rows == 4)
  guard
    case .dense(let a, _) = try MatrixMarket.parse(
      "%%MatrixMarket matrix array real general\n0 3\n")
  else {
    Issue.record("expected dense")
    return
  }
  #expect(a.shape == [0, 3])
}

// MARK: - Malformed input (one case each)

@Test func malformedEmptyFile() { expectMalformed("", line: 1, mentions: "missing banner") }

@Test func malformedMissingBanner() {
  expectMalformed(
    "3 3 1\n1 1 1\n", line: 1, mentions: "missing banner",
    "%%MatrixMarket matrix coordinate real general")
}

@Test func malformedBannerWordCount() {
  expectMalformed(
    "%%MatrixMarket matrix coordinate real\n1 1 0\n", line: 1, mentions: "banner has 4 words")
}

@Test func malformedUnknownObject() {
  expectMalformed(
    "%%MatrixMarket vector coordinate real general\n", line: 1,
    mentions: "object 'vector' not supported")
}

@Test func malformedUnknownFormat() {
  expectMalformed(
    "%%MatrixMarket matrix sparse real general\n", line: 1,
    mentions: "format 'sparse' not supported")
}

@Test func malformedComplexFieldNotSupported() {
  expectMalformed(
    "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n", line: 1,
    mentions: "complex", "not supported")
}

@Test func malformedHermitianNotSupported() {
  expectMalformed(
    "%%MatrixMarket matrix coordinate real hermitian\n", line: 1, mentions: "hermitian",
    "not supported")
}

@Test func malformedSkewSymmetricNotSupported() {
  expectMalformed(
    "%%MatrixMarket matrix array real skew-symmetric\n", line: 1, mentions: "skew-symmetric",
    "not supported")
}

@Test func malformedPatternArray() {
  expectMalformed(
    "%%MatrixMarket matrix array pattern general\n1 1\n", line: 1, mentions: "pattern",
    "not supported")
}

@Test func malformedMissingSizeLine() {
  expectMalformed(banner + "% only a comment\n\n", line: 4, mentions: "missing size line")
}

@Test func malformedSizeLineNotInteger() {
  expectMalformed(banner + "% c\n3 x 5\n", line: 3, mentions: "malformed size line", "'x'")
}

@Test func malformedSizeLineTokenCount() {
  expectMalformed(banner + "3 3\n1 1 1\n", line: 2, mentions: "malformed size line", "found 2")
}

@Test func malformedNegativeSize() {
  expectMalformed(banner + "-3 3 1\n1 1 1\n", line: 2, mentions: "negative size", "rows")
}

@Test func malformedSizeTooLarge() {
  expectMalformed(
    banner + "3 99999999999999999999999 1\n", line: 2, mentions: "too large", "columns")
}

@Test func malformedEntryTokenCount() {
  expectMalformed(banner + "3 3 2\n1 1 1\n2 2\n", line: 4, mentions: "expected 3 tokens", "found 2")
}

@Test func malformedArrayEntryTokenCount() {
  expectMalformed(
    "%%MatrixMarket matrix array real general\n2 1\n1 2\n", line: 3, mentions: "expected 1 value",
    "found 2")
}

@Test func malformedUnparseableValue() {
  expectMalformed(
    banner + "3 3 2\n1 1 1\n2 2 1.2.3\n", line: 4, mentions: "cannot parse", "'1.2.3'")
}

@Test func malformedUnparseableIndex() {
  expectMalformed(banner + "3 3 1\nx 1 1\n", line: 3, mentions: "row index", "not an integer")
}

@Test func malformedZeroIndex() {
  expectMalformed(banner + "3 3 1\n0 1 1\n", line: 3, mentions: "row index 0 out of range")
}

@Test func malformedIndexAboveSize() {
  expectMalformed(
    banner + "3 4 2\n1 4 1\n2 5 1\n", line: 4, mentions: "column index 5 out of range 1...4")
}

@Test func malformedNaNValue() {
  expectMalformed(banner + "2 2 1\n1 1 nan\n", line: 3, mentions: "NaN or infinite")
}

@Test func malformedInfiniteValue() {
  expectMalformed(
    banner + "2 2 2\n1 1 1\n2 1 -inf\n", line: 4, mentions: "NaN or infinite", "'-inf'")
}

@Test func malformedNonIntegerInIntegerField() {
  let text = "%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 1.5\n"
  expectMalformed(text, line: 3, mentions: "'1.5' is not an integer")
}

@Test func malformedUpperTriangleInSymmetric() {
  let text = "%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n1 1 1\n1 3 2\n"
  expectMalformed(text, line: 4, mentions: "upper-triangle entry (1, 3)")
}

@Test func malformedTruncatedFile() {
  // Four lines, the last without a newline; the missing entry would have been line 5.
  expectMalformed(banner + "3 3 3\n1 1 1\n2 2 1", line: 5, mentions: "expected 3 entries, found 2")
}

@Test func malformedTruncatedArray() {
  let text = "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n"
  expectMalformed(text, line: 6, mentions: "expected 4 entries, found 3")
}

@Test func malformedTooManyEntries() {
  expectMalformed(
    banner + "3 3 1\n1 1 1\n% fine\n2 2 2\n", line: 5, mentions: "more entries than the 1 declared")
}

@Test func malformedNonSquareSymmetric() {
  let text = "%%MatrixMarket matrix coordinate real symmetric\n% c\n3 4 1\n1 1 1\n"
  expectMalformed(text, line: 3, mentions: "must be square", "3×4")
}

/// Found by fuzz-matrixmarket: a valid 62-byte file declaring an empty 2147483647 × 1 matrix made
/// `csr()` allocate two 8 GB row-offset arrays. The conversion now estimates its memory and refuses.
@Test func hugeEmptyMatrixIsRefusedBeforeCSRAllocation() throws {
  let m = try MatrixMarket.parse("%%MatrixMarket matrix coordinate real general\n2147483647 1 0\n")
  #expect(m.rows == 2_147_483_647)
  // 25.8 GB of working memory: over the default (half the memory) on machines below 51 GB, and
  // over an explicit 1 GB limit everywhere.
  #expect {
    try m.csr(maximumBytes: 1 << 30)
  } throws: { error in
    "\(error)".contains("to CSR needs about") && "\(error)".contains("size line is probably wrong")
  }
  // The same check with a small limit on an ordinary matrix, and success under a fitting one.
  let small = try MatrixMarket.parse("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 2.0\n3 2 -1.0\n")
  #expect(throws: NumericsError.self) { try small.csr(maximumBytes: 10) }
  #expect(try small.csr(maximumBytes: 1000).rows == 3)
}
