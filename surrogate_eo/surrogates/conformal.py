"""Calibrated predictive noise: conformal model error plus seed-to-seed noise.

A surrogate's prediction ``ŷ`` of an arch's (seed-averaged) metric is wrong
by the *model error* ``r = y - ŷ``; one training run of the arch differs from
its seed average by the *seed noise* ``e``. :class:`NoiseModel` describes both:

- the model error by the out-of-fold residuals of the training set
  (split-conformal: a clone of the model fitted on k-1 folds predicts the
  k-th; :func:`oof_predictions`), kept as a grid of quantiles of the signed
  residual, so intervals need no Gaussian assumption;
- the seed noise by the *measured distribution* of one run's deviation from
  its arch's seed mean (a quantile grid of ``y_run - mean(y_arch)`` over the
  repeated archs of a database, or over a sample given explicitly, e.g.
  NB201's single-seed minus averaged values), or, when only a number is
  known, by a normal ``N(0, σ_seed²)``. Seed noise is heavy-tailed (a few
  diverged runs): a normal with the same standard deviation is too wide in
  the middle, and its 68 % intervals over-cover on NB201
  (``paper/generated/nb201_surrogates_calibration.tex``).

``interval(level, kind)`` gives the half-width of the central interval that
holds the seed-averaged value (``kind="mean"``: model error only) or one
run's value (``kind="single"``), and ``sample`` draws one run's deviation.
For one run the best evidence is direct: when single runs of the training
archs are known (a database's per-seed rows, a table's single-seed column),
the quantiles of ``y_run - ŷ_oof(arch)`` are kept (``single_quantiles``)
and used alone (split-conformal for one run: it needs no assumption on how
model error and seed noise combine; on NB201 the convolution below
over-covers a little, the direct grid does not). Otherwise the model error
and the seed noise are convolved numerically, assuming they are independent.

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
from dataclasses import dataclass, field, replace
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


def seed_grid(deviations: Any, where: str = "seed noise deviations") -> np.ndarray:
    """Quantile grid (levels :data:`GRID`) of measured seed deviations ``y_run - mean(y_arch)`` (metric units).

    Raises :class:`SurrogateError` unless ``deviations`` is a 1-D array of at least 10 finite numbers.

    >>> g = seed_grid([-0.002, -0.001, 0.0, 0.0, 0.0, 0.0, 0.001, 0.001, 0.002, 0.004])
    >>> round(float(g[0]), 4), round(float(g[100]), 4), round(float(g[-1]), 4)
    (-0.002, 0.0, 0.004)
    """
    try:
        d = np.asarray(deviations, dtype=np.float64)
    except (TypeError, ValueError):
        raise SurrogateError(f"{where} must be a 1-D array of numbers (metric units); "
                             f"got {type(deviations).__name__}") from None
    if d.ndim != 1 or len(d) < 10 or not np.isfinite(d).all():
        raise SurrogateError(f"{where} must be a 1-D array of at least 10 finite numbers (one run minus its arch's "
                             f"seed mean, metric units); got shape {d.shape}, "
                             f"{int((~np.isfinite(d)).sum()) if d.size else 0} non-finite")
    return np.quantile(d, GRID)


def seed_noise_spec(value: Any, where: str = "seed_noise") -> tuple[float, np.ndarray | None]:
    """``(seed_std, seed_quantiles)`` from a number (a normal's std) or from measured deviations (an array).

    >>> seed_noise_spec(0.0032)
    (0.0032, None)
    >>> std, grid = seed_noise_spec(np.linspace(-0.01, 0.01, 11))
    >>> round(std, 4), grid.shape
    (0.0063, (201,))
    """
    if np.ndim(value) == 0:
        return check_seed_noise(value, where), None
    grid = seed_grid(value, where)
    return float(np.std(np.asarray(value, dtype=np.float64))), grid


def noise_info(seed_std: float, seed_quantiles: np.ndarray | None, n_repeated: int, source: str) -> dict[str, Any]:
    """An entry's JSON-ready ``info["noise"]``: σ_seed, the measured grid (if any), its source."""
    out: dict[str, Any] = {"noise_std": float(seed_std), "n_archs_repeated": int(n_repeated), "source": source}
    if seed_quantiles is not None:
        out["quantiles"] = [float(v) for v in seed_quantiles]
    return out


@dataclass(frozen=True)
class NoiseModel:
    """Model error (quantile grid of signed out-of-fold residuals) plus seed noise.

    Parameters
    ----------
    quantiles : ndarray
        Signed residual ``y - ŷ`` at the levels :data:`GRID` (non-decreasing, target units).
    seed_std : float
        Seed-to-seed standard deviation (target units; 0 for none). Used as ``N(0, seed_std²)``
        when ``seed_quantiles`` is None.
    n : int
        Number of out-of-fold residuals the grid summarises.
    seed_quantiles : ndarray or None
        Measured seed deviation (one run minus its arch's seed mean) at the levels :data:`GRID`
        (target units; :func:`seed_grid`); when given it replaces the normal.
    single_quantiles : ndarray or None
        Signed single-run residual ``y_run - ŷ_oof(arch)`` over the runs of the training archs
        (levels :data:`GRID`, target units): split-conformal for one run's value, with no
        assumption on how model error and seed noise combine. When given, ``kind="single"``
        uses it alone. ``n_single`` runs.
    """

    quantiles: np.ndarray
    seed_std: float = 0.0
    n: int = 0
    seed_quantiles: np.ndarray | None = None
    single_quantiles: np.ndarray | None = None
    n_single: int = 0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_residuals(cls, residuals: np.ndarray, seed_std: float = 0.0,
                       seed_quantiles: np.ndarray | None = None) -> NoiseModel:
        """Summarise out-of-fold residuals ``y - ŷ`` (any length >= 2); seed noise as in the class."""
        r = np.asarray(residuals, dtype=np.float64)
        r = r[np.isfinite(r)]
        if len(r) < 2:
            raise SurrogateError(f"a conformal noise model needs at least 2 out-of-fold residuals; got {len(r)}")
        return cls(np.quantile(r, GRID), check_seed_noise(seed_std), int(len(r)), _check_grid(seed_quantiles))

    # ------------------------------------------------------------ intervals
    def with_single_runs(self, residuals: np.ndarray) -> NoiseModel:
        """A copy whose single-run intervals come from ``residuals = y_run - ŷ_oof(arch)`` (>= 10 finite)."""
        r = np.asarray(residuals, dtype=np.float64)
        r = r[np.isfinite(r)]
        return replace(self, single_quantiles=seed_grid(r, "single-run residuals"), n_single=int(len(r)), _cache={})

    @staticmethod
    def _level(level: float, n: int) -> float:
        """Finite-sample conformal level ``ceil((n+1)L)/n``, capped at 1."""
        return min(1.0, math.ceil((n + 1) * level) / max(n, 1))

    @staticmethod
    def _values(grid: np.ndarray) -> np.ndarray:
        """A distribution rebuilt from its grid (2,001 equally likely values)."""
        return np.interp(np.linspace(0.0, 1.0, 2001), GRID, grid)

    def _residuals(self) -> np.ndarray:
        """The model-error distribution (2,001 equally likely values)."""
        return self._values(self.quantiles)

    @property
    def has_seed_noise(self) -> bool:
        """Whether one run's value scatters around its seed mean (a measured grid or ``seed_std > 0``)."""
        return self.single_quantiles is not None or self.seed_quantiles is not None or self.seed_std > 0.0

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
        if kind == "single" and self.single_quantiles is not None:  # never narrower than for the seed mean
            single = float(np.quantile(np.abs(self._values(self.single_quantiles)), self._level(level, self.n_single)))
            return max(single, self.interval(level, "mean"))
        level = self._level(level, self.n)
        r = self._residuals()
        if kind == "mean" or not self.has_seed_noise:
            return float(np.quantile(np.abs(r), level))
        if self.seed_quantiles is not None:  # both measured: the convolution on a 2,001 x 401 grid of sums
            e = np.interp(np.linspace(0.0, 1.0, 401), GRID, self.seed_quantiles)
            return float(np.quantile(np.abs(r[:, None] + e[None, :]), level))
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
        if kind == "single" and self.single_quantiles is not None:
            return np.interp(rng.random(n), GRID, self.single_quantiles)
        out = np.interp(rng.random(n), GRID, self.quantiles)
        if kind == "single" and self.seed_quantiles is not None:
            out = out + np.interp(rng.random(n), GRID, self.seed_quantiles)
        elif kind == "single" and self.seed_std > 0:
            out = out + self.seed_std * rng.standard_normal(n)
        return out

    # --------------------------------------------------------- serialising
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in an entry's ``info["conformal"]``)."""
        out: dict[str, Any] = {"quantiles": [float(v) for v in self.quantiles], "n": int(self.n)}
        if self.single_quantiles is not None:
            out.update(single_quantiles=[float(v) for v in self.single_quantiles], n_single=int(self.n_single))
        return out

    @classmethod
    def from_dict(cls, d: Any, seed_std: float = 0.0, seed_quantiles: Any = None) -> NoiseModel:
        """Rebuild from :meth:`to_dict` (and the entry's seed grid, if any); refuses malformed grids."""
        try:
            q, n = _check_grid(d["quantiles"], "conformal noise"), int(d["n"])
            single = _check_grid(d.get("single_quantiles"), "single-run residual")
            n_single = int(d.get("n_single", 0)) if single is not None else 0
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise SurrogateError(f"conformal noise description is malformed ({exc}); refit the benchmark") from None
        if q is None or n < 2 or (single is not None and n_single < 10):
            raise SurrogateError(f"conformal noise description is malformed: n={n}, n_single={n_single} (expected "
                                 ">= 2 residuals and >= 10 single runs); refit the benchmark")
        return cls(q, check_seed_noise(seed_std), n, _check_grid(seed_quantiles, "seed-noise"), single, n_single)


def _check_grid(grid: Any, what: str = "seed-noise") -> np.ndarray | None:
    """A stored quantile grid (:data:`GRID` levels, non-decreasing, finite) or None; else SurrogateError."""
    if grid is None:
        return None
    try:
        q = np.asarray(grid, dtype=np.float64)
    except (TypeError, ValueError):
        q = np.empty(0)
    if q.shape != GRID.shape or not np.isfinite(q).all() or (np.diff(q) < 0).any():
        raise SurrogateError(f"{what} quantile grid is malformed: expected {len(GRID)} non-decreasing finite values, "
                             f"got shape {q.shape}; refit the benchmark or set the seed noise again")
    return q


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
                    seed: SeedLike = 0, seed_quantiles: np.ndarray | None = None) -> tuple[NoiseModel, np.ndarray]:
    """A :class:`NoiseModel` from ``folds``-fold out-of-fold residuals, and those OOF predictions."""
    oof = oof_predictions(model, archs, y, folds=folds, seed=seed)
    return NoiseModel.from_residuals(y - oof, seed_std=seed_std, seed_quantiles=seed_quantiles), oof
