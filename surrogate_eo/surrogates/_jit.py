"""Machine-code walk of exported trees (numba), used when numba is installed.

The numpy walk of :class:`~surrogate_eo.surrogates._walk.CompiledTrees` spends
most of a single-row query in per-level array calls (a few microseconds each,
whatever the number of trees). Compiled, one row of a 500-tree forest of depth
6 is ~3,000 node visits: a few microseconds in all. The kernel walks every tree
of every row in the original tree order and sums like the numpy path:
float32 groups (XGBoost) as ``base`` then tree 0, 1, ... in float32, bit for bit;
float64 groups as ``base + scale * sum``.

Large batches use a second kernel, :func:`row_kernel`: rows in blocks of
:data:`BLOCK` and, per block, tree after tree (the tree's nodes and the block's
test outcomes stay in the L1 cache; the rows of a block are independent chains).
It sums in the same order and precision, so both kernels give the same numbers.

numba is a dependency, imported only when worth it; without it (a platform
without wheels) or with ``SURROGATE_EO_JIT=0`` in the environment, :func:`kernel` is ``None`` and the
numpy walk answers. The kernel is compiled once per machine (numba's on-disk
cache next to this file) and loaded from there by later processes; importing
numba still costs about a second, so a forest asks for the kernel only from its
:data:`USE_AFTER`-th call on (:func:`wanted`), or the process once it has sent
:data:`USE_AFTER_ROWS` rows of large batches to the libraries (:func:`note_rows`).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._numba import build_once, env_enabled

#: Set to ``False`` to use the numpy walk in this process (tests compare both paths).
ENABLED = env_enabled()
#: A forest switches to the kernel on this many-th call (importing numba and loading the compiled
#: kernel costs ~1-2 s once per process: short commands and the load-time probe never pay it; a
#: search loop pays it once). Once loaded, every forest uses it at once.
USE_AFTER = 200
#: Or once this many rows of large batches have gone to the library (:func:`note_rows`): the
#: library's time for them (~0.8 s XGBoost, ~5 s the xgb+lgb ensemble, 1 thread) is about what
#: loading the kernels costs, and the kernels then walk every later batch in a third to a half of it.
USE_AFTER_ROWS = 100_000
#: Rows per block of :func:`row_kernel` (32-256 measured alike on 10,000 eo rows).
BLOCK = 64
_KERNEL: list[Any] = []          # [] = not tried yet; [None] = unavailable; [fn] = loaded
_ROWS: list[Any] = []            # the row-block kernel, built with the first
_LIBRARY_ROWS = [0]              # rows of large batches sent to the library before the kernels loaded


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
        dec = np.empty(n_tests, np.uint32)
        node = np.empty(n_slots, np.uint32)
        acc64 = np.empty(n_groups, np.float64)
        three, one = np.uint32(3), np.uint32(1)       # unsigned index arithmetic: no negative-index
        for r in range(X.shape[0]):                   # wrap-around code (1.6x faster, measured)
            for u in range(n_tests):                  # every distinct split test of the forest, once
                dec[u] = 1 if X[r, ufeat[u]] >= uthr[u] else 0
            for s in range(n_slots):
                node[s] = start[s]
            for k in range(levels.shape[0]):          # one level of every tree still descending:
                for s in range(levels[k]):            # independent chains, so loads overlap
                    nd = node[s] * three              # rec[3 nd:3 nd + 3] = (test, left, right)
                    node[s] = rec[nd + one + dec[rec[nd]]]
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

    @numba.njit(cache=True, nogil=True)
    def walk_rows(X: np.ndarray, ufeat: np.ndarray, uthr: np.ndarray, test: np.ndarray, left: np.ndarray,
                  root: np.ndarray, depth: np.ndarray, tree_group: np.ndarray, value64: np.ndarray,
                  value32: np.ndarray, is32: np.ndarray, scale: np.ndarray, base: np.ndarray,
                  block: int, out: np.ndarray) -> None:
        n_rows, n_tests, n_groups = X.shape[0], ufeat.shape[0], base.shape[0]
        dec = np.zeros((n_tests + 1) * block, np.uint8)   # test u of block row i at u * block + i; the
        node = np.empty(block, np.uint32)                 # last test (leaves' own) is always 0
        acc32 = np.empty((n_groups, block), np.float32)
        acc64 = np.empty((n_groups, block), np.float64)
        for r0 in range(0, n_rows, block):
            b = min(block, n_rows - r0)
            for u in range(n_tests):
                f, t, o = ufeat[u], uthr[u], u * block
                for i in range(b):
                    dec[o + i] = 1 if X[r0 + i, f] >= t else 0
            for g in range(n_groups):
                for i in range(b):
                    acc32[g, i] = np.float32(base[g])
                    acc64[g, i] = 0.0
            for tr in range(root.shape[0]):               # trees in their original order
                rt = root[tr]
                for i in range(b):
                    node[i] = rt
                for _ in range(depth[tr]):                # children are adjacent: right = left + 1
                    for i in range(b):                    # unsigned indices: no negative-index
                        nd = node[i]                      # wrap-around code (1.7x faster, measured)
                        node[i] = left[nd] + dec[test[nd] + np.uint32(i)]
                g = tree_group[tr]
                if is32[g]:                               # XGBoost's order and precision
                    for i in range(b):
                        acc32[g, i] += value32[node[i]]
                else:
                    for i in range(b):
                        acc64[g, i] += value64[node[i]]
            for g in range(n_groups):
                for i in range(b):
                    out[g, r0 + i] = np.float64(acc32[g, i]) if is32[g] else base[g] + scale[g] * acc64[g, i]

    _ROWS.append(walk_rows)
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
    return build_once(_KERNEL, _build)  # type: ignore[no-any-return]


def row_kernel() -> Callable[..., None] | None:
    """The row-block kernel for large batches (built with :func:`kernel`), or ``None``.

    Returns
    -------
    callable or None
        ``walk_rows(X, *layout, block, out)`` over the layout of
        :meth:`~surrogate_eo.surrogates._walk.CompiledTrees.row_layout`, writing the
        ``(n_groups, n_rows)`` float64 outputs into ``out``.
    """
    if kernel() is None:
        return None
    return _ROWS[0] if _ROWS else None


def wanted(calls: int) -> Callable[..., None] | None:
    """The kernel for a forest on its ``calls``-th call: once loaded always, before that from :data:`USE_AFTER` on."""
    if not ENABLED:
        return None
    if _KERNEL:
        return _KERNEL[0]  # type: ignore[no-any-return]
    return kernel() if calls >= USE_AFTER else None


def note_rows(n_rows: int) -> None:
    """A batch of ``n_rows`` is too large for the numpy walk: load the kernels (once) when earlier such
    batches already sent :data:`USE_AFTER_ROWS` rows to the libraries, else count these rows.

    So a process sending only large batches gets the kernels from its second batch past the
    mark on, and a one-shot command never pays for loading them.
    """
    if not ENABLED or _KERNEL:
        return
    if _LIBRARY_ROWS[0] >= USE_AFTER_ROWS:
        kernel()
    else:
        _LIBRARY_ROWS[0] += int(n_rows)


def loaded() -> bool:
    """Whether the kernel has been built (or loaded from numba's cache) in this process and is enabled."""
    return ENABLED and bool(_KERNEL) and _KERNEL[0] is not None
