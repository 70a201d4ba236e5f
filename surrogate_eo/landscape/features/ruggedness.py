"""Ruggedness features (unit: random walks; neighbour pairs as a fallback).

- autocorrelation: rho(s), s = 1..k, of fitness along random walks (Weinberger 1990),
  with the mean and variance pooled over all walks (walks started uniformly are
  stationary, so this converges to the exact value of :mod:`..exact`);
- autocorr_lag1: rho(1); from neighbour pairs when there are no walks, as
  ``1 - mean((f(x) - f(y))**2) / (2 var f)``;
- autocorr_lag1_rank: rho(1) of fitness ranks (robust to heavy tails);
- corr_length: Weinberger's ``-1 / ln|rho(1)|``; corr_length_traore: ``1 / rho(1)``
  (the convention of Traore et al.), both in steps;
- information_content H(eps), partial_information M(eps) (Vassilev, Fogarty &
  Miller 2000) for each eps of ``info_epsilons`` (fitness units); information_stability:
  the largest |fitness change| along the walks (the smallest eps making H = 0).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from ._base import FeatureSpec, LandscapeData, counts_matrix, exact_impl, jackknife_se, register


def _lags(data: LandscapeData) -> list[int]:
    L = data.f_walks.shape[1]  # type: ignore[union-attr]
    return list(range(1, min(int(data.params["max_lag"]), L - 1) + 1))


def _rank_walks(data: LandscapeData) -> np.ndarray:
    """Walk fitness replaced by its mid-rank in the pooled walk sample, scaled to (0, 1)."""
    F = data.f_walks
    return ((rankdata(F.ravel()) - 0.5) / F.size).reshape(F.shape)  # type: ignore[union-attr]


def _walk_sums(data: LandscapeData, rank: bool = False) -> dict[str, np.ndarray]:
    key = "walk_sums_rank" if rank else "walk_sums"
    if key not in data.cache:
        F = _rank_walks(data) if rank else data.f_walks
        lags = _lags(data)
        data.cache[key] = {
            "S1": F.sum(axis=1), "S2": (F ** 2).sum(axis=1), "L": np.full(len(F), F.shape[1], float),
            "C": np.stack([(F[:, :-s] * F[:, s:]).sum(axis=1) for s in lags], axis=1),
            "A": np.stack([F[:, :-s].sum(axis=1) for s in lags], axis=1),
            "B": np.stack([F[:, s:].sum(axis=1) for s in lags], axis=1),
        }
    return data.cache[key]


def _acf(data: LandscapeData, idx: np.ndarray, rank: bool = False) -> np.ndarray:
    """Pooled autocorrelation rho(s) per resample row, shape ``(B, k)``."""
    return _acf_counts(data, counts_matrix(idx, len(_walk_sums(data, rank)["S1"])), rank)


def _acf_counts(data: LandscapeData, cm: np.ndarray, rank: bool = False) -> np.ndarray:
    """Pooled autocorrelation rho(s) from walk multiplicities ``cm (B, walks)``, shape ``(B, k)``."""
    w = _walk_sums(data, rank)
    N = cm @ w["L"]
    mu = (cm @ w["S1"]) / N
    var = (cm @ w["S2"]) / N - mu ** 2
    lags = np.asarray(_lags(data), dtype=float)
    ns = N[:, None] - (cm.sum(axis=1)[:, None] * lags[None, :])
    cov = ((cm @ w["C"]) - mu[:, None] * ((cm @ w["A"]) + (cm @ w["B"]))) / ns + mu[:, None] ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / var[:, None]


def _rho1_walks(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    return _acf(data, idx)[:, 0]


def _rho1_se(data: LandscapeData, idx: np.ndarray, rank: bool = False) -> np.ndarray:
    """Jackknife (delete-one-walk) standard error of the pooled rho(1) per resample row."""
    cm = counts_matrix(idx, len(data.f_walks))  # type: ignore[arg-type]
    return jackknife_se(lambda c: _acf_counts(data, c, rank)[:, :1], cm)[:, 0]


def _rho1_edges(data: LandscapeData, idx: np.ndarray, rank: bool = False) -> np.ndarray:
    E = data.edges_f
    if rank:
        if "edges_rank" not in data.cache:
            data.cache["edges_rank"] = ((rankdata(E.ravel()) - 0.5) / E.size).reshape(E.shape)  # type: ignore[union-attr]
        E = data.cache["edges_rank"]
    e = E[idx]  # type: ignore[index]  # (B, m, 2)
    d2 = ((e[..., 0] - e[..., 1]) ** 2).mean(axis=1)
    var = e.reshape(len(idx), -1).var(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - d2 / (2.0 * var)


def weinberger(rho: np.ndarray) -> np.ndarray:
    """Correlation length ``-1 / ln|rho(1)|`` (steps)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return -1.0 / np.log(np.abs(rho))


