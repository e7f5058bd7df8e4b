#!/usr/bin/env bash
# FNO training benchmark (issue 8): `pdekit train --model fno` vs neuraloperator 2.0 (PyTorch CPU,
# bench/fno/peer_train.py) on the same PDEKit NetCDF file, same recipe, one run each.
#
#   bench/fno/run.sh                          # Darcy 64², 250 samples: 200 train / 50 test, 20 epochs
#   bench/fno/run.sh --data my.nc --epochs 5
#   bench/fno/run.sh --samples 1100 --resolution 85 --split 0.90909   # paper scale: 1000 / 100 at 85²
#   bench/fno/run.sh --peer-only | --swift-only | --skip-build | --peer-first
#
# Steps: bench/setup-venv.sh --torch if torch/neuraloperator are missing; build pdekit (release,
# --scratch-path .build-fno); generate the data file if it does not exist (pdekit generate darcy,
# seed 0, into bench/results/fno/); then, in one run, PDEKit (pdekit train, then pdekit eval x5
# for the inference time) and the peer, each wrapped in bench/fno/measure.py (wall time, peak RSS
# of the process); PDEKit first unless --peer-first. Split: the first round(split·N) samples
# train, the rest test (pdekit train --split's rule; the peer gets the same counts).
# Raw files go to bench/results/fno/run-<UTC>/; bench/fno/report.py writes bench/results/fno.json
# and bench/results/fno.md and prints the table. Touches nothing outside bench/fno, bench/results,
# bench/.venv and .build-fno.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data=""
samples=250
resolution=64
split=0.8
epochs=20
batch=20
lr=1e-3
modes=12
width=32
layers=4
seed=0
threads=2
skip_build=0
sides="both"
order="pdekit-first"
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --resolution) resolution="$2"; shift 2 ;;
    --split) split="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --lr) lr="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --width) width="$2"; shift 2 ;;
    --layers) layers="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --peer-only) sides="peer"; shift ;;
    --swift-only) sides="swift"; shift ;;
    --peer-first) order="peer-first"; shift ;;
    -h|--help) sed -n 2,19p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
cd "$root"
py="$root/bench/.venv/bin/python"

echo "== python venv (torch, neuraloperator)" >&2
if ! "$py" -c 'import torch, neuralop, netCDF4, safetensors' 2>/dev/null; then
  bash "$root/bench/setup-venv.sh" --torch
fi

scratch=".build-fno"
pdekit=""
if [ "$sides" != "peer" ] || [ -z "$data" ] || [ ! -f "$data" ]; then
  if [ "$skip_build" = 0 ]; then
    echo "== building pdekit (release, --scratch-path $scratch)" >&2
    swift build -c release --scratch-path "$scratch" --product pdekit >&2
  fi
  pdekit="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/pdekit"
  [ -x "$pdekit" ] || { echo "pdekit binary not found at $pdekit (run without --skip-build)" >&2; exit 1; }
fi

mkdir -p "$root/bench/results/fno"
if [ -z "$data" ]; then
  data="$root/bench/results/fno/darcy${resolution}-${samples}-seed${seed}.nc"
fi
if [ ! -f "$data" ]; then
  echo "== generating $data" >&2
  "$pdekit" generate darcy --samples "$samples" --resolution "$resolution" --seed "$seed" --threads "$threads" \
    --out "$data" --quiet >&2
fi
data="$(cd "$(dirname "$data")" && pwd)/$(basename "$data")"

# Sample counts: pdekit train --split's rule, Int((n·split).rounded()).
read -r n_total n_train n_test resolution_read < <("$py" - "$data" "$split" <<'PY'
import sys, netCDF4
path, split = sys.argv[1], float(sys.argv[2])
with netCDF4.Dataset(path) as ds:
    v = next(v for v in ds.variables.values() if getattr(v, "pdekit_role", None) == "input")
    n = v.shape[0]
    grid = "x".join(str(s) for s in v.shape[1:])
import math
k = int(math.floor(n * split + 0.5))
print(n, k, n - k, grid)
PY
)
echo "== $data: $n_total samples on $resolution_read; $n_train train / $n_test test" >&2

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
rundir="$root/bench/results/fno/run-$stamp"
mkdir -p "$rundir"
measure=("$py" "$root/bench/fno/measure.py")

swift_train=("$pdekit" train --model fno --data "$data" --split "$split" --epochs "$epochs" --batch-size "$batch"
  --lr "$lr" --modes "$modes" --width "$width" --layers "$layers" --seed "$seed" --threads "$threads"
  --out "$rundir/swift-model.safetensors" --log "$rundir/swift-train.jsonl")
