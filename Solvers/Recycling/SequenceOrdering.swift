// Orderings of a sequence of linear systems so that neighbours are similar (for warm starts and
// recycled Krylov spaces).
//
// `.greedy` is the ordering of SKR (Wang et al., "Accelerating data generation for neural operators
// via Krylov subspace recycling", ICLR 2024; repository wanghong1700/NO-DataGen-SKR): a nearest-
// neighbour chain from system 0 over the input fields in the Frobenius (Euclidean) distance, O(N²)
// distances of length F. `.hilbert` is a cheap alternative whose cost is near-linear in N:
// principal components estimated from a deterministic random subset of s systems (Gram matrix of
// the centred subset, O(s²F)), every system projected onto c of them (O(NcF)), the projections
// quantized and sorted along a c-dimensional Hilbert curve (Skilling, "Programming the Hilbert
// curve", AIP Conf. Proc. 707, 2004, transpose-to-axes algorithm; O(N log N)). With c = 1 it is
// the sort along the first principal axis, exact for a one-parameter family.
import Foundation
import Numerics

/// How `solveSequence` orders the systems before solving them.
public enum SequenceOrdering: Sendable, Equatable, CustomStringConvertible {
  /// The given order.
  case identity
  /// SKR's greedy nearest-neighbour chain from system 0 (O(N²F)).
  case greedy
  /// Principal components from a random subset of `sampleSize` systems, projection onto
  /// `components` of them, sort along a Hilbert curve (O(s²F + NcF + N log N)). Defaults 3 and 32.
  case hilbert(components: Int = 3, sampleSize: Int = 32)

  public var description: String {
    switch self {
    case .identity: return "identity"
    case .greedy: return "greedy"
    case .hilbert(let c, let s): return "hilbert(\(c),\(s))"
    }
  }

  /// The order in which to visit the systems: `permutation[i]` is the index (in `features`) of the
  /// i-th system to solve. Deterministic. `features` are one vector per system, all of one length.
  public func permutation(_ features: [[Double]]) throws -> [Int] {
    let count = features.count
    guard count > 1 else { return Array(0..<count) }
    let length = features[0].count
    guard features.allSatisfy({ $0.count == length }) else {
      throw SolverSetupError.dimensionMismatch("ordering features must all have one length (the first has \(length))")
    }
    switch self {
    case .identity: return Array(0..<count)
    case .greedy: return SequenceOrdering.greedyChain(features)
    case .hilbert(let c, let s):
      return SequenceOrdering.hilbertOrder(features, components: max(1, c), sample: max(2, s))
    }
  }

  /// Σ ‖f_{π(i+1)} − f_{π(i)}‖ along `permutation` (the path length the orderings shorten).
  public static func pathLength(_ features: [[Double]], _ permutation: [Int]) -> Double {
    guard permutation.count > 1 else { return 0 }
    var total = 0.0
    for i in 1..<permutation.count { total += distance(features[permutation[i - 1]], features[permutation[i]]) }
    return total
  }

  static func distance(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    a.withUnsafeBufferPointer { x in
      b.withUnsafeBufferPointer { y in
        for i in 0..<x.count {
          let d = x[i] - y[i]
          s += d * d
        }
      }
    }
    return s.squareRoot()
  }

  /// Nearest-neighbour chain from system 0; ties go to the smaller index.
  static func greedyChain(_ f: [[Double]]) -> [Int] {
    let count = f.count
    var visited = [Bool](repeating: false, count: count)
    var order = [0]
    visited[0] = true
    var current = 0
    for _ in 1..<count {
      var best = -1
      var bestDistance = Double.infinity
      for j in 0..<count where !visited[j] {
        let d = distance(f[current], f[j])
        if d < bestDistance || best < 0 {
          best = j
          bestDistance = d
        }
      }
      visited[best] = true
      order.append(best)
      current = best
    }
    return order
  }

