// Fast Fourier transforms through FFTW 3 (Frigo & Johnson, "The Design and Implementation of
// FFTW3", Proc. IEEE 93(2), 2005), batched with the advanced `plan_many` interface.
//
// Conventions (the same as numpy.fft and FFTW):
//   forward  X[k] = Σ_n x[n] · exp(−2πi k·n / N)       (sign −1)
//   inverse  x[n] = Σ_k X[k] · exp(+2πi k·n / N) · s
// with the scale s chosen by `FFTNormalization`: `.backward` (default) puts 1/N on the inverse,
// `.forward` puts 1/N on the forward transform, `.ortho` puts 1/√N on both. N is the product of
// the transformed extents. Transforms act on the trailing `rank` axes of an array; all leading
// axes are a batch. Real-to-complex output keeps the last axis at n/2 + 1 (Hermitian half).
//
// Thread safety: FFTW's planner is not thread-safe, so every plan creation and destruction runs
// under one process-wide lock; executing a plan on new arrays (fftw_execute_dft_*) is thread-safe
// and runs without the lock. Plans are cached by (shape, batch, kind, precision, threads, rigor,
// alignment) and reused for the life of the process.
import CFFTW
import Foundation

/// Where the 1/N factor of a transform pair goes (numpy's `norm=` argument).
public enum FFTNormalization: Sendable {
  /// Forward unscaled, inverse scaled by 1/N (numpy, FFTW-with-rescale default).
  case backward
  /// Forward scaled by 1/N, inverse unscaled (neuraloperator's spectral convolution).
  case forward
  /// Both scaled by 1/√N (unitary).
  case ortho
}

/// How hard FFTW searches for a fast plan. `.measure` times candidate algorithms once per shape
/// (milliseconds to seconds) and is the right choice for transforms repeated many times.
public enum FFTRigor: Sendable, Hashable {
  case estimate, measure, patient
  var flag: UInt32 {
    switch self {
    case .estimate: return UInt32(FFTW_ESTIMATE)
    case .measure: return UInt32(FFTW_MEASURE)
    case .patient: return UInt32(FFTW_PATIENT)
    }
  }
}

/// The transform a plan computes.
public enum FFTKind: Sendable, Hashable {
  /// Real input → Hermitian-half complex output (last axis n/2 + 1).
  case realToComplex
  /// Hermitian-half complex input → real output. **Destroys its input** (an FFTW restriction for
  /// multi-dimensional c2r); the `FFT.irfft` convenience function protects the caller's array.
  case complexToReal
  /// Complex → complex, sign −1.
  case forward
  /// Complex → complex, sign +1 (unscaled).
  case backward
}

struct FFTPlanKey: Hashable {
  var shape: [Int]
  var batch: Int
  var kind: FFTKind
  var single: Bool
  var threads: Int
  var rigor: FFTRigor
  var aligned: Bool
}

/// The process-wide FFTW planner lock and plan cache.
enum FFTWPlanner {
  struct State {
    var threadsInitialized = false
    var cache: [FFTPlanKey: AnyObject] = [:]
  }
  static let state = Locked(State())

  /// Runs `body` holding the FFTW planner lock. Use for any FFTW call other than plan execution.
  static func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
    try state.withLock { try body(&$0) }
  }
}

/// Global FFT settings and the high-level transforms on `NDArray`.
public enum FFT {
  /// Threads FFTW uses for each plan created from now on (default 1). Keep FFT threads ×
  /// worker threads ≤ cores.
  public static var defaultThreads: Int {
    get { _defaults.withLock { $0.threads } }
    set { _defaults.withLock { $0.threads = max(1, newValue) } }
  }
  /// Planner rigor for plans created by the convenience functions (default `.measure`).
  public static var defaultRigor: FFTRigor {
    get { _defaults.withLock { $0.rigor } }
    set { _defaults.withLock { $0.rigor = newValue } }
  }
  static let _defaults = Locked((threads: 1, rigor: FFTRigor.measure))

  /// FFTW's version string, e.g. "fftw-3.3.10-sse2-avx".
  public static var fftwVersion: String {
    // `fftw_version` is a C array of unknown size, which Swift cannot import; look it up instead.
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fftw_version") else { return "unknown" }
    return String(cString: sym.assumingMemoryBound(to: CChar.self))
  }

  /// Number of plans currently cached.
  public static var cachedPlanCount: Int { FFTWPlanner.withLock { $0.cache.count } }

  static func scale(norm: FFTNormalization, inverse: Bool, n: Int) -> Double {
    switch (norm, inverse) {
    case (.backward, false), (.forward, true): return 1
    case (.backward, true), (.forward, false): return 1 / Double(n)
    case (.ortho, _): return 1 / Double(n).squareRoot()
    }
  }

