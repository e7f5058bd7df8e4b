// Poisson's equation −Δu = f on the unit interval, square or cube, second order, with Dirichlet,
// Neumann or periodic boundary conditions.
//
// Dirichlet and periodic: the standard (2d+1)-point finite-difference Laplacian on a vertex-centred
// grid, LeVeque, "Finite Difference Methods for Ordinary and Partial Differential Equations",
// SIAM 2007, ch. 2–3 (Dirichlet data moved to the right-hand side; periodic by wrap-around).
// Neumann: cell-centred finite volumes with two-point fluxes, Eymard, Gallouët & Herbin, "Finite
// Volume Methods", Handbook of Numerical Analysis VII, 2000, ch. III (the flux g of a boundary face
// enters the cell's right-hand side); the method is second order in the discrete maximum norm
// for smooth solutions although the boundary-cell truncation error is O(h) (supraconvergence).
// The pure-Neumann and periodic systems are singular; they are made SPD by the null-space
// constraint documented at `NullSpaceConstraint` (compatibility projection + one pinned node).
//
// Every row is scaled as the PDE (entries ~1/h²), so the matrix is symmetric in all three cases.
// Not checked: that Dirichlet data are continuous at corners or that Neumann data are compatible
// (the projection removes any incompatibility, and `NullSpaceConstraint.removedMean` reports it).
import Foundation
import Numerics

/// Boundary condition of a Poisson problem, the same on every face.
///
/// Data closures receive the boundary point (coordinates, slowest axis first); Neumann data also
/// receive the face. They are evaluated once per boundary point/face during assembly.
public enum PoissonBoundary {
  /// u = g(x) on ∂Ω. Grid: interior nodes, x_i = (i+1)h, h = 1/(N+1).
  case dirichlet((_ point: [Double]) -> Double)
  /// ∂u/∂n = g(x) on ∂Ω, n the outward normal (so g = −∂u/∂x₀ on the face x₀ = 0).
  /// Grid: cell centres, x_i = (i+½)h, h = 1/N; g is evaluated at the boundary face centres.
  case neumann((_ point: [Double], _ face: BoundaryFace) -> Double)
  /// u periodic with period 1 on every axis. Grid: periodic nodes, x_i = ih, h = 1/N.
  case periodic

  /// u = 0 on ∂Ω.
  public static var homogeneousDirichlet: PoissonBoundary { .dirichlet { _ in 0 } }
  /// ∂u/∂n = 0 on ∂Ω.
  public static var homogeneousNeumann: PoissonBoundary { .neumann { _, _ in 0 } }

  /// The grid layout this boundary condition is discretized on.
  public var layout: UniformGrid.Layout {
    switch self {
    case .dirichlet: return .interiorNodes
    case .neumann: return .cellCentres
    case .periodic: return .periodicNodes
    }
  }
}

/// Second-order discretizations of −Δu = f on (0,1)^d, d = 1, 2, 3.
///
/// ```
/// let bc = PoissonBoundary.neumann { p, face in face.outwardSign * gradU(p)[face.axis] }
/// let grid = try Poisson.grid(dimension: 2, n: 64, boundary: bc)        // 64² cells, h = 1/64
/// let problem = try Poisson.discretize(dimension: 2, n: 64, source: grid.sample(f), boundary: bc)
/// let u = problem.recover(try CholmodCholesky(problem.matrix).solve(problem.rhs))   // zero mean
/// ```
///
/// The matrix is symmetric positive definite in every case (after the null-space constraint for
/// Neumann and periodic conditions, see `NullSpaceConstraint`), so CHOLMOD or CG apply.
public enum Poisson {
  /// The grid of `n` points per axis that `discretize` uses for `boundary` (see `PoissonBoundary`).
  public static func grid(dimension: Int, n: Int, boundary: PoissonBoundary) throws -> UniformGrid {
    try UniformGrid(dimension: dimension, pointsPerAxis: n, layout: boundary.layout)
  }

