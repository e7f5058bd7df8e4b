#!/usr/bin/env python3
"""PyTorch re-implementation of PDEKit's FactFormer and IFactFormer-m, written from the papers
(Li, Shu & Barati Farimani, "Scalable Transformer for PDE Surrogate Modeling", NeurIPS 2023;
Yang, Wang & Wang, "Implicit factorized transformer approach to fast prediction of turbulent
channel flows", arXiv:2412.18840) and the model description in shared/REFERENCES.md, with
PDEKit's parameter names so that a PDEKit checkpoint (safetensors) loads directly.

    model = build(config_json, model_name)          # "factformer" or "ifactformer"
    load_pdekit_checkpoint(model, "ff.safetensors") # parameters + Fourier-feature buffers
    y = model(x)                                    # x: [B, C, n1, ..., nd] float32

Conventions (the same as Operators/Layers/FactorizedAttention.swift):
- fields are channel-last inside; axis a has coordinates linspace(0, domainLength[a], n_a);
- pooling reducer: bias-free Linear(C, C) -> mean over the other spatial axes -> LayerNorm ->
  Linear(C, 2C) -> gelu(first half) * second half -> Linear(C, latent = C);
- axial kernel: q, k = bias-free Linear(latent, H*w) per axis, w = headWidth * kernelMultiplier,
  rotary embedding (rotate-half, theta = coordinate * 64 * 10000^(-2j/w)), K = q k^T * scaling,
  no softmax, scaling 1 unless kernelMultiplier > 4 (then 1/sqrt(w));
- chained (FactFormer): K_1 along axis 1, then K_2 along axis 2 (then K_3); group norm with one
  group per head over all positions, unbiased variance, eps 1e-8, no affine;
- parallel (IFactFormer-m): each K_a on the same values, concatenated per head (channel order
  head, axis, c); instance norm (biased, eps 1e-5, no affine);
- block output: bias-free Linear(H*c*(d if parallel) -> C) -> GELU -> bias-free Linear(C -> C);
- positional encoding before each layer: [sin, cos](2 pi p . F) with the checkpoint's fixed F,
  computed in float64 (as PDEKit) and cast to float32, then Linear(C, C);
- FactFormer: u = Linear(in -> C)(x); per layer u += P(grid); u += block(u);
  IFactFormer-m: u = Linear(C/2 -> C, no bias)(gelu(Linear(in -> C/2)(x))); per layer u += P(grid);
  L times u += block(u) / L (one shared block);
- decoder: Linear(C/2 -> out)(gelu(Linear(C -> C/2, no bias)(u))).
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def linear(x, p, name):
    return F.linear(x, p[name + ".weight"], p.get(name + ".bias"))


def rotary(t, coords, width):
    """t: [B, n, H, w]; rotate-half rotary embedding with the axis coordinates."""
    half = width // 2
    inv = torch.tensor([10000.0 ** (-2.0 * j / width) for j in range(half)], dtype=torch.float64)
    theta = torch.outer(coords, inv) * 64.0  # [n, w/2], float64 like PDEKit
    cos, sin = theta.cos().to(t.dtype)[None, :, None, :], theta.sin().to(t.dtype)[None, :, None, :]
    t1, t2 = t[..., :half], t[..., half:]
    return torch.cat([t1 * cos - t2 * sin, t2 * cos + t1 * sin], dim=-1)


class Model(nn.Module):
    def __init__(self, name, config):
        super().__init__()
        self.name, self.c = name, config
        self.p = nn.ParameterDict()
        self.buffers_ = {}

    def coordinates(self, grid):
        return [torch.linspace(0, L, n, dtype=torch.float64) if n > 1 else torch.zeros(1, dtype=torch.float64)
                for n, L in zip(grid, self.c["domainLength"])]

    def positional(self, l, coords, dtype):
        freq = self.buffers_[f"layers.{l}.positional.frequencies"].double()  # [d, C/2]
        mesh = torch.stack(torch.meshgrid(*coords, indexing="ij"), dim=-1)  # [*grid, d]
        angle = 2 * math.pi * (mesh @ freq)
        feats = torch.cat([angle.sin(), angle.cos()], dim=-1).to(dtype)
        return linear(feats, self.p, f"layers.{l}.positional.linear")[None]

    def block(self, l, u, coords):
        c = self.c
        pre = f"layers.{l}.attention"
        d, H, hw = c["dimensions"], c["heads"], c["headWidth"]
        w = hw * c["kernelMultiplier"]
        scaling = 1 / math.sqrt(w) if c["kernelMultiplier"] > 4 else 1.0
        B, grid, C = u.shape[0], list(u.shape[1:-1]), u.shape[-1]
        h = F.layer_norm(u, (C,), self.p[pre + ".inNorm.weight"], self.p[pre + ".inNorm.bias"], eps=1e-5)
        v = linear(h, self.p, pre + ".toV").view(B, *grid, H, hw)
        s = linear(h, self.p, pre + ".toIn")
        kernels = []
        for a in range(d):
            r = linear(s, self.p, f"{pre}.reducers.{a}.toIn")
            others = [1 + b for b in range(d) if b != a]
            if others:
                r = r.mean(dim=others)
            r = F.layer_norm(r, (C,), self.p[f"{pre}.reducers.{a}.norm.weight"],
                             self.p[f"{pre}.reducers.{a}.norm.bias"], eps=1e-5)
            r = linear(r, self.p, f"{pre}.reducers.{a}.expand")
            r = F.gelu(r[..., :C]) * r[..., C:]
            r = linear(r, self.p, f"{pre}.reducers.{a}.project")
            n = r.shape[1]
            q = rotary(linear(r, self.p, f"{pre}.kernels.{a}.toQ").view(B, n, H, w), coords[a], w)
            k = rotary(linear(r, self.p, f"{pre}.kernels.{a}.toK").view(B, n, H, w), coords[a], w)
            kernels.append(torch.einsum("bihd,bjhd->bhij", q, k) * scaling)
        letters = "xyz"[:d]

        def along(K, t, a):
            src = letters[:a] + "j" + letters[a + 1:]
            return torch.einsum(f"bh{letters[a]}j,b{src}hc->b{letters}hc", K, t)

        if self.name == "factformer":
            z = v
            for a in range(d):
                z = along(kernels[a], z, a)
            z = z.reshape(B, -1, H, hw)
            mean = z.mean(dim=(1, 3), keepdim=True)
            var = z.var(dim=(1, 3), keepdim=True)  # unbiased, as torch.var
            z = ((z - mean) / (var + 1e-8).sqrt()).reshape(B, *grid, H * hw)
        else:
            z = torch.cat([along(kernels[a], v, a) for a in range(d)], dim=-1).reshape(B, *grid, H * d * hw)
            flat = z.reshape(B, -1, z.shape[-1])
            mean = flat.mean(dim=1, keepdim=True)
            var = flat.var(dim=1, unbiased=False, keepdim=True)
            z = ((flat - mean) / (var + 1e-5).sqrt()).reshape(z.shape)
        return linear(F.gelu(linear(z, self.p, pre + ".outFirst")), self.p, pre + ".outSecond")

    def forward(self, x):
        c = self.c
        u = x.movedim(1, -1)
        coords = self.coordinates(list(x.shape[2:]))
        if self.name == "factformer":
            u = linear(u, self.p, "encoder")
        else:
            u = linear(F.gelu(linear(u, self.p, "encoder.0")), self.p, "encoder.1")
        for l in range(c["depth"]):
            u = u + self.positional(l, coords, u.dtype)
            if self.name == "factformer":
                u = u + self.block(l, u, coords)
            else:
                for _ in range(c["repeats"]):
                    u = u + self.block(l, u, coords) / c["repeats"]
        y = linear(F.gelu(linear(u, self.p, "decoder.0")), self.p, "decoder.1")
        return y.movedim(-1, 1)


def load_pdekit_checkpoint(path):
    """The model stored in a PDEKit checkpoint (its parameters and buffers)."""
    from safetensors import safe_open

    with safe_open(path, "pt") as f:
        meta = f.metadata()
        name, config = meta["model"], json.loads(meta["model_config"])
        model = Model(name, config)
        for key in f.keys():
            t = f.get_tensor(key)
            if key.startswith("buffer."):
                model.buffers_[key[len("buffer."):]] = t
            elif not key.startswith(("normalizer.", "optimizer.")):
                model.p[key.replace(".", "__")] = nn.Parameter(t)
    # ParameterDict keys may not contain dots: keep a dotted view for the forward pass.
    model.p = _Dotted(model.p)
    return model


class _Dotted(nn.Module):
    """A ParameterDict seen with PDEKit's dotted names."""

    def __init__(self, pd):
        super().__init__()
        self.pd = pd

    def __getitem__(self, k):
        return self.pd[k.replace(".", "__")]

    def get(self, k, default=None):
        k2 = k.replace(".", "__")
        return self.pd[k2] if k2 in self.pd else default

    def items(self):
        return ((k.replace("__", "."), v) for k, v in self.pd.items())
