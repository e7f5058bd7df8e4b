#!/usr/bin/env bash
# MPI generation benchmark (issue 12): `pdekit generate darcy` at 128², 400 samples, as
#   (a) mpirun -np 1 (one rank, one thread),
#   (b) mpirun -np 2 (two ranks, one thread each),
#   (c) one process with --threads 2 (no MPI),
# in rotating order, --rounds times; reports samples/s (median), the parallel efficiency of (b)
# over (a), (b) against (c), the merge time of the parts, and checks that all outputs hold the
# same data. Needs Open MPI (apt-get install libopenmpi-dev openmpi-bin).
#
#   bench/mpi/run.sh                                   # build, 3 rounds, N = 400, R = 128
#   bench/mpi/run.sh --skip-build --rounds 5 --samples 200 --resolution 64
#
# Writes bench/results/mpi-raw-<UTC>.jsonl and prints the Markdown table (bench/mpi/driver.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds=3
samples=400
resolution=128
skip_build=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --resolution) resolution="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v mpirun >/dev/null || { echo "mpirun not found: apt-get install libopenmpi-dev openmpi-bin" >&2; exit 1; }
if [ "$skip_build" = 0 ]; then
  (cd "$root" && swift build -c release --traits MPI --scratch-path .build-mpi --product pdekit)
fi
exe="$root/.build-mpi/release/pdekit"
[ -x "$exe" ] || { echo "$exe missing: run without --skip-build" >&2; exit 1; }
mkdir -p "$root/bench/results"
raw="$root/bench/results/mpi-raw-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
# The generator holds BLAS at one thread per worker itself; this keeps any other BLAS user at one.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
python3 "$here/driver.py" --exe "$exe" --rounds "$rounds" --samples "$samples" --resolution "$resolution" \
  --raw "$raw"
