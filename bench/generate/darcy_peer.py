#!/usr/bin/env python3
"""Python peer of `pdekit generate darcy`: the same recipe, vectorized, in 2 processes.

One sample (identical to PDEKit's DarcyRecipe + DatasetGenerator, see
Solvers/Recipes/DarcyRecipe.swift, Sources/Numerics/CosineRandomField.swift,
Solvers/Problems/Darcy.swift):

  * GRF: mu = sum_{k != 0} (pi^2 |k|^2 + tau^2)^(-alpha/2) xi_k cos(pi k_y y) cos(pi k_x x),
    k_a < R, xi_k iid N(0,1), evaluated at the R^2 cell centres (i + 1/2)/R; alpha = 2, tau = 3.
    Evaluated either as the dense separable product C @ (xi * s) @ C.T (what PDEKit does, BLAS
    gemm) or as an unnormalized 2D DCT-III (scipy.fft.dctn type 3, O(R^2 log R)) with the
    coefficients pre-scaled so both are the same sum (`--grf`, default: dct, the faster one
    here; both are checked to agree).
  * a = 12 where mu >= 0, 3 elsewhere; f = 1.
  * Cell-centred TPFA finite volumes, harmonic face means T_PQ = 2 a_P a_Q/(a_P + a_Q)/h^2,
    boundary faces T_P = 2 a_P/h^2 (zero Dirichlet), rows divided by h^2: A u = f.
    The sparsity pattern and the CSC gather permutation are built once per process; per sample
    the face transmissibilities and diagonal are computed with numpy and gathered into the
    CSC value array (no COO->CSC conversion per sample).
  * Solve with scikit-sparse CHOLMOD: `analyze` once per process (same fill-reducing ordering
    CHOLMOD chooses for PDEKit: default ordering methods), `cholesky_inplace` per sample
    (numeric factorization only), then the two triangular solves. Fallback when sksparse is not
    importable (or `--solver amg`): pyamg smoothed-aggregation-preconditioned CG at rtol 1e-10.
  * Diagnostics per sample, as PDEKit: sample_seed (the same SplitMix64 per-sample seed
    PDEKit derives, though the Gaussian generator differs: numpy PCG64 vs PDEKit Philox),
    solver_iterations (0 for CHOLMOD), solver_relative_residual ||b - A u||/||b|| (computed as
    PDEKit does), solve_seconds (factorization + solve).
  * Output: NetCDF-4 via netCDF4-python, float32 `coefficient` and `solution` shaped
    (sample, y, x), sample unlimited, chunks of one sample, zlib level 1 with shuffle (what
    PDEKit's nc_def_var_deflate(…, shuffle=1, deflate=1, level=1) does), coordinate variables
    y, x and the diagnostics variables; written to OUT.tmp and renamed to OUT at the end.

Processes: a multiprocessing pool of `--processes` workers (default 2; fork) computes samples
in chunks; the parent is the single writer and appends samples in order as they arrive.
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS are forced to 1 before numpy loads.

Prints one JSON line: wall seconds inside the script (imports excluded; the runner times the
whole command including interpreter start-up) and samples/s.

Validation (`--validate PDEKIT.nc`): reads `coefficient` of sample 0 from PDEKit's file,
builds this script's matrix for it, solves, and compares with PDEKit's `solution` of sample 0
(relative max and 2-norm error; float32 storage => ~1e-7 expected, must be < 1e-5). Also
compares statistics of this script's samples with PDEKit's (different RNGs: only statistics).
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import scipy.fft  # noqa: E402
import scipy.sparse as sp  # noqa: E402

try:
    import sksparse.cholmod as skc  # noqa: E402
    HAVE_SKSPARSE = True
except Exception:  # pragma: no cover - depends on the venv
    HAVE_SKSPARSE = False

ALPHA, TAU, A_PLUS, A_MINUS, SOURCE = 2.0, 3.0, 12.0, 3.0, 1.0
MASK64 = (1 << 64) - 1


def sample_seed(run_seed, index):
    """PDEKit's sampleSeed(runSeed:index:) (SplitMix64 finalizer), bit for bit."""
    def mix(z):
        z = (z + 0x9E3779B97F4A7C15) & MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)
    return mix((run_seed ^ mix(index)) & MASK64)


