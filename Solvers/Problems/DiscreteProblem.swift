// The common output of PDEKit's discretizations: a sparse linear system A x = b on a uniform grid
// of the unit interval, square or cube, with the words a data set needs to describe it
// (equation, boundary conditions, discretization) and the post-processing a singular system needs.
//
// Singular systems (pure Neumann, periodic) follow the standard recipe for a compatible singular
// symmetric system with a one-dimensional null space of constants (Bochev & Lehoucq, "On the
// finite element solution of the pure Neumann problem", SIAM Review 47(1), 2005; LeVeque,
// "Finite Difference Methods for Ordinary and Partial Differential Equations", SIAM 2007, §2.12):
// project b onto range(A) = 1^⊥ (the discrete compatibility condition), fix one unknown to zero
// by eliminating its row and column (keeps A symmetric positive definite), solve, and shift the
// solution to zero mean. Dense regularizations such as A + (1/n)·11ᵀ are avoided on purpose.
import Foundation
import Numerics

/// Errors raised while building a discrete problem from bad input.
public enum DiscretizationError: Error, CustomStringConvertible, LocalizedError, Equatable {
  /// The grid is unusable (dimension not 1–3, fewer than 2 points per axis, too many unknowns).
  case invalidGrid(String)
  /// A field has the wrong number of entries for the grid.
  case fieldLength(field: String, expected: Int, got: Int)
  /// A coefficient is non-positive or not finite where it must be positive and finite.
  case invalidCoefficient(String)
  /// A scalar parameter (time step, diffusivity, velocity, ...) is out of range.
  case invalidParameter(String)

  public var description: String {
    switch self {
    case .invalidGrid(let s): return "invalid grid: \(s)"
    case .fieldLength(let field, let expected, let got):
      return "field '\(field)' has \(got) entries but the grid has \(expected) points (row-major, slowest axis first)"
    case .invalidCoefficient(let s): return "invalid coefficient: \(s)"
    case .invalidParameter(let s): return "invalid parameter: \(s)"
    }
  }
  public var errorDescription: String? { description }
}

/// One face of the unit square/cube: the boundary where coordinate `axis` is 0 (`isUpper == false`)
/// or 1 (`isUpper == true`). Axes are numbered slowest first, as the grid's shape.
public struct BoundaryFace: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// The axis normal to the face.
  public var axis: Int
  /// Whether the face is at coordinate 1 (outward normal +e_axis) rather than 0 (−e_axis).
  public var isUpper: Bool

  public init(axis: Int, isUpper: Bool) {
    self.axis = axis
    self.isUpper = isUpper
  }

  /// The sign of the outward normal along `axis`: +1 on the upper face, −1 on the lower one.
  public var outwardSign: Double { isUpper ? 1 : -1 }

  /// The outward unit normal as a vector of length `dimension`.
  public func outwardNormal(dimension: Int) -> [Double] {
    var n = [Double](repeating: 0, count: dimension)
    n[axis] = outwardSign
    return n
  }

  public var description: String { "x\(axis) = \(isUpper ? 1 : 0)" }
}

/// How a singular system was made nonsingular; see `DiscreteProblem.recover(_:)`.
///
/// The discrete operator A is symmetric with null space span{1}, so A x = b is solvable iff
/// Σ b = 0. The right-hand side was replaced by b − mean(b) (the ℓ² projection onto range(A));
/// then unknown `pinnedIndex` was fixed to 0 by zeroing its row and column except the diagonal
/// and setting its right-hand side to 0. The reduced matrix is symmetric positive definite, and
/// its solution solves the projected singular system exactly (the pinned row holds because
/// 1ᵀA = 0 and Σ b = 0). `recover` then subtracts the mean, giving the zero-mean solution.
public struct NullSpaceConstraint: Sendable, Equatable {
  /// The unknown fixed to zero (always 0, the first grid point).
  public var pinnedIndex: Int
  /// The mean removed from the right-hand side: the discrete compatibility defect. For data that
  /// satisfy the continuous compatibility condition it is a quadrature error, O(h²).
  public var removedMean: Double
  /// Plain-words description of the constraint.
  public var description: String
}

/// The complex system behind a real 2×2 block form, for complex solvers (Helmholtz).
///
/// A = `realPart` + i·`imaginaryPart`; both have the same sparsity pattern (explicit zeros kept).
public struct ComplexSparseSystem: Sendable {
  /// Re A.
  public var realPart: CSRMatrix<Double>
  /// Im A (same pattern as `realPart`).
  public var imaginaryPart: CSRMatrix<Double>
  /// The complex right-hand side.
  public var rhs: [Complex<Double>]
  /// Whether A = Aᵀ (complex symmetric, not Hermitian): usable by COCG/COCR-type solvers.
  public var isComplexSymmetric: Bool
}

