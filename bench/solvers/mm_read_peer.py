#!/usr/bin/env python3
"""Peer benchmark: reading one large Matrix Market file with scipy.io.mmread.

WHAT IS MEASURED (the Swift driver `pdekit-bench mm-read` does the same work)
  input      : --file, a coordinate real file (bench/run.sh writes a 2D Darcy matrix on a 1024²
               grid, general storage, ~5.2M entries, ≥ 100 MB) — the page cache is warmed by
               --warmup untimed reads, so this measures parsing, not the disk.
  scipy_mmread     : scipy.io.mmread(file) -> COO (scipy >= 1.12 parses with its bundled
                     fast_matrix_market C++ reader), with its thread pool limited to 1
                     through threadpoolctl (PDEKit's reader is single-threaded).
  scipy_mmread_csr : scipy.io.mmread(file).tocsr() (duplicates summed, as PDEKit's .csr()).
  scipy_mmread_2threads : scipy_mmread with fast_matrix_market's default parallelism (all
                     cores = 2 here), for information only.
  Timed with time.perf_counter per rep, median over --reps.

USAGE
  bench/.venv/bin/python bench/solvers/mm_read_peer.py --file F [--reps 3] [--warmup 1]
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "peers"))
import _common as C  # noqa: E402

args = C.setup(__doc__, lambda p: p.add_argument("--file", required=True))

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.io  # noqa: E402
from scipy.io import _fast_matrix_market as fmm  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

path = args.file
size = os.path.getsize(path)
pc = time.perf_counter


def fmm_threads():
    for d in threadpool_info():
        if d.get("internal_api") == "scipy_mmio":
            return d.get("num_threads")
    return None


def timed(fn):
    for _ in range(args.warmup):
        fn()
    out = []
    for _ in range(args.reps):
        t0 = pc()
        r = fn()
        out.append(pc() - t0)
    return out, r


common = {"bench": "mm_read", "file": path, "bytes": size, "reps": args.reps, "warmup": args.warmup,
          "numpy_version": np.__version__, "scipy_version": scipy.__version__,
          "fmm_version": fmm._fmm_version() if hasattr(fmm, "_fmm_version") else None, **C.env_info()}

# First call loads _fmm_core so that threadpoolctl can see (and limit) it.
scipy.io.mminfo(path)
with threadpool_limits(limits=1):
    threads = fmm_threads()
    t, m = timed(lambda: scipy.io.mmread(path))
    rows, entries = m.shape[0], m.nnz
    C.emit({**common, **C.summarize(t), "impl": "scipy_mmread", "threads": threads or 1,
            "what": "scipy.io.mmread -> COO", "rows": rows, "entries": entries,
            "mb_per_s": size / np.median(t) / 1e6})
    t, a = timed(lambda: scipy.io.mmread(path).tocsr())
    C.emit({**common, **C.summarize(t), "impl": "scipy_mmread_csr", "threads": threads or 1,
            "what": "scipy.io.mmread(...).tocsr()", "rows": rows, "entries": entries, "nnz": int(a.nnz)})
t, _ = timed(lambda: scipy.io.mmread(path))
C.emit({**common, **C.summarize(t), "impl": "scipy_mmread_2threads", "threads": fmm_threads() or os.cpu_count(),
        "what": "scipy.io.mmread -> COO, fast_matrix_market default parallelism", "rows": rows,
        "entries": entries, "mb_per_s": size / np.median(t) / 1e6})
