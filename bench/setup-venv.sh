#!/usr/bin/env bash
# Create bench/.venv (if missing) and install the Python peer-benchmark deps.
# Idempotent: re-running only checks/installs what is missing.
#   bench/setup-venv.sh           the default peers (numpy, scipy, pyfftw, pyamg, scikit-sparse)
#   bench/setup-venv.sh --torch   also PyTorch (CPU) + neuraloperator 2.0 + netCDF4 + safetensors
#                                 for bench/fno (FNO peer, checkpoint export, parity fixtures)
set -euo pipefail
with_torch=0
for arg in "$@"; do
  case "$arg" in
    --torch) with_torch=1 ;;
    *) echo "usage: $0 [--torch]" >&2; exit 2 ;;
  esac
done
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

# --torch: the FNO benchmark's peer (bench/fno). Tested with torch 2.13.0+cpu, neuraloperator
# 2.0.0, safetensors 0.8.0, netCDF4 1.7.5, Python 3.11.
# PyPI's Linux torch wheels are CUDA builds whose deps are ~3 GB of nvidia-*/cuda-* packages, and
# `pip install --no-deps torch` from PyPI does not import without them (libcudart is preloaded).
# So: first the CPU-only build "torch==2.13.0+cpu" (pip finds it through the machine's
# find-links wheel directory, /opt/wheels here) without deps plus its pure-Python deps
# (setuptools is left as the scikit-sparse build above needs it; torch only uses it for C++
# extensions); if that build is not available, torch 2.13.0 from PyPI with its CUDA deps, which
# run on the CPU all the same.
if [ "$with_torch" = 1 ]; then
  tpy="$venv/bin/python"
  if ! "$tpy" -c 'import torch; torch.randn(2) @ torch.randn(2)' 2>/dev/null; then
    if "${pip[@]}" install --quiet --no-deps "torch==2.13.0+cpu" >&2 &&
       "${pip[@]}" install --quiet filelock "typing-extensions>=4.10.0" "sympy>=1.13.3" "networkx>=2.5.1" \
         jinja2 "fsspec>=0.8.5" >&2 &&
       "$tpy" -c 'import torch; torch.randn(2) @ torch.randn(2)' 2>/dev/null; then
      echo "installed torch 2.13.0+cpu (CPU-only build)" >&2
    else
      echo "WARNING: no CPU-only torch wheel; installing torch 2.13.0 from PyPI with its CUDA deps (~3 GB)" >&2
      "${pip[@]}" uninstall --quiet -y torch >&2 || true
      "${pip[@]}" install --quiet "torch==2.13.0" >&2
    fi
  fi
  # neuraloperator does not declare torch; its own deps (tensorly, tensorly-torch, wandb,
  # matplotlib, h5py, ...) install normally and leave numpy/scipy as they are.
  "${pip[@]}" install --quiet "neuraloperator==2.0.*" safetensors netCDF4 >&2
  "$tpy" - <<'PY' >&2
import torch, neuralop, safetensors, netCDF4
from neuralop.models import FNO
y = FNO(n_modes=(4, 4), in_channels=1, out_channels=1, hidden_channels=4, n_layers=1)(torch.randn(1, 1, 8, 8))
assert y.shape == (1, 1, 8, 8)
print(f"torch ok: torch {torch.__version__} (cuda build: {torch.version.cuda}), neuraloperator "
      f"{neuralop.__version__}, safetensors {safetensors.__version__}, netCDF4 {netCDF4.__version__}")
PY
fi