def traore(rho: np.ndarray) -> np.ndarray:
    """Correlation length ``1 / rho(1)`` (Traore et al.'s convention, steps)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 / rho


def _walk_params(data: LandscapeData) -> dict:
    return {"walks": int(data.f_walks.shape[0]), "walk_length": int(data.f_walks.shape[1]),  # type: ignore[union-attr]
            "estimator": "random walks, pooled mean/variance", "step": "uniform neighbour"}


def _edge_params(data: LandscapeData) -> dict:
    return {"pairs": int(len(data.edges_f)), "estimator": "neighbour pairs: 1 - E[df^2] / (2 Var f)"}  # type: ignore[arg-type]


_LEN_DOC = {"corr_length": "Weinberger correlation length -1/ln|rho(1)| (steps)",
            "corr_length_traore": "correlation length 1/rho(1), Traore et al.'s convention (steps)"}


def _rho_specs(name: str, fn, doc: str) -> FeatureSpec:
    edge = FeatureSpec(name, "edges", lambda d, i: fn(_rho1_edges(d, i)), doc, params=_edge_params)
    return FeatureSpec(name, "walks", lambda d, i: fn(_rho1_walks(d, i)), doc, params=_walk_params, fallback=edge)


register(FeatureSpec("autocorrelation", "walks", _acf,
                     "random-walk autocorrelation rho(s) for s = 1..k (dimensionless)",
                     keys=lambda d: [str(s) for s in _lags(d)], params=_walk_params,
                     exact=exact_impl("exact_autocorrelation_of")))
register(FeatureSpec("autocorr_lag1", "walks", _rho1_walks, "random-walk autocorrelation at lag 1, rho(1)",
                     params=_walk_params, se=_rho1_se,
                     fallback=FeatureSpec("autocorr_lag1", "edges", _rho1_edges,
                                          "random-walk autocorrelation at lag 1, rho(1)", params=_edge_params)))
register(_rho_specs("corr_length", weinberger, _LEN_DOC["corr_length"]))
register(_rho_specs("corr_length_traore", traore, _LEN_DOC["corr_length_traore"]))
register(FeatureSpec(
    "autocorr_lag1_rank", "walks", lambda d, i: _acf(d, i, rank=True)[:, 0],
    "rho(1) of fitness ranks (robust to a heavy tail of failed archs; what comparison-based optimisers see)",
    params=lambda d: {**_walk_params(d), "transform": "mid-rank in the pooled sample"},
    fallback=FeatureSpec("autocorr_lag1_rank", "edges", lambda d, i: _rho1_edges(d, i, rank=True),
                         "rho(1) of fitness ranks from neighbour pairs",
                         params=lambda d: {**_edge_params(d), "transform": "mid-rank"})))


# ---------------------------------------------------------------- information content
def symbols(df: np.ndarray, eps: float) -> np.ndarray:
    """Vassilev symbols of fitness changes: 0 for < -eps, 1 for |.| <= eps, 2 for > eps."""
    return np.where(df > eps, 2, np.where(df < -eps, 0, 1)).astype(np.int8)


def entropy_from_counts(counts: np.ndarray) -> np.ndarray:
    """H = -sum_{p != q} P[pq] log_6 P[pq] from ``(..., 9)`` counts of consecutive symbol pairs."""
    tot = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        P = counts / tot
        t = np.where(P > 0, -P * np.log(np.where(P > 0, P, 1)) / np.log(6.0), 0.0)
    off = np.array([p != q for p in range(3) for q in range(3)])
    return t[..., off].sum(axis=-1)


def _info_cache(data: LandscapeData) -> dict[str, np.ndarray]:
    if "info" not in data.cache:
        eps = np.asarray(data.params["info_epsilons"], dtype=float)
        df = np.diff(data.f_walks, axis=1)  # (w, L-1)
        S = symbols(df[:, None, :], eps[None, :, None])  # (w, E, L-1)
        pair = 3 * S[..., :-1] + S[..., 1:]
        w, E = S.shape[:2]
        counts = np.zeros((w, E, 9))
        for c in range(9):
            counts[..., c] = (pair == c).sum(axis=2)
        mu = np.zeros((w, E))
        last = np.ones((w, E), dtype=np.int8)  # "1" = flat: nothing seen yet
        for t in range(S.shape[2]):
            st = S[..., t]
            nz = st != 1
            mu += nz & (st != last)
            last = np.where(nz, st, last)
        data.cache["info"] = {"counts": counts, "mu": mu, "n": np.full(w, S.shape[2], float),
                              "maxabs": np.abs(df).max(axis=1)}
    return data.cache["info"]


def _ic(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    c = _info_cache(data)["counts"]
    cm = counts_matrix(idx, len(c))
    return entropy_from_counts(np.einsum("bw,wek->bek", cm, c))


def _ic_se(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    """Jackknife (delete-one-walk) standard error of H(eps) per resample row, ``(B, E)``."""
    c = _info_cache(data)["counts"]
    return jackknife_se(lambda cm: entropy_from_counts(np.einsum("bw,wek->bek", cm, c)), counts_matrix(idx, len(c)))


def _pi(data: LandscapeData, idx: np.ndarray) -> np.ndarray:
    info = _info_cache(data)
    cm = counts_matrix(idx, len(info["mu"]))
    return (cm @ info["mu"]) / (cm @ info["n"])[:, None]


def _eps_keys(data: LandscapeData) -> list[str]:
    return [f"{e:g}" for e in data.params["info_epsilons"]]


def _info_params(data: LandscapeData) -> dict:
    return {**_walk_params(data), "epsilons": list(data.params["info_epsilons"]), "log_base": 6}


register(FeatureSpec("information_content", "walks", _ic,
                     "information content H(eps) of the walks' slope sequence (Vassilev et al.; log base 6)",
                     keys=_eps_keys, params=_info_params, exact=exact_impl("exact_information_content_of"),
                     se=_ic_se))
register(FeatureSpec("partial_information", "walks", _pi,
                     "partial information content M(eps): collapsed slope-sign changes per step",
                     keys=_eps_keys, params=_info_params))
register(FeatureSpec("information_stability", "walks",
                     lambda d, i: _info_cache(d)["maxabs"][i].max(axis=1),
                     "information stability eps*: largest |fitness change| along the walks (fitness units)",
                     params=_walk_params, exact=exact_impl("exact_information_stability_of")))
