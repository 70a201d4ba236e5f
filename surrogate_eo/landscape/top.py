"""The top of the landscape: judged comparisons near the optimum (what a NAS user means by faithful).

Two sources of evidence:

- **the campaign's uniform points**: ``rank_agreement`` is Spearman's rho of
  surrogate vs truth over all of them (truth side: 1), the rank fidelity that
  comparison-based optimisers rely on; ``top_decile_rank_agreement`` the same
  over the points whose truth is in the top 10 % of the (resampled) sample.
  Resampling unit: points; evidence: the points (the top-decile members).
- **the exploit stratum**: the surrogate's predicted-best archs (over the whole
  space when it has at most :data:`ENUMERATE_LIMIT` archs, else over a large
  uniform sample), trained with their complete neighbourhoods in a second wave
  (in a table emulation: looked up). Paired per exploit centre, truth vs surrogate:

  - ``top_fitness_mean``: mean fitness of the predicted-best archs (the
    surrogate's claim vs what training them gives; the regret it hides);
  - ``top_local_optima``: fraction of them that are strict local optima;
  - ``top_neighbour_rank``: mean fraction of its neighbours each one beats.

Every statistic takes resampled unit indices ``idx (B, m)`` and returns the
truth's and the surrogate's values ``(B,)`` so the verdict can bootstrap them
jointly with the registry's features.

>>> from surrogate_eo.landscape.nk import NKLandscape
>>> nk = NKLandscape(10, 2, seed=0)
>>> c = top_archs(nk, 3)
>>> bool(nk.fitness(c).min() >= np.sort(nk.fitness(nk.space.enumerate()))[-3])
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from .sources import FitnessSource, evaluate

#: Spaces up to this size are searched exhaustively for the surrogate's best archs.
ENUMERATE_LIMIT = 200_000
#: Uniform sample searched in larger spaces.
SEARCH_SAMPLE = 100_000

TOP_FEATURES: dict[str, str] = {
    "rank_agreement": "Spearman rho of surrogate vs truth over the campaign's uniform points (truth: 1)",
    "top_decile_rank_agreement": "Spearman rho of surrogate vs truth among the truth's top-decile points "
                                 "(truth: 1)",
    "top_fitness_mean": "mean fitness of the surrogate's predicted-best archs (fitness units)",
    "top_local_optima": "fraction of the predicted-best archs that are strict local optima",
    "top_neighbour_rank": "mean fraction of its neighbours a predicted-best arch strictly beats",
}


def top_archs(source: FitnessSource, k: int, seed: int = 0) -> np.ndarray:
    """The ``k`` archs ``source`` predicts best (distinct, best first), shape ``(k, d)``."""
    space = source.space
    if space.size <= ENUMERATE_LIMIT:
        cand = space.enumerate()
    else:
        cand = space.sample(SEARCH_SAMPLE, seed=np.random.default_rng([seed, 31]))
        cand = space.from_index(np.unique(space.index(cand)))
    f = evaluate(source, cand)
    order = np.lexsort((np.arange(len(f)), -f))
    return cand[order[:int(k)]]


@dataclass
class ExploitData:
    """Fitness at the exploit centres and their complete neighbourhoods, for one landscape."""

    centres: np.ndarray
    f_centres: np.ndarray
    f_nbrs: np.ndarray

    @classmethod
    def of(cls, source: FitnessSource, centres: np.ndarray) -> ExploitData:
        space = source.space
        nb = space.neighbours_batch(centres)
        f = evaluate(source, np.concatenate([centres, nb.reshape(-1, space.n_dims)]))
        k = len(centres)
        return cls(centres, f[:k], f[k:].reshape(k, -1))

    def per_centre(self) -> dict[str, np.ndarray]:
        """``(k,)`` per-centre values of each exploit feature."""
        return {"top_fitness_mean": self.f_centres,
                "top_local_optima": (self.f_centres > self.f_nbrs.max(axis=1)).astype(float),
                "top_neighbour_rank": (self.f_centres[:, None] > self.f_nbrs).mean(axis=1)}


def exploit_stats(t: ExploitData, s: ExploitData, name: str, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(truth (B,), surrogate (B,))`` of exploit feature ``name`` on resampled centres ``idx``."""
    return t.per_centre()[name][idx].mean(axis=1), s.per_centre()[name][idx].mean(axis=1)


def _masked_corr(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    n = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = (w * x).sum(axis=1) / n
        my = (w * y).sum(axis=1) / n
        xc, yc = (x - mx[:, None]) * w, (y - my[:, None]) * w
        den = np.sqrt((xc ** 2).sum(axis=1) * (yc ** 2).sum(axis=1))
        return np.where(den > 0, (xc * yc).sum(axis=1) / np.where(den > 0, den, 1), np.nan)


def top_decile_agreement(f_truth: np.ndarray, f_sur: np.ndarray, idx: np.ndarray,
                         q: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """``(truth (B,) = 1, surrogate (B,))``: Spearman rho of surrogate vs truth over the resampled
    points whose truth is at or above the row's ``q`` quantile (average ranks within the set)."""
    ft, fs = f_truth[idx], f_sur[idx]
    if q <= 0:
        w = np.ones(ft.shape)
    else:
        thr = np.quantile(ft, q, axis=1, method="lower")
        w = (ft >= thr[:, None]).astype(float)
    big = np.float64(1e300)
    rt = rankdata(np.where(w > 0, ft, -big), axis=1)
    rs = rankdata(np.where(w > 0, fs, -big), axis=1)
    rho = _masked_corr(rt, rs, w)
    return np.ones(len(idx)), rho


def top_decile_size(f_truth: np.ndarray, q: float = 0.9) -> int:
    """Number of points at or above the sample's ``q`` quantile (the evidence behind the agreement)."""
    if len(f_truth) == 0:
        return 0
    return int((f_truth >= np.quantile(f_truth, q, method="lower")).sum())


__all__ = ["ENUMERATE_LIMIT", "ExploitData", "TOP_FEATURES", "exploit_stats", "top_archs", "top_decile_agreement",
           "top_decile_size"]
