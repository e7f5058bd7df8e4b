import Numerics
import Operators

/// Standard normals of `shape` (Float64).
func randn(_ shape: [Int], seed: UInt64) -> NDArray<Double> { .randomNormal(shape, seed: seed) }

/// ⟨a, b⟩ accumulated in Double.
func dot(_ a: NDArray<Double>, _ b: NDArray<Double>) -> Double {
  precondition(a.shape == b.shape, "dot: shapes \(a.shape) and \(b.shape) differ")
  return zip(a.scalars, b.scalars).reduce(0) { $0 + $1.0 * $1.1 }
}

/// Checks the pullback of `f` at `inputs` against central finite differences of ⟨c, f(x)⟩ for a
/// random cotangent c, in Float64. Returns the largest relative error over the inputs:
/// ‖g_AD − g_FD‖ / ‖g_FD‖ (absolute when ‖g_FD‖ is tiny). `indices` limits the perturbed entries
/// of each input (nil: all).
func pullbackError(
  _ inputs: [NDArray<Double>], seed: UInt64 = 99, step: Double = 1e-5, samples: Int? = nil,
  _ f: ([Tensor<Double>]) -> Tensor<Double>
) -> Double {
  let y = f(inputs.map { Tensor($0) }).value
  let c = randn(y.shape, seed: seed)
  let (_, grads) = valueAndPullback(at: inputs, cotangent: c, in: f)
  var worst = 0.0
  for (i, x) in inputs.enumerated() {
    var ad: [Double] = []
    var fd: [Double] = []
    var rng = PhiloxRandom(seed: seed, stream: UInt64(i))
    let all = Array(0..<x.count)
    let picked = samples.map { k in (0..<min(k, x.count)).map { _ in Int(rng.next() % UInt64(x.count)) } } ?? all
    let g = grads[i].scalars
    for j in picked {
      var plus = inputs
      var minus = inputs
      plus[i].withUnsafeMutableBufferPointer { $0[j] += step }
      minus[i].withUnsafeMutableBufferPointer { $0[j] -= step }
      let lp = dot(c, f(plus.map { Tensor($0) }).value)
      let lm = dot(c, f(minus.map { Tensor($0) }).value)
      fd.append((lp - lm) / (2 * step))
      ad.append(g[j])
    }
    let diff = zip(ad, fd).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    let norm = fd.reduce(0) { $0 + $1 * $1 }.squareRoot()
    worst = max(worst, norm > 1e-8 ? diff / norm : diff)
  }
  return worst
}
