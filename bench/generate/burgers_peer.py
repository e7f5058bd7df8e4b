#!/usr/bin/env python3
"""Python peer of `pdekit generate burgers`: the same scheme, vectorized, in 2 processes.

One sample (as Solvers/Recipes/BurgersRecipe.swift + Solvers/TimeDependent/BurgersETDRK4.swift):

  * u0: zero-mean periodic GRF with covariance sigma^2 (-Lap + tau^2)^(-alpha) at N points
    (alpha 2, tau 5, sigma 25), spectral synthesis from numpy PCG64 white noise (PDEKit uses
    Philox: samples differ, statistics agree).
  * Fourier pseudo-spectral ETDRK4 (Kassam & Trefethen 2005) with the 2/3 rule (modes
    k <= (N-1)/3 kept), phi-function coefficients by the mean over 32 points on the upper unit
    half circle around hL, computed once; per step four nonlinear evaluations, each one irfft and
    one rfft (pyFFTW, MEASURE, single thread) on the (batch, N) array, numpy ufuncs with
    preallocated `out=` arrays.
  * Stored at s points by spectral truncation (k < s/2, Nyquist dropped); NetCDF-4 output via
    netCDF4-python (float32, one sample per chunk, zlib 1 + shuffle).

Processes: `--processes` workers (default 2), each integrating its share of the samples as one
batch. Prints one JSON line with seconds and the FFT share of the workers' time.
`--validate PDEKIT.nc` (file made with --resolution == solver_resolution) integrates PDEKit's
stored u0 of sample 0 and compares u(T).
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing as mp  # noqa: E402
import time  # noqa: E402

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import pyfftw  # noqa: E402


class Solver:
    def __init__(self, n, nu, h, batch):
        self.n, self.batch = n, batch
        half = n // 2 + 1
        k = np.arange(half, dtype=float)
        L = -nu * (2 * np.pi * k) ** 2
        M = 32
        r = np.exp(1j * np.pi * (np.arange(1, M + 1) - 0.5) / M)
        LR = h * L[:, None] + r[None, :]
        self.E = np.exp(h * L)
        self.E2 = np.exp(h * L / 2)
        self.Q = h * np.real(np.mean((np.exp(LR / 2) - 1) / LR, axis=1))
        self.f1 = h * np.real(np.mean((-4 - LR + np.exp(LR) * (4 - 3 * LR + LR**2)) / LR**3, axis=1))
        self.f2 = h * np.real(np.mean((2 + LR + np.exp(LR) * (-2 + LR)) / LR**3, axis=1))
        self.f3 = h * np.real(np.mean((-4 - 3 * LR - LR**2 + np.exp(LR) * (4 - LR)) / LR**3, axis=1))
        self.K = (n - 1) // 3
        g = -1j * np.pi * k
        g[self.K + 1:] = 0
        self.g = g / (n * n)  # folds the 1/N^2 of squaring the unnormalized inverse
        self.spec = pyfftw.empty_aligned((batch, half), dtype="complex128")
        self.real = pyfftw.empty_aligned((batch, n), dtype="float64")
        self.out = pyfftw.empty_aligned((batch, half), dtype="complex128")
        self.inv = pyfftw.FFTW(self.spec, self.real, direction="FFTW_BACKWARD",
                               flags=("FFTW_MEASURE", "FFTW_DESTROY_INPUT"), threads=1)
        self.fwd = pyfftw.FFTW(self.real, self.out, direction="FFTW_FORWARD", flags=("FFTW_MEASURE",), threads=1)
        self.fft_seconds = 0.0
        self.work = [np.empty((batch, half), dtype=complex) for _ in range(8)]

    def nonlinear(self, x, out):
        self.spec[:] = x
        t0 = time.perf_counter()
        self.inv.execute()
        t1 = time.perf_counter()
        np.multiply(self.real, self.real, out=self.real)
        t2 = time.perf_counter()
        self.fwd.execute()
        self.fft_seconds += (t1 - t0) + (time.perf_counter() - t2)
        np.multiply(self.out, self.g, out=out)

    def run(self, u0, steps, record_every, s):
        v = np.fft.rfft(u0)
        v[:, self.K + 1:] = 0
        nv, a, na, b, nb, c, nc, t = self.work
        E, E2, Q, f1, f2, f3 = self.E, self.E2, self.Q, self.f1, self.f2, self.f3
        init = truncate(v, self.n, s)
        records = []
        for step in range(1, steps + 1):
            self.nonlinear(v, nv)
            np.multiply(E2, v, out=a); np.multiply(Q, nv, out=t); np.add(a, t, out=a)  # noqa: E702
            self.nonlinear(a, na)
            np.multiply(E2, v, out=b); np.multiply(Q, na, out=t); np.add(b, t, out=b)  # noqa: E702
            self.nonlinear(b, nb)
            np.multiply(nb, 2, out=t); np.subtract(t, nv, out=t); np.multiply(Q, t, out=t)  # noqa: E702
            np.multiply(E2, a, out=c); np.add(c, t, out=c)  # noqa: E702
            self.nonlinear(c, nc)
            np.multiply(E, v, out=v)
            np.multiply(f1, nv, out=t); np.add(v, t, out=v)  # noqa: E702
            np.add(na, nb, out=t); np.multiply(t, 2 * f2, out=t); np.add(v, t, out=v)  # noqa: E702
            np.multiply(f3, nc, out=t); np.add(v, t, out=v)  # noqa: E702
            if step % record_every == 0:
                records.append(truncate(v, self.n, s))
        return init, np.stack(records, axis=1)


def truncate(v, n, s):
    c = np.zeros(v.shape[:-1] + (s // 2 + 1,), dtype=complex)
    c[..., : s // 2] = v[..., : s // 2] * (s / n)
    return np.fft.irfft(c, n=s)


def grf(n, batch, rng, alpha=2.0, tau=5.0, sigma=25.0):
    k = np.arange(n // 2 + 1)
    lam = sigma**2 * (4 * np.pi**2 * k**2 + tau**2) ** (-alpha)
    lam[0] = 0
    noise = rng.standard_normal((batch, n))
    return np.fft.irfft(np.fft.rfft(noise) * np.sqrt(lam / n) * n, n=n)


def worker(args):
    idx, cfg = args
    rng = np.random.default_rng([cfg["seed"], idx[0]])
    solver = Solver(cfg["n"], cfg["nu"], cfg["dt"], len(idx))
    u0 = grf(cfg["n"], len(idx), rng)
    t0 = time.perf_counter()
    init, traj = solver.run(u0, cfg["steps"], cfg["record_every"], cfg["s"])
    return idx, init, traj, time.perf_counter() - t0, solver.fft_seconds


def write(path, s, inputs, targets):
    import netCDF4
    tmp = path + ".tmp"
    ds = netCDF4.Dataset(tmp, "w", format="NETCDF4")
    ds.createDimension("sample", None)
    ds.createDimension("x", s)
    x = ds.createVariable("x", "f8", ("x",))
    x.units = "1"
    x[:] = np.arange(s) / s
    for name, data in (("initial_condition", inputs), ("solution", targets)):
        v = ds.createVariable(name, "f4", ("sample", "x"), zlib=True, complevel=1, shuffle=True, chunksizes=(1, s))
        v[:] = data
    ds.close()
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--solver-resolution", type=int, default=8192)
    p.add_argument("--resolution", type=int, default=1024)
    p.add_argument("--nu", type=float, default=0.1)
    p.add_argument("--dt", type=float, default=1e-4)
    p.add_argument("--t-end", type=float, default=1.0)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="burgers_peer.nc")
    p.add_argument("--validate", default=None)
    a = p.parse_args()
    steps = int(np.ceil(a.t_end / a.dt - 1e-9))
    h = a.t_end / steps
    cfg = dict(n=a.solver_resolution, s=a.resolution, nu=a.nu, dt=h, steps=steps, record_every=steps, seed=a.seed)
    if a.validate:
        import netCDF4
        ds = netCDF4.Dataset(a.validate)
        u0 = np.asarray(ds["initial_condition"][0], dtype=float)
        ref = np.asarray(ds["solution"][0], dtype=float)
        _, traj = Solver(a.solver_resolution, a.nu, h, 1).run(u0[None], steps, steps, a.resolution)
        err = np.abs(traj[0, -1] - ref).max() / np.abs(ref).max()
        print(json.dumps({"validate": a.validate, "relative_max_error": float(err)}))
        return
    chunks = [list(c) for c in np.array_split(np.arange(a.samples), a.processes) if len(c)]
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(len(chunks)) as pool:
        out = pool.map(worker, [(c, cfg) for c in chunks])
    write(a.out, a.resolution, np.concatenate([o[1] for o in out]), np.concatenate([o[2][:, -1] for o in out]))
    wall = time.perf_counter() - t0
    work = sum(o[3] for o in out)
    fft = sum(o[4] for o in out)
    print(json.dumps({"peer": "numpy+pyfftw", "samples": a.samples, "steps": steps, "seconds": wall,
                      "samples_per_second": a.samples / wall, "fft_share": fft / work,
                      "script_seconds": time.perf_counter() - T_START}))


if __name__ == "__main__":
    main()
