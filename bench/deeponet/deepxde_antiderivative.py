"""DeepXDE peer of `pdekit-bench deeponet-train`: the antiderivative operator of DeepXDE's DeepONet
tutorial (examples/operator/antiderivative_aligned.py) on the files written by
`pdekit-bench deeponet-data` (PDEKit NetCDF, input `v`, target `u`, coordinate `x`).

Network and training exactly as the tutorial: DeepONetCartesianProd([m, 40, 40], [1, 40, 40],
"relu", "Glorot normal"), TripleCartesianProd data, Adam lr 1e-3, metric "mean l2 relative error",
model.train(iterations=N) (full batch, test loss and metric every display_every=1000 iterations).
Prints one JSON line like the Swift side: iterations per second of model.train (wall clock) and the
final test relative L2 error (mean over samples, computed here from model.predict as PDEKit's
evaluate does).

    DDE_BACKEND=pytorch OPENBLAS_NUM_THREADS=1 bench/.venv/bin/python bench/deeponet/deepxde_antiderivative.py \
        --dir /tmp/don-data --iterations 10000 --threads 2
"""

import argparse
import json
import os
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import netCDF4  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def load(path):
    with netCDF4.Dataset(path) as d:
        x = np.asarray(d["x"][:], dtype=np.float32)[:, None]
        v = np.asarray(d["v"][:], dtype=np.float32)
        u = np.asarray(d["u"][:], dtype=np.float32)
    return x, v, u


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--iterations", type=int, default=10000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    import deepxde as dde

    dde.config.set_random_seed(a.seed)
    x, v_train, u_train = load(os.path.join(a.dir, "antiderivative-train.nc"))
    x_test, v_test, u_test = load(os.path.join(a.dir, "antiderivative-test.nc"))
    assert np.array_equal(x, x_test), "train and test grids differ"
    data = dde.data.TripleCartesianProd(
        X_train=(v_train, x), y_train=u_train, X_test=(v_test, x), y_test=u_test
    )
    m = v_train.shape[1]
    net = dde.nn.DeepONetCartesianProd([m, 40, 40], [1, 40, 40], "relu", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=0.001, metrics=["mean l2 relative error"])
    t0 = time.perf_counter()
    losshistory, _ = model.train(iterations=a.iterations, verbose=0)
    seconds = time.perf_counter() - t0
    pred = model.predict((v_test, x))
    rel = np.linalg.norm(pred - u_test, axis=1) / (np.linalg.norm(u_test, axis=1) + 1e-8)
    curve = [
        {"iteration": int(s), "train_loss": float(np.sum(l)), "test_metric": float(np.sum(mt))}
        for s, l, mt in zip(losshistory.steps, losshistory.loss_train, losshistory.metrics_test)
    ]
    print(
        json.dumps(
            {
                "bench": "deeponet_antiderivative",
                "impl": "deepxde",
                "deepxde": dde.__version__,
                "torch": torch.__version__,
                "iterations": a.iterations,
                "seconds": seconds,
                "it_per_s": a.iterations / seconds,
                "test_rel_l2": float(rel.mean()),
                "threads": a.threads,
                "curve": curve,
                "parameters": sum(p.numel() for p in net.parameters()),
                "train_samples": int(v_train.shape[0]),
                "test_samples": int(v_test.shape[0]),
            },
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