# ----------------------------------------------------------------------------------------------
# GRF
class CosineField:
    def __init__(self, n, alpha=ALPHA, tau=TAU, method="dct"):
        self.n = n
        self.method = method
        k = np.arange(n, dtype=np.float64)
        k2 = k[:, None] ** 2 + k[None, :] ** 2
        s = (np.pi ** 2 * k2 + tau * tau) ** (-alpha / 2)
        s[0, 0] = 0.0
        self.sqrt_eigen = s
        # C[i, k] = cos(pi k (i + 1/2)/n)
        self.C = np.cos(np.pi * np.outer(np.arange(n) + 0.5, k) / n)
        self.CT = np.ascontiguousarray(self.C.T)
        # Unnormalized DCT-III: y_i = x_0 + 2 sum_{k>=1} x_k cos(pi k (2i+1)/(2n)); so feed c_k/2
        # for k >= 1 along each axis.
        w = np.full(n, 0.5)
        w[0] = 1.0
        self.dct_scale = s * w[:, None] * w[None, :]

    def synthesize(self, xi):
        if self.method == "matmul":
            return self.C @ (xi * self.sqrt_eigen) @ self.CT
        return scipy.fft.dctn(xi * self.dct_scale, type=3, norm=None, overwrite_x=True, workers=1)

    def sample(self, seed):
        xi = np.random.default_rng(seed).standard_normal((self.n, self.n))
        return self.synthesize(xi)


# ----------------------------------------------------------------------------------------------
# FV Darcy operator with a fixed pattern
class DarcyOperator:
    """A(a) for the R x R cell grid; pattern and gather permutation built once."""

    def __init__(self, n):
        self.n = n
        N = n * n
        h = 1.0 / n
        self.ih2 = 1.0 / (h * h)
        p = np.arange(N).reshape(n, n)
        xl, xr = p[:, :-1].ravel(), p[:, 1:].ravel()      # x-faces (fast axis)
        yl, yr = p[:-1, :].ravel(), p[1:, :].ravel()      # y-faces (slow axis)
        diag = p.ravel()
        # Value slots: [D (N), tx (n(n-1)), ty (n(n-1))]; off-diagonals take -t.
        nd, nx, ny = N, xl.size, yl.size
        slot_d = np.arange(nd)
        slot_x = nd + np.arange(nx)
        slot_y = nd + nx + np.arange(ny)
        # Full symmetric matrix (for the residual) and its lower triangle (for CHOLMOD).
        rows = np.concatenate([diag, xl, xr, yl, yr])
        cols = np.concatenate([diag, xr, xl, yr, yl])
        slots = np.concatenate([slot_d, slot_x, slot_x, slot_y, slot_y])
        sign = np.concatenate([np.ones(nd), -np.ones(2 * nx), -np.ones(2 * ny)])
        self.full = self._gather_structure(rows, cols, slots, sign, N)
        lower = rows >= cols
        self.lower = self._gather_structure(rows[lower], cols[lower], slots[lower], sign[lower], N)
        self.nvals = nd + nx + ny
        self.vals = np.empty(self.nvals)

    @staticmethod
    def _gather_structure(rows, cols, slots, sign, N):
        m = sp.coo_matrix((np.arange(rows.size, dtype=np.float64), (rows, cols)), shape=(N, N)).tocsc()
        m.sort_indices()
        order = m.data.astype(np.int64)
        return dict(indptr=m.indptr.astype(np.int32), indices=m.indices.astype(np.int32),
                    slots=slots[order], sign=sign[order], shape=(N, N))

    def values(self, a):
        """Fills self.vals = [diagonal, tx, ty] (transmissibilities already / h^2)."""
        n, ih2 = self.n, self.ih2
        tx = (2.0 * ih2) * a[:, :-1] * a[:, 1:] / (a[:, :-1] + a[:, 1:])
        ty = (2.0 * ih2) * a[:-1, :] * a[1:, :] / (a[:-1, :] + a[1:, :])
        d = np.zeros((n, n))
        d[:, :-1] += tx
        d[:, 1:] += tx
        d[:-1, :] += ty
        d[1:, :] += ty
        b = (2.0 * ih2) * a
        d[:, 0] += b[:, 0]
        d[:, -1] += b[:, -1]
        d[0, :] += b[0, :]
        d[-1, :] += b[-1, :]
        v = self.vals
        N = n * n
        v[:N] = d.ravel()
        v[N:N + tx.size] = tx.ravel()
        v[N + tx.size:] = ty.ravel()
        return v

    def matrix(self, v, which="lower"):
        s = self.full if which == "full" else self.lower
        data = v[s["slots"]] * s["sign"]
        return sp.csc_matrix((data, s["indices"], s["indptr"]), shape=s["shape"])