/// A discretized linear PDE: the sparse system `matrix · x = rhs` on a uniform grid.
///
/// ```
/// let grid = try Poisson.grid(dimension: 2, n: 31, boundary: .homogeneousDirichlet)
/// let f = grid.sample { p in 2 * .pi * .pi * sin(.pi * p[0]) * sin(.pi * p[1]) }
/// let problem = try Poisson.discretize(dimension: 2, n: 31, source: f, boundary: .homogeneousDirichlet)
/// let x = try CholmodCholesky(problem.matrix).solve(problem.rhs)
/// let u = problem.recover(x)      // shifts singular (Neumann/periodic) solutions to zero mean
/// ```
///
/// Unknowns are ordered row-major over `grid.shape` (slowest axis first). When `components == 2`
/// (the real form of a complex problem) the vector is `[Re u (n entries); Im u (n entries)]`.
public struct DiscreteProblem: Sendable {
  /// The system matrix A (`components · grid.count` square).
  public var matrix: CSRMatrix<Double>
  /// The right-hand side b, with boundary data folded in.
  public var rhs: [Double]
  /// The grid the unknowns live on.
  public var grid: UniformGrid
  /// Unknowns per axis, slowest first (`grid.shape`).
  public var shape: [Int] { grid.shape }
  /// Real unknowns per grid point: 1, or 2 for the real block form of a complex problem.
  public var components: Int
  /// Short name of the PDE family, e.g. "poisson", "darcy", "heat", "helmholtz", "advection-diffusion".
  public var pde: String
  /// The equation, e.g. "−Δu = f in (0,1)^2".
  public var equation: String
  /// The boundary conditions in words.
  public var boundaryConditions: String
  /// The discretization in words, with its reference.
  public var discretization: String
  /// Whether `matrix` is symmetric (exactly, by construction).
  public var isSymmetric: Bool
  /// Whether `matrix` is symmetric positive definite (by construction; CHOLMOD applies).
  public var isPositiveDefinite: Bool
  /// Set when a singular system was made nonsingular; apply `recover` to the solution.
  public var constraint: NullSpaceConstraint?
  /// For complex problems, the complex matrix and right-hand side.
  public var complexSystem: ComplexSparseSystem?
  /// Further remarks (e.g. cell Péclet number, points per wavelength).
  public var notes: [String]

  /// Creates a problem from its parts (the discretizations in this module are the usual source).
  public init(
    matrix: CSRMatrix<Double>, rhs: [Double], grid: UniformGrid, components: Int = 1, pde: String, equation: String,
    boundaryConditions: String, discretization: String, isSymmetric: Bool, isPositiveDefinite: Bool,
    constraint: NullSpaceConstraint? = nil, complexSystem: ComplexSparseSystem? = nil, notes: [String] = []
  ) {
    self.matrix = matrix
    self.rhs = rhs
    self.grid = grid
    self.components = components
    self.pde = pde
    self.equation = equation
    self.boundaryConditions = boundaryConditions
    self.discretization = discretization
    self.isSymmetric = isSymmetric
    self.isPositiveDefinite = isPositiveDefinite
    self.constraint = constraint
    self.complexSystem = complexSystem
    self.notes = notes
  }

  /// Number of real unknowns (`components · grid.count`).
  public var unknowns: Int { matrix.rows }

  /// The grid function from a solution x of `matrix · x = rhs`: for a singular problem
  /// (`constraint != nil`) x shifted to zero mean, otherwise x unchanged.
  public func recover(_ x: [Double]) -> [Double] {
    guard constraint != nil, !x.isEmpty else { return x }
    let mean = x.reduce(0, +) / Double(x.count)
    return x.map { $0 - mean }
  }

  /// The complex grid function u = x[0..<n] + i·x[n..<2n] from a solution of the real block form.
  public func complexSolution(_ x: [Double]) throws -> [Complex<Double>] {
    guard components == 2 else {
      throw DiscretizationError.invalidParameter("complexSolution: the problem is real (components = \(components))")
    }
    let n = grid.count
    guard x.count == 2 * n else {
      throw DiscretizationError.fieldLength(field: "x", expected: 2 * n, got: x.count)
    }
    return (0..<n).map { Complex(x[$0], x[n + $0]) }
  }

  /// ‖b − A x‖₂ / ‖b‖₂ (‖b − A x‖₂ when b = 0), for checking a solution.
  public func relativeResidual(_ x: [Double]) -> Double {
    precondition(x.count == matrix.columns, "x has \(x.count) entries, A has \(matrix.columns) columns")
    var ax = [Double](repeating: 0, count: matrix.rows)
    x.withUnsafeBufferPointer { xp in ax.withUnsafeMutableBufferPointer { matrix.multiply(xp, into: $0) } }
    var r2 = 0.0
    var b2 = 0.0
    for i in 0..<rhs.count {
      r2 += (rhs[i] - ax[i]) * (rhs[i] - ax[i])
      b2 += rhs[i] * rhs[i]
    }
    return b2 > 0 ? (r2 / b2).squareRoot() : r2.squareRoot()
  }
}

// MARK: - Internal assembly helpers

