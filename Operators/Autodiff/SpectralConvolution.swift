// FFT-based spectral convolution on the tape: the kernel integral operator of the Fourier neural
// operator (Li et al., "Fourier Neural Operator for Parametric Partial Differential Equations",
// ICLR 2021), with neuraloperator's mode selection and normalization
// (neuralop/layers/spectral_convolution.py, `SpectralConv.forward`, dense weights):
//
//   1. X = rfftn(x, norm="forward") over the d trailing axes (1/N on the forward transform);
//   2. keep a centred block of modes: on every axis but the last, K modes with frequencies
//      −K/2 … K − K/2 − 1 (neuraloperator's fftshift + centre slice); on the last axis the
//      non-negative frequencies 0 … K_d/2 (the Hermitian half);
//   3. Y[b, o, k] = Σᵢ X[b, i, k] · W[i, o, k]       ("bixy,ioxy->boxy"), into a zero spectrum;
//   4. y = irfftn(Y, s = input size, norm="forward") (unscaled inverse), plus a bias per channel
//      (added to the zero frequency of Y, which is the same as adding it to y).
//
// Each kept coefficient is returned to its own frequency (the inverse of the shift is
// `ifftshift`, as in neuraloperator after 2.0.0; 2.0.0 applies `fftshift` again, which is the
// same for even sizes and moves the block by one frequency for odd sizes). When a grid is
// smaller than the stored modes, the weight block is sliced as neuraloperator slices it
// (centrally on the leading axes, from the start on the last).
//
// Steps 1 and 4 run either as full FFTW transforms (any d) or, for d ≤ 2 when it is cheaper (the
// usual FNO case: 12 × 7 kept modes of a 64² grid), as a pruned DFT by two gemms that computes only
// the kept modes (Numerics' `PrunedRealDFT`); both give the same values to rounding.
//
// Complex arithmetic runs as real gemms: with G = [Re X | Im X] (rows b, 2·Cin columns) and
//   Wb = [[Re W, Im W], [−Im W, Re W]]   (2·Cin × 2·Cout)
// G·Wb = [Re Y | Im Y], one gemm per kept mode. The pullbacks use the adjoint identities
//   irfftn:  ∂Z_k = c_k · rfftn_unscaled(ḡ)_k                      (c_k = 1 on the last axis's 0 and
//   rfftn:   ∂x   = irfftn_unscaled(Ḡ_k / c_k)                      Nyquist columns, 2 elsewhere)
// where complex cotangents pack (∂/∂Re, ∂/∂Im) as Re + i·Im.
import Numerics

/// Index maps between the kept Fourier modes of one grid and the spectrum and weight layouts.
struct SpectralModeMap: Sendable {
  /// Real-space extents of the transformed axes.
  let spatial: [Int]
  /// Π spatial.
  let realCount: Int
  /// Elements of one Hermitian-half spectrum: Π_{a<d} N_a · (N_d/2 + 1).
  let halfCount: Int
  /// Stored weight mode extents: (K₁, …, K_{d−1}, K_d/2 + 1).
  let weightModes: [Int]
  /// Π weightModes.
  let weightModeCount: Int
  /// Offset of kept mode m in one half spectrum.
  let spectrum: [Int]
  /// Offset of kept mode m in one weight mode block.
  let weight: [Int]
  /// Multiplicity of kept mode m in the real inverse transform: 1 or 2.
  let multiplicity: [Int]
  /// Per axis, the spectrum index of each kept frequency (the kept modes are their product,
  /// last axis fastest).
  let keptIndices: [[Int]]

  var modeCount: Int { spectrum.count }

  /// Index of the zero frequency among the kept modes (always kept: every axis keeps frequency 0).
  var zeroFrequencyMode: Int { spectrum.firstIndex(of: 0)! }

  static func weightModes(_ modes: [Int]) -> [Int] { modes.dropLast() + [modes.last! / 2 + 1] }

