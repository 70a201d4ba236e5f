"""Exported trees as flat arrays, evaluated for all trees at once: :class:`CompiledTrees`.

Two walks answer the same question:

- the machine-code walk of :mod:`~surrogate_eo.surrogates._jit` (numba, when
  installed): every tree of every row, node by node, a few microseconds for a
  500-tree forest;
- the numpy walk here, one tree level per step for all trees together:

  ``node = children[node + test[cond[node]]]``

  where ``test`` holds, for the row, the outcome of every *distinct* split test
  ``x[feature] >= threshold`` of the forest (a few hundred for our discrete
  features, evaluated in one vectorised comparison). Node ids are stored doubled
  (``2 * id``) so the child of a node is one gather; a leaf points at itself, so
  trees of different depth need no masks (trees are sorted by depth, each level
  only touches the trees still descending, and nodes are numbered level by level
  so a level's gathers stay in one region of memory).

XGBoost's outputs are summed its own way — float32, base score first, tree by
tree — and so reproduced bit for bit; LightGBM's and scikit-learn's in float64.
Split rules are unified as *go right when* ``x >= t`` (see
:mod:`~surrogate_eo.surrogates._export`).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import _jit

#: Batches of at least this many rows use the row-block kernel. Measured against the tree-major
#: kernel (``benchmarks/bench_predict.py``, ``row_kernel`` in its results): time ratio 2.7 (XGBoost) /
#: 3.2 (ensemble) at 1 row, 1.3 / 1.05 at 4 rows, 0.89 / 0.74 at 8 rows, 0.75 / 0.55 at 32 rows.
ROW_KERNEL_ROWS = 8
#: Rows each thread gets at least, when a model's library would run several threads: a chunk then
#: walks for ~6 ms (500 trees), far above the thread hand-off. On 2 free cores ``bench.predict``
#: of 10,000 eo archs went from 34.3 ms (1 thread) to 21.8 ms, XGBoost's own call from 75.4 to
#: 39.2 ms (``threads_ms`` in ``benchmarks/results/bench_predict.json``).
ROWS_PER_THREAD = 2048


class CompiledTrees:
    """Trees of one or more models as flat arrays, summed per *group* (one group per model).

    Parameters
    ----------
    feature : ndarray (N,) int
        Split feature of each node (0 at leaves).
    threshold : ndarray (N,) float64
        Go to the right child when ``x[feature] >= threshold`` (``+inf`` at leaves).
    left, right : ndarray (N,) int
        Child node ids (global); a leaf names itself.
    value : ndarray (N,) float64
        Leaf values (0 at internal nodes).
    roots : ndarray (T,) int
        Root node id of each tree.
    group : ndarray (T,) int
        Output each tree adds to.
    scale, base : ndarray (G,) float64
        Output ``g`` is ``base[g] + scale[g] * sum of its trees' leaves``.
    float32 : ndarray (G,) bool
        Groups summed like XGBoost: in float32, starting from ``base``, tree by tree in
        the original order (reproduces its predictions bit for bit); others sum in float64.
    n_features : int
        Columns the rows must have.
    """

    def __init__(self, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
                 value: np.ndarray, roots: np.ndarray, group: np.ndarray, scale: np.ndarray,
                 base: np.ndarray, float32: np.ndarray, n_features: int) -> None:
        self.parts = dict(feature=np.asarray(feature, np.int64), threshold=np.asarray(threshold, np.float64),
                          left=np.asarray(left, np.int64), right=np.asarray(right, np.int64),
                          value=np.asarray(value, np.float64), roots=np.asarray(roots, np.int64),
                          group=np.asarray(group, np.int64), scale=np.asarray(scale, np.float64),
                          base=np.asarray(base, np.float64), float32=np.asarray(float32, bool))
        self.n_features = int(n_features)
        self.n_trees, self.n_groups = len(self.parts["roots"]), len(self.parts["scale"])
        self._ready = False
        self._calls = 0
        self._rows: tuple[np.ndarray, ...] | None = None

    def _prepare(self) -> None:
        """Build the walking layout (once, on the first prediction)."""
        p = self.parts
        n_nodes = len(p["feature"])
        node_depth, node_tree = _node_levels(p["left"], p["right"], p["roots"])
        depth = np.zeros(len(p["roots"]), dtype=np.int64)
        np.maximum.at(depth, node_tree, node_depth)
        order = np.argsort(-depth, kind="stable")              # deepest trees first
        rank = np.empty(self.n_trees, dtype=np.int64)
        rank[order] = np.arange(self.n_trees)                 # tree t (original order) walks in slot rank[t]
        # renumber nodes level-major (all roots, then all depth-1 nodes, ...): a level's gathers stay local
        new = np.empty(n_nodes, dtype=np.int64)
        new[np.lexsort((rank[node_tree], node_depth))] = np.arange(n_nodes)
        old = np.argsort(new)
        feat, thr, val = p["feature"][old], p["threshold"][old], p["value"][old]
        left, right = new[p["left"][old]], new[p["right"][old]]
        # every distinct (feature, threshold) test is evaluated once per row, then looked up by node
        srt = np.lexsort((thr, feat))
        fresh = np.ones(n_nodes, dtype=bool)
        fresh[1:] = (feat[srt][1:] != feat[srt][:-1]) | (thr[srt][1:] != thr[srt][:-1])
        cond = np.empty(n_nodes, dtype=np.int64)
        cond[srt] = np.cumsum(fresh) - 1
        self._ufeat, self._uthr = feat[srt][fresh], thr[srt][fresh]
        # doubled ids: node 2i is node i; children2[2i + go_right] = 2 * child
        self._cond2 = np.repeat(cond.reshape(-1), 2)
        ch = np.empty(2 * n_nodes, dtype=np.int64)
        ch[0::2], ch[1::2] = 2 * left, 2 * right
        self._children2 = ch
        d = depth[order]
        self._levels = [int((d > k).sum()) for k in range(int(d.max(initial=0)))]
        # the walk state holds one slot per tree plus fixed slots: one per float32 group
        # pointing at its base value, and one pointing at 0.0 (padding)
        g, f32 = p["group"], p["float32"]
        self._g32, self._g64 = np.flatnonzero(f32), np.flatnonzero(~f32)
        n_extra = len(self._g32) + 1
        value = np.concatenate([np.repeat(val, 2), p["base"][self._g32], [0.0]])
        self._value64, self._value32 = value, value.astype(np.float32)
        extra_ids = 2 * n_nodes + np.arange(n_extra)
        self._start = np.concatenate([2 * new[p["roots"][order]], extra_ids])
        slot_base = self.n_trees + np.arange(len(self._g32))
        slot_zero = self.n_trees + len(self._g32)
        rows = [rank[g == k] for k in self._g32]
        width = max((len(r) for r in rows), default=0)
        self._idx32 = np.full((len(rows), 1 + width), slot_zero, dtype=np.int64)
        for i, r in enumerate(rows):
            self._idx32[i, 0] = slot_base[i]
            self._idx32[i, 1:1 + len(r)] = r
        self._w64 = np.zeros((len(self._g64), self.n_trees + n_extra))
        for i, k in enumerate(self._g64):
            self._w64[i, rank[g == k]] = p["scale"][k]
        self._base64 = p["base"][self._g64][:, None]
        self._only32 = len(self._g64) == 0 and np.array_equal(self._g32, np.arange(self.n_groups))
        slot_group = np.full(self.n_trees, -1, dtype=np.int64)          # per walk slot: its float64 group
        slot_group[rank] = np.where(f32[g], -1, g)
        # the compiled walk's node records (test, left, right), plain ids (see _jit)
        # (flat, uint32: the kernel indexes without negative-index checks)
        rec = np.stack([cond, left, right], axis=1).astype(np.uint32).reshape(-1)
        value_j = np.concatenate([val, p["base"][self._g32], [0.0]])
        start_j = np.concatenate([new[p["roots"][order]], n_nodes + np.arange(n_extra)]).astype(np.uint32)
        self._jit_layout = (self._ufeat.astype(np.int64), self._uthr, rec, start_j,
                            np.asarray(self._levels, dtype=np.int64), value_j, value_j.astype(np.float32),
                            self._idx32.astype(np.uint32), self._g32.astype(np.int64), f32, slot_group,
                            p["scale"], p["base"])
        self._ready = True

    def row_layout(self) -> tuple[np.ndarray, ...]:
        """Arrays of :func:`~surrogate_eo.surrogates._jit.row_kernel` (built once, on the first large batch).

        Nodes are renumbered tree by tree, breadth first, so a node's two children are
        adjacent (right = left + 1) and a tree's nodes share a few cache lines; a leaf
        names itself as left child and tests the extra, always-false test. Tests are
        stored as ``u * block`` (their offset in the kernel's outcome table). Ids are uint32
        (the kernel's unsigned indexing); ``()`` for a forest too large for them.
        """
        if self._rows is not None:
            return self._rows
        p = self.parts
        left, right, roots = p["left"], p["right"], p["roots"]
        n_nodes = len(left)
        levels, owners = [], []
        cur, own = roots.astype(np.int64), np.arange(len(roots))
        while cur.size:                                   # breadth first: a level's children in pairs
            levels.append(cur)
            owners.append(own)
            inner = left[cur] != cur
            cur, own = np.stack([left[cur[inner]], right[cur[inner]]], axis=1).reshape(-1), np.repeat(own[inner], 2)
        depth = np.zeros(len(roots), dtype=np.int64)
        for k, own in enumerate(owners):
            depth[own] = k
        old = np.concatenate(levels)[np.argsort(np.concatenate(owners), kind="stable")]   # tree-major
        new = np.empty(n_nodes, dtype=np.int64)
        new[old] = np.arange(len(old))
        feat, thr = p["feature"][old], p["threshold"][old]
        srt = np.lexsort((thr, feat))
        fresh = np.ones(len(old), dtype=bool)
        fresh[1:] = (feat[srt][1:] != feat[srt][:-1]) | (thr[srt][1:] != thr[srt][:-1])
        cond = np.empty(len(old), dtype=np.int64)
        cond[srt] = np.cumsum(fresh) - 1
        ufeat, uthr = feat[srt][fresh], thr[srt][fresh]
        leaf = left[old] == old
        block = _jit.BLOCK
        test = np.where(leaf, len(ufeat), cond) * block
        lft = np.where(leaf, np.arange(len(old)), new[left[old]])
        val = p["value"][old]
        if max(len(old), (len(ufeat) + 1) * block) >= 2 ** 32:   # pragma: no cover - beyond uint32 ids
            self._rows = ()
            return self._rows
        self._rows = (ufeat.astype(np.int64), uthr, test.astype(np.uint32), lft.astype(np.uint32),
                      new[roots].astype(np.uint32), depth, p["group"].astype(np.int64), val,
                      val.astype(np.float32), p["float32"], p["scale"], p["base"], block)
        return self._rows

    # ---------------------------------------------------------------- combine
    @classmethod
    def concat(cls, parts: Sequence[CompiledTrees]) -> CompiledTrees:
        """One forest whose groups are the groups of ``parts``, in order (e.g. every ensemble member)."""
        if len({p.n_features for p in parts}) != 1:
            raise ValueError("compiled models to combine must share one feature count")
        node_off, group_off = 0, 0
        cols: dict[str, list[np.ndarray]] = {k: [] for k in parts[0].parts}
        for p in parts:
            q = p.parts
            for k in ("feature", "threshold", "value", "scale", "base", "float32"):
                cols[k].append(q[k])
            for k in ("left", "right", "roots"):
                cols[k].append(q[k] + node_off)
            cols["group"].append(q["group"] + group_off)
            node_off += len(q["feature"])
            group_off += len(q["scale"])
        return cls(**{k: np.concatenate(v) for k, v in cols.items()}, n_features=parts[0].n_features)

    # --------------------------------------------------------------- evaluate
    def _walk(self, X: np.ndarray) -> np.ndarray:
        """Final slot state: leaf node (doubled id) of every tree, plus the fixed slots."""
        if not self._ready:
            self._prepare()
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features; got shape {X.shape}")
        n = len(X)
        cond, ch = self._cond2, self._children2
        if n == 1:
            dec = X[0][self._ufeat] >= self._uthr
            node = self._start.copy()
            for m in self._levels:
                sub = node[:m]
                node[:m] = ch[sub + dec[cond[sub]]]
            return node[:, None]
        dec = (X[:, self._ufeat] >= self._uthr).T.reshape(-1)     # test u of row r at u * n + r
        rows = np.arange(n, dtype=np.int64)
        node = np.repeat(self._start[:, None], n, axis=1)         # (slots, n): a level touches a prefix
        for m in self._levels:
            sub = node[:m]
            node[:m] = ch[sub + dec[cond[sub] * n + rows]]
        return node

    def predict_groups(self, X: np.ndarray, threads: int = 1) -> np.ndarray:
        """Output of every group for every row, shape ``(n_groups, n)`` float64.

        Uses the compiled kernels of :mod:`~surrogate_eo.surrogates._jit` when they are
        available and wanted (:func:`~surrogate_eo.surrogates._jit.wanted`): batches of
        at least :data:`ROW_KERNEL_ROWS` rows go to the row-block kernel, on up to
        ``threads`` threads (row chunks of at least :data:`ROWS_PER_THREAD`); else the
        numpy walk. All give the same numbers (float32 groups bit for bit, float64
        groups to rounding).
        """
        self._calls += 1
        walk_sum = _jit.wanted(self._calls)
        if walk_sum is not None:
            if not self._ready:
                self._prepare()
            X = np.asarray(X)
            if X.ndim != 2 or X.shape[1] != self.n_features:
                raise ValueError(f"expected rows of {self.n_features} features; got shape {X.shape}")
            if X.dtype != np.float32 and X.dtype != np.float64:
                X = X.astype(np.float64)
            X = np.ascontiguousarray(X)
            out = np.empty((self.n_groups, len(X)))
            walk_rows = _jit.row_kernel() if len(X) >= ROW_KERNEL_ROWS else None
            if walk_rows is None or not self.row_layout():
                walk_sum(X, *self._jit_layout, out)
            else:
                _run_rows(walk_rows, X, self.row_layout(), out, threads)
            return out
        node = self._walk(X)
        if len(self._g32):   # XGBoost's own order and precision: base, then tree 0, 1, ... in float32
            if node.shape[1] == 1:
                acc = np.add.accumulate(self._value32[node[:, 0][self._idx32]], axis=1)[:, -1:]
            else:
                acc = np.add.accumulate(self._value32[node[self._idx32]], axis=1)[:, -1]
            if self._only32:
                return acc.astype(np.float64)
        out = np.empty((self.n_groups, node.shape[1]))
        if len(self._g32):
            out[self._g32] = acc
        if len(self._g64):
            out[self._g64] = self._w64 @ self._value64[node] + self._base64
        return out

    def predict(self, X: np.ndarray, threads: int = 1) -> np.ndarray:
        """Output of a one-group forest (one model), shape ``(n,)``."""
        return self.predict_groups(X, threads)[0]


def _run_rows(walk_rows: Any, X: np.ndarray, layout: tuple[np.ndarray, ...], out: np.ndarray,
              threads: int) -> None:
    """The row-block kernel over ``X``, split in row chunks over up to ``threads`` threads (it releases the GIL)."""
    n = len(X)
    k = max(1, min(int(threads), n // ROWS_PER_THREAD))
    if k == 1:
        walk_rows(X, *layout, out)
        return
    cuts = np.linspace(0, n, k + 1).astype(int).tolist()
    spans = list(zip(cuts[:-1], cuts[1:]))
    # out[:, a:b] is a strided view: each chunk writes its own contiguous buffer, copied in after;
    # the calling thread walks the last chunk itself
    parts = [np.empty((out.shape[0], b - a)) for a, b in spans]
    pool = _pool(k - 1)
    futures = [pool.submit(walk_rows, X[a:b], *layout, part) for (a, b), part in zip(spans[:-1], parts[:-1])]
    walk_rows(X[spans[-1][0]:], *layout, parts[-1])
    for fut in futures:
        fut.result()
    for (a, b), part in zip(spans, parts):
        out[:, a:b] = part


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _pool(k: int) -> ThreadPoolExecutor:
    """A pool of ``k`` threads per process (made on first use; a forked child makes its own, since
    the parent's threads do not exist there)."""
    key = (os.getpid(), k)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = ThreadPoolExecutor(max_workers=k, thread_name_prefix="surrogate-eo-trees")
    return pool


def _node_levels(left: np.ndarray, right: np.ndarray, roots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth and tree of every node reachable from ``roots`` (a leaf names itself as child)."""
    depth = np.zeros(len(left), dtype=np.int64)
    tree = np.zeros(len(left), dtype=np.int64)
    cur, owner = np.asarray(roots, dtype=np.int64), np.arange(len(roots))
    level = 0
    while cur.size:
        depth[cur], tree[cur] = level, owner
        internal = left[cur] != cur
        cur, owner = cur[internal], owner[internal]
        cur, owner = np.concatenate([left[cur], right[cur]]), np.concatenate([owner, owner])
        level += 1
    return depth, tree


