#!/usr/bin/env bash
# Krylov recycling benchmark (issue 5): sequences of systems from the Darcy, Thermal, Poisson and
# Helmholtz recipes solved by GMRES/CG (a, b), PDEKit recycling (c) and the best baselines (d);
# see `pdekit-bench recycling --help` for the configurations. Writes one raw JSONL file per run
# (bench/recycling/results/raw-<UTC>.jsonl, every driver line preceded by a "command" line) and
# runs report.py on it (tables on stdout and in results/tables-<UTC>.md, plot recycling_map.png).
#
#   bench/recycling/run.sh            # the grid used for bench/RESULTS.md (see --help for its parts)
#   bench/recycling/run.sh --full     # every family x tolerance x preconditioner at 100 systems
#   bench/recycling/run.sh --quick    # smoke test at 32², 10 systems (a minute)
#   bench/recycling/run.sh --part 2d  # only the 2D part of the default grid (--part 3d: only 3D), so
#                                     # that the two parts can run side by side on 2 cores; --part
#                                     # large: Helmholtz 128² and 200² nodes, Darcy 2D unpreconditioned;
#                                     # --part helmholtz3d: 3D Helmholtz 32³, 48³, 64³ nodes (up to
#                                     # 524,288 unknowns) under a memory cap (HELM3D_VMEM_KB, default
#                                     # 12 GB) and a per-configuration time cap (HELM3D_TIME_LIMIT, 1200 s);
#                                     # --part helmholtz3d-small (32³, 48³) and --part helmholtz3d-large
#                                     # (64³) split it in two for the 2 cores
#   bench/recycling/run.sh --peer     # also KryPy (krypy_peer.py) on exported 2D Darcy/Poisson 48² systems
#
# Threads: OPENBLAS_NUM_THREADS=1 (the solvers are single-threaded; the machine has 2 cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=default
PEER=0
PART=all
while [ $# -gt 0 ]; do
  arg=$1
  shift
  case "$arg" in
  --part)
    PART=${1:-}
    shift || true
    case "$PART" in 2d | 3d | large | helmholtz3d | helmholtz3d-small | helmholtz3d-large | all) ;; *)
      echo "run.sh: --part needs 2d, 3d, large, helmholtz3d, helmholtz3d-small, helmholtz3d-large or all" >&2
      exit 2
      ;;
    esac
    ;;
  --full) MODE=full ;;
  --quick) MODE=quick ;;
  --peer) PEER=1 ;;
  -h | --help)
    sed -n '2,20p' "$0"
    exit 0
    ;;
  *)
    echo "run.sh: unknown option $arg (use --full, --quick, --peer or --help)" >&2
    exit 2
    ;;
  esac
done
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
swift build -c release --scratch-path .build-bench --product pdekit-bench >&2
BENCH=.build-bench/release/pdekit-bench
mkdir -p bench/recycling/results
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RAW=bench/recycling/results/raw-$STAMP-$PART.jsonl
echo "{\"impl\": \"meta\", \"mode\": \"$MODE\", \"host\": \"$(hostname)\", \"cpus\": $(getconf _NPROCESSORS_ONLN), \"start\": \"$STAMP\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >"$RAW"

run() {
  local env=""
  if [ -n "${OPENBLAS_CORETYPE:-}" ]; then env="OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE "; fi
  echo "{\"impl\": \"command\", \"cmd\": \"${env}pdekit-bench $*\"}" >>"$RAW"
  echo "+ ${env}pdekit-bench $*" >&2
  "$BENCH" "$@" >>"$RAW"
}

SPD_ALL=a,a-cg,b,b-cg,c,c-rcg,d-direct,d-amg
FIXED_ALL=a,a-cg,b-cg,c,c-rcg,d-direct,d-fixed,d-bcg
case "$MODE" in
quick)
  run recycling --family darcy --n 32 --systems 10 --pc jacobi --configs $SPD_ALL
  run recycling --family poisson --n 32 --systems 10 --configs $FIXED_ALL
  run recycling --family thermal --n 32 --systems 10 --configs $FIXED_ALL
  run recycling --family helmholtz --n 32 --systems 5 --frequency 1 --pc ilu0 --configs a,b,c,d-direct
  ;;
