"""Train/test splits for surrogate evaluation: random, k-fold, leave-one-stratum-out, learning curves.

Splits return integer index arrays into the training set; the same seed
gives the same split on every platform (numpy ``default_rng``).

>>> train, test = random_split(100, 0.1, seed=0)
>>> len(train), len(test), len(set(train) & set(test))
(10, 90, 0)
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .._types import SurrogateLike
from ..errors import SurrogateError
from ..spaces.base import SeedLike, as_rng
from .metrics import evaluate


def _n_train(n: int, train: int | float) -> int:
    if isinstance(train, (bool, np.bool_)):
        raise SurrogateError(f"train size must be a count or a fraction, got {train!r}")
    if isinstance(train, (int, np.integer)):
        k = int(train)
    else:
        frac = float(train)
        if not 0.0 < frac <= 1.0:
            raise SurrogateError(f"train fraction must lie in (0, 1]; got {train}")
        k = int(round(frac * n))
    if not 1 <= k <= n:
        raise SurrogateError(f"train size {train} gives {k} of {n} archs; expected 1..{n}")
    return k


def random_split(n: int, train: int | float, seed: SeedLike = None) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` and cut: ``train`` is a count or a fraction. Returns (train_idx, test_idx)."""
    k = _n_train(n, train)
    perm = as_rng(seed).permutation(n)
    return np.sort(perm[:k]), np.sort(perm[k:])


def kfold(n: int, k: int = 5, seed: SeedLike = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` shuffled folds of ``range(n)``: a list of (train_idx, test_idx)."""
    if not 2 <= int(k) <= n:
        raise SurrogateError(f"k-fold needs 2 <= k <= n; got k={k}, n={n}")
    perm = as_rng(seed).permutation(n)
    folds = np.array_split(perm, int(k))
    return [(np.sort(np.concatenate(folds[:i] + folds[i + 1:])), np.sort(f)) for i, f in enumerate(folds)]


def leave_one_stratum_out(strata: Sequence[str] | np.ndarray,
                          train_strata: Sequence[str] | None = None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """For each stratum ``s``: train on the others (or on ``train_strata``), test on ``s``.

    Strata are the campaign's sampling groups (``random``, ``walk``,
    ``neighbourhood``, ``exploit``…), so a surrogate fitted on random samples
    and walks can be tested on neighbourhoods it never saw.
    Returns a list of (held-out stratum, train_idx, test_idx).
    """
    labels = np.asarray(strata, dtype=object)
    names = sorted(set(labels.tolist()))
    if len(names) < 2:
        raise SurrogateError(f"leave-one-stratum-out needs at least 2 strata; got {names}")
    out = []
    for s in names:
        test = np.flatnonzero(labels == s)
        if train_strata is None:
            train = np.flatnonzero(labels != s)
        else:
            unknown = [t for t in train_strata if t not in names]
            if unknown:
                raise SurrogateError(f"train stratum {unknown[0]!r} not present; strata: {names}")
            if s in train_strata:
                continue
            train = np.flatnonzero(np.isin(labels, list(train_strata)))
        out.append((str(s), train, test))
    return out


def learning_curve(make_model: Callable[[int], SurrogateLike], archs: np.ndarray, y: np.ndarray,
                   sizes: Sequence[int | float], seeds: Sequence[int] = (0, 1, 2), *,
                   test_archs: np.ndarray | None = None, test_y: np.ndarray | None = None) -> pd.DataFrame:
    """Quality vs number of training archs.

    For each size and seed, ``make_model(seed)`` is fitted on a random subset
    of ``(archs, y)`` of that size and scored (:func:`~surrogate_eo.surrogates.metrics.evaluate`)
    on ``(test_archs, test_y)`` or, when not given, on the archs left out.

    Returns
    -------
    pandas.DataFrame
        One row per (size, seed): ``n_train``, ``seed`` and the metric columns.
    """
    archs = np.asarray(archs)
    y = np.asarray(y, dtype=np.float64)
    if (test_archs is None) != (test_y is None):
        raise SurrogateError("learning_curve: give both test_archs and test_y, or neither")
    rows = []
    for size in sizes:
        for seed in seeds:
            tr, te = random_split(len(y), size, seed=seed)
            model = make_model(seed).fit(archs[tr], y[tr])
            if test_archs is None:
                if len(te) < 2:
                    raise SurrogateError(f"learning_curve: size {size} leaves {len(te)} archs to test on")
                scores = evaluate(y[te], model.predict(archs[te]))
            else:
                scores = evaluate(test_y, model.predict(test_archs))
            rows.append({"n_train": len(tr), "seed": int(seed), **scores})
    return pd.DataFrame(rows)
