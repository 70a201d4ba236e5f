"""Neutrality and local-optima features (units: neighbourhood centres, neighbour pairs, climbs).

- neutrality: fraction of neighbour pairs with ``|f(x) - f(y)| <= eps`` for each eps
  of ``epsilons`` (fitness units, recorded); from complete neighbourhoods of uniform
  centres (a uniform sample of the space's edges), else from held neighbour pairs;
- neutral_walk_length: mean steps of neutral walks at ``neutral_epsilon``;
- local_optima_fraction: fraction of uniform centres that are strict local optima
  (better than every neighbour); local_optima_strict: the same fraction when
  sampled, the exact count in exact mode;
- climb_optima_distinct, climb_length_mean, climb_optimum_fitness_mean: from
  best-improvement hill climbs with restarts;
- optima_estimate_birthday: ``N ~ k**2 / (-2 ln(1 - p))`` with ``k`` the restart
  at which an optimum first repeats (median over random orderings of the climbs).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from ._base import FeatureSpec, LandscapeData, exact_impl, register


def _eps(data: LandscapeData) -> np.ndarray:
    return np.asarray(data.params["epsilons"], dtype=float)


def _eps_keys(data: LandscapeData) -> list[str]:
    return [f"{e:g}" for e in data.params["epsilons"]]


def _centre_neutral(data: LandscapeData) -> np.ndarray:
    if "centre_neutral" not in data.cache:
        ad = np.abs(data.f_nbrs - data.f_centres[:, None])  # type: ignore[index,operator]
        data.cache["centre_neutral"] = (ad[:, :, None] <= _eps(data)[None, None, :]).mean(axis=1)
    return data.cache["centre_neutral"]


def _neut_centres(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    return _centre_neutral(data)[idx].mean(axis=1)


def _se_centres(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    """Standard error of the mean over resampled centres, ``(B, K)``."""
    x = _centre_neutral(data)[idx]
    return x.std(axis=1, ddof=1) / np.sqrt(idx.shape[1])


def _neut_edges(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    if "edge_neutral" not in data.cache:
        ad = np.abs(data.edges_f[:, 0] - data.edges_f[:, 1])  # type: ignore[index]
        data.cache["edge_neutral"] = (ad[:, None] <= _eps(data)[None, :]).astype(float)
    return data.cache["edge_neutral"][idx].mean(axis=1)


def _centre_params(data: LandscapeData) -> dict:
    return {"epsilons": list(data.params["epsilons"]), "centres": int(len(data.f_centres)),  # type: ignore[arg-type]
            "pairs": "complete neighbourhoods of uniform centres"}


def _edge_params(data: LandscapeData) -> dict:
    return {"epsilons": list(data.params["epsilons"]), "pairs": int(len(data.edges_f)),  # type: ignore[arg-type]
            "source": "neighbour pairs among held archs"}


register(FeatureSpec(
    "neutrality", "centres", _neut_centres,
    "fraction of neighbour pairs with |df| <= eps, per eps (fitness units)",
    keys=_eps_keys, params=_centre_params, se=_se_centres,
    fallback=FeatureSpec("neutrality", "edges", _neut_edges, "fraction of neighbour pairs with |df| <= eps",
                         keys=_eps_keys, params=_edge_params)))
register(FeatureSpec(
    "neutral_walk_length", "neutral", lambda d, i: d.neutral_lengths[i].mean(axis=1),  # type: ignore[index]
    "mean length (steps) of neutral walks that keep |df| <= eps and move away from their start",
    params=lambda d: {"epsilon": d.params["neutral_epsilon"], "max_steps": d.params["neutral_max_steps"],
                      "walks": int(len(d.neutral_lengths))}))  # type: ignore[arg-type]


def _is_lo(data: LandscapeData) -> np.ndarray:
    return (data.f_centres > data.f_nbrs.max(axis=1)).astype(float)  # type: ignore[union-attr,operator]


def _lo_params(data: LandscapeData) -> dict:
    return {"kind": "fraction", "definition": "strictly better than every neighbour",
            "centres": int(len(data.f_centres)), "space_size": data.space.size,  # type: ignore[arg-type]
            "ci": "Wilson score interval (binomial; sound when no optimum is seen)"}


def wilson(k: float, n: int, level: float) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``k / n``."""
    if n <= 0:
        return float("nan"), float("nan")
    z = float(norm.ppf(0.5 + level / 2))
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def _lo_interval(data: LandscapeData, rng: np.random.Generator, n_boot: int, level: float):
    lo = _is_lo(data)
    return float(lo.mean()), wilson(float(lo.sum()), len(lo), level)


