#!/bin/sh
# DeepONet antiderivative benchmark: PDEKit vs DeepXDE (PyTorch backend) on the same PDEKit files.
#   bench/deeponet/run.sh [ITERATIONS] [DATA_DIR]
# Needs the release pdekit-bench (swift build -c release --product pdekit-bench) and bench/.venv
# with deepxde (bench/.venv/bin/pip install deepxde; PDEKIT_PYTHON names another interpreter, e.g. a
# worktree's use of the main checkout's venv). 2 threads on each side: PDEKit runs OpenBLAS
# with 2 threads and no other worker threads; PyTorch runs torch.set_num_threads(2) with
# OpenBLAS (numpy) at 1.
set -eu
ITER=${1:-10000}
DIR=${2:-/tmp/pdekit-deeponet-data}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=${PDEKIT_BENCH:-$ROOT/.build/release/pdekit-bench}
PYTHON=${PDEKIT_PYTHON:-$ROOT/bench/.venv/bin/python}
"$BENCH" deeponet-data --dir "$DIR" --train 150 --test 1000 --points 100 --seed 0 >&2
OPENBLAS_NUM_THREADS=2 "$BENCH" deeponet-train --dir "$DIR" --iterations "$ITER" --threads 2 --loss mse --normalize 0
OPENBLAS_NUM_THREADS=2 "$BENCH" deeponet-train --dir "$DIR" --iterations "$ITER" --threads 2 --loss l2 --normalize 1
DDE_BACKEND=pytorch OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2 \
  "$PYTHON" "$ROOT/bench/deeponet/deepxde_antiderivative.py" --dir "$DIR" \
  --iterations "$ITER" --threads 2
