"""Features of the fitness distribution and of its global structure (unit: uniform points).

fitness_mean, fitness_std, fitness_skewness, fitness_quantiles, fitness_gap_best_q99,
fdc_pearson, fdc_spearman (Jones & Forrest 1995), dispersion (Lunacek & Whitley 2006),
persistence_top / persistence_bottom and their AUCs (two fidelities).
Fitness is in the source's units (fractions); distances are Hamming on arch vectors.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from ._base import FeatureSpec, LandscapeData, register


def _f(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    return data.f_points[idx]  # type: ignore[index]


def _skew(x: np.ndarray) -> np.ndarray:
    c = x - x.mean(axis=1, keepdims=True)
    m2 = (c ** 2).mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (c ** 3).mean(axis=1) / m2 ** 1.5


def row_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row pair of two ``(B, m)`` arrays (NaN where undefined)."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc ** 2).sum(axis=1) * (yc ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (xc * yc).sum(axis=1) / np.where(den > 0, den, 1), np.nan)


def se_mean(x: np.ndarray) -> np.ndarray:
    """Standard error of each row's mean of ``(B, m)`` values (fitness units)."""
    return x.std(axis=1, ddof=1) / np.sqrt(x.shape[1])


def se_std(x: np.ndarray) -> np.ndarray:
    """Delta-method standard error of each row's standard deviation: ``s sqrt((m4 / m2^2 - 1) / (4 m))``."""
    c = x - x.mean(axis=1, keepdims=True)
    m2, m4 = (c ** 2).mean(axis=1), (c ** 4).mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return x.std(axis=1, ddof=1) * np.sqrt(np.maximum(m4 / m2 ** 2 - 1.0, 0.0) / (4 * x.shape[1]))


def se_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Delta-method (influence function) standard error of each row pair's Pearson correlation:
    ``sd(u v - r (u^2 + v^2) / 2) / sqrt(m)`` with ``u, v`` the standardised rows (no normality assumed)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        u = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
        v = (y - y.mean(axis=1, keepdims=True)) / y.std(axis=1, keepdims=True)
        r = (u * v).mean(axis=1, keepdims=True)
        return (u * v - r * (u * u + v * v) / 2).std(axis=1) / np.sqrt(x.shape[1])


def quantile_interval(x: np.ndarray, qs: np.ndarray, level: float) -> np.ndarray:
    """Distribution-free ``(K, 2)`` interval of each ``qs`` quantile from order statistics.

    ``[x_(j), x_(u)]`` with ``j = F^-1(a)`` and ``u = F^-1(1 - a) + 1`` (1-based), ``F`` the
    Binomial(n, q) distribution function and ``a = (1 - level) / 2``: each side holds with
    probability >= 1 - a for any continuous fitness distribution (Conover 1999, sec. 3.2),
    whatever its tail. Clipped to the sample's range when ``n`` is too small for that.
    """
    from scipy.stats import binom

    s = np.sort(x)
    n, a = len(s), (1 - level) / 2
    lo = np.clip(binom.ppf(a, n, qs).astype(int) - 1, 0, n - 1)
    hi = np.clip(binom.ppf(1 - a, n, qs).astype(int), 0, n - 1)
    return np.stack([s[lo], s[hi]], axis=1)


def _quantile_interval(data: LandscapeData, rng: np.random.Generator, n_boot: int, level: float):
    qs = np.asarray(data.params["quantiles"], dtype=float)
    keys = [f"{q:g}" for q in data.params["quantiles"]]
    val, ci = np.quantile(data.f_points, qs), quantile_interval(data.f_points, qs, level)  # type: ignore[arg-type]
    return dict(zip(keys, val.tolist())), {k: (float(lo), float(hi)) for k, (lo, hi) in zip(keys, ci)}


