"""Calibrated predictive noise: conformal model error plus seed-to-seed noise.

A surrogate's prediction ``ŷ`` of an arch's (seed-averaged) metric is wrong
by the *model error* ``r = y - ŷ``; one training run of the arch differs from
its seed average by the *seed noise* ``e``. :class:`NoiseModel` describes both:

- the model error by the out-of-fold residuals of the training set
  (split-conformal: a clone of the model fitted on k-1 folds predicts the
  k-th; :func:`oof_predictions`), kept as a grid of quantiles of the signed
  residual, so intervals need no Gaussian assumption;
- the seed noise by a normal ``N(0, σ_seed²)``, with ``σ_seed`` the pooled
  within-arch standard deviation of repeated runs, or given explicitly for
  a seed-averaged table (e.g. measured from NB201's single-seed table).

``interval(level, kind)`` gives the half-width of the central interval that
holds the seed-averaged value (``kind="mean"``: model error only) or one
run's value (``kind="single"``: model error plus seed noise, the convolution
solved numerically), and ``sample`` draws one run's deviation.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> noise = NoiseModel.from_residuals(rng.normal(0, 0.01, 2000), seed_std=0.0)
>>> abs(noise.interval(0.95, "mean") / 0.01 - 1.96) < 0.1    # ≈ 1.96 σ for normal residuals
True
>>> noise.interval(0.95, "single") == noise.interval(0.95, "mean")   # no seed noise
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._types import SurrogateLike
from ..errors import SurrogateError
from ..spaces.base import SeedLike, as_rng
from .splits import kfold

#: Quantile levels of the signed residual grid that is stored (0.5 % steps; 201 numbers per entry).
GRID = np.linspace(0.0, 1.0, 201)
KINDS = ("mean", "single")


def check_seed_noise(value: Any, where: str = "seed_noise") -> float:
    """``value`` as a finite, non-negative float; raises :class:`SurrogateError` otherwise.

    >>> check_seed_noise(0.0032)
    0.0032
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SurrogateError(f"{where} must be a number (a standard deviation in metric units); "
                             f"got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise SurrogateError(f"{where} must be a finite standard deviation >= 0 (metric units, e.g. 0.0032 for "
                             f"0.32 pp); got {value!r}")
    return v


@dataclass(frozen=True)
class NoiseModel:
    """Model error (quantile grid of signed out-of-fold residuals) plus seed noise ``N(0, seed_std²)``.

    Parameters
    ----------
    quantiles : ndarray
        Signed residual ``y - ŷ`` at the levels :data:`GRID` (non-decreasing, target units).
    seed_std : float
        Seed-to-seed standard deviation (target units; 0 for none).
    n : int
        Number of out-of-fold residuals the grid summarises.
    """

    quantiles: np.ndarray
    seed_std: float = 0.0
    n: int = 0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_residuals(cls, residuals: np.ndarray, seed_std: float = 0.0) -> NoiseModel:
        """Summarise out-of-fold residuals ``y - ŷ`` (any length >= 2)."""
        r = np.asarray(residuals, dtype=np.float64)
        r = r[np.isfinite(r)]
        if len(r) < 2:
            raise SurrogateError(f"a conformal noise model needs at least 2 out-of-fold residuals; got {len(r)}")
        return cls(np.quantile(r, GRID), check_seed_noise(seed_std), int(len(r)))

    # ------------------------------------------------------------ intervals
    def _level(self, level: float) -> float:
        """Finite-sample conformal level ``ceil((n+1)L)/n``, capped at 1."""
        return min(1.0, math.ceil((self.n + 1) * level) / max(self.n, 1))

    def _residuals(self) -> np.ndarray:
        """The residual distribution, rebuilt from the grid (2,001 equally likely values)."""
        return np.interp(np.linspace(0.0, 1.0, 2001), GRID, self.quantiles)

    def interval(self, level: float, kind: str = "single") -> float:
        """Half-width of the central ``level`` interval around the prediction (target units).

        ``kind="mean"`` bounds the seed-averaged value (model error only);
        ``kind="single"`` one run's value (model error plus seed noise).
        """
        if not 0.0 < float(level) < 1.0:
            raise SurrogateError(f"interval level must lie in (0, 1); got {level}")
        if kind not in KINDS:
            raise SurrogateError(f"interval kind must be one of {KINDS}; got {kind!r}")
        key = (float(level), kind)
        if key not in self._cache:
            self._cache[key] = self._interval(float(level), kind)
        return self._cache[key]

    def _interval(self, level: float, kind: str) -> float:
        level = self._level(level)
        r = self._residuals()
        if kind == "mean" or self.seed_std == 0.0:
            return float(np.quantile(np.abs(r), level))
        from scipy import stats

        s = self.seed_std

        def cover(h: float) -> float:
            return float((stats.norm.cdf((h - r) / s) - stats.norm.cdf((-h - r) / s)).mean())

        if level >= 1.0:
            level = 1.0 - 1e-6
        lo, hi = 0.0, float(np.abs(r).max() + 10.0 * s)
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if cover(mid) < level else (lo, mid)
        return hi

    def std(self, kind: str = "single") -> float:
        """Gaussian-equivalent standard deviation: the half-width of the 68.27 % interval."""
        return self.interval(0.6826894921370859, kind)

    def sample(self, n: int, seed: SeedLike = None, kind: str = "single") -> np.ndarray:
        """``n`` draws of the deviation from the prediction (model error, plus seed noise for ``single``)."""
        rng = as_rng(seed)
        out = np.interp(rng.random(n), GRID, self.quantiles)
        if kind == "single" and self.seed_std > 0:
            out = out + self.seed_std * rng.standard_normal(n)
        return out

    # --------------------------------------------------------- serialising
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in an entry's ``info["conformal"]``)."""
        return {"quantiles": [float(v) for v in self.quantiles], "n": int(self.n)}

    @classmethod
    def from_dict(cls, d: Any, seed_std: float = 0.0) -> NoiseModel:
        """Rebuild from :meth:`to_dict`; refuses malformed grids."""
        try:
            q = np.asarray(d["quantiles"], dtype=np.float64)
            n = int(d["n"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SurrogateError(f"conformal noise description is malformed ({exc}); refit the benchmark") from None
        if q.shape != GRID.shape or not np.isfinite(q).all() or (np.diff(q) < 0).any() or n < 2:
            raise SurrogateError(f"conformal noise description is malformed: expected {len(GRID)} non-decreasing "
                                 f"finite quantiles and n >= 2, got {q.shape[0] if q.ndim else 0} values, n={n}")
        return cls(q, check_seed_noise(seed_std), n)


def oof_predictions(model: SurrogateLike, archs: np.ndarray, y: np.ndarray, folds: int = 5,
                    seed: SeedLike = 0) -> np.ndarray:
    """Out-of-fold predictions: fold ``k`` is predicted by a clone of ``model`` fitted on the others.

    Parameters
    ----------
    model : Surrogate
        Template (cloned per fold, never changed).
    archs, y : training set (validated batch, finite targets).
    folds : int
        Number of folds (capped at ``len(y)``).

    Returns
    -------
    ndarray ``(n,)`` float64
    """
    out = np.empty(len(y), dtype=np.float64)
    for tr, te in kfold(len(y), min(int(folds), len(y)), seed=seed):
        out[te] = model.clone().fit(archs[tr], y[tr]).predict(archs[te])
    return out


def conformal_noise(model: SurrogateLike, archs: np.ndarray, y: np.ndarray, seed_std: float = 0.0, folds: int = 5,
                    seed: SeedLike = 0) -> tuple[NoiseModel, np.ndarray]:
    """A :class:`NoiseModel` from ``folds``-fold out-of-fold residuals, and those OOF predictions."""
    oof = oof_predictions(model, archs, y, folds=folds, seed=seed)
    return NoiseModel.from_residuals(y - oof, seed_std=seed_std), oof
