"""Stratified and class-balanced subsets of a split (So2Sat is strongly imbalanced)."""
from __future__ import annotations

import numpy as np

from .layout import DataArgumentError


def _largest_remainder(weights: np.ndarray, total: int, caps: np.ndarray) -> np.ndarray:
    """Integer allocation of ``total`` proportional to ``weights``, never above ``caps``."""
    alloc = np.zeros(weights.size, dtype=np.int64)
    remaining = int(total)
    active = (caps > 0) & (weights > 0)
    while remaining > 0 and active.any():
        w = np.where(active, weights, 0.0)
        share = w / w.sum() * remaining
        base = np.minimum(np.floor(share).astype(np.int64), caps - alloc)
        alloc += base
        remaining -= int(base.sum())
        if remaining > 0:  # hand out the rest by largest remainder, one each
            frac = np.where(active & (alloc < caps), share - np.floor(share), -1.0)
            for c in np.argsort(-frac, kind="stable")[:remaining]:
                if frac[c] < 0:
                    break
                alloc[c] += 1
                remaining -= 1
        active = active & (alloc < caps)
    return alloc


def stratified_subset(labels: np.ndarray, *, fraction: float | None = None, count: int | None = None,
                      seed: int = 0, balanced: bool = False) -> np.ndarray:
    """Indices of a seeded subset that keeps (or balances) the class proportions.

    Parameters
    ----------
    labels : array_like of int, shape (n,)
        Class of every sample (e.g. ``split.labels``).
    fraction : float in (0, 1], optional
        Share of the samples to keep. Give exactly one of ``fraction`` and ``count``.
    count : int, optional
        Number of samples to keep (at most ``n``).
    seed : int, default=0
        Random seed; the same seed gives the same subset.
    balanced : bool, default=False
        ``False``: every class keeps its share of the subset (largest-remainder rounding,
        so per-class counts are within one of ``share × size``). ``True``: every class gets
        the same count, capped by its size; what a small class cannot fill goes to the others.

    Returns
    -------
    ndarray of int64
        Sorted indices into ``labels`` (sorted order makes slab reads efficient).

    Examples
    --------
    >>> y = np.array([0] * 90 + [1] * 10)
    >>> idx = stratified_subset(y, fraction=0.2, seed=0)
    >>> np.bincount(y[idx]).tolist()
    [18, 2]
    >>> np.bincount(y[stratified_subset(y, count=20, balanced=True)]).tolist()
    [10, 10]
    """
    y = np.asarray(labels)
    if y.ndim != 1 or (y.size and (y.dtype.kind not in "iu" or y.min() < 0)):
        raise DataArgumentError(f"labels must be a 1-D array of non-negative class indices; "
                                f"got shape {y.shape} dtype {y.dtype}")
    n = y.size
    if (fraction is None) == (count is None):
        raise DataArgumentError("give exactly one of fraction= and count=")
    if fraction is not None:
        if not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
            raise DataArgumentError(f"fraction must be in (0, 1]; got {fraction!r}")
        size = int(round(fraction * n))
    else:
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 0 <= count <= n:
            raise DataArgumentError(f"count must be an integer in [0, {n}]; got {count!r}")
        size = int(count)
    if size == 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    classes, inv, sizes = np.unique(y, return_inverse=True, return_counts=True)
    weights = np.ones(classes.size) if balanced else sizes.astype(np.float64)
    alloc = _largest_remainder(weights, size, sizes)
    rng = np.random.default_rng(seed)
    order = np.argsort(inv, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    picked = [rng.choice(order[s:s + m], size=k, replace=False)
              for s, m, k in zip(starts, sizes, alloc) if k > 0]
    return np.sort(np.concatenate(picked)).astype(np.int64)
