#!/usr/bin/env bash
# PDEKit benchmark runner: PDEKit driver vs Python peers, interleaved round by round.
#
#   bench/run.sh [--suite kernels|solvers|all] [--rounds K] [--reps R] [--warmup W] [--quick]
#
#   --suite S    kernels (default): fft, spmv, gemm; solvers: the Darcy solver benchmarks and
#                the Matrix Market read (long: ~25 min); all: kernels, then solvers
#   --rounds K   kernel rounds (default 3); every round runs every benchmark, PDEKit and peer
#                back to back (order alternating between rounds), so noise hits both
#   --reps R     timed repetitions per kernel benchmark invocation (default 20)
#   --warmup W   untimed warm-up repetitions per kernel invocation (default 3)
#   --solver-rounds K  solvers suite: rounds of the fast methods (CHOLMOD, AMG) per 2D size
#                (default 2, order alternating); the slow ones (CG, IC0-CG, spsolve) run once
#   --quick      smoke test: kernels 1 round x 3 reps x 1 warm-up, solvers at small sizes; the
#                report goes to bench/results/RESULTS-quick.md instead of bench/RESULTS.md
#
# Raw JSON lines go to bench/results/raw-<UTC timestamp>.jsonl (one line per
# implementation per invocation, tagged with round/suite/side/variant), then
# bench/report.py summarises them into bench/RESULTS.md (sections of a suite not run now are
# kept from the raw files the previous RESULTS.md names). See bench/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