  /// Assembles −Δu = f.
  ///
  /// - Parameters:
  ///   - dimension: 1, 2 or 3.
  ///   - n: unknowns per axis N ≥ 2 (interior nodes, cells or periodic nodes; see `PoissonBoundary`).
  ///   - source: f at the grid points, row-major (slowest axis first), `n^dimension` entries.
  ///   - boundary: the boundary condition and its data.
  /// - Returns: a symmetric positive definite problem; for Neumann and periodic conditions it
  ///   carries a `NullSpaceConstraint`, and `recover(x)` gives the zero-mean solution.
  /// - Throws: `DiscretizationError` for a bad grid or a source of the wrong length or non-finite.
  public static func discretize(dimension: Int, n: Int, source: [Double], boundary: PoissonBoundary) throws
    -> DiscreteProblem
  {
    let grid = try grid(dimension: dimension, n: n, boundary: boundary)
    let count = grid.count
    try requireField(source, "f", count: count)
    let d = grid.dimension
    let h = grid.spacing
    let ih2 = 1 / (h * h)
    let strides = (0..<d).map(grid.axisStride)
    var b = source
    var builder = CSRRowBuilder(rows: count, columns: count, entriesPerRow: 2 * d + 1)
    var idx = [Int](repeating: 0, count: d)
    for p in 0..<count {
      var diagonal = 0.0
      for a in 0..<d {
        for upper in [false, true] {
          let j = idx[a] + (upper ? 1 : -1)
          let step = upper ? strides[a] : -strides[a]
          if j >= 0 && j < n {
            builder.add(p + step, -ih2)
            diagonal += ih2
            continue
          }
          switch boundary {
          case .dirichlet(let g):
            var pt = idx.map(grid.coordinate)
            pt[a] = upper ? 1 : 0
            b[p] += ih2 * g(pt)
            diagonal += ih2
          case .neumann(let g):
            var pt = idx.map(grid.coordinate)
            pt[a] = upper ? 1 : 0
            // (1/h)·[Σ interior faces (u_p − u_q)/h − Σ boundary faces g] = f_p.
            b[p] += g(pt, BoundaryFace(axis: a, isUpper: upper)) / h
          case .periodic:
            builder.add(p + step + (upper ? -n : n) * strides[a], -ih2)
            diagonal += ih2
          }
        }
      }
      builder.add(p, diagonal)
      builder.finishRow()
      grid.advance(&idx)
    }
    var a = try builder.matrix()
    var constraint: NullSpaceConstraint?
    let words: (bc: String, disc: String)
    switch boundary {
    case .dirichlet:
      words = (
        "Dirichlet: u = g on the boundary (values folded into the right-hand side)",
        "second-order central finite differences, \(2 * d + 1)-point stencil, \(n)^\(d) interior nodes, "
          + "h = 1/(N+1) = \(h) (LeVeque 2007, ch. 2–3)"
      )
    case .neumann:
      constraint = pinNullSpace(&a, &b, pinned: 0)
      words = (
        "Neumann: ∂u/∂n = g (outward normal derivative) on the boundary; solution normalized to zero mean",
        "cell-centred finite volumes, two-point fluxes, \(n)^\(d) cells, h = 1/N = \(h), boundary flux g "
          + "entering the right-hand side as g/h (Eymard, Gallouët & Herbin 2000, ch. III); second order"
      )
    case .periodic:
      constraint = pinNullSpace(&a, &b, pinned: 0)
      words = (
        "periodic with period 1 on every axis; solution normalized to zero mean",
        "second-order central finite differences, \(2 * d + 1)-point stencil, \(n)^\(d) periodic nodes "
          + "x_i = ih, h = 1/N = \(h), wrap-around neighbours (LeVeque 2007, ch. 3)"
      )
    }
    return DiscreteProblem(
      matrix: a, rhs: b, grid: grid, pde: "poisson", equation: "−Δu = f in \(unitDomain(d))",
      boundaryConditions: words.bc, discretization: words.disc, isSymmetric: true, isPositiveDefinite: true,
      constraint: constraint)
  }
}
