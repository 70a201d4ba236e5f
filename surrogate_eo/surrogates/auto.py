"""``model="auto"``: choose a surrogate by training-set size and cross-validation.

The candidates depend on the number of distinct training archs
(:data:`AUTO_CANDIDATES`, chosen from ``evaluation/nb201_surrogates.py``'s
learning curves: which model wins at which size is in the generated table of
``docs/surrogates.md``). Up to :data:`AUTO_GNN_MAX` archs, and when torch is
installed, ``xgb-zc+gnn`` (XGBoost with the SynFlow zero-cost proxy, and the
flow GNN) is a candidate too, listed first because a GNN ensemble won at every
such size on every dataset of the evaluation (``xgb-zc+gnn`` ahead of
``xgb+gnn`` at 78 archs, level with it at 156); there its cross-validation
costs tens of seconds. The GNN's fit time grows
with the training set (minutes at thousands of archs), so above that size it
is left out for cost although it measured ahead (name it to use it).

Each candidate is scored by k-fold Kendall τ on the training set. The
candidate listed first wins unless another beats it by more than the noise
of the comparison: a candidate is *close to the best* when its mean τ is
within ``max(TIE, SE)`` of the best one's, SE being the standard error of
their paired fold differences (the one-standard-error rule); the first close
candidate is chosen (:func:`choose`). At ~150 archs each fold's τ rests on
~50 archs, and plain "highest mean wins" picked by that noise.
``params`` go to each candidate that takes them.

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
from ..spaces.base import BatchLike
from .base import accepted_params, check_training_data, make_model
from .metrics import kendall_tau_score
from .splits import kfold

#: Fewest training archs ``auto`` accepts (its cross-validation needs a few per fold).
MIN_AUTO = 10
#: (largest training-set size, candidates in order of preference) — first row that fits applies.
AUTO_CANDIDATES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (300, ("xgb", "rf", "xgb-ens")),
    (float("inf"), ("xgb", "xgb+lgb")),
)
#: The GNN candidate, listed first up to AUTO_GNN_MAX archs (torch permitting).
AUTO_GNN = "xgb-zc+gnn"
#: Largest training set for which :data:`AUTO_GNN` is a candidate too (torch permitting), listed first.
AUTO_GNN_MAX = 300
#: CV τ differences up to this are always ties (the earlier candidate wins); see :func:`choose`.
TIE = 0.005


def torch_available() -> bool:
    """Whether torch can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def candidates_for(n: int, gnn: bool | None = None) -> tuple[str, ...]:
    """Candidate model names for ``n`` training archs (see :data:`AUTO_CANDIDATES`).

    ``gnn``: put :data:`AUTO_GNN` first when ``n <= AUTO_GNN_MAX``; ``None`` means "if torch is installed".

    >>> candidates_for(78, gnn=True), candidates_for(1000, gnn=True)
    (('xgb-zc+gnn', 'xgb', 'rf', 'xgb-ens'), ('xgb', 'xgb+lgb'))
    """
    names = next(names for limit, names in AUTO_CANDIDATES if n <= limit)
    if n <= AUTO_GNN_MAX and (torch_available() if gnn is None else gnn):
        names = (AUTO_GNN,) + names
    return names


def choose(fold_taus: dict[str, Sequence[float]]) -> str:
    """The first candidate (in the dict's order) whose CV τ is close to the best one's.

    Close: mean τ at most ``max(TIE, SE)`` below the best mean, SE being the standard
    error of the paired per-fold differences to the best candidate (0 with one fold).

    >>> choose({"xgb": [0.70, 0.80, 0.75], "rf": [0.74, 0.77, 0.77]})  # +.01, within fold noise
    'xgb'
    >>> choose({"xgb": [0.70, 0.80, 0.75], "rf": [0.72, 0.82, 0.77]})  # +.02 in every fold
    'rf'
    """
    taus = {k: np.asarray(v, dtype=np.float64) for k, v in fold_taus.items()}
    means = {k: float(np.nanmean(v)) if np.isfinite(v).any() else -np.inf for k, v in taus.items()}
    best = max(means, key=lambda k: means[k])

    def close(name: str) -> bool:
        diff = taus[best] - taus[name]
        diff = diff[np.isfinite(diff)]
        se = float(np.std(diff, ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
        return means[name] >= means[best] - max(TIE, se)

    return next((k for k in taus if close(k)), best)  # best itself is close unless every score is NaN


def select_model(space: str, archs: BatchLike, y: Any, *, candidates: Sequence[str] | None = None, cv: int = 3,
                 seed: int = 0, params: dict[str, Any] | None = None,
                 gnn: bool | None = None) -> tuple[str, dict[str, float]]:
    """Pick a model name for this training set by ``cv``-fold Kendall τ.

    Parameters
    ----------
    space : str
    archs, y : training set (NaN targets dropped with a warning).
    candidates : model names, default :func:`candidates_for` the training-set size.
    cv : int
        Folds.
    params : dict, optional
        Extra constructor arguments; each candidate gets those it takes.
    gnn : bool, optional
        Whether the default candidates include :data:`AUTO_GNN` (``None``: when torch is installed).

    Returns
    -------
    (name, scores) : the chosen name (:func:`choose`) and each candidate's mean CV Kendall τ.

    Raises
    ------
    SurrogateError
        Fewer than :data:`MIN_AUTO` training archs, an unknown candidate, or a parameter no candidate takes.
    """
    batch, yy = check_training_data(get_space(space), archs, y)
    n = len(np.unique(get_space(space).index(batch)))
    if n < MIN_AUTO:
        raise SurrogateError(f"model 'auto' chooses by cross-validation and needs at least {MIN_AUTO} distinct "
                             f"training archs; got {n}: name a model instead (e.g. xgb)")
    names = tuple(candidates) if candidates else candidates_for(n, gnn)
    params = dict(params or {})
    accepted = {}
    for name in names:
        try:
            accepted[name] = accepted_params(name)
        except SurrogateError:
            make_model(name, space)  # raises the full "unknown surrogate model" message
    unknown = [k for k in params if not any(k in a for a in accepted.values())]
    if unknown:
        raise SurrogateError(f"model 'auto': no candidate ({', '.join(names)}) takes parameter {unknown[0]!r}; "
                             f"drop it or name a model")
    folds = kfold(len(yy), min(int(cv), len(yy)), seed=seed)
    fold_taus: dict[str, list[float]] = {}
    for name in names:
        mine = {k: v for k, v in params.items() if k in accepted[name]}
        fold_taus[name] = []
        for tr, te in folds:
            model = make_model(name, space, seed=seed, **mine).fit(batch[tr], yy[tr])
            fold_taus[name].append(kendall_tau_score(yy[te], model.predict(batch[te])))
    return choose(fold_taus), {name: float(np.nanmean(t)) for name, t in fold_taus.items()}
