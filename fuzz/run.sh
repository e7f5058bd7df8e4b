#!/usr/bin/env bash
# Runs one libFuzzer target for a given time: ./run.sh TARGET SECONDS [extra libFuzzer flags…]
#   TARGET  fuzz-matrixmarket | fuzz-safetensors | fuzz-config | fuzz-netcdf | fuzz-netcdf-hdf5
# Builds the target if needed (release, -sanitize=fuzzer,address, linked with lld), copies the
# committed seed corpus into a working corpus (.work/TARGET/corpus, not committed) and fuzzes it
# (with dict/TARGET.dict as a libFuzzer dictionary).
# Exits non-zero if libFuzzer finds a crash, leak, timeout or out-of-memory; the reproducer is
# written to .work/TARGET/artifacts/ and its path is printed.
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -lt 2 ]; then
  echo "usage: $0 TARGET SECONDS [libFuzzer flags]" >&2
  exit 2
fi
target=$1
seconds=$2
shift 2
case $target in
  fuzz-matrixmarket) max_len=4096 ;;
  fuzz-safetensors) max_len=16384 ;;
  fuzz-config) max_len=2048 ;;
  fuzz-netcdf) max_len=16384 ;;
  fuzz-netcdf-hdf5) max_len=65536 ;;
  *)
    echo "unknown target '$target' (fuzz-matrixmarket, fuzz-safetensors, fuzz-config, fuzz-netcdf, fuzz-netcdf-hdf5)" >&2
    exit 2
    ;;
esac
# fuzz-netcdf-hdf5 is the fuzz-netcdf binary on netCDF-4 (HDF5) seeds; fuzz-netcdf uses classic (CDF-5) seeds.
binary=$target
[ "$target" = fuzz-netcdf-hdf5 ] && binary=fuzz-netcdf
[ -d "corpus/$target" ] || { echo "no seed corpus corpus/$target" >&2; exit 2; }

swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld --product "$binary" >&2
bin=$(swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld --show-bin-path)/$binary

work=.work/$target
mkdir -p "$work/corpus" "$work/artifacts"
cp -n "corpus/$target"/* "$work/corpus/" 2>/dev/null || true
dict=()
[ -f "dict/$target.dict" ] && dict=(-dict="dict/$target.dict")
log=$work/fuzz-$(date +%Y%m%d-%H%M%S).log
echo "fuzzing $target for $seconds s; working corpus $work/corpus, log $log" >&2

set +e
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin" "$work/corpus" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len="$max_len" \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "${dict[@]}" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "FAILED: libFuzzer exited with status $status" >&2
  grep -E "Test unit written to|artifact_prefix" "$log" | sed 's/^/  /' >&2 || true
  echo "reproduce: $bin <input>; minimize: $bin -minimize_crash=1 -runs=100000 <input>" >&2
  exit "$status"
fi
echo "no crash in $seconds s" >&2
