#!/usr/bin/env python3
"""Peer benchmark: batched 2D real FFT round trip, float32 (PDEKit FFT peer).

WHAT IS MEASURED (the Swift driver must do the identical work)
  bench name : fft2_roundtrip_f32_1024x128x128
  input      : x, float32, C-contiguous, shape (B, N0, N1) = (1024, 128, 128)
               (B = 32*32 batch; standard-normal random values, fixed seed).
  one rep    : X = rfft2(x)   over axes (-2,-1): real -> complex64, shape (1024,128,65)
               y = irfft2(X)  over axes (-2,-1): complex64 -> real float32, shape (1024,128,128)
  normalisation: forward unnormalised; inverse scaled by 1/(N0*N1) = 1/16384
               (the scaling pass is INSIDE the timed region), so y == x up to rounding.
  time       : time.perf_counter around (r2c + c2r + 1/N scaling) per rep;
               we report the MEDIAN over --reps reps (plus min and every rep), after
               --warmup untimed reps. Plan creation is NOT timed (reported as plan_s).

IMPLEMENTATIONS (one JSON line each on stdout)
  pyfftw    : two pyfftw.FFTW plan objects built once before timing, flags
              ('FFTW_MEASURE',) for r2c and ('FFTW_MEASURE','FFTW_DESTROY_INPUT') for c2r,
              threads=--threads, axes=(-2,-1). Buffers x (float32), X (complex64),
              y (float32) are preallocated with pyfftw.empty_aligned (SIMD alignment).
              r2c: x -> X ; c2r: X -> y (out of place). The timed loop only calls
              fwd() then inv() (pyfftw __call__ with no arguments: no re-planning, no
              allocation, no copies; inv() applies normalise_idft=True i.e. 1/N).
              NOTE: multi-dim c2r destroys its input, so the spectrum X is
              overwritten every rep; it is recomputed from x by the next r2c, so
              nothing is copied back. Also reported: fwd_median_s / inv_median_s
              (the two halves of the same timed reps). The pyFFTW wheel bundles
              its OWN FFTW build (version reported in fftw_version), not Debian's
              libfftw3.
  numpy     : numpy.fft.rfft2(x) then numpy.fft.irfft2(X, s=(128,128)); pocketfft,
              single-threaded (ignores --threads), allocates its outputs each call.
              NumPy >= 2.0 computes float32 input in single precision (complex64);
              older NumPy upcasts to complex128/float64 -- the dtypes actually
              returned are recorded in spectrum_dtype / output_dtype.
  numpy_out : same transforms with preallocated out= buffers (NumPy >= 2.0 only):
              numpy.fft.rfft2(x, out=X) then numpy.fft.irfftn(X, s=(128,128),
              axes=(-2,-1), out=y). irfftn is used because numpy.fft.irfft2 silently
              IGNORES out= (it forwards out=None to irfftn; seen in NumPy 2.4.6).
              rfftn writes both passes into out (no allocation); irfftn still
              allocates one intermediate complex array (its ifft along axis -2),
              so this variant is "fewer allocations", not zero.

CORRECTNESS (exit status 1 on failure, error on stderr)
  - max|y - x| / max|x| <= 1e-4 after the timed reps (round trip);
  - the r2c of batch element 0 matches a float64 numpy rfft2 to 1e-4 (relative,
    max-norm), to make sure the forward transform is the unnormalised DFT.

ENVIRONMENT
  OPENBLAS_NUM_THREADS/OMP_NUM_THREADS are set to --threads before numpy is
  imported (only matters for BLAS, not for FFTs). If OPENBLAS_CORETYPE or
  OPENBLAS_L2_SIZE are set in the environment they slow numpy's bundled
  OpenBLAS (scipy-openblas); the runner may unset them for the peer command only.
  (They are not set on the machine this was written on.)

USAGE
  bench/.venv/bin/python bench/peers/fft_peer.py [--reps 20] [--warmup 3] [--threads 1]
"""
import ctypes
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