  init(spatial: [Int], modes: [Int]) {
    precondition(
      spatial.count == modes.count && (1...3).contains(modes.count),
      "spectral convolution: \(modes.count) mode counts for \(spatial.count) spatial axes")
    precondition(modes.allSatisfy { $0 >= 1 }, "spectral convolution: mode counts must be positive, got \(modes)")
    let d = spatial.count
    self.spatial = spatial
    realCount = spatial.reduce(1, *)
    let half = spatial.dropLast() + [spatial[d - 1] / 2 + 1]
    halfCount = half.reduce(1, *)
    weightModes = Self.weightModes(modes)
    weightModeCount = weightModes.reduce(1, *)
    // Per axis: (spectrum index, weight index) of each kept mode.
    var axes: [[(s: Int, w: Int)]] = []
    for a in 0..<d {
      let n = spatial[a]
      let cap = weightModes[a]
      if a < d - 1 {
        let k = min(n, cap)
        axes.append((0..<k).map { j in ((j - k / 2 + n) % n, (cap - k) / 2 + j) })
      } else {
        let k = min(n / 2 + 1, cap)
        axes.append((0..<k).map { j in (j, j) })
      }
    }
    keptIndices = axes.map { $0.map(\.s) }
    let specStrides = contiguousStrides(Array(half))
    let weightStrides = contiguousStrides(weightModes)
    var spectrum: [Int] = []
    var weight: [Int] = []
    var multiplicity: [Int] = []
    let total = axes.map(\.count).reduce(1, *)
    spectrum.reserveCapacity(total)
    var counter = [Int](repeating: 0, count: d)
    let lastN = spatial[d - 1]
    for _ in 0..<total {
      var so = 0
      var wo = 0
      for a in 0..<d {
        so += axes[a][counter[a]].s * specStrides[a]
        wo += axes[a][counter[a]].w * weightStrides[a]
      }
      let lastIndex = axes[d - 1][counter[d - 1]].s
      spectrum.append(so)
      weight.append(wo)
      multiplicity.append(lastIndex == 0 || (lastN % 2 == 0 && lastIndex == lastN / 2) ? 1 : 2)
      var a = d - 1
      while a >= 0 {
        counter[a] += 1
        if counter[a] < axes[a].count { break }
        counter[a] = 0
        a -= 1
      }
    }
    self.spectrum = spectrum
    self.weight = weight
    self.multiplicity = multiplicity
  }
}

/// What a pruned DFT's matrices depend on.
private struct PrunedDFTKey: Hashable, Sendable {
  let single: Bool
  let rows: Int
  let columns: Int
  let rowFrequencies: [Int]
  let keptColumns: Int
}

/// Pruned DFTs already built: their cos/sin matrices depend only on the grid and the kept modes,
/// and were rebuilt on every spectral convolution (every layer, slice and pass).
private let prunedDFTs = MemoTable<PrunedDFTKey>()

/// The pruned DFT for these modes with scale 1/(N₁·N₂), from the memo table when built before.
private func cachedPrunedDFT<T: RealScalar>(
  rows: Int, columns: Int, rowFrequencies: [Int], keptColumns: Int, fields realCount: Int
) -> PrunedRealDFT<T> {
  let key = PrunedDFTKey(
    single: T.self == Float.self, rows: rows, columns: columns, rowFrequencies: rowFrequencies, keptColumns: keptColumns
  )
  return prunedDFTs.value(key) {
    PrunedRealDFT<T>(
      rows: rows, columns: columns, rowFrequencies: rowFrequencies, keptColumns: keptColumns,
      scale: T(1) / T(realCount))
  }
}

/// Runs `body(first, count)` on consecutive chunks of at most 32 of `fields` fields, the chunks
/// split between the cores with BLAS single-threaded (``tileParallel(_:workers:_:)``). The pruned
/// DFT's gemm shapes then depend only on the field count, not on the thread count or on BLAS's
/// process-wide setting at the moment of the call, so its rounding does not either.
func fieldChunks(_ fields: Int, _ body: @Sendable (_ first: Int, _ count: Int) -> Void) {
  let chunk = 32
  let chunks = (fields + chunk - 1) / chunk
  guard chunks > 0 else { return }
  tileParallel(chunks, workers: batchWorkers(chunks)) { _, range in
    for k in range { body(k * chunk, Swift.min(chunk, fields - k * chunk)) }
  }
}

