// Steady advection–diffusion −εΔu + b·∇u = f on the unit interval, square or cube with Dirichlet
// data, finite differences on interior nodes (x_i = (i+1)h, h = 1/(N+1)).
//
// Diffusion: the second-order (2d+1)-point Laplacian (LeVeque, "Finite Difference Methods for
// Ordinary and Partial Differential Equations", SIAM 2007, ch. 2–3). Advection, per axis, one of
//   upwind  (first order):  b_a (u_P − u_W)/h if b_a ≥ 0, b_a (u_E − u_P)/h if b_a < 0;
//   central (second order): b_a (u_E − u_W)/(2h);
// see Roos, Stynes & Tobiska, "Robust Numerical Methods for Singularly Perturbed Differential
// Equations", 2nd ed., Springer 2008, on simple upwind and central differencing (upwinding is
// the central scheme plus artificial diffusion |b|h/2, hence O(h); it gives an M-matrix for every
// ε > 0, so no spurious oscillations). The central scheme is O(h²) but gives an M-matrix only when the cell Péclet
// number Pe_h = max|b_a| h / (2ε) ≤ 1; above that its solutions oscillate near boundary layers.
// Pe_h is reported in `notes`. Not checked: resolution of boundary layers of width ~ε/|b|.
//
// Each row is scaled as the PDE; the matrix is nonsymmetric whenever b ≠ 0.
import Foundation
import Numerics

/// How the advection term b·∇u is differenced.
public enum AdvectionScheme: String, Sendable, Codable, CaseIterable {
  /// First-order upwind differences: unconditionally monotone (M-matrix), O(h) accurate.
  case upwind
  /// Second-order central differences: O(h²), monotone only for cell Péclet number ≤ 1.
  case central
}

/// The advecting velocity b.
public enum Velocity: Sendable, Equatable {
  /// The same vector b (one component per axis, slowest axis first) at every node.
  case constant([Double])
  /// b per node: `components[axis][point]`, each component row-major on the grid.
  case field([[Double]])
}

/// Finite differences for −εΔu + b·∇u = f on (0,1)^d with u = g on the boundary.
///
/// ```
/// let grid = try AdvectionDiffusion.grid(dimension: 2, n: 63)      // h = 1/64
/// let problem = try AdvectionDiffusion.discretize(
///   dimension: 2, n: 63, diffusivity: 0.01, velocity: .constant([1, 0.5]),
///   source: [Double](repeating: 1, count: grid.count), scheme: .upwind)
/// let u = try problem.matrix.dense().solve(NDArray(shape: [grid.count], data: problem.rhs))  // small grids
/// ```
public enum AdvectionDiffusion {
  /// The grid of `n` interior nodes per axis: x_i = (i+1)h, h = 1/(n+1).
  public static func grid(dimension: Int = 2, n: Int) throws -> UniformGrid {
    try UniformGrid(dimension: dimension, pointsPerAxis: n, layout: .interiorNodes)
  }

  /// Assembles −εΔu + b·∇u = f with u = g on the boundary.
  ///
  /// - Parameters:
  ///   - dimension: 1, 2 or 3.
  ///   - n: interior nodes per axis, ≥ 2.
  ///   - diffusivity: ε > 0.
  ///   - velocity: b, constant or per node (finite).
  ///   - source: f per node, row-major (slowest axis first).
  ///   - boundaryValue: g at boundary nodes; nil means u = 0.
  ///   - scheme: `.upwind` (default, first order, robust) or `.central` (second order).
  /// - Throws: `DiscretizationError` for a bad grid, ε ≤ 0, a velocity with the wrong number of
  ///   components or entries, or non-finite input.
  public static func discretize(
    dimension: Int = 2, n: Int, diffusivity: Double, velocity: Velocity, source: [Double],
    boundaryValue: (([Double]) -> Double)? = nil, scheme: AdvectionScheme = .upwind
  ) throws -> DiscreteProblem {
    let grid = try grid(dimension: dimension, n: n)
    let count = grid.count
    let d = grid.dimension
    guard diffusivity > 0, diffusivity.isFinite else {
      throw DiscretizationError.invalidParameter("diffusivity ε = \(diffusivity) must be positive and finite")
    }
    try requireField(source, "f", count: count)
    switch velocity {
    case .constant(let v):
      guard v.count == d else {
        throw DiscretizationError.invalidParameter("velocity has \(v.count) components for a \(d)-D problem")
      }
      try requireField(v, "velocity", count: d)
    case .field(let components):
      guard components.count == d else {
        throw DiscretizationError.invalidParameter(
          "velocity field has \(components.count) components for a \(d)-D problem")
      }
      for (a, c) in components.enumerated() { try requireField(c, "velocity[\(a)]", count: count) }
    }
    let h = grid.spacing
    let ih2 = 1 / (h * h)
    let strides = (0..<d).map(grid.axisStride)
    var b = source
    var builder = CSRRowBuilder(rows: count, columns: count, entriesPerRow: 2 * d + 1)
    var idx = [Int](repeating: 0, count: d)
    var maxSpeed = 0.0
    for p in 0..<count {
      var diagonal = 0.0
      for a in 0..<d {
        let ba: Double
        switch velocity {
        case .constant(let v): ba = v[a]
        case .field(let c): ba = c[a][p]
        }
        maxSpeed = max(maxSpeed, abs(ba))
        // Coefficients of u_W (lower neighbour), u_P and u_E (upper neighbour) along axis a.
        var west = -diffusivity * ih2
        var east = -diffusivity * ih2
        diagonal += 2 * diffusivity * ih2
        switch scheme {
        case .upwind:
          if ba >= 0 {
            west -= ba / h
            diagonal += ba / h
          } else {
            east += ba / h
            diagonal -= ba / h
          }
        case .central:
          west -= ba / (2 * h)
          east += ba / (2 * h)
        }
        for (upper, coefficient) in [(false, west), (true, east)] {
          let j = idx[a] + (upper ? 1 : -1)
          if j >= 0 && j < n {
            builder.add(p + (upper ? strides[a] : -strides[a]), coefficient)
          } else if let g = boundaryValue {
            var pt = idx.map(grid.coordinate)
            pt[a] = upper ? 1 : 0
            b[p] -= coefficient * g(pt)
          }
        }
      }
      builder.add(p, diagonal)
      builder.finishRow()
      grid.advance(&idx)
    }
    let peclet = maxSpeed * h / (2 * diffusivity)
    let advectionWords =
      scheme == .upwind
      ? "first-order upwind differences for b·∇u (Roos, Stynes & Tobiska 2008)"
      : "second-order central differences for b·∇u (Roos, Stynes & Tobiska 2008)"
    return DiscreteProblem(
      matrix: try builder.matrix(), rhs: b, grid: grid, pde: "advection-diffusion",
      equation: "−εΔu + b·∇u = f in \(unitDomain(d)), ε = \(diffusivity)",
      boundaryConditions: boundaryValue == nil
        ? "homogeneous Dirichlet: u = 0 on the boundary"
        : "Dirichlet: u = g on the boundary (values folded into the right-hand side)",
      discretization:
        "finite differences on \(n)^\(d) interior nodes, h = 1/(N+1) = \(h): second-order central "
        + "\(2 * d + 1)-point Laplacian (LeVeque 2007, ch. 2–3), " + advectionWords,
      isSymmetric: maxSpeed == 0, isPositiveDefinite: maxSpeed == 0,
      notes: [
        "cell Péclet number max|b_a|·h/(2ε) = \(peclet)"
          + (scheme == .central && peclet > 1 ? " > 1: the central scheme is not monotone here; prefer upwind" : "")
      ])
  }
}