def nearest_distance(archs: np.ndarray, targets: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Hamming distance from each arch to the nearest of ``targets``, shape ``(n,)``."""
    out = np.full(len(archs), np.iinfo(np.int64).max, dtype=np.int64)
    for i in range(0, len(targets), chunk):
        t = targets[i:i + chunk]
        d = (archs[:, None, :] != t[None, :, :]).sum(axis=2).min(axis=1)
        np.minimum(out, d, out=out)
    return out


def fdc_reference(data: LandscapeData) -> np.ndarray:
    """Archs FDC measures distance to: ``params["fdc_reference"]`` if set (the verdict sets the
    ground truth's best archs for every landscape it compares), else the data's own best."""
    ref = data.params.get("fdc_reference")
    return data.best_archs if ref is None else np.asarray(ref)  # type: ignore[return-value]


def _dist_best(data: LandscapeData) -> np.ndarray:
    if "dist_best" not in data.cache:
        data.cache["dist_best"] = nearest_distance(data.points, fdc_reference(data)).astype(float)  # type: ignore[arg-type]
        data.cache["rank_f"] = rankdata(data.f_points)
        data.cache["rank_d"] = rankdata(data.cache["dist_best"])
    return data.cache["dist_best"]


def _spearman(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    _dist_best(data)
    return row_corr(data.cache["rank_f"][idx], data.cache["rank_d"][idx])


def _fdc_params(data: LandscapeData) -> dict:
    _dist_best(data)
    ref = data.params.get("fdc_reference")
    return {"best_fitness": data.best_f, "n_best": int(len(fdc_reference(data))),
            "reference": "own best known arch(s)" if ref is None else "given reference archs",
            "distance": "hamming", "ties": "nearest optimum"}


def mean_pairwise_distance(archs: np.ndarray, dims: np.ndarray) -> float:
    """Mean normalised Hamming distance over ordered pairs of distinct members (from per-position counts)."""
    n, d = archs.shape
    if n < 2:
        return float("nan")
    width = int(dims.max())
    codes = (archs + np.arange(d)[None, :] * width).ravel()
    cnt = np.bincount(codes, minlength=d * width).reshape(d, width).astype(float)
    same = (cnt * (cnt - 1)).sum(axis=1) / (n * (n - 1))
    return float((1.0 - same).mean())


def dispersion_of(archs: np.ndarray, f: np.ndarray, q: float, dims: np.ndarray) -> float:
    """Lunacek-Whitley dispersion: mean distance among the best ``q`` fraction minus among all."""
    k = max(2, int(np.ceil(q * len(f))))
    top = np.argpartition(-f, k - 1)[:k] if k < len(f) else np.arange(len(f))
    return mean_pairwise_distance(archs[top], dims) - mean_pairwise_distance(archs, dims)


def _dispersion(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    dims = np.asarray(data.space.dims)
    q = data.params["dispersion_q"]
    return np.array([dispersion_of(data.points[r], data.f_points[r], q, dims) for r in idx])  # type: ignore[index]


def overlap_curve(f1: np.ndarray, f2: np.ndarray, fracs: np.ndarray, top: bool = True) -> np.ndarray:
    """Row-wise overlap of the top (or bottom) ``frac`` sets of ``f1`` and ``f2``, shape ``(B, K)``."""
    s = -1.0 if top else 1.0
    m = f1.shape[1]
    o1 = np.argsort(s * f1, axis=1, kind="stable")
    r2 = np.argsort(np.argsort(s * f2, axis=1, kind="stable"), axis=1)
    x = np.maximum(np.take_along_axis(r2, o1, axis=1), np.arange(m)[None, :])  # item i in both top-k iff x < k
    ks = np.maximum(1, np.round(fracs * m).astype(int))
    xs = np.sort(x, axis=1)
    return np.stack([(xs < k).sum(axis=1) / k for k in ks], axis=1)


def _persistence(top: bool):
    def stat(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
        fr = np.asarray(data.params["persistence_pcts"], dtype=float) / 100.0
        return overlap_curve(data.f_points[idx], data.f2_points[idx], fr, top)  # type: ignore[index]
    return stat


_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy >= 2 / < 2


def curve_auc(curve: np.ndarray, pcts: np.ndarray) -> np.ndarray:
    """Area under overlap curves ``(B, K)`` over ``pcts``, normalised by the pct range (so in [0, 1])."""
    x = np.asarray(pcts, dtype=float)
    if len(x) == 1:
        return curve[:, 0]
    return _trapezoid(curve, x, axis=1) / (x[-1] - x[0])


def _persistence_auc(top: bool):
    inner = _persistence(top)

    def stat(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
        return curve_auc(inner(data, idx), np.asarray(data.params["persistence_pcts"]))
    return stat


def _has_f2(data: LandscapeData) -> bool:
    return data.f2_points is not None


def _pcts(data: LandscapeData) -> list[str]:
    return [f"{p:g}" for p in data.params["persistence_pcts"]]


def _persist_params(data: LandscapeData) -> dict:
    return {"percent": list(data.params["persistence_pcts"]), "second": data.params.get("second_name"),
            "overlap": "|top_N%(f1) & top_N%(f2)| / |top_N%|"}


register(FeatureSpec("fitness_mean", "points", lambda d, i: _f(d, i).mean(axis=1),
                     "mean fitness of uniformly sampled archs (fitness units)", se=lambda d, i: se_mean(_f(d, i))))
register(FeatureSpec("fitness_std", "points", lambda d, i: _f(d, i).std(axis=1, ddof=1),
                     "standard deviation of fitness (fitness units)", params=lambda d: {"ddof": 1},
                     # from 200 points: with 100 points and a 2 % cluster of failed archs the
                     # log-scale bootstrap-t's upper bound can exceed 1 (no coverage gained)
                     se=lambda d, i: se_std(_f(d, i)), transform="log", min_studentized=200))
register(FeatureSpec("fitness_skewness", "points", lambda d, i: _skew(_f(d, i)),
                     "skewness of the fitness distribution (dimensionless)"))
register(FeatureSpec(
    "fitness_quantiles", "points",
    lambda d, i: np.quantile(_f(d, i), d.params["quantiles"], axis=1).T,
    "quantiles of the fitness distribution (fitness units); CI from order statistics (binomial)",
    keys=lambda d: [f"{q:g}" for q in d.params["quantiles"]], interval=_quantile_interval,
    params=lambda d: {"ci": "order statistics (binomial), distribution-free"}))
register(FeatureSpec(
    "fitness_gap_best_q99", "points",
    lambda d, i: d.best_f - np.quantile(_f(d, i), 0.99, axis=1),
    "best fitness seen anywhere minus the 99th percentile of the distribution (fitness units)",
    params=lambda d: {"best_fitness": d.best_f}))
register(FeatureSpec(
    "fdc_pearson", "points",
    lambda d, i: row_corr(d.f_points[i], _dist_best(d)[i]),  # type: ignore[index]
    "Pearson correlation of fitness with Hamming distance to the nearest best arch (-1: ideal for maximisation)",
    params=_fdc_params, transform="fisher",
    se=lambda d, i: se_corr(d.f_points[i], _dist_best(d)[i])))  # type: ignore[index]
register(FeatureSpec(
    "fdc_spearman", "points",
    lambda d, i: _spearman(d, i),
    "Spearman correlation of fitness with distance to the nearest best arch "
    "(bootstrap on the full sample's average ranks)",
    params=_fdc_params))
register(FeatureSpec(
    "dispersion", "points", _dispersion,
    "mean normalised Hamming distance among the best q fraction minus among all sampled archs "
    "(< 0: good archs cluster)",
    params=lambda d: {"q": d.params["dispersion_q"], "distance": "hamming / n_dims"}))
for _top, _nm in ((True, "top"), (False, "bottom")):
    register(FeatureSpec(f"persistence_{_nm}", "points", _persistence(_top),
                         f"overlap of the {_nm}-N% archs under two fidelities, per N (fraction)",
                         keys=_pcts, available=_has_f2, params=_persist_params))
    register(FeatureSpec(f"persistence_{_nm}_auc", "points", _persistence_auc(_top),
                         f"area under the {_nm}-N% overlap curve, normalised to [0, 1]",
                         available=_has_f2, params=_persist_params))
