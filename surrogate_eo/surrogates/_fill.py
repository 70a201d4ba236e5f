"""Fast feature blocks: each written straight into one preallocated float32 matrix.

:meth:`Featurizer.compute <surrogate_eo.surrogates.features.Featurizer.compute>` of a large
space (``eo``: 28.7 M archs, no table of every arch) runs on every batch a search or a
landscape walk sends. The readable ``_block_*`` methods of the featurizer build each block
as its own array from per-edge temporaries and concatenate them (17.6 ms for 10,000 ``eo``
archs, a fifth of a 500-tree XGBoost's own prediction time; ``benchmarks/bench_predict.py``).
Here the same values come from small lookup tables, scattered into the output matrix through
flat indices (7.1 ms, about half of it allocating and touching the 19.5 MB matrix):

``"onehot"``
    one scatter of ``1.0`` at ``row * n_features + column`` for every position.
``"derived"``
    op counts and live-op counts by :func:`numpy.bincount` over ``row * n_ops + op``;
    which edges are live and the longest live path depend only on each edge's class
    (``none`` / ``skip`` / other op): a table over the ``3 ** n_edges`` class patterns
    (729 for 6 edges), filled by :meth:`CellEncoding.live_edges` and
    :meth:`CellEncoding.longest_path` themselves.
``"cpath"``
    for each cell path of ``L`` edges, a table over the ``n_ops ** L`` op sequences
    (at most 729 for ``eo``) gives its column (or none when an op is ``none``); one
    ``+= 1`` scatter per path (a path adds at most once per row, so no index repeats).

Values are small integer counts, one-hots and choice values, so they equal the
reference bit for bit (``tests/surrogates/test_features_fill.py`` compares both on
random archs of every space). Blocks without a fast path (``"path"``, spaces whose
tables would be too large) return ``False`` and the featurizer uses its reference.

>>> import numpy as np
>>> from surrogate_eo.spaces import get_space
>>> from surrogate_eo.surrogates.features import Featurizer
>>> f = Featurizer(space="eo", blocks=("onehot", "derived", "cpath"))
>>> batch = get_space("eo").sample(50, seed=0)
>>> bool((f.compute(batch) == f.reference(batch)).all())
True
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..spaces import SearchSpace
from ..spaces.cell import CellEncoding

#: Largest lookup table built (entries): class patterns ``3 ** n_edges``, op sequences ``n_ops ** L``.
TABLE_LIMIT = 1_000_000


class BlockFiller:
    """Fast fills of the ``onehot``, ``derived`` and ``cpath`` blocks of one space's layout.

    Parameters
    ----------
    space : SearchSpace
        A cell space (``nb201``, ``eo``).
    layout : dict
        The featurizer's layout (op codes, paths, offsets, numeric macro positions).
    """

    def __init__(self, space: SearchSpace, layout: dict[str, Any]) -> None:
        self.space, self.lay = space, layout
        self.cell: CellEncoding = space.cell  # type: ignore[attr-defined]
        self.n_ops = len(self.cell.ops)
        dims = np.asarray(space.dims, dtype=np.int64)
        self.onehot_off = np.concatenate([[0], np.cumsum(dims)[:-1]])
        # class of each op (0 none, 1 skip, 2 any other) and the radix of a cell's class pattern
        self._cls = np.full(self.n_ops, 2, dtype=np.int64)
        self._cls[layout["none"]], self._cls[layout["skip"]] = 0, 1
        self._pattern_radix = 3 ** np.arange(layout["n_cell"], dtype=np.int64)
        self._patterns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._paths: list[tuple[list[int], np.ndarray, np.ndarray]] | None = None

    def fill(self, block: str, batch: np.ndarray, out: np.ndarray, col: int) -> bool:
        """Write ``block`` of ``batch`` into ``out[:, col:...]`` (zeros there); ``False`` when it has no fast path."""
        fn = getattr(self, f"_{block}", None)
        return bool(fn is not None and fn(batch, out, col))

    # ------------------------------------------------------------ blocks
    def _onehot(self, batch: np.ndarray, out: np.ndarray, col: int) -> bool:
        n, nf = out.shape
        flat = out.reshape(-1)
        rows = np.arange(0, n * nf, nf, dtype=np.int64)[:, None]
        flat[(rows + (col + self.onehot_off)) + batch] = 1.0
        return True

    def _derived(self, batch: np.ndarray, out: np.ndarray, col: int) -> bool:
        tables = self._pattern_tables()
        if tables is None:
            return False
        live_of, n_live_of, longest_of = tables
        lay, n_ops = self.lay, self.n_ops
        n, ne = len(batch), lay["n_cell"]
        cells = batch[:, :ne]
        pattern = self._cls[cells] @ self._pattern_radix       # class pattern of each cell
        local = np.arange(0, n * n_ops, n_ops, dtype=np.int64)[:, None] + cells    # row * n_ops + op
        out[:, col:col + n_ops] = np.bincount(local.reshape(-1), minlength=n * n_ops).reshape(n, n_ops)
        live = live_of[pattern]                                  # (n, ne) bool
        out[:, col + n_ops:col + 2 * n_ops] = np.bincount(local[live], minlength=n * n_ops).reshape(n, n_ops)
        c = col + 2 * n_ops
        out[:, c] = n_live_of[pattern]
        out[:, c + 1] = longest_of[pattern]
        for k, p in enumerate(lay["macro_numeric"]):
            out[:, c + 2 + k] = np.asarray(self.space.choices[p], dtype=np.float32)[batch[:, p]]
        return True

    def _cpath(self, batch: np.ndarray, out: np.ndarray, col: int) -> bool:
        paths = self._path_tables()
        if paths is None:
            return False
        n, nf = out.shape
        flat = out.reshape(-1)
        rows = np.arange(0, n * nf, nf, dtype=np.int64) + col
        for edges, radix, column in paths:
            c = column[batch[:, edges] @ radix]                 # the path's column, -1 when it is dead
            alive = c >= 0
            flat[rows[alive] + c[alive]] += 1.0
        return True

    # ------------------------------------------------------------ tables
    def _pattern_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Per class pattern: live-edge mask, number of live edges, longest live path (``None`` if too many)."""
        if self._patterns is None:
            ne = self.lay["n_cell"]
            if 3 ** ne > TABLE_LIMIT:
                return None
            classes = np.indices((3,) * ne).reshape(ne, -1).T[:, ::-1]     # pattern code = sum cls_e * 3**e
            real = [o for o in range(self.n_ops) if o not in (self.lay["none"], self.lay["skip"])]
            if not real:
                return None
            op_of = np.array([self.lay["none"], self.lay["skip"], real[0]], dtype=np.int64)
            cells = op_of[classes]
            live = self.cell.live_edges(cells)
            self._patterns = (live, live.sum(axis=1).astype(np.float32),
                              self.cell.longest_path(cells).astype(np.float32))
        return self._patterns

    def _path_tables(self) -> list[tuple[list[int], np.ndarray, np.ndarray]] | None:
        """Per cell path: its edges, the op-sequence radix and the cpath column of every sequence (-1: dead)."""
        if self._paths is None:
            lay, n_ops = self.lay, self.n_ops
            if any(n_ops ** len(p) > TABLE_LIMIT for p in lay["paths"]):
                return None
            base = len(lay["real"])
            out = []
            for path in lay["paths"]:
                L = len(path)
                ops = np.indices((n_ops,) * L).reshape(L, -1).T[:, ::-1]   # sequence code = sum op_k * n_ops**k
                alive = (ops != lay["none"]).all(axis=1)
                code = np.zeros(len(ops), dtype=np.int64)
                length = np.zeros(len(ops), dtype=np.int64)
                for k in range(L):                         # "real" ops in order; skips add nothing
                    rc = lay["real_code"][ops[:, k]]
                    code = np.where(rc >= 0, code + rc * base ** length, code)
                    length += rc >= 0
                column = np.where(alive, lay["cpath_off"][length] + code, -1)
                out.append((list(path), n_ops ** np.arange(L, dtype=np.int64), column))
            self._paths = out
        return self._paths