  static func hilbertOrder(_ f: [[Double]], components: Int, sample: Int) -> [Int] {
    let count = f.count
    let length = f[0].count
    // Deterministic subset (Philox, fixed seed): a partial Fisher–Yates shuffle.
    var rng = PhiloxRandom(seed: 0x5EC0_0D3E, stream: UInt64(count))
    var indices = Array(0..<count)
    let s = min(sample, count)
    for i in 0..<s {
      let j = i + Int(rng.next() % UInt64(count - i))
      indices.swapAt(i, j)
    }
    let subset = Array(indices.prefix(s)).sorted()
    // Centred subset X (s × F), mean over the subset.
    var mean = [Double](repeating: 0, count: length)
    for i in subset { for t in 0..<length { mean[t] += f[i][t] } }
    for t in 0..<length { mean[t] /= Double(s) }
    var x = [Double](repeating: 0, count: s * length)
    for (row, i) in subset.enumerated() { for t in 0..<length { x[row * length + t] = f[i][t] - mean[t] } }
    // Gram G = X Xᵀ; its leading eigenvectors v give the principal directions Xᵀv/√λ.
    var gram = SmallMatrix(rows: s, columns: s)
    x.withUnsafeBufferPointer { xp in
      gram.data.withUnsafeMutableBufferPointer { gp in
        BLAS.gemm(
          .none, .transpose, m: s, n: s, k: length, alpha: 1, a: xp.baseAddress!, lda: length, b: xp.baseAddress!,
          ldb: length, beta: 0, c: gp.baseAddress!, ldc: s)
      }
    }
    guard let (values, vectors) = try? gram.symmetrized.array.symmetricEigen() else { return Array(0..<count) }
    let lambda = values.scalars
    let vm = SmallMatrix(vectors)
    let top = lambda.last ?? 0
    guard top > 0 else { return Array(0..<count) }
    let dims = (0..<s).reversed().filter { lambda[$0] > 1e-12 * top }.prefix(components)
    var directions: [[Double]] = []
    for col in dims {
      var v = [Double](repeating: 0, count: s)
      for i in 0..<s { v[i] = vm[i, col] / lambda[col].squareRoot() }
      var d = [Double](repeating: 0, count: length)
      x.withUnsafeBufferPointer { xp in
        v.withUnsafeBufferPointer { vp in
          d.withUnsafeMutableBufferPointer { dp in
            BLAS.gemv(
              .transpose, m: s, n: length, alpha: 1, a: xp.baseAddress!, lda: length, x: vp.baseAddress!, beta: 0,
              y: dp.baseAddress!)
          }
        }
      }
      // Fix the sign so the order does not depend on LAPACK's choice.
      if let pivot = d.indices.max(by: { abs(d[$0]) < abs(d[$1]) }), d[pivot] < 0 { d = d.map { -$0 } }
      directions.append(d)
    }
    let c = directions.count
    guard c > 0 else { return Array(0..<count) }
    // Coordinates of every system.
    var coordinates = [[Double]](repeating: [Double](repeating: 0, count: c), count: count)
    for i in 0..<count {
      for (a, d) in directions.enumerated() {
        var t = 0.0
        for j in 0..<length { t += (f[i][j] - mean[j]) * d[j] }
        coordinates[i][a] = t
      }
    }
    // Quantize each axis to `bits` bits and sort by Hilbert index (ties by index).
    let bits = max(1, min(20, 62 / c))
    let levels = Double((1 << bits) - 1)
    var lower = [Double](repeating: .infinity, count: c)
    var upper = [Double](repeating: -.infinity, count: c)
    for p in coordinates {
      for a in 0..<c {
        lower[a] = min(lower[a], p[a])
        upper[a] = max(upper[a], p[a])
      }
    }
    var keys: [(key: UInt64, index: Int)] = []
    keys.reserveCapacity(count)
    for (i, p) in coordinates.enumerated() {
      var axes = [UInt64](repeating: 0, count: c)
      for a in 0..<c {
        let span = upper[a] - lower[a]
        let u = span > 0 ? (p[a] - lower[a]) / span : 0
        axes[a] = UInt64((u * levels).rounded())
      }
      keys.append((hilbertIndex(axes, bits: bits), i))
    }
    keys.sort { $0.key < $1.key || ($0.key == $1.key && $0.index < $1.index) }
    return keys.map(\.index)
  }

  /// Hilbert index of a point with `bits`-bit coordinates in c dimensions (Skilling 2004: axes to
  /// transposed index, then bit interleaving, most significant bit first).
  static func hilbertIndex(_ point: [UInt64], bits: Int) -> UInt64 {
    var x = point
    let c = x.count
    let top: UInt64 = 1 << (bits - 1)
    // Inverse undo.
    var q = top
    while q > 1 {
      let p = q - 1
      for i in 0..<c {
        if x[i] & q != 0 {
          x[0] ^= p
        } else {
          let t = (x[0] ^ x[i]) & p
          x[0] ^= t
          x[i] ^= t
        }
      }
      q >>= 1
    }
    // Gray encode.
    for i in 1..<max(1, c) { x[i] ^= x[i - 1] }
    var t: UInt64 = 0
    q = top
    while q > 1 {
      if x[c - 1] & q != 0 { t ^= q - 1 }
      q >>= 1
    }
    for i in 0..<c { x[i] ^= t }
    // Interleave.
    var key: UInt64 = 0
    for b in stride(from: bits - 1, through: 0, by: -1) {
      for i in 0..<c { key = (key << 1) | ((x[i] >> UInt64(b)) & 1) }
    }
    return key
  }
}