# ----------------------------------------------------------------------------------------------
# Per-process worker state
_STATE = {}


def _init_worker(n, grf, solver, mode):
    op = DarcyOperator(n)
    field = CosineField(n, method=grf)
    st = dict(op=op, field=field, solver=solver, b=np.full(n * n, SOURCE), factor=None, mode=mode)
    if solver == "cholmod":
        # Symbolic analysis once per process on the (value-independent) pattern.
        a0 = np.full((n, n), A_PLUS)
        st["factor"] = skc.analyze(op.matrix(op.values(a0)), mode=mode)
    _STATE.clear()
    _STATE.update(st)


def _solve(st, a):
    op, b = st["op"], st["b"]
    v = op.values(a)
    t0 = time.perf_counter()
    if st["solver"] == "cholmod":
        f = st["factor"]
        f.cholesky_inplace(op.matrix(v))
        u = f(b)
        its = 0
    else:
        import pyamg
        A = op.matrix(v, "full").tocsr()
        ml = pyamg.smoothed_aggregation_solver(A, symmetry="symmetric")
        res = []
        u = ml.solve(b, tol=1e-10, accel="cg", maxiter=500, residuals=res)
        its = len(res) - 1
    secs = time.perf_counter() - t0
    Afull = op.matrix(v, "full")
    r = np.linalg.norm(b - Afull @ u) / np.linalg.norm(b)
    return u, its, r, secs


def _compute(indices, run_seed):
    st = _STATE
    n = st["op"].n
    out = []
    for i in indices:
        seed = sample_seed(run_seed, i)
        mu = st["field"].sample(seed)
        a = np.where(mu >= 0, A_PLUS, A_MINUS)
        u, its, r, secs = _solve(st, a)
        out.append((i, a.astype(np.float32), u.reshape(n, n).astype(np.float32), seed, its, r, secs))
    return out


def _compute_task(task):
    return _compute(*task)


# ----------------------------------------------------------------------------------------------
# Writer (parent only)
def create_file(path, n, samples, solver_desc):
    import netCDF4
    ds = netCDF4.Dataset(path, "w", format="NETCDF4")
    ds.createDimension("sample", None)
    ds.createDimension("y", n)
    ds.createDimension("x", n)
    centres = (np.arange(n) + 0.5) / n
    for name in ("y", "x"):
        c = ds.createVariable(name, "f8", (name,))
        c.units = "1"
        c.long_name = f"{name} coordinate on the unit domain"
        c.axis = name.upper()
        c[:] = centres
    kw = dict(zlib=True, complevel=1, shuffle=True, chunksizes=(1, n, n))
    va = ds.createVariable("coefficient", "f4", ("sample", "y", "x"), **kw)
    va.long_name = f"permeability a ({A_PLUS} where the Neumann GRF >= 0, {A_MINUS} elsewhere)"
    va.units = "1"
    va.pdekit_role = "input"
    vu = ds.createVariable("solution", "f4", ("sample", "y", "x"), **kw)
    vu.long_name = "pressure u"
    vu.units = "1"
    vu.pdekit_role = "target"
    diag = {}
    for name, typ, long, units in [
        ("sample_seed", "u8", "random seed (stream) of the sample's inputs", "1"),
        ("solver_iterations", "i4", "linear solver iterations", "1"),
        ("solver_relative_residual", "f8", "final relative residual ||b - A x|| / ||b||", "1"),
        ("solve_seconds", "f8", "wall-clock time of the solve", "s"),
    ]:
        v = ds.createVariable(name, typ, ("sample",))
        v.long_name = long
        v.units = units
        diag[name] = v
    ds.setncatts({
        "Conventions": "CF-1.10",
        "title": f"Darcy flow, {n}^2 cells, {samples} samples (Python peer of PDEKit recipe 'darcy')",
        "pde": "darcy", "equation": f"-div(a grad u) = f, f = {SOURCE}",
        "boundary_conditions": "u = 0 on the whole boundary of the unit square",
        "discretization": f"cell-centred finite volumes, {n}^2 cells, harmonic-mean face coefficients",
        "solver": solver_desc, "generator": "bench/generate/darcy_peer.py",
    })
    return ds, va, vu, diag


