// Variable-conductivity heat equation ∂u/∂t = ∇·(κ∇u) + q on the unit square or cube, u = 0 on
// the boundary: the method of lines with the cell-centred finite-volume operator of `Darcy` in
// space and implicit (backward) Euler in time,
//   (I/Δt + A_κ) u^{n+1} = u^n/Δt + q(t^{n+1}),
// LeVeque, "Finite Difference Methods for Ordinary and Partial Differential Equations", SIAM
// 2007, ch. 9 (backward Euler for the heat equation: unconditionally stable, L-stable, first order
// in time) with A_κ from Eymard, Gallouët & Herbin, "Finite Volume Methods", 2000, ch. III. The error
// is O(Δt + h²); with Δt ∝ h² it is O(h²).
//
// I/Δt + A_κ is symmetric positive definite and, for a fixed κ and Δt, the same at every step:
// factorize it once (CHOLMOD) and each step is a pair of triangular solves.
import Foundation
import Numerics

/// Implicit-Euler time stepping for ∂u/∂t = ∇·(κ∇u) + q on (0,1)^d with u = 0 on the boundary.
///
/// ```
/// let grid = try HeatEquation.grid(dimension: 2, n: 64)
/// let heat = try HeatEquation(dimension: 2, n: 64, conductivity: grid.sample(kappa), timeStep: 1e-3)
/// let chol = try CholmodCholesky(heat.matrix)                      // factor once
/// let uT = try heat.run(initial: grid.sample(u0), steps: 100, solve: { _, b in try chol.solve(b) })
/// ```
///
/// Fields are per cell, row-major (slowest axis first), on `HeatEquation.grid`.
public struct HeatEquation: Sendable {
  /// The cell-centred grid (centres (i+½)h, h = 1/n).
  public let grid: UniformGrid
  /// κ > 0 per cell.
  public let conductivity: [Double]
  /// Δt > 0.
  public let timeStep: Double
  /// I/Δt + A_κ, symmetric positive definite, the same for every step.
  public let matrix: CSRMatrix<Double>

  /// The cell-centred grid of `n` cells per axis that the equation is discretized on.
  public static func grid(dimension: Int, n: Int) throws -> UniformGrid {
    try UniformGrid(dimension: dimension, pointsPerAxis: n, layout: .cellCentres)
  }

  /// Assembles the step matrix I/Δt + A_κ.
  ///
  /// - Parameters:
  ///   - dimension: 1, 2 or 3 (2 and 3 are the intended uses).
  ///   - n: cells per axis, ≥ 2.
  ///   - conductivity: κ > 0 per cell, `n^dimension` entries.
  ///   - timeStep: Δt > 0 (finite).
  /// - Throws: `DiscretizationError` for a bad grid, κ of the wrong length, κ ≤ 0, or Δt ≤ 0.
  public init(dimension: Int, n: Int, conductivity: [Double], timeStep: Double) throws {
    guard timeStep > 0, timeStep.isFinite else {
      throw DiscretizationError.invalidParameter("time step \(timeStep) must be positive and finite")
    }
    grid = try Self.grid(dimension: dimension, n: n)
    var unused: [Double] = []
    matrix = try FiniteVolumeDiffusion.assemble(
      grid: grid, coefficient: conductivity, name: "κ", diagonalShift: 1 / timeStep, boundaryValue: nil,
      rhs: &unused)
    self.conductivity = conductivity
    self.timeStep = timeStep
  }

  /// The right-hand side u^n/Δt + q of one step; `source` is q at the new time t^{n+1} (nil = 0).
  public func rhs(previous: [Double], source: [Double]? = nil) throws -> [Double] {
    let count = grid.count
    try requireField(previous, "u", count: count)
    let inv = 1 / timeStep
    guard let q = source else { return previous.map { $0 * inv } }
    try requireField(q, "q", count: count)
    return (0..<count).map { previous[$0] * inv + q[$0] }
  }

  /// One step's system as a `DiscreteProblem` (matrix I/Δt + A_κ, right-hand side `rhs(previous:source:)`).
  public func problem(previous: [Double], source: [Double]? = nil) throws -> DiscreteProblem {
    let d = grid.dimension
    return DiscreteProblem(
      matrix: matrix, rhs: try rhs(previous: previous, source: source), grid: grid, pde: "heat",
      equation: "∂u/∂t = ∇·(κ∇u) + q in \(unitDomain(d)), one implicit Euler step (I/Δt − ∇·κ∇) u' = u/Δt + q",
      boundaryConditions: "homogeneous Dirichlet: u = 0 on the boundary",
      discretization: "implicit Euler, Δt = \(timeStep); " + FiniteVolumeDiffusion.words(grid),
      isSymmetric: true, isPositiveDefinite: true)
  }

  /// Runs `steps` implicit Euler steps from `initial` at time `startTime`.
  ///
  /// - Parameters:
  ///   - initial: u at `startTime`, per cell.
  ///   - steps: number of steps K ≥ 0; the result is u at `startTime + K·Δt`.
  ///   - source: q(t) per cell, called with the new time t^{n+1} of each step (nil = no source).
  ///   - solve: solves (matrix, b) ↦ x; it always receives `self.matrix`, so it may reuse one
  ///     factorization or preconditioner across steps.
  ///   - observe: called after each step with (step number 1…K, time, u).
  /// - Throws: `DiscretizationError` for fields of the wrong length, or whatever `solve` throws.
  public func run(
    initial: [Double], steps: Int, startTime: Double = 0, source: ((_ time: Double) throws -> [Double])? = nil,
    solve: (CSRMatrix<Double>, [Double]) throws -> [Double],
    observe: ((_ step: Int, _ time: Double, _ u: [Double]) throws -> Void)? = nil
  ) throws -> [Double] {
    guard steps >= 0 else { throw DiscretizationError.invalidParameter("steps = \(steps) must be ≥ 0") }
    try requireField(initial, "initial u", count: grid.count)
    var u = initial
    for k in 0..<steps {
      let t = startTime + Double(k + 1) * timeStep
      let b = try rhs(previous: u, source: try source?(t))
      u = try solve(matrix, b)
      guard u.count == grid.count else {
        throw DiscretizationError.fieldLength(field: "solve result", expected: grid.count, got: u.count)
      }
      try observe?(k + 1, t, u)
    }
    return u
  }
}
