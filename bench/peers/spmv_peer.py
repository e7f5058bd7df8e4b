#!/usr/bin/env python3
"""Peer benchmark: CSR sparse matrix-vector product on the 2D 5-point Laplacian.

WHAT IS MEASURED (the Swift driver must do the identical work)
  bench name : spmv_csr_laplace2d_N<N>   (default N = 1024 -> n = N^2 = 1,048,576)
  matrix A   : 2D 5-point Laplacian, Dirichlet boundary (boundary neighbours simply
               omitted), grid point (r, c) -> row i = r*N + c (row-major).
               Row i holds, in ascending column order, the existing entries of
               i-N, i-1, i, i+1, i+N with values -1, -1, 4, -1, -1.
               nnz = 5*N^2 - 4*N (5,238,784 for N = 1024). Canonical CSR (sorted
               column indices, no duplicates, no explicit zeros).
               values float64; indptr/indices as scipy builds them (int32 for
               this size; reported in index_dtype).
  x          : float64, length n, uniform [0,1) random (fixed seed).
  one rep    : y = A x  (one full SpMV). Timed with time.perf_counter per rep;
               MEDIAN over --reps reps reported (plus min and every rep), after
               --warmup untimed reps. Matrix construction is not timed.
  byte model : bytes = nnz*(8 + idxbytes)   values + column indices
                     + (n+1)*idxbytes       row pointers
                     + n*8                  x read (each element once; ideal cache)
                     + n*8                  y write
               gbps = bytes / median_s / 1e9  (gbps_best uses min_s).

IMPLEMENTATIONS (one JSON line each on stdout)
  scipy_matmul   : y = A @ x. scipy allocates a fresh zero-filled y (np.zeros) on
                   every call and then runs the C++ csr_matvec kernel into it, so the
                   time includes the allocation + zeroing of n*8 bytes (not counted in
                   the byte model).
  scipy_csr_matvec: scipy.sparse._sparsetools.csr_matvec(n, n, indptr, indices, data,
                   x, y) into a preallocated y: the fair "no allocation" peer.
                   NOTE: this kernel ACCUMULATES (y += A x: it reads y[i] as the
                   initial sum). y is not re-zeroed between reps (its value does not
                   affect timing); the extra n*8-byte read of y is NOT in the byte
                   model, so its gbps is slightly understated relative to the real
                   traffic. Correctness is checked on a zeroed y.
  Both are single-threaded C++ (scipy.sparse has no threaded SpMV); --threads only
  sets BLAS thread env vars / threadpoolctl limits for consistency and is recorded.

CORRECTNESS (exit status 1 on failure, error on stderr)
  y from both implementations must match a direct numpy stencil evaluation
  (4x - shifted neighbours) to max-norm relative error <= 1e-12; the matrix must
  have nnz == 5N^2 - 4N, canonical format, 4 on the diagonal.

ENVIRONMENT
  OPENBLAS_NUM_THREADS/OMP_NUM_THREADS are set to --threads before numpy import.
  If OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE are set they slow numpy's bundled
  OpenBLAS (scipy-openblas); the runner may unset them for the peer command only
  (they do not affect this sparse kernel; not set on the machine this was written on).

USAGE
  bench/.venv/bin/python bench/peers/spmv_peer.py [--n 1024] [--reps 20] [--warmup 3] [--threads 1]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

args = C.setup(__doc__, extra=lambda p: p.add_argument(
    "--n", type=int, default=1024, help="grid side N (unknowns n = N^2), default 1024"))

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.sparse as sp  # noqa: E402

_tp = C.limit_threads(args.threads)

N = args.n
n = N * N
TOL = 1e-12

# --- build A = kron(I, T) + kron(T, I), T = tridiag(-1, 2, -1)  ->  4 on diagonal
T = sp.diags([-np.ones(N - 1), 2.0 * np.ones(N), -np.ones(N - 1)], [-1, 0, 1], format="csr")
I = sp.identity(N, format="csr")
A = (sp.kron(I, T, format="csr") + sp.kron(T, I, format="csr")).tocsr()
A.sum_duplicates()
A.eliminate_zeros()
A.sort_indices()
A.data = np.ascontiguousarray(A.data, dtype=np.float64)
nnz = A.nnz
idx_dtype = A.indices.dtype
idxbytes = idx_dtype.itemsize
if nnz != 5 * N * N - 4 * N or not A.has_canonical_format or not np.all(A.diagonal() == 4.0):
    C.fail(f"matrix construction wrong: nnz={nnz}, canonical={A.has_canonical_format}")
if A.indptr.dtype != idx_dtype:
    C.log(f"note: indptr dtype {A.indptr.dtype} != indices dtype {idx_dtype}")
C.log(f"A: n={n} nnz={nnz} indices {idx_dtype} indptr {A.indptr.dtype} data {A.data.dtype}")

rng = np.random.default_rng(args.seed)
x = rng.random(n)                       # float64 uniform [0,1)


def stencil_ref(x):
    u = x.reshape(N, N)
    r = 4.0 * u
    r[1:, :] -= u[:-1, :]
    r[:-1, :] -= u[1:, :]
    r[:, 1:] -= u[:, :-1]
    r[:, :-1] -= u[:, 1:]
    return r.reshape(n)


yref = stencil_ref(x)
scale = float(np.max(np.abs(yref)))
ok = True

nbytes = nnz * (8 + A.indices.dtype.itemsize) + (n + 1) * A.indptr.dtype.itemsize + n * 8 + n * 8
byte_model = (f"nnz*(8+{idxbytes}) + (n+1)*{A.indptr.dtype.itemsize} + n*8 (x read) + n*8 (y write)"
              f" = {nnz}*{8 + idxbytes} + {n + 1}*{A.indptr.dtype.itemsize} + {n}*8 + {n}*8"
              f" = {nbytes} bytes")
C.log("byte model: " + byte_model)

base = {"bench": f"spmv_csr_laplace2d_N{N}", "reps": args.reps, "warmup": args.warmup,
        "threads": args.threads, "N": N, "n": n, "nnz": nnz,
        "value_dtype": str(A.data.dtype), "index_dtype": str(idx_dtype),
        "indptr_dtype": str(A.indptr.dtype), "bytes": nbytes, "byte_model": byte_model,
        "numpy_version": np.__version__, "scipy_version": scipy.__version__, **C.env_info()}


def record(impl, times, err, notes):
    s = C.summarize(times)
    C.emit({**base, "impl": impl, **s,
            "gbps": nbytes / s["median_s"] / 1e9, "gbps_best": nbytes / s["min_s"] / 1e9,
            "rel_err": err, "notes": notes})


# --- (a) A @ x  (allocating)
yout = [None]


def run_matmul():
    yout[0] = A @ x


times = C.time_reps(run_matmul, args.reps, args.warmup)
err = float(np.max(np.abs(yout[0] - yref)) / scale)
if err > TOL:
    C.log(f"scipy_matmul: rel err {err:.3e} > {TOL}")
    ok = False
record("scipy_matmul", times, err,
       "y = A @ x; scipy allocates+zero-fills y (np.zeros) each call, then csr_matvec; "
       "single-threaded")

# --- (b) _sparsetools.csr_matvec into preallocated y
try:
    from scipy.sparse import _sparsetools
    csr_matvec = _sparsetools.csr_matvec
except (ImportError, AttributeError) as e:
    csr_matvec = None
    C.log(f"scipy.sparse._sparsetools.csr_matvec unavailable ({e}); skipping")

if csr_matvec is not None:
    y = np.zeros(n, dtype=np.float64)
    indptr, indices, data = A.indptr, A.indices, A.data
    csr_matvec(n, n, indptr, indices, data, x, y)      # y was zero -> y = A x
    err = float(np.max(np.abs(y - yref)) / scale)
    if err > TOL:
        C.log(f"scipy_csr_matvec: rel err {err:.3e} > {TOL}")
        ok = False

    def run_kernel():
        csr_matvec(n, n, indptr, indices, data, x, y)  # accumulates: y += A x

    times = C.time_reps(run_kernel, args.reps, args.warmup)
    record("scipy_csr_matvec", times, err,
           "scipy.sparse._sparsetools.csr_matvec into preallocated y (no allocation); "
           "kernel accumulates y += A x so it also reads y (extra n*8 B not in byte "
           "model); single-threaded")

if not ok:
    C.fail("correctness check failed (see above)")
