#!/usr/bin/env python3
"""Command-line parity check: PDEKit's FNO on the neuraloperator fixtures, through `pdekit eval`.

    bench/.venv/bin/python bench/fno/parity_cli.py --pdekit .build-fno/release/pdekit \
        [--fixtures Tests/OperatorsTests/Fixtures] [--tol 1e-5]

For each fixture pair (NAME-parity.safetensors, NAME-parity-io.safetensors) it writes a
temporary PDEKit-style NetCDF file whose pdekit_role="input" variable is the fixture's `input`
and whose pdekit_role="target" variable is PyTorch's `output` (dims (sample, y, x) or
(sample, x)), runs `pdekit eval --checkpoint NAME-parity.safetensors --data FILE --json`, and
requires the mean relative L2 between PDEKit's prediction and PyTorch's output to be <= --tol.
The checkpoints hold no normalizers, so eval compares the raw model output. Needs netCDF4 and
safetensors (bench/setup-venv.sh --torch); not torch.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--pdekit", required=True)
    p.add_argument("--fixtures", default=os.path.join(here, "..", "..", "Tests", "OperatorsTests", "Fixtures"))
    p.add_argument("--tol", type=float, default=1e-5)
    a = p.parse_args()
    import netCDF4
    from safetensors.numpy import load_file

    names = sorted(f[: -len("-parity-io.safetensors")] for f in os.listdir(a.fixtures) if f.endswith("-parity-io.safetensors"))
    if not names:
        sys.exit(f"no *-parity-io.safetensors in {a.fixtures}")
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            io = load_file(os.path.join(a.fixtures, f"{name}-parity-io.safetensors"))
            x, y = io["input"], io["output"]
            assert x.shape[1] == 1 and y.shape[1] == 1, "single-channel fixtures only"
            nc = os.path.join(tmp, f"{name}.nc")
            axes = ["y", "x"][-(x.ndim - 2):]
            with netCDF4.Dataset(nc, "w") as ds:
                # The minimum PDEKit's DatasetReader accepts (Sources/Datasets/DatasetReader.swift).
                ds.Conventions = "CF-1.10"
                ds.title = f"{name} parity fixture: neuraloperator FNO input/output"
                ds.pde = "none"
                ds.pdekit_config = json.dumps({"fixture": name})
                ds.createDimension("sample", None)
                for ax, n in zip(axes, x.shape[2:]):
                    ds.createDimension(ax, n)
                    c = ds.createVariable(ax, "f8", (ax,))
                    c.units = "1"
                    c.long_name = f"{ax} coordinate"
                    c[:] = np.arange(n) / n
                vi = ds.createVariable("input", "f4", ("sample", *axes))
                vi.long_name = "fixture input"
                vi.units = "1"
                vi.pdekit_role = "input"
                vi[:] = x[:, 0]
                vt = ds.createVariable("output", "f4", ("sample", *axes))
                vt.long_name = "neuraloperator FNO output"
                vt.units = "1"
                vt.pdekit_role = "target"
                vt[:] = y[:, 0]
                for vname, dt in (("sample_seed", "u8"), ("solver_iterations", "i4"),
                                  ("solver_relative_residual", "f8"), ("solve_seconds", "f8")):
                    v = ds.createVariable(vname, dt, ("sample",))
                    v.long_name = vname
                    v.units = "1"
                    v[:] = np.zeros(x.shape[0])
            cmd = [a.pdekit, "eval", "--checkpoint", os.path.join(a.fixtures, f"{name}-parity.safetensors"),
                   "--data", nc, "--threads", "1", "--json"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{name}: FAIL, {' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-500:]}")
                failed += 1
                continue
            try:
                rel = json.loads(r.stdout)["relative_l2"]["mean"]
            except (ValueError, KeyError, TypeError):
                m = re.search(r"relative L2:\s*mean\s*([0-9.eE+-]+)", r.stdout)
                rel = float(m.group(1)) if m else float("nan")
            ok = rel <= a.tol
            failed += not ok
            print(f"{name}: {'ok' if ok else 'FAIL'}, PDEKit vs PyTorch relative L2 {rel:.2e} (tol {a.tol:g}), "
                  f"input {list(x.shape)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
