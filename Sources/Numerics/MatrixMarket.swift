// Matrix Market I/O: reading and writing real sparse (coordinate) and dense (array) matrices.
// Format: R. F. Boisvert, R. Pozo, K. Remington, "The Matrix Market Exchange Formats: Initial
// Design", NIST Interagency Report 5935, National Institute of Standards and Technology, 1996.
// Supported: object `matrix`; formats `coordinate` and `array`; fields `real`, `integer` and
// `pattern` (coordinate only); symmetries `general` and `symmetric`. Complex fields and
// Hermitian or skew-symmetric matrices are rejected with a "not supported" error.
// Indices in files are 1-based; in memory they are 0-based, as everywhere in Numerics.
import Foundation

/// Reading and writing Matrix Market (`.mtx`) files (NIST IR 5935).
///
/// ```
/// let m = try MatrixMarket.read(contentsOf: URL(fileURLWithPath: "A.mtx"))
/// let a = try m.csr()                 // duplicates summed, symmetric storage expanded
/// try MatrixMarket.write(a, to: URL(fileURLWithPath: "B.mtx"), symmetric: a.isSymmetric())
/// ```
///
/// Parsing is a single pass over the UTF-8 bytes. Malformed input throws
/// `NumericsError.matrixMarket(line:message:)` with the 1-based line of the problem.
public enum MatrixMarket {
  /// Half the physical memory: the default bound on the working memory of ``Matrix/csr(maximumBytes:)``.
  public static var defaultMaximumBytes: Int { Int(ProcessInfo.processInfo.physicalMemory / 2) }

  /// The banner line `%%MatrixMarket matrix <format> <field> <symmetry>` of a file.
  public struct Header: Sendable, Equatable {
    /// Storage scheme: sparse triplets or all entries in column-major order.
    public enum Format: String, Sendable, CaseIterable {
      /// Sparse: a `rows columns entries` size line, then one `i j [value]` line per entry.
      case coordinate
      /// Dense: a `rows columns` size line, then one value per line in column-major order.
      case array
    }

    /// Type of the stored values.
    public enum Field: String, Sendable, CaseIterable {
      /// Floating-point values.
      case real
      /// Integer values (read as `Double`).
      case integer
      /// No values: every listed entry is 1 (coordinate format only).
      case pattern
    }

    /// Which entries are stored.
    public enum Symmetry: String, Sendable, CaseIterable {
      /// Every entry is stored.
      case general
      /// Square with A = Aᵀ; only the lower triangle (including the diagonal) is stored.
      case symmetric
    }

    /// Storage scheme.
    public var format: Format
    /// Value type.
    public var field: Field
    /// Symmetry (which entries are stored).
    public var symmetry: Symmetry

    /// A header; the defaults describe a general real matrix.
    public init(format: Format, field: Field = .real, symmetry: Symmetry = .general) {
      self.format = format
      self.field = field
      self.symmetry = symmetry
    }

    /// The banner line, e.g. `%%MatrixMarket matrix coordinate real general` (no newline).
    public var banner: String {
      "%%MatrixMarket matrix \(format.rawValue) \(field.rawValue) \(symmetry.rawValue)"
    }
  }

  /// A matrix read from a file, with the header it was stored under. Symmetric storage has
  /// already been expanded to both triangles, and pattern entries have value 1.
  public enum Matrix: Sendable {
    /// A coordinate-format matrix as (unsummed) triplets, in file order.
    case sparse(COOMatrix<Double>, Header)
    /// An array-format matrix, row-major with shape `[rows, columns]`.
    case dense(NDArray<Double>, Header)

    /// The header the matrix was read with.
    public var header: Header {
      switch self {
      case .sparse(_, let h), .dense(_, let h): return h
      }
    }

    /// Number of rows.
    public var rows: Int {
      switch self {
      case .sparse(let a, _): return a.rows
      case .dense(let a, _): return a.shape[0]
      }
    }

    /// Number of columns.
    public var columns: Int {
      switch self {
      case .sparse(let a, _): return a.columns
      case .dense(let a, _): return a.shape[1]
      }
    }

