import Dispatch
// Shared vocabulary of PDEKit's linear solvers: operators, preconditioners, options, statistics.
// The shape follows Krylov.jl (workspace + stats with a plain-words status) and LinearSolve.jl
// (problem / algorithm / cache).
import Foundation
import Numerics

/// Why a solve stopped. Every solver returns one; an unconverged result is never silent.
public enum ConvergenceReason: String, Sendable, Codable, CustomStringConvertible {
  /// ‖b − A x‖ ≤ atol + rtol·‖b‖ (or a direct solve succeeded).
  case converged
  /// The iteration limit was reached first.
  case maxIterations
  /// A scalar the method divides by vanished (e.g. BiCGStab's ρ or ω, GMRES's Arnoldi on a singular A).
  case breakdown
  /// The residual stopped decreasing over a window of iterations.
  case stagnation
  /// CG/MINRES met pᵀAp ≤ 0: the operator is not positive definite (or not symmetric).
  case indefiniteOperator
  /// PCG met rᵀM⁻¹r ≤ 0: the preconditioner is not positive definite.
  case indefinitePreconditioner
  /// A direct Cholesky factorization found a non-positive pivot.
  case notPositiveDefinite
  /// A direct LU factorization found an exactly singular matrix.
  case singular

  /// The reason in plain words, as Krylov.jl's `status`.
  public var description: String {
    switch self {
    case .converged: return "solution good enough given atol and rtol"
    case .maxIterations: return "maximum number of iterations exceeded"
    case .breakdown: return "breakdown: a denominator of the method vanished"
    case .stagnation: return "stagnation: the residual stopped decreasing"
    case .indefiniteOperator: return "the operator is not symmetric positive definite (pᵀAp ≤ 0)"
    case .indefinitePreconditioner: return "the preconditioner is not positive definite (rᵀM⁻¹r ≤ 0)"
    case .notPositiveDefinite: return "the matrix is not positive definite"
    case .singular: return "the matrix is singular"
    }
  }
}

/// Statistics of one solve.
public struct SolverStats: Sendable, Codable, Equatable {
  /// Method name with its options, e.g. "cg+ic0" or "gmres(30)+ilu0".
  public var method: String
  /// Iterations taken (0 for direct solvers and for an exact initial guess).
  public var iterations: Int
  /// Final *true* relative residual ‖b − A x‖ / ‖b‖, recomputed from x at the end (‖b − A x‖ when b = 0).
  public var relativeResidual: Double
  /// Relative residual norm after each iteration (index 0 = initial guess) when requested, else empty.
  /// For preconditioned methods this is the residual the method monitors (see each method's docs).
  public var residualHistory: [Double]
  /// Wall-clock seconds of the solve (setup of preconditioners/factorizations excluded unless stated).
  public var seconds: Double
  /// Why the solve stopped.
  public var reason: ConvergenceReason

  public init(
    method: String, iterations: Int, relativeResidual: Double, residualHistory: [Double] = [], seconds: Double,
    reason: ConvergenceReason
  ) {
    self.method = method
    self.iterations = iterations
    self.relativeResidual = relativeResidual
    self.residualHistory = residualHistory
    self.seconds = seconds
    self.reason = reason
  }

  /// Whether the solve met its tolerance.
  public var converged: Bool { reason == .converged }
}

/// Stopping criteria and options shared by the Krylov methods.
///
/// A solve stops when ‖r‖ ≤ `atol` + `rtol`·‖b‖: the tolerance is relative to ‖b‖, not to the
/// initial residual, so a warm start never loosens the accuracy of the answer.
public struct KrylovOptions: Sendable, Equatable {
  /// Relative tolerance (default 1e-8).
  public var rtol: Double
  /// Absolute tolerance (default 0).
  public var atol: Double
  /// Iteration limit; nil means 2·n (10·n for GMRES-type methods counts inner iterations).
  public var maxIterations: Int?
  /// Record the residual history.
  public var history: Bool

  public init(rtol: Double = 1e-8, atol: Double = 0, maxIterations: Int? = nil, history: Bool = false) {
    self.rtol = rtol
    self.atol = atol
    self.maxIterations = maxIterations
    self.history = history
  }
}

/// A linear operator y ← A x on Double vectors (a sparse matrix, a matrix-free stencil, ...).
public protocol LinearOperator {
  /// Number of rows of A.
  var rows: Int { get }
  /// Number of columns of A.
  var columns: Int { get }
  /// y ← A x. `x` has `columns` entries and `y` has `rows`; they never alias.
  func apply(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>)
}

