#!/usr/bin/env bash
# Autoregressive Navier–Stokes comparison (issue 10): FactFormer, IFactFormer-m and FNO-2D trained
# by `pdekit train --input-frames k` on one time-dependent file, then scored by `pdekit eval`
# (one-step relative L2 over every k-frame window of the test trajectories) and
# `pdekit predict --rollout T` (relative L2 per rollout step).
#
#   bench/factformer/ns_run.sh                       # reduced scale, see the defaults below
#   bench/factformer/ns_run.sh --resolution 64 --solver-resolution 256 --dt 1e-4 --samples 200 --epochs 50
#
# The file is `pdekit generate navier-stokes` with ν = 1e-3 (the FNO paper's recipe; its defaults
# are 64² from 256² with Δt = 1e-4, T = 50); frame 0 is the initial vorticity, frame f the stored
# vorticity at t = f. Split: the first 80 % of the trajectories train, the rest test. Raw logs and
# summaries in bench/results/factformer/ns-<UTC>/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
resolution=32
solver=64
dt=1e-3
tend=20
samples=40
frames=10
epochs=10
rollout=10
threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --resolution) resolution="$2"; shift 2 ;;
    --solver-resolution) solver="$2"; shift 2 ;;
    --dt) dt="$2"; shift 2 ;;
    --t-end) tend="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --input-frames) frames="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --rollout) rollout="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
pdekit="$root/.build/release/pdekit"
results="$root/bench/results/factformer"
run="$results/ns-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run"
data="$results/ns-nu1e-3-${resolution}-from-${solver}-dt${dt}-T${tend}-${samples}.nc"
[ -f "$data" ] || "$pdekit" generate navier-stokes --samples "$samples" --resolution "$resolution" --seed 0 \
  --param nu=1e-3 --param "t_end=$tend" --param "dt=$dt" --param "solver_resolution=$solver" --quiet --out "$data"
split_at=$(( (samples * 8 + 5) / 10 ))
for spec in "factformer|--width 32 --layers 2 --heads 4 --head-width 8" \
  "ifactformer|--width 32 --layers 1 --repeats 4 --heads 4 --head-width 8" \
  "fno|--width 20 --modes 8 --layers 4"; do
  IFS='|' read -r model opts <<<"$spec"
  ckpt="$run/$model.safetensors"
  # shellcheck disable=SC2086
  "$pdekit" train --model "$model" --data "$data" --input-frames "$frames" --epochs "$epochs" --batch-size 16 \
    --threads "$threads" --quiet --out "$ckpt" --log "$run/$model.jsonl" $opts
  "$pdekit" eval --checkpoint "$ckpt" --data "$data" --samples "$split_at:$samples" --json > "$run/$model-eval.json"
  "$pdekit" predict --checkpoint "$ckpt" --input "$data" --samples "$split_at:$samples" --rollout "$rollout" \
    --out "$run/$model-rollout.nc" > "$run/$model-rollout.txt"
done
python3 - "$run" <<'PY'
import json, os, re, statistics, sys
run = sys.argv[1]
print("| model | s/epoch (median) | test one-step rel. L2 | rollout rel. L2 step 1 / 5 / last |")
print("|---|---|---|---|")
for m in ("factformer", "ifactformer", "fno"):
    log = [json.loads(l) for l in open(os.path.join(run, m + ".jsonl"))]
    ev = json.load(open(os.path.join(run, m + "-eval.json")))
    steps = [float(x) for x in re.findall(r"relative L2 ([0-9.]+)", open(os.path.join(run, m + "-rollout.txt")).read())]
    sec = statistics.median(r["epoch_seconds"] for r in log)
    print(f"| {m} | {sec:.1f} | {ev['relative_l2']['mean']:.4f} | {steps[0]:.4f} / {steps[min(4, len(steps) - 1)]:.4f} / {steps[-1]:.4f} |")
PY
echo "raw files: $run" >&2
