"""``model="auto"``: choose a surrogate by training-set size and cross-validation.

The candidates depend on the number of distinct training archs
(:data:`AUTO_CANDIDATES`, chosen from ``evaluation/nb201_surrogates.py``'s
learning curves: which model wins at which size is in the generated table of
``docs/surrogates.md``). Each candidate is scored by k-fold Kendall τ on the
training set; the best wins, ties (within :data:`TIE`) going to the
candidate listed first (the cheaper one).

>>> from surrogate_eo.spaces import get_space
>>> archs = get_space("nb201").sample(60, seed=0)
>>> y = (archs == 3).sum(axis=1) / 6.0 + 0.01 * (archs == 1).sum(axis=1)
>>> name, scores = select_model("nb201", archs, y, candidates=("xgb", "rf"), cv=3)
>>> name in ("xgb", "rf") and set(scores) == {"xgb", "rf"}
True
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import SurrogateError
from ..spaces import get_space
from .base import check_training_data, make_model
from .metrics import kendall_tau_score
from .splits import kfold

#: Fewest training archs ``auto`` accepts (its cross-validation needs a few per fold).
MIN_AUTO = 10
#: (largest training-set size, candidates in order of preference) — first row that fits applies.
#: ``xgb+gnn`` (best at small sizes on NB201) is left out for CPU cost: pass ``candidates=`` to include it.
AUTO_CANDIDATES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (300, ("xgb", "rf", "xgb-ens")),
    (float("inf"), ("xgb", "xgb+lgb")),
)
#: CV τ differences up to this are ties (the earlier, cheaper candidate wins).
TIE = 0.005


def candidates_for(n: int) -> tuple[str, ...]:
    """Candidate model names for ``n`` training archs (see :data:`AUTO_CANDIDATES`)."""
    for limit, names in AUTO_CANDIDATES:
        if n <= limit:
            return names
    return AUTO_CANDIDATES[-1][1]  # pragma: no cover - the last limit is infinite


def select_model(space: str, archs: Any, y: Any, *, candidates: Sequence[str] | None = None, cv: int = 3,
                 seed: int = 0, params: dict[str, Any] | None = None) -> tuple[str, dict[str, float]]:
    """Pick a model name for this training set by ``cv``-fold Kendall τ.

    Parameters
    ----------
    space : str
    archs, y : training set (NaN targets dropped with a warning).
    candidates : model names, default :func:`candidates_for` the training-set size.
    cv : int
        Folds.
    params : dict, optional
        Extra constructor arguments for every candidate.

    Returns
    -------
    (name, scores) : the chosen name and each candidate's mean CV Kendall τ.

    Raises
    ------
    SurrogateError
        Fewer than :data:`MIN_AUTO` training archs, or an unknown candidate.
    """
    batch, yy = check_training_data(get_space(space), archs, y)
    n = len(np.unique(get_space(space).index(batch)))
    if n < MIN_AUTO:
        raise SurrogateError(f"model 'auto' chooses by cross-validation and needs at least {MIN_AUTO} distinct "
                             f"training archs; got {n}: name a model instead (e.g. xgb)")
    names = tuple(candidates) if candidates else candidates_for(n)
    folds = kfold(len(yy), min(int(cv), len(yy)), seed=seed)
    scores: dict[str, float] = {}
    for name in names:
        taus = []
        for tr, te in folds:
            model = make_model(name, space, seed=seed, **(params or {})).fit(batch[tr], yy[tr])
            taus.append(kendall_tau_score(yy[te], model.predict(batch[te])))
        scores[name] = float(np.nanmean(taus))
    best = max(scores.values())
    chosen = next(n for n in names if scores[n] >= best - TIE)
    return chosen, scores
