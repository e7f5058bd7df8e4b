#!/usr/bin/env python3
"""Forward parity: PDEKit's FactFormer / IFactFormer-m against the PyTorch re-implementation
(factformer_torch.py) with the same weights.

    bench/.venv/bin/python bench/factformer/parity.py --pdekit .build/release/pdekit --data FILE.nc \
        --checkpoint MODEL.safetensors [--samples 0:4] [--tol 1e-5]

Runs `pdekit predict --checkpoint MODEL --input FILE --samples A:B` (the checkpoint must hold no
normalizers: train it with --no-normalize, so the file holds the raw model output), loads the same
checkpoint into the PyTorch model, applies it to the file's inputs in float32 and prints one JSON
line: the relative L2 ||y_pdekit - y_torch|| / ||y_torch|| per sample and its maximum, which must
be <= --tol (exit 1 otherwise).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factformer_torch import load_pdekit_checkpoint  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--pdekit", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--samples", default="0:4")
    p.add_argument("--tol", type=float, default=1e-5)
    a = p.parse_args()
    import netCDF4

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "pred.nc")
        subprocess.run([a.pdekit, "predict", "--checkpoint", a.checkpoint, "--input", a.data, "--samples", a.samples,
                        "--threads", "1", "--out", out], check=True, stdout=subprocess.DEVNULL)
        with netCDF4.Dataset(out) as ds:
            ins = [v for v in ds.variables.values() if getattr(v, "pdekit_role", "") == "input"]
            preds = [v for v in ds.variables.values() if getattr(v, "pdekit_role", "") == "prediction"]
            x = np.stack([np.asarray(v[:], dtype=np.float32) for v in ins], axis=1)
            y = np.stack([np.asarray(v[:], dtype=np.float32) for v in preds], axis=1)
    model = load_pdekit_checkpoint(a.checkpoint)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    rel = [float(np.linalg.norm(y[i] - ref[i]) / np.linalg.norm(ref[i])) for i in range(len(y))]
    result = {"checkpoint": os.path.basename(a.checkpoint), "model": model.name, "grid": list(x.shape[2:]),
              "samples": len(rel), "relative_l2": rel, "max_relative_l2": max(rel), "tol": a.tol,
              "pass": max(rel) <= a.tol}
    print(json.dumps(result))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
