#!/usr/bin/env python3
"""Peer benchmark: dense single-precision matrix multiply (numpy + its BLAS).

WHAT IS MEASURED (the Swift driver must do the identical work)
  bench name : gemm_f32_<n>x<n>x<n>   (default n = 1024)
  inputs     : a, b float32, C-contiguous (row-major) n x n, uniform [0,1) random
               (fixed seed); c float32 n x n preallocated.
  one rep    : np.matmul(a, b, out=c)   i.e. C = A @ B (row-major, no transposes,
               alpha = 1, beta = 0), which numpy dispatches to cblas_sgemm of the
               BLAS it is linked with. No allocation inside the timed region.
  time       : time.perf_counter per rep; MEDIAN over --reps reps (plus min and all
               reps), after --warmup untimed reps.
  gflops     : 2*n^3 / median_s / 1e9  (gflops_best uses min_s).

BLAS
  The numpy wheel from PyPI ships its OWN OpenBLAS (scipy-openblas, under
  numpy.libs/), which is NOT Debian's system libopenblas (0.3.21 here). Its
  version / corename (architecture) / threading layer / thread count as seen by
  threadpoolctl are recorded in the "blas" field. Threads: OPENBLAS_NUM_THREADS /
  OMP_NUM_THREADS are set to --threads before numpy is imported, and
  threadpoolctl.threadpool_limits(--threads) is applied as well.

  If OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE are set in the environment they make
  numpy's bundled OpenBLAS pick a slower kernel / blocking; the runner may unset
  them for the peer command only. (Not set on the machine this was written on; a
  warning is printed to stderr and they are recorded in the JSON if present.)

CORRECTNESS (exit status 1 on failure, error on stderr)
  c must match a float64 product of the same inputs to max-norm relative error
  <= 1e-4.

USAGE
  bench/.venv/bin/python bench/peers/gemm_peer.py [--n 1024] [--reps 20] [--warmup 3] [--threads 1]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

args = C.setup(__doc__, extra=lambda p: p.add_argument(
    "--n", type=int, default=1024, help="matrix size n (default 1024)"))

import numpy as np  # noqa: E402

_tp = C.limit_threads(args.threads)

n = args.n
TOL = 1e-4
rng = np.random.default_rng(args.seed)
a = rng.random((n, n), dtype=np.float32)
b = rng.random((n, n), dtype=np.float32)
c = np.empty((n, n), dtype=np.float32)

blas = [d for d in (C.blas_info() or []) if d.get("user_api") == "blas"]
for d in blas:
    C.log(f"BLAS: {d.get('internal_api')} {d.get('version')} core={d.get('architecture')} "
          f"threads={d.get('num_threads')} layer={d.get('threading_layer')} {d.get('filepath')}")
if not blas:
    C.log("BLAS info unavailable (threadpoolctl missing or no BLAS found)")
if blas and any(d.get("num_threads") != args.threads for d in blas):
    C.log(f"WARNING: BLAS thread count != --threads {args.threads}")


def run():
    np.matmul(a, b, out=c)


times = C.time_reps(run, args.reps, args.warmup)
ref = a.astype(np.float64) @ b.astype(np.float64)
err = float(np.max(np.abs(c - ref)) / np.max(np.abs(ref)))
s = C.summarize(times)
flop = 2.0 * n ** 3
C.emit({"bench": f"gemm_f32_{n}x{n}x{n}", "impl": "numpy_matmul", **s,
        "reps": args.reps, "warmup": args.warmup, "threads": args.threads, "n": n,
        "flop": flop, "gflops": flop / s["median_s"] / 1e9,
        "gflops_best": flop / s["min_s"] / 1e9, "rel_err_vs_f64": err,
        "numpy_version": np.__version__, "blas": blas or None, **C.env_info(),
        "notes": "np.matmul(a, b, out=c) float32 row-major, preallocated out -> sgemm of "
                 "numpy's bundled OpenBLAS (scipy-openblas, not Debian libopenblas)"})
if err > TOL:
    C.fail(f"gemm rel err {err:.3e} > {TOL}")
