#!/usr/bin/env python3
"""Run one command and record its wall time, CPU time and peak resident memory.

    python3 bench/fno/measure.py --out run.json [--stdout FILE] -- CMD ARG...

Peak RSS is `getrusage(RUSAGE_CHILDREN).ru_maxrss` after the child has been waited for: the
largest resident set of any waited-for descendant, here the one command (the same figure as
`/usr/bin/time -v`'s "Maximum resident set size"). The JSON holds cmd, returncode,
wall_seconds, user_seconds, sys_seconds and peak_rss_mb (MiB); the child's stderr passes
through, its stdout goes to --stdout (or through). Exits with the command's status. Stdlib only.
"""
import argparse
import json
import resource
import subprocess
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--stdout", help="write the command's stdout here")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        p.error("no command")
    out = open(a.stdout, "w") if a.stdout else None
    t0 = time.perf_counter()
    rc = subprocess.call(cmd, stdout=out)
    wall = time.perf_counter() - t0
    if out:
        out.close()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    rec = {
        "cmd": cmd, "returncode": rc, "wall_seconds": wall, "user_seconds": ru.ru_utime,
        "sys_seconds": ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024.0,
    }
    with open(a.out, "w") as f:
        json.dump(rec, f, indent=1)
        f.write("\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
