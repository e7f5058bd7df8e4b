// The least-squares update of GMRES-type methods: Givens rotations that keep the Arnoldi
// Hessenberg matrix upper triangular column by column, and the rotated right-hand side whose last
// entry is the residual norm. Y. Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed.,
// SIAM 2003, §6.5.3. Shared by GMRES and GCRO-DR.

/// Applies the rotations of columns 0..<k to column k of the Hessenberg matrix (column-major,
/// leading dimension `ld`) and returns ρ = ‖(h_kk, h_k+1,k)‖, the diagonal the new rotation will
/// leave. Callers compare ρ with the breakdown threshold before calling ``completeRotation``.
@inline(__always)
func applyPreviousRotations(
  _ hess: UnsafeMutablePointer<Double>, column k: Int, ld: Int, cos c: UnsafeMutablePointer<Double>,
  sin s: UnsafeMutablePointer<Double>
) -> Double {
  let col = hess + k * ld
  for i in 0..<k {
    let t = c[i] * col[i] + s[i] * col[i + 1]
    col[i + 1] = -s[i] * col[i] + c[i] * col[i + 1]
    col[i] = t
  }
  let (hk, hk1) = (col[k], col[k + 1])
  return (hk * hk + hk1 * hk1).squareRoot()
}

/// Makes the rotation of column k that zeroes its subdiagonal (ρ from
/// ``applyPreviousRotations``) and applies it to the right-hand side `g`.
@inline(__always)
func completeRotation(
  _ hess: UnsafeMutablePointer<Double>, column k: Int, ld: Int, rho: Double, cos c: UnsafeMutablePointer<Double>,
  sin s: UnsafeMutablePointer<Double>, rhs g: UnsafeMutablePointer<Double>
) {
  let col = hess + k * ld
  c[k] = col[k] / rho
  s[k] = col[k + 1] / rho
  col[k] = rho
  col[k + 1] = 0
  g[k + 1] = -s[k] * g[k]
  g[k] = c[k] * g[k]
}
