#!/usr/bin/env python3
"""Peer (e) of the Krylov-recycling benchmark: KryPy's recycling solvers on the systems that
`pdekit-bench recycling --export DIR` wrote.

    bench/.venv/bin/python bench/recycling/krypy_peer.py DIR [--methods gmres,cg] [--recycle 20 --rcg-recycle 10]

KryPy (André Gaul, PyPI `krypy` 2.2.0; Gaul, Gutknecht, Liesen, Nabben, "A framework for deflated
and augmented Krylov subspace methods", SIAM J. Matrix Anal. Appl. 34 (2013)) recycles Ritz
vectors of the previous solve as a deflation space: `RecyclingGmres` (deflated, unrestarted
GMRES) and `RecyclingCg` (deflated CG), each with `RitzFactorySimple(n_vectors=k, which="sm")`
(the k Ritz vectors of smallest magnitude, as GCRO-DR and PDEKit's recycled CG keep). Systems are
solved in the greedy order the driver exported (manifest.json), each from the previous solution
(warm start), rtol as in the manifest (KryPy's criterion ‖b − Ax‖/‖b‖ for no preconditioner, the
same as PDEKit's), at most 10000 iterations, no preconditioner.

Timed: the solve loop only (matrix reads happen before). Printed: one JSON line per method in the
driver's format (impl "e-krypy-gmres" / "e-krypy-cg"), with the true relative residual
recomputed here and the difference to the driver's direct solutions x_i.mtx.

KryPy 2.2.0 predates numpy 2 and scipy 1.13: the shims below restore the names it imports
(scipy.sparse.sputils.isintlike, numpy.Inf/Infinity/float/complex/int, numpy.asscalar,
numpy.find_common_type) with their old meaning before krypy is imported, and krypy.deflation's
`numpy.zeros` makes arrays that accept a 1×1 array as a scalar entry (numpy 1 behaviour).
"""
import argparse
import json
import os
import sys
import time
import types

import numpy
import scipy.io
import scipy.sparse

# --- numpy 2 / scipy >= 1.13 compatibility shims for krypy 2.2.0 -------------------------------
for _name, _value in (("Inf", numpy.inf), ("Infinity", numpy.inf), ("float", float), ("complex", complex),
                      ("int", int)):
    if not hasattr(numpy, _name):
        setattr(numpy, _name, _value)
if not hasattr(numpy, "asscalar"):
    numpy.asscalar = lambda a: numpy.asarray(a).item()
if not hasattr(numpy, "find_common_type"):
    def _find_common_type(array_types, scalar_types):
        types_ = list(array_types) + list(scalar_types)
        return numpy.result_type(*types_) if types_ else numpy.dtype(float)

    numpy.find_common_type = _find_common_type
try:
    import scipy.sparse.sputils as _sputils  # noqa: F401

    if not hasattr(_sputils, "isintlike"):
        raise ImportError
except ImportError:
    from scipy.sparse._sputils import isintlike as _isintlike

    _mod = types.ModuleType("scipy.sparse.sputils")
    _mod.isintlike = _isintlike
    sys.modules["scipy.sparse.sputils"] = _mod

import krypy  # noqa: E402
import krypy.deflation  # noqa: E402
from krypy.recycling.factories import RitzFactorySimple  # noqa: E402


class _ScalarAssignArray(numpy.ndarray):
    """numpy < 2 let `a[i] = m` store a 1×1 array m as a scalar (krypy.deflation's Ritz residual
    norms do that); numpy 2 refuses. Arrays made by krypy.deflation's `numpy.zeros` accept it."""

    def __setitem__(self, key, value):
        if isinstance(value, numpy.ndarray) and value.size == 1 and numpy.ndim(self[key]) == 0:
            value = value.item()
        super().__setitem__(key, value)