    /// The matrix in CSR storage. Duplicate coordinate entries are summed; for a dense matrix
    /// only the nonzero entries are stored.
    ///
    /// A valid file may declare a matrix whose CSR form is huge even though the file is tiny (an
    /// empty 2³¹ × 1 matrix needs 8 GB of row offsets per working array). The conversion estimates
    /// its working memory first and throws instead of allocating more than `maximumBytes`
    /// (default: half the physical memory); raise it for a genuine matrix of that size.
    public func csr(maximumBytes: Int = MatrixMarket.defaultMaximumBytes) throws -> CSRMatrix<Double> {
      let entries: Int
      switch self {
      case .sparse(let a, _): entries = a.count
      case .dense(let a, _): entries = a.count
      }
      // Three row-offset arrays of Int32 and, per entry, an index and a value twice over.
      let (rowBytes, o1) = (rows + 1).multipliedReportingOverflow(by: 12)
      let (entryBytes, o2) = entries.multipliedReportingOverflow(by: 24)
      let (total, o3) = rowBytes.addingReportingOverflow(entryBytes)
      guard !o1, !o2, !o3, total <= maximumBytes else {
        throw NumericsError.invalidArgument(
          "converting the \(rows) × \(columns) matrix with \(entries) entries to CSR needs about "
            + "\(o1 || o2 || o3 ? "more than 2⁶³" : "\(total)") bytes, more than the limit of \(maximumBytes); "
            + "the file's size line is probably wrong (pass a larger maximumBytes for a genuine matrix)")
      }
      switch self {
      case .sparse(let a, _):
        return try a.csr()
      case .dense(let a, _):
        let (m, n) = (a.shape[0], a.shape[1])
        return try a.withUnsafeBufferPointer { p in
          var coo = COOMatrix<Double>(rows: m, columns: n)
          for i in 0..<m {
            for j in 0..<n where p[i * n + j] != 0 { coo.append(i, j, p[i * n + j]) }
          }
          return try coo.csr()
        }
      }
    }
  }

  // MARK: Reading

  /// Parses the text of a Matrix Market file.
  ///
  /// Comment lines (starting with `%`) and blank lines may appear anywhere after the banner;
  /// banner keywords are case-insensitive; `\r\n` line endings are accepted.
  /// - Throws: `NumericsError.matrixMarket(line:message:)` for malformed or unsupported input.
  public static func parse(_ text: String) throws -> Matrix {
    var text = text
    return try text.withUTF8 { try parse(bytes: $0) }
  }