/// A cached FFTW plan for `batch` transforms of `shape`, with ``FFT/defaultThreads`` threads but
/// no more than ``BLAS/threadCount`` (one inside a worker of a batch-sliced step).
func fftPlan<T: RealScalar>(_ kind: FFTKind, _ shape: [Int], batch: Int) -> FFTPlan<T> {
  do {
    return try FFTPlan<T>(kind, shape: shape, batch: batch, threads: min(FFT.defaultThreads, BLAS.threadCount))
  } catch {
    preconditionFailure("spectral convolution: \(error)")
  }
}

/// Shape of the stored weight of a spectral convolution: `[in, out, K₁, …, K_{d−1}, K_d/2 + 1, 2]`
/// (complex entries as real/imaginary pairs, as `torch.view_as_real`).
public func spectralWeightShape(inChannels: Int, outChannels: Int, modes: [Int]) -> [Int] {
  [inChannels, outChannels] + SpectralModeMap.weightModes(modes) + [2]
}

/// How a spectral convolution computes the kept modes: which transform, chosen per call.
public enum SpectralTransform: Sendable, Hashable {
  /// The pruned DFT by gemms where it is cheaper (1D and 2D, few modes against the grid), FFTW
  /// otherwise.
  case automatic
  /// Full FFTW transforms of every field (any dimension).
  case fft
  /// The pruned DFT by gemms (1D and 2D only; 3D falls back to FFTW).
  case prunedDFT
}

