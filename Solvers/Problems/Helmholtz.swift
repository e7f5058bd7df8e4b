// Helmholtz equation −Δu − k(x)² u = f on the unit square with the first-order absorbing
// (impedance, Robin) boundary condition ∂u/∂n − i k u = g on every side (outgoing waves for the
// time dependence e^{−iωt}; Engquist & Majda, "Absorbing boundary conditions for the numerical
// simulation of waves", Math. Comp. 31, 1977). This is the model problem of Ernst & Gander,
// "Why it is difficult to solve Helmholtz problems with classical iterative methods", in
// Numerical Analysis of Multiscale Problems, Springer 2012: indefinite for k² above the smallest
// Laplacian eigenvalue, non-Hermitian through the boundary term.
//
// Discretization: the second-order (2d+1)-point Laplacian on a vertex-centred grid that includes
// the boundary nodes (x_i = ih, h = 1/(N−1)); the Robin condition is imposed to second order by a
// centred ghost point (LeVeque, "Finite Difference Methods for Ordinary and Partial Differential
// Equations", SIAM 2007, §2.12): on the face x₀ = 0, u_{−1} = u_1 + 2h(i k u_0 + g), so that row
// reads (2u_0 − 2u_1)/h² − (2ik/h) u_0 + … = f + 2g/h, and likewise on every face (a corner gets
// both). Each row is then multiplied by its trapezoid weight (½ per axis on which the node is a
// boundary node), which makes the complex matrix A symmetric (A = Aᵀ, not Hermitian) — the form
// that COCG/COCR-type solvers exploit. Real solvers get the real 2×2 block form
//   [ Re A  −Im A ] [Re u]   [Re b]
//   [ Im A   Re A ] [Im u] = [Im b],
// which is nonsymmetric and indefinite. Not checked: the resolution; keep k·h small (≥ 10 points
// per wavelength, and more for large k: the pollution error grows like k³h²). The number of
// points per wavelength is reported in `notes`.
import Foundation
import Numerics

/// Second-order finite differences for −Δu − k²u = f on (0,1)^d with ∂u/∂n − iku = g on ∂Ω.
///
/// ```
/// let grid = try Helmholtz.grid(dimension: 2, n: 129)              // 129² nodes, h = 1/128
/// let k = [Double](repeating: 40, count: grid.count)
/// let f = grid.sample { p in exp(-400 * ((p[0] - 0.5) * (p[0] - 0.5) + (p[1] - 0.5) * (p[1] - 0.5))) }
/// let problem = try Helmholtz.discretize(dimension: 2, n: 129, wavenumber: k, source: f)
/// // Real form: problem.matrix (2n×2n). Complex form: problem.complexSystem!.realPart / .imaginaryPart.
/// let u = try problem.complexSolution(x)                          // x solves the real form
/// ```
public enum Helmholtz {
  /// The grid of `n` nodes per axis including the boundary: x_i = ih, h = 1/(n−1).
  public static func grid(dimension: Int = 2, n: Int) throws -> UniformGrid {
    try UniformGrid(dimension: dimension, pointsPerAxis: n, layout: .allNodes)
  }

  /// Assembles −Δu − k²u = f, ∂u/∂n − iku = g, with a real source (the usual case).
  public static func discretize(
    dimension: Int = 2, n: Int, wavenumber: [Double], source: [Double],
    robinData: ((_ point: [Double], _ face: BoundaryFace) -> Complex<Double>)? = nil
  ) throws -> DiscreteProblem {
    try requireField(source, "f", count: try grid(dimension: dimension, n: n).count)
    return try discretize(
      dimension: dimension, n: n, wavenumber: wavenumber, source: source.map { Complex($0, 0) },
      robinData: robinData)
  }