  /// Reads and parses a Matrix Market file.
  /// - Throws: `NumericsError.io` if the file cannot be read, and
  ///   `NumericsError.matrixMarket(line:message:)` if it is malformed.
  public static func read(contentsOf url: URL) throws -> Matrix {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw NumericsError.io(
        "cannot read Matrix Market file \(url.path): \(error.localizedDescription)")
    }
    return try data.withUnsafeBytes { raw in try parse(bytes: raw.bindMemory(to: UInt8.self)) }
  }

  /// Parses UTF-8 (in practice ASCII) bytes of a Matrix Market file.
  static func parse(bytes: UnsafeBufferPointer<UInt8>) throws -> Matrix {
    var s = Scanner(bytes)
    let header = try s.readBanner()
    guard s.nextContentLine() else {
      let expected = header.format == .coordinate ? "rows columns entries" : "rows columns"
      throw s.error(at: s.line + 1, "missing size line '\(expected)' (end of file)")
    }
    switch header.format {
    case .coordinate: return try s.readCoordinate(header)
    case .array: return try s.readArray(header)
    }
  }

  // MARK: Writing

  /// The Matrix Market text of a sparse matrix (`coordinate real general`, or `coordinate real
  /// symmetric` storing only the lower triangle). Values use shortest round-trip formatting, so
  /// reading the text back reproduces them exactly.
  /// - Parameters:
  ///   - symmetric: store only the lower triangle; the matrix must equal its transpose exactly.
  ///   - comment: optional text written after the banner, each line prefixed with `%`.
  /// - Throws: `NumericsError.invalidArgument` if `symmetric` is set and A ≠ Aᵀ, or a value is
  ///   NaN or infinite (the format cannot represent them).
  public static func format(_ a: CSRMatrix<Double>, symmetric: Bool = false, comment: String? = nil)
    throws -> String
  {
    if symmetric && !a.isSymmetric() {
      throw NumericsError.invalidArgument(
        "cannot write a \(a.rows)×\(a.columns) matrix as symmetric: it is not equal to its transpose"
      )
    }
    if let k = a.values.firstIndex(where: { !$0.isFinite }) {
      throw NumericsError.invalidArgument(
        "cannot write non-finite value \(a.values[k]) to a Matrix Market file")
    }
    var count = a.nonzeroCount
    if symmetric {
      count = 0
      for i in 0..<a.rows {
        let row = Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1])
        count += a.columnIndices[row].count { Int($0) <= i }
      }
    }
    let header = Header(
      format: .coordinate, field: .real, symmetry: symmetric ? .symmetric : .general)
    var out = preamble(header, comment)
    out.reserveCapacity(out.utf8.count + 32 * count + 32)
    out += "\(a.rows) \(a.columns) \(count)\n"
    for i in 0..<a.rows {
      for k in Int(a.rowPointers[i])..<Int(a.rowPointers[i + 1]) {
        let j = Int(a.columnIndices[k])
        if symmetric && j > i { continue }
        out += "\(i + 1) \(j + 1) \(a.values[k])\n"
      }
    }
    return out
  }

  /// The Matrix Market text of a dense rows×columns array (`array real general`, values in
  /// column-major order as the format requires).
  /// - Parameter comment: optional text written after the banner, each line prefixed with `%`.
  /// - Throws: `NumericsError.shapeMismatch` if `a` is not 2-D, `NumericsError.invalidArgument`
  ///   if a value is NaN or infinite.
  public static func format(_ a: NDArray<Double>, comment: String? = nil) throws -> String {
    guard a.rank == 2 else {
      throw NumericsError.shapeMismatch(
        "Matrix Market array format needs a 2-D array, got shape \(a.shape)")
    }
    let (m, n) = (a.shape[0], a.shape[1])
    return try a.withUnsafeBufferPointer { p in
      if let k = p.firstIndex(where: { !$0.isFinite }) {
        throw NumericsError.invalidArgument(
          "cannot write non-finite value \(p[k]) to a Matrix Market file")
      }
      var out = preamble(Header(format: .array), comment)
      out.reserveCapacity(out.utf8.count + 25 * m * n + 32)
      out += "\(m) \(n)\n"
      for j in 0..<n {
        for i in 0..<m { out += "\(p[i * n + j])\n" }
      }
      return out
    }
  }

  /// Writes a sparse matrix atomically as `coordinate real general` (or `symmetric`, storing
  /// the lower triangle only). See `format(_:symmetric:comment:)`.
  /// - Throws: `NumericsError.invalidArgument` (see `format`), `NumericsError.io` if the file
  ///   cannot be written.
  public static func write(
    _ a: CSRMatrix<Double>, to url: URL, symmetric: Bool = false, comment: String? = nil
  ) throws {
    try writeAtomically(format(a, symmetric: symmetric, comment: comment), to: url)
  }

  /// Writes a dense 2-D array atomically as `array real general` (column-major).
  /// - Throws: see `format(_:comment:)`; `NumericsError.io` if the file cannot be written.
  public static func write(_ a: NDArray<Double>, to url: URL, comment: String? = nil) throws {
    try writeAtomically(format(a, comment: comment), to: url)
  }

  private static func preamble(_ header: Header, _ comment: String?) -> String {
    var out = header.banner + "\n"
    if let comment {
      for line in comment.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
        out += line.isEmpty ? "%\n" : "% \(line)\n"
      }
    }
    return out
  }

  private static func writeAtomically(_ text: String, to url: URL) throws {
    do {
      try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
      throw NumericsError.io(
        "cannot write Matrix Market file \(url.path): \(error.localizedDescription)")
    }
  }
}

// MARK: - Byte-level scanner

private let newline = UInt8(ascii: "\n")
private let percent = UInt8(ascii: "%")

@inline(__always) private func isBlank(_ b: UInt8) -> Bool {
  b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C
}

/// Splits the input into lines and whitespace-separated tokens, one line at a time, and turns
/// tokens into numbers. Tokens are byte ranges into the input; nothing is copied on the fast path.
private struct Scanner {
  let bytes: UnsafeBufferPointer<UInt8>
  /// Offset of the first byte of the next line.
  var position = 0
  /// 1-based number of the line last read (0 before the first).
  var line = 0
  /// Tokens of the line last read.
  var tokens: [Range<Int>] = []