/// Spectral convolution of `x` with complex weights stored as real/imaginary pairs.
///
/// ```
/// x:      [B, Cin, n₁, …, n_d]                        d = 1, 2, 3
/// weight: [Cin, Cout, K₁, …, K_{d−1}, K_d/2 + 1, 2]   modes = (K₁, …, K_d)
/// bias:   [Cout, 1, …, 1]  (d ones), optional
/// y:      [B, Cout, n₁, …, n_d]
///
/// X = rfftn(x, norm: forward)                 X[k] = (1/N) Σₙ x[n] e^{−2πi k·n/N}
/// Y[b, o, k] = Σᵢ X[b, i, k] · W[i, o, k]     k in the kept block, 0 elsewhere
/// y = irfftn(Y, s: (n₁, …, n_d), norm: forward) + bias
/// ```
///
/// Kept frequencies on axis a < d: −K_a/2 … K_a − K_a/2 − 1 (with K_a capped at n_a); on the
/// last axis: 0 … K_d/2 (capped at n_d/2). The output has the input's grid, so the same weights
/// evaluate on any resolution (zero-shot super-resolution). The pullback gives cotangents for
/// `x`, `weight` and `bias`. `transform` picks how the kept modes are computed (the results agree
/// to rounding); the default takes the faster one for the shape.
@specialized(where T == Float)
@specialized(where T == Double)
public func spectralConvolution<T: RealScalar>(
  _ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>? = nil, modes: [Int], transform: SpectralTransform = .automatic
) -> Tensor<T> {
  let d = modes.count
  precondition(x.rank == d + 2, "spectralConvolution: input \(x.shape) needs [batch, channels] + \(d) spatial axes")
  let (batch, cin) = (x.shape[0], x.shape[1])
  precondition(
    weight.rank == d + 3 && weight.shape[0] == cin && weight.shape.last == 2,
    "spectralConvolution: weight \(weight.shape) is not [\(cin), out] + modes + [2]")
  let cout = weight.shape[1]
  precondition(
    weight.shape == spectralWeightShape(inChannels: cin, outChannels: cout, modes: modes),
    "spectralConvolution: weight \(weight.shape) does not match modes \(modes)")
  if let bias { precondition(bias.count == cout, "spectralConvolution: bias \(bias.shape) needs \(cout) entries") }
  let spatial = Array(x.shape.dropFirst(2))
  let map = SpectralModeMap(spatial: spatial, modes: modes)
  let modeTransform = KeptModeTransform<T>(map: map, choice: transform)
  let m = map.modeCount
  let kc = map.weightModeCount

  // 1–2. Kept modes of the input, X/N: G [M, B, 2·Cin].
  let gatheredModes = modeTransform.analyze(x.value, channels: cin, batch: batch)

  // 3. Block weights Wb [M, 2·Cin, 2·Cout] and one gemm per mode: Y [M, B, 2·Cout].
  let blocks = blockWeights(weight.value, cin: cin, cout: cout, weightModeCount: kc, map: map)
  var products: NDArray<T> = uninitializedArray([m, batch, 2 * cout])
  gatheredModes.withUnsafeBufferPointer { gp in
    blocks.withUnsafeBufferPointer { wp in
      products.withUnsafeMutableBufferPointer { yp in
        BLAS.gemmStridedBatched(
          .none, .none, m: batch, n: 2 * cout, k: 2 * cin, alpha: 1, a: gp.baseAddress!, lda: 2 * cin,
          strideA: batch * 2 * cin, b: wp.baseAddress!, ldb: 2 * cout, strideB: 4 * cin * cout, beta: 0,
          c: yp.baseAddress!, ldc: 2 * cout, strideC: batch * 2 * cout, batch: m)
      }
    }
  }

  // 4. Unscaled inverse transform of the kept modes (zero elsewhere). A constant is the zero
  // frequency's contribution to the unscaled inverse (multiplicity 1, phase 0), so the bias is
  // added to Re Y at the zero frequency, which is always kept, instead of in a pass over y.
  let zeroMode = map.zeroFrequencyMode
  if let bias {
    bias.value.withUnsafeBufferPointer { bp in
      products.withUnsafeMutableBufferPointer { yp in
        for b in 0..<batch {
          let row = yp.baseAddress! + (zeroMode * batch + b) * 2 * cout
          for c in 0..<cout { row[c] += bp[c] }
        }
      }
    }
  }
  let y = modeTransform.synthesize(products, channels: cout, batch: batch)

  var inputs = [x, weight]
  if let bias { inputs.append(bias) }
  let gathered = consume gatheredModes
  let xShape = x.shape
  let weightShape = weight.shape
  let biasShape = bias?.shape
  return Tensor.record(y, inputs) { g, need in
    var result: [NDArray<T>?] = [nil, nil]
    let needBias = biasShape != nil && need[2]
    if biasShape != nil { result.append(nil) }
    guard need[0] || need[1] || needBias else { return result }
    // ∂Y = the adjoint of step 4 applied to ḡ, at the kept modes: dY [M, B, 2·Cout].
    let dY = modeTransform.synthesizeAdjoint(g, channels: cout, batch: batch)
    if needBias, let biasShape {
      // ∂bias[o] = Σ_{b, points} ḡ = Σ_b Re ∂Y at the zero frequency.
      result[2] = dY.withUnsafeBufferPointer { dp in
        NDArray<T>(shape: biasShape) { bp in
          for o in 0..<cout {
            var acc = 0.0
            for b in 0..<batch { acc += Double(dp[(zeroMode * batch + b) * 2 * cout + o]) }
            bp[o] = T(acc)
          }
        }
      }
    }
    guard need[0] || need[1] else { return result }
    if need[1] {
      // ∂Wb[k] = G[k]ᵀ · ∂Y[k], folded back to (Re W, Im W).
      var dBlocks: NDArray<T> = uninitializedArray([m, 2 * cin, 2 * cout])
      gathered.withUnsafeBufferPointer { gp in
        dY.withUnsafeBufferPointer { dp in
          dBlocks.withUnsafeMutableBufferPointer { wp in
            BLAS.gemmStridedBatched(
              .transpose, .none, m: 2 * cin, n: 2 * cout, k: batch, alpha: 1, a: gp.baseAddress!, lda: 2 * cin,
              strideA: batch * 2 * cin, b: dp.baseAddress!, ldb: 2 * cout, strideB: batch * 2 * cout, beta: 0,
              c: wp.baseAddress!, ldc: 2 * cout, strideC: 4 * cin * cout, batch: m)
          }
        }
      }
      result[1] = foldBlockWeights(dBlocks, shape: weightShape, cin: cin, cout: cout, weightModeCount: kc, map: map)
    }
    if need[0] {
      // ∂G[k] = ∂Y[k] · Wb[k]ᵀ, then ∂x = the adjoint of steps 1–2.
      var dG: NDArray<T> = uninitializedArray([m, batch, 2 * cin])
      dY.withUnsafeBufferPointer { dp in
        blocks.withUnsafeBufferPointer { wp in
          dG.withUnsafeMutableBufferPointer { gp in
            BLAS.gemmStridedBatched(
              .none, .transpose, m: batch, n: 2 * cin, k: 2 * cout, alpha: 1, a: dp.baseAddress!, lda: 2 * cout,
              strideA: batch * 2 * cout, b: wp.baseAddress!, ldb: 2 * cout, strideB: 4 * cin * cout, beta: 0,
              c: gp.baseAddress!, ldc: 2 * cin, strideC: batch * 2 * cin, batch: m)
          }
        }
      }
      result[0] = modeTransform.analyzeAdjoint(dG, channels: cin, batch: batch).reshaped(xShape)
    }
    return result
  }
}

