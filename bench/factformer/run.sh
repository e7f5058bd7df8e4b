#!/usr/bin/env bash
# FactFormer / IFactFormer-m benchmark (issue 10): forward parity with the PyTorch re-implementation
# (factformer_torch.py) and training-step time of `pdekit train` against the same network trained
# by PyTorch (peer_train.py) on the same file, both on CPU with the same thread count.
#
#   bench/factformer/run.sh                 # Darcy 64² (pdekit generate darcy, seed 0), 64 training samples
#   bench/factformer/run.sh --skip-build --epochs 6 --threads 2
#
# Steps: build pdekit (release, default .build) unless --skip-build; generate the 2D (64², 80
# samples) and 3D (8³, 6 samples) Darcy files into bench/results/factformer/ if missing; parity:
# train each model one epoch without normalization (2D and 3D) and run parity.py (relative L2 of
# the forward outputs ≤ 1e-5); timing: for each model `pdekit train` for --epochs epochs, then
# peer_train.py from the resulting checkpoint with the same samples, batch size and epochs.
# Epoch seconds are training steps only on both sides; the figure is the median over the epochs
# after the first. Raw JSON lines in bench/results/factformer/run-<UTC>/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="${PYTHON:-$root/bench/.venv/bin/python}"
[ -x "$py" ] || py=/work/main/bench/.venv/bin/python
epochs=4
threads=2
skip_build=0
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
if [ "$skip_build" = 0 ]; then (cd "$root" && swift build -c release --product pdekit); fi
pdekit="$root/.build/release/pdekit"
results="$root/bench/results/factformer"
run="$results/run-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run"
d2="$results/darcy-64.nc"
d3="$results/darcy3d-8.nc"
[ -f "$d2" ] || "$pdekit" generate darcy --samples 80 --resolution 64 --seed 0 --quiet --out "$d2"
[ -f "$d3" ] || "$pdekit" generate darcy --dimension 3 --samples 6 --resolution 8 --seed 0 --quiet --out "$d3"

ff="--width 64 --layers 2 --heads 4 --head-width 16"
iff="--width 64 --layers 1 --repeats 4 --heads 4 --head-width 16"
echo "== parity" >&2
for spec in "factformer|$ff|$d2|0:4" "ifactformer|$iff --kernel-multiplier 6|$d2|0:4" \
  "factformer|--width 8 --layers 1 --heads 2 --head-width 4|$d3|0:2" \
  "ifactformer|--width 8 --layers 1 --repeats 2 --heads 2 --head-width 4|$d3|0:2"; do
  IFS='|' read -r model opts file range <<<"$spec"
  ckpt="$run/parity-$model-$(basename "$file" .nc).safetensors"
  # shellcheck disable=SC2086
  "$pdekit" train --model "$model" --data "$file" --train-samples 4 --test-samples 2 --epochs 1 --batch-size 2 \
    --no-normalize --threads "$threads" --quiet --out "$ckpt" $opts >/dev/null
  "$py" "$here/parity.py" --pdekit "$pdekit" --data "$file" --checkpoint "$ckpt" --samples "$range" \
    | tee -a "$run/parity.jsonl"
done

echo "== training step time ($epochs epochs, 64 samples, batch 8, $threads threads)" >&2
for spec in "factformer|$ff" "ifactformer|$iff"; do
  IFS='|' read -r model opts <<<"$spec"
  ckpt="$run/time-$model.safetensors"
  # shellcheck disable=SC2086
  "$pdekit" train --model "$model" --data "$d2" --train-samples 64 --test-samples 8 --epochs "$epochs" \
    --batch-size 8 --threads "$threads" --quiet --out "$ckpt" --log "$run/time-$model.jsonl" $opts
  "$py" - "$run/time-$model.jsonl" "$model" <<'PY' | tee -a "$run/timing.jsonl"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
s = [r["epoch_seconds"] for r in rows]
print(json.dumps({"side": "pdekit", "model": sys.argv[2], "epoch_seconds": s,
                  "median_epoch_seconds": statistics.median(s[1:] or s), "train_loss": [r["train_loss"] for r in rows]}))
PY
  "$py" "$here/peer_train.py" --checkpoint "$ckpt" --data "$d2" --train-samples 64 --batch-size 8 \
    --epochs "$epochs" --threads "$threads" | tee -a "$run/timing.jsonl"
done
"$py" - "$run/timing.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for m in ("factformer", "ifactformer"):
    s = {r["side"]: r["median_epoch_seconds"] for r in rows if r["model"] == m}
    print(f"{m}: PDEKit {s['pdekit']:.3f} s/epoch, PyTorch {s['pytorch']:.3f} s/epoch, "
          f"PDEKit/PyTorch = {s['pdekit'] / s['pytorch']:.2f}")
PY
echo "raw files: $run" >&2
