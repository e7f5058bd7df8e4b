// Darcy flow −∇·(a∇u) = f on the unit square or cube, cell-centred finite volumes with two-point
// flux approximation (TPFA).
//
// Eymard, Gallouët & Herbin, "Finite Volume Methods", Handbook of Numerical Analysis VII, 2000,
// ch. III (the scheme on admissible meshes, its SPD matrix, error estimates); face coefficients are
// the harmonic mean 2 a_P a_Q / (a_P + a_Q) of the two cells (Patankar, "Numerical Heat Transfer and
// Fluid Flow", 1980, ch. 4, interface conductivity), exact for a piecewise-constant a in 1D and flux-continuous across
// jumps, which is the setting of the FNO Darcy benchmark (Li et al., ICLR 2021: a ∈ {12, 3},
// f = 1, u = 0 on the boundary).
//
// Cell P (centre (i+½)h, volume h^d) balances the fluxes through its 2d faces, divided by h^d:
//   Σ_interior faces T_PQ (u_P − u_Q) + Σ_boundary faces T_P (u_P − g) = f_P,
//   T_PQ = 2 a_P a_Q / (a_P + a_Q) / h²   (face area h^(d−1), centre distance h),
//   T_P  = 2 a_P / h²                     (distance h/2 from the centre to the boundary face).
// The matrix is symmetric, weakly diagonally dominant with positive diagonal and non-positive
// off-diagonals, and every cell connects to the Dirichlet boundary, so it is an irreducibly
// diagonally dominant M-matrix: symmetric positive definite. Not checked: nothing about a beyond
// positivity and finiteness (very large contrasts make the matrix ill-conditioned, not invalid).
import Foundation
import Numerics

/// Cell-centred finite-volume discretization of −∇·(a∇u) = f on (0,1)^d with Dirichlet data.
///
/// ```
/// let grid = try Darcy.grid(dimension: 2, n: 421)            // 421² cells, h = 1/421
/// let a = grid.sample { p in mu(p) >= 0 ? 12 : 3 }           // FNO's piecewise-constant a
/// let f = [Double](repeating: 1, count: grid.count)
/// let problem = try Darcy.discretize(dimension: 2, n: 421, coefficient: a, source: f)
/// let u = try CholmodCholesky(problem.matrix).solve(problem.rhs)
/// ```
///
/// The matrix is symmetric positive definite, with positive diagonal and non-negative row sums
/// (positive exactly in boundary cells). Second order in the maximum norm for smooth a and u.
public enum Darcy {
  /// The cell-centred grid of `n` cells per axis: centres (i+½)h, h = 1/n.
  public static func grid(dimension: Int, n: Int) throws -> UniformGrid {
    try UniformGrid(dimension: dimension, pointsPerAxis: n, layout: .cellCentres)
  }

  /// Assembles −∇·(a∇u) = f with u = g on the boundary (g = 0 unless `boundaryValue` is given).
  ///
  /// - Parameters:
  ///   - dimension: 1, 2 or 3 (2 and 3 are the intended uses).
  ///   - n: cells per axis, ≥ 2.
  ///   - coefficient: a > 0 per cell, row-major (slowest axis first), `n^dimension` entries.
  ///   - source: f per cell (its value at the cell centre), same layout.
  ///   - boundaryValue: g at boundary face centres; nil means u = 0.
  /// - Throws: `DiscretizationError` for a bad grid, a field of the wrong length, a non-finite
  ///   entry, or a ≤ 0.
  public static func discretize(
    dimension: Int, n: Int, coefficient: [Double], source: [Double], boundaryValue: (([Double]) -> Double)? = nil
  ) throws -> DiscreteProblem {
    let grid = try grid(dimension: dimension, n: n)
    try requireField(source, "f", count: grid.count)
    var b = source
    let a = try FiniteVolumeDiffusion.assemble(
      grid: grid, coefficient: coefficient, name: "a", diagonalShift: 0, boundaryValue: boundaryValue, rhs: &b)
    let d = grid.dimension
    return DiscreteProblem(
      matrix: a, rhs: b, grid: grid, pde: "darcy", equation: "−∇·(a∇u) = f in \(unitDomain(d))",
      boundaryConditions: boundaryValue == nil
        ? "homogeneous Dirichlet: u = 0 on the boundary" : "Dirichlet: u = g on the boundary",
      discretization: FiniteVolumeDiffusion.words(grid), isSymmetric: true, isPositiveDefinite: true)
  }

