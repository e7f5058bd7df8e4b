// Shared pieces of the Krylov-recycling solvers (GCRODR.swift, RecycledCG.swift): the stale-subspace
// guard, the per-solve diagnostics, and small dense helpers over LAPACK.
//
// The guard follows the observation behind every recycling method (Parks, de Sturler, Mackey,
// Johnson & Maiti, SIAM J. Sci. Comput. 28, 2006, §2; Saad, Yeung, Erhel & Guyomarc'h, SIAM J. Sci.
// Comput. 21, 2000, §3): at the start of a solve the recycled space is used in a Galerkin step that
// removes from the initial residual the part the space can represent. The ratio
//   ρ = ‖r after that projection‖ / ‖r before‖
// is therefore a free measure of how much the space still carries of the new system. A space built
// for matrices that have since changed completely gives ρ ≈ 1 (a random k-dimensional space removes
// about k/n of ‖r‖²) although it still costs its orthogonalizations in every iteration. What ρ does
// not measure is the deflation effect on the convergence rate: a space of exact eigenvectors of the
// slowest modes helps even when the right-hand side has nothing in it. The guard therefore compares
// ρ with the best ratio the same space reached since it was built, not only with an absolute level.
import Foundation
import Numerics

/// When a recycled subspace is declared stale, and what is done then.
///
/// The guard watches ρ = ‖r after projection‖/‖r before‖, the residual reduction of the projection
/// onto the recycled space at the start of each solve. It fires when, for `window` consecutive solves,
/// ρ ≥ `threshold` and 1 − ρ ≤ `relativeGain`·(1 − ρ_best), where ρ_best is the smallest ratio seen
/// since the space was (re)built: the space removes almost nothing of the residual any more and
/// much less than it once did. Defaults: enabled, threshold 0.9, relativeGain 0.1, window 3,
/// action `.refresh`.
public struct StaleGuard: Sendable, Equatable, Codable {
  /// What to do with a stale space.
  public enum Action: String, Sendable, Codable, Equatable {
    /// Rebuild the space from the current solve only: GCRO-DR recomputes it from the harmonic Ritz
    /// vectors of the latest cycle alone (the old U is left out of the extraction); recycled CG
    /// discards W and harvests a new one from this solve's search directions.
    case refresh
    /// Discard the space and stop recycling (the method then runs as GMRES(m) / PCG with warm start)
    /// until `resetRecycleSpace()` is called.
    case drop
  }

  /// Whether the guard is active.
  public var enabled: Bool
  /// Absolute level of ρ above which the space counts as not helping (0.9).
  public var threshold: Double
  /// Fires only when 1 − ρ ≤ relativeGain·(1 − ρ_best) (0.1).
  public var relativeGain: Double
  /// Number of consecutive stale solves before the guard fires (3).
  public var window: Int
  /// What happens when it fires (`.refresh`).
  public var action: Action

  public init(
    enabled: Bool = true, threshold: Double = 0.9, relativeGain: Double = 0.1, window: Int = 3,
    action: Action = .refresh
  ) {
    self.enabled = enabled
    self.threshold = threshold
    self.relativeGain = relativeGain
    self.window = max(1, window)
    self.action = action
  }

  /// A guard that never fires.
  public static var off: StaleGuard { StaleGuard(enabled: false) }
}

/// What the recycling machinery did during one solve.
public struct RecyclingDiagnostics: Sendable, Codable, Equatable {
  /// Dimension of the recycled space available at the start of the solve (0: none).
  public var recycleDimension: Int
  /// Dimension of the recycled space kept for the next solve.
  public var recycleDimensionAfter: Int
  /// ρ = ‖r after projection onto the recycled space‖/‖r before‖ at the start of the solve
  /// (nil when there was no space).
  public var projectionRatio: Double?
  /// Whether the stale-subspace guard fired in this solve.
  public var guardFired: Bool
  /// The action taken when it fired.
  public var guardAction: StaleGuard.Action?
  /// Operator applications outside the counted iterations (A·U for a changed matrix, A·W).
  public var extraOperatorApplications: Int
  /// Seconds spent maintaining the space (recomputing A·U and its QR, harmonic Ritz / Rayleigh–Ritz
  /// extraction); included in `SolverStats.seconds`.
  public var recycleSeconds: Double
  /// Ritz values of the kept space (GCRO-DR: harmonic Ritz values of A M⁻¹, |θ| for complex ones;
  /// recycled CG: Ritz values of M⁻¹A), smallest first, when the space was updated in this solve.
  public var ritzValues: [Double]

  public init(
    recycleDimension: Int = 0, recycleDimensionAfter: Int = 0, projectionRatio: Double? = nil,
    guardFired: Bool = false, guardAction: StaleGuard.Action? = nil, extraOperatorApplications: Int = 0,
    recycleSeconds: Double = 0, ritzValues: [Double] = []
  ) {
    self.recycleDimension = recycleDimension
    self.recycleDimensionAfter = recycleDimensionAfter
    self.projectionRatio = projectionRatio
    self.guardFired = guardFired
    self.guardAction = guardAction
    self.extraOperatorApplications = extraOperatorApplications
    self.recycleSeconds = recycleSeconds
    self.ritzValues = ritzValues
  }
}