  static func split(_ shape: [Int], rank: Int, what: String) throws -> (batch: Int, dims: [Int]) {
    guard (1...3).contains(rank) else {
      throw NumericsError.invalidArgument("\(what): transform rank must be 1, 2 or 3, got \(rank)")
    }
    guard shape.count >= rank else {
      throw NumericsError.shapeMismatch("\(what): array of shape \(shape) has fewer than \(rank) axes")
    }
    let dims = Array(shape.suffix(rank))
    guard dims.allSatisfy({ $0 > 0 }) else {
      throw NumericsError.invalidArgument("\(what): transformed extents must be positive, got \(dims)")
    }
    return (shape.dropLast(rank).reduce(1, *), dims)
  }

  /// Real-to-complex transform over the trailing `rank` axes (numpy `rfftn` over those axes).
  /// Output shape: leading axes unchanged, transformed axes unchanged except the last, n → n/2+1.
  public static func rfft<T: RealScalar>(_ x: NDArray<T>, rank: Int, norm: FFTNormalization = .backward) throws
    -> NDArray<Complex<T>>
  {
    let (batch, dims) = try split(x.shape, rank: rank, what: "rfft")
    var outShape = x.shape
    outShape[outShape.count - 1] = dims[rank - 1] / 2 + 1
    let plan = try FFTPlan<T>(.realToComplex, shape: dims, batch: batch)
    var out = NDArray<Complex<T>>(shape: outShape, repeating: .zero)
    x.withUnsafeBufferPointer { xp in
      out.withUnsafeMutableBufferPointer { op in
        plan.execute(UnsafeRawPointer(xp.baseAddress!), UnsafeMutableRawPointer(op.baseAddress!))
        scaleComplex(op, by: scale(norm: norm, inverse: false, n: dims.reduce(1, *)))
      }
    }
    return out
  }

  /// Complex-to-real inverse of `rfft`: `lastAxisSize` is the real length n of the last axis
  /// (the input's last axis must be n/2+1). The argument is consumed: pass it as a last use and
  /// its storage is reused as FFTW's scratch; otherwise it is copied first, never modified.
  public static func irfft<T: RealScalar>(
    _ x: consuming NDArray<Complex<T>>, lastAxisSize: Int, rank: Int, norm: FFTNormalization = .backward
  ) throws -> NDArray<T> {
    var spectrum = x
    let (batch, cdims) = try split(spectrum.shape, rank: rank, what: "irfft")
    guard cdims[rank - 1] == lastAxisSize / 2 + 1 else {
      throw NumericsError.shapeMismatch(
        "irfft: last axis holds \(cdims[rank - 1]) coefficients, but a real length of \(lastAxisSize) needs \(lastAxisSize / 2 + 1)"
      )
    }
    var dims = cdims
    dims[rank - 1] = lastAxisSize
    var outShape = spectrum.shape
    outShape[outShape.count - 1] = lastAxisSize
    let plan = try FFTPlan<T>(.complexToReal, shape: dims, batch: batch)
    var out = NDArray<T>(shape: outShape, repeating: 0)
    spectrum.withUnsafeMutableBufferPointer { sp in
      out.withUnsafeMutableBufferPointer { op in
        plan.execute(UnsafeRawPointer(sp.baseAddress!), UnsafeMutableRawPointer(op.baseAddress!))
        let s = T(scale(norm: norm, inverse: true, n: dims.reduce(1, *)))
        if s != 1 { BLAS.scal(s, op) }
      }
    }
    return out
  }

  /// Complex-to-complex transform over the trailing `rank` axes; `inverse` selects sign +1 and
  /// the inverse scaling of `norm`.
  public static func fft<T: RealScalar>(
    _ x: NDArray<Complex<T>>, rank: Int, inverse: Bool = false, norm: FFTNormalization = .backward
  ) throws -> NDArray<Complex<T>> {
    let (batch, dims) = try split(x.shape, rank: rank, what: "fft")
    let plan = try FFTPlan<T>(inverse ? .backward : .forward, shape: dims, batch: batch)
    var out = NDArray<Complex<T>>(shape: x.shape, repeating: .zero)
    x.withUnsafeBufferPointer { xp in
      out.withUnsafeMutableBufferPointer { op in
        plan.execute(UnsafeRawPointer(xp.baseAddress!), UnsafeMutableRawPointer(op.baseAddress!))
        scaleComplex(op, by: scale(norm: norm, inverse: inverse, n: dims.reduce(1, *)))
      }
    }
    return out
  }

