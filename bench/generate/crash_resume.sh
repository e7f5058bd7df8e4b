#!/usr/bin/env bash
# Crash-resume check of `pdekit generate`: kill -9 at random moments, resume, compare checksums.
#
#   bench/generate/crash_resume.sh [--trials 5] [--samples 200] [--resolution 64] [--batch-size 4]
#                                  [--threads 2] [--seed-random N] [--skip-build] [--no-merge-trial]
#                                  [--generate-args "MORE pdekit generate OPTIONS"]
#
# 1. Reference: one uninterrupted run  pdekit generate darcy --samples N --resolution R
#    --threads T --batch-size B --out ref.nc --quiet  (timed: T_ref).
# 2. Each trial: start the same command into another path, kill -9 it after a random sleep in
#    [0.05 s, T_ref]; check that the final path either does not exist or is a complete readable
#    file with N samples; then rerun with --resume until it exits 0 (at most 5 attempts), and
#    compare the checksums of the data variables and the non-timing diagnostics
#    (coefficient, solution, sample_seed, solver_iterations, solver_relative_residual;
#    solve_seconds differs by design) with the reference (bench/generate/nc_checksum.py).
# 3. One extra trial (skip with --no-merge-trial) kills -9 as soon as OUT.tmp appears, i.e. during
#    the final merge of the parts, the moment a random kill rarely hits.
# --generate-args adds options to every pdekit generate call (split at spaces), e.g. a warm start with
# retraining: --generate-args "--solver amg-cg --warm-start neural --bootstrap 16 --retrain-every 40"
# (the checksums then also cover solver_warm_start and solver_warm_start_round).
# Prints PASS/FAIL per trial; exits 1 if any trial fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
trials=5
samples=200
resolution=64
batch=4
threads=2
skip_build=0
merge_trial=1
rseed=""
extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) trials="$2"; shift 2 ;;
    --samples) samples="$2"; shift 2 ;;
    --resolution) resolution="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --seed-random) rseed="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --no-merge-trial) merge_trial=0; shift ;;
    --generate-args) extra="$2"; shift 2 ;;
    -h|--help) sed -n 2,24p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
cd "$root"
if [ "$skip_build" = 0 ]; then
  swift build -c release --scratch-path .build-gen --product pdekit >&2
fi
pdekit="$(swift build -c release --scratch-path .build-gen --show-bin-path)/pdekit"
py="$root/bench/.venv/bin/python"
"$py" -c 'import netCDF4' 2>/dev/null || "$py" -m pip install --quiet --disable-pip-version-check netCDF4 >&2
sum="$here/nc_checksum.py"
work="$(mktemp -d "${TMPDIR:-/tmp}/pdekit-crash-resume.XXXXXX")"
trap 'rm -rf "$work"' EXIT
[ -n "$rseed" ] && RANDOM="$rseed"

gen() { # gen OUT [extra args...]   (foreground only)
  local out="$1"; shift
  "$pdekit" generate darcy --samples "$samples" --resolution "$resolution" --threads "$threads" \
    --batch-size "$batch" --out "$out" --quiet $extra "$@"
}
combined() { "$py" "$sum" "$1" --expect-samples "$samples" | "$py" -c 'import json,sys; print(json.load(sys.stdin).get("combined",""))'; }

echo "command: $pdekit generate darcy --samples $samples --resolution $resolution --threads $threads --batch-size $batch --out OUT --quiet $extra [--resume]"
t0=$(date +%s.%N)
gen "$work/ref.nc"
t1=$(date +%s.%N)
tref=$(echo "$t1 - $t0" | bc -l)
ref_sum="$(combined "$work/ref.nc")"
[ -n "$ref_sum" ] || { echo "FAIL: reference file unreadable"; exit 1; }
printf 'reference: %.2f s, %d samples, checksum %s\n' "$tref" "$samples" "${ref_sum:0:16}"