  /// Assembles −Δu − k²u = f with the absorbing boundary condition ∂u/∂n − iku = g.
  ///
  /// - Parameters:
  ///   - dimension: 1, 2 or 3 (2 is the intended use).
  ///   - n: nodes per axis including the two boundary nodes, ≥ 2 (h = 1/(n−1)).
  ///   - wavenumber: k(x) ≥ 0 per node, row-major (slowest axis first); k must be positive at
  ///     some boundary node, or nothing absorbs and the problem can be singular.
  ///   - source: f per node (complex).
  ///   - robinData: g on each face, evaluated at the boundary nodes (a corner node is evaluated on
  ///     each of its faces); nil means g = 0, the pure absorbing condition.
  /// - Returns: the real block form (`components == 2`, unknowns [Re u; Im u]) with the complex
  ///   matrix in `complexSystem` (complex symmetric, Re and Im parts on one pattern).
  /// - Throws: `DiscretizationError` for a bad grid, fields of the wrong length or non-finite,
  ///   k < 0, or k = 0 on the whole boundary.
  public static func discretize(
    dimension: Int = 2, n: Int, wavenumber: [Double], source: [Complex<Double>],
    robinData: ((_ point: [Double], _ face: BoundaryFace) -> Complex<Double>)? = nil
  ) throws -> DiscreteProblem {
    let grid = try grid(dimension: dimension, n: n)
    let count = grid.count
    try requireField(wavenumber, "k", count: count)
    if let i = wavenumber.firstIndex(where: { $0 < 0 }) {
      throw DiscretizationError.invalidCoefficient("k[\(i)] = \(wavenumber[i]) must be ≥ 0")
    }
    guard source.count == count else {
      throw DiscretizationError.fieldLength(field: "f", expected: count, got: source.count)
    }
    if let i = source.firstIndex(where: { !$0.re.isFinite || !$0.im.isFinite }) {
      throw DiscretizationError.invalidCoefficient("f[\(i)] = \(source[i]) is not finite")
    }
    let d = grid.dimension
    let h = grid.spacing
    let ih2 = 1 / (h * h)
    let strides = (0..<d).map(grid.axisStride)

    var re = CSRRowBuilder(rows: count, columns: count, entriesPerRow: 2 * d + 1)
    var imagDiagonal = [Double](repeating: 0, count: count)
    var b = source
    var idx = [Int](repeating: 0, count: d)
    var absorbs = false
    for p in 0..<count {
      let kp = wavenumber[p]
      var weight = 1.0
      for a in 0..<d where idx[a] == 0 || idx[a] == n - 1 { weight *= 0.5 }
      var diagonal = -kp * kp
      var imag = 0.0
      var rhs = b[p]
      for a in 0..<d {
        for upper in [false, true] {
          let j = idx[a] + (upper ? 1 : -1)
          diagonal += ih2
          if j >= 0 && j < n {
            // A missing opposite neighbour (boundary node) doubles this coupling: the ghost point.
            let onBoundary = idx[a] == 0 || idx[a] == n - 1
            re.add(p + (upper ? strides[a] : -strides[a]), -ih2 * (onBoundary ? 2 : 1))
            continue
          }
          // Ghost point: the 1/h² coupling moved to the mirror neighbour above; the condition
          // ∂u/∂n − iku = g contributes −(2ik/h) u_p on the left and +(2/h) g on the right.
          imag -= 2 * kp / h
          if kp > 0 { absorbs = true }
          if let g = robinData {
            var pt = idx.map(grid.coordinate)
            pt[a] = upper ? 1 : 0
            let gv = g(pt, BoundaryFace(axis: a, isUpper: upper))
            rhs = rhs + Complex(2 * gv.re / h, 2 * gv.im / h)
          }
        }
      }
      re.add(p, diagonal)
      // Scale the row by its trapezoid weight.
      for e in 0..<re.rowValues.count { re.rowValues[e] *= weight }
      re.finishRow()
      imagDiagonal[p] = weight * imag
      b[p] = Complex(weight * rhs.re, weight * rhs.im)
      grid.advance(&idx)
    }
    guard absorbs else {
      throw DiscretizationError.invalidCoefficient(
        "k = 0 on the whole boundary: nothing is absorbed and the problem may be singular")
    }
    let realPart = try re.matrix()
    // Im A on the pattern of Re A (explicit zeros off the diagonal).
    var imagValues = [Double](repeating: 0, count: realPart.nonzeroCount)
    for i in 0..<count {
      for e in Int(realPart.rowPointers[i])..<Int(realPart.rowPointers[i + 1])
      where Int(realPart.columnIndices[e]) == i {
        imagValues[e] = imagDiagonal[i]
      }
    }
    let imaginaryPart = try CSRMatrix(
      rows: count, columns: count, rowPointers: realPart.rowPointers, columnIndices: realPart.columnIndices,
      values: imagValues)

    // Real block form. Im A is structurally nonzero only on the diagonal of boundary nodes (the
    // pattern does not depend on the values of k), so only those entries enter the block form.
    var block = CSRRowBuilder(rows: 2 * count, columns: 2 * count, entriesPerRow: 2 * d + 2)
    for half in 0..<2 {
      idx = [Int](repeating: 0, count: d)
      for i in 0..<count {
        let boundaryNode = idx.contains { $0 == 0 || $0 == n - 1 }
        // Row i of [Re A, −Im A] (half 0) or [Im A, Re A] (half 1), columns in increasing order.
        if half == 1 && boundaryNode { block.add(i, imagDiagonal[i]) }
        for e in Int(realPart.rowPointers[i])..<Int(realPart.rowPointers[i + 1]) {
          block.add(half * count + Int(realPart.columnIndices[e]), realPart.values[e])
        }
        if half == 0 && boundaryNode { block.add(count + i, -imagDiagonal[i]) }
        block.finishRow()
        grid.advance(&idx)
      }
    }
    let kMax = wavenumber.max() ?? 0
    let pointsPerWavelength = kMax > 0 ? 2 * Double.pi / (kMax * h) : .infinity
    return DiscreteProblem(
      matrix: try block.matrix(), rhs: b.map(\.re) + b.map(\.im), grid: grid, components: 2, pde: "helmholtz",
      equation: "−Δu − k(x)²u = f in \(unitDomain(d))",
      boundaryConditions: "first-order absorbing (impedance/Robin): ∂u/∂n − iku = "
        + (robinData == nil ? "0" : "g") + " on every face (outgoing for time dependence e^{−iωt})",
      discretization:
        "second-order central finite differences, \(2 * d + 1)-point stencil, \(n)^\(d) nodes including the "
        + "boundary, h = 1/(N−1) = \(h); Robin condition by centred ghost points (LeVeque 2007, §2.12); rows "
        + "scaled by trapezoid weights so A is complex symmetric; real block form [[Re A, −Im A], [Im A, Re A]] "
        + "acting on [Re u; Im u]",
      isSymmetric: false, isPositiveDefinite: false,
      complexSystem: ComplexSparseSystem(
        realPart: realPart, imaginaryPart: imaginaryPart, rhs: b, isComplexSymmetric: true),
      notes: [
        "max k = \(kMax): \(pointsPerWavelength) points per wavelength"
          + (pointsPerWavelength < 10 ? " (under-resolved: fewer than 10)" : "")
      ])
  }
}
