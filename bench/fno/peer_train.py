#!/usr/bin/env python3
"""neuraloperator 2.0 (PyTorch, CPU) training peer of `pdekit train --model fno`.

    bench/.venv/bin/python bench/fno/peer_train.py --data darcy64-250.nc --train 200 --test 50 \
        --epochs 20 --batch-size 20 --lr 1e-3 --modes 12 --width 32 --layers 4 --threads 2 \
        --seed 0 --out peer.json

Same recipe as PDEKit's trainer (Operators/Training), built from neuraloperator's own classes:

- data: the PDEKit NetCDF file, read with netCDF4. Inputs are the variables with attribute
  pdekit_role="input", targets pdekit_role="target", each (sample, y, x) float32 and stacked as
  channels in file order -> [N, C, ny, nx]. The first --train samples train, the next --test test.
- model: `neuralop.models.FNO(n_modes=(modes,)*d, in_channels, out_channels,
  hidden_channels=width, n_layers=layers)`, all other options at neuraloperator's defaults,
  initialized after `torch.manual_seed(seed)`.
- normalizers: `neuralop.data.transforms.normalizers.UnitGaussianNormalizer(dim=[0, 2, ...],
  eps=1e-7)` for inputs and targets, fitted on the training split (per-channel mean and
  unbiased std over samples and grid points); x_enc = (x - mean)/(std + eps).
- loss: `neuralop.losses.LpLoss(d, p=2, reduction="sum")` (relative L2 per sample and channel,
  summed over the batch) between the model output and the *encoded* target.
- optimizer: `torch.optim.Adam(lr, weight decay 0)`, no scheduler; batches shuffled by
  `torch.randperm` from a `torch.Generator` seeded with --seed; the last batch may be short.
- threads: `torch.set_num_threads(threads)` (and OMP/MKL_NUM_THREADS set before torch loads).

Reported (JSON --out, and a table on stdout):
- per epoch: train_loss (mean per training sample of the summed LpLoss, on encoded targets —
  PDEKit's `train_loss`), test_l2 (mean over test samples of ||decode(model(enc(x))) - y|| / ||y||
  in physical units, via LpLoss; channel-averaged), epoch_seconds (wall time of the training
  steps only: batching, forward, backward, optimizer step; the test evaluation is timed
  separately as eval_seconds), as PDEKit's `epoch_seconds`.
- median_epoch_seconds, final_test_l2, peak_rss_mb (getrusage ru_maxrss of this process, which
  includes torch's ~0.3 GB import footprint; rss_after_import_mb is given for reference).
- inference_ms_per_sample: model.eval(), torch.no_grad(), the test set in batches of
  --infer-batch (50) including input encoding and output decoding; one warm-up pass, then the
  median of 5 timed passes divided by the number of test samples. inference_cold_ms_per_sample
  is the first (untimed-warm-up) pass, comparable with a fresh `pdekit eval` process.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description="neuraloperator FNO training peer on a PDEKit NetCDF file")
    p.add_argument("--data", required=True, help="PDEKit NetCDF dataset")
    p.add_argument("--train", type=int, default=200, help="training samples (the first N)")
    p.add_argument("--test", type=int, default=50, help="test samples (the next M)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--modes", type=int, default=12, help="Fourier modes per axis")
    p.add_argument("--width", type=int, default=32, help="hidden_channels")
    p.add_argument("--layers", type=int, default=4, help="n_layers")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--infer-batch", type=int, default=50)
    p.add_argument("--out", default="result.json", help="JSON result file")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines on stderr")
    p.add_argument("--save-state-dict", metavar="FILE",
                   help="torch.save the trained model's state_dict (export with export_neuraloperator.py --state-dict)")
    return p.parse_args()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def read_dataset(path: str, n_train: int, n_test: int):
    """(inputs, targets, input names, target names) as float32 numpy [N, C, *grid]."""
    import netCDF4
    import numpy as np

    with netCDF4.Dataset(path) as ds:
        ins, tgts = [], []
        for name, var in ds.variables.items():
            role = getattr(var, "pdekit_role", None)
            if role == "input":
                ins.append(name)
            elif role == "target":
                tgts.append(name)
        if not ins or not tgts:
            raise SystemExit(f"{path}: needs variables with pdekit_role 'input' and 'target' (found {ins}, {tgts})")
        n = ds.variables[ins[0]].shape[0]
        if n_train + n_test > n:
            raise SystemExit(f"{path} has {n} samples; --train {n_train} + --test {n_test} do not fit")

        def stack(names):
            arrs = []
            for nm in names:
                v = ds.variables[nm]
                v.set_auto_maskandscale(False)
                a = np.asarray(v[: n_train + n_test], dtype=np.float32)
                if a.shape[0] != n_train + n_test or a.ndim < 2:
                    raise SystemExit(f"{path}: variable {nm} has shape {v.shape}, expected (sample, ...grid)")
                arrs.append(a)
            return np.ascontiguousarray(np.stack(arrs, axis=1))

        x, y = stack(ins), stack(tgts)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise SystemExit(f"{path}: NaN or infinity in the data")
    return x, y, ins, tgts


def main() -> None:
    args = parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import torch
    from importlib.metadata import version as dist_version
    from neuralop.losses import LpLoss
    from neuralop.models import FNO
    from neuralop.data.transforms.normalizers import UnitGaussianNormalizer

    torch.set_num_threads(args.threads)
    rss_import = rss_mb()

    x_np, y_np, in_names, tgt_names = read_dataset(args.data, args.train, args.test)
    d = x_np.ndim - 2
    x_all, y_all = torch.from_numpy(x_np), torch.from_numpy(y_np)
    x_train, y_train = x_all[: args.train], y_all[: args.train]
    x_test, y_test = x_all[args.train : args.train + args.test], y_all[args.train : args.train + args.test]

    reduce_dims = [0] + list(range(2, 2 + d))
    in_norm = UnitGaussianNormalizer(dim=reduce_dims, eps=1e-7)
    out_norm = UnitGaussianNormalizer(dim=reduce_dims, eps=1e-7)
    in_norm.fit(x_train)
    out_norm.fit(y_train)
    x_train_enc = in_norm.transform(x_train)
    y_train_enc = out_norm.transform(y_train)

    torch.manual_seed(args.seed)
    model = FNO(
        n_modes=(args.modes,) * d,
        in_channels=x_np.shape[1],
        out_channels=y_np.shape[1],
        hidden_channels=args.width,
        n_layers=args.layers,
    )
    n_params = sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=0.0)
    loss_fn = LpLoss(d=d, p=2, reduction="sum")
    gen = torch.Generator().manual_seed(args.seed)

    def test_error() -> float:
        model.eval()
        with torch.no_grad():
            total = 0.0
            for s in range(0, len(x_test), args.infer_batch):
                pred = out_norm.inverse_transform(model(in_norm.transform(x_test[s : s + args.infer_batch])))
                total += float(loss_fn(pred, y_test[s : s + args.infer_batch]))
        model.train()
        return total / (len(x_test) * y_np.shape[1])

    if not args.quiet:
        print(f"neuraloperator {dist_version('neuraloperator')} FNO modes {(args.modes,) * d} width {args.width} "
              f"layers {args.layers}, {n_params:,} parameters; {args.train} train / {args.test} test on "
              f"{list(x_np.shape[2:])}; {args.threads} thread(s)", file=sys.stderr)
    history = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(args.train, generator=gen)
        total = 0.0
        for s in range(0, args.train, args.batch_size):
            idx = perm[s : s + args.batch_size]
            xb, yb = x_train_enc[idx], y_train_enc[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item()
        epoch_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        l2 = test_error()
        eval_s = time.perf_counter() - t1
        rec = {"epoch": epoch, "train_loss": total / args.train, "test_l2": l2, "epoch_seconds": epoch_s,
               "eval_seconds": eval_s, "lr": args.lr}
        history.append(rec)
        if not args.quiet:
            print(f"epoch {epoch}/{args.epochs}  train loss {rec['train_loss']:.4f}  test L2 {l2:.4f}  "
                  f"{epoch_s:.2f} s", file=sys.stderr)

    if args.save_state_dict:
        torch.save(model.state_dict(), args.save_state_dict)

    # Inference: encode + forward + decode over the test set in batches of --infer-batch.
    model.eval()

    def infer_pass() -> float:
        t = time.perf_counter()
        with torch.no_grad():
            for s in range(0, len(x_test), args.infer_batch):
                out_norm.inverse_transform(model(in_norm.transform(x_test[s : s + args.infer_batch])))
        return time.perf_counter() - t

    cold = infer_pass()
    warm = [infer_pass() for _ in range(5)]
    ms = 1000 * statistics.median(warm) / len(x_test)

    result = {
        "side": "neuraloperator",
        "versions": {
            "neuraloperator": dist_version("neuraloperator"), "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "config": {
            "data": os.path.abspath(args.data), "inputs": in_names, "targets": tgt_names,
            "grid": list(x_np.shape[2:]), "train": args.train, "test": args.test, "epochs": args.epochs,
            "batch_size": args.batch_size, "lr": args.lr, "modes": [args.modes] * d, "width": args.width,
            "layers": args.layers, "threads": args.threads, "seed": args.seed, "optimizer": "Adam",
            "loss": f"LpLoss(d={d}, p=2, reduction='sum') on encoded targets", "normalizer": "UnitGaussianNormalizer eps 1e-7",
            "parameters": n_params,
        },
        "epochs": history,
        "median_epoch_seconds": statistics.median(r["epoch_seconds"] for r in history),
        "final_test_l2": history[-1]["test_l2"] if history else None,
        "peak_rss_mb": rss_mb(),
        "rss_after_import_mb": rss_import,
        "inference_ms_per_sample": ms,
        "inference_cold_ms_per_sample": 1000 * cold / len(x_test),
        "inference_batch": args.infer_batch,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")

    print(f"{'epoch':>5} {'train loss':>11} {'test relL2':>11} {'epoch s':>8}")
    for r in history:
        print(f"{r['epoch']:>5} {r['train_loss']:>11.5f} {r['test_l2']:>11.5f} {r['epoch_seconds']:>8.2f}")
    print(f"median epoch {result['median_epoch_seconds']:.2f} s; final test rel L2 {result['final_test_l2']:.5f}; "
          f"peak RSS {result['peak_rss_mb']:.0f} MB (after imports {rss_import:.0f} MB); inference "
          f"{ms:.3f} ms/sample (cold {result['inference_cold_ms_per_sample']:.3f}); -> {args.out}")


if __name__ == "__main__":
    main()
