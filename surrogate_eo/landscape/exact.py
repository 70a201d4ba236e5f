"""Exact landscape features of a finite space whose every arch has a known fitness.

With ``f`` over all of ``space.enumerate()`` and the regular one-step
neighbourhood graph (degree ``D``):

- FDC over all archs (distance to the nearest of the tied global optima);
- the stationary random walk's autocorrelation ``rho(s) = g' P^s g / (N var f)``
  with ``g = f - mean f`` and ``P = A / D``; for ``s = 1`` this is
  ``1 - E[(f(x) - f(y))**2] / (2 var f)`` over all neighbour pairs;
- neutrality over all neighbour pairs, for each eps;
- the number of strict local optima (better than every neighbour), and the
  plateau-aware count (connected sets of equal-fitness neighbours with no
  strictly better neighbour count once, GraphFLA's convention);
- information content H(eps) over all two-step walks (stationary start);
- dispersion of the best q fraction, distribution moments and quantiles, and
  persistence over all archs.

:func:`exact_features` computes them through the feature registry, like sampled
mode: :func:`complete_data` makes every arch a point and a centre and every
neighbour pair an edge, so each registered statistic on all units is the
population value; walk features (and the optima count) use their
``FeatureSpec.exact`` callables, implemented here (``exact_*_of``). The
closed-form helpers below are what those callables and the tests use.

>>> from surrogate_eo.landscape.nk import OneMax
>>> om = OneMax(6)
>>> f = om.fitness(om.space.enumerate())
>>> round(exact_fdc(om.space, om.space.enumerate(), f)[0], 6)
-1.0
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import rankdata

from ..errors import LandscapeError
from ..spaces import SearchSpace
from .features import REGISTRY, Feature, LandscapeData
from .features._base import full_idx, pack, run_stat
from .features.distribution import nearest_distance
from .features.ruggedness import entropy_from_counts, symbols

#: Largest ``size * degree`` the exact path materialises (int64 neighbour table).
EXACT_LIMIT = 50_000_000


def neighbour_table(space: SearchSpace) -> tuple[np.ndarray, np.ndarray]:
    """``(archs (N, d), nbr (N, D))``: every arch in enumerate order and its neighbours' rows."""
    if space.size * space.degree > EXACT_LIMIT:
        raise LandscapeError(
            f"space {space.name!r} has {space.size:,} archs x {space.degree} neighbours, more than the exact "
            f"path handles ({EXACT_LIMIT:,} pairs); drop --exact and sample instead"
        )
    archs = space.enumerate()
    nbr = space.enumeration_index(space.neighbours_batch(archs).reshape(-1, space.n_dims))
    return archs, nbr.reshape(len(archs), space.degree)


def exact_fdc(space: SearchSpace, archs: np.ndarray, f: np.ndarray) -> tuple[float, float, int]:
    """``(pearson, spearman, n_optima)`` of fitness vs Hamming distance to the nearest global optimum."""
    best = archs[f == f.max()]
    d = nearest_distance(archs, best).astype(float)
    pear = float(np.corrcoef(f, d)[0, 1]) if d.std() > 0 and f.std() > 0 else float("nan")
    rf, rd = rankdata(f), rankdata(d)
    spear = float(np.corrcoef(rf, rd)[0, 1]) if rd.std() > 0 and rf.std() > 0 else float("nan")
    return pear, spear, int(len(best))


def exact_autocorrelation(f: np.ndarray, nbr: np.ndarray, max_lag: int) -> np.ndarray:
    """``rho(s)`` for ``s = 1..max_lag`` of the stationary uniform random walk."""
    g = f - f.mean()
    var = float((g ** 2).mean())
    out, v = [], g
    for _ in range(int(max_lag)):
        v = v[nbr].mean(axis=1)
        out.append(float((g * v).mean()) / var if var > 0 else float("nan"))
    return np.asarray(out)


