// Flexible GMRES(m): right preconditioning by an operator that may change from one iteration to
// the next (an inner Krylov solve, a V-cycle with varying smoothing, a neural network).
//
// Saad, "A flexible inner-outer preconditioned GMRES algorithm", SIAM J. Sci. Comput. 14 (1993);
// Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed., Algorithm 9.6. It stores the
// preconditioned vectors z_j = M_j⁻¹ v_j and updates x = x₀ + Z y, doubling GMRES's storage.
// The Arnoldi/Givens engine is shared with GMRES.swift.
import Numerics

/// A reusable FGMRES(m) workspace for n×n systems.
///
/// ```
/// let fgmres = FGMRES(dimension: n, restart: 30)
/// let stats = fgmres.solve(a, b, &x, preconditioner: amg)
/// ```
///
/// Same inputs, options and reasons as `GMRES`; the preconditioner need not be a fixed linear
/// operator. Storage: 2m + 1 n-vectors.
public final class FGMRES {
  /// Size n of the systems.
  public let dimension: Int
  /// Restart length m.
  public let restart: Int
  let engine: ArnoldiEngine

  /// Allocates the workspace for n×n systems with restart length m (≥ 1).
  public init(dimension: Int, restart: Int = 30) {
    precondition(restart >= 1, "FGMRES restart must be at least 1")
    self.dimension = dimension
    self.restart = restart
    engine = ArnoldiEngine(dimension: dimension, restart: restart, flexible: true)
  }

  /// Solves A x = b from the guess in `x`; see `GMRES`.
  public func solve(
    _ a: some LinearOperator, _ b: [Double], _ x: inout [Double], preconditioner: Preconditioner? = nil,
    options: KrylovOptions = KrylovOptions()
  ) -> SolverStats {
    engine.solve(a, b, &x, preconditioner: preconditioner, options: options, name: "fgmres(\(restart))")
  }
}
