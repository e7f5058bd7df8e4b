// Uniform tensor grids on the unit interval, square and cube: where the unknowns of PDEKit's
// finite-difference and finite-volume discretizations live. The four layouts are the standard
// ones of LeVeque, "Finite Difference Methods for Ordinary and Partial Differential Equations",
// SIAM 2007 (interior nodes for Dirichlet, ch. 2–3; all nodes with ghost points for Neumann or
// Robin data, §2.12; periodic nodes as for its periodic advection problems) and Eymard, Gallouët
// & Herbin, "Finite Volume Methods", Handbook of Numerical Analysis VII, 2000 (cell centres).
import Foundation

/// A uniform grid with the same number of points on each axis of the unit interval/square/cube.
///
/// ```
/// let g = try UniformGrid(dimension: 2, pointsPerAxis: 31, layout: .interiorNodes)  // h = 1/32
/// g.shape            // [31, 31], slowest axis first
/// let f = g.sample { p in sin(.pi * p[0]) * sin(.pi * p[1]) }   // row-major grid function
/// ```
///
/// | layout          | coordinate of index i | spacing h  | used by                              |
/// |-----------------|-----------------------|------------|--------------------------------------|
/// | `interiorNodes` | (i + 1)·h             | 1/(N + 1)  | Dirichlet finite differences         |
/// | `cellCentres`   | (i + ½)·h             | 1/N        | finite volumes (Darcy, heat, Neumann)|
/// | `periodicNodes` | i·h                   | 1/N        | periodic (x = 1 is x = 0)            |
/// | `allNodes`      | i·h                   | 1/(N − 1)  | Robin boundaries (Helmholtz)         |
public struct UniformGrid: Sendable, Equatable, CustomStringConvertible {
  /// Where the N points of an axis sit in [0, 1].
  public enum Layout: String, Sendable, Codable, CaseIterable {
    /// Vertex-centred, boundary nodes excluded: x_i = (i+1)h, h = 1/(N+1).
    case interiorNodes
    /// Cell-centred: x_i = (i+½)h, h = 1/N; cell i is [ih, (i+1)h].
    case cellCentres
    /// Periodic nodes: x_i = ih, h = 1/N (the node at 1 is the node at 0).
    case periodicNodes
    /// Vertex-centred, boundary nodes included: x_i = ih, h = 1/(N−1).
    case allNodes
  }

  /// Number of axes, 1 to 3.
  public let dimension: Int
  /// Points per axis, N ≥ 2.
  public let pointsPerAxis: Int
  /// Where the points sit.
  public let layout: Layout

  /// A grid of `pointsPerAxis`^`dimension` points. Throws `DiscretizationError.invalidGrid` unless
  /// 1 ≤ dimension ≤ 3, pointsPerAxis ≥ 2 and the point count fits Int32 indexing.
  public init(dimension: Int, pointsPerAxis: Int, layout: Layout) throws {
    guard (1...3).contains(dimension) else {
      throw DiscretizationError.invalidGrid("dimension \(dimension) is not 1, 2 or 3")
    }
    guard pointsPerAxis >= 2 else {
      throw DiscretizationError.invalidGrid("\(pointsPerAxis) points per axis; at least 2 are needed")
    }
    let total = (0..<dimension).reduce(1.0) { acc, _ in acc * Double(pointsPerAxis) }
    guard total * 8 < Double(Int32.max) else {
      throw DiscretizationError.invalidGrid(
        "\(pointsPerAxis)^\(dimension) points exceed the Int32 index limit of the sparse matrices")
    }
    self.dimension = dimension
    self.pointsPerAxis = pointsPerAxis
    self.layout = layout
  }

  /// Grid spacing h.
  public var spacing: Double {
    switch layout {
    case .interiorNodes: return 1 / Double(pointsPerAxis + 1)
    case .cellCentres, .periodicNodes: return 1 / Double(pointsPerAxis)
    case .allNodes: return 1 / Double(pointsPerAxis - 1)
    }
  }

  /// Points per axis, slowest axis first.
  public var shape: [Int] { [Int](repeating: pointsPerAxis, count: dimension) }

  /// Total number of points.
  public var count: Int { shape.reduce(1, *) }

  /// Row-major stride of `axis` (axis 0 is the slowest).
  public func axisStride(_ axis: Int) -> Int {
    var s = 1
    for _ in (axis + 1)..<dimension { s *= pointsPerAxis }
    return s
  }

  /// The coordinate of index `i` along any axis.
  @inlinable public func coordinate(_ i: Int) -> Double {
    let h = spacing
    switch layout {
    case .interiorNodes: return Double(i + 1) * h
    case .cellCentres: return (Double(i) + 0.5) * h
    case .periodicNodes, .allNodes: return Double(i) * h
    }
  }

  /// The coordinates of the points along one axis.
  public var axisCoordinates: [Double] { (0..<pointsPerAxis).map(coordinate) }

  /// The multi-index (slowest axis first) of linear index `p`.
  public func index(_ p: Int) -> [Int] {
    var idx = [Int](repeating: 0, count: dimension)
    var r = p
    for a in stride(from: dimension - 1, through: 0, by: -1) {
      idx[a] = r % pointsPerAxis
      r /= pointsPerAxis
    }
    return idx
  }

  /// The coordinates of linear index `p`.
  public func point(_ p: Int) -> [Double] { index(p).map(coordinate) }

  /// Evaluates `f` at every point, in row-major order (the layout of every field in this module).
  public func sample(_ f: ([Double]) throws -> Double) rethrows -> [Double] {
    var out = [Double]()
    out.reserveCapacity(count)
    var pt = [Double](repeating: coordinate(0), count: dimension)
    var idx = [Int](repeating: 0, count: dimension)
    for _ in 0..<count {
      out.append(try f(pt))
      advance(&idx, &pt)
    }
    return out
  }

  /// Advances a row-major multi-index (and its coordinates) by one point.
  @inline(__always) func advance(_ idx: inout [Int], _ pt: inout [Double]) {
    var a = dimension - 1
    while a >= 0 {
      idx[a] += 1
      if idx[a] < pointsPerAxis {
        pt[a] = coordinate(idx[a])
        return
      }
      idx[a] = 0
      pt[a] = coordinate(0)
      a -= 1
    }
  }

  /// Advances a row-major multi-index by one point.
  @inline(__always) func advance(_ idx: inout [Int]) {
    var a = dimension - 1
    while a >= 0 {
      idx[a] += 1
      if idx[a] < pointsPerAxis { return }
      idx[a] = 0
      a -= 1
    }
  }

  public var description: String {
    "\(shape.map(String.init).joined(separator: "×")) \(layout.rawValue) grid on \(unitDomain(dimension)), h = \(spacing)"
  }
}
