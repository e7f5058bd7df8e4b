#!/usr/bin/env bash
# Create bench/.venv (if missing) and install the Python peer-benchmark deps.
# Idempotent: re-running only checks/installs what is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  echo "creating venv at $venv" >&2
  "$py" -m venv "$venv"
fi

pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade pip >&2 || true

"${pip[@]}" install --quiet numpy scipy threadpoolctl >&2

# pyfftw: require a binary wheel first (no compiler/FFTW build needed).
if ! "$venv/bin/python" -c 'import pyfftw' 2>/dev/null; then
  if ! "${pip[@]}" install --quiet --only-binary=:all: pyfftw >&2; then
    echo "WARNING: pyfftw has no binary wheel for this Python/platform;" >&2
    echo "         falling back to a source build against system FFTW3 (libfftw3-dev)." >&2
    if ! "${pip[@]}" install --quiet pyfftw >&2; then
      echo "ERROR: pyfftw failed to install (wheel and source build both failed)." >&2
      echo "       fft_peer.py will only measure numpy.fft." >&2
      exit 1
    fi
  fi
fi

"$venv/bin/python" - <<'PY' >&2
import numpy, scipy, threadpoolctl
try:
    import pyfftw; pv = pyfftw.__version__
except Exception as e:
    pv = f"MISSING ({e})"
print(f"venv ok: numpy {numpy.__version__}, scipy {scipy.__version__}, "
      f"threadpoolctl {threadpoolctl.__version__}, pyfftw {pv}")
PY
