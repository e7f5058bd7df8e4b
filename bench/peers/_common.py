"""Shared helpers for the PDEKit Python peer benchmarks (bench/peers/*.py).

Must be imported, and `setup(...)` called, BEFORE numpy/scipy are imported,
because BLAS thread counts are read from the environment at library load time.
Only stdlib is imported here.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

# Env vars that change the behaviour/speed of numpy's bundled OpenBLAS.
_OPENBLAS_TUNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def log(*a):
    """Diagnostics go to stderr; stdout is reserved for JSON lines."""
    print(*a, file=sys.stderr, flush=True)


def setup(doc, extra=None):
    """Parse the common CLI flags and pin thread counts in the environment.

    extra: optional callable(parser) adding bench-specific flags.
    """
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    p.add_argument("--reps", type=int, default=20, help="timed repetitions (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed warm-up runs (default 3)")
    p.add_argument("--threads", type=int, default=1, help="threads for FFTW/BLAS (default 1)")
    p.add_argument("--seed", type=int, default=12345, help="RNG seed for inputs")
    if extra:
        extra(p)
    args = p.parse_args()
    if args.reps < 1 or args.warmup < 0 or args.threads < 1:
        p.error("--reps >= 1, --warmup >= 0, --threads >= 1 required")
    t = str(args.threads)
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = t
    for v in _OPENBLAS_TUNING_VARS:
        if v in os.environ:
            log(f"WARNING: {v}={os.environ[v]} is set; it can slow numpy's bundled "
                f"OpenBLAS (scipy-openblas). Consider unsetting it for the peer command.")
    return args


def limit_threads(n):
    """Apply threadpoolctl limits (BLAS + OpenMP) if threadpoolctl is installed.
    Returns the threadpoolctl controller (keep a reference) or None."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        log("threadpoolctl not installed; relying on *_NUM_THREADS env vars only")
        return None
    return threadpool_limits(limits=n)


def blas_info():
    """threadpoolctl's view of loaded BLAS/OpenMP libraries (list of dicts)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    keep = ("user_api", "internal_api", "version", "architecture", "num_threads",
            "threading_layer", "prefix", "filepath")
    return [{k: d.get(k) for k in keep if k in d} for d in threadpool_info()]


def time_reps(fn, reps, warmup):
    """Run fn() `warmup` times untimed, then `reps` times, each timed with
    time.perf_counter. Returns the list of per-rep seconds."""
    for _ in range(warmup):
        fn()
    out = []
    pc = time.perf_counter
    for _ in range(reps):
        t0 = pc()
        fn()
        out.append(pc() - t0)
    return out


def summarize(times):
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "times_s": [float(f"{t:.9g}") for t in times],
    }


def env_info():
    d = {"python": platform.python_version(), "machine": platform.machine()}
    tuned = {v: os.environ[v] for v in _OPENBLAS_TUNING_VARS if v in os.environ}
    if tuned:
        d["openblas_tuning_env"] = tuned
    return d


def emit(record):
    """One JSON object per line on stdout."""
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def fail(msg):
    log("ERROR: " + msg)
    sys.exit(1)