register(FeatureSpec("local_optima_fraction", "centres", lambda d, i: _is_lo(d)[i].mean(axis=1),
                     "fraction of uniformly sampled archs that are strict local optima", params=_lo_params,
                     interval=_lo_interval))
register(FeatureSpec("local_optima_strict", "centres", lambda d, i: _is_lo(d)[i].mean(axis=1),
                     "strict local optima: fraction of sampled archs (count in exact mode)", params=_lo_params,
                     interval=_lo_interval, exact=exact_impl("exact_local_optima_count_of")))


# ------------------------------------------------------------------------- climbs
def _optimum_keys(data: LandscapeData) -> np.ndarray:
    if "optimum_keys" not in data.cache:
        data.cache["optimum_keys"] = data.space.index(data.climbs.optima)
    return data.cache["optimum_keys"]


def _distinct(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    k = _optimum_keys(data)[idx]
    s = np.sort(k, axis=1)
    return 1.0 + (np.diff(s, axis=1) != 0).sum(axis=1)


def _climb_params(data: LandscapeData) -> dict:
    c = data.climbs
    return {"climbs": int(len(c.steps)), "max_steps": data.params["climb_max_steps"],
            "rule": "best improvement, strict", "unconverged": int((~c.converged).sum())}


def first_repeat(keys: np.ndarray) -> int:
    """1-based restart at which a key first equals an earlier one (0 when none repeats)."""
    seen: set[int] = set()
    for t, k in enumerate(keys.tolist()):
        if k in seen:
            return t + 1
        seen.add(k)
    return 0


def birthday_estimate(k: float, p: float = 0.5) -> float:
    """Number of optima ``k**2 / (-2 ln(1 - p))`` from the first-repeat restart ``k``."""
    return k * k / (-2.0 * math.log(1.0 - p))


def _birthday_interval(data: LandscapeData, rng: np.random.Generator, n_boot: int, level: float):
    keys = _optimum_keys(data)
    p = float(data.params["birthday_p"])
    ks = np.array([first_repeat(keys[rng.permutation(len(keys))]) for _ in range(n_boot)], dtype=float)
    none = ks == 0
    ks[none] = len(keys)  # no repeat: the estimate is a lower bound
    est = birthday_estimate(1.0, p) * ks ** 2
    a = (1 - level) / 2
    data.cache["birthday_no_repeat"] = float(none.mean())
    return float(np.median(est)), (float(np.quantile(est, a)), float(np.quantile(est, 1 - a)))


register(FeatureSpec("climb_optima_distinct", "climbs", _distinct,
                     "distinct local optima reached by the hill climbs (count)", params=_climb_params))
register(FeatureSpec("climb_length_mean", "climbs", lambda d, i: d.climbs.steps[i].mean(axis=1),
                     "mean number of improving moves per climb (steps)", params=_climb_params))
register(FeatureSpec("climb_optimum_fitness_mean", "climbs",
                     lambda d, i: d.climbs.optimum_fitness[i].mean(axis=1),
                     "mean fitness of the optima the climbs reach (fitness units)", params=_climb_params))
register(FeatureSpec(
    "optima_estimate_birthday", "climbs", lambda d, i: np.full(len(i), np.nan),
    "birthday-paradox estimate of the number of local optima reachable by climbing (count); "
    "CI over random orderings of the restarts",
    params=lambda d: {**_climb_params(d), "p": d.params["birthday_p"],
                      "no_repeat_fraction": d.cache.get("birthday_no_repeat")},
    interval=_birthday_interval, pairable=False))
