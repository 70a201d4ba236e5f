"""Machine-code walk of exported trees (numba), used when numba is installed.

The numpy walk of :class:`~surrogate_eo.surrogates._walk.CompiledTrees` spends
most of a single-row query in per-level array calls (a few microseconds each,
whatever the number of trees). Compiled, one row of a 500-tree forest of depth
6 is ~3,000 node visits: a few microseconds in all. The kernel walks every tree
of every row in the original tree order and sums like the numpy path:
float32 groups (XGBoost) as ``base`` then tree 0, 1, ... in float32, bit for bit;
float64 groups as ``base + scale * sum``.

numba is optional (``pip install surrogate-eo[fast]``); without it, or with
``SURROGATE_EO_JIT=0`` in the environment, :func:`kernel` is ``None`` and the
numpy walk answers. The kernel is compiled once per machine (numba's on-disk
cache next to this file) and loaded from there by later processes; importing
numba still costs about a second, so a forest asks for the kernel only from its
:data:`USE_AFTER`-th call on (:func:`wanted`).
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable

import numpy as np

#: Set to ``False`` to use the numpy walk in this process (tests compare both paths).
ENABLED = os.environ.get("SURROGATE_EO_JIT", "1") != "0"
#: A forest switches to the kernel on this many-th call (importing numba and loading the compiled
#: kernel costs ~1-2 s once per process: short commands and the load-time probe never pay it; a
#: search loop pays it once). Once loaded, every forest uses it at once.
USE_AFTER = 200
_LOCK = threading.Lock()
_KERNEL: list[Any] = []          # [] = not tried yet; [None] = unavailable; [fn] = loaded


def _build() -> Callable[..., None] | None:
    try:
        import numba
    except Exception:  # noqa: BLE001 - missing, or built for another numpy: the numpy walk answers
        return None

    @numba.njit(cache=True, nogil=True)
    def walk_sum(X: np.ndarray, ufeat: np.ndarray, uthr: np.ndarray, rec: np.ndarray, start: np.ndarray,
                 levels: np.ndarray, value64: np.ndarray, value32: np.ndarray, idx32: np.ndarray,
                 g32: np.ndarray, is32: np.ndarray, slot_group: np.ndarray, scale: np.ndarray,
                 base: np.ndarray, out: np.ndarray) -> None:
        n_tests, n_slots, n_groups = ufeat.shape[0], start.shape[0], base.shape[0]
        dec = np.empty(n_tests, np.int32)
        node = np.empty(n_slots, np.int32)
        acc64 = np.empty(n_groups, np.float64)
        for r in range(X.shape[0]):
            for u in range(n_tests):                  # every distinct split test of the forest, once
                dec[u] = 1 if X[r, ufeat[u]] >= uthr[u] else 0
            for s in range(n_slots):
                node[s] = start[s]
            for k in range(levels.shape[0]):          # one level of every tree still descending:
                for s in range(levels[k]):            # independent chains, so loads overlap
                    nd = node[s]                      # rec[nd] = (test, left, right): one cache line
                    node[s] = rec[nd, 1 + dec[rec[nd, 0]]]
            for i in range(g32.shape[0]):             # XGBoost's order and precision: base, tree 0, 1, ...
                acc = value32[node[idx32[i, 0]]]
                for j in range(1, idx32.shape[1]):
                    acc += value32[node[idx32[i, j]]]
                out[g32[i], r] = np.float64(acc)
            for g in range(n_groups):
                acc64[g] = 0.0
            for s in range(slot_group.shape[0]):
                g = slot_group[s]
                if g >= 0:
                    acc64[g] += value64[node[s]]
            for g in range(n_groups):
                if not is32[g]:                        # float64 groups: base + scale * sum
                    out[g, r] = base[g] + scale[g] * acc64[g]

    return walk_sum  # type: ignore[no-any-return]


def kernel() -> Callable[..., None] | None:
    """The compiled walk, or ``None`` when numba is missing or the JIT is switched off.

    Returns
    -------
    callable or None
        ``walk_sum(X, *layout, out)`` over the walking layout of
        :meth:`~surrogate_eo.surrogates._walk.CompiledTrees.jit_layout`, writing the
        ``(n_groups, n_rows)`` float64 outputs into ``out``.
    """
    if not ENABLED:
        return None
    if not _KERNEL:
        with _LOCK:
            if not _KERNEL:
                _KERNEL.append(_build())
    return _KERNEL[0]  # type: ignore[no-any-return]


def wanted(calls: int) -> Callable[..., None] | None:
    """The kernel for a forest on its ``calls``-th call: once loaded always, before that from :data:`USE_AFTER` on."""
    if not ENABLED:
        return None
    if _KERNEL:
        return _KERNEL[0]  # type: ignore[no-any-return]
    return kernel() if calls >= USE_AFTER else None


def loaded() -> bool:
    """Whether the kernel has been built (or loaded from numba's cache) in this process and is enabled."""
    return ENABLED and bool(_KERNEL) and _KERNEL[0] is not None
