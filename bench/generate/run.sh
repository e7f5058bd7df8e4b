#!/usr/bin/env bash
# Dataset-generation benchmark: `pdekit generate darcy` vs a vectorized Python pipeline
# (bench/generate/darcy_peer.py: numpy GRF + scikit-sparse CHOLMOD + netCDF4, 2 processes).
#
#   bench/generate/run.sh                         # 3 rounds, N = 200, R = 64 128 256
#   bench/generate/run.sh --rounds 1 --samples 40 --resolutions "64 128"   # quick look
#   bench/generate/run.sh --skip-build --no-phases
#
# Builds pdekit (release, scratch path .build-gen), prepares bench/.venv (bench/setup-venv.sh plus
# netCDF4), runs bench/generate/driver.py (whole commands timed with perf_counter around
# subprocess; PDEKit and the peer alternate who goes first), writes
# bench/results/generate-raw-<UTC>.jsonl, then bench/generate/report.py writes
# bench/generate/RESULTS-generate.md. Self-contained: touches nothing outside bench/generate/,
# bench/results/, bench/.venv and .build-gen.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds=3
samples=200
resolutions="64 128 256"
threads=2
skip_build=0
phases=1
out_md="$here/RESULTS-generate.md"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --resolutions) resolutions="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --no-phases) phases=0; shift ;;
    --out) out_md="$2"; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
unset OPENBLAS_CORETYPE || true

cd "$root"
scratch=".build-gen"
if [ "$skip_build" = 0 ]; then
  echo "== building pdekit (release, --scratch-path $scratch)" >&2
  swift build -c release --scratch-path "$scratch" --product pdekit >&2
fi
pdekit="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/pdekit"
[ -x "$pdekit" ] || { echo "pdekit binary not found at $pdekit" >&2; exit 1; }

echo "== python venv" >&2
py="$root/bench/.venv/bin/python"
if ! "$py" -c 'import numpy, scipy, pyamg, sksparse.cholmod' 2>/dev/null; then
  bash "$root/bench/setup-venv.sh"
fi
if ! "$py" -c 'import netCDF4' 2>/dev/null; then
  "$py" -m pip install --quiet --disable-pip-version-check netCDF4 >&2
fi
if ! "$py" -c 'import sksparse.cholmod' 2>/dev/null; then
  echo "WARNING: scikit-sparse unavailable; the peer falls back to pyamg SA-CG (rtol 1e-10)" >&2
fi

mkdir -p "$root/bench/results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
raw="$root/bench/results/generate-raw-$stamp.jsonl"
work="$(mktemp -d "${TMPDIR:-/tmp}/pdekit-generate-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

phase_flag=()
[ "$phases" = 0 ] && phase_flag=(--no-phases)
echo "== running: $rounds rounds, N = $samples, R = $resolutions, threads/processes = $threads -> $raw" >&2
"$py" "$here/driver.py" --pdekit "$pdekit" --python "$py" --rounds "$rounds" --samples "$samples" \
  --resolutions "$(echo $resolutions | tr ' ' ',')" --threads "$threads" --workdir "$work" --raw "$raw" \
  ${phase_flag[@]+"${phase_flag[@]}"}

"$py" "$here/report.py" "$raw" --out "$out_md"
