#!/usr/bin/env python3
"""Export a neuraloperator 2.0 `FNO` to a PDEKit checkpoint (safetensors), and make the parity
fixtures of Tests/OperatorsTests/Fixtures.

    # a seeded model with neuraloperator's defaults -> PDEKit checkpoint
    bench/.venv/bin/python bench/fno/export_neuraloperator.py --modes 12 12 --width 32 --layers 4 \
        --seed 0 --out fno.safetensors
    # a trained neuraloperator model (torch.save(model.state_dict(), "sd.pt")); the configuration
    # comes from the state_dict's _metadata (flags override it, and must agree with it)
    bench/.venv/bin/python bench/fno/export_neuraloperator.py --state-dict sd.pt --out fno.safetensors
    # the committed parity fixtures (2D and 1D checkpoints + reference input/output)
    bench/.venv/bin/python bench/fno/export_neuraloperator.py --fixture Tests/OperatorsTests/Fixtures

The model is `neuralop.models.FNO(n_modes, in_channels, out_channels, hidden_channels, n_layers)`
with every other option at neuraloperator's default (positional_embedding="grid", lifting and
projection channel ratio 2, channel MLP expansion 0.5 with "soft-gating" skip, fno_skip
"linear", no norm, no domain padding, dense spectral weights). The PDEKit parameter names are
those of Operators/Models/FNO.swift (`FNO.neuraloperatorName`):

    PDEKit name                          PDEKit shape     neuraloperator key                          torch shape
    lifting.fcs.{j}.weight               [h, c]           lifting.fcs.{j}.weight                      [h, c, 1]
    lifting.fcs.{j}.bias                 [h]              lifting.fcs.{j}.bias                        [h]
    blocks.{i}.spectral.weight           [w, w, K.., 2]   fno_blocks.convs.{i}.weight.tensor          [w, w, K..] complex64
    blocks.{i}.spectral.bias             [w, 1, ..]       fno_blocks.convs.{i}.bias                   [w, 1, ..]
    blocks.{i}.fnoSkip.weight            [w, w]           fno_blocks.fno_skips.{i}.conv.weight        [w, w, 1]
    blocks.{i}.channelMLP.fcs.{j}.weight [h, c]           fno_blocks.channel_mlp.{i}.fcs.{j}.weight   [h, c, 1]
    blocks.{i}.channelMLP.fcs.{j}.bias   [h]              fno_blocks.channel_mlp.{i}.fcs.{j}.bias     [h]
    blocks.{i}.channelMLPSkip.weight     [1, w, 1, ..]    fno_blocks.channel_mlp_skips.{i}.weight     [1, w, 1, ..]
    projection.fcs.{j}.weight            [h, c]           projection.fcs.{j}.weight                   [h, c, 1]
    projection.fcs.{j}.bias              [h]              projection.fcs.{j}.bias                     [h]

The complex spectral weight is stored as `torch.view_as_real` (trailing axis: real, imaginary).
K.. = (K1, .., K_{d-1}, K_d // 2 + 1) for n_modes (K1, .., K_d). neuraloperator 2.0.0's
state_dict also holds a non-tensor `_metadata` entry (its constructor kwargs); it is checked
(every option must be the default this exporter assumes) and not exported. Any other key, a
missing key or a shape that differs from the table is an error, never silently dropped.

Checkpoint metadata (safetensors `__metadata__`, strings): format "pdekit-checkpoint",
format_version "1", model "fno", model_config (JSON of the Swift `FNOConfiguration`), source
"neuraloperator <version> export". All tensors float32 little-endian; no normalizers.

Every export is checked before it is written: the checkpoint is read back, mapped back to
neuraloperator keys, loaded into a fresh `FNO`, and its forward output must equal the source
model's bit for bit. In --fixture mode the reference output is also recomputed by a small
numpy implementation of the PDEKit layout (`numpy_forward`, written from the PDEKit docs, not
from neuraloperator's code) and must agree to 1e-5 relative, so that the fixture pins the
documented semantics, not only torch's.

Fixtures (--fixture DIR):
  fno2d-parity.safetensors     FNO in 1, out 1, width 8, modes (5, 3), 2 layers, seed 0
  fno2d-parity-io.safetensors  input [2, 1, 16, 12], output [2, 1, 16, 12]  (float32)
  fno1d-parity.safetensors     FNO in 1, out 1, width 8, modes (5,), 2 layers, seed 1
  fno1d-parity-io.safetensors  input [2, 1, 32], output [2, 1, 32]
The soft-gating weights (initialized to ones by neuraloperator) are replaced by U(0.5, 1.5)
draws in the fixtures, so that a loader that ignores them fails the parity test.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from importlib.metadata import version as dist_version

import numpy as np

# neuraloperator options this exporter (and PDEKit's FNO) assume; a state_dict whose
# `_metadata` differs in any of them is refused.
EXPECTED_DEFAULTS = {
    "lifting_channel_ratio": 2,
    "projection_channel_ratio": 2,
    "positional_embedding": "grid",
    "norm": None,
    "complex_data": False,
    "use_channel_mlp": True,
    "channel_mlp_expansion": 0.5,
    "channel_mlp_skip": "soft-gating",
    "fno_skip": "linear",
    "domain_padding": None,
    "factorization": None,
    "separable": False,
    "preactivation": False,
    "resolution_scaling_factor": None,
    "max_n_modes": None,
    "fno_block_precision": "full",
    "stabilizer": None,
}


def neuralop_version() -> str:
    return dist_version("neuraloperator")


# ----------------------------------------------------------------------------- name map


def pdekit_name(key: str) -> str:
    """PDEKit parameter name of a neuraloperator FNO state_dict key (KeyError if unknown)."""
    m = re.fullmatch(r"(lifting|projection)\.fcs\.(\d+)\.(weight|bias)", key)
    if m:
        return key
    m = re.fullmatch(r"fno_blocks\.convs\.(\d+)\.weight\.tensor", key)
    if m:
        return f"blocks.{m[1]}.spectral.weight"
    m = re.fullmatch(r"fno_blocks\.convs\.(\d+)\.bias", key)
    if m:
        return f"blocks.{m[1]}.spectral.bias"
    m = re.fullmatch(r"fno_blocks\.fno_skips\.(\d+)\.conv\.weight", key)
    if m:
        return f"blocks.{m[1]}.fnoSkip.weight"
    m = re.fullmatch(r"fno_blocks\.channel_mlp\.(\d+)\.fcs\.(\d+)\.(weight|bias)", key)
    if m:
        return f"blocks.{m[1]}.channelMLP.fcs.{m[2]}.{m[3]}"
    m = re.fullmatch(r"fno_blocks\.channel_mlp_skips\.(\d+)\.weight", key)
    if m:
        return f"blocks.{m[1]}.channelMLPSkip.weight"
    raise KeyError(f"neuraloperator key {key!r} has no PDEKit name (not an FNO with the default options?)")


def neuralop_key(name: str) -> str:
    """Inverse of `pdekit_name` (the table of FNO.swift's `neuraloperatorName`)."""
    m = re.fullmatch(r"(lifting|projection)\.fcs\.(\d+)\.(weight|bias)", name)
    if m:
        return name
    m = re.fullmatch(r"blocks\.(\d+)\.spectral\.(weight|bias)", name)
    if m:
        return f"fno_blocks.convs.{m[1]}." + ("weight.tensor" if m[2] == "weight" else "bias")
    m = re.fullmatch(r"blocks\.(\d+)\.fnoSkip\.weight", name)
    if m:
        return f"fno_blocks.fno_skips.{m[1]}.conv.weight"
    m = re.fullmatch(r"blocks\.(\d+)\.channelMLP\.fcs\.(\d+)\.(weight|bias)", name)
    if m:
        return f"fno_blocks.channel_mlp.{m[1]}.fcs.{m[2]}.{m[3]}"
    m = re.fullmatch(r"blocks\.(\d+)\.channelMLPSkip\.weight", name)
    if m:
        return f"fno_blocks.channel_mlp_skips.{m[1]}.weight"
    raise KeyError(f"PDEKit name {name!r} is not an FNO parameter")


def is_pointwise(key: str) -> bool:
    """1x1 convolution weights (torch Conv1d, trailing kernel axis of 1)."""
    return bool(re.search(r"\.fcs\.\d+\.weight$", key) or re.search(r"fno_skips\.\d+\.conv\.weight$", key))


def pdekit_order(cfg: dict) -> list[str]:
    """PDEKit's parameter order (FNO.visitParameters): lifting, blocks, projection."""
    names = [f"lifting.fcs.{j}.{p}" for j in range(2) for p in ("weight", "bias")]
    for i in range(cfg["layers"]):
        names += [f"blocks.{i}.spectral.weight", f"blocks.{i}.spectral.bias", f"blocks.{i}.fnoSkip.weight"]
        names += [f"blocks.{i}.channelMLP.fcs.{j}.{p}" for j in range(2) for p in ("weight", "bias")]
        names += [f"blocks.{i}.channelMLPSkip.weight"]
    names += [f"projection.fcs.{j}.{p}" for j in range(2) for p in ("weight", "bias")]
    return names


def expected_shapes(cfg: dict) -> dict[str, tuple]:
    """PDEKit shape of every parameter for a configuration (FNO.swift, SpectralConv.swift)."""
    cin, cout, w, modes, d = cfg["inChannels"], cfg["outChannels"], cfg["hiddenChannels"], cfg["modes"], len(cfg["modes"])
    lift_in = cin + (d if cfg["positionalEmbedding"] else 0)
    lh = int(cfg["liftingChannelRatio"] * w)
    ph = int(cfg["projectionChannelRatio"] * w)
    mh = round(w * cfg["channelMLPExpansion"])
    kmodes = tuple(modes[:-1]) + (modes[-1] // 2 + 1,)
    s = {
        "lifting.fcs.0.weight": (lh, lift_in), "lifting.fcs.0.bias": (lh,),
        "lifting.fcs.1.weight": (w, lh), "lifting.fcs.1.bias": (w,),
        "projection.fcs.0.weight": (ph, w), "projection.fcs.0.bias": (ph,),
        "projection.fcs.1.weight": (cout, ph), "projection.fcs.1.bias": (cout,),
    }
    for i in range(cfg["layers"]):
        s[f"blocks.{i}.spectral.weight"] = (w, w) + kmodes + (2,)
        s[f"blocks.{i}.spectral.bias"] = (w,) + (1,) * d
        s[f"blocks.{i}.fnoSkip.weight"] = (w, w)
        s[f"blocks.{i}.channelMLP.fcs.0.weight"] = (mh, w)
        s[f"blocks.{i}.channelMLP.fcs.0.bias"] = (mh,)
        s[f"blocks.{i}.channelMLP.fcs.1.weight"] = (w, mh)
        s[f"blocks.{i}.channelMLP.fcs.1.bias"] = (w,)
        s[f"blocks.{i}.channelMLPSkip.weight"] = (1, w) + (1,) * d
    return s


# ----------------------------------------------------------------------------- model


def model_config(modes, in_channels, out_channels, width, layers) -> dict:
    """The Swift FNOConfiguration (key order and field names as its Codable synthesis)."""
    return {
        "inChannels": int(in_channels),
        "outChannels": int(out_channels),
        "hiddenChannels": int(width),
        "modes": [int(m) for m in modes],
        "layers": int(layers),
        "liftingChannelRatio": 2,
        "projectionChannelRatio": 2,
        "channelMLPExpansion": 0.5,
        "positionalEmbedding": True,
    }


def build_fno(cfg: dict, seed: int):
    import torch
    from neuralop.models import FNO

    torch.manual_seed(seed)
    return FNO(
        n_modes=tuple(cfg["modes"]),
        in_channels=cfg["inChannels"],
        out_channels=cfg["outChannels"],
        hidden_channels=cfg["hiddenChannels"],
        n_layers=cfg["layers"],
    )


def check_metadata(meta: dict, cfg: dict) -> None:
    """Refuse a neuraloperator `_metadata` that is not the configuration being exported."""
    if meta is None:
        return
    problems = []
    for k, v in EXPECTED_DEFAULTS.items():
        if k in meta and meta[k] != v:
            problems.append(f"{k}={meta[k]!r} (PDEKit's FNO needs {v!r})")
    want = {"n_modes": tuple(cfg["modes"]), "in_channels": cfg["inChannels"], "out_channels": cfg["outChannels"],
            "hidden_channels": cfg["hiddenChannels"], "n_layers": cfg["layers"]}
    for k, v in want.items():
        if k in meta and (tuple(meta[k]) if k == "n_modes" else meta[k]) != v:
            problems.append(f"{k}={meta[k]!r} but the export was asked for {v!r}")
    nl = meta.get("non_linearity")
    if nl is not None and getattr(nl, "__name__", str(nl)) != "gelu":
        problems.append(f"non_linearity={nl!r} (PDEKit uses exact GELU)")
    if problems:
        raise SystemExit("state_dict does not fit PDEKit's FNO: " + "; ".join(problems))


def to_pdekit(state_dict, cfg: dict) -> dict[str, np.ndarray]:
    """neuraloperator state_dict -> {PDEKit name: float32 array}, checked against the table."""
    import torch

    sd = dict(state_dict)
    meta = sd.pop("_metadata", None)
    check_metadata(meta, cfg)
    shapes = expected_shapes(cfg)
    out: dict[str, np.ndarray] = {}
    for key, t in sd.items():
        if not torch.is_tensor(t):
            raise SystemExit(f"state_dict entry {key!r} is not a tensor ({type(t).__name__})")
        name = pdekit_name(key)
        t = t.detach().cpu()
        if key.endswith(".weight.tensor"):
            if t.dtype != torch.complex64:
                raise SystemExit(f"{key}: expected complex64, got {t.dtype}")
            a = torch.view_as_real(t.contiguous()).numpy()
        else:
            if t.dtype != torch.float32:
                raise SystemExit(f"{key}: expected float32, got {t.dtype}")
            a = t.numpy()
            if is_pointwise(key):
                if a.ndim != 3 or a.shape[2] != 1:
                    raise SystemExit(f"{key}: expected a 1x1 conv weight [out, in, 1], got {list(a.shape)}")
                a = a[:, :, 0]
        if name not in shapes:
            raise SystemExit(f"{key} -> {name}: not a parameter of {cfg}")
        if tuple(a.shape) != shapes[name]:
            raise SystemExit(f"{key} -> {name}: shape {list(a.shape)}, PDEKit expects {list(shapes[name])}")
        out[name] = np.ascontiguousarray(a, dtype="<f4")
    missing = [n for n in shapes if n not in out]
    if missing:
        raise SystemExit(f"state_dict lacks {len(missing)} FNO parameters, e.g. {[neuralop_key(n) for n in missing[:4]]}")
    return {n: out[n] for n in pdekit_order(cfg)}


def to_neuralop(tensors: dict[str, np.ndarray]):
    """Inverse of `to_pdekit`: {PDEKit name: array} -> neuraloperator state_dict (no _metadata)."""
    import torch

    sd = {}
    for name, a in tensors.items():
        key = neuralop_key(name)
        t = torch.from_numpy(np.array(a, dtype=np.float32))
        if key.endswith(".weight.tensor"):
            t = torch.view_as_complex(t.contiguous())
        elif is_pointwise(key):
            t = t.unsqueeze(-1)
        sd[key] = t
    return sd


def save_safetensors(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """A safetensors file with a deterministic header (the official writer orders `__metadata__`
    keys by hash, so its bytes change from run to run): metadata first, keys sorted, then the
    tensors in the given order; header padded with spaces to a multiple of 8. Float32 only.
    The result is read back with the official reader (`read_checkpoint`) before anything uses it."""
    import struct

    header: dict = {"__metadata__": {k: metadata[k] for k in sorted(metadata)}}
    blobs, offset = [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_checkpoint(path: str, tensors: dict[str, np.ndarray], cfg: dict) -> None:
    meta = {
        "format": "pdekit-checkpoint",
        "format_version": "1",
        "model": "fno",
        "model_config": json.dumps(cfg, separators=(",", ":")),
        "source": f"neuraloperator {neuralop_version()} export",
    }
    save_safetensors(path, tensors, meta)


def read_checkpoint(path: str) -> tuple[dict[str, np.ndarray], dict]:
    from safetensors import safe_open

    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return tensors, meta


def verify_roundtrip(path: str, model, cfg: dict, x) -> None:
    """Load the written checkpoint into a fresh FNO; its output must equal `model`'s exactly."""
    import torch

    tensors, meta = read_checkpoint(path)
    assert meta.get("format") == "pdekit-checkpoint" and json.loads(meta["model_config"]) == cfg, meta
    for n, a in tensors.items():
        assert a.dtype == np.float32, (n, a.dtype)
    fresh = build_fno(cfg, seed=12345)
    fresh.load_state_dict(to_neuralop(tensors), strict=True)
    model.eval()
    fresh.eval()
    with torch.no_grad():
        y0, y1 = model(x), fresh(x)
    if not torch.equal(y0, y1):
        raise SystemExit(f"round trip of {path} changed the output (max diff {float((y0 - y1).abs().max())})")


# ----------------------------------------------------------------------------- numpy reference


def _gelu(x):
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _pointwise(w, b, x):
    """1x1 conv: w [o, i], x [B, i, ...] -> [B, o, ...] (+ b [o])."""
    y = np.einsum("oi,bi...->bo...", w, x)
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * (x.ndim - 2))
    return y


def _spectral(w, b, x, modes):
    """PDEKit SpectralConv semantics (SpectralConv.swift docs): rfftn(norm=forward), keep K_a
    centred frequencies -K//2 .. K - K//2 - 1 on the leading axes and 0 .. K_d//2 on the last,
    multiply by W[i, o, k], put every coefficient back at its own frequency, irfftn(norm=forward)."""
    d = len(modes)
    spatial = x.shape[2:]
    W = w[..., 0] + 1j * w[..., 1]  # [i, o, K.., K_d//2+1]
    X = np.fft.rfftn(x, axes=tuple(range(2, 2 + d)), norm="forward")
    Y = np.zeros((x.shape[0], W.shape[1]) + X.shape[2:], dtype=np.complex128)
    idx_x, idx_w = [], []
    for a in range(d):
        n = spatial[a]
        cap = W.shape[2 + a]
        if a < d - 1:
            k = min(n, cap)
            freqs = np.arange(k) - k // 2
            idx_x.append(freqs % n)
            idx_w.append((cap - k) // 2 + np.arange(k))
        else:
            k = min(n // 2 + 1, cap)
            idx_x.append(np.arange(k))
            idx_w.append(np.arange(k))
    ix = np.ix_(*idx_x)
    iw = np.ix_(*idx_w)
    Xk = X[(slice(None), slice(None)) + ix]
    Wk = W[(slice(None), slice(None)) + iw]
    Y[(slice(None), slice(None)) + ix] = np.einsum("bi...,io...->bo...", Xk, Wk)
    y = np.fft.irfftn(Y, s=spatial, axes=tuple(range(2, 2 + d)), norm="forward")
    return y + b.reshape((1,) + b.shape)


def numpy_forward(tensors: dict[str, np.ndarray], cfg: dict, x: np.ndarray) -> np.ndarray:
    """FNO forward from a PDEKit checkpoint, float64, following the PDEKit docs (FNO.swift)."""
    t = {k: v.astype(np.float64) for k, v in tensors.items()}
    h = x.astype(np.float64)
    d = len(cfg["modes"])
    spatial = h.shape[2:]
    if cfg["positionalEmbedding"]:
        grids = np.meshgrid(*[np.arange(n) / n for n in spatial], indexing="ij")
        g = np.broadcast_to(np.stack(grids)[None], (h.shape[0], d) + tuple(spatial))
        h = np.concatenate([h, g], axis=1)

    def mlp(prefix, h):
        h = _gelu(_pointwise(t[f"{prefix}.fcs.0.weight"], t[f"{prefix}.fcs.0.bias"], h))
        return _pointwise(t[f"{prefix}.fcs.1.weight"], t[f"{prefix}.fcs.1.bias"], h)

    h = mlp("lifting", h)
    for i in range(cfg["layers"]):
        last = i == cfg["layers"] - 1
        p = f"blocks.{i}"
        skip_fno = _pointwise(t[f"{p}.fnoSkip.weight"], None, h)
        skip_mlp = h * t[f"{p}.channelMLPSkip.weight"]
        z = _spectral(t[f"{p}.spectral.weight"], t[f"{p}.spectral.bias"], h, cfg["modes"]) + skip_fno
        if not last:
            z = _gelu(z)
        z = mlp(f"{p}.channelMLP", z) + skip_mlp
        if not last:
            z = _gelu(z)
        h = z
    return mlp("projection", h)


# ----------------------------------------------------------------------------- commands


def load_state_dict_file(path: str, unsafe_pickle: bool) -> dict:
    """torch.load a neuraloperator state_dict. Its `_metadata` entry pickles the activation
    function and the SpectralConv class; those two (and only those) are allow-listed, so that the
    file loads with weights_only=True. --unsafe-pickle falls back to full unpickling."""
    import torch
    import torch.nn.functional as F
    from neuralop.layers.spectral_convolution import SpectralConv

    try:
        with torch.serialization.safe_globals([F.gelu, SpectralConv]):
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        if not unsafe_pickle:
            raise SystemExit(
                f"torch.load(weights_only=True) refused {path} ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
                "re-run with --unsafe-pickle if you trust the file")
        sd = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(sd, dict) and "model" in sd and not any(str(k).startswith("lifting.") for k in sd):
        sd = sd["model"]  # a training checkpoint {"model": state_dict, ...}
    if not isinstance(sd, dict):
        raise SystemExit(f"{path} holds a {type(sd).__name__}, not a state_dict")
    return dict(sd)


def export(args) -> None:
    import torch

    sd = load_state_dict_file(args.state_dict, args.unsafe_pickle) if args.state_dict else None
    meta = (sd or {}).get("_metadata") or {}
    # Configuration: explicit flags, else the state_dict's _metadata, else the defaults.
    modes = args.modes or (list(meta["n_modes"]) if "n_modes" in meta else [12, 12])
    if isinstance(modes, int):
        modes = [modes]
    pick = lambda flag, key, default: flag if flag is not None else meta.get(key, default)
    cfg = model_config(modes, pick(args.in_channels, "in_channels", 1), pick(args.out_channels, "out_channels", 1),
                       pick(args.width, "hidden_channels", 32), pick(args.layers, "n_layers", 4))
    if not 1 <= len(cfg["modes"]) <= 3:
        raise SystemExit("--modes takes 1 to 3 values")
    model = build_fno(cfg, args.seed)
    if sd is not None:
        check_metadata(sd.get("_metadata"), cfg)
        model.load_state_dict(sd, strict=True)
    tensors = to_pdekit(model.state_dict(), cfg)
    write_checkpoint(args.out, tensors, cfg)
    g = torch.Generator().manual_seed(args.seed + 1)
    x = torch.randn((2, cfg["inChannels"]) + tuple(max(2 * m, 8) for m in cfg["modes"]), generator=g)
    verify_roundtrip(args.out, model, cfg, x)
    n = sum(a.size for a in tensors.values())
    print(f"wrote {args.out}: {len(tensors)} tensors, {n:,} float32 values, config {json.dumps(cfg, separators=(',', ':'))}")


FIXTURES = [
    # name, modes, width, layers, model seed, input shape
    ("fno2d", (5, 3), 8, 2, 0, (2, 1, 16, 12)),
    ("fno1d", (5,), 8, 2, 1, (2, 1, 32)),
]


def make_fixtures(outdir: str) -> None:
    import torch

    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    for name, modes, width, layers, seed, in_shape in FIXTURES:
        cfg = model_config(modes, in_shape[1], 1, width, layers)
        model = build_fno(cfg, seed)
        g = torch.Generator().manual_seed(1000 + seed)
        with torch.no_grad():
            for i in range(layers):  # soft-gating weights: ones at init -> U(0.5, 1.5)
                w = model.fno_blocks.channel_mlp_skips[i].weight
                w.copy_(0.5 + torch.rand(w.shape, generator=g))
        x = torch.randn(in_shape, generator=g, dtype=torch.float32)
        model.eval()
        with torch.no_grad():
            y = model(x)
        assert y.dtype == torch.float32 and tuple(y.shape) == in_shape, (y.dtype, y.shape)

        ckpt = os.path.join(outdir, f"{name}-parity.safetensors")
        io = os.path.join(outdir, f"{name}-parity-io.safetensors")
        tensors = to_pdekit(model.state_dict(), cfg)
        write_checkpoint(ckpt, tensors, cfg)
        verify_roundtrip(ckpt, model, cfg, x)
        save_safetensors(
            io,
            {"input": x.numpy(), "output": y.numpy()},
            {
                "description": f"input and neuraloperator FNO forward output (float32, model.eval(), no_grad) for {name}-parity.safetensors",
                "source": f"neuraloperator {neuralop_version()}, torch {torch.__version__}",
            },
        )
        io_t, _ = read_checkpoint(io)
        assert np.array_equal(io_t["input"], x.numpy()) and np.array_equal(io_t["output"], y.numpy())
        # Independent check of the documented PDEKit semantics.
        ref = numpy_forward(read_checkpoint(ckpt)[0], cfg, x.numpy())
        yn = y.numpy().astype(np.float64)
        rel = np.linalg.norm(ref - yn) / np.linalg.norm(yn)
        maxrel = np.max(np.abs(ref - yn)) / np.max(np.abs(yn))
        if rel > 1e-5:
            raise SystemExit(f"{name}: numpy reference of the PDEKit layout differs from torch (rel {rel:.2e})")
        sizes = os.path.getsize(ckpt), os.path.getsize(io)
        print(f"{name}: modes {modes} width {width} layers {layers} seed {seed}; input/output {list(in_shape)}; "
              f"numpy-vs-torch rel L2 {rel:.2e} (max {maxrel:.2e}); {ckpt} {sizes[0]} B, {io} {sizes[1]} B")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fixture", metavar="DIR", help="write the parity fixtures into DIR and exit")
    p.add_argument("--modes", type=int, nargs="+", help="n_modes per spatial axis (default: the state_dict's, else 12 12)")
    p.add_argument("--in-channels", type=int, help="in_channels (default: the state_dict's, else 1)")
    p.add_argument("--out-channels", type=int, help="out_channels (default: the state_dict's, else 1)")
    p.add_argument("--width", type=int, help="hidden_channels (default: the state_dict's, else 32)")
    p.add_argument("--layers", type=int, help="n_layers (default: the state_dict's, else 4)")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed before building the model")
    p.add_argument("--state-dict", metavar="FILE", help="torch.save'd FNO state_dict to export instead of a seeded init")
    p.add_argument("--unsafe-pickle", action="store_true",
                   help="fall back to torch.load(weights_only=False) for a --state-dict that does not load safely")
    p.add_argument("--out", metavar="FILE", help="output checkpoint (.safetensors)")
    args = p.parse_args()
    if args.fixture:
        make_fixtures(args.fixture)
        return
    if not args.out:
        p.error("--out is required (or --fixture DIR)")
    export(args)


if __name__ == "__main__":
    main()