extension CSRMatrix: LinearOperator where T == Double {
  /// y ← A x (single-threaded CSR SpMV).
  @inlinable
  public func apply(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
    multiply(UnsafeBufferPointer(start: x, count: columns), into: UnsafeMutableBufferPointer(start: y, count: rows))
  }
}

/// A preconditioner z ← M⁻¹ r, built from a matrix and refreshable for a new matrix with the
/// same sparsity pattern (the next sample of a data set).
public protocol Preconditioner: AnyObject {
  /// Short name used in stats, e.g. "jacobi", "ic0", "amg".
  var name: String { get }
  /// Order of M.
  var dimension: Int { get }
  /// Whether M is symmetric positive definite whenever A is (usable inside CG and MINRES).
  var isSymmetric: Bool { get }
  /// z ← M⁻¹ r; `r` and `z` do not alias. Must not allocate.
  func apply(_ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>)
  /// Recomputes the numeric part for `matrix`, which has the sparsity pattern the
  /// preconditioner was built for (callers check the pattern). Throws if it breaks down.
  func update(_ matrix: CSRMatrix<Double>) throws
}

/// Errors raised when setting up a solver or preconditioner (as opposed to a solve that did not
/// converge, which is reported through `SolverStats.reason`).
public enum SolverSetupError: Error, CustomStringConvertible, LocalizedError, Equatable {
  /// The matrix does not suit the method (not square, not symmetric for CG, NaN entries, ...).
  case invalidMatrix(String)
  /// Vector lengths do not match the matrix.
  case dimensionMismatch(String)
  /// A preconditioner could not be built (zero pivot in ILU/IC, zero diagonal for Jacobi, ...).
  case preconditionerBreakdown(String)

  public var description: String {
    switch self {
    case .invalidMatrix(let s): return "invalid matrix: \(s)"
    case .dimensionMismatch(let s): return "dimension mismatch: \(s)"
    case .preconditionerBreakdown(let s): return "preconditioner setup failed: \(s)"
    }
  }
  public var errorDescription: String? { description }
}

@inline(__always) func nrm2(_ x: UnsafePointer<Double>, _ n: Int) -> Double {
  BLAS.nrm2(UnsafeBufferPointer(start: x, count: n))
}

@inline(__always) func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double {
  BLAS.dot(UnsafeBufferPointer(start: x, count: n), UnsafeBufferPointer(start: y, count: n))
}

/// ‖b − A x‖ computed into the scratch vector `r` (true residual).
func trueResidualNorm(
  _ a: some LinearOperator, _ b: UnsafePointer<Double>, _ x: UnsafePointer<Double>,
  scratch r: UnsafeMutablePointer<Double>
) -> Double {
  a.apply(x, r)
  let n = a.rows
  for i in 0..<n { r[i] = b[i] - r[i] }
  return nrm2(r, n)
}

/// Seconds since an arbitrary origin (monotonic).
@inline(__always) func monotonicSeconds() -> Double {
  Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
}

/// A block of `count` work vectors of length `n`, allocated once per workspace (no allocation
/// during solves) and freed with it.
final class ScratchVectors {
  let n: Int
  let base: UnsafeMutablePointer<Double>

  init(n: Int, count: Int) {
    self.n = n
    base = .allocate(capacity: max(1, n * count))
    base.initialize(repeating: 0, count: max(1, n * count))
  }

  deinit { base.deallocate() }

  /// Vector `i` (n entries).
  @inline(__always) subscript(_ i: Int) -> UnsafeMutablePointer<Double> { base + i * n }
}

/// Traps with a clear message when a workspace of size `n` is handed a system of another size, or a
/// preconditioner of another order (a programming error, not bad data).
func checkSizes(
  _ method: String, _ n: Int, _ a: some LinearOperator, b: Int, x: Int, preconditioner: Preconditioner?
) {
  precondition(
    a.rows == n && a.columns == n && b == n && x == n,
    "\(method) workspace of size \(n) got A \(a.rows)×\(a.columns), b \(b), x \(x)")
  precondition(preconditioner.map { $0.dimension == n } ?? true, "preconditioner size differs from the system (\(n))")
}

/// z ← M⁻¹ r, or z ← r without a preconditioner (n entries).
@inline(__always) func applyPreconditioner(
  _ m: Preconditioner?, _ r: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>, _ n: Int
) {
  if let m { m.apply(r, z) } else { z.update(from: r, count: n) }
}
