#!/usr/bin/env python3
"""Training-step peer for PDEKit's factorized transformers: the PyTorch re-implementation
(factformer_torch.py) trained on the same PDEKit NetCDF file with the same recipe as
`pdekit train` (per-channel Gaussian normalizers fitted on the training samples, eps 1e-7, unbiased
std; relative L2 loss summed over the batch on the encoded targets; Adam, constant learning rate;
batches shuffled each epoch), on CPU.

    bench/.venv/bin/python bench/factformer/peer_train.py --checkpoint MODEL.safetensors --data FILE.nc \
        --train-samples 64 --batch-size 8 --epochs 4 --threads 2

The model (configuration and initial weights) is read from a PDEKit checkpoint of the same
configuration, so both sides run the same network. Prints one JSON line: the training seconds of
each epoch (forward, backward and Adam steps only; data are in memory before timing), their median
over the epochs after the first, and the train loss of each epoch.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factformer_torch import load_pdekit_checkpoint  # noqa: E402


def read(path, n):
    import netCDF4

    with netCDF4.Dataset(path) as ds:
        def stack(role):
            vs = [v for v in ds.variables.values() if getattr(v, "pdekit_role", "") == role]
            return np.stack([np.asarray(v[:n], dtype=np.float32) for v in vs], axis=1)
        return stack("input"), stack("target")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--train-samples", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = read(a.data, a.train_samples)
    axes = (0,) + tuple(range(2, x.ndim))

    def encode(t):
        return (t - t.mean(axis=axes, keepdims=True)) / (t.std(axis=axes, ddof=1, keepdims=True) + 1e-7)

    x, y = torch.from_numpy(encode(x)), torch.from_numpy(encode(y))
    model = load_pdekit_checkpoint(a.checkpoint)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    seconds, losses = [], []
    for _ in range(a.epochs):
        order = torch.randperm(len(x))
        total = 0.0
        start = time.perf_counter()
        for b in range(0, len(x), a.batch_size):
            idx = order[b:b + a.batch_size]
            pred = model(x[idx])
            diff = (pred - y[idx]).flatten(2).norm(dim=-1)
            loss = (diff / (y[idx].flatten(2).norm(dim=-1) + 1e-8)).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
        seconds.append(time.perf_counter() - start)
        losses.append(total / len(x))
    print(json.dumps({"side": "pytorch", "model": model.name, "torch": torch.__version__, "threads": a.threads,
                      "train_samples": len(x), "batch_size": a.batch_size, "epoch_seconds": seconds,
                      "median_epoch_seconds": statistics.median(seconds[1:] or seconds), "train_loss": losses}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
