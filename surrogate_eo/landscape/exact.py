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
from .features import Feature
from .features.distribution import curve_auc, dispersion_of, nearest_distance, overlap_curve
from .features.ruggedness import entropy_from_counts, symbols, traore, weinberger

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


def exact_features(space: SearchSpace, f: np.ndarray, params: dict[str, Any],
                   f2: np.ndarray | None = None) -> dict[str, Feature]:
    """Every exact feature of a fully known landscape; ``f`` (and ``f2``) in ``space.enumerate()`` order."""
    archs, nbr = neighbour_table(space)
    f = np.asarray(f, dtype=float)
    if f.shape != (len(archs),):
        raise LandscapeError(f"exact features need one fitness per arch of {space.name!r} "
                             f"({len(archs)}); got shape {f.shape}")
    N, D = len(f), space.degree
    pairs = N * D
    out: dict[str, Feature] = {}
    out["fitness_mean"] = _feat("fitness_mean", f.mean(), N)
    out["fitness_std"] = _feat("fitness_std", f.std(ddof=1), N, ddof=1)
    c = f - f.mean()
    out["fitness_skewness"] = _feat("fitness_skewness", (c ** 3).mean() / (c ** 2).mean() ** 1.5, N)
    qs = list(params["quantiles"])
    out["fitness_quantiles"] = _feat("fitness_quantiles",
                                     {f"{q:g}": float(v) for q, v in zip(qs, np.quantile(f, qs))}, N)
    out["fitness_gap_best_q99"] = _feat("fitness_gap_best_q99", f.max() - np.quantile(f, 0.99), N,
                                        best_fitness=float(f.max()))
    pear, spear, n_best = exact_fdc(space, archs, f)
    fdc_p = dict(best_fitness=float(f.max()), n_best=n_best, distance="hamming", ties="nearest optimum")
    out["fdc_pearson"] = _feat("fdc_pearson", pear, N, **fdc_p)
    out["fdc_spearman"] = _feat("fdc_spearman", spear, N, **fdc_p)
    out["dispersion"] = _feat("dispersion", dispersion_of(archs, f, params["dispersion_q"], np.asarray(space.dims)),
                              N, q=params["dispersion_q"], distance="hamming / n_dims")
    if f2 is not None:
        pcts = np.asarray(params["persistence_pcts"], dtype=float)
        for top, nm in ((True, "top"), (False, "bottom")):
            curve = overlap_curve(f[None], np.asarray(f2, dtype=float)[None], pcts / 100.0, top)[0]
            auc = curve_auc(curve[None], pcts)[0]
            pp = dict(percent=list(params["persistence_pcts"]), second=params.get("second_name"))
            out[f"persistence_{nm}"] = _feat(f"persistence_{nm}",
                                             {f"{p:g}": float(v) for p, v in zip(pcts, curve)}, N, **pp)
            out[f"persistence_{nm}_auc"] = _feat(f"persistence_{nm}_auc", auc, N, **pp)
    lags = int(params["max_lag"])
    rho = exact_autocorrelation(f, nbr, lags)
    walk_p = dict(estimator="stationary random walk, exact", step="uniform neighbour")
    out["autocorrelation"] = _feat("autocorrelation", {str(s + 1): float(r) for s, r in enumerate(rho)}, pairs,
                                   **walk_p)
    r1 = np.array([rho[0]])
    out["autocorr_lag1"] = _feat("autocorr_lag1", rho[0], pairs, **walk_p)
    out["corr_length"] = _feat("corr_length", weinberger(r1)[0], pairs, **walk_p)
    out["corr_length_traore"] = _feat("corr_length_traore", traore(r1)[0], pairs, **walk_p)
    ranks = (rankdata(f) - 0.5) / N
    out["autocorr_lag1_rank"] = _feat("autocorr_lag1_rank", exact_autocorrelation(ranks, nbr, 1)[0], pairs,
                                      transform="mid-rank over all archs", **walk_p)
    eps = list(params["epsilons"])
    out["neutrality"] = _feat("neutrality", {f"{e:g}": float(v) for e, v in zip(eps, exact_neutrality(f, nbr, eps))},
                              pairs, epsilons=eps, pairs="all neighbour pairs")
    strict, plateau, n_plateaus = exact_local_optima(f, nbr)
    lo_p = dict(definition="strictly better than every neighbour", space_size=N)
    out["local_optima_strict"] = _feat("local_optima_strict", strict, N, kind="count", fraction=strict / N, **lo_p)
    out["local_optima_fraction"] = _feat("local_optima_fraction", strict / N, N, kind="fraction", **lo_p)
    out["local_optima_plateau"] = _feat("local_optima_plateau", plateau, N, kind="count", plateaus=n_plateaus,
                                        definition="equal-fitness plateaus with no better neighbour count once")
    ieps = list(params["info_epsilons"])
    if N * D * D <= 4 * EXACT_LIMIT:
        H = exact_information_content(f, nbr, ieps)
        out["information_content"] = _feat("information_content", {f"{e:g}": float(h) for e, h in zip(ieps, H)},
                                           N * D * D, epsilons=ieps, log_base=6, walks="all two-step walks")
    out["information_stability"] = _feat("information_stability", np.abs(f[:, None] - f[nbr]).max(), pairs)
    return out


__all__ = ["neighbour_table", "exact_features", "exact_fdc", "exact_autocorrelation", "exact_rho1_pairs",
           "exact_neutrality", "exact_local_optima", "exact_information_content", "EXACT_LIMIT"]
