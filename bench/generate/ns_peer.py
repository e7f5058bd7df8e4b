#!/usr/bin/env python3
"""Python peer of `pdekit generate navier-stokes`: the same scheme, vectorized, in 2 processes.

One sample (as Solvers/Recipes/NavierStokesRecipe.swift + Solvers/TimeDependent/
VorticityCrankNicolson.swift, which follow the FNO paper's ns_2d.py):

  * w0: zero-mean periodic GRF with covariance sigma^2 (-Lap + tau^2)^(-alpha) on the N^2 grid
    (alpha 2.5, tau 7, sigma 7^1.5), by spectral synthesis: rfft2 of white noise times the
    square-rooted eigenvalues / N, then irfft2 (numpy PCG64 noise; PDEKit uses Philox, so the
    samples differ and only statistics can be compared).
  * Forcing f = 0.1 (sin 2pi(x+y) + cos 2pi(x+y)).
  * Per step, on the real-to-complex half spectrum of w (N x N/2+1): psi = w / |2pi k|^2;
    the spectra of u = psi_y, v = -psi_x, w_x, w_y stacked as one (B, 4, N, N/2+1) array and
    inverse-transformed in one pyFFTW call (irfft2 over the last two axes); the product
    u w_x + v w_y; one rfft2; Crank-Nicolson update
        w <- decay * w - adv * F + forcing_term
    with decay, adv (2/3 mask folded in) and forcing_term precomputed once, exactly as PDEKit.
    All pointwise work goes through numpy ufuncs with preallocated `out=` arrays (no
    allocation per step).
  * Every record_interval: spectral truncation to s^2 (modes |k| < s/2, Nyquist dropped) and
    an irfft2, as PDEKit stores.
  * Output: NetCDF-4 via netCDF4-python, float32 vorticity_initial (sample, y, x) and
    vorticity (sample, time, y, x), one sample per chunk, zlib level 1 + shuffle, coordinate
    variables, written to OUT.tmp and renamed at the end.

Processes: `--processes` workers (default 2, fork); each integrates its share of the samples
as one batch (the batch axis vectorizes the Python overhead away, as ns_2d.py batches 20
samples), pyFFTW single-threaded, FFTW_MEASURE plans built once per worker. The parent writes.
OPENBLAS/OMP/MKL threads are forced to 1.

Prints one JSON line: seconds inside the script (imports excluded) and the share of the
workers' time spent inside the FFT calls.

`--validate PDEKIT.nc` starts this script's solver from PDEKit's stored sample 0 initial field
(which is band-limited to the stored grid; the run then uses --resolution == solver grid
for an exact comparison) and compares the trajectory with PDEKit's (relative max error).
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
import pyfftw.builders  # noqa: E402


class Solver:
    def __init__(self, n, nu, dt, batch, amplitude=0.1):
        self.n, self.batch = n, batch
        half = n // 2 + 1
        ky = np.fft.fftfreq(n, 1.0 / n)[:, None]
        kx = np.arange(half, dtype=float)[None, :]
        lap = 4 * np.pi**2 * (kx**2 + ky**2)
        den = 1 + 0.5 * dt * nu * lap
        self.decay = (1 - 0.5 * dt * nu * lap) / den
        cut = (2.0 / 3.0) * (n // 2)
        mask = (np.abs(ky) <= cut) & (kx <= cut)
        self.adv = np.where(mask, dt / den, 0.0)
        self.inv_lap = np.where(lap > 0, 1 / np.where(lap > 0, lap, 1), 0.0)
        twopi = 2 * np.pi
        kxd = np.where(kx == n // 2, 0.0, twopi * kx)
        kyd = np.where(np.abs(ky) == n // 2, 0.0, twopi * ky)
        self.ikx = (1j * kxd) * np.ones((n, 1))
        self.iky = (1j * kyd) * np.ones((1, half))
        g = np.arange(n) / n
        X, Y = np.meshgrid(g, g)  # Y varies along rows (y), X along columns (x)
        f = amplitude * (np.sin(2 * np.pi * (X + Y)) + np.cos(2 * np.pi * (X + Y)))
        self.forcing = (dt / den) * np.fft.rfft2(f)
        # Work arrays and pyFFTW plans (MEASURE, single thread), made once.
        self.spec4 = pyfftw.empty_aligned((batch, 4, n, half), dtype="complex128")
        self.fields = pyfftw.empty_aligned((batch, 4, n, n), dtype="float64")
        self.prod = pyfftw.empty_aligned((batch, n, n), dtype="float64")
        self.tmp = pyfftw.empty_aligned((batch, n, n), dtype="float64")
        self.adv_spec = pyfftw.empty_aligned((batch, n, half), dtype="complex128")
        self.psi = np.empty((batch, n, half), dtype="complex128")
        self.ctmp = np.empty((batch, n, half), dtype="complex128")
        flags = ("FFTW_MEASURE", "FFTW_DESTROY_INPUT")
        self.inv4 = pyfftw.FFTW(self.spec4, self.fields, axes=(-2, -1), direction="FFTW_BACKWARD",
                                flags=flags, threads=1)
        self.fwd = pyfftw.FFTW(self.prod, self.adv_spec, axes=(-2, -1), direction="FFTW_FORWARD",
                               flags=("FFTW_MEASURE",), threads=1)
        self.fft_seconds = 0.0

    def run(self, w0, steps, record_every, s):
        n, half = self.n, self.n // 2 + 1
        w = np.fft.rfft2(w0)  # unnormalized, as FFTW's r2c
        scale = 1.0 / float(n) ** 4
        records = []
        sp, fl = self.spec4, self.fields
        for step in range(1, steps + 1):
            np.multiply(w, self.inv_lap, out=self.psi)
            np.multiply(self.psi, self.iky, out=sp[:, 0])   # psi_y
            np.multiply(self.psi, self.ikx, out=sp[:, 1])
            np.negative(sp[:, 1], out=sp[:, 1])              # -psi_x
            np.multiply(w, self.ikx, out=sp[:, 2])           # w_x
            np.multiply(w, self.iky, out=sp[:, 3])           # w_y
            t0 = time.perf_counter()
            self.inv4.execute()  # unnormalized c2r (pyFFTW's FFTW object does not scale on execute)
            t1 = time.perf_counter()
            np.multiply(fl[:, 0], fl[:, 2], out=self.prod)
            np.multiply(fl[:, 1], fl[:, 3], out=self.tmp)
            np.add(self.prod, self.tmp, out=self.prod)
            np.multiply(self.prod, scale, out=self.prod)
            t2 = time.perf_counter()
            self.fwd.execute()
            self.fft_seconds += (t1 - t0) + (time.perf_counter() - t2)
            np.multiply(w, self.decay, out=w)
            np.multiply(self.adv_spec, self.adv, out=self.ctmp)
            np.subtract(w, self.ctmp, out=w)
            np.add(w, self.forcing, out=w)
            if step % record_every == 0:
                records.append(truncate(w, n, s))
        return truncate(np.fft.rfft2(w0), n, s), np.stack(records, axis=1)


def truncate(w, n, s):
    """Spectral truncation of half spectra (..., n, n/2+1) to s^2 points (Nyquist dropped)."""
    c = np.zeros(w.shape[:-2] + (s, s // 2 + 1), dtype=complex)
    h = s // 2
    c[..., :h, :h] = w[..., :h, :h]
    c[..., h + 1:, :h] = w[..., n - h + 1:, :h]
    return np.fft.irfft2(c * (s * s / (n * n)), s=(s, s))


def grf(n, batch, rng, alpha=2.5, tau=7.0, sigma=7**1.5):
    ky = np.fft.fftfreq(n, 1.0 / n)[:, None]
    kx = np.arange(n // 2 + 1)[None, :]
    lam = sigma**2 * (4 * np.pi**2 * (kx**2 + ky**2) + tau**2) ** (-alpha)
    lam[0, 0] = 0
    noise = rng.standard_normal((batch, n, n))
    return np.fft.irfft2(np.fft.rfft2(noise) * np.sqrt(lam / (n * n)) * (n * n), s=(n, n))


def worker(args):
    idx, cfg = args
    rng = np.random.default_rng([cfg["seed"], idx[0]])
    solver = Solver(cfg["n"], cfg["nu"], cfg["dt"], len(idx))
    w0 = grf(cfg["n"], len(idx), rng)
    t0 = time.perf_counter()
    inp, traj = solver.run(w0, cfg["steps"], cfg["record_every"], cfg["s"])
    return idx, inp, traj, time.perf_counter() - t0, solver.fft_seconds


def write(path, s, times, inputs, trajs):
    import netCDF4
    tmp = path + ".tmp"
    ds = netCDF4.Dataset(tmp, "w", format="NETCDF4")
    ds.createDimension("sample", None)
    ds.createDimension("time", len(times))
    ds.createDimension("y", s)
    ds.createDimension("x", s)
    for name, vals in (("time", times), ("y", np.arange(s) / s), ("x", np.arange(s) / s)):
        v = ds.createVariable(name, "f8", (name,))
        v.units = "1"
        v[:] = vals
    a = ds.createVariable("vorticity_initial", "f4", ("sample", "y", "x"), zlib=True, complevel=1,
                          shuffle=True, chunksizes=(1, s, s))
    u = ds.createVariable("vorticity", "f4", ("sample", "time", "y", "x"), zlib=True, complevel=1,
                          shuffle=True, chunksizes=(1, len(times), s, s))
    a[:] = inputs
    u[:] = trajs
    ds.close()
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--solver-resolution", type=int, default=256)
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--nu", type=float, default=1e-3)
    p.add_argument("--dt", type=float, default=1e-4)
    p.add_argument("--t-end", type=float, default=50.0)
    p.add_argument("--record-interval", type=float, default=1.0)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="ns_peer.nc")
    p.add_argument("--validate", default=None)
    a = p.parse_args()
    record_every = int(round(a.record_interval / a.dt))
    records = int(round(a.t_end / a.record_interval))
    cfg = dict(n=a.solver_resolution, s=a.resolution, nu=a.nu, dt=a.dt, steps=records * record_every,
               record_every=record_every, seed=a.seed)
    if a.validate:
        import netCDF4
        ds = netCDF4.Dataset(a.validate)
        w0 = np.asarray(ds["vorticity_initial"][0], dtype=float)
        ref = np.asarray(ds["vorticity"][0], dtype=float)
        assert w0.shape[0] == a.solver_resolution, "--validate needs --solver-resolution == the file's resolution"
        solver = Solver(a.solver_resolution, a.nu, a.dt, 1)
        _, traj = solver.run(w0[None], cfg["steps"], record_every, a.resolution)
        err = np.abs(traj[0] - ref).max() / np.abs(ref).max()
        print(json.dumps({"validate": a.validate, "relative_max_error": float(err)}))
        return
    chunks = [list(c) for c in np.array_split(np.arange(a.samples), a.processes) if len(c)]
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(len(chunks)) as pool:
        out = pool.map(worker, [(c, cfg) for c in chunks])
    inputs = np.concatenate([o[1] for o in out])
    trajs = np.concatenate([o[2] for o in out])
    times = np.arange(1, records + 1) * a.record_interval
    write(a.out, a.resolution, times, inputs, trajs)
    wall = time.perf_counter() - t0
    work = sum(o[3] for o in out)
    fft = sum(o[4] for o in out)
    print(json.dumps({"peer": "numpy+pyfftw", "samples": a.samples, "steps": cfg["steps"],
                      "seconds": wall, "samples_per_second": a.samples / wall,
                      "fft_share": fft / work, "script_seconds": time.perf_counter() - T_START}))


if __name__ == "__main__":
    main()