  static func scaleComplex<T: RealScalar>(_ p: UnsafeMutableBufferPointer<Complex<T>>, by s: Double) {
    guard s != 1, let base = p.baseAddress else { return }
    let reals = UnsafeMutableRawPointer(base).assumingMemoryBound(to: T.self)
    BLAS.scal(T(s), UnsafeMutableBufferPointer(start: reals, count: 2 * p.count))
  }
}

/// A reusable FFTW plan for a batch of equal-shape transforms, Float or Double.
///
/// ```
/// let plan = try FFTPlan<Float>(.realToComplex, shape: [128, 128], batch: 1024)
/// plan.execute(input, output)      // unnormalized; any alignment; thread-safe
/// ```
///
/// Plans are cached process-wide by (kind, shape, batch, precision, threads, rigor): constructing
/// the same plan twice returns the cached FFTW plan, so a loop may construct freely. `execute`
/// works on any buffers of the right sizes; buffers that are not 16-byte aligned like the planning
/// buffers use a second plan made with FFTW_UNALIGNED. Transforms are unnormalized.
public final class FFTPlan<T: RealScalar>: @unchecked Sendable {
  /// The transform computed.
  public let kind: FFTKind
  /// Logical (real-space) extents of one transform.
  public let shape: [Int]
  /// Number of transforms per execution.
  public let batch: Int
  /// Elements of T (real kinds) or Complex<T> (complex kinds) read per execution.
  public let inputCount: Int
  /// Elements written per execution.
  public let outputCount: Int
  let threads: Int
  let rigor: FFTRigor
  let handle: PlanHandle
  let unalignedHandle: PlanHandle

  /// Creates (or fetches from the cache) a plan. `threads` and `rigor` default to `FFT`'s settings.
  public init(_ kind: FFTKind, shape: [Int], batch: Int = 1, threads: Int? = nil, rigor: FFTRigor? = nil) throws {
    guard (1...3).contains(shape.count), shape.allSatisfy({ $0 > 0 }), batch >= 1 else {
      throw NumericsError.invalidArgument("FFTPlan: shape \(shape) (rank 1–3, positive) and batch \(batch) (≥ 1)")
    }
    self.kind = kind
    self.shape = shape
    self.batch = batch
    self.threads = threads ?? FFT.defaultThreads
    self.rigor = rigor ?? FFT.defaultRigor
    let n = shape.reduce(1, *)
    let half = shape.dropLast().reduce(1, *) * (shape.last! / 2 + 1)
    switch kind {
    case .realToComplex: (inputCount, outputCount) = (n * batch, half * batch)
    case .complexToReal: (inputCount, outputCount) = (half * batch, n * batch)
    case .forward, .backward: (inputCount, outputCount) = (n * batch, n * batch)
    }
    let key = FFTPlanKey(
      shape: shape, batch: batch, kind: kind, single: T.self == Float.self, threads: self.threads,
      rigor: self.rigor, aligned: true)
    handle = try PlanHandle.cached(key)
    var k2 = key
    k2.aligned = false
    unalignedHandle = try PlanHandle.cached(k2)
  }

  /// Runs the transform from `input` to `output` (distinct buffers of `inputCount` / `outputCount`
  /// elements). Thread-safe. `.complexToReal` overwrites `input`.
  @inlinable
  public func execute(_ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer) {
    _execute(input, output)
  }

  @usableFromInline func _execute(_ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer) {
    let inM = UnsafeMutableRawPointer(mutating: input)
    let single = T.self == Float.self
    let aligned =
      single
      ? fftwf_alignment_of(inM.assumingMemoryBound(to: Float.self)) == 0
        && fftwf_alignment_of(output.assumingMemoryBound(to: Float.self)) == 0
      : fftw_alignment_of(inM.assumingMemoryBound(to: Double.self)) == 0
        && fftw_alignment_of(output.assumingMemoryBound(to: Double.self)) == 0
    let h = aligned ? handle : unalignedHandle
    h.execute(kind: kind, single: single, inM, output)
  }
}

/// Owns one fftw(f)_plan; destroyed under the planner lock.
final class PlanHandle: @unchecked Sendable {
  let plan: OpaquePointer
  let single: Bool

  private init(plan: OpaquePointer, single: Bool) {
    self.plan = plan
    self.single = single
  }

  deinit {
    let (p, s) = (plan, single)
    FFTWPlanner.withLock { _ in if s { fftwf_destroy_plan(p) } else { fftw_destroy_plan(p) } }
  }

  static func cached(_ key: FFTPlanKey) throws -> PlanHandle {
    try FFTWPlanner.withLock { state in
      if let h = state.cache[key] as? PlanHandle { return h }
      if !state.threadsInitialized {
        _ = fftw_init_threads()
        _ = fftwf_init_threads()
        state.threadsInitialized = true
      }
      let plan = try make(key)
      let h = PlanHandle(plan: plan, single: key.single)
      state.cache[key] = h
      return h
    }
  }