  /// The matrix of −∇·(a∇·) alone (u = 0 on the boundary), e.g. to refactor CHOLMOD for a new a on
  /// the same pattern: the pattern depends only on `dimension` and `n`.
  public static func matrix(dimension: Int, n: Int, coefficient: [Double]) throws -> CSRMatrix<Double> {
    let grid = try grid(dimension: dimension, n: n)
    var unused: [Double] = []
    return try FiniteVolumeDiffusion.assemble(
      grid: grid, coefficient: coefficient, name: "a", diagonalShift: 0, boundaryValue: nil, rhs: &unused)
  }
}

/// The TPFA diffusion operator shared by `Darcy` and `HeatEquation`.
enum FiniteVolumeDiffusion {
  static func words(_ grid: UniformGrid) -> String {
    "cell-centred finite volumes, two-point flux approximation, \(grid.pointsPerAxis)^\(grid.dimension) cells, "
      + "h = 1/N = \(grid.spacing), harmonic-mean face coefficients 2a_P a_Q/(a_P + a_Q), boundary faces at "
      + "half-cell distance (Eymard, Gallouët & Herbin 2000, ch. III; Patankar 1980, ch. 4)"
  }

  /// Returns S + A where A u ≈ −∇·(κ∇u) with u = g on the boundary, S = `diagonalShift`·I. When
  /// `boundaryValue` is given, T_P·g(face centre) is added to `rhs` (which must have one entry per
  /// cell); otherwise `rhs` is not touched.
  static func assemble(
    grid: UniformGrid, coefficient: [Double], name: String, diagonalShift: Double,
    boundaryValue: (([Double]) -> Double)?, rhs: inout [Double]
  ) throws -> CSRMatrix<Double> {
    let count = grid.count
    try requirePositiveField(coefficient, name, count: count)
    let d = grid.dimension
    let n = grid.pointsPerAxis
    let h = grid.spacing
    let ih2 = 1 / (h * h)
    let strides = (0..<d).map(grid.axisStride)
    // Every cell has its diagonal and one entry per neighbour inside the grid: each axis has
    // n − 1 interior faces on each of its count/n lines, two entries per face. The entries of a
    // row are written in increasing column order (lower neighbours slowest axis first, the
    // diagonal, upper neighbours fastest axis first), straight into the CSR arrays.
    let nonzeros = count + d * 2 * (n - 1) * (count / max(1, n))
    guard nonzeros <= Int(Int32.max) else {
      throw DiscretizationError.invalidGrid(
        "\(n)^\(d) cells give \(nonzeros) matrix entries, more than 32-bit CSR indices hold; use fewer cells")
    }
    var rowPointers = [Int32](repeating: 0, count: count + 1)
    var columnIndices = [Int32](repeating: 0, count: nonzeros)
    var values = [Double](repeating: 0, count: nonzeros)
    var idx = [Int](repeating: 0, count: d)
    var written = 0
    coefficient.withUnsafeBufferPointer { k in
      rowPointers.withUnsafeMutableBufferPointer { rp in
        columnIndices.withUnsafeMutableBufferPointer { ci in
          values.withUnsafeMutableBufferPointer { v in
            for p in 0..<count {
              let kp = k[p]
              var diagonal = diagonalShift
              var boundaryFlux = 0.0
              // Face of cell p on side `upper` of axis a: an interior face couples p to its
              // neighbour (harmonic mean); a boundary face adds its transmissibility to the
              // diagonal and, with a boundary value, its flux to the right-hand side.
              @inline(__always) func face(_ a: Int, upper: Bool) {
                if upper ? idx[a] < n - 1 : idx[a] > 0 {
                  let q = upper ? p + strides[a] : p - strides[a]
                  let t = 2 * kp * k[q] / (kp + k[q]) * ih2
                  ci[written] = Int32(truncatingIfNeeded: q)
                  v[written] = -t
                  written += 1
                  diagonal += t
                } else {
                  let t = 2 * kp * ih2
                  diagonal += t
                  if let g = boundaryValue {
                    var pt = idx.map(grid.coordinate)
                    pt[a] = upper ? 1 : 0
                    boundaryFlux += t * g(pt)
                  }
                }
              }
              for a in 0..<d { face(a, upper: false) }
              let diagonalSlot = written
              ci[written] = Int32(truncatingIfNeeded: p)
              written += 1
              for a in stride(from: d - 1, through: 0, by: -1) { face(a, upper: true) }
              v[diagonalSlot] = diagonal
              if boundaryValue != nil { rhs[p] += boundaryFlux }
              rp[p + 1] = Int32(truncatingIfNeeded: written)
              grid.advance(&idx)
            }
          }
        }
      }
    }
    precondition(written == nonzeros, "TPFA assembly wrote \(written) of \(nonzeros) entries")
    return try CSRMatrix(
      rows: count, columns: count, rowPointers: rowPointers, columnIndices: columnIndices, values: values)
  }
}