failures=0
for t in $(seq 1 "$trials"); do
  out="$work/trial-$t.nc"
  # Random kill moment in [0.05, tref] s (bash RANDOM: 15 bits).
  delay=$(echo "0.05 + ($tref - 0.05) * $RANDOM / 32767" | bc -l)
  # Started as a plain background command (not through the shell function), so that $! is the
  # pdekit process itself and kill -9 hits it, not a wrapping subshell.
  "$pdekit" generate darcy --samples "$samples" --resolution "$resolution" --threads "$threads" \
    --batch-size "$batch" --out "$out" --quiet $extra &
  pid=$!
  sleep "$delay"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    state="killed"
  else
    state="had already finished"
  fi
  wait "$pid" 2>/dev/null || true
  if kill -0 "$pid" 2>/dev/null; then echo "FAIL: pdekit $pid survived kill -9"; exit 1; fi
  parts=0
  [ -d "$out.parts" ] && parts=$(find "$out.parts" -name 'part-*.nc' | wc -l)
  verdict=PASS
  why=""
  # The final path must be absent or a complete, readable file.
  if [ -e "$out" ]; then
    if ! "$py" "$sum" "$out" --expect-samples "$samples" >/dev/null; then
      verdict=FAIL; why="$why; output present after kill but incomplete/unreadable"
    fi
    at_kill="complete file present"
  else
    at_kill="no output file, $parts parts"
  fi
  attempts=0
  rc=1
  while [ $attempts -lt 5 ]; do
    attempts=$((attempts + 1))
    if gen "$out" --resume >/dev/null 2>"$work/resume-$t.err"; then rc=0; break; fi
  done
  if [ $rc -ne 0 ]; then
    verdict=FAIL; why="$why; --resume failed: $(tail -c 300 "$work/resume-$t.err")"
  else
    got="$(combined "$out")"
    if [ "$got" != "$ref_sum" ]; then verdict=FAIL; why="$why; checksum ${got:0:16} != reference"; fi
    [ -d "$out.parts" ] && { verdict=FAIL; why="$why; parts directory left behind"; }
  fi
  [ "$verdict" = PASS ] || failures=$((failures + 1))
  printf 'trial %d: kill -9 at %.2f s (%s; %s) -> resume x%d: %s%s\n' "$t" "$delay" "$state" "$at_kill" "$attempts" "$verdict" "$why"
  rm -rf "$out" "$out.parts" "$out.tmp"
done
# Extra trial aimed at the merge window: kill -9 as soon as OUT.tmp (the merge target) appears.
if [ "$merge_trial" = 1 ]; then
  trials=$((trials + 1))
  out="$work/trial-merge.nc"
  "$pdekit" generate darcy --samples "$samples" --resolution "$resolution" --threads "$threads" \
    --batch-size "$batch" --out "$out" --quiet $extra &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ ! -e "$out.tmp" ]; do sleep 0.002; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; state="killed during the merge"; else state="finished before the merge was seen"; fi
  wait "$pid" 2>/dev/null || true
  verdict=PASS; why=""
  if [ -e "$out" ]; then
    "$py" "$sum" "$out" --expect-samples "$samples" >/dev/null || { verdict=FAIL; why="; output present but incomplete/unreadable"; }
    at_kill="complete file present"
  else
    at_kill="no output file; OUT.tmp $( [ -e "$out.tmp" ] && echo present || echo absent )"
  fi
  if gen "$out" --resume >/dev/null 2>"$work/resume-merge.err"; then
    got="$(combined "$out")"
    [ "$got" = "$ref_sum" ] || { verdict=FAIL; why="$why; checksum ${got:0:16} != reference"; }
    [ ! -e "$out.tmp" ] || { verdict=FAIL; why="$why; OUT.tmp left behind"; }
  else
    verdict=FAIL; why="$why; --resume failed: $(tail -c 300 "$work/resume-merge.err")"
  fi
  [ "$verdict" = PASS ] || failures=$((failures + 1))
  echo "trial merge: kill -9 when OUT.tmp appeared ($state; $at_kill) -> resume: $verdict$why"
fi
if [ $failures -eq 0 ]; then
  echo "crash-resume: PASS ($trials/$trials trials)"
else
  echo "crash-resume: FAIL ($failures of $trials trials failed)"
  exit 1
fi
