"""The predictive distribution of a benchmark entry: spreads, intervals, draws of one training run.

These are the noise parts of :class:`~surrogate_eo.surrogates.benchmark.Benchmark`
(``predict_dist``, ``predict_interval``, ``predict(..., with_noise=True)``, the
coverage columns of ``evaluate``), kept next to the noise model they read,
:class:`~surrogate_eo.surrogates.conformal.NoiseModel`. An entry with a conformal
noise model answers from its calibrated out-of-fold residual quantiles plus seed
noise; an older entry without one falls back to ``Normal(mean, sqrt(σ_ensemble² +
σ_seed²))`` (``σ_seed²`` only for ``kind="single"``).

>>> import numpy as np
>>> clip("val_acc", np.array([-0.1, 0.5, 1.2]))
array([0. , 0.5, 1. ])
>>> clip("wall_seconds", np.array([-3.0, 7.0]))
array([0., 7.])
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import SurrogateError
from ..spaces.base import BatchLike, SeedLike, as_rng

if TYPE_CHECKING:  # pragma: no cover
    from .benchmark import Benchmark, Entry

#: The database's run-level wall time (training + evaluation of one run), seconds.
RUNTIME_METRIC = "wall_seconds"


def clip(metric: str, values: np.ndarray) -> np.ndarray:
    """Clip draws to the metric's range: kappa to [-1, 1], accuracy-like to [0, 1], runtime to >= 0 s."""
    if metric.endswith("_kappa"):
        return np.clip(values, -1.0, 1.0)
    if metric.endswith(("_acc", "_f1", "_aa")):
        return np.clip(values, 0.0, 1.0)
    if metric == RUNTIME_METRIC:
        return np.maximum(values, 0.0)
    return values


def noise_draw(entry: Entry, std: np.ndarray, seed: SeedLike) -> np.ndarray:
    """One draw of a run's deviation from the prediction, ``(n,)`` in transformed units."""
    nm = entry.noise_model
    if nm is not None:
        return nm.sample(len(std), seed, kind="single")
    sigma = np.sqrt(std ** 2 + float(entry.noise_std) ** 2)
    return sigma * as_rng(seed).standard_normal(len(std))


def sigma(entry: Entry, std: np.ndarray, kind: str) -> np.ndarray:
    """Standard deviation of one run (``kind="single"``) or of the seed mean (``"mean"``), transformed units."""
    nm = entry.noise_model
    if nm is not None:
        return np.full(len(std), nm.std(kind))
    if kind not in ("mean", "single"):
        raise SurrogateError(f"kind must be 'mean' or 'single'; got {kind!r}")
    return np.sqrt(std ** 2 + (float(entry.noise_std) ** 2 if kind == "single" else 0.0))


def predict_dist(bench: Benchmark, archs: BatchLike, task: str | None, metric: str | None,
                 epoch: int | None, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Benchmark.predict_dist`: mean and spread, each ``(n,)`` (metric units; delta method for ``log``)."""
    batch = bench.space.validate(archs)
    entry, mf_epoch = bench.entry(task, metric, epoch)
    mean, std = bench._dist(entry, batch, mf_epoch)
    s = sigma(entry, std, kind)
    if entry.transform == "log":
        return np.exp(mean), np.exp(mean) * s
    return mean, s


def predict_interval(bench: Benchmark, archs: BatchLike, level: float, task: str | None, metric: str | None,
                     epoch: int | None, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Benchmark.predict_interval`: central ``level`` interval ``(low, high)``, each ``(n,)``."""
    from scipy import stats

    if not 0.0 < float(level) < 1.0:
        raise SurrogateError(f"interval level must lie in (0, 1); got {level}")
    batch = bench.space.validate(archs)
    entry, mf_epoch = bench.entry(task, metric, epoch)
    mean, std = bench._dist(entry, batch, mf_epoch)
    nm = entry.noise_model
    if nm is not None:
        half = np.full(len(mean), nm.interval(float(level), kind))
    else:
        half = float(stats.norm.ppf(0.5 + float(level) / 2.0)) * sigma(entry, std, kind)
    lo, hi = mean - half, mean + half
    if entry.transform == "log":
        lo, hi = np.exp(lo), np.exp(hi)
    return lo, hi


def coverage(bench: Benchmark, batch: np.ndarray, y: np.ndarray, task: str | None, metric: str | None,
             epoch: int | None, kind: str) -> dict[str, float]:
    """Fraction of ``y`` inside the 68 % and 95 % intervals: ``coverage_68``, ``coverage_95``."""
    out = {}
    for level in (0.68, 0.95):
        lo, hi = predict_interval(bench, batch, level, task, metric, epoch, kind)
        out[f"coverage_{round(level * 100)}"] = float(((y >= lo) & (y <= hi)).mean())
    return out
