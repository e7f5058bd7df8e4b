#!/usr/bin/env python3
"""Writes bench/generate/RESULTS-generate.md from a generate-raw-*.jsonl file (stdlib only).

    python3 bench/generate/report.py bench/results/generate-raw-<UTC>.jsonl [--out FILE]

Per resolution: median samples/s over rounds for PDEKit and the Python peer (whole-command wall
time), the per-round range, ratio PDEKit/peer and the goal (PASS when the ratio is >= 2).
Also the same-operator validation, the machine, library versions and a per-phase breakdown.
"""
import argparse
import json
import os
import statistics
import sys

GOAL = 2.0


def load(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    return recs


def fmt(x, nd=2):
    return "—" if x is None else f"{x:.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS-generate.md"))
    args = ap.parse_args()
    recs = load(args.raw)
    meta = next((r for r in recs if r.get("kind") == "meta"), {})
    runs = [r for r in recs if r.get("kind") == "run"]
    vals = {r["resolution"]: r for r in recs if r.get("kind") == "validation"}
    pk_ph = {r["resolution"]: r for r in recs if r.get("kind") == "pdekit_phases"}
    py_ph = {r["resolution"]: r for r in recs if r.get("kind") == "phases_ms_per_sample"}
    resolutions = sorted({r["resolution"] for r in runs})
    N = meta.get("samples")

    lines = []
    L = lines.append
    L("# Dataset generation: `pdekit generate darcy` vs a Python pipeline")
    L("")
    L(f"Raw data: `bench/results/{os.path.basename(args.raw)}` · date (UTC): {meta.get('utc', '?')} · "
      f"{meta.get('rounds', '?')} rounds · {N} samples per run · goal: PDEKit ≥ {GOAL:g}× the Python samples/s.")
    L("")
    L("Samples/s = N / wall time of the whole command (process start-up, GRF, assembly, CHOLMOD, float32 "
      "NetCDF-4 writing with deflate 1, closing/merging the file). Median over rounds; range in brackets. "
      "PDEKit and the peer run back to back, alternating who goes first.")
    L("")
    L("| resolution | PDEKit samples/s | Python samples/s | ratio PDEKit/Python | goal ≥ 2× |")
    L("|---|---|---|---|---|")
    summary = []
    for res in resolutions:
        def side(s):
            v = [r["samples_per_second"] for r in runs if r["resolution"] == res and r["side"] == s and r["returncode"] == 0]
            return v
        pk, py = side("pdekit"), side("peer")
        if not pk or not py:
            L(f"| {res}² | {fmt(statistics.median(pk)) if pk else 'FAILED'} | {fmt(statistics.median(py)) if py else 'FAILED'} | — | MISS |")
            summary.append((res, None))
            continue
        mp, my = statistics.median(pk), statistics.median(py)
        ratio = mp / my
        verdict = "**PASS**" if ratio >= GOAL else "**MISS**"
        L(f"| {res}² | {mp:.2f} [{min(pk):.2f}–{max(pk):.2f}] | {my:.2f} [{min(py):.2f}–{max(py):.2f}] | "
          f"{ratio:.2f}× | {verdict} |")
        summary.append((res, ratio))
    L("")
    failed = [r for r in runs if r["returncode"] != 0]
    if failed:
        L(f"**{len(failed)} run(s) failed**: " + "; ".join(f"R={r['resolution']} {r['side']} round {r['round']} rc={r['returncode']}" for r in failed))
        L("")
    L("Per round (seconds of wall time; load average before the run in brackets):")
    L("")
    L("| resolution | side | " + " | ".join(f"round {k}" for k in range(1, (meta.get('rounds') or 0) + 1)) + " |")
    L("|---|---|" + "---|" * (meta.get("rounds") or 0))
    for res in resolutions:
        for s in ("pdekit", "peer"):
            cells = []
            for k in range(1, (meta.get("rounds") or 0) + 1):
                r = next((r for r in runs if r["resolution"] == res and r["side"] == s and r["round"] == k), None)
                cells.append("—" if r is None else f"{r['wall_seconds']:.2f} s [{r.get('loadavg_before', 0):.1f}]")
            L(f"| {res}² | {s} | " + " | ".join(cells) + " |")
    L("")

    L("## Commands")
    L("")
    L(f"- PDEKit: `{meta.get('pdekit_command', '?')}` (binary from `swift build -c release --scratch-path .build-gen --product pdekit`)")
    L(f"- Python: `{meta.get('peer_command', '?')}` (`bench/.venv/bin/python`; OPENBLAS/OMP/MKL_NUM_THREADS=1)")
    L("- Runner: `bench/generate/run.sh` (→ `driver.py`, then `report.py`); crash-resume check: `bench/generate/crash_resume.sh`.")
    L("")
    L("## The Python peer (`bench/generate/darcy_peer.py`)")
    L("")
    pr = next((r.get("peer_report") for r in runs if r.get("peer_report")), {}) or {}
    solver_used = pr.get("impl", "python_cholmod")
    L("Same recipe as `DarcyRecipe`: zero-Neumann cosine-series GRF (α = 2, τ = 3, k = 0 dropped) at the R² cell "
      f"centres via an unnormalized 2D DCT-III (scipy.fft.dctn, {pr.get('grf', 'dct')}; checked equal to the dense "
      "C·X·Cᵀ product PDEKit uses), a = 12/3 by sign, TPFA finite volumes with harmonic face means and zero "
      "Dirichlet faces at half-cell distance, f = 1; pattern and CSC gather permutation built once per process; "
      + ("scikit-sparse CHOLMOD (`analyze` once per process, `cholesky_inplace` per sample, same Debian libcholmod "
         "as PDEKit)" if solver_used == "python_cholmod" else "**pyamg SA-CG, rtol 1e-10 (scikit-sparse unavailable)**")
      + "; relative residual per sample; netCDF4 float32, zlib 1 + shuffle, one sample per chunk, unlimited `sample`, "
      "same variables and diagnostics. A pool of 2 worker processes computes, the parent is the single writer.")
    L("")
    if vals:
        L("Same-operator check (PDEKit's `coefficient` of sample 0 fed to the peer's assembly + solve, compared with "
          "PDEKit's `solution` of sample 0; float32 storage):")
        L("")
        L("| resolution | rel. max error | rel. 2-norm error | pass (< 1e-5) | a = 12 fraction PDEKit / peer | mean u PDEKit / peer | sample_seed equal |")
        L("|---|---|---|---|---|---|---|")
        for res in sorted(vals):
            v = vals[res]
            if "same_operator_rel_max_err" not in v:
                L(f"| {res}² | error: {v.get('error', '?')[:80]} | | FAIL | | | |")
                continue
            spk, spe = v["stats_pdekit"], v["stats_peer"]
            L(f"| {res}² | {v['same_operator_rel_max_err']:.1e} | {v['same_operator_rel_l2_err']:.1e} | "
              f"{'yes' if v['same_operator_pass'] else '**NO**'} | {spk['frac_a_plus']:.3f} / {spe['frac_a_plus']:.3f} | "
              f"{spk['u_mean']:.4g} / {spe['u_mean']:.4g} | {'yes' if v['sample_seed_match'] else 'no'} |")
        L("")

    if pk_ph or py_ph:
        L("## Where the time goes (untimed diagnostics)")
        L("")
        L("PDEKit, 1 thread, 40 samples: whole-command ms/sample vs the `solve_seconds` it stores (CHOLMOD "
          "analysis/refactorization + triangular solves). Python peer, 1 process: ms/sample per phase "
          "(GRF via DCT, assembly, numeric factorization, solve, residual).")
        L("")
        L("| resolution | PDEKit total ms/sample | PDEKit solve ms/sample | PDEKit other | Python GRF | assembly | factor | solve | residual |")
        L("|---|---|---|---|---|---|---|---|---|")
        for res in sorted(set(pk_ph) | set(py_ph)):
            p = pk_ph.get(res, {})
            q = (py_ph.get(res) or {}).get("dct", {})
            tot = 1e3 * p["wall_seconds"] / p["samples"] if p.get("returncode") == 0 else None
            sol = 1e3 * p["sum_solve_seconds"] / p["samples"] if p.get("returncode") == 0 else None
            L(f"| {res}² | {fmt(tot, 1)} | {fmt(sol, 1)} | {fmt(None if tot is None else tot - sol, 1)} | "
              + " | ".join(fmt(q.get(k), 2) for k in ("grf", "assemble", "factor", "solve", "residual")) + " |")
        L("")
        pkruns = [r for r in runs if r["side"] == "pdekit" and r["returncode"] == 0 and "sum_solve_seconds" in r]
        if pkruns:
            L("Share of PDEKit's 2-thread wall time spent in its solves (sum of `solve_seconds` / 2 threads / wall):")
            L("")
            for res in resolutions:
                rr = [r for r in pkruns if r["resolution"] == res]
                if rr:
                    share = statistics.median(r["sum_solve_seconds"] / (meta.get("threads") or 2) / r["wall_seconds"] for r in rr)
                    L(f"- {res}²: {100 * share:.0f} %")
            L("")

    L("## Notes (structural, from reading the code and `perf` profiles of PDEKit, 1 thread)")
    L("")
    L("- Solvers: PDEKit's default is CHOLMOD at 64² (supernodal LLᵀ forced; CHOLMOD's `auto`, used by the "
      "peer, picks simplicial there) and SA-AMG-CG (rtol 1e-10) from 128²; the peer factors every sample with "
      "scikit-sparse CHOLMOD (same Debian libcholmod). The Same-operator table above checks that both solve "
      "the same system to float32 precision.")
    L("- AMG-CG at 256² (perf, 2026-11-27): V-cycle ~45 % (fine-level Gauss–Seidel on diagonal storage, "
      "coarse levels on CSR, transfers), AMG refresh per sample ~20 % (Galerkin products, the ρ(D⁻¹A) "
      "estimate, candidate smoothing), CG vectors and products ~9 %, deflate ~6 % (both sides compress), "
      "GRF (dense DCT by gemm) and assembly ~5 %.")
    L("- Each worker keeps its solver across batches (one symbolic analysis / AMG structure per worker); the "
      "recipes' matrices skip the solver's symmetry check (symmetric by construction); parts are deflated by "
      "the workers and merged by copying compressed chunks.")
    L("- The peer pays interpreter start-up and imports (~0.5–1 s per command) and pickling results to the writer "
      "process; the parent writer competes with the 2 workers for the 2 cores. PDEKit pays its own start-up "
      "(~0.1 s, including one re-exec to pick OpenBLAS's SkylakeX kernels).")
    L("")
    L("## Machine and versions")
    L("")
    m = meta.get("machine", {})
    L(f"- CPU: {m.get('cpu', '?')}, {m.get('cores', '?')} cores (shared, noisy); {m.get('os', '')}, kernel {m.get('kernel', '')}; "
      f"load average at start {m.get('loadavg')}")
    L(f"- PDEKit: {meta.get('pdekit_version', '?')}; Debian libcholmod3 {meta.get('cholmod', '?')}, "
      f"libnetcdf {meta.get('libnetcdf', '?')}, OpenBLAS {meta.get('openblas_debian', '?')}")
    v = meta.get("python_versions", {})
    L(f"- Python {v.get('python', '?')}: numpy {v.get('numpy')}, scipy {v.get('scipy')}, scikit-sparse {v.get('scikit-sparse')}, "
      f"pyamg {v.get('pyamg')}, netCDF4 {v.get('netCDF4')} (netcdf-c {v.get('netcdf-c')}, HDF5 {v.get('hdf5')})")
    L("")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if all(r is not None for _, r in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