_deflation_numpy = types.ModuleType("numpy")
_deflation_numpy.__dict__.update(numpy.__dict__)
_deflation_numpy.zeros = lambda *args, **kwargs: numpy.zeros(*args, **kwargs).view(_ScalarAssignArray)
krypy.deflation.numpy = _deflation_numpy


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="directory written by pdekit-bench recycling --export")
    p.add_argument("--methods", default="gmres,cg", help="gmres and/or cg (cg only for SPD families)")
    p.add_argument("--recycle", type=int, default=20, help="Ritz vectors kept by RecyclingGmres (default 20)")
    p.add_argument("--rcg-recycle", type=int, default=10, help="Ritz vectors kept by RecyclingCg (default 10)")
    p.add_argument("--max-iterations", type=int, default=10000)
    a = p.parse_args()
    try:
        with open(os.path.join(a.dir, "manifest.json")) as f:
            man = json.load(f)
    except OSError as e:
        sys.exit(f"krypy_peer.py: cannot read {a.dir}/manifest.json ({e}); run pdekit-bench recycling --export first")
    count, rtol = man["systems"], man["rtol"]
    order = man["greedy_order"]
    mats = []
    for i in range(count):
        path = os.path.join(a.dir, f"A_{i}.mtx")
        if i == 0 or not man["fixed_matrix"]:
            mats.append(scipy.sparse.csr_matrix(scipy.io.mmread(path)))
        else:
            mats.append(mats[0])
    rhs = [numpy.asarray(scipy.io.mmread(os.path.join(a.dir, f"b_{i}.mtx"))).ravel() for i in range(count)]
    ref = {}
    for i in range(count):
        path = os.path.join(a.dir, f"x_{i}.mtx")
        if os.path.exists(path):
            ref[i] = numpy.asarray(scipy.io.mmread(path)).ravel()

    for method in a.methods.split(","):
        if method == "cg" and not man["spd"]:
            continue
        k = a.recycle if method == "gmres" else a.rcg_recycle
        solver = (krypy.recycling.RecyclingGmres if method == "gmres" else krypy.recycling.RecyclingCg)(
            vector_factory=RitzFactorySimple(n_vectors=k, which="sm"))
        spd = man["spd"]
        xs, its, conv = [None] * count, [0] * count, [False] * count
        prev = None
        t0 = time.perf_counter()
        for i in order:
            ls = krypy.linsys.LinearSystem(mats[i], rhs[i].reshape(-1, 1), self_adjoint=spd, positive_definite=spd)
            x0 = prev.reshape(-1, 1) if prev is not None else None
            try:
                sol = solver.solve(ls, x0=x0, tol=rtol, maxiter=a.max_iterations)
                x = numpy.asarray(sol.xk).ravel()
                its[i] = len(sol.resnorms) - 1
                conv[i] = True
            except krypy.utils.ConvergenceError as e:
                sol = e.solver
                x = numpy.asarray(sol.xk).ravel()
                its[i] = len(sol.resnorms) - 1
            xs[i] = x
            prev = x
        total = time.perf_counter() - t0
        res = [numpy.linalg.norm(rhs[i] - mats[i] @ xs[i]) / numpy.linalg.norm(rhs[i]) for i in range(count)]
        conv = [c and r <= 1.01 * rtol for c, r in zip(conv, res)]
        diff = [numpy.linalg.norm(xs[i] - ref[i]) / numpy.linalg.norm(ref[i]) for i in ref]
        unconv = [i for i in range(count) if not conv[i]]
        line = {k2: man[k2] for k2 in ("bench", "family", "n", "dim", "unknowns", "systems", "rtol", "pc",
                                       "fixed_matrix", "spd", "seed", "nnz")}
        line.update({
            "impl": f"e-krypy-{method}", "round": 0, "total_s": total, "setup_s": 0.0, "ordering_s": 0.0,
            "method": f"krypy {krypy.__version__ if hasattr(krypy, '__version__') else '2.2.0'} "
                      f"Recycling{'Gmres' if method == 'gmres' else 'Cg'}(Ritz sm {k})+warm greedy",
            "iterations": int(sum(its)), "max_iterations_per_system": int(max(its)),
            "unconverged": len(unconv), "unconverged_systems": unconv[:20], "converged": not unconv,
            "max_true_rel_residual": float(max(res)), "max_rel_diff_direct": float(max(diff)) if diff else None,
            "direct_checked_systems": len(ref), "numpy": numpy.__version__, "scipy": scipy.__version__,
        })
        print(json.dumps(line, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