/// The transforms of a spectral convolution between fields [B, C, spatial…] and their kept modes
/// in the per-mode layout [M, B, 2·C] (real parts, then imaginary parts) of the mode gemms.
///
/// ```
/// analyze:            G = X/N at the kept modes                       (rfftn, norm forward)
/// synthesize:         y = irfftn_unscaled(Y at the kept modes, 0 elsewhere)
/// synthesizeAdjoint:  ∂Y = c_k · rfftn_unscaled(ḡ) at the kept modes  (c_k: 1 or 2, the c2r multiplicity)
/// analyzeAdjoint:     ∂x = irfftn_unscaled(∂G / (N c_k))
/// ```
///
/// FFTW transforms the whole half spectrum and the kept modes are gathered from it; the pruned DFT
/// computes only the kept block (its mode index is the block's own row-major index, the map's
/// mode order), with exact adjoints.
private struct KeptModeTransform<T: RealScalar> {
  let map: SpectralModeMap
  /// The pruned DFT, or nil for FFTW.
  let pruned: PrunedRealDFT<T>?

  init(map: SpectralModeMap, choice: SpectralTransform) {
    self.map = map
    let d = map.spatial.count
    let (rows, columns) = d == 1 ? (1, map.spatial[0]) : (d == 2 ? map.spatial[0] : 0, map.spatial[d - 1])
    let rowFrequencies = d == 1 ? [0] : map.keptIndices[0]
    let kept = map.keptIndices[d - 1].count
    let usePruned: Bool
    switch choice {
    case .fft: usePruned = false
    case .prunedDFT: usePruned = d <= 2
    case .automatic:
      usePruned =
        d <= 2
        && PrunedRealDFT<T>.isCheaperThanFFT(
          rows: rows, columns: columns, keptRows: rowFrequencies.count, keptColumns: kept)
    }
    pruned =
      usePruned
      ? cachedPrunedDFT(
        rows: rows, columns: columns, rowFrequencies: rowFrequencies, keptColumns: kept, fields: map.realCount)
      : nil
  }

  /// G [M, B, 2·C] = X/N at the kept modes of x [B, C, spatial…].
  func analyze(_ x: NDArray<T>, channels: Int, batch: Int) -> NDArray<T> {
    let (spectrum, stride, offsets, scale) = forwardModes(x, fields: batch * channels, scale: T(1) / T(map.realCount))
    return gather(spectrum, stride: stride, offsets: offsets, channels: channels, batch: batch) { _ in scale }
  }

  /// ∂Y [M, B, 2·C] from the cotangent g [B, C, spatial…] of the synthesis.
  func synthesizeAdjoint(_ g: NDArray<T>, channels: Int, batch: Int) -> NDArray<T> {
    if let pruned {
      var modes: NDArray<Complex<T>> = uninitializedArray([batch * channels * map.modeCount])
      g.withUnsafeBufferPointer { gp in
        modes.withUnsafeMutableBufferPointer { mp in
          let (gs, ms) = (
            SharedPointer(base: UnsafeMutablePointer(mutating: gp.baseAddress!)), SharedPointer(base: mp.baseAddress!)
          )
          fieldChunks(batch * channels) { f, n in
            pruned.synthesizeAdjoint(gs.base + f * map.realCount, fields: n, into: ms.base + f * map.modeCount)
          }
        }
      }
      return gather(modes, stride: map.modeCount, offsets: nil, channels: channels, batch: batch) { _ in 1 }
    }
    let (spectrum, stride, offsets, _) = forwardModes(g, fields: batch * channels, scale: 1)
    return gather(spectrum, stride: stride, offsets: offsets, channels: channels, batch: batch) {
      T(map.multiplicity[$0])
    }
  }