orig_args="$*"
rounds=3
reps=20
warmup=3
quick=0
suite=kernels
solver_rounds=2
usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
posint() { [[ "$2" =~ ^[0-9]+$ ]] && (( "$2" >= $3 )) || { echo "run.sh: $1 needs an integer >= $3" >&2; exit 2; }; }
while (( $# )); do
  case "$1" in
    --rounds) [[ $# -ge 2 ]] || usage; posint "$1" "$2" 1; rounds="$2"; shift 2 ;;
    --reps)   [[ $# -ge 2 ]] || usage; posint "$1" "$2" 1; reps="$2"; shift 2 ;;
    --warmup) [[ $# -ge 2 ]] || usage; posint "$1" "$2" 0; warmup="$2"; shift 2 ;;
    --suite)  [[ $# -ge 2 ]] || usage; suite="$2"; shift 2
              [[ "$suite" =~ ^(kernels|solvers|all)$ ]] || { echo "run.sh: --suite kernels|solvers|all" >&2; exit 2; } ;;
    --solver-rounds) [[ $# -ge 2 ]] || usage; posint "$1" "$2" 1; solver_rounds="$2"; shift 2 ;;
    --quick)  quick=1; shift ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
  esac
done
if (( quick )); then
  rounds=1; reps=3; warmup=1; solver_rounds=1
  command_str="bench/run.sh --quick"
  [[ $suite == kernels ]] || command_str+=" --suite $suite"
else
  command_str="bench/run.sh"
  [[ $suite == kernels ]] || command_str+=" --suite $suite"
  [[ $suite == solvers ]] || command_str+=" --rounds $rounds --reps $reps"
  [[ $suite == solvers ]] || (( warmup == 3 )) || command_str+=" --warmup $warmup"
  [[ $suite == kernels ]] || (( solver_rounds == 2 )) || command_str+=" --solver-rounds $solver_rounds"
fi
run_kernels=0; run_solvers=0
[[ $suite == kernels || $suite == all ]] && run_kernels=1
[[ $suite == solvers || $suite == all ]] && run_solvers=1

log() { echo "[run.sh $(date -u +%H:%M:%S)] $*" >&2; }

# --- Python venv with the peers' dependencies, and the release driver.
log "setting up bench/.venv"
bash "$here/setup-venv.sh"
py="$here/.venv/bin/python"
log "building pdekit-bench (release, scratch path .build-bench)"
(cd "$root" && swift build -c release --scratch-path .build-bench --product pdekit-bench >&2)
driver="$root/.build-bench/release/pdekit-bench"
[[ -x "$driver" ]] || { echo "run.sh: $driver not found after build" >&2; exit 1; }

# --- Threads: BLAS threads x Swift threads <= 2 cores. Overridable from the environment.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# OPENBLAS_CORETYPE is only ever set for the one PDEKit gemm variant that asks for it;
# every other command runs with it (and OPENBLAS_L2_SIZE) removed from the environment.
for v in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
  [[ -z "${!v:-}" ]] || log "note: $v=${!v} is set in your environment; it is removed for all commands except the explicit CORETYPE variant"
done
clean_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
coretype=SkylakeX

mkdir -p "$here/results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
raw="$here/results/raw-$stamp.jsonl"
raw_rel="bench/results/raw-$stamp.jsonl"

# Tagger: reads the JSON lines of one command on stdin, adds round/suite/side/variant,
# appends them to $raw. Anything that is not a JSON object is passed through to stderr.
tag_py='
import json, sys
rnd, suite, side, variant, cmd, out = sys.argv[1:7]
n = 0
with open(out, "a") as f:
    for line in sys.stdin:
        s = line.strip()
        try:
            rec = json.loads(s)
        except ValueError:
            rec = None
        if not isinstance(rec, dict):
            if s:
                print("  (non-JSON output) " + s, file=sys.stderr)
            continue
        rec.update(round=int(rnd), suite=suite, side=side, variant=variant, cmd=cmd)
        f.write(json.dumps(rec) + "\n")
        n += 1
if n == 0:
    sys.exit("tagger: no JSON records from: " + cmd)
'

# run ROUND SUITE SIDE VARIANT -- COMMAND...   (COMMAND runs in $root)
run() {
  local rnd="$1" suite="$2" side="$3" variant="$4"; shift 5
  local shown="$*"
  shown="${shown//$root\//}"
  log "round $rnd: $suite $side [$variant]: $shown"
  (cd "$root" && "$@") | "$py" -c "$tag_py" "$rnd" "$suite" "$side" "$variant" "$shown" "$raw"
}

# Metadata line (first line of the raw file).
(cd "$root" && "$py" - "$raw" "$command_str" "$rounds" "$reps" "$warmup" "$quick" "$coretype" "$orig_args" \
    "$suite" "$solver_rounds" <<'PY'
import json, os, platform, subprocess, sys, datetime
raw, command, rounds, reps, warmup, quick, coretype, argv, suite, solver_rounds = sys.argv[1:11]
def sh(*c):
    try:
        return subprocess.run(c, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None
cpu, flags = None, ""
try:
    for line in open("/proc/cpuinfo"):
        k, _, v = line.partition(":")
        k = k.strip()
        if k == "model name" and cpu is None:
            cpu = v.strip()
        elif k == "flags" and not flags:
            flags = v
except OSError:
    pass
sv = sh("swift", "--version")
meta = {
    "meta": True, "started_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    "command": command, "argv": argv, "rounds": int(rounds), "reps": int(reps), "warmup": int(warmup),
    "quick": quick == "1", "coretype_variant": coretype,
    "suites": ["fft", "spmv", "gemm"] * (suite in ("kernels", "all")) + ["solvers"] * (suite in ("solvers", "all")),
    "solver_rounds": int(solver_rounds),
    "env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
    "loadavg_start": [round(v, 2) for v in os.getloadavg()],
    "nproc": os.cpu_count(), "cpu_model": cpu, "avx512f": " avx512f" in f" {flags} ",
    "kernel": platform.uname().release, "python": platform.python_version(),
    "swift": sv.splitlines()[0] if sv else None,
    "git_commit": sh("git", "rev-parse", "--short", "HEAD"),
    "git_dirty": bool(sh("git", "status", "--porcelain")),
}
with open(raw, "w") as f:
    f.write(json.dumps(meta) + "\n")
PY
)
log "raw results: $raw_rel"

common=(--reps "$reps" --warmup "$warmup")
# One function per (benchmark, side); they read the current round from $r.
fft_pdekit()  { run "$r" fft pdekit default -- "${clean_env[@]}" "$driver" fft "${common[@]}" --threads 1; }
fft_peer()    { run "$r" fft peer default -- "${clean_env[@]}" "$py" bench/peers/fft_peer.py "${common[@]}" --threads 1; }
# the driver's spmv --threads 2 reports both the 1-thread ("pdekit") and 2-thread figure
spmv_pdekit() { run "$r" spmv pdekit default -- "${clean_env[@]}" "$driver" spmv "${common[@]}" --threads 2; }
spmv_peer()   { run "$r" spmv peer default -- "${clean_env[@]}" "$py" bench/peers/spmv_peer.py "${common[@]}" --threads 1; }
gemm_pdekit() {
  # pdekit-bench, like pdekit, re-executes itself with OPENBLAS_CORETYPE set when OpenBLAS falls
  # back to generic kernels; this row keeps OpenBLAS's own choice to show that fallback.
  run "$r" gemm pdekit default -- "${clean_env[@]}" PDEKIT_KEEP_OPENBLAS_CORE=1 "$driver" gemm "${common[@]}" --threads 1
  run "$r" gemm pdekit "coretype_$coretype" -- \
    "${clean_env[@]}" OPENBLAS_CORETYPE="$coretype" "$driver" gemm "${common[@]}" --threads 1
}
gemm_peer()   { run "$r" gemm peer default -- "${clean_env[@]}" "$py" bench/peers/gemm_peer.py "${common[@]}" --threads 1; }

if (( run_kernels )); then
  for (( r = 1; r <= rounds; r++ )); do
    # Alternate who goes first so neither side always runs on a "fresh" or "tired" machine.
    for b in fft spmv gemm; do
      if (( r % 2 == 1 )); then "${b}_pdekit"; "${b}_peer"; else "${b}_peer"; "${b}_pdekit"; fi
    done
  done
fi

# --- Solvers suite: Darcy systems exported once by PDEKit, solved by both sides; MM read.
# Data (several hundred MB) goes to bench/results/solvers-data/, overwritten by every run.
if (( run_solvers )); then
  data="$here/results/solvers-data"
  rm -rf "$data"
  mkdir -p "$data"
  if (( quick )); then
    sizes2d=(32 64); samples2d=3; n3d=16; samples3d=2; mm_n=256; mm_reps=2
  else
    sizes2d=(128 256 512); samples2d=10; n3d=64; samples3d=3; mm_n=1024; mm_reps=5
  fi
  fast_pd=cholmod,amg-cg,amg-cg-fresh; slow_pd=ic0-cg,cg
  fast_py=sksparse_cholmod,pyamg_sa_cg; slow_py=scipy_spsolve,scipy_cg
  peer=(bench/solvers/darcy_peer.py)
  idx=0
  for n in "${sizes2d[@]}"; do
    dir="$data/darcy2d_$n"
    run 0 solvers export default -- "${clean_env[@]}" "$driver" darcy-export --n "$n" --samples "$samples2d" --dim 2 --dir "$dir"
    for (( r = 1; r <= solver_rounds; r++ )); do
      pd_m=$fast_pd; py_m=$fast_py
      if (( r == 1 )); then pd_m+=",$slow_pd"; py_m+=",$slow_py"; fi
      if (( (idx + r) % 2 == 1 )); then
        run "$r" solvers pdekit default -- "${clean_env[@]}" "$driver" darcy --dir "$dir" --methods "$pd_m"
        run "$r" solvers peer default -- "${clean_env[@]}" "$py" "${peer[@]}" --dir "$dir" --methods "$py_m"
      else
        run "$r" solvers peer default -- "${clean_env[@]}" "$py" "${peer[@]}" --dir "$dir" --methods "$py_m"
        run "$r" solvers pdekit default -- "${clean_env[@]}" "$driver" darcy --dir "$dir" --methods "$pd_m"
      fi
    done
    rm -rf "$dir"
    idx=$(( idx + 1 ))
  done
  # 3D: one round; scipy spsolve skipped (SuperLU with COLAMD needs minutes per solve and many
  # GB at 64^3: measured 7 s at 32^3 and 33 s / 1.4 GB at 40^3 while testing).
  dir="$data/darcy3d_$n3d"
  run 0 solvers export default -- "${clean_env[@]}" "$driver" darcy-export --n "$n3d" --samples "$samples3d" --dim 3 --dir "$dir"
  run 1 solvers pdekit default -- "${clean_env[@]}" "$driver" darcy --dir "$dir" --methods "$fast_pd,$slow_pd"
  run 1 solvers peer default -- "${clean_env[@]}" "$py" "${peer[@]}" --dir "$dir" --methods "$fast_py,scipy_cg"
  rm -rf "$dir"
  # Matrix Market read: one 2D Darcy matrix in general storage (n = 1024: 5.2M entries, ~130 MB).
  dir="$data/mm"
  run 0 solvers export default -- "${clean_env[@]}" "$driver" darcy-export --n "$mm_n" --samples 1 --dim 2 --storage general --dir "$dir"
  run 1 solvers pdekit default -- "${clean_env[@]}" "$driver" mm-read --file "$dir/A_0.mtx" --reps "$mm_reps" --warmup 1
  run 1 solvers peer default -- "${clean_env[@]}" "$py" bench/solvers/mm_read_peer.py --file "$dir/A_0.mtx" --reps "$mm_reps" --warmup 1
  run 2 solvers peer default -- "${clean_env[@]}" "$py" bench/solvers/mm_read_peer.py --file "$dir/A_0.mtx" --reps "$mm_reps" --warmup 1
  run 2 solvers pdekit default -- "${clean_env[@]}" "$driver" mm-read --file "$dir/A_0.mtx" --reps "$mm_reps" --warmup 1
  rm -rf "$data"
fi

log "all rounds done; writing report"
"$py" -c 'import json, os, sys, datetime; print(json.dumps({"meta_end": True, "loadavg_end": [round(v, 2) for v in os.getloadavg()], "finished_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")}))' >> "$raw"
out="$here/RESULTS.md"
(( quick )) && out="$here/results/RESULTS-quick.md"
# Sections of a suite not run now come from the raw files the previous report names (if they
# still exist); report.py takes every suite from the newest file that has it.
prev=()
if [[ -f "$out" ]]; then
  while read -r f; do
    [[ -f "$root/$f" && "$root/$f" != "$raw" ]] && prev+=("$root/$f")
  done < <(grep -o 'bench/results/raw-[0-9TZ]*\.jsonl' "$out" | awk '!seen[$0]++')
fi
"$py" "$here/report.py" "${prev[@]}" "$raw" --out "$out"