full)
  for rtol in 1e-5 1e-8; do
    for pc in none jacobi amg; do
      run recycling --family darcy --n 128 --rtol $rtol --pc $pc --configs $SPD_ALL
      run recycling --family poisson --n 128 --rtol $rtol --pc $pc --configs $FIXED_ALL
      run recycling --family thermal --n 128 --rtol $rtol --pc $pc --configs $FIXED_ALL
    done
    run recycling --family darcy --n 128 --rtol $rtol --pc ilu0 --configs a,b,c,d-direct
    for pc in none ilu0; do
      run recycling --family helmholtz --n 100 --frequency 1 --rtol $rtol --pc $pc --configs a,b,c,d-direct
    done
    run recycling --family darcy --dim 3 --n 64 --systems 20 --direct-check 2 --rtol $rtol --pc amg \
      --configs a-cg,b-cg,c-rcg,d-amg
  done
  ;;
default)
  # The grid of bench/RESULTS.md, sized for a 2-core machine shared with other jobs (about an hour
  # with --part 2d and --part 3d side by side). 2D sizes are 100² = 10,000 unknowns (SKR's range:
  # 2.3k-39k), 100 systems; the a-vs-c and c-vs-d comparisons run 3 interleaved rounds.
  if [ "$PART" = 2d ] || [ "$PART" = all ]; then
    # 1. Darcy (matrix changes): SKR's setting (GMRES(40) vs GCRO-DR(40,20)) and the SPD methods.
    run recycling --family darcy --n 100 --rtol 1e-8 --pc jacobi --configs a,c,a-cg,c-rcg,d-direct,d-amg --repeat 3
    run recycling --family darcy --n 100 --rtol 1e-5 --pc jacobi --configs $SPD_ALL
    # 2. Fixed matrix, only b varies (SKR's Poisson and Thermal).
    run recycling --family poisson --n 100 --rtol 1e-8 --pc jacobi --configs a,c,a-cg,c-rcg,d-fixed,d-bcg --repeat 3
    run recycling --family thermal --n 100 --rtol 1e-8 --pc jacobi --configs a,c,a-cg,c-rcg,d-fixed,d-bcg --repeat 3
    # 3. Helmholtz (indefinite, complex in real 2x2 block form), 64² nodes = 8,192 unknowns,
    #    frequency 1, ILU(0), 10 systems, at most 2000 iterations per system.
    run recycling --family helmholtz --n 64 --systems 10 --frequency 1 --rtol 1e-8 --pc ilu0 --max-iterations 2000 \
      --configs a,b,c,d-direct --repeat 3
    # 4. GCRO-DR with one Ritz update per solve (c1) against every-cycle updates (c).
    run recycling --family darcy --n 100 --rtol 1e-8 --pc jacobi --configs a,c,c1 --repeat 3
    run recycling --family helmholtz --n 64 --systems 10 --frequency 1 --rtol 1e-8 --pc ilu0 --max-iterations 2000 \
      --configs c,c1,d-direct --repeat 3
  fi
  if [ "$PART" = large ] || [ "$PART" = all ]; then
    # 5. Larger Helmholtz (32,768 and 80,000 unknowns; GMRES(40)+ILU(0) one round, it does not
    #    converge), and SKR's unpreconditioned Darcy setting.
    for n in 128 200; do
      run recycling --family helmholtz --n $n --systems 10 --frequency 1 --rtol 1e-8 --pc ilu0 \
        --max-iterations 2000 --configs c,d-direct --repeat 3
      run recycling --family helmholtz --n $n --systems 10 --frequency 1 --rtol 1e-8 --pc ilu0 \
        --max-iterations 2000 --configs a,c,d-direct
    done
    run recycling --family darcy --n 100 --rtol 1e-8 --pc none --configs a,c,a-cg,c-rcg
  fi
  case "$PART" in helmholtz3d*) ;; *) false ;; esac && H3=1 || H3=0
  if [ "$H3" = 1 ] || [ "$PART" = all ]; then
    # 7. 3D Helmholtz, frequency 1.5 (points per shortest wavelength: 14.5 at 32³, 21.9 at 48³,
    #    29.4 at 64³ nodes), ILU(0). (At frequency 2, 32³, GCRO-DR(40,20)+ILU(0) stalls at
    #    ‖r‖/‖b‖ ≈ 3e-2 after 4000 iterations.) (d) is complex UMFPACK (64-bit interface) on the n×n
    #    complex matrix with METIS ordering — at 32³ 6.9× faster than real UMFPACK with AMD on the
    #    2n block form (d-direct), bench/recycling/raw/*-explore.jsonl — under `ulimit -v`, so that a factorization that
    #    does not fit fails with UMFPACK's out-of-memory status instead of swapping; a configuration
    #    still running after the time cap is recorded as failed with that time (a lower bound of its
    #    cost) and ends its invocation, so (d) runs last.
    VMEM=${HELM3D_VMEM_KB:-12000000}
    CAP=${HELM3D_TIME_LIMIT:-1200}
    FREQ3=${HELM3D_FREQUENCY:-1.5}
    capped() {
      local rc=0
      (
        ulimit -v "$VMEM"
        run "$@" --time-limit "$CAP"
      ) || rc=$?
      if [ "$rc" != 0 ]; then # a crash (e.g. an allocation refused by the cap) is recorded too
        echo "{\"impl\": \"invocation-crashed\", \"failed\": \"pdekit-bench exited with status $rc\", \"failed_after_s\": 0}" >>"$RAW"
      fi
    }
    H3ARGS="--family helmholtz --dim 3 --frequency $FREQ3 --pc ilu0 --umfpack-ordering metis"
    if [ "$PART" != helmholtz3d-large ]; then
      # c-cgs2: GCRO-DR with a second Gram–Schmidt pass at every step, as before the DGKS
      # criterion. (a) and (b) only at 32³ with at most 1000 iterations per system (neither
      # converges there; their times are lower bounds), for time on the shared 2-core machine.
      capped recycling $H3ARGS --systems 10 --n 32 --rtol 1e-8 --max-iterations 1000 --direct-check 1 \
        --configs c,c-cgs2,a,b,d-zlu
      capped recycling $H3ARGS --systems 10 --n 32 --rtol 1e-5 --max-iterations 1000 --direct-check 1 --configs c,b,d-zlu
      capped recycling $H3ARGS --systems 10 --n 48 --rtol 1e-8 --max-iterations 2000 --direct-check 1 --configs c,d-zlu
      capped recycling $H3ARGS --systems 10 --n 48 --rtol 1e-5 --max-iterations 2000 --direct-check 1 --configs c,d-zlu
      # DGKS against CGS2, 3 interleaved rounds.
      run recycling $H3ARGS --systems 10 --n 24 --rtol 1e-8 --max-iterations 2000 --direct-check 0 \
        --configs c,c-cgs2 --repeat 3
      # The same 32³ comparison with OpenBLAS's AVX-512 kernels (Debian's OpenBLAS falls back to
      # Prescott kernels on this CPU; UMFPACK's dense frontal updates gain most), 2 rounds.
      OPENBLAS_CORETYPE=SkylakeX capped recycling $H3ARGS --systems 10 --n 32 --rtol 1e-8 --max-iterations 1000 \
        --direct-check 1 --configs c,d-zlu --repeat 2
    fi
    if [ "$PART" != helmholtz3d-small ]; then
      # 64³ (524,288 unknowns): no reference solve, the true residual of every solution is
      # checked. 3 systems (so that (c) finishes under the cap on a loaded machine), then 10.
      capped recycling $H3ARGS --systems 3 --n 64 --rtol 1e-8 --max-iterations 2000 --direct-check 0 \
        --configs c,d-zlu
      capped recycling $H3ARGS --systems 10 --n 64 --rtol 1e-8 --max-iterations 2000 --direct-check 0 \
        --configs c,d-zlu
    fi
  fi
  if [ "$PART" = 3d ] || [ "$PART" = all ]; then
    # 6. 3D Darcy 64³ (262,144 unknowns), 10 systems, CHOLMOD checked on 1 (43 s per factorization).
    run recycling --family darcy --dim 3 --n 64 --systems 10 --direct-check 1 --rtol 1e-8 --pc amg \
      --configs c-rcg,d-amg,a-cg --repeat 3
    run recycling --family darcy --dim 3 --n 64 --systems 10 --direct-check 1 --rtol 1e-5 --pc amg \
      --configs c-rcg,d-amg,a-cg
    run recycling --family darcy --dim 3 --n 64 --systems 10 --direct-check 1 --rtol 1e-8 --pc jacobi \
      --configs a-cg,b-cg,c-rcg
  fi
  ;;
esac

if [ "$PEER" = 1 ]; then
  PY=${PYTHON:-bench/.venv/bin/python}  # numpy, scipy, matplotlib, krypy (pip install krypy)
  for family in darcy poisson; do
    dir=bench/recycling/results/export-$family
    run recycling --family $family --n 48 --systems 20 --rtol 1e-8 --configs a,c,a-cg,c-rcg --export "$dir"
    echo "{\"impl\": \"command\", \"cmd\": \"krypy_peer.py $dir\"}" >>"$RAW"
    "$PY" bench/recycling/krypy_peer.py "$dir" >>"$RAW"
  done
fi
echo "{\"impl\": \"meta-end\", \"end\": \"$(date -u +%Y%m%dT%H%M%SZ)\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$RAW"
${PYTHON:-bench/.venv/bin/python} bench/recycling/report.py "$RAW" --out "bench/recycling/results/tables-$STAMP-$PART.md" \
  --plot bench/recycling/recycling_map.png
