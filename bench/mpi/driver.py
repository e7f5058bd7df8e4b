#!/usr/bin/env python3
"""Times `pdekit generate darcy` as mpirun -np 1, mpirun -np 2 and one process with --threads 2
(see run.sh), checks that the outputs hold identical data, and prints a Markdown table of medians."""
import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def data_digest(path):
    """SHA-256 of the data section of `ncdump` for the data variables and seeds."""
    out = subprocess.run(
        ["ncdump", "-v", "coefficient,solution,sample_seed", path], check=True, capture_output=True, text=True
    ).stdout
    return hashlib.sha256(out[out.index("data:"):].encode()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=400)
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--raw", required=True)
    a = ap.parse_args()
    mpirun = ["mpirun", "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    args = ["generate", "darcy", "--samples", str(a.samples), "--resolution", str(a.resolution), "--quiet"]
    configs = {
        "np1": mpirun + ["-np", "1", a.exe] + args + ["--threads", "1"],
        "np2": mpirun + ["-np", "2", a.exe] + args + ["--threads", "1"],
        "threads2": [a.exe] + args + ["--threads", "2"],
    }
    names = list(configs)
    work = tempfile.mkdtemp(prefix="pdekit-mpi-bench-")
    results = {n: [] for n in names}
    digests = {}
    with open(a.raw, "w") as raw:
        for r in range(a.rounds):
            order = names[r % len(names):] + names[: r % len(names)]
            for n in order:
                out = os.path.join(work, f"{n}.nc")
                t0 = time.perf_counter()
                p = subprocess.run(configs[n] + ["--out", out, "--overwrite"], capture_output=True, text=True)
                wall = time.perf_counter() - t0
                if p.returncode != 0:
                    sys.exit(f"{n} failed ({p.returncode}): {p.stderr}")
                m = re.search(r"merging the parts: ([0-9.]+) s", p.stdout)
                rec = {
                    "round": r, "config": n, "wall_s": wall, "samples_per_s": a.samples / wall,
                    "merge_s": float(m.group(1)) if m else None, "load": os.getloadavg()[0],
                    "bytes": os.path.getsize(out),
                }
                digests.setdefault(n, data_digest(out))
                results[n].append(rec)
                raw.write(json.dumps(rec) + "\n")
                raw.flush()
                print(f"round {r + 1} {n}: {wall:.2f} s, {rec['samples_per_s']:.1f} samples/s, merge {rec['merge_s']} s, "
                      f"load {rec['load']:.1f}", file=sys.stderr)
        # The launcher's own cost: mpirun starting P ranks of /bin/true.
        launch = {}
        for ranks in (1, 2):
            times = []
            for _ in range(max(3, a.rounds)):
                t0 = time.perf_counter()
                subprocess.run(mpirun + ["-np", str(ranks), "true"], check=True, capture_output=True)
                times.append(time.perf_counter() - t0)
            launch[ranks] = statistics.median(times)
            raw.write(json.dumps({"config": f"mpirun-true-np{ranks}", "wall_s": launch[ranks]}) + "\n")
        # Start-up of a one-rank job (mpirun, MPI_Init, process start, file creation): a 1-sample run.
        starts = []
        for _ in range(max(3, a.rounds)):
            out = os.path.join(work, "one.nc")
            t0 = time.perf_counter()
            subprocess.run(mpirun + ["-np", "1", a.exe, "generate", "darcy", "--samples", "1", "--resolution",
                                     str(a.resolution), "--quiet", "--threads", "1", "--out", out, "--overwrite"],
                           check=True, capture_output=True)
            starts.append(time.perf_counter() - t0)
        startup = statistics.median(starts)
        raw.write(json.dumps({"config": "startup-1-sample", "wall_s": startup}) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    med = {n: statistics.median(x["samples_per_s"] for x in results[n]) for n in names}
    merge = {n: statistics.median(x["merge_s"] for x in results[n]) for n in names}
    same = len(set(digests.values())) == 1
    print(f"| run | samples/s (median of {a.rounds}) | merge of the parts (s) |")
    print("|---|---:|---:|")
    label = {"np1": "mpirun -np 1, 1 thread", "np2": "mpirun -np 2, 1 thread each", "threads2": "1 process, --threads 2"}
    for n in names:
        print(f"| {label[n]} | {med[n]:.1f} | {merge[n]:.2f} |")
    print()
    print(f"- parallel efficiency of -np 2 over -np 1: {med['np2'] / (2 * med['np1']):.2f}")
    print(f"- -np 2 against --threads 2 in one process: {med['np2'] / med['threads2']:.2f}×")
    print(f"- identical data in all outputs: {'yes' if same else 'NO'} ({sorted(set(digests.values()))[0][:12]}…)")
    print(f"- one-sample job under mpirun -np 1 (start-up): {startup:.2f} s")
    print(f"- mpirun's own start-up (np 1 / np 2 running /bin/true): {launch[1]:.2f} s / {launch[2]:.2f} s")
    print(f"- file size {results['np2'][0]['bytes'] / 1e6:.1f} MB; raw records: {a.raw}")
    model(a, med, merge, startup)


def model(a, med, merge, startup):
    """The expected time of P ranks from this run's measurements (see bench/RESULTS.md, "MPI"):
    T(P) = s + ceil(nb / P) * B * c + N * m, with c the per-sample cost in one rank (np1 wall time
    less start-up and merge, over N), m rank 0's merge per sample, s the start-up."""
    n = a.samples
    c = (n / med["np1"] - startup - merge["np1"]) / n
    m = merge["np1"] / n
    print()
    print(f"Model inputs: c = {1e3 * c:.2f} ms per sample per rank, m = {1e3 * m:.3f} ms per sample (merge), "
          f"s = {startup:.2f} s; merge limit P* = c/m = {c / m:.0f} ranks")
    print()
    print("| ranks P | N = 400, batch 25 (16 batches) | N = 400, --batch-size 4 (100 batches) | N = 4000, batch 64 (63 batches) |")
    print("|---:|---|---|---|")
    for p in (1, 2, 4, 8, 16, 32, 64):
        cells = []
        for total, batch in ((400, 25), (400, 4), (4000, 64)):
            nb = -(-total // batch)
            t = startup + -(-nb // p) * batch * c + total * m
            t1 = startup + nb * batch * c + total * m
            cells.append(f"{total / t:.0f} samples/s, efficiency {t1 / (p * t):.2f}")
        print(f"| {p} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