def versions():
    from importlib.metadata import version
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    for dist in ("scipy", "scikit-sparse", "pyamg", "netCDF4"):
        try:
            out[dist] = version(dist)
        except Exception:
            out[dist] = None
    try:
        import netCDF4
        out["netcdf-c"] = netCDF4.__netcdf4libversion__
        out["hdf5"] = netCDF4.__hdf5libversion__
    except Exception:
        pass
    return out


def generate(args):
    import multiprocessing as mp
    n, N = args.resolution, args.samples
    solver = args.solver
    if solver == "cholmod" and not HAVE_SKSPARSE:
        print("WARNING: scikit-sparse not importable; falling back to pyamg SA-CG (rtol 1e-10)", file=sys.stderr)
        solver = "amg"
    desc = ("scikit-sparse CHOLMOD (symbolic analysis once per process, cholesky_inplace per sample)"
            if solver == "cholmod" else "pyamg smoothed aggregation + CG, rtol 1e-10")
    tmp = args.out + ".tmp"
    for p in (tmp, args.out):
        if os.path.exists(p):
            os.remove(p)
    t0 = time.perf_counter()
    ds, va, vu, diag = create_file(tmp, n, N, desc)
    cs = args.chunk
    tasks = [(list(range(s, min(N, s + cs))), args.seed) for s in range(0, N, cs)]
    written = 0

    def write(batch):
        nonlocal written
        for (i, a, u, seed, its, r, secs) in batch:
            assert i == written
            va[i] = a
            vu[i] = u
            diag["sample_seed"][i] = seed
            diag["solver_iterations"][i] = its
            diag["solver_relative_residual"][i] = r
            diag["solve_seconds"][i] = secs
            written += 1

    initargs = (n, args.grf, solver, args.cholmod_mode)
    if args.processes <= 1:
        _init_worker(*initargs)
        for t in tasks:
            write(_compute_task(t))
    else:
        ctx = mp.get_context("fork")
        with ctx.Pool(args.processes, initializer=_init_worker, initargs=initargs) as pool:
            for batch in pool.imap(_compute_task, tasks):
                write(batch)
    worst = float(np.max(diag["solver_relative_residual"][:]))
    ds.close()
    os.replace(tmp, args.out)
    t1 = time.perf_counter()
    rec = dict(suite="generate", side="peer", impl=f"python_{solver}", resolution=n, samples=N,
               processes=args.processes, grf=args.grf, cholmod_mode=args.cholmod_mode if solver == "cholmod" else None,
               seconds_in_script=t1 - t0, seconds_incl_imports=t1 - T_START,
               samples_per_second_in_script=N / (t1 - t0), worst_relative_residual=worst, versions=versions())
    print(json.dumps(rec), flush=True)


