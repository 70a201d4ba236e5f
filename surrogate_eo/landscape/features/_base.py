"""The landscape-feature contract: a result record, a spec, the registry and the bootstrap.

Every feature is a :class:`FeatureSpec` whose ``stat(data, idx)`` computes the
statistic on resampled units: ``idx`` is an ``(B, m)`` int array of unit
indices (points, walks, centres, climbs, ...), and the answer has shape
``(B,)`` for a scalar feature or ``(B, K)`` for a map-valued one (keys from
``spec.keys(data)``). The estimate is ``stat`` on all units; its confidence
interval is a percentile bootstrap over units. When there are more than
``boot_max`` units, each replicate draws ``m = boot_max`` of them and
deviations from the estimate are shrunk by ``sqrt(m / n)`` (the m-out-of-n
bootstrap), which keeps a 10^5-sample footprint cheap. With few units (walks,
neighbourhoods) the interval is widened by ``sqrt(n / (n - 1))`` and a Student-t
tail (see :func:`percentile_ci`). A spec with a standard-error function ``se``
(delta method or a delete-one-unit jackknife) gets a studentised bootstrap
(bootstrap-t, :func:`studentized_ci`) instead, optionally on a variance-stabilising
scale (log, Fisher z), once it has ``min_studentized`` units: on NB201's heavy left
tail (a cluster of failed archs near 10 % accuracy) the percentile interval of the
mean, std, Pearson FDC and rho(1) under-covers. docs/landscape.md reports the
measured coverage (evaluation/verdict_coverage.py).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from ...errors import LandscapeError, shown
from ...spaces import SearchSpace

Value = Union[float, dict[str, float]]
CI = Union[tuple[float, float], dict[str, tuple[float, float]]]

#: Upper bound on ``B * m`` elements materialised at once by a bootstrap.
_CHUNK_ELEMS = 2_000_000


def _num(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Feature:
    """One landscape feature: value, bootstrap CI, number of units, parameters used.

    ``value`` is a float, or a map ``key -> float`` (e.g. epsilon -> fraction);
    ``ci`` then has the same shape: ``(lo, hi)`` or ``key -> (lo, hi)``.
    Exact features have ``ci == (value, value)`` and ``params["exact"] = True``.
    """

    name: str
    value: Value
    ci: CI
    n: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"value", "ci", "n", "params"}`` with NaN/inf as null (JSON-ready)."""
        if isinstance(self.value, dict):
            value: Any = {k: _num(v) for k, v in self.value.items()}
            ci: Any = {k: [_num(lo), _num(hi)] for k, (lo, hi) in self.ci.items()}  # type: ignore[union-attr]
        else:
            value = _num(self.value)
            lo, hi = self.ci  # type: ignore[misc]
            ci = [_num(lo), _num(hi)]
        return {"value": value, "ci": ci, "n": int(self.n), "params": _jsonable(self.params)}

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> Feature:
        """Inverse of :meth:`to_dict` (null back to NaN)."""
        try:
            def f(v: Any) -> float:
                return float("nan") if v is None else float(v)

            if isinstance(d["value"], dict):
                value: Value = {k: f(v) for k, v in d["value"].items()}
                ci: CI = {k: (f(a), f(b)) for k, (a, b) in d["ci"].items()}
                if set(ci) != set(value):
                    raise ValueError("value and ci have different keys")
            else:
                value, ci = f(d["value"]), (f(d["ci"][0]), f(d["ci"][1]))
            return cls(name, value, ci, int(d["n"]), dict(d.get("params", {})))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
            raise LandscapeError(f"feature {shown(name, 60)}: malformed record {shown(d, 100)} ({shown(str(exc), 80)}); "
                                 "expected value, ci [lo, hi], n, params") from None


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return _num(x)
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    return x


@dataclass
class LandscapeData:
    """Sampled archs and their fitness, by stratum, plus analysis parameters.

    Any stratum may be missing (None); features needing it are skipped.
    ``best_f`` / ``best_archs`` are the best fitness seen anywhere in the data
    and every arch that attains it (for FDC and the gap).
    """

    space: SearchSpace
    name: str
    params: dict[str, Any]
    points: np.ndarray | None = None
    f_points: np.ndarray | None = None
    f2_points: np.ndarray | None = None
    walks: np.ndarray | None = None
    f_walks: np.ndarray | None = None
    centres: np.ndarray | None = None
    f_centres: np.ndarray | None = None
    f_nbrs: np.ndarray | None = None
    edges_f: np.ndarray | None = None
    climbs: Any = None
    neutral_lengths: np.ndarray | None = None
    best_f: float = float("nan")
    best_archs: np.ndarray | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def n_units(self, unit: str) -> int:
        """Number of resampling units of kind ``unit`` (0 when the stratum is missing)."""
        arr = {"points": self.f_points, "walks": self.f_walks, "centres": self.f_centres,
               "edges": self.edges_f, "neutral": self.neutral_lengths,
               "climbs": None if self.climbs is None else self.climbs.optimum_fitness}[unit]
        return 0 if arr is None else int(len(arr))