  init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    tokens.reserveCapacity(8)
  }

  func error(at line: Int, _ message: String) -> NumericsError {
    .matrixMarket(line: line, message: message)
  }

  func error(_ message: String) -> NumericsError { error(at: line, message) }

  /// Reads the next line into `tokens`; false at end of input.
  mutating func nextLine() -> Bool {
    let n = bytes.count
    guard position < n else { return false }
    line += 1
    tokens.removeAll(keepingCapacity: true)
    var i = position
    while i < n {
      let b = bytes[i]
      if b == newline { break }
      if isBlank(b) {
        i += 1
        continue
      }
      let start = i
      while i < n && bytes[i] != newline && !isBlank(bytes[i]) { i += 1 }
      tokens.append(start..<i)
    }
    position = i + 1
    return true
  }

  /// Reads the next line that is neither blank nor a `%` comment; false at end of input.
  mutating func nextContentLine() -> Bool {
    while nextLine() {
      if let first = tokens.first, bytes[first.lowerBound] != percent { return true }
    }
    return false
  }

  /// The token's text, shortened for messages.
  func text(_ r: Range<Int>) -> String {
    let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self)
    return s.count > 40 ? String(s.prefix(40)) + "…" : s
  }

  /// Parses `[+-]digits`, saturating at ±Int.max on overflow; nil if not an integer.
  func integer(_ r: Range<Int>) -> Int? {
    var i = r.lowerBound
    var negative = false
    if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
      negative = bytes[i] == UInt8(ascii: "-")
      i += 1
    }
    guard i < r.upperBound else { return nil }
    var v = 0
    var overflow = false
    while i < r.upperBound {
      let d = bytes[i] &- UInt8(ascii: "0")
      guard d < 10 else { return nil }
      if !overflow {
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(Int(d))
        if o1 || o2 { overflow = true } else { v = s }
      }
      i += 1
    }
    if overflow { v = Int.max }
    return negative ? -v : v
  }

  /// Parses a floating-point token; nil if it is not a number. NaN and infinities parse (and
  /// are rejected by the caller with a specific message).
  func real(_ r: Range<Int>) -> Double? {
    // Fast path: short integers ("1", "-4") are exact in Double ("-0" keeps its sign below).
    if r.count <= 15, let v = integer(r), v != 0 || bytes[r.lowerBound] != UInt8(ascii: "-") {
      return Double(v)
    }
    return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self))
  }

  /// Parses the value token of an entry according to the header's field.
  func value(_ r: Range<Int>, _ field: MatrixMarket.Header.Field) throws -> Double {
    if field == .integer {
      guard integer(r) != nil, let v = real(r) else {
        throw error("'\(text(r))' is not an integer (the header declares an integer field)")
      }
      return v
    }
    guard let v = real(r) else { throw error("cannot parse value '\(text(r))' as a number") }
    guard v.isFinite else {
      throw error("value '\(text(r))' is NaN or infinite; only finite values are allowed")
    }
    return v
  }

  /// Reads and validates the banner on line 1.
  mutating func readBanner() throws -> MatrixMarket.Header {
    let expected = "expected a banner like '%%MatrixMarket matrix coordinate real general'"
    guard nextLine(), let first = tokens.first else {
      throw error(at: 1, "missing banner; \(expected)")
    }
    guard text(first).lowercased() == "%%matrixmarket" else {
      throw error("missing banner (line starts with '\(text(first))'); \(expected)")
    }
    guard tokens.count == 5 else {
      throw error("banner has \(tokens.count) words, \(expected)")
    }
    let words = tokens.dropFirst().map { text($0).lowercased() }
    guard words[0] == "matrix" else {
      throw error("object '\(words[0])' not supported; only 'matrix' is")
    }
    guard let format = MatrixMarket.Header.Format(rawValue: words[1]) else {
      throw error("format '\(words[1])' not supported; expected 'coordinate' or 'array'")
    }
    guard let field = MatrixMarket.Header.Field(rawValue: words[2]) else {
      throw error("field '\(words[2])' not supported; expected 'real', 'integer' or 'pattern'")
    }
    guard let symmetry = MatrixMarket.Header.Symmetry(rawValue: words[3]) else {
      throw error("symmetry '\(words[3])' not supported; expected 'general' or 'symmetric'")
    }
    if format == .array && field == .pattern {
      throw error("field 'pattern' not supported with the 'array' format (only with 'coordinate')")
    }
    return MatrixMarket.Header(format: format, field: field, symmetry: symmetry)
  }

  /// Parses the size line (already in `tokens`): `count` non-negative integers.
  func sizes(_ names: [String]) throws -> [Int] {
    let expected = names.joined(separator: " ")
    guard tokens.count == names.count else {
      throw error(
        "malformed size line: expected \(names.count) integers '\(expected)', found \(tokens.count) tokens"
      )
    }
    var out: [Int] = []
    for (r, name) in zip(tokens, names) {
      guard let v = integer(r) else {
        throw error(
          "malformed size line: \(name) '\(text(r))' is not an integer (expected '\(expected)')")
      }
      guard v >= 0 else { throw error("negative size: \(name) = \(v)") }
      guard v <= Int(Int32.max) else {
        throw error("size too large: \(name) = \(text(r)) exceeds the limit of 2³¹−1")
      }
      out.append(v)
    }
    return out
  }

  /// Parses a 1-based index token and checks it against `1...limit`; returns it 0-based.
  func index(_ r: Range<Int>, _ name: String, _ limit: Int) throws -> Int {
    guard let v = integer(r) else { throw error("\(name) index '\(text(r))' is not an integer") }
    guard v >= 1 && v <= limit else {
      throw error("\(name) index \(text(r)) out of range 1...\(limit)")
    }
    return v - 1
  }

  /// Reads the entries of a coordinate-format file; the size line is in `tokens`.
  mutating func readCoordinate(_ header: MatrixMarket.Header) throws -> MatrixMarket.Matrix {
    let size = try sizes(["rows", "columns", "entries"])
    let (m, n, nnz) = (size[0], size[1], size[2])
    let symmetric = header.symmetry == .symmetric
    if symmetric && m != n {
      throw error("symmetric matrix must be square, but the size line declares \(m)×\(n)")
    }
    let pattern = header.field == .pattern
    let width = pattern ? 2 : 3
    let layout = pattern ? "row column" : "row column value"
    // Each entry line takes at least 4 bytes, which bounds a sane reservation.
    var coo = COOMatrix<Double>(
      rows: m, columns: n, reserve: min(nnz * (symmetric ? 2 : 1), bytes.count / 2))
    var found = 0
    while nextContentLine() {
      guard found < nnz else {
        throw error("more entries than the \(nnz) declared on the size line")
      }
      guard tokens.count == width else {
        throw error("expected \(width) tokens '\(layout)' on an entry line, found \(tokens.count)")
      }
      let i = try index(tokens[0], "row", m)
      let j = try index(tokens[1], "column", n)
      let v = try pattern ? 1 : value(tokens[2], header.field)
      if symmetric {
        guard i >= j else {
          throw error(
            "upper-triangle entry (\(i + 1), \(j + 1)) in a symmetric file; only the lower triangle is stored"
          )
        }
        if i != j { coo.append(j, i, v) }
      }
      coo.append(i, j, v)
      found += 1
    }
    if found < nnz {
      throw error(at: line + 1, "unexpected end of file: expected \(nnz) entries, found \(found)")
    }
    return .sparse(coo, header)
  }

  /// Reads the values of an array-format file; the size line is in `tokens`.
  mutating func readArray(_ header: MatrixMarket.Header) throws -> MatrixMarket.Matrix {
    let size = try sizes(["rows", "columns"])
    let (m, n) = (size[0], size[1])
    let symmetric = header.symmetry == .symmetric
    if symmetric && m != n {
      throw error("symmetric matrix must be square, but the size line declares \(m)×\(n)")
    }
    // Both fit in Int64 since m, n < 2³¹.
    let expected = symmetric ? n * (n + 1) / 2 : m * n
    var values: [Double] = []
    values.reserveCapacity(min(expected, bytes.count / 2))
    while nextContentLine() {
      guard values.count < expected else {
        throw error("more entries than the \(expected) declared by the size line \(m)×\(n)")
      }
      guard tokens.count == 1 else {
        throw error("expected 1 value per entry line, found \(tokens.count) tokens")
      }
      values.append(try value(tokens[0], header.field))
    }
    if values.count < expected {
      throw error(
        at: line + 1, "unexpected end of file: expected \(expected) entries, found \(values.count)")
    }
    // Column-major (lower triangle only when symmetric) in the file; row-major in memory.
    var a = NDArray<Double>(shape: [m, n], repeating: 0)
    a.withUnsafeMutableBufferPointer { p in
      var k = 0
      for j in 0..<n {
        for i in (symmetric ? j : 0)..<m {
          p[i * n + j] = values[k]
          if symmetric { p[j * n + i] = values[k] }
          k += 1
        }
      }
    }
    return .dense(a, header)
  }
}