swift_eval=("$pdekit" eval --checkpoint "$rundir/swift-model.safetensors" --data "$data"
  --samples "$n_train:$n_total" --batch-size 50 --threads "$threads")
peer_cmd=("$py" "$root/bench/fno/peer_train.py" --data "$data" --train "$n_train" --test "$n_test"
  --epochs "$epochs" --batch-size "$batch" --lr "$lr" --modes "$modes" --width "$width" --layers "$layers"
  --threads "$threads" --seed "$seed" --infer-batch 50 --out "$rundir/peer.json")

run_swift() {
  if ! "$pdekit" train --help >/dev/null 2>&1; then
    echo "WARNING: this pdekit has no 'train' command yet; PDEKit side skipped" >&2
    return 0
  fi
  echo "== PDEKit: ${swift_train[*]}" >&2
  if ! "${measure[@]}" --out "$rundir/swift-train-run.json" -- "${swift_train[@]}"; then
    echo "WARNING: pdekit train failed; see above" >&2
    return 0
  fi
  echo "== PDEKit: ${swift_eval[*]} (5 runs)" >&2
  for k in 1 2 3 4 5; do
    # --json where supported, else the text report (report.py reads either).
    if ! "${swift_eval[@]}" --json >"$rundir/swift-eval-$k.out" 2>"$rundir/swift-eval-$k.err"; then
      "${swift_eval[@]}" >"$rundir/swift-eval-$k.out" 2>>"$rundir/swift-eval-$k.err" ||
        echo "WARNING: pdekit eval failed (see $rundir/swift-eval-$k.err)" >&2
    fi
  done
}
run_parity() {
  # Sanity check that PDEKit reproduces neuraloperator's forward pass on the committed fixtures.
  "$pdekit" eval --help >/dev/null 2>&1 || return 0
  echo "== parity: PDEKit vs neuraloperator on Tests/OperatorsTests/Fixtures" >&2
  "$py" "$root/bench/fno/parity_cli.py" --pdekit "$pdekit" | tee "$rundir/parity.txt" >&2 ||
    echo "WARNING: parity check failed (see above); the timings below still run" >&2
}
run_peer() {
  echo "== neuraloperator: ${peer_cmd[*]}" >&2
  # Its per-epoch lines and warnings go to stderr; the summary table to peer.out.
  "${measure[@]}" --out "$rundir/peer-run.json" --stdout "$rundir/peer.out" -- "${peer_cmd[@]}" 2>"$rundir/peer.err" ||
    { echo "WARNING: the peer failed; see $rundir/peer.err" >&2; tail -5 "$rundir/peer.err" >&2; }
  cat "$rundir/peer.out" >&2 || true
}

[ "$sides" != "peer" ] && run_parity
case "$sides:$order" in
  both:pdekit-first) run_swift; run_peer ;;
  both:peer-first) run_peer; run_swift ;;
  swift:*) run_swift ;;
  peer:*) run_peer ;;
esac

pdekit_version="n/a"
[ -n "$pdekit" ] && pdekit_version="$("$pdekit" --version 2>/dev/null || echo n/a)"
"$py" - "$rundir/meta.json" <<PY
import json, os, platform, sys
cpu = "?"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
meta = {
    "date": "$stamp", "data": "$data", "data_name": os.path.basename("$data"), "samples": $n_total,
    "resolution": "$resolution_read", "train": $n_train, "test": $n_test, "split": $split, "epochs": $epochs,
    "batch_size": $batch, "lr": $lr, "modes": $modes, "width": $width, "layers": $layers, "seed": $seed,
    "threads": $threads, "order": "$order", "sides": "$sides", "cpu": cpu, "cores": os.cpu_count(),
    "pdekit_version": "$pdekit_version",
    "commands": [c for c in [$(printf '%q ' "${swift_train[@]}" | "$py" -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))'),
                 $(printf '%q ' "${swift_eval[@]}" | "$py" -c 'import json,sys; print(json.dumps(sys.stdin.read().strip() + " --json"))'),
                 $(printf '%q ' "${peer_cmd[@]}" | "$py" -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))')]
                 if ("$sides" != "peer" or "peer_train" in c) and ("$sides" != "swift" or "peer_train" not in c)],
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY

"$py" "$root/bench/fno/report.py" "$rundir" --json "$root/bench/results/fno.json" --md "$root/bench/results/fno.md"
echo "raw files: $rundir" >&2