def exact_rho1_pairs(f: np.ndarray, nbr: np.ndarray) -> float:
    """``1 - E[(f(x) - f(y))**2] / (2 var f)`` over all neighbour pairs (equals ``rho(1)``)."""
    var = float(f.var())
    return 1.0 - float(((f[:, None] - f[nbr]) ** 2).mean()) / (2 * var) if var > 0 else float("nan")


def exact_neutrality(f: np.ndarray, nbr: np.ndarray, epsilons: list[float]) -> np.ndarray:
    """Fraction of neighbour pairs with ``|df| <= eps`` for each eps."""
    ad = np.abs(f[:, None] - f[nbr])
    return np.array([float((ad <= e).mean()) for e in epsilons])


def exact_local_optima(f: np.ndarray, nbr: np.ndarray) -> tuple[int, int, int]:
    """``(strict, plateau_aware, plateaus)``: strict optima; optima with equal-fitness plateaus counted once.

    A plateau is a connected set (size >= 2) of neighbours with exactly equal
    fitness; it (or a single arch) is a local optimum when no member has a
    strictly better neighbour.
    """
    fn = f[nbr]
    strict = int((f > fn.max(axis=1)).sum())
    better_exit = (fn > f[:, None]).any(axis=1)
    i, j = np.nonzero(fn == f[:, None])
    n = len(f)
    adj = coo_matrix((np.ones(len(i), bool), (i, nbr[i, j])), shape=(n, n)).tocsr()
    n_comp, lab = connected_components(adj, directed=False)
    comp_exit = np.zeros(n_comp, bool)
    np.logical_or.at(comp_exit, lab, better_exit)
    sizes = np.bincount(lab, minlength=n_comp)
    return strict, int((~comp_exit).sum()), int((sizes > 1).sum())


def exact_information_content(f: np.ndarray, nbr: np.ndarray, epsilons: list[float],
                              chunk: int = 2048) -> np.ndarray:
    """H(eps) over every two-step walk ``x -> y -> z`` from a uniform start (exact expectation)."""
    counts = np.zeros((len(epsilons), 9))
    eps = np.asarray(epsilons, dtype=float)[:, None, None, None]
    for a in range(0, len(f), chunk):
        x = np.arange(a, min(a + chunk, len(f)))
        y = nbr[x]  # (c, D)
        d1 = (f[y] - f[x][:, None])[:, :, None]  # (c, D, 1)
        d2 = f[nbr[y]] - f[y][:, :, None]  # (c, D, D)
        s1 = symbols(np.broadcast_to(d1, d2.shape)[None], eps)
        s2 = symbols(d2[None], eps)
        pair = (3 * s1 + s2).reshape(len(epsilons), -1)
        for k in range(len(epsilons)):
            counts[k] += np.bincount(pair[k], minlength=9)
    return entropy_from_counts(counts)


def _feat(name: str, value: Any, n: int, **params: Any) -> Feature:
    params = {"exact": True, **params}
    if isinstance(value, dict):
        return Feature(name, value, {k: (v, v) for k, v in value.items()}, n, params)
    return Feature(name, float(value), (float(value), float(value)), n, params)


# ------------------------------------------------------- FeatureSpec.exact implementations
def exact_autocorrelation_of(data: LandscapeData) -> dict[str, float]:
    """``rho(s)``, ``s = 1..max_lag``, of the stationary random walk on a complete enumeration."""
    ex = data.cache["exact"]
    rho = exact_autocorrelation(ex["f"], ex["nbr"], int(data.params["max_lag"]))
    return {str(s + 1): float(r) for s, r in enumerate(rho)}


def exact_information_content_of(data: LandscapeData) -> dict[str, float]:
    """H(eps) over every two-step walk of a complete enumeration."""
    ex = data.cache["exact"]
    eps = list(data.params["info_epsilons"])
    return {f"{e:g}": float(h) for e, h in zip(eps, exact_information_content(ex["f"], ex["nbr"], eps))}


