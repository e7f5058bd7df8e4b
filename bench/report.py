#!/usr/bin/env python3
"""Summarise bench/run.sh raw results files into bench/RESULTS.md (stdlib only).

    python3 bench/report.py bench/results/raw-<timestamp>.jsonl [more raw files] [--out bench/RESULTS.md]

Input: JSON lines written by bench/run.sh -- one "meta" line, then one line per
implementation per invocation, tagged with round, suite (fft|spmv|gemm|solvers), side
(pdekit|peer|export) and variant ("default", or "coretype_<CORE>" for the PDEKit gemm run
with OPENBLAS_CORETYPE=<CORE>). With several files, every suite is taken from the LAST file
that holds it (so a solvers-only run can be combined with the previous kernels run).

Solvers suite (section "Solvers"): records are grouped by (bench, impl); the time of a group
is the median over rounds of the per-sample median time per solve (setup + solve);
iterations and residuals are per sample. Goals are judged per problem size.

Aggregation: records are grouped by (suite, impl, variant). Each record already holds
the median over its --reps timed reps (median_s); the reported time of a group is the
MEDIAN OVER ROUNDS of those per-round medians (likewise gbps / gflops). The per-round
min-max range is shown as the round-to-round spread. Ratios are peer_time / PDEKit_time
(> 1 means PDEKit is faster). The markdown goes to --out; the tables and goal lines
are also printed to stdout.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Goals from the issue.
FFT_PYFFTW_MAX = 1.2      # pdekit_time / pyfftw_time <= 1.2
SPMV_SCIPY_MIN = 1.0      # scipy_csr_matvec_time / pdekit_time >= 1.0


# ----------------------------------------------------------------------------- loading

def load(path):
    meta, recs, other = {}, [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except ValueError:
                print(f"report.py: {path}:{n}: not JSON, skipped", file=sys.stderr)
                continue
            if d.get("meta"):
                meta = d
            elif d.get("meta_end"):
                meta.update({k: v for k, v in d.items() if k != "meta_end"})
            elif "export" in d or ("error" in d and "impl" in d):
                other.append(d)
            elif "median_s" in d and "impl" in d:
                d.setdefault("suite", guess_suite(d.get("bench", "")))
                d.setdefault("variant", "default")
                d.setdefault("round", 1)
                d.setdefault("side", "peer" if d["impl"] in PEERS.get(d["suite"], ()) else "pdekit")
                recs.append(d)
    return meta, recs, other


def guess_suite(bench):
    if bench.startswith("darcy") or bench.startswith("mm_read"):
        return "solvers"
    for s in ("fft", "spmv", "gemm"):
        if s in bench:
            return s
    return "gemm" if "sgemm" in bench else bench


PEERS = {"fft": ("pyfftw", "numpy", "numpy_out"),
         "spmv": ("scipy_csr_matvec", "scipy_matmul"),
         "gemm": ("numpy_matmul",)}


class Group:
    """All rounds of one (suite, impl, variant)."""

    def __init__(self, recs):
        self.recs = sorted(recs, key=lambda r: r["round"])
        r0 = self.recs[0]
        self.suite, self.impl, self.variant, self.side = r0["suite"], r0["impl"], r0["variant"], r0["side"]

    def by_round(self, key="median_s"):
        out = {}
        for r in self.recs:
            if r.get(key) is not None:
                out.setdefault(r["round"], []).append(r[key])
        return {k: statistics.median(v) for k, v in out.items()}

    def agg(self, key="median_s"):
        v = list(self.by_round(key).values())
        return statistics.median(v) if v else None

    def spread(self, key="median_s"):
        v = list(self.by_round(key).values())
        return (min(v), max(v)) if v else (None, None)

    def field(self, key):
        for r in self.recs:
            if r.get(key) is not None:
                return r[key]
        return None

    @property
    def rounds(self):
        return len(self.by_round())


def group(recs):
    g = {}
    for r in recs:
        g.setdefault((r["suite"], r["impl"], r["variant"]), []).append(r)
    return {k: Group(v) for k, v in g.items()}


def paired_ratios(a, b):
    """Per-round a_time / b_time for rounds where both groups have data."""
    if a is None or b is None:
        return {}
    ta, tb = a.by_round(), b.by_round()
    return {k: ta[k] / tb[k] for k in sorted(ta) if k in tb and tb[k] > 0}


# ----------------------------------------------------------------------------- formatting

def ms(t):
    if t is None:
        return "n/a"
    t *= 1e3
    return f"{t:.1f}" if t >= 100 else f"{t:.2f}" if t >= 10 else f"{t:.3f}"


def rng_ms(g):
    lo, hi = g.spread()
    return "n/a" if lo is None else ms(lo) if g.rounds == 1 else f"{ms(lo)}–{ms(hi)}"


def x(r, nd=2):
    return "n/a" if r is None else f"{r:.{nd}f}"


def rng(d, nd=2):
    v = list(d.values())
    if not v:
        return "n/a"
    return x(v[0], nd) if len(v) == 1 else f"{x(min(v), nd)}–{x(max(v), nd)}"


def straddle(d, thr):
    """Note when the per-round ratios fall on both sides of a goal threshold."""
    v = list(d.values())
    return (f" (borderline: per-round ratios straddle {thr})"
            if len(v) >= 2 and min(v) <= thr <= max(v) else "")


def verdict(ok):
    return "n/a (missing data)" if ok is None else ("**PASS**" if ok else "**MISS**")


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def openblas_version(config):
    # "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "0.3.21"
    parts = (config or "").split()
    return parts[1] if len(parts) > 1 and parts[0] == "OpenBLAS" else (config or "?")


# ----------------------------------------------------------------------------- machine

def live_machine():
    cpu, flags = None, ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k = k.strip()
                if k == "model name" and cpu is None:
                    cpu = v.strip()
                elif k == "flags" and not flags:
                    flags = v
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "avx512f": " avx512f" in f" {flags} ",
            "kernel": platform.uname().release}


# ----------------------------------------------------------------------------- report

def build(meta, recs, raw_rel):
    """The kernel sections (fft, spmv, gemm)."""
    G = group(recs)
    get = lambda suite, impl, variant="default": G.get((suite, impl, variant))
    core_variant = next((v for (_, _, v) in G if v.startswith("coretype_")), None)
    core_name = core_variant[len("coretype_"):] if core_variant else meta.get("coretype_variant", "SkylakeX")

    md, out = [], []   # md: full markdown; out: what goes to stdout (tables + goals)

    def emit(lines, stdout=True):
        md.extend(lines)
        if stdout:
            out.extend(lines)

    mach = live_machine()
    for k in ("nproc", "cpu_model", "avx512f", "kernel"):
        if meta.get(k) is not None:
            mach[k] = meta[k]
    rounds = meta.get("rounds") or max((r["round"] for r in recs), default=0)
    reps = meta.get("reps") or (recs[0].get("reps") if recs else None)
    warmup = meta.get("warmup", recs[0].get("warmup") if recs else None)
    command = meta.get("command") or f"bench/run.sh --rounds {rounds} --reps {reps}"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")

    if meta.get("quick") or (rounds or 0) < 2 or (reps or 0) < 10:
        emit([f"> **Smoke test only** ({rounds} round(s) × {reps} reps): these numbers are too noisy "
              "to judge the goals. Use `bench/run.sh` (default 3 rounds × 20 reps).", ""])
    emit([
        f"- **Date (UTC):** run started {meta.get('started_utc', 'unknown')}; report written {now}",
        f"- **Machine:** {mach['nproc']} CPUs (`nproc`), {mach['cpu_model']}"
        f"{' (AVX-512F)' if mach.get('avx512f') else ''}, kernel `{mach['kernel']}`"
        f" — shared machine, expect noise",
        f"- **Command:** `{command}` ({rounds} round(s) × {reps} timed reps, {warmup} warm-up reps "
        f"per invocation; PDEKit and peer run back to back in every round, order alternating)",
        f"- **Raw data:** `{raw_rel}`",
    ], stdout=False)
    if meta.get("git_commit"):
        emit([f"- **Source:** git `{meta['git_commit']}`{' + uncommitted changes' if meta.get('git_dirty') else ''}"
              f"{', ' + meta['swift'] if meta.get('swift') else ''}"], stdout=False)
    env = meta.get("env") or {}
    g_gemm = get("gemm", "pdekit")
    emit([
        f"- **Threads:** `OPENBLAS_NUM_THREADS={env.get('OPENBLAS_NUM_THREADS', '?')}`, "
        f"`OMP_NUM_THREADS={env.get('OMP_NUM_THREADS', '?')}` for every command (BLAS threads × "
        f"Swift threads ≤ 2 cores); FFT 1 thread on both sides; SpMV PDEKit 1 and 2 threads, scipy "
        f"single-threaded; sgemm 1 BLAS thread"
        f"{' (driver reports blas_threads=' + str(g_gemm.field('blas_threads')) + ')' if g_gemm else ''}. "
        f"`OPENBLAS_CORETYPE` is unset for every command except the PDEKit sgemm variant labelled with it.",
    ], stdout=False)

    # library versions
    lib = []
    f_pd, f_py = get("fft", "pdekit"), get("fft", "pyfftw")
    lib.append(f"  - FFTW: PDEKit links the system FFTW `{f_pd.field('fftw_version') if f_pd else '?'}`; "
               + (f"pyFFTW {f_py.field('pyfftw_version')} uses the FFTW bundled in its wheel: "
                  f"`{f_py.field('fftw_version')}`" if f_py else "pyFFTW: not measured"))
    g_sk = get("gemm", "pdekit", core_variant) if core_variant else None
    g_np = get("gemm", "numpy_matmul")
    if g_gemm:
        lib.append(f"  - OpenBLAS (PDEKit): Debian `{g_gemm.field('openblas')}`; core auto-detected: "
                   f"**{g_gemm.field('corename')}**"
                   + (f"; with `OPENBLAS_CORETYPE={core_name}`: **{g_sk.field('corename')}**" if g_sk else ""))
    if g_np:
        b = (g_np.field("blas") or [{}])[0]
        lib.append(f"  - OpenBLAS (numpy): bundled {b.get('internal_api', '?')} {b.get('version', '?')}, "
                   f"core **{b.get('architecture', '?')}**, {b.get('threading_layer', '?')} "
                   f"(`{os.path.basename(b.get('filepath') or '?')}`)")
    pyv = []
    for key, name in (("numpy_version", "numpy"), ("scipy_version", "scipy"), ("python", "Python")):
        v = next((r[key] for r in recs if r.get(key)), None)
        if v:
            pyv.append(f"{name} {v}")
    if pyv:
        lib.append("  - Python peers: " + ", ".join(pyv))
    emit(["- **Libraries:**"] + lib + [""], stdout=False)

    # ------------------------------------------------------------------ tables
    def table(suite, title, rows_spec, fig_key=None, fig_name=None):
        """rows_spec: list of (impl, variant, label). Ratio columns: peer/this for each peer."""
        peers = [(p, get(suite, p)) for p in PEERS[suite] if get(suite, p)]
        header = ["Implementation", "median time (ms)", "per-round range (ms)"]
        if fig_key:
            header.append(fig_name)
        header += [f"{p} / this" for p, _ in peers]
        rows = []
        for impl, variant, label in rows_spec:
            g = get(suite, impl, variant)
            if g is None:
                continue
            t = g.agg()
            row = [label, ms(t), rng_ms(g)]
            if fig_key:
                row.append(x(g.agg(fig_key), 1))
            for p, pg in peers:
                row.append("—" if g.side == "peer" else x(pg.agg() / t if t else None))
            rows.append(row)
        emit([f"## {title}", ""] + md_table(header, rows) + [""])

    def goal(text):
        emit([f"**Goal:** {text}", ""])

    # FFT
    fver = f_pd.field("fftw_version") if f_pd else "?"
    table("fft", "FFT — batched rfft2 + irfft2 round trip, float32, 1024 × 128² (1/N inside the timed region)", [
        ("pdekit", "default", f"PDEKit FFTPlan (system FFTW {fver}), 1 thread"),
        ("pyfftw", "default", "pyFFTW (bundled FFTW, FFTW_MEASURE plans), 1 thread"),
        ("numpy", "default", "numpy.fft rfft2/irfft2 (pocketfft)"),
        ("numpy_out", "default", "numpy.fft with out= buffers (pocketfft)"),
    ])
    f_np = get("fft", "numpy")
    if f_pd and f_py and f_np:
        r_py = f_pd.agg() / f_py.agg()
        r_np = f_np.agg() / f_pd.agg()
        ok1, ok2 = r_py <= FFT_PYFFTW_MAX, r_np > 1.0
        p_py, p_np = paired_ratios(f_pd, f_py), paired_ratios(f_np, f_pd)
        goal(f"PDEKit within {FFT_PYFFTW_MAX}× of pyFFTW — pdekit/pyfftw = {x(r_py)} "
             f"(per round {rng(p_py)}) {verdict(ok1)}{straddle(p_py, FFT_PYFFTW_MAX)}; "
             f"ahead of numpy — numpy/pdekit = {x(r_np)} (per round {rng(p_np)}) "
             f"{verdict(ok2)}{straddle(p_np, 1.0)}. Overall {verdict(ok1 and ok2)}")
    else:
        goal(f"PDEKit within {FFT_PYFFTW_MAX}× of pyFFTW and ahead of numpy: {verdict(None)}")

    # SpMV
    s_pd, s_pd2 = get("spmv", "pdekit"), get("spmv", "pdekit_2threads")
    s_kern, s_mm = get("spmv", "scipy_csr_matvec"), get("spmv", "scipy_matmul")
    bm = (s_pd.field("bytes_model") if s_pd else None) or (s_kern.field("bytes") if s_kern else None)
    table("spmv", "SpMV — CSR y = A·x, 2D 5-point Laplacian on a 1024² grid (float64 values, int32 indices)", [
        ("pdekit", "default", "PDEKit CSR multiply, 1 thread"),
        ("pdekit_2threads", "default", "PDEKit CSR multiply, 2 threads"),
        ("scipy_csr_matvec", "default", "scipy csr_matvec kernel, preallocated y"),
        ("scipy_matmul", "default", "scipy A @ x (allocates + zeroes y)"),
    ], fig_key="gbps", fig_name="GB/s")
    if bm:
        emit([f"GB/s = {bm:,} bytes (values + column indices + row pointers + x read + y write, "
              "ideal cache) / median time.", ""])
    if s_pd and s_kern:
        r = s_kern.agg() / s_pd.agg()
        extra = f"; vs A @ x = {x(s_mm.agg() / s_pd.agg())}" if s_mm else ""
        two = (f"; 2 threads: {x(s_pd2.agg(key='gbps'), 1)} GB/s, {x(s_kern.agg() / s_pd2.agg())}× scipy"
               if s_pd2 else "")
        p = paired_ratios(s_kern, s_pd)
        goal(f"PDEKit (1 thread) ≥ {SPMV_SCIPY_MIN}× scipy — scipy_csr_matvec/pdekit = {x(r)} "
             f"(per round {rng(p)}), {x(s_pd.agg('gbps'), 1)} GB/s "
             f"vs {x(s_kern.agg('gbps'), 1)} GB/s {verdict(r >= SPMV_SCIPY_MIN)}"
             f"{straddle(p, SPMV_SCIPY_MIN)}{extra}{two}")
    else:
        goal(f"PDEKit (1 thread) ≥ {SPMV_SCIPY_MIN}× scipy: {verdict(None)}")

    # GEMM
    d_core = g_gemm.field("corename") if g_gemm else "?"
    d_ver = openblas_version(g_gemm.field("openblas")) if g_gemm else "?"
    nb = (g_np.field("blas") or [{}])[0] if g_np else {}
    rows = [("pdekit", "default", f"pdekit (Debian OpenBLAS {d_ver}, {d_core} auto-detected)"),
            ("cblas_direct", "default", f"cblas_direct (Debian OpenBLAS {d_ver}, {d_core} auto-detected)")]
    if core_variant:
        rows += [("pdekit", core_variant, f"pdekit (OPENBLAS_CORETYPE={core_name})"),
                 ("cblas_direct", core_variant, f"cblas_direct (OPENBLAS_CORETYPE={core_name})")]
    rows.append(("numpy_matmul", "default",
                 f"numpy matmul (bundled OpenBLAS {nb.get('version', '?')}, {nb.get('architecture', '?')})"))
    table("gemm", "sgemm — C = A·B, float32, 1024³, row-major, 1 BLAS thread", rows,
          fig_key="gflops", fig_name="GFLOP/s")
    emit(["pdekit = PDEKit's `BLAS.gemm` wrapper; cblas_direct = a direct `cblas_sgemm` call into the "
          "same library, timed alternately with the wrapper rep by rep in the same process.", ""])

    parts, oks = [], []
    for variant, name in (("default", f"default ({d_core})"), (core_variant, f"OPENBLAS_CORETYPE={core_name}")):
        if variant is None:
            continue
        w, d = get("gemm", "pdekit", variant), get("gemm", "cblas_direct", variant)
        pr = paired_ratios(w, d)
        if not pr:
            continue
        ratio = statistics.median(pr.values())
        if len(pr) >= 2:
            per = list(d.by_round().values())
            n_direct = (max(per) - min(per)) / 2 / statistics.median(per)
            n_ratio = (max(pr.values()) - min(pr.values())) / 2
            noise = max(n_direct, n_ratio)
            how = "round-to-round"
        else:  # one round: fall back to the rep-to-rep spread
            t = sorted(d.field("times_s") or [d.agg()])
            q = statistics.quantiles(t, n=4) if len(t) >= 2 else [t[0]] * 3
            noise = (q[2] - q[0]) / 2 / statistics.median(t)
            how = "rep-to-rep, 1 round only"
        ok = abs(ratio - 1) <= noise
        oks.append(ok)
        parts.append(f"{name}: pdekit/cblas_direct = {ratio:.3f} (per round {rng(pr, 3)}), "
                     f"|ratio − 1| = {abs(ratio - 1):.3f} vs noise {noise:.3f} ({how}) {verdict(ok)}")
    goal("the wrapper adds no measurable cost — "
         + ("; ".join(parts) + f". Overall {verdict(all(oks))}" if parts else verdict(None)))
    emit(["PASS means |ratio − 1| ≤ noise. Round-to-round noise = max(half-range of the per-round "
          "ratios, relative half-range of the cblas_direct per-round medians); with a single round "
          "the rep-to-rep half-IQR of cblas_direct is used instead.", ""])
    if g_np:
        vs = []
        for variant, name in (("default", f"default detection ({d_core})"),
                              (core_variant, f"OPENBLAS_CORETYPE={core_name}")):
            w = get("gemm", "pdekit", variant) if variant else None
            if w:
                vs.append(f"{name}: numpy/pdekit = {x(g_np.agg() / w.agg())} "
                          f"(per round {rng(paired_ratios(g_np, w))})")
        emit(["**vs numpy:** " + "; ".join(vs) + ". "
              f"The default differs because PDEKit uses Debian's OpenBLAS {d_ver}, whose CPU detection "
              f"does not recognise this AVX-512 Xeon and falls back to the generic {d_core} kernels, "
              f"while numpy's wheel bundles its own OpenBLAS {nb.get('version', '?')} that selects "
              f"{nb.get('architecture', '?')}; setting OPENBLAS_CORETYPE={core_name} makes the Debian "
              f"library use its AVX-512 kernels.", ""])
    return md, out


# ----------------------------------------------------------------------------- solvers suite

SOLVER_RTOL_SLACK = 1.01        # a true residual above rtol * this is flagged
AMG_ITER_MAX = 1.2              # PDEKit AMG-CG iterations <= 1.2 x pyamg's
CG_ITER_TOL = 2                 # |PDEKit CG - scipy CG| iterations per sample <= 2

SOLVER_ROWS = [  # (impl, label, counterpart impl or None, counterpart label)
    ("pdekit_cholmod", "PDEKit CHOLMOD (one LinearSolver, symbolic analysis reused)", "sksparse_cholmod", "sksparse"),
    ("sksparse_cholmod", "scikit-sparse CHOLMOD (analyze once, cholesky_inplace per sample)", None, None),
    ("scipy_spsolve", "scipy spsolve (SuperLU, COLAMD)", None, None),
    ("pdekit_amg_cg", "PDEKit SA-AMG + CG (one LinearSolver, hierarchy refreshed)", "pyamg_sa_cg", "pyamg"),
    ("pdekit_amg_cg_fresh", "PDEKit SA-AMG + CG (new solver per sample, full setup)", "pyamg_sa_cg", "pyamg"),
    ("pyamg_sa_cg", "pyamg smoothed_aggregation_solver + CG (setup per sample)", None, None),
    ("pdekit_ic0_cg", "PDEKit IC(0) + CG", None, None),
    ("pdekit_cg", "PDEKit CG (no preconditioner)", "scipy_cg", "scipy CG"),
    ("scipy_cg", "scipy CG (no preconditioner)", None, None),
]


def build_solvers(meta, recs, other, raw_rel):
    md, out = [], []

    def emit(lines, stdout=True):
        md.extend(lines)
        if stdout:
            out.extend(lines)

    G = {}
    for r in recs:
        G.setdefault((r["bench"], r["impl"]), []).append(r)
    G = {k: Group(v) for k, v in G.items()}
    get = lambda bench, impl: G.get((bench, impl))
    errors = {(e.get("bench"), e["impl"]): e["error"] for e in other if "error" in e}
    exports = {}
    for e in other:
        if "export" in e:
            key = "mm_read" if e.get("storage") == "general" else f"darcy{e['dim']}d_{e['n']}"
            exports[key] = e

    def first(impl, key):
        for r in recs:
            if r["impl"] == impl and r.get(key) is not None:
                return r[key]
        return None

    def peer_field(key):
        return next((r[key] for r in recs if r.get("side") == "peer" and r.get(key) is not None), None)

    rounds = meta.get("solver_rounds") or max((r["round"] for r in recs), default=1)
    quick = meta.get("quick")
    emit(["## Solvers — Darcy (FNO coefficient) and Matrix Market read", ""])
    if quick:
        emit(["> **Smoke test only** (small sizes, few samples): not for judging the goals.", ""])
    blas = next((b for b in (peer_field("blas") or []) if "openblas-pthread" in (b.get("filepath") or "")), {})
    emit([
        f"- **Date (UTC):** run started {meta.get('started_utc', 'unknown')}",
        f"- **Command:** `{meta.get('command', 'bench/run.sh --suite solvers')}` — one pass per size; the "
        f"fast methods (CHOLMOD, AMG) run in {rounds} round(s) per 2D size with PDEKit and peer order "
        f"alternating, the slow ones (CG, IC0-CG, spsolve) and 3D in one",
        f"- **Raw data:** `{raw_rel}`",
        f"- **Machine:** {meta.get('nproc', '?')} CPUs, {meta.get('cpu_model', '?')} — shared: other jobs "
        f"ran at the same time, so expect noise; the goal lines give the per-round range"
        + (f" (1-min load average {meta['loadavg_start'][0]} at the start, {meta['loadavg_end'][0]} at the end)"
           if meta.get("loadavg_start") and meta.get("loadavg_end") else ""),
        f"- **Libraries:** CHOLMOD {first('pdekit_cholmod', 'cholmod_version') or '?'} (SuiteSparse "
        f"{first('pdekit_cholmod', 'suitesparse_version') or '?'}, Debian) on both sides — PDEKit links it, "
        f"scikit-sparse {peer_field('sksparse_version') or '?'} was built against it; its BLAS is Debian "
        f"OpenBLAS {blas.get('version', '?')} ({blas.get('architecture', '?')} kernels auto-detected) on both "
        f"sides. pyamg {peer_field('pyamg_version') or '?'}, scipy {peer_field('scipy_version') or '?'}, "
        f"numpy {peer_field('numpy_version') or '?'}.",
        f"- **Threads:** 1 everywhere (`OPENBLAS_NUM_THREADS=1`, `OMP_NUM_THREADS=1`, threadpoolctl limits "
        f"in the peers, including fast_matrix_market's reader).",
        "- **Problem:** −∇·(a∇u) = 1 on the unit square/cube, u = 0 on the boundary, cell-centred finite "
        "volumes with harmonic face means (`Darcy.discretize`). a = 12 where μ ≥ 0 and 3 where μ < 0, μ a "
        "Gaussian random field drawn by PDEKit on the periodic N^d grid with covariance (−Δ + 9I)^(−2) "
        "(α = 2, τ = 3, mean mode removed) — a stand-in for the FNO's Neumann (cosine) field of the same "
        "covariance. Sample i uses `grf.sample(seed: 0, index: i)`. PDEKit writes every A_i, b_i as "
        "Matrix Market files and both sides solve exactly those (read time excluded).",
        "- **Time per solve** = setup + solve of one sample (factorization or preconditioner setup/refresh "
        "plus the solve); the table gives the median over samples (median over rounds of that where "
        "there are several rounds). Sample 0 includes the symbolic analysis / first AMG setup. "
        "rtol = 1e-8, x0 = 0, stopping rule ‖r‖ ≤ 1e-8 ‖b‖ on both sides. \"wall\" = the whole "
        "`LinearSolver.solve` call, which adds input validation (finite check, symmetry check) and a "
        "residual check to setup + solve.",
        "",
    ], stdout=False)

    def its_str(g):
        its = g.field("iterations") if g else None
        if not its or max(its) == 0:
            return "—"
        lo, hi = min(its), max(its)
        med = statistics.median(its)
        return f"{med:g} ({lo}–{hi})" if lo != hi else f"{med:g}"

    def rel_str(g):
        v = max(r.get("max_relres", 0) for r in g.recs)
        return f"{v:.1e}"

    def ratio(a, b, key="median_s"):
        ta, tb = (a.agg(key) if a else None), (b.agg(key) if b else None)
        return ta / tb if ta and tb else None

    darcy = sorted({b for (b, _) in G if b.startswith("darcy")} | {b for (b, _) in errors if b and b.startswith("darcy")},
                   key=lambda b: (int(b[5]), int(b.split("_")[1])))
    bad_res = []
    for bench in darcy:
        dim, n = int(bench[5]), int(bench.split("_")[1])
        ex = exports.get(bench, {})
        g0 = next((g for (b, _), g in G.items() if b == bench), None)
        rows_n, nnz, samples = (g0.field("rows"), g0.field("nnz"), g0.field("samples")) if g0 else (None, None, None)
        frac = ex.get("fraction_12")
        title = f"### Darcy {dim}D, {n}{'²' if dim == 2 else '³'} cells"
        info = (f"{rows_n:,} unknowns, {nnz:,} nonzeros, {samples} samples" if rows_n else "")
        if frac:
            info += f"; a = 12 on {100 * min(frac):.0f}–{100 * max(frac):.0f} % of the cells"
        header = ["Implementation", "per solve (ms)", "setup (ms)", "solve (ms)", "wall (ms)",
                  "iterations", "max ‖b−Ax‖/‖b‖", "counterpart / this"]
        rows = []
        for impl, label, cp, cpl in SOLVER_ROWS:
            g = get(bench, impl)
            if g is None:
                if (bench, impl) in errors:
                    rows.append([label, "error: " + errors[(bench, impl)][:80], "", "", "", "", "", ""])
                continue
            t = g.agg()
            r = ratio(get(bench, cp), g) if cp else None
            no_setup = impl in ("scipy_spsolve", "scipy_cg")   # one call, nothing to split off
            rows.append([label + (f" [{g.rounds} rounds]" if g.rounds > 1 else ""), ms(t),
                         "—" if no_setup else ms(g.agg("median_setup_s")), ms(g.agg("median_solve_s")),
                         ms(g.agg("median_wall_s")) if g.side == "pdekit" else "—",
                         its_str(g), rel_str(g), f"{x(r)} ({cpl})" if r else "—"])
            worst = max(r_.get("max_relres", 0) for r_ in g.recs)
            if worst > 1e-8 * SOLVER_RTOL_SLACK:
                bad_res.append(f"{impl} at {bench}: {worst:.2e}")
        emit([title, "", info + ". Times in ms; counterpart / this > 1 means this row is faster.", ""]
             + md_table(header, rows) + [""])
        if dim == 3:
            cand = [(g.agg(), impl) for (b, impl), g in G.items() if b == bench and g.agg()]
            cand.sort()
            if len(cand) >= 2:
                (t1, w), (t2, r2) = cand[0], cand[1]
                names = {i: l for i, l, _, _ in SOLVER_ROWS}
                chol = get(bench, "pdekit_cholmod")
                sk = get(bench, "sksparse_cholmod")
                direct = chol or sk
                extra = (f"; CHOLMOD (fill-in) takes {ms(direct.agg())} ms per solve, "
                         f"{direct.agg() / t1:.0f}× the winner") if direct else ""
                emit([f"**3D winner:** {names.get(w, w)} at {ms(t1)} ms per solve, {t2 / t1:.2f}× faster than "
                      f"the runner-up ({names.get(r2, r2)}, {ms(t2)} ms){extra}. scipy spsolve is not run at "
                      f"this size (SuperLU with COLAMD needs minutes and many GB in 3D: 7 s at 32³ and "
                      f"33 s / 1.4 GB at 40³ when the suite was written).", ""])

    # Summary and goals over the 2D sizes.
    two = [b for b in darcy if b.startswith("darcy2d")]
    if two:
        heads = [f"{b.split('_')[1]}²" for b in two]

        def row(label, f):
            return [label] + [f(b) for b in two]

        def t_ratio(num, den):
            return lambda b: x(ratio(get(b, num), get(b, den)))

        def it_ratio(b):
            p, q = get(b, "pdekit_amg_cg"), get(b, "pyamg_sa_cg")
            if not p or not q:
                return "n/a"
            return f"{statistics.median(p.field('iterations')):g} / {statistics.median(q.field('iterations')):g}"

        def cg_diff(b):
            p, q = get(b, "pdekit_cg"), get(b, "scipy_cg")
            if not p or not q:
                return None
            a, c = p.field("iterations"), q.field("iterations")
            return max(abs(i - j) for i, j in zip(a, c)) if len(a) == len(c) else None

        def wall_ratio(impl):
            def f(b):
                g = get(b, impl)
                return x(g.agg("median_wall_s") / g.agg()) if g and g.agg("median_wall_s") and g.agg() else "n/a"
            return f

        rows = [
            row("CHOLMOD: sksparse / PDEKit (time)", t_ratio("sksparse_cholmod", "pdekit_cholmod")),
            row("AMG-CG: pyamg / PDEKit refresh (time)", t_ratio("pyamg_sa_cg", "pdekit_amg_cg")),
            row("AMG-CG: pyamg / PDEKit fresh setup (time)", t_ratio("pyamg_sa_cg", "pdekit_amg_cg_fresh")),
            row("AMG-CG iterations PDEKit / pyamg (median)", it_ratio),
            row("CG: scipy / PDEKit (time)", t_ratio("scipy_cg", "pdekit_cg")),
            row("CG iterations: max |PDEKit − scipy| per sample", lambda b: str(cg_diff(b)) if cg_diff(b) is not None else "n/a"),
            row("spsolve / PDEKit CHOLMOD (time)", t_ratio("scipy_spsolve", "pdekit_cholmod")),
            row("PDEKit wall / (setup + solve), CHOLMOD", wall_ratio("pdekit_cholmod")),
            row("PDEKit wall / (setup + solve), AMG-CG", wall_ratio("pdekit_amg_cg")),
        ]
        emit(["### Summary (2D)", "", "Ratios are peer time / PDEKit time (> 1: PDEKit faster), same run.", ""]
             + md_table(["", *heads], rows) + [""])

        goals = []
        for b, h in zip(two, heads):
            p, q = get(b, "pdekit_cholmod"), get(b, "sksparse_cholmod")
            if p and q:
                r = ratio(q, p)
                pr = paired_ratios(q, p)
                goals.append(f"- {h} CHOLMOD ≤ 1.0× scikit-sparse: sksparse/PDEKit = {x(r)} "
                             f"(per round {rng(pr)}) {verdict(r >= 1.0)}{straddle(pr, 1.0)}")
            else:
                goals.append(f"- {h} CHOLMOD ≤ 1.0× scikit-sparse: {verdict(None)}")
            p, q = get(b, "pdekit_amg_cg"), get(b, "pyamg_sa_cg")
            if p and q:
                ip, iq = statistics.median(p.field("iterations")), statistics.median(q.field("iterations"))
                r = ratio(q, p)
                pr = paired_ratios(q, p)
                pf = get(b, "pdekit_amg_cg_fresh")
                rf = ratio(q, pf) if pf else None
                goals.append(f"- {h} AMG-CG iterations ≤ {AMG_ITER_MAX}× pyamg: {ip:g} vs {iq:g} "
                             f"{verdict(ip <= AMG_ITER_MAX * iq)}; time ≤ 1.0× pyamg: pyamg/PDEKit = {x(r)} "
                             f"(per round {rng(pr)}) {verdict(r >= 1.0)}{straddle(pr, 1.0)}"
                             + (f" (with a full setup per sample like pyamg: {x(rf)})" if rf else ""))
            else:
                goals.append(f"- {h} AMG-CG vs pyamg: {verdict(None)}")
            d = cg_diff(b)
            goals.append(f"- {h} CG iterations equal to scipy's (± {CG_ITER_TOL}) on every sample: "
                         + (f"max |difference| = {d} {verdict(d <= CG_ITER_TOL)}" if d is not None else verdict(None)))
        emit(["**Goals** (per size):", ""] + goals + [""])
    emit(["**Residual check:** " + ("every solve on both sides ends with a true relative residual ≤ 1e-8."
                                    if not bad_res else "above 1.01e-8: " + "; ".join(bad_res) + "."), ""])

    # Matrix Market read.
    pr_, pc_ = get("mm_read", "pdekit_read"), get("mm_read", "pdekit_read_csr")
    sr_, sc_, s2 = get("mm_read", "scipy_mmread"), get("mm_read", "scipy_mmread_csr"), get("mm_read", "scipy_mmread_2threads")
    if pr_ or sr_:
        g = pr_ or sr_
        size = g.field("bytes") or 0
        emit([f"### Matrix Market read — {size / 1e6:.0f} MB file ({g.field('entries') or 0:,} entries, "
              f"{g.field('rows') or 0:,} rows, coordinate real general: a 2D Darcy matrix)", ""], stdout=True)
        rows = []
        for g, label, cp in ((pr_, "PDEKit MatrixMarket.read → triplets, 1 thread", sr_),
                             (pc_, "PDEKit MatrixMarket.read + .csr(), 1 thread", sc_),
                             (sr_, "scipy.io.mmread → COO (fast_matrix_market), 1 thread", None),
                             (sc_, "scipy.io.mmread(...).tocsr(), 1 thread", None),
                             (s2, "scipy.io.mmread, fast_matrix_market default threads (2)", None)):
            if g is None:
                continue
            t = g.agg()
            rows.append([label, f"{t:.3f}", f"{size / t / 1e6:.0f}",
                         f"{x(cp.agg() / t)} (scipy, 1 thread)" if cp else "—"])
        emit(md_table(["Reader", "median (s)", "MB/s", "scipy / this"], rows)
             + ["", f"Median over {g.field('reps')} reads × {g.rounds} round(s) (page cache warm: one "
                "untimed read first). No goal was set for the read; > 1 would mean PDEKit is faster.", ""])
    return md, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("raw", nargs="+", help="raw JSON-lines file(s) from bench/run.sh; each suite is "
                    "taken from the last file that has it")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"),
                    help="markdown output (default bench/RESULTS.md)")
    a = ap.parse_args()

    def rel(p):
        p = os.path.abspath(p)
        return os.path.relpath(p, ROOT) if p.startswith(ROOT + os.sep) else p

    kernels = solvers = None   # (meta, recs, other, raw_rel) of the file each suite comes from
    for path in a.raw:
        meta, recs, other = load(path)
        k = [r for r in recs if r["suite"] in ("fft", "spmv", "gemm")]
        sv = [r for r in recs if r["suite"] == "solvers"]
        so = [r for r in other if r.get("suite", "solvers") == "solvers"]
        if k:
            kernels = (meta, k, [], rel(path))
        if sv or so:
            solvers = (meta, sv, so, rel(path))
    if kernels is None and solvers is None:
        sys.exit(f"report.py: no benchmark records in {' '.join(a.raw)}")
    md, out = ["# PDEKit benchmark results", ""], []
    raws = []
    if kernels:
        m, o = build(kernels[0], kernels[1], kernels[3])
        md += m
        out += o
        raws.append(kernels[3])
    if solvers:
        m, o = build_solvers(*solvers)
        md += m
        out += o
        if solvers[3] not in raws:
            raws.append(solvers[3])
    with open(a.out, "w") as f:
        f.write("\n".join(md).rstrip() + "\n")
    print("\n".join(out).rstrip())
    out_abs = os.path.abspath(a.out)
    shown = os.path.relpath(out_abs, ROOT) if out_abs.startswith(ROOT + os.sep) else out_abs
    print(f"\nwrote {shown} (raw data: {', '.join(raws)})")


if __name__ == "__main__":
    main()