# ----------------------------------------------------------------------------------------------
# Validation against a PDEKit file and phase timing
def validate(args):
    import netCDF4
    res = {}
    with netCDF4.Dataset(args.validate) as ds:
        a = np.asarray(ds["coefficient"][0], dtype=np.float64)
        upk = np.asarray(ds["solution"][0], dtype=np.float64)
        n = a.shape[0]
        stats_pk = dict(frac_a_plus=float(np.mean(ds["coefficient"][:] == A_PLUS)),
                        u_mean=float(np.mean(ds["solution"][:])), u_max_mean=float(np.mean(np.max(ds["solution"][:], axis=(1, 2)))))
        seeds_pk = np.asarray(ds["sample_seed"][:], dtype=np.uint64)
        nsamp = len(seeds_pk)
    res["resolution"] = n
    res["sample_seed_match"] = bool(all(int(seeds_pk[i]) == sample_seed(0, i) for i in range(nsamp)))
    solver = "cholmod" if HAVE_SKSPARSE else "amg"
    _init_worker(n, args.grf, solver, args.cholmod_mode)
    u, _, r, _ = _solve(_STATE, a)
    u = u.reshape(n, n)
    res["same_operator_rel_max_err"] = float(np.max(np.abs(u - upk)) / np.max(np.abs(upk)))
    res["same_operator_rel_l2_err"] = float(np.linalg.norm(u - upk) / np.linalg.norm(upk))
    res["same_operator_pass"] = res["same_operator_rel_max_err"] < 1e-5
    res["peer_relative_residual"] = float(r)
    # GRF: dct and matmul evaluate the same sum.
    xi = np.random.default_rng(1).standard_normal((n, n))
    m1 = CosineField(n, method="matmul").synthesize(xi.copy())
    m2 = CosineField(n, method="dct").synthesize(xi.copy())
    res["grf_dct_vs_matmul_rel_err"] = float(np.max(np.abs(m1 - m2)) / np.max(np.abs(m1)))
    # Statistics (different RNGs: statistics only).
    peer = _compute(range(min(nsamp, 64)), 0)
    A = np.stack([p[1] for p in peer])
    U = np.stack([p[2] for p in peer])
    res["stats_pdekit"] = stats_pk
    res["stats_peer"] = dict(frac_a_plus=float(np.mean(A == A_PLUS)), u_mean=float(np.mean(U)),
                             u_max_mean=float(np.mean(np.max(U, axis=(1, 2)))))
    print(json.dumps(dict(suite="generate", kind="validation", **res)), flush=True)
    return 0 if res["same_operator_pass"] and res["grf_dct_vs_matmul_rel_err"] < 1e-10 else 1


def phases(args):
    """Single-process per-phase timing (ms/sample), for the report's notes."""
    n = args.resolution
    solver = "cholmod" if HAVE_SKSPARSE else "amg"
    out = {}
    for grf in ("matmul", "dct"):
        _init_worker(n, grf, solver, args.cholmod_mode)
        st = _STATE
        reps = args.samples
        t = {"grf": 0.0, "assemble": 0.0, "factor": 0.0, "solve": 0.0, "residual": 0.0}
        for i in range(reps):
            t0 = time.perf_counter()
            mu = st["field"].sample(sample_seed(0, i))
            a = np.where(mu >= 0, A_PLUS, A_MINUS)
            t1 = time.perf_counter()
            op = st["op"]
            v = op.values(a)
            L = op.matrix(v)
            t2 = time.perf_counter()
            st["factor"].cholesky_inplace(L)
            t3 = time.perf_counter()
            u = st["factor"](st["b"])
            t4 = time.perf_counter()
            np.linalg.norm(st["b"] - op.matrix(v, "full") @ u)
            t5 = time.perf_counter()
            for k, d in zip(t, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                t[k] += d
        out[grf] = {k: 1e3 * v / reps for k, v in t.items()}
    print(json.dumps(dict(suite="generate", kind="phases_ms_per_sample", resolution=n, **out)), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="darcy-peer.nc")
    ap.add_argument("--solver", choices=["cholmod", "amg"], default="cholmod")
    ap.add_argument("--grf", choices=["dct", "matmul"], default="dct")
    ap.add_argument("--cholmod-mode", choices=["auto", "supernodal", "simplicial"], default="auto")
    ap.add_argument("--chunk", type=int, default=4, help="samples per pool task")
    ap.add_argument("--validate", metavar="PDEKIT_NC", help="check the operator against a PDEKit file and exit")
    ap.add_argument("--phases", action="store_true", help="time the phases in one process and exit")
    args = ap.parse_args()
    if args.validate:
        return validate(args)
    if args.phases:
        return phases(args)
    generate(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
