#!/usr/bin/env bash
# Re-executes the notebooks in this folder against freshly generated data and exports each one as
# HTML and Markdown (with its figures) into exports/. Not part of `swift test`.
#
#   notebooks-export/run.sh                      # every *.ipynb here
#   notebooks-export/run.sh darcy-end-to-end.ipynb
#
# Needs python3 (with venv) and, on the first run, access to PyPI: the packages in
# requirements.txt go into notebooks-export/.venv (NOTEBOOKS_VENV to use another one). The pdekit
# release binary is built first; the notebooks run it through $PDEKIT and write their data under
# $PDEKIT_NOTEBOOK_DATA (notebooks-export/data, emptied first, not committed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
venv="${NOTEBOOKS_VENV:-$here/.venv}"
max_bytes=$((5 * 1024 * 1024))

if [ ! -x "$venv/bin/jupyter" ]; then
  echo "== creating $venv (PyPI: $(grep -v '^#' "$here/requirements.txt" | tr '\n' ' '))"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi

echo "== building the pdekit release binary"
(cd "$root" && swift build -c release --product pdekit)
export PDEKIT="$root/.build/release/pdekit"
# Relative to this folder, where the kernels run, so that the outputs show short paths.
export PDEKIT_NOTEBOOK_DATA="data"
cd "$here"
rm -rf "$PDEKIT_NOTEBOOK_DATA"
mkdir -p "$PDEKIT_NOTEBOOK_DATA" exports
# 2 cores: pdekit uses them for FFTW and its own threads, BLAS stays single-threaded.
export OPENBLAS_NUM_THREADS=1
# Stable figure output (no hash salt in SVG ids, no timestamps in PNG metadata).
export PYTHONHASHSEED=0 SOURCE_DATE_EPOCH=0

notebooks=()
for nb in "$@"; do notebooks+=("$(basename "$nb")"); done
if [ ${#notebooks[@]} -eq 0 ]; then notebooks=(*.ipynb); fi
for nb in "${notebooks[@]}"; do
  name="$(basename "$nb" .ipynb)"
  echo "== executing $nb"
  start=$(date +%s)
  "$venv/bin/jupyter" nbconvert --to notebook --execute --inplace \
    --ExecutePreprocessor.timeout=3600 --ExecutePreprocessor.kernel_name=python3 "$nb"
  echo "   executed in $(( $(date +%s) - start )) s"
  rm -rf "exports/$name.html" "exports/$name.md" "exports/${name}_files"
  "$venv/bin/jupyter" nbconvert --to html --output-dir exports "$nb"
  "$venv/bin/jupyter" nbconvert --to markdown --output-dir exports "$nb"
  for export in "exports/$name.html" "exports/$name.md"; do
    bytes=$(du -sb "$export" | cut -f1)
    if [ "$export" = "exports/$name.md" ] && [ -d "exports/${name}_files" ]; then
      bytes=$((bytes + $(du -sb "exports/${name}_files" | cut -f1)))
    fi
    echo "   $export: $((bytes / 1024)) KiB"
    if [ "$bytes" -ge "$max_bytes" ]; then
      echo "error: $export is $bytes bytes; each export must stay under 5 MB (lower the figures' dpi or count)" >&2
      exit 1
    fi
  done
done
echo "== done: exports in $here/exports"
