import Foundation
import Numerics

/// Random Double array with a fixed seed (tests are deterministic).
func randomArray(_ shape: [Int], seed: UInt64) -> NDArray<Double> { .randomNormal(shape, seed: seed) }

/// Naive multi-dimensional DFT over the trailing `dims.count` axes of one transform (sign −1
/// forward, +1 inverse; unnormalized), evaluated directly in O(N²).
func naiveDFT(_ x: [Complex<Double>], dims: [Int], inverse: Bool = false) -> [Complex<Double>] {
  let n = dims.reduce(1, *)
  var out = [Complex<Double>](repeating: .zero, count: n)
  func multi(_ lin: Int) -> [Int] {
    var r = lin
    var idx = [Int](repeating: 0, count: dims.count)
    for a in stride(from: dims.count - 1, through: 0, by: -1) {
      idx[a] = r % dims[a]
      r /= dims[a]
    }
    return idx
  }
  let sign = inverse ? 1.0 : -1.0
  for k in 0..<n {
    let kk = multi(k)
    var s = Complex<Double>.zero
    for j in 0..<n {
      let jj = multi(j)
      var phase = 0.0
      for a in 0..<dims.count { phase += Double(kk[a] * jj[a]) / Double(dims[a]) }
      let t = sign * 2 * Double.pi * phase
      s = s + x[j] * Complex(cos(t), sin(t))
    }
    out[k] = s
  }
  return out
}