Stat = Callable[[LandscapeData, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FeatureSpec:
    """How to compute one feature from :class:`LandscapeData`.

    Attributes
    ----------
    name : str
        Feature name (JSON key).
    unit : str
        Resampling unit: points, walks, centres, edges, climbs or neutral.
    stat : callable
        ``stat(data, idx (B, m)) -> (B,) or (B, K)``.
    description : str
        One line, with units.
    keys : callable, optional
        ``keys(data) -> list[str]`` for a map-valued feature.
    available : callable, optional
        ``available(data) -> bool``; defaults to "the unit's stratum is present".
    params : callable, optional
        ``params(data) -> dict`` of the parameters to record.
    interval : callable, optional
        ``interval(data, rng, n_boot, level) -> (value, ci)`` replacing the bootstrap.
    fallback : FeatureSpec, optional
        Same feature from another stratum, used when this one's is missing
        (e.g. rho(1) from neighbour pairs when there are no walks).
    pairable : bool
        Whether ``stat`` on shared resamples gives a paired difference (False
        for features such as the birthday estimate that only have ``interval``).
    exact : callable, optional
        ``exact(data) -> value`` (float, or ``{key: float}`` for a map feature): the
        population value on a complete enumeration (``data.cache["exact"]``, see
        :mod:`..exact`), for a feature whose sampled estimator does not become exact
        on all archs (e.g. walk features); see :func:`exact_impl`.
    se : callable, optional
        ``se(data, idx (B, m)) -> (B,) or (B, K)``: standard error of ``stat`` on each
        resample row (delta method or jackknife). With it the CI is a studentised
        bootstrap (bootstrap-t, :func:`studentized_ci`) instead of a percentile one.
    transform : str, optional
        ``"log"`` or ``"fisher"`` (atanh): the scale on which the bootstrap-t is built
        (``se`` stays on the feature's own scale; the interval is mapped back).
    min_studentized : int
        Fewest units for the bootstrap-t (with fewer: the percentile interval).
    """

    name: str
    unit: str
    stat: Stat
    description: str
    keys: Callable[[LandscapeData], list[str]] | None = None
    available: Callable[[LandscapeData], bool] | None = None
    params: Callable[[LandscapeData], dict[str, Any]] | None = None
    interval: Callable[..., tuple[Value, CI]] | None = None
    fallback: FeatureSpec | None = None
    pairable: bool = True
    exact: Callable[[LandscapeData], Value] | None = None
    se: Stat | None = None
    transform: str | None = None
    min_studentized: int = 10

    def resolve(self, data: LandscapeData) -> FeatureSpec | None:
        """This spec, or its fallback, whichever ``data`` supports (None if neither)."""
        if self.is_available(data):
            return self
        return self.fallback.resolve(data) if self.fallback is not None else None

    def is_available(self, data: LandscapeData) -> bool:
        if self.exact is not None and data.cache.get("exact") is not None:
            return True
        if data.n_units(self.unit) == 0:
            return False
        return True if self.available is None else bool(self.available(data))


REGISTRY: dict[str, FeatureSpec] = {}


def exact_impl(name: str) -> Callable[[LandscapeData], Value]:
    """``FeatureSpec.exact`` calling ``surrogate_eo.landscape.exact.<name>(data)`` (imported when called:
    :mod:`..exact` imports this package)."""
    def call(data: LandscapeData) -> Value:
        from .. import exact

        return getattr(exact, name)(data)

    return call


def register(spec: FeatureSpec) -> FeatureSpec:
    """Add ``spec`` to :data:`REGISTRY` (names are unique)."""
    if spec.name in REGISTRY:
        raise LandscapeError(f"landscape feature {spec.name!r} is registered twice")
    REGISTRY[spec.name] = spec
    return spec


def counts_matrix(idx: np.ndarray, n: int) -> np.ndarray:
    """``(B, n)`` multiplicities of each unit in each resample row of ``idx``."""
    B = idx.shape[0]
    out = np.zeros((B, n))
    np.add.at(out, (np.repeat(np.arange(B), idx.shape[1]), idx.ravel()), 1.0)
    return out


def jackknife_se(stat_counts: Callable[[np.ndarray], np.ndarray], cm: np.ndarray) -> np.ndarray:
    """Delete-one jackknife standard error of a statistic of unit multiplicities, per resample row.

    ``stat_counts(counts (R, n)) -> (R, K)``; ``cm`` is ``(B, n)`` (see :func:`counts_matrix`).
    Deleting any one of the ``c_j`` copies of unit ``j`` gives the same value, so row ``b`` needs
    only its distinct units: ``se^2 = (m - 1) / m * sum_j c_j (theta_(j) - theta_bar)^2``.
    Returns ``(B, K)``.
    """
    B, n = cm.shape
    step = max(1, _CHUNK_ELEMS // (n * n))
    if B > step:  # bounded memory: (rows, n, n) leave-one-out counts at a time
        return np.concatenate([jackknife_se(stat_counts, cm[i:i + step]) for i in range(0, B, step)], axis=0)
    m = cm.sum(axis=1)
    loo = (cm[:, None, :] - np.eye(n)[None, :, :]).reshape(B * n, n)
    th = np.asarray(stat_counts(np.maximum(loo, 0.0)), dtype=float).reshape(B, n, -1)
    w = cm[:, :, None]
    with np.errstate(invalid="ignore"):
        th = np.where(w > 0, th, 0.0)
        bar = (w * th).sum(axis=1) / m[:, None]
        return np.sqrt((m[:, None] - 1) / m[:, None] * (w * (th - bar[:, None, :]) ** 2).sum(axis=1))


def run_stat(spec: FeatureSpec, data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    """``spec.stat`` on ``idx`` in row chunks that keep memory bounded; always 2-D ``(B, K)``."""
    step = max(1, _CHUNK_ELEMS // max(idx.shape[1], 1))
    parts = [np.asarray(spec.stat(data, idx[i:i + step]), dtype=float) for i in range(0, len(idx), step)]
    out = np.concatenate(parts, axis=0)
    return out.reshape(len(idx), -1)


def full_idx(n: int) -> np.ndarray:
    return np.arange(n)[None, :]


def resample(rng: np.random.Generator, n: int, n_boot: int, boot_max: int) -> tuple[np.ndarray, float]:
    """``(idx (B, m), scale)`` for an m-out-of-n bootstrap with ``m = min(n, boot_max)``."""
    m = min(n, boot_max)
    return rng.integers(0, n, size=(n_boot, m)), math.sqrt(m / n)


def percentile_ci(full: np.ndarray, reps: np.ndarray, scale: float, level: float,
                  n: int | None = None) -> np.ndarray:
    """``(K, 2)`` percentile interval ``full + scale * quantiles(reps - full)``, NaN-tolerant.

    With ``n`` (resampling units), deviations are widened by
    :func:`~surrogate_eo.landscape.simultaneous.marginal_factor` (``sqrt(n/(n-1))`` and a
    Student-t tail with ``n - 1`` degrees of freedom): the plain percentile bootstrap
    under-covers with few walks or neighbourhoods.
    """
    from ..simultaneous import marginal_factor

    if n is not None and scale >= 1:
        scale = scale * marginal_factor(n, level)
    a = (1 - level) / 2
    dev = reps - full[None, :]
    out = np.full((full.shape[0], 2), np.nan)
    ok = ~np.all(np.isnan(dev), axis=0)
    if ok.any():
        with np.errstate(invalid="ignore"):  # inf replicates (e.g. a correlation length at rho = 0)
            q = np.nanquantile(dev[:, ok], [a, 1 - a], axis=0)
            out[ok] = (full[ok][None, :] + scale * q).T
    return out


#: Variance-stabilising transforms for :func:`studentized_ci`: (g, g', inverse of g).
_TRANSFORMS: dict[str | None, tuple[Callable, Callable, Callable]] = {
    None: (lambda x: x, lambda x: np.ones_like(x), lambda x: x),
    "log": (np.log, lambda x: 1.0 / x, np.exp),
    "fisher": (np.arctanh, lambda x: 1.0 / (1.0 - x * x), np.tanh),
}


def studentized_ci(full: np.ndarray, se_full: np.ndarray, reps: np.ndarray, se_reps: np.ndarray, level: float,
                   transform: str | None = None) -> np.ndarray:
    """``(K, 2)`` bootstrap-t interval on the scale ``g = transform``, mapped back.

    ``t* = (g(rep) - g(full)) / (se_rep g'(rep))`` over the replicates; the interval is
    ``g^-1(g(full) - q_{1-a}(t*) se g'(full)), g^-1(g(full) - q_a(t*) se g'(full))`` (Efron &
    Tibshirani 1993, ch. 12). A replicate with zero standard error counts as ``t* = 0``
    when it equals the estimate and ``+-inf`` otherwise (an unbounded side, not a dropped draw).
    """
    g, dg, inv = _TRANSFORMS[transform]
    a = (1 - level) / 2
    out = np.full((full.shape[0], 2), np.nan)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        gf, sf = g(full), se_full * np.abs(dg(full))
        dev = g(reps) - gf[None, :]
        sr = se_reps * np.abs(dg(reps))
        t = np.where(sr > 0, dev / np.where(sr > 0, sr, 1.0), np.where(dev == 0, 0.0, np.sign(dev) * np.inf))
        t[~np.isfinite(dev)] = np.nan
        ok = ~np.all(np.isnan(t), axis=0) & np.isfinite(gf) & np.isfinite(sf)
        if ok.any():
            q = np.stack([np.nanquantile(t[:, ok], 1 - a, axis=0, method="higher"),
                          np.nanquantile(t[:, ok], a, axis=0, method="lower")])
            bounds = gf[ok][None, :] - q * sf[ok][None, :]
            bounds = np.where(np.isnan(bounds), gf[ok][None, :], bounds)  # 0 * inf: a zero-width side
            out[ok] = inv(bounds).T
    return out


def pack(spec: FeatureSpec, data: LandscapeData, full: np.ndarray, ci: np.ndarray, n: int,
         extra: dict[str, Any] | None = None) -> Feature:
    """Build a :class:`Feature` from a ``(K,)`` estimate and ``(K, 2)`` interval."""
    params = dict(spec.params(data)) if spec.params else {}
    params.update(extra or {})
    if spec.keys is None:
        return Feature(spec.name, float(full[0]), (float(ci[0, 0]), float(ci[0, 1])), n, params)
    keys = spec.keys(data)
    return Feature(spec.name, {k: float(v) for k, v in zip(keys, full)},
                   {k: (float(lo), float(hi)) for k, (lo, hi) in zip(keys, ci)}, n, params)


def estimate(spec: FeatureSpec, data: LandscapeData, rng: np.random.Generator, n_boot: int = 200,
             level: float = 0.95, boot_max: int = 5000) -> Feature:
    """Value and bootstrap CI of ``spec`` on ``data``."""
    n = data.n_units(spec.unit)
    extra = {"ci_level": level, "n_boot": n_boot}
    if spec.interval is not None:
        value, ci = spec.interval(data, rng, n_boot, level)
        keys = spec.keys(data) if spec.keys else None
        full = np.array([value[k] for k in keys]) if keys else np.array([value])
        cia = np.array([ci[k] for k in keys]) if keys else np.array([ci])
        return pack(spec, data, full, cia, n, extra)
    full = run_stat(spec, data, full_idx(n))[0]
    idx, scale = resample(rng, n, n_boot, boot_max)
    reps = run_stat(spec, data, idx)
    if scale < 1:
        extra["boot_subsample"] = int(idx.shape[1])
    if spec.se is not None and scale >= 1 and n >= spec.min_studentized:
        se_full = np.asarray(spec.se(data, full_idx(n)), dtype=float).reshape(1, -1)[0]
        se_reps = np.concatenate([np.asarray(spec.se(data, idx[i:i + 1000]), dtype=float).reshape(
            len(idx[i:i + 1000]), -1) for i in range(0, len(idx), 1000)], axis=0)
        ci = studentized_ci(full, se_full, reps, se_reps, level, spec.transform)
        bad = np.isnan(ci).any(axis=1)  # e.g. r = +-1 on the Fisher scale, or a zero std on the log scale
        if not bad.all():
            if bad.any():
                ci[bad] = percentile_ci(full, reps, scale, level, n)[bad]
            extra["ci"] = "studentised bootstrap over units" + (f" on the {spec.transform} scale" if spec.transform
                                                                 else "")
            return pack(spec, data, full, ci, n, extra)
    extra["ci"] = "percentile bootstrap over units, small-sample t widening"
    return pack(spec, data, full, percentile_ci(full, reps, scale, level, n), n, extra)