args = C.setup(__doc__)

import numpy as np  # noqa: E402

BENCH = "fft2_roundtrip_f32_1024x128x128"
B, N0, N1 = 32 * 32, 128, 128
SHAPE = (B, N0, N1)
NORM = N0 * N1
TOL = 1e-4


def rel_err(got, ref):
    got = np.asarray(got, dtype=np.float64) if not np.iscomplexobj(got) else np.asarray(got, np.complex128)
    ref = np.asarray(ref, dtype=np.float64) if not np.iscomplexobj(ref) else np.asarray(ref, np.complex128)
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


def fftw_version():
    """Read fftwf_version from the libfftw3f actually loaded in this process."""
    try:
        with open("/proc/self/maps") as f:
            paths = {l.split()[-1] for l in f if "libfftw3f" in l and "_omp" not in l
                     and "_threads" not in l}
        out = []
        for p in sorted(paths):
            lib = ctypes.CDLL(p)
            addr = ctypes.addressof(ctypes.c_char.in_dll(lib, "fftwf_version"))
            out.append(f"{ctypes.cast(addr, ctypes.c_char_p).value.decode()} ({p})")
        return "; ".join(out) or None
    except Exception as e:  # diagnostics only
        return f"unknown ({e})"


rng = np.random.default_rng(args.seed)
x_ref = rng.standard_normal(SHAPE, dtype=np.float32)
base = {"bench": BENCH, "reps": args.reps, "warmup": args.warmup,
        "shape": list(SHAPE), "dtype": "float32", "norm": "forward unnormalised, inverse 1/N",
        "numpy_version": np.__version__, **C.env_info()}
ok = True

# ---------------------------------------------------------------- pyfftw
try:
    import pyfftw
except ImportError as e:
    pyfftw = None
    C.log(f"pyfftw not importable ({e}); skipping pyfftw (run bench/setup-venv.sh)")

