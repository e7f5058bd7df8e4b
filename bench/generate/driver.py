#!/usr/bin/env python3
"""Timing harness of the dataset-generation benchmark (called by bench/generate/run.sh).

For each round and resolution it runs PDEKit and the Python peer back to back (who goes first
alternates between rounds), timing each whole command with time.perf_counter around
subprocess.run (process start-up, GRF, assembly, solve, writing and closing/merging the file
are all inside). Output files go to a scratch folder and are deleted before each run (deletion is
not timed). Writes JSON lines to --raw: a meta line, one line per timed run, the operator
validation per resolution, and untimed per-phase diagnostics.
"""
import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception:
        return ""


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return dict(cpu=model, cores=os.cpu_count(), kernel=platform.release(), os=sh(". /etc/os-release && echo $PRETTY_NAME"),
                loadavg=open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else None)


def file_info(path):
    """Samples, sum of solve_seconds and worst residual stored in a dataset (untimed)."""
    import netCDF4
    import numpy as np
    with netCDF4.Dataset(path) as ds:
        s = np.asarray(ds["solve_seconds"][:])
        r = np.asarray(ds["solver_relative_residual"][:])
        return dict(file_samples=int(len(ds.dimensions["sample"])), sum_solve_seconds=float(s.sum()),
                    worst_relative_residual=float(r.max()), file_bytes=os.path.getsize(path))


def timed(cmd, env):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    t1 = time.perf_counter()
    return t1 - t0, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pdekit", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--resolutions", default="64,128,256")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--raw", required=True)
    ap.add_argument("--no-phases", action="store_true")
    args = ap.parse_args()
    res_list = [int(r) for r in args.resolutions.split(",")]
    os.makedirs(args.workdir, exist_ok=True)
    peer = os.path.join(HERE, "darcy_peer.py")
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = "1"

    def pdekit_cmd(r, out, n=None, threads=None):
        return [args.pdekit, "generate", "darcy", "--samples", str(n or args.samples), "--resolution", str(r),
                "--threads", str(threads or args.threads), "--out", out, "--quiet"]

    def peer_cmd(r, out, n=None):
        return [args.python, peer, "--samples", str(n or args.samples), "--resolution", str(r),
                "--processes", str(args.threads), "--out", out]

    raw = open(args.raw, "a")

    def emit(rec):
        raw.write(json.dumps(rec) + "\n")
        raw.flush()

    # Meta.
    vers = subprocess.run([args.python, "-c", "import json,sys; sys.path.insert(0, %r); import darcy_peer as d; print(json.dumps(d.versions()))" % HERE],
                          capture_output=True, text=True, env=env).stdout.strip()
    emit(dict(kind="meta", suite="generate", utc=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              machine=machine(), pdekit_version=sh(f"{args.pdekit} --version"),
              python_versions=json.loads(vers or "{}"),
              cholmod=sh("dpkg-query -W -f='${Version}' libcholmod3 2>/dev/null"),
              libnetcdf=sh("dpkg-query -W -f='${Version}' libnetcdf19 2>/dev/null || nc-config --version"),
              openblas_debian=sh("dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null"),
              rounds=args.rounds, samples=args.samples, resolutions=res_list, threads=args.threads,
              pdekit_command=" ".join(pdekit_cmd("R", "OUT.nc")), peer_command=" ".join(peer_cmd("R", "OUT.nc"))))

    validated = set()
    for rnd in range(1, args.rounds + 1):
        for r in res_list:
            order = ["pdekit", "peer"] if rnd % 2 == 1 else ["peer", "pdekit"]
            for side in order:
                out = os.path.join(args.workdir, f"{side}-{r}.nc")
                for p in (out, out + ".tmp"):
                    if os.path.exists(p):
                        os.remove(p)
                if os.path.exists(out + ".parts"):
                    shutil.rmtree(out + ".parts")
                cmd = pdekit_cmd(r, out) if side == "pdekit" else peer_cmd(r, out)
                load = open("/proc/loadavg").read().split()[0]
                secs, p = timed(cmd, env)
                rec = dict(kind="run", suite="generate", round=rnd, resolution=r, side=side,
                           impl="pdekit_cholmod" if side == "pdekit" else "python_peer", samples=args.samples,
                           wall_seconds=secs, samples_per_second=args.samples / secs, returncode=p.returncode,
                           loadavg_before=float(load), command=" ".join(cmd))
                if p.returncode != 0:
                    rec["stderr"] = p.stderr[-2000:]
                else:
                    rec.update(file_info(out))
                    if side == "peer":
                        try:
                            rec["peer_report"] = json.loads(p.stdout.strip().splitlines()[-1])
                        except Exception:
                            pass
                emit(rec)
                print(f"round {rnd} R={r} {side:6s}: {secs:7.2f} s  {args.samples / secs:7.2f} samples/s"
                      + ("" if p.returncode == 0 else f"  FAILED rc={p.returncode}: {p.stderr[-300:]}"), flush=True)
            # Same-operator validation against PDEKit's file (once per resolution, untimed).
            pk = os.path.join(args.workdir, f"pdekit-{r}.nc")
            if r not in validated and os.path.exists(pk):
                v = subprocess.run([args.python, peer, "--validate", pk], capture_output=True, text=True, env=env)
                try:
                    rec = json.loads(v.stdout.strip().splitlines()[-1])
                except Exception:
                    rec = dict(kind="validation", suite="generate", resolution=r, error=v.stderr[-1000:])
                rec["returncode"] = v.returncode
                emit(rec)
                validated.add(r)
                print(f"validation R={r}: rc={v.returncode} {v.stdout.strip()[:300]}", flush=True)

    if not args.no_phases:
        # Untimed diagnostics: where the time goes. PDEKit with 1 thread and 40 samples (total wall
        # vs the solve_seconds it stores per sample), and the peer's per-phase timing in 1 process.
        for r in res_list:
            out = os.path.join(args.workdir, f"phase-pdekit-{r}.nc")
            for p in (out,):
                if os.path.exists(p):
                    os.remove(p)
            n = 40
            secs, p = timed(pdekit_cmd(r, out, n=n, threads=1), env)
            rec = dict(kind="pdekit_phases", suite="generate", resolution=r, samples=n, threads=1, wall_seconds=secs,
                       returncode=p.returncode)
            if p.returncode == 0:
                rec.update(file_info(out))
                os.remove(out)
            emit(rec)
            ph = subprocess.run([args.python, peer, "--phases", "--resolution", str(r), "--samples", "20"],
                                capture_output=True, text=True, env=env)
            try:
                emit(json.loads(ph.stdout.strip().splitlines()[-1]))
            except Exception:
                emit(dict(kind="phases_ms_per_sample", suite="generate", resolution=r, error=ph.stderr[-1000:]))
            print(f"phases R={r} done", flush=True)
    raw.close()


if __name__ == "__main__":
    main()
