"""Canonical-class representatives: one fixed member per ``space.canonical_many`` class, without labels.

Models featurise (or encode as graphs) each arch's representative, so archs
that compute the same function — isomorphic and dead-edge-equivalent cells —
get one prediction. Table spaces (``size <= TABLE_LIMIT``, ``nb201``) map every
arch to the first of its class. ``eo`` (whose key is the cell's algebraic key
plus the macro choices) replaces the cell by the first cell of its class,
found through :func:`cell_class_hash` over all 9**6 cells, and keeps the
macro part.
"""
from __future__ import annotations

import numpy as np

from ..spaces import SearchSpace, get_space
from ..spaces.cell import CellEncoding

#: Spaces up to this size get per-process tables over every arch (features, representatives);
#: featurising is then one gather (NB201: 15,625 x 166 float32 = 10 MB).
TABLE_LIMIT = 100_000

_REPS: dict[str, np.ndarray] = {}
_CELL_REPS: dict[tuple[str, ...], np.ndarray] = {}
#: Cells of at most this many edges get a representative table (eo: 9**6 = 531,441 cells, 4 MB, ~0.3 s).
CELL_TABLE_LIMIT = 2_000_000


def _representatives(space: SearchSpace) -> np.ndarray:
    """For every lexicographic index of a table space, the smallest index of its canonical class."""
    rep = _REPS.get(space.name)
    if rep is None:
        keys = space.canonical_many(space.from_index(np.arange(space.size)))
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        rep = _REPS[space.name] = first[inverse.reshape(-1)].astype(np.int64)
    return rep


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrap-around arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def cell_class_hash(cell: CellEncoding, cells: np.ndarray) -> np.ndarray:
    """64-bit hash of each cell's algebraic canonical key (:meth:`CellEncoding.key`), vectorised.

    Mirrors the ``"algebraic"`` key: a node's value is the multiset of its
    terms, hashed as the wrap-around sum of the term hashes (with a term
    count; a node with no terms is zero); ``none`` or a zero source adds
    nothing, ``skip_connect`` adds the source's terms, any other op ``o``
    adds one term hashed from ``(o, hash of the source)``. Equal keys give
    equal hashes; distinct keys collide with probability about 2**-64 per pair.

    Parameters
    ----------
    cell : CellEncoding
    cells : ndarray, shape (n, n_edges), int
        Op indices in string order.

    Returns
    -------
    ndarray, shape (n,), uint64
        0 for cells whose output is zero.

    >>> from surrogate_eo.spaces.eo import CELL
    >>> a = np.array([[0, 0, 0, 3, 0, 0],   # conv_3x3 on 0->3: conv_3x3(x)
    ...               [1, 0, 0, 0, 3, 0],   # skip 0->1, conv_3x3 1->3: conv_3x3(x) too
    ...               [0, 0, 0, 4, 0, 0],   # sep_conv_3x3(x)
    ...               [3, 0, 0, 0, 0, 0]])  # nothing reaches the output: zero
    >>> h = cell_class_hash(CELL, a)
    >>> bool(h[0] == h[1]), bool(h[0] == h[2]), int(h[3])
    (True, False, 0)
    """
    cells = np.asarray(cells, dtype=np.int64)
    n = len(cells)
    none, skip = cell.ops.index(cell.zero_op), cell.ops.index(cell.identity_op)
    salt = _mix64(np.arange(1, len(cell.ops) + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    hashes = [np.full(n, 0x2545F4914F6CDD1D, dtype=np.uint64)]  # node 0: the input term "x"
    counts = [np.ones(n, dtype=np.int64)]
    edge_of = {e: k for k, e in enumerate(cell.edges)}
    for i in range(1, cell.n_nodes):
        h = np.zeros(n, dtype=np.uint64)
        c = np.zeros(n, dtype=np.int64)
        for j in range(i):
            op = cells[:, edge_of[(j, i)]]
            alive = (op != none) & (counts[j] > 0)
            passes = alive & (op == skip)
            applies = alive & (op != skip)
            term = _mix64(_mix64(hashes[j] ^ np.uint64(0x632BE59BD9B4E019)) + salt[op])
            h = h + np.where(passes, hashes[j], np.uint64(0)) + np.where(applies, term, np.uint64(0))
            c = c + np.where(passes, counts[j], 0) + applies
        hashes.append(h)
        counts.append(c)
    return np.where(counts[-1] > 0, _mix64(hashes[-1] + counts[-1].astype(np.uint64)), np.uint64(0))


def _cell_radix(cell: CellEncoding) -> np.ndarray:
    return len(cell.ops) ** np.arange(cell.n_edges - 1, -1, -1, dtype=np.int64)


def _cell_representatives(cell: CellEncoding) -> np.ndarray:
    """For every cell index (first edge most significant), the smallest cell index of its algebraic class."""
    rep = _CELL_REPS.get(cell.ops)
    if rep is None:
        n_cells = len(cell.ops) ** cell.n_edges
        cells = np.indices((len(cell.ops),) * cell.n_edges).reshape(cell.n_edges, -1).T
        _, first, inverse = np.unique(cell_class_hash(cell, cells), return_index=True, return_inverse=True)
        rep = first[inverse.reshape(-1)].astype(np.int32 if n_cells < 2**31 else np.int64)
        _CELL_REPS[cell.ops] = rep
    return rep


def _cell_canonical(space: SearchSpace) -> bool:
    """Whether ``space``'s canonical key is its cell's algebraic key plus the macro values (``eo``)."""
    cell = getattr(space, "cell", None)
    return (isinstance(cell, CellEncoding) and cell.key_style == "algebraic"
            and len(cell.ops) ** cell.n_edges <= CELL_TABLE_LIMIT)


def canonical_representatives(space: str | SearchSpace, batch: np.ndarray) -> np.ndarray:
    """Each arch replaced by one fixed member of its canonical class.

    Archs that share :meth:`SearchSpace.canonical_many`'s key (isomorphic or
    dead-edge-equivalent cells) map to one representative, so any model fed
    the result predicts one value per class, without labels. Table spaces
    (``size <= TABLE_LIMIT``, ``nb201``) use the first arch of the class in
    lexicographic order. Spaces whose key is an algebraic cell key plus the
    macro choices (``eo``) replace the cell by the first cell of its class
    (:func:`cell_class_hash` over all cells, built once per process) and keep
    the macro part. Other large spaces are returned unchanged.

    >>> sp = get_space("nb201")
    >>> a = sp.from_strings(["|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
    ...                      "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|"])
    >>> r = canonical_representatives(sp, a)
    >>> bool((r[0] == r[1]).all())       # the second cell's pool edge is dead (node 2 feeds nothing)
    True
    >>> eo = get_space("eo")
    >>> b = eo.from_strings([  # se(conv_3x3(x)) through node 1, and through node 2
    ...     "cell=|conv_3x3~0|+|none~0|none~1|+|none~0|se~1|none~2|;stem=spectral;width=24;cells=2;reductions=1",
    ...     "cell=|none~0|+|conv_3x3~0|none~1|+|none~0|none~1|se~2|;stem=spectral;width=24;cells=2;reductions=1"])
    >>> r = canonical_representatives(eo, b)
    >>> bool((r[0] == r[1]).all()), eo.to_string(r[0]) == eo.to_string(b[1])
    (True, True)
    """
    sp = get_space(space) if isinstance(space, str) else space
    if sp.size <= TABLE_LIMIT:
        return sp.from_index(_representatives(sp)[batch @ sp._radix])
    if not _cell_canonical(sp):
        return batch
    cell: CellEncoding = sp.cell  # type: ignore[attr-defined]
    ne = cell.n_edges
    rep = _cell_representatives(cell)[batch[:, :ne] @ _cell_radix(cell)].astype(np.int64)
    out = np.array(batch, dtype=np.int64, copy=True)
    out[:, :ne] = (rep[:, None] // _cell_radix(cell)[None, :]) % len(cell.ops)
    return out