if pyfftw is not None:
    al = pyfftw.simd_alignment
    x = pyfftw.empty_aligned(SHAPE, dtype=np.float32, n=al)
    X = pyfftw.empty_aligned((B, N0, N1 // 2 + 1), dtype=np.complex64, n=al)
    y = pyfftw.empty_aligned(SHAPE, dtype=np.float32, n=al)
    t0 = time.perf_counter()
    # FFTW_MEASURE overwrites the arrays while planning: fill x afterwards.
    fwd = pyfftw.FFTW(x, X, axes=(-2, -1), direction="FFTW_FORWARD",
                      flags=("FFTW_MEASURE",), threads=args.threads)
    inv = pyfftw.FFTW(X, y, axes=(-2, -1), direction="FFTW_BACKWARD",
                      flags=("FFTW_MEASURE", "FFTW_DESTROY_INPUT"), threads=args.threads)
    plan_s = time.perf_counter() - t0
    C.log(f"pyfftw: planned r2c+c2r (FFTW_MEASURE, threads={args.threads}) in {plan_s:.2f}s")
    x[...] = x_ref

    # forward-transform sanity check (batch 0) against float64 numpy
    fwd()
    e_fwd = rel_err(X[0], np.fft.rfft2(x_ref[0].astype(np.float64)))
    if e_fwd > TOL:
        C.log(f"pyfftw r2c mismatch vs numpy float64: rel err {e_fwd:.3e} > {TOL}")
        ok = False

    pc = time.perf_counter
    for _ in range(args.warmup):
        fwd()
        inv()
    tot, tf, ti = [], [], []
    for _ in range(args.reps):
        t0 = pc()
        fwd()
        t1 = pc()
        inv()           # normalise_idft=True (default): output scaled by 1/N
        t2 = pc()
        tot.append(t2 - t0)
        tf.append(t1 - t0)
        ti.append(t2 - t1)
    err = rel_err(y, x_ref)
    if err > TOL or not np.array_equal(x, x_ref):
        C.log(f"pyfftw round trip error {err:.3e} > {TOL} (or input modified)")
        ok = False
    s = C.summarize(tot)
    C.emit({**base, "impl": "pyfftw", **s, "threads": args.threads,
            "fwd_median_s": C.statistics.median(tf), "inv_median_s": C.statistics.median(ti),
            "plan_s": plan_s, "plan_flags": {"r2c": ["FFTW_MEASURE"],
                                             "c2r": ["FFTW_MEASURE", "FFTW_DESTROY_INPUT"]},
            "roundtrip_rel_err": err, "fwd_rel_err_vs_f64": e_fwd,
            "spectrum_dtype": str(X.dtype), "output_dtype": str(y.dtype),
            "simd_alignment": al, "pyfftw_version": pyfftw.__version__,
            "fftw_version": fftw_version(),
            "notes": "plans built once before timing; timed = fwd() + inv() incl. 1/N "
                     "scaling; c2r destroys the spectrum buffer (recomputed by next r2c); "
                     "no allocation/copies in loop; FFTW is the copy bundled in the pyFFTW wheel"})
    del x, X, y, fwd, inv

# ---------------------------------------------------------------- numpy
xn = np.ascontiguousarray(x_ref)
Xn = np.fft.rfft2(xn)
yn = np.fft.irfft2(Xn, s=(N0, N1))
spec_dt, out_dt = str(Xn.dtype), str(yn.dtype)
e_fwd = rel_err(Xn[0], np.fft.rfft2(x_ref[0].astype(np.float64)))


def np_roundtrip():
    global yn
    yn = np.fft.irfft2(np.fft.rfft2(xn), s=(N0, N1))


times = C.time_reps(np_roundtrip, args.reps, args.warmup)
err = rel_err(yn, x_ref)
if err > TOL or e_fwd > TOL:
    C.log(f"numpy round trip error {err:.3e} / fwd err {e_fwd:.3e} > {TOL}")
    ok = False
C.emit({**base, "impl": "numpy", **C.summarize(times), "threads": 1,
        "roundtrip_rel_err": err, "fwd_rel_err_vs_f64": e_fwd,
        "spectrum_dtype": spec_dt, "output_dtype": out_dt,
        "notes": f"numpy.fft (pocketfft, single-threaded, --threads ignored); "
                 f"float32 input -> {spec_dt} spectrum -> {out_dt} output; "
                 f"allocates outputs every call"})

# numpy with preallocated out= (NumPy >= 2.0)
try:
    Xo = np.empty(Xn.shape, dtype=Xn.dtype)
    yo = np.empty(yn.shape, dtype=yn.dtype)
    np.fft.rfft2(xn, out=Xo)
    r = np.fft.irfftn(Xo, s=(N0, N1), axes=(-2, -1), out=yo)
    if r is not yo:
        raise TypeError("irfftn did not write into out=")
    have_out = True
except TypeError as e:
    have_out = False
    C.log(f"numpy.fft has no out= ({e}); skipping numpy_out")

if have_out:
    def np_roundtrip_out():
        np.fft.rfft2(xn, out=Xo)
        np.fft.irfftn(Xo, s=(N0, N1), axes=(-2, -1), out=yo)

    times = C.time_reps(np_roundtrip_out, args.reps, args.warmup)
    err = rel_err(yo, x_ref)
    if err > TOL:
        C.log(f"numpy_out round trip error {err:.3e} > {TOL}")
        ok = False
    C.emit({**base, "impl": "numpy_out", **C.summarize(times), "threads": 1,
            "roundtrip_rel_err": err, "spectrum_dtype": str(Xo.dtype),
            "output_dtype": str(yo.dtype),
            "notes": "numpy.fft rfft2(out=) + irfftn(axes=(-2,-1), out=) into preallocated "
                     "buffers (pocketfft, single-threaded); irfft2 ignores out= in this "
                     "numpy so irfftn is used; irfftn still allocates one intermediate "
                     "complex array"})

if not ok:
    C.fail("correctness check failed (see above)")
