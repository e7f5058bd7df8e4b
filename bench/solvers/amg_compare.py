#!/usr/bin/env python3
"""PDEKit SmoothedAggregationAMG vs pyamg smoothed_aggregation_solver, as a CG preconditioner.

Problems (written by the PDEKit side as Matrix Market files, so both sides solve the same
matrices): the 2D 5-point Poisson matrix on a 256x256 grid, and a cell-centred finite-volume
Darcy matrix on 256x256 cells with harmonic face averages of an FNO-style coefficient (a
Gaussian random field thresholded to 12 / 3). Right-hand side b = 1, x0 = 0, stopping rule
||b - A x|| <= 1e-8 ||b|| on both sides.

PDEKit side: `AMGTests/benchmark` (Tests/SolversTests/AMGTests.swift), run in release with
AMG_BENCH_DIR set; it times setup (`setupSeconds`), the CG solve (`SolverStats.seconds`),
one V-cycle, and `update` for a second Darcy coefficient, medians over --reps.

pyamg side, defaults of pyamg 5.x: `ml = smoothed_aggregation_solver(A)` timed as setup, then
  - `ml.solve(b, tol=1e-8, accel='cg')` (pyamg's own CG, criterion ||r|| < tol ||b||), and
  - `scipy.sparse.linalg.cg(A, b, rtol=1e-8, atol=0, M=ml.aspreconditioner())`,
medians over --reps. pyamg has no refresh for a new matrix with the same pattern (issues
#219/#295): its "update" is a fresh setup.

Usage:
  bench/.venv/bin/python bench/solvers/amg_compare.py                 # builds + runs both sides
  bench/.venv/bin/python bench/solvers/amg_compare.py --skip-swift    # reuse the PDEKit results
Stdout: a comparison table; --json FILE also writes all records as JSON lines.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.io  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402
import pyamg  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run_swift(out_dir, n, reps):
    env = dict(os.environ, AMG_BENCH_DIR=out_dir, AMG_BENCH_N=str(n), AMG_BENCH_REPS=str(reps))
    env.pop("OPENBLAS_CORETYPE", None)
    cmd = ["swift", "test", "-c", "release", "--scratch-path", ".build-amg", "--filter", "AMGTests/benchmark"]
    log("running:", " ".join(cmd))
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        log(r.stdout[-4000:], r.stderr[-4000:])
        raise SystemExit("swift benchmark failed")
    for line in r.stdout.splitlines():
        if line.startswith(("SmoothedAggregationAMG", " level", "     ", "operator", "coarse", "setup")):
            log(line)


def pyamg_side(path, path_b, reps):
    a = sp.csr_array(scipy.io.mmread(path))
    a.sort_indices()
    n = a.shape[0]
    b = np.ones(n)
    setups, solves, scipy_solves, cycles = [], [], [], []
    it_pyamg = it_scipy = None
    for rep in range(reps):
        np.random.seed(rep)
        t0 = time.perf_counter()
        ml = pyamg.smoothed_aggregation_solver(a)
        setups.append(time.perf_counter() - t0)

        res = []
        t0 = time.perf_counter()
        x = ml.solve(b, tol=1e-8, accel="cg", residuals=res, maxiter=500)
        solves.append(time.perf_counter() - t0)
        it_pyamg = len(res) - 1
        rel_pyamg = np.linalg.norm(b - a @ x) / np.linalg.norm(b)

        m = ml.aspreconditioner(cycle="V")
        count = [0]

        def cb(_xk):
            count[0] += 1

        t0 = time.perf_counter()
        x2, info = spla.cg(a, b, rtol=1e-8, atol=0.0, M=m, callback=cb, maxiter=500)
        scipy_solves.append(time.perf_counter() - t0)
        it_scipy = count[0]
        rel_scipy = np.linalg.norm(b - a @ x2) / np.linalg.norm(b)

        t0 = time.perf_counter()
        m @ b
        cycles.append(time.perf_counter() - t0)
    levels = [[lvl.A.shape[0], lvl.A.nnz] for lvl in ml.levels]
    rec = {
        "side": "pyamg",
        "levels": levels,
        "operator_complexity": ml.operator_complexity(),
        "grid_complexity": ml.grid_complexity(),
        "setup_s": statistics.median(setups),
        "solve_s": statistics.median(solves),
        "iterations": it_pyamg,
        "relative_residual": rel_pyamg,
        "scipy_cg_solve_s": statistics.median(scipy_solves),
        "scipy_cg_iterations": it_scipy,
        "scipy_cg_relative_residual": rel_scipy,
        "cycle_s": statistics.median(cycles),
    }
    if path_b:
        a2 = sp.csr_array(scipy.io.mmread(path_b))
        a2.sort_indices()
        res = []
        ml2 = pyamg.smoothed_aggregation_solver(a2)
        ml2.solve(b, tol=1e-8, accel="cg", residuals=res, maxiter=500)
        rec["second_matrix_iterations"] = len(res) - 1
    return rec


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=256, help="grid size (default 256)")
    p.add_argument("--reps", type=int, default=7, help="timed repetitions, medians reported (default 7)")
    p.add_argument("--dir", default=os.path.join(ROOT, "bench", "results", "amg"), help="work directory")
    p.add_argument("--skip-swift", action="store_true", help="reuse pdekit.jsonl in --dir")
    p.add_argument("--json", help="also write all records to this JSON-lines file")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if not args.skip_swift:
        run_swift(args.dir, args.n, args.reps)
    pdekit = {}
    with open(os.path.join(args.dir, "pdekit.jsonl")) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                pdekit[r["problem"]] = r
    records = []
    log(f"pyamg {pyamg.__version__}, scipy {scipy.__version__}, numpy {np.__version__}")
    for name, sw in pdekit.items():
        path = os.path.join(args.dir, f"{name}.mtx")
        path_b = os.path.join(args.dir, f"{name}_b.mtx")
        py = pyamg_side(path, path_b if os.path.exists(path_b) else None, args.reps)
        py["problem"] = name
        records += [sw, py]
        print(f"\n## {name}: n = {sw['levels'][0][0]}, nnz = {sw['levels'][0][1]}")
        print(f"{'':26} {'PDEKit':>12} {'pyamg':>12} {'ratio':>8}")

        def row(label, a, b, fmt="{:12.4f}", better_low=True):
            ratio = a / b if b else float("nan")
            print(f"{label:26} {fmt.format(a)} {fmt.format(b)} {ratio:8.2f}")

        print(f"{'levels (rows)':26} {str([l[0] for l in sw['levels']])}")
        print(f"{'':26} {str([l[0] for l in py['levels']])}")
        row("operator complexity", sw["operator_complexity"], py["operator_complexity"], "{:12.3f}")
        row("grid complexity", sw["grid_complexity"], py["grid_complexity"], "{:12.3f}")
        row("CG iterations (rtol 1e-8)", sw["iterations"], py["iterations"], "{:12d}")
        print(f"{'  scipy cg + ml precond':26} {'':12} {py['scipy_cg_iterations']:12d}")
        row("setup [ms]", 1e3 * sw["setup_s"], 1e3 * py["setup_s"], "{:12.2f}")
        row("solve [ms]", 1e3 * sw["solve_s"], 1e3 * py["solve_s"], "{:12.2f}")
        print(f"{'  scipy cg solve [ms]':26} {'':12} {1e3 * py['scipy_cg_solve_s']:12.2f}")
        row("setup + solve [ms]", 1e3 * (sw["setup_s"] + sw["solve_s"]), 1e3 * (py["setup_s"] + py["solve_s"]),
            "{:12.2f}")
        row("one V-cycle [ms]", 1e3 * sw["cycle_s"], 1e3 * py["cycle_s"], "{:12.3f}")
        if sw.get("update_s") is not None:
            row("update vs fresh setup [ms]", 1e3 * sw["update_s"], 1e3 * py["setup_s"], "{:12.2f}")
            print(f"{'  iterations on 2nd matrix':26} {sw['update_iterations']:12d} "
                  f"{py.get('second_matrix_iterations', -1):12d}   (PDEKit updated; fresh: {sw['fresh_iterations']})")
        it_ok = sw["iterations"] <= 1.2 * py["iterations"]
        t_ok = sw["setup_s"] + sw["solve_s"] <= py["setup_s"] + py["solve_s"]
        print(f"goal iterations <= 1.2x pyamg: {'PASS' if it_ok else 'MISS'}; "
              f"time (setup+solve) <= 1.0x pyamg: {'PASS' if t_ok else 'MISS'}")
    if args.json:
        with open(args.json, "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