/// Builds a CSR matrix row by row: add a row's entries in any order (duplicates allowed), then
/// `finishRow()` sorts them by column and sums duplicates. O(nnz) with ≤ ~8 entries per row and
/// no per-row allocation, so a 512² stencil assembles in milliseconds.
struct CSRRowBuilder {
  let rows: Int
  let columns: Int
  var rowPointers: [Int32]
  var columnIndices: [Int32]
  var values: [Double]
  var rowColumns: [Int] = []
  var rowValues: [Double] = []

  init(rows: Int, columns: Int, entriesPerRow: Int) {
    self.rows = rows
    self.columns = columns
    rowPointers = [0]
    rowPointers.reserveCapacity(rows + 1)
    columnIndices = []
    columnIndices.reserveCapacity(rows * entriesPerRow)
    values = []
    values.reserveCapacity(rows * entriesPerRow)
    rowColumns.reserveCapacity(2 * entriesPerRow)
    rowValues.reserveCapacity(2 * entriesPerRow)
  }

  @inline(__always) mutating func add(_ column: Int, _ value: Double) {
    rowColumns.append(column)
    rowValues.append(value)
  }

  mutating func finishRow() {
    let m = rowColumns.count
    // Insertion sort: rows are tiny.
    var i = 1
    while i < m {
      let c = rowColumns[i]
      let v = rowValues[i]
      var j = i - 1
      while j >= 0 && rowColumns[j] > c {
        rowColumns[j + 1] = rowColumns[j]
        rowValues[j + 1] = rowValues[j]
        j -= 1
      }
      rowColumns[j + 1] = c
      rowValues[j + 1] = v
      i += 1
    }
    var k = 0
    while k < m {
      var s = rowValues[k]
      var l = k + 1
      while l < m && rowColumns[l] == rowColumns[k] {
        s += rowValues[l]
        l += 1
      }
      columnIndices.append(Int32(truncatingIfNeeded: rowColumns[k]))
      values.append(s)
      k = l
    }
    rowPointers.append(Int32(truncatingIfNeeded: values.count))
    rowColumns.removeAll(keepingCapacity: true)
    rowValues.removeAll(keepingCapacity: true)
  }

  func matrix() throws -> CSRMatrix<Double> {
    precondition(rowPointers.count == rows + 1, "CSRRowBuilder: \(rowPointers.count - 1) of \(rows) rows finished")
    return try CSRMatrix(
      rows: rows, columns: columns, rowPointers: rowPointers, columnIndices: columnIndices, values: values)
  }
}

/// Throws unless `field` has `count` entries, all finite.
func requireField(_ field: [Double], _ name: String, count: Int) throws {
  guard field.count == count else {
    throw DiscretizationError.fieldLength(field: name, expected: count, got: field.count)
  }
  if let i = field.firstIndex(where: { !$0.isFinite }) {
    throw DiscretizationError.invalidCoefficient("\(name)[\(i)] = \(field[i]) is not finite")
  }
}

/// Throws unless every entry of `field` (of length `count`) is finite and > 0.
func requirePositiveField(_ field: [Double], _ name: String, count: Int) throws {
  try requireField(field, name, count: count)
  if let i = field.firstIndex(where: { $0 <= 0 }) {
    throw DiscretizationError.invalidCoefficient("\(name)[\(i)] = \(field[i]) must be positive")
  }
}

/// Applies the null-space constraint of `NullSpaceConstraint` to an assembled symmetric singular
/// system: projects `rhs` to zero mean, zeroes row and column `pinned` except the diagonal, and
/// sets `rhs[pinned] = 0`. Returns the constraint record.
func pinNullSpace(_ a: inout CSRMatrix<Double>, _ rhs: inout [Double], pinned: Int) -> NullSpaceConstraint {
  let mean = rhs.reduce(0, +) / Double(rhs.count)
  for i in 0..<rhs.count { rhs[i] -= mean }
  rhs[pinned] = 0
  // Drop the off-diagonal entries of row and column `pinned` (compacting the arrays in place).
  var w = 0
  var start = 0
  for i in 0..<a.rows {
    let end = Int(a.rowPointers[i + 1])
    for k in start..<end {
      let j = Int(a.columnIndices[k])
      if (i == pinned || j == pinned) && i != j { continue }
      a.columnIndices[w] = a.columnIndices[k]
      a.values[w] = a.values[k]
      w += 1
    }
    start = end
    a.rowPointers[i + 1] = Int32(truncatingIfNeeded: w)
  }
  a.columnIndices.removeLast(a.columnIndices.count - w)
  a.values.removeLast(a.values.count - w)
  return NullSpaceConstraint(
    pinnedIndex: pinned, removedMean: mean,
    description:
      "singular (null space = constants): right-hand side projected to zero mean (removed \(mean)), "
      + "unknown \(pinned) fixed to 0 by symmetric row/column elimination; recover() shifts the solution to zero mean")
}

/// Number symbol for an equation, e.g. "(0,1)^2".
func unitDomain(_ d: Int) -> String { d == 1 ? "(0,1)" : "(0,1)^\(d)" }
