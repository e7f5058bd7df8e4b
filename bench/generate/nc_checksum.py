#!/usr/bin/env python3
"""Checksums of a PDEKit dataset's data variables and non-timing diagnostics.

    nc_checksum.py FILE [--expect-samples N]

Prints one JSON line {"file", "samples", "sha256": {var: hex}, "combined": hex}. The hashed
variables are every float data variable (coefficient, solution, ...) plus sample_seed,
solver_iterations and solver_relative_residual; solve_seconds is left out (wall-clock time,
differs between runs by design). Exit status 2 if the file cannot be opened/read (e.g. a
truncated file), 3 if --expect-samples does not match.
"""
import hashlib
import json
import sys

DIAG = ["sample_seed", "solver_iterations", "solver_relative_residual"]
SKIP = {"solve_seconds", "x", "y", "z", "time"}


def checksums(path):
    import netCDF4
    import numpy as np
    out = {}
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        n = len(ds.dimensions["sample"])
        names = [v for v in ds.variables if v not in SKIP and v not in DIAG] + DIAG
        for name in names:
            a = np.ascontiguousarray(ds.variables[name][:])
            h = hashlib.sha256()
            h.update(str(a.dtype).encode() + str(a.shape).encode())
            h.update(a.tobytes())
            out[name] = h.hexdigest()
    combined = hashlib.sha256("".join(f"{k}:{v};" for k, v in sorted(out.items())).encode()).hexdigest()
    return n, out, combined


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 1
    path = args[0]
    expect = int(args[args.index("--expect-samples") + 1]) if "--expect-samples" in args else None
    try:
        n, sums, combined = checksums(path)
    except Exception as e:  # unreadable / truncated
        print(json.dumps({"file": path, "error": f"{type(e).__name__}: {e}"}))
        return 2
    print(json.dumps({"file": path, "samples": n, "sha256": sums, "combined": combined}))
    if expect is not None and n != expect:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
