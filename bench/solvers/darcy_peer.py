#!/usr/bin/env python3
"""Peer benchmark: Darcy solves with scikit-sparse CHOLMOD, scipy spsolve, scipy CG and pyamg SA-CG.

WHAT IS MEASURED (the Swift driver `pdekit-bench darcy` does the same work)
  inputs     : the files written by `pdekit-bench darcy-export` into --dir: A_i.mtx (Darcy
               matrix, cell-centred FV, FNO coefficient 12/3, Matrix Market symmetric storage),
               b_i.mtx (f = 1), manifest.json. Read with scipy.io.mmread (fast_matrix_market)
               BEFORE any timing; each A_i is converted once to CSR (and to CSC by reusing
               the CSR arrays, which is exact since A is symmetric). Read time reported as read_s.
  per sample : samples solved in order 0, 1, ...; time per solve = setup + solve (what a user
               pays); median over samples is median_s; setup_s / solve_s per sample also kept.
  x0         : zero for every iterative method.

IMPLEMENTATIONS (one JSON line each on stdout)
  sksparse_cholmod : scikit-sparse (Debian libcholmod, the library PDEKit links). Symbolic
                     reuse: sample 0 setup = cholmod.analyze(A_0) + factor.cholesky_inplace(A_0);
                     sample i > 0 setup = factor.cholesky_inplace(A_i) only; solve = factor(b_i).
                     CHOLMOD defaults otherwise (mode 'auto', ordering 'default').
  scipy_spsolve    : scipy.sparse.linalg.spsolve(A_csc, b) (SuperLU, permc_spec default
                     'COLAMD'; scikit-umfpack is not installed so SuperLU is used). Whole call
                     timed as solve (setup_s = 0: SuperLU does not separate them here).
  scipy_cg         : scipy.sparse.linalg.cg(A_csr, b, rtol=R, atol=0, maxiter=10n) — stops when
                     the recursive residual ||r|| <= max(rtol ||b||, atol); iterations counted
                     by a callback. No preconditioner (compare with pdekit_cg).
  pyamg_sa_cg      : ml = pyamg.smoothed_aggregation_solver(A_csr) (defaults) as setup, then
                     ml.solve(b, tol=R, accel='cg', maxiter=1000, residuals=res) as solve: pyamg's
                     own CG with criterion 'rr', ||r|| < tol ||b|| (tol is relative to ||b||, and
                     with x0 = 0 that is the initial residual too); iterations = len(res) - 1.
                     pyamg has no numeric refresh, so every sample is a fresh setup.
CORRECTNESS
  the true relative residual ||b - A x|| / ||b|| is computed for every sample (outside the
  timing) and reported (relres, max_relres); a method whose residual exceeds 10 * rtol exits 1.

ENVIRONMENT
  OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = --threads (default 1) before numpy is imported, and
  threadpoolctl limits, so numpy's bundled OpenBLAS, Debian's OpenBLAS under libcholmod and
  CHOLMOD's OpenMP all run single-threaded.

USAGE
  bench/.venv/bin/python bench/solvers/darcy_peer.py --dir DIR [--methods a,b] [--samples K] [--rtol R]
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "peers"))
import _common as C  # noqa: E402

ALL = ("sksparse_cholmod", "scipy_spsolve", "scipy_cg", "pyamg_sa_cg")


def extra(p):
    p.add_argument("--dir", required=True, help="directory written by pdekit-bench darcy-export")
    p.add_argument("--methods", default=",".join(ALL), help="comma-separated subset of " + ",".join(ALL))
    p.add_argument("--samples", type=int, default=None, help="use only the first K samples")
    p.add_argument("--rtol", type=float, default=1e-8)


args = C.setup(__doc__, extra)

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.io  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402

methods = [m for m in args.methods.split(",") if m]
for m in methods:
    if m not in ALL:
        C.fail(f"unknown method {m} (known: {', '.join(ALL)})")

with open(os.path.join(args.dir, "manifest.json")) as f:
    manifest = json.load(f)
count = manifest["samples"] if args.samples is None else min(args.samples, manifest["samples"])

t0 = time.perf_counter()
A_csr, A_csc, B = [], [], []
for i in range(count):
    a = sp.csr_matrix(scipy.io.mmread(os.path.join(args.dir, f"A_{i}.mtx")))
    a.sum_duplicates()
    a.sort_indices()
    b = np.ascontiguousarray(np.asarray(scipy.io.mmread(os.path.join(args.dir, f"b_{i}.mtx"))).ravel(),
                             dtype=np.float64)
    # A is symmetric: the CSR arrays of A are the CSC arrays of A^T = A.
    c = sp.csc_matrix((a.data, a.indices, a.indptr), shape=a.shape)
    c.has_sorted_indices = True
    A_csr.append(a)
    A_csc.append(c)
    B.append(b)
read_s = time.perf_counter() - t0

# Load every library before applying the thread limits, so threadpoolctl sees them all.
libs = {"numpy_version": np.__version__, "scipy_version": scipy.__version__}
missing = {}
if "sksparse_cholmod" in methods:
    try:
        from sksparse import cholmod  # noqa: E402
        from importlib.metadata import version as _v
        libs["sksparse_version"] = _v("scikit-sparse")
    except Exception as e:  # not installed: bench/setup-venv.sh says why
        missing["sksparse_cholmod"] = f"scikit-sparse unavailable: {e}"
if "pyamg_sa_cg" in methods:
    try:
        import pyamg  # noqa: E402
        libs["pyamg_version"] = pyamg.__version__
    except Exception as e:
        missing["pyamg_sa_cg"] = f"pyamg unavailable: {e}"
_tp = C.limit_threads(args.threads)

n = A_csr[0].shape[0]
common = {
    "bench": f"darcy{manifest['dim']}d_{manifest['n']}", "dim": manifest["dim"], "grid_n": manifest["n"],
    "rows": n, "nnz": int(A_csr[0].nnz), "samples": count, "reps": count, "rtol": args.rtol,
    "threads": args.threads, "read_s": read_s, **libs, **C.env_info(),
    # (scipy's fast_matrix_market controller reports its version as a function: stringify)
    "blas": json.loads(json.dumps(C.blas_info(), default=str)),
}
pc = time.perf_counter


def relres(a, x, b):
    return float(np.linalg.norm(b - a @ x) / np.linalg.norm(b))


def run_sksparse():
    factor = None
    for i in range(count):
        t0 = pc()
        if factor is None:
            factor = cholmod.analyze(A_csc[i])
        factor.cholesky_inplace(A_csc[i])
        t1 = pc()
        x = factor(B[i])
        t2 = pc()
        yield t1 - t0, t2 - t1, 0, x, {}


def run_spsolve():
    for i in range(count):
        t0 = pc()
        x = spla.spsolve(A_csc[i], B[i])
        yield 0.0, pc() - t0, 0, x, {}


def run_scipy_cg():
    for i in range(count):
        its = [0]

        def cb(_xk):
            its[0] += 1
        t0 = pc()
        x, info = spla.cg(A_csr[i], B[i], rtol=args.rtol, atol=0.0, maxiter=10 * n, callback=cb)
        yield 0.0, pc() - t0, its[0], x, {"info": int(info)}


def run_pyamg():
    for i in range(count):
        t0 = pc()
        ml = pyamg.smoothed_aggregation_solver(A_csr[i])
        t1 = pc()
        res = []
        x, info = ml.solve(B[i], tol=args.rtol, accel="cg", maxiter=1000, residuals=res, return_info=True)
        t2 = pc()
        yield t1 - t0, t2 - t1, len(res) - 1, x, {
            "info": int(info), "levels": len(ml.levels), "operator_complexity": float(ml.operator_complexity()),
            "grid_complexity": float(ml.grid_complexity())}


RUNNERS = {"sksparse_cholmod": run_sksparse, "scipy_spsolve": run_spsolve, "scipy_cg": run_scipy_cg,
           "pyamg_sa_cg": run_pyamg}
LABELS = {"sksparse_cholmod": "scikit-sparse CHOLMOD (analyze once, cholesky_inplace per sample)",
          "scipy_spsolve": "scipy spsolve (SuperLU, COLAMD)",
          "scipy_cg": "scipy CG (no preconditioner)",
          "pyamg_sa_cg": "pyamg smoothed_aggregation_solver + CG (fresh setup per sample)"}

bad = []
for m in methods:
    if m in missing:
        C.log(f"darcy_peer: skipping {m}: {missing[m]}")
        C.emit({**common, "impl": m, "label": LABELS[m], "error": missing[m]})
        continue
    setup, solve, total, its, rr, infos = [], [], [], [], [], []
    for s_, v_, k, x, info in RUNNERS[m]():
        setup.append(s_)
        solve.append(v_)
        total.append(s_ + v_)
        its.append(k)
        rr.append(relres(A_csr[len(rr)], x, B[len(rr)]))
        infos.append(info)
    rec = dict(common)
    rec.update(C.summarize(total))
    rec.update({
        "impl": m, "label": LABELS[m], "setup_s": setup, "solve_s": solve,
        "median_setup_s": float(np.median(setup)), "median_solve_s": float(np.median(solve)),
        "iterations": its, "median_iterations": float(np.median(its)), "relres": rr, "max_relres": max(rr),
        "converged": all(i.get("info", 0) == 0 for i in infos),
    })
    if m == "pyamg_sa_cg":
        rec["amg_levels"] = infos[0]["levels"]
        rec["amg_operator_complexity"] = infos[0]["operator_complexity"]
        rec["amg_grid_complexity"] = infos[0]["grid_complexity"]
    if m == "scipy_spsolve":
        rec["use_umfpack"] = bool(getattr(spla._dsolve.linsolve, "useUmfpack", False)) and \
            getattr(spla._dsolve.linsolve, "noScikit", True) is False
    C.emit(rec)
    if max(rr) > 10 * args.rtol:
        bad.append(f"{m}: max relative residual {max(rr):.3g} > 10 rtol")
if bad:
    C.fail("; ".join(bad))