/// The guard's memory across solves.
struct StaleGuardState {
  var recent: [Double] = []
  var best = 1.0

  mutating func reset() {
    recent.removeAll()
    best = 1
  }

  /// Records ρ for one solve; returns whether the guard fires (and then forgets its history).
  mutating func record(_ rho: Double, _ config: StaleGuard) -> Bool {
    guard config.enabled, rho.isFinite else { return false }
    best = min(best, rho)
    recent.append(rho)
    if recent.count > config.window { recent.removeFirst(recent.count - config.window) }
    guard recent.count == config.window else { return false }
    let gain = 1 - best
    let stale = recent.allSatisfy { $0 >= config.threshold && 1 - $0 <= config.relativeGain * gain }
    if stale { reset() }
    return stale
  }
}

/// Small dense matrices for the recycling solvers, row-major, converted to NDArray for LAPACK.
struct SmallMatrix {
  var rows: Int
  var columns: Int
  var data: [Double]

  init(rows: Int, columns: Int) {
    self.rows = rows
    self.columns = columns
    data = [Double](repeating: 0, count: rows * columns)
  }

  init(_ array: NDArray<Double>) {
    rows = array.shape[0]
    columns = array.rank > 1 ? array.shape[1] : 1
    data = array.scalars
  }

  subscript(_ i: Int, _ j: Int) -> Double {
    get { data[i * columns + j] }
    set { data[i * columns + j] = newValue }
  }

  var array: NDArray<Double> {
    let source = data
    return NDArray(shape: [rows, columns]) { (out: UnsafeMutableBufferPointer<Double>) in
      for i in 0..<source.count { out[i] = source[i] }
    }
  }

  var transposed: SmallMatrix {
    var t = SmallMatrix(rows: columns, columns: rows)
    for i in 0..<rows { for j in 0..<columns { t[j, i] = self[i, j] } }
    return t
  }

  /// self · other.
  func times(_ other: SmallMatrix) -> SmallMatrix {
    precondition(columns == other.rows)
    var c = SmallMatrix(rows: rows, columns: other.columns)
    if rows == 0 || other.columns == 0 || columns == 0 { return c }
    data.withUnsafeBufferPointer { a in
      other.data.withUnsafeBufferPointer { b in
        c.data.withUnsafeMutableBufferPointer { cc in
          BLAS.gemm(
            .none, .none, m: rows, n: other.columns, k: columns, alpha: 1, a: a.baseAddress!, lda: columns,
            b: b.baseAddress!, ldb: other.columns, beta: 0, c: cc.baseAddress!, ldc: other.columns)
        }
      }
    }
    return c
  }

  /// selfᵀ · other.
  func transposeTimes(_ other: SmallMatrix) -> SmallMatrix { transposed.times(other) }

  /// (self + selfᵀ)/2.
  var symmetrized: SmallMatrix {
    var s = self
    for i in 0..<rows {
      for j in 0..<i {
        let v = 0.5 * (self[i, j] + self[j, i])
        s[i, j] = v
        s[j, i] = v
      }
    }
    return s
  }
}

/// Rows `rows` of a row-block of n-vectors as an n × rows column-oriented NDArray (for LAPACK).
func recyclingColumns(_ block: UnsafePointer<Double>, rows: Int, n: Int) -> NDArray<Double> {
  NDArray(shape: [n, rows]) { out in
    for j in 0..<rows {
      let v = block + j * n
      for i in 0..<n { out[i * rows + j] = v[i] }
    }
  }
}

/// Gram-type product X·Yᵀ of two row blocks (rows a × n and b × n) into an a × b SmallMatrix.
func recyclingGram(
  _ x: UnsafePointer<Double>, rows a: Int, _ y: UnsafePointer<Double>, rows b: Int, n: Int
) -> SmallMatrix {
  var g = SmallMatrix(rows: a, columns: b)
  if a == 0 || b == 0 { return g }
  g.data.withUnsafeMutableBufferPointer { gp in
    BLAS.gemm(
      .none, .transpose, m: a, n: b, k: n, alpha: 1, a: x, lda: n, b: y, ldb: n, beta: 0, c: gp.baseAddress!, ldc: b)
  }
  return g
}

/// out (rows r × n) = coefficientsᵀ (r × a) · block (a × n), or += when `accumulate`.
/// `coefficients` is a × r row-major (column j holds the combination for output row j).
func recyclingCombine(
  _ coefficients: SmallMatrix, rowOffset: Int = 0, count a: Int, block: UnsafePointer<Double>, n: Int,
  into out: UnsafeMutablePointer<Double>, accumulate: Bool
) {
  let r = coefficients.columns
  guard a > 0, r > 0 else {
    if !accumulate && r > 0 { out.update(repeating: 0, count: r * n) }
    return
  }
  coefficients.data.withUnsafeBufferPointer { cp in
    BLAS.gemm(
      .transpose, .none, m: r, n: n, k: a, alpha: 1, a: cp.baseAddress! + rowOffset * r, lda: r, b: block, ldb: n,
      beta: accumulate ? 1 : 0, c: out, ldc: n)
  }
}