  /// y [B, C, spatial…] from per-mode values [M, B, 2·C].
  func synthesize(_ values: NDArray<T>, channels: Int, batch: Int) -> NDArray<T> {
    inverse(values, channels: channels, batch: batch, adjointOfAnalysis: false)
  }

  /// ∂x [B, C, spatial…] from ∂G [M, B, 2·C].
  func analyzeAdjoint(_ values: NDArray<T>, channels: Int, batch: Int) -> NDArray<T> {
    inverse(values, channels: channels, batch: batch, adjointOfAnalysis: true)
  }

  /// The kept modes of `fields` real fields (unscaled for FFTW, scaled by `scale` for the pruned
  /// DFT): the complex array, the stride between fields, the kept offsets in a field (nil: 0..<M)
  /// and the scale still to apply.
  private func forwardModes(_ x: NDArray<T>, fields: Int, scale: T) -> (
    NDArray<Complex<T>>, Int, [Int]?, T
  ) {
    if let pruned {
      var modes: NDArray<Complex<T>> = uninitializedArray([fields * map.modeCount])
      x.withUnsafeBufferPointer { xp in
        modes.withUnsafeMutableBufferPointer { mp in
          let (xs, ms) = (
            SharedPointer(base: UnsafeMutablePointer(mutating: xp.baseAddress!)), SharedPointer(base: mp.baseAddress!)
          )
          fieldChunks(fields) { f, n in
            pruned.analyze(xs.base + f * map.realCount, fields: n, into: ms.base + f * map.modeCount)
          }
        }
      }
      return (modes, map.modeCount, nil, scale / pruned.scale)
    }
    var spectrum: NDArray<Complex<T>> = uninitializedArray([fields * map.halfCount])
    let r2c: FFTPlan<T> = fftPlan(.realToComplex, map.spatial, batch: fields)
    x.withUnsafeBufferPointer { xp in
      spectrum.withUnsafeMutableBufferPointer { sp in
        r2c.execute(UnsafeRawPointer(xp.baseAddress!), UnsafeMutableRawPointer(sp.baseAddress!))
      }
    }
    return (spectrum, map.halfCount, map.spectrum, scale)
  }

  /// [M, B, 2·C] ← factor(k) · spectrum[(b·C + c)·stride + offset_k].
  private func gather(
    _ spectrum: NDArray<Complex<T>>, stride: Int, offsets: [Int]?, channels: Int, batch: Int, factor: (Int) -> T
  ) -> NDArray<T> {
    let m = map.modeCount
    let off = offsets ?? Array(0..<m)
    let factors = (0..<m).map(factor)
    var out: NDArray<T> = uninitializedArray([m, batch, 2 * channels])
    spectrum.withUnsafeBufferPointer { sp in
      out.withUnsafeMutableBufferPointer { gp in
        off.withUnsafeBufferPointer { off in
          factors.withUnsafeBufferPointer { f in
            for b in 0..<batch {
              for i in 0..<channels {
                let src = sp.baseAddress! + (b * channels + i) * stride
                for k in 0..<m {
                  let z = src[off[k]]
                  let row = gp.baseAddress! + (k * batch + b) * 2 * channels
                  row[i] = f[k] * z.re
                  row[channels + i] = f[k] * z.im
                }
              }
            }
          }
        }
      }
    }
    return out
  }