def exact_information_stability_of(data: LandscapeData) -> float:
    """The largest |fitness change| between neighbours (the smallest eps with H = 0)."""
    ex = data.cache["exact"]
    return float(np.abs(ex["f"][:, None] - ex["f"][ex["nbr"]]).max())


def exact_local_optima_count_of(data: LandscapeData) -> float:
    """The number of strict local optima (a count in exact mode, a fraction when sampled)."""
    ex = data.cache["exact"]
    return float(exact_local_optima(ex["f"], ex["nbr"])[0])


def complete_data(space: SearchSpace, f: np.ndarray, params: dict[str, Any], f2: np.ndarray | None = None,
                  name: str = "exact") -> LandscapeData:
    """:class:`LandscapeData` holding the whole space: every arch is a point and a centre, every
    neighbour pair an edge. The registry's sampled statistics on all units are the population
    values; walk features use their ``FeatureSpec.exact``."""
    archs, nbr = neighbour_table(space)
    f = np.asarray(f, dtype=float)
    if f.shape != (len(archs),):
        raise LandscapeError(f"exact features need one fitness per arch of {space.name!r} "
                             f"({len(archs)}); got shape {f.shape}")
    i, j = np.nonzero(nbr > np.arange(len(f))[:, None])
    data = LandscapeData(space=space, name=name, params=dict(params), points=archs, f_points=f,
                         f2_points=None if f2 is None else np.asarray(f2, dtype=float), centres=archs,
                         f_centres=f, f_nbrs=f[nbr], edges_f=np.stack([f[i], f[nbr[i, j]]], axis=1),
                         best_f=float(f.max()), best_archs=archs[f == f.max()])
    data.cache["exact"] = {"f": f, "nbr": nbr, "archs": archs}
    return data


def exact_features(space: SearchSpace, f: np.ndarray, params: dict[str, Any],
                   f2: np.ndarray | None = None) -> dict[str, Feature]:
    """Every exact feature of a fully known landscape; ``f`` (and ``f2``) in ``space.enumerate()`` order.

    Each registered feature (:data:`~.features.REGISTRY`) is computed by its own statistic on
    :func:`complete_data` (all archs, all neighbour pairs), or by its ``exact`` callable when it
    has one (walk features, the local-optima count); features that need climbs or neutral walks
    are left to sampling. ``local_optima_plateau`` (GraphFLA's plateau-aware count) is exact-only.
    """
    data = complete_data(space, f, params, f2)
    ex, nbr = data.cache["exact"], data.cache["exact"]["nbr"]
    out: dict[str, Feature] = {}
    for name, spec0 in REGISTRY.items():
        spec = spec0.resolve(data)
        if spec is None:
            continue
        if spec.exact is not None:
            value = spec.exact(data)
            n = len(ex["f"]) * space.degree if spec.unit in ("walks", "edges") else len(ex["f"])
            extra = {"kind": "count", "space_size": len(ex["f"])} if name == "local_optima_strict" else {}
            out[name] = _feat(name, value, n, estimator="exact over the enumeration", **extra)
            continue
        n = data.n_units(spec.unit)
        full = run_stat(spec, data, full_idx(n))[0]
        feat = pack(spec, data, full, np.stack([full, full], axis=1), n,
                    {"exact": True, "estimator": f"registry statistic on all {spec.unit} of the enumeration"})
        out[name] = feat
    strict, plateau, n_plateaus = exact_local_optima(ex["f"], nbr)
    out["local_optima_plateau"] = _feat("local_optima_plateau", plateau, len(ex["f"]), kind="count",
                                        plateaus=n_plateaus,
                                        definition="equal-fitness plateaus with no better neighbour count once")
    return out


__all__ = ["neighbour_table", "exact_features", "complete_data", "exact_fdc", "exact_autocorrelation", "exact_rho1_pairs",
           "exact_neutrality", "exact_local_optima", "exact_information_content", "EXACT_LIMIT"]
