"""The comparisons of a fidelity verdict before judging: one block of bootstrap replicates per feature.

A :class:`Block` holds a feature's truth and surrogate values and ``B``
replicates of ``surrogate - truth``. Every block of a verdict draws its
resampling indices from one :class:`Resampler`, so one replicate resamples
every stratum once (the joint bootstrap that :mod:`.simultaneous` turns into
simultaneous intervals). Paired blocks evaluate both sides on the truth's
units; distributional blocks resample each side on its own samples; the top
blocks compare rank agreement and the exploit stratum (:mod:`.top`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .features import REGISTRY, LandscapeData
from .features._base import FeatureSpec, full_idx, run_stat
from .top import ExploitData, exploit_stats, top_decile_agreement, top_decile_size


@dataclass
class Block:
    """One feature's comparisons before judging: values, bootstrap replicates of the difference."""

    feature: str
    kind: str
    keys: list[str | None]
    truth: np.ndarray          # (K,)
    surrogate: np.ndarray      # (K,)
    boot: np.ndarray           # (B, K) replicates of surrogate - truth
    n_units: int
    unit: str


class Resampler:
    """Shared bootstrap indices per resampling unit (one replicate resamples every stratum once)."""

    def __init__(self, rng: np.random.Generator, n_boot: int, boot_max: int) -> None:
        self.rng, self.B, self.m = rng, int(n_boot), int(boot_max)
        self._idx: dict[tuple[str, int], tuple[np.ndarray, float]] = {}

    def get(self, key: str, n: int) -> tuple[np.ndarray, float]:
        k = (key, int(n))
        if k not in self._idx:
            m = min(int(n), self.m)
            self._idx[k] = (self.rng.integers(0, n, size=(self.B, m)), math.sqrt(m / n))
        return self._idx[k]


def paired_block(name: str, t: LandscapeData, s: LandscapeData, rs: Resampler) -> Block | None:
    """Feature ``name`` of the surrogate ``s`` at the truth ``t``'s own units, resampled together."""
    spec = paired_spec(name, t, s)
    if spec is None:
        return None
    n = t.n_units(spec.unit)
    ft, fs = run_stat(spec, t, full_idx(n))[0], run_stat(spec, s, full_idx(n))[0]
    idx, scale = rs.get(spec.unit, n)
    d = fs - ft
    boot = d[None, :] + scale * ((run_stat(spec, s, idx) - run_stat(spec, t, idx)) - d[None, :])
    keys = spec.keys(t) if spec.keys else [None]
    return Block(name, "paired", list(keys), ft, fs, boot, n, spec.unit)


def distributional_block(name: str, t: LandscapeData, s: LandscapeData, rs_t: Resampler,
                          rs_s: Resampler) -> Block | None:
    """Feature ``name`` of ``t`` and ``s`` each on its own samples, resampled independently."""
    st, ss = REGISTRY[name].resolve(t), REGISTRY[name].resolve(s)
    if st is None or ss is None or not st.pairable or not ss.pairable:
        return None
    nt, ns = t.n_units(st.unit), s.n_units(ss.unit)
    ft, fs = run_stat(st, t, full_idx(nt))[0], run_stat(ss, s, full_idx(ns))[0]
    if ft.shape != fs.shape:
        return None
    it, sct = rs_t.get(st.unit, nt)
    is_, scs = rs_s.get(ss.unit, ns)
    dev = scs * (run_stat(ss, s, is_) - fs[None]) - sct * (run_stat(st, t, it) - ft[None])
    keys = st.keys(t) if st.keys else [None]
    return Block(name, "distributional", list(keys), ft, fs, (fs - ft)[None] + dev, nt, st.unit)


def top_blocks(names: set[str], t: LandscapeData, p: LandscapeData, et: ExploitData | None,
                es: ExploitData | None, rs: Resampler) -> list[Block]:
    """Rank agreement (all points, top decile) and the exploit-stratum comparisons that ``names`` asks for."""
    out = []
    for name, q, unit in (("rank_agreement", 0.0, "points"), ("top_decile_rank_agreement", 0.9, "top_decile")):
        if name not in names or t.f_points is None or len(t.f_points) < 2:
            continue
        n = len(t.f_points)
        idx, scale = rs.get("points", n)
        tv, sv = top_decile_agreement(t.f_points, p.f_points, full_idx(n), q)
        bt, bs = top_decile_agreement(t.f_points, p.f_points, idx, q)
        d = sv - tv
        boot = (d + scale * ((bs - bt) - d))[:, None]
        out.append(Block(name, "paired", [None], tv, sv, boot, n if q <= 0 else top_decile_size(t.f_points, q),
                          unit))
    if et is not None and es is not None and len(et.centres):
        k = len(et.centres)
        idx, scale = rs.get("exploit", k)
        for name in ("top_fitness_mean", "top_local_optima", "top_neighbour_rank"):
            if name not in names:
                continue
            tv, sv = exploit_stats(et, es, name, full_idx(k))
            bt, bs = exploit_stats(et, es, name, idx)
            d = sv - tv
            out.append(Block(name, "paired", [None], tv, sv, (d + scale * ((bs - bt) - d))[:, None], k, "exploit"))
    return out


def paired_spec(name: str, t: LandscapeData, s: LandscapeData) -> FeatureSpec | None:
    """The feature's spec when both sides resolve it to the same pairable spec, else None."""
    spec = REGISTRY[name].resolve(t)
    if spec is None or not spec.pairable or REGISTRY[name].resolve(s) is not spec:
        return None
    return spec


__all__ = ["Block", "Resampler", "distributional_block", "paired_block", "paired_spec", "top_blocks"]
