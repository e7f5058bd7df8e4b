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

"${pip[@]}" install --quiet numpy scipy threadpoolctl pyamg >&2

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

# scikit-sparse 0.4.16 (solvers suite): PyPI has only an sdist. Its Cython extension is built
# against Debian's SuiteSparse 5 (libsuitesparse-dev: /usr/include/suitesparse/cholmod.h,
# libcholmod.so.3) and links that libcholmod — the library PDEKit links too. Built without
# build isolation, so it compiles against this venv's numpy (ABI match) with the build deps
# installed here first; tested with Cython 3.3.1, setuptools 65.5, numpy 2.4, Python 3.11.
# Needs a C compiler and the Python headers. A failure only disables the sksparse peer.
if ! "$venv/bin/python" -c 'import sksparse.cholmod' 2>/dev/null; then
  if [ ! -f /usr/include/suitesparse/cholmod.h ]; then
    echo "WARNING: /usr/include/suitesparse/cholmod.h missing (apt-get install libsuitesparse-dev);" >&2
    echo "         scikit-sparse not installed, the solvers suite will skip sksparse_cholmod." >&2
  elif ! { "${pip[@]}" install --quiet setuptools wheel "Cython>=3.0,<3.4" >&2 &&
           "${pip[@]}" install --quiet --no-build-isolation --no-deps "scikit-sparse==0.4.16" >&2; }; then
    echo "WARNING: scikit-sparse 0.4.16 failed to build; the solvers suite will skip sksparse_cholmod." >&2
  fi
fi

"$venv/bin/python" - <<'PY' >&2
import numpy, scipy, threadpoolctl
try:
    import pyfftw; pv = pyfftw.__version__
except Exception as e:
    pv = f"MISSING ({e})"
def ver(mod, dist):
    try:
        __import__(mod)
        from importlib.metadata import version
        return version(dist)
    except Exception as e:
        return f"MISSING ({e})"
print(f"venv ok: numpy {numpy.__version__}, scipy {scipy.__version__}, "
      f"threadpoolctl {threadpoolctl.__version__}, pyfftw {pv}, pyamg {ver('pyamg', 'pyamg')}, "
      f"scikit-sparse {ver('sksparse.cholmod', 'scikit-sparse')}")
PY
