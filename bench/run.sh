#!/usr/bin/env bash
# PDEKit benchmark runner: PDEKit driver vs Python peers, interleaved round by round.
#
#   bench/run.sh [--rounds K] [--reps R] [--warmup W] [--quick]
#
#   --rounds K   rounds (default 3); every round runs every benchmark, PDEKit and peer
#                back to back (order alternating between rounds), so noise hits both
#   --reps R     timed repetitions per benchmark invocation (default 20)
#   --warmup W   untimed warm-up repetitions per invocation (default 3)
#   --quick      smoke test: --rounds 1 --reps 3 --warmup 1; the report goes to
#                bench/results/RESULTS-quick.md instead of bench/RESULTS.md
#
# Raw JSON lines go to bench/results/raw-<UTC timestamp>.jsonl (one line per
# implementation per invocation, tagged with round/suite/side/variant), then
# bench/report.py summarises them into bench/RESULTS.md. See bench/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

orig_args="$*"
rounds=3
reps=20
warmup=3
quick=0
usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
posint() { [[ "$2" =~ ^[0-9]+$ ]] && (( "$2" >= $3 )) || { echo "run.sh: $1 needs an integer >= $3" >&2; exit 2; }; }
while (( $# )); do
  case "$1" in
    --rounds) [[ $# -ge 2 ]] || usage; posint "$1" "$2" 1; rounds="$2"; shift 2 ;;
    --reps)   [[ $# -ge 2 ]] || usage; posint "$1" "$2" 1; reps="$2"; shift 2 ;;
    --warmup) [[ $# -ge 2 ]] || usage; posint "$1" "$2" 0; warmup="$2"; shift 2 ;;
    --quick)  quick=1; shift ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
  esac
done
if (( quick )); then
  rounds=1; reps=3; warmup=1
  command_str="bench/run.sh --quick"
else
  command_str="bench/run.sh --rounds $rounds --reps $reps"
  (( warmup == 3 )) || command_str+=" --warmup $warmup"
fi

log() { echo "[run.sh $(date -u +%H:%M:%S)] $*" >&2; }

# --- Python venv with the peers' dependencies, and the release driver.
log "setting up bench/.venv"
bash "$here/setup-venv.sh"
py="$here/.venv/bin/python"
log "building pdekit-bench (release)"
(cd "$root" && swift build -c release --product pdekit-bench >&2)
driver="$root/.build/release/pdekit-bench"
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
  log "round $rnd/$rounds: $suite $side [$variant]: $shown"
  (cd "$root" && "$@") | "$py" -c "$tag_py" "$rnd" "$suite" "$side" "$variant" "$shown" "$raw"
}

# Metadata line (first line of the raw file).
(cd "$root" && "$py" - "$raw" "$command_str" "$rounds" "$reps" "$warmup" "$quick" "$coretype" "$orig_args" <<'PY'
import json, os, platform, subprocess, sys, datetime
raw, command, rounds, reps, warmup, quick, coretype, argv = sys.argv[1:9]
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
    "env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
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
  run "$r" gemm pdekit default -- "${clean_env[@]}" "$driver" gemm "${common[@]}" --threads 1
  run "$r" gemm pdekit "coretype_$coretype" -- \
    "${clean_env[@]}" OPENBLAS_CORETYPE="$coretype" "$driver" gemm "${common[@]}" --threads 1
}
gemm_peer()   { run "$r" gemm peer default -- "${clean_env[@]}" "$py" bench/peers/gemm_peer.py "${common[@]}" --threads 1; }

for (( r = 1; r <= rounds; r++ )); do
  # Alternate who goes first so neither side always runs on a "fresh" or "tired" machine.
  for b in fft spmv gemm; do
    if (( r % 2 == 1 )); then "${b}_pdekit"; "${b}_peer"; else "${b}_peer"; "${b}_pdekit"; fi
  done
done

log "all rounds done; writing report"
if (( quick )); then
  "$py" "$here/report.py" "$raw" --out "$here/results/RESULTS-quick.md"
else
  "$py" "$here/report.py" "$raw" --out "$here/RESULTS.md"
fi