  /// Scatters [M, B, 2·C] into the kept modes and applies the synthesis (or the adjoint of the
  /// analysis, which for FFTW is the unscaled c2r of ∂G/(N c_k)).
  private func inverse(_ values: NDArray<T>, channels: Int, batch: Int, adjointOfAnalysis: Bool) -> NDArray<T> {
    let (m, h) = (map.modeCount, map.halfCount)
    let fields = batch * channels
    var out: NDArray<T> = uninitializedArray([batch, channels] + map.spatial)
    let invN = T(1) / T(map.realCount)
    let factors: [T] =
      pruned != nil || !adjointOfAnalysis ? Array(repeating: 1, count: m) : map.multiplicity.map { invN / T($0) }
    let stride = pruned != nil ? m : h
    let offsets = pruned != nil ? Array(0..<m) : map.spectrum
    var spectrum: NDArray<Complex<T>> =
      pruned != nil ? uninitializedArray([fields * m]) : zeroSpectrum(fields * h)
    values.withUnsafeBufferPointer { vp in
      spectrum.withUnsafeMutableBufferPointer { sp in
        offsets.withUnsafeBufferPointer { off in
          factors.withUnsafeBufferPointer { f in
            for b in 0..<batch {
              for c in 0..<channels {
                let dst = sp.baseAddress! + (b * channels + c) * stride
                for k in 0..<m {
                  let row = vp.baseAddress! + (k * batch + b) * 2 * channels
                  dst[off[k]] = Complex(f[k] * row[c], f[k] * row[channels + c])
                }
              }
            }
          }
        }
      }
    }
    spectrum.withUnsafeMutableBufferPointer { sp in
      out.withUnsafeMutableBufferPointer { op in
        if let pruned {
          if adjointOfAnalysis {
            let (ss, os) = (SharedPointer(base: sp.baseAddress!), SharedPointer(base: op.baseAddress!))
            fieldChunks(fields) { f, n in
              pruned.analyzeAdjoint(ss.base + f * map.modeCount, fields: n, into: os.base + f * map.realCount)
            }
          } else {
            let (ss, os) = (SharedPointer(base: sp.baseAddress!), SharedPointer(base: op.baseAddress!))
            fieldChunks(fields) { f, n in
              pruned.synthesize(ss.base + f * map.modeCount, fields: n, into: os.base + f * map.realCount)
            }
          }
        } else {
          let c2r: FFTPlan<T> = fftPlan(.complexToReal, map.spatial, batch: fields)
          c2r.execute(UnsafeRawPointer(sp.baseAddress!), UnsafeMutableRawPointer(op.baseAddress!))
        }
      }
    }
    return out
  }
}

/// Wb[k] = [[Re W, Im W], [−Im W, Re W]] for each kept mode k: [M, 2·Cin, 2·Cout].
@specialized(where T == Float)
@specialized(where T == Double)
private func blockWeights<T: RealScalar>(
  _ w: NDArray<T>, cin: Int, cout: Int, weightModeCount kc: Int, map: SpectralModeMap
) -> NDArray<T> {
  let m = map.modeCount
  let width = 2 * cout
  return w.withUnsafeBufferPointer { wp in
    map.weight.withUnsafeBufferPointer { woff in
      // Mode by mode, so that the writes run along rows of each block (the weight, read with a
      // stride, stays in cache; writing mode-innermost touched a new page per element).
      NDArray<T>(shape: [m, 2 * cin, width]) { bp in
        for k in 0..<m {
          let blk = bp.baseAddress! + k * 2 * cin * width
          let w0 = wp.baseAddress! + 2 * woff[k]
          for i in 0..<cin {
            let (top, bottom) = (blk + i * width, blk + (cin + i) * width)
            for o in 0..<cout {
              let src = w0 + (i * cout + o) * kc * 2
              let (re, im) = (src[0], src[1])
              top[o] = re
              top[cout + o] = im
              bottom[o] = -im
              bottom[cout + o] = re
            }
          }
        }
      }
    }
  }
}

/// The adjoint of `blockWeights`: ∂Re W = ∂B₀₀ + ∂B₁₁, ∂Im W = ∂B₀₁ − ∂B₁₀; zero on unkept modes.
@specialized(where T == Float)
@specialized(where T == Double)
private func foldBlockWeights<T: RealScalar>(
  _ dBlocks: NDArray<T>, shape: [Int], cin: Int, cout: Int, weightModeCount kc: Int, map: SpectralModeMap
) -> NDArray<T> {
  var dw: NDArray<T> = zeroArray(shape)
  let m = map.modeCount
  let width = 2 * cout
  dBlocks.withUnsafeBufferPointer { bp in
    dw.withUnsafeMutableBufferPointer { wp in
      map.weight.withUnsafeBufferPointer { woff in
        for k in 0..<m {
          let blk = bp.baseAddress! + k * 2 * cin * width
          let w0 = wp.baseAddress! + 2 * woff[k]
          for i in 0..<cin {
            let (top, bottom) = (blk + i * width, blk + (cin + i) * width)
            for o in 0..<cout {
              let dst = w0 + (i * cout + o) * kc * 2
              dst[0] = top[o] + bottom[cout + o]
              dst[1] = top[cout + o] - bottom[o]
            }
          }
        }
      }
    }
  }
  return dw
}