  /// Creates the FFTW plan on scratch buffers (MEASURE overwrites them). Caller holds the lock.
  private static func make(_ key: FFTPlanKey) throws -> OpaquePointer {
    let rank = Int32(key.shape.count)
    var n = key.shape.map { Int32($0) }
    let real = key.shape.reduce(1, *)
    let half = key.shape.dropLast().reduce(1, *) * (key.shape.last! / 2 + 1)
    let howmany = Int32(key.batch)
    var flags = key.rigor.flag
    if !key.aligned { flags |= UInt32(FFTW_UNALIGNED) }
    let (inElems, outElems, idist, odist): (Int, Int, Int, Int)
    switch key.kind {
    case .realToComplex: (inElems, outElems, idist, odist) = (real, 2 * half, real, half)
    case .complexToReal: (inElems, outElems, idist, odist) = (2 * half, real, half, real)
    case .forward, .backward: (inElems, outElems, idist, odist) = (2 * real, 2 * real, real, real)
    }
    let scalar = key.single ? 4 : 8
    guard let inBuf = fftw_malloc(inElems * key.batch * scalar), let outBuf = fftw_malloc(outElems * key.batch * scalar)
    else { throw NumericsError.fftPlanFailed("out of memory for planning buffers") }
    defer {
      fftw_free(inBuf)
      fftw_free(outBuf)
    }
    let plan: OpaquePointer?
    let sign: Int32 = key.kind == .backward ? 1 : -1
    if key.single {
      fftwf_plan_with_nthreads(Int32(key.threads))
      let fi = inBuf.assumingMemoryBound(to: Float.self)
      let fo = outBuf.assumingMemoryBound(to: Float.self)
      switch key.kind {
      case .realToComplex:
        plan = fftwf_plan_many_dft_r2c(
          rank, &n, howmany, fi, nil, 1, Int32(idist), fc(outBuf), nil, 1, Int32(odist), flags)
      case .complexToReal:
        plan = fftwf_plan_many_dft_c2r(
          rank, &n, howmany, fc(inBuf), nil, 1, Int32(idist), fo, nil, 1, Int32(odist), flags)
      case .forward, .backward:
        plan = fftwf_plan_many_dft(
          rank, &n, howmany, fc(inBuf), nil, 1, Int32(idist), fc(outBuf), nil, 1, Int32(odist), sign,
          flags)
      }
    } else {
      fftw_plan_with_nthreads(Int32(key.threads))
      let di = inBuf.assumingMemoryBound(to: Double.self)
      let dout = outBuf.assumingMemoryBound(to: Double.self)
      switch key.kind {
      case .realToComplex:
        plan = fftw_plan_many_dft_r2c(
          rank, &n, howmany, di, nil, 1, Int32(idist), dc(outBuf), nil, 1, Int32(odist), flags)
      case .complexToReal:
        plan = fftw_plan_many_dft_c2r(
          rank, &n, howmany, dc(inBuf), nil, 1, Int32(idist), dout, nil, 1, Int32(odist), flags)
      case .forward, .backward:
        plan = fftw_plan_many_dft(
          rank, &n, howmany, dc(inBuf), nil, 1, Int32(idist), dc(outBuf), nil, 1, Int32(odist),
          sign, flags)
      }
    }
    guard let p = plan else {
      throw NumericsError.fftPlanFailed("\(key.kind) of shape \(key.shape) × batch \(key.batch)")
    }
    return p
  }

  @inline(__always)
  func execute(kind: FFTKind, single: Bool, _ i: UnsafeMutableRawPointer, _ o: UnsafeMutableRawPointer) {
    if single {
      switch kind {
      case .realToComplex:
        fftwf_execute_dft_r2c(plan, i.assumingMemoryBound(to: Float.self), fc(o))
      case .complexToReal:
        fftwf_execute_dft_c2r(plan, fc(i), o.assumingMemoryBound(to: Float.self))
      case .forward, .backward:
        fftwf_execute_dft(plan, fc(i), fc(o))
      }
    } else {
      switch kind {
      case .realToComplex:
        fftw_execute_dft_r2c(plan, i.assumingMemoryBound(to: Double.self), dc(o))
      case .complexToReal:
        fftw_execute_dft_c2r(plan, dc(i), o.assumingMemoryBound(to: Double.self))
      case .forward, .backward:
        fftw_execute_dft(plan, dc(i), dc(o))
      }
    }
  }
}

@inline(__always) private func fc(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<fftwf_complex> {
  p.assumingMemoryBound(to: fftwf_complex.self)
}
@inline(__always) private func dc(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<fftw_complex> {
  p.assumingMemoryBound(to: fftw_complex.self)
}
