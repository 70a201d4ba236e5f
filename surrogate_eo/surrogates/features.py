"""Architecture featurisation: one-hot, derived cell statistics, path encodings, graphs.

Every function takes a validated ``(n, d)`` int64 batch and returns a
``float32`` matrix; all work is vectorised over the batch (loops run over the
handful of cell edges and paths, never over architectures).

Feature blocks (names for :class:`Featurizer`'s ``blocks``):

``"onehot"``
    One column per (position, choice) of the categorical vector.
``"derived"``
    Per-op counts over all edges and over *live* edges (edges on a non-zero
    input→output path, :meth:`CellEncoding.live_edges`), the number of live
    edges, the longest live path (:meth:`CellEncoding.longest_path`), and the
    numeric macro values of spaces that have them (``eo``: width, cells,
    reductions).
``"path"``
    Path encoding (White et al., BANANAS 2021): for every input→output path
    of the cell DAG whose edges are all non-``none``, count its op sequence;
    one column per sequence of 1..L non-zero ops.
``"cpath"``
    Computation paths: the same paths with ``skip_connect`` removed, so two
    paths that compute the same composition of ops share a column (one column
    per sequence of 0..L "real" ops). Very predictive on NB201.
``"synflow"``
    One column: the closed-form log SynFlow objective of the arch's network
    at initialisation (:func:`~surrogate_eo.surrogates.proxies.log_synflow`), a
    data-free zero-cost proxy. Not in any space's defaults.
``"jacov"``
    One column: the Jacobian-covariance score of the arch's untrained network
    on seeded Gaussian inputs (:func:`~surrogate_eo.surrogates.jacov.jacov`), a
    zero-cost proxy that runs the network (needs torch; about 70 ms per new
    isomorphism class, then cached). Not in any space's defaults; a featurizer
    with it keeps no feature table.

``"default"`` in ``blocks`` stands for the space's default blocks, so
``("default", "synflow")`` adds the proxy to them on any space.

The op-on-node DAG the graph models read is :func:`~surrogate_eo.surrogates.graphs.graph_encoding`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import SurrogateError
from ..spaces import SearchSpace, get_space
from ..spaces.base import BatchLike
from ..spaces.cell import CellEncoding
from .canonical import TABLE_LIMIT, _cell_canonical, _representatives, canonical_representatives
from .proxies import log_synflow

BLOCKS: tuple[str, ...] = ("onehot", "derived", "path", "cpath", "synflow", "jacov")
#: Blocks computed for the classes asked for, never for a whole-space table (they run a network per class).
ON_DEMAND_BLOCKS: tuple[str, ...] = ("jacov",)
#: Blocks used when a model is not told otherwise, per space (``eo``'s raw paths would add 584 columns).
DEFAULT_BLOCKS: dict[str, tuple[str, ...]] = {
    "nb201": ("onehot", "derived", "path", "cpath"),
    "eo": ("onehot", "derived", "cpath"),
}


#: Feature tables of spaces up to TABLE_LIMIT archs, per (space, blocks, canonical).
_TABLES: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}


def default_blocks(space: str) -> tuple[str, ...]:
    """Feature blocks a model of ``space`` uses when ``features=None``."""
    return DEFAULT_BLOCKS.get(space, ("onehot", "derived", "cpath"))


def cell_paths(cell: CellEncoding) -> list[tuple[int, ...]]:
    """Every input→output path of ``cell``'s DAG as a tuple of edge indices (string order)."""
    edge_of = {e: k for k, e in enumerate(cell.edges)}
    out: list[tuple[int, ...]] = []

    def walk(node: int, acc: tuple[int, ...]) -> None:
        if node == cell.n_nodes - 1:
            out.append(acc)
            return
        for nxt in range(node + 1, cell.n_nodes):
            walk(nxt, acc + (edge_of[(node, nxt)],))

    walk(0, ())
    return out


@dataclass(frozen=True)
class Featurizer:
    """Turns architectures of one space into a float32 feature matrix.

    Parameters
    ----------
    space : str
        Name of the search space (``"nb201"``, ``"eo"``).
    blocks : tuple of str or None
        Which feature blocks to concatenate, in order; see the module docstring.
        ``None`` means :func:`default_blocks` of the space, and so does the entry
        ``"default"`` (e.g. ``("default", "synflow")``); the featurizer keeps the
        expanded tuple.
    canonical : bool, default=False
        Featurise each arch's isomorphism-class representative
        (:func:`canonical_representatives`), so archs that compute the same
        function get identical rows — and identical predictions. Models use
        ``True``. Applies to table spaces (``nb201``) and to spaces whose key is
        an algebraic cell key plus macro choices (``eo``); other large spaces
        are featurised as given.

    Examples
    --------
    >>> f = Featurizer(space="nb201", blocks=("onehot",))
    >>> f.transform(["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]).shape
    (1, 30)
    """

    space: str
    blocks: tuple[str, ...] | None = None
    canonical: bool = False

    def __post_init__(self) -> None:
        get_space(self.space)
        given = ("default",) if self.blocks is None else tuple(self.blocks)
        blocks = tuple(b for g in given for b in (default_blocks(self.space) if g == "default" else (g,)))
        object.__setattr__(self, "blocks", blocks)
        bad = [b for b in blocks if b not in BLOCKS]
        if bad or not blocks or len(set(blocks)) != len(blocks):
            raise SurrogateError(
                f"feature blocks {list(given)!r} are invalid; expected a non-empty subset of {list(BLOCKS)} "
                f"(or 'default' for {list(default_blocks(self.space))}) without repeats"
            )

    # ---------------------------------------------------------------- layout
    @cached_property
    def _space(self) -> SearchSpace:
        return get_space(self.space)

    @cached_property
    def _cell(self) -> CellEncoding:
        return self._space.cell  # type: ignore[attr-defined]

    @cached_property
    def _layout(self) -> dict[str, Any]:
        space, cell = self._space, self._cell
        ops = cell.ops
        none, skip = ops.index(cell.zero_op), ops.index(cell.identity_op)
        nonzero = [i for i in range(len(ops)) if i != none]
        real = [i for i in nonzero if i != skip]
        paths = cell_paths(cell)
        lmax = max(len(p) for p in paths)
        nz_code = np.full(len(ops), -1, dtype=np.int64)
        nz_code[nonzero] = np.arange(len(nonzero))
        real_code = np.full(len(ops), -1, dtype=np.int64)
        real_code[real] = np.arange(len(real))
        path_off = np.cumsum([0] + [len(nonzero) ** k for k in range(1, lmax + 1)])  # lengths 1..L
        cpath_off = np.cumsum([0] + [len(real) ** k for k in range(0, lmax + 1)])  # lengths 0..L
        n_cell = cell.n_edges
        macro = list(range(n_cell, space.n_dims))
        macro_numeric = [p for p in macro if all(isinstance(c, (int, float)) for c in space.choices[p])]
        return dict(none=none, skip=skip, nonzero=nonzero, real=real, paths=paths, nz_code=nz_code,
                    real_code=real_code, path_off=path_off, cpath_off=cpath_off, n_cell=n_cell,
                    macro_numeric=macro_numeric)

    @cached_property
    def feature_names(self) -> list[str]:
        """Names of the columns of :meth:`transform`, in order."""
        space, cell, lay = self._space, self._cell, self._layout
        ops = cell.ops
        names: list[str] = []
        for b in self.blocks:
            if b == "onehot":
                names += [f"{n}={c}" for n, ch in zip(space.dim_names, space.choices) for c in ch]
            elif b == "derived":
                names += [f"count:{o}" for o in ops] + [f"live:{o}" for o in ops]
                names += ["n_live_edges", "longest_path"]
                names += [f"value:{space.dim_names[p]}" for p in lay["macro_numeric"]]
            elif b == "path":
                alph = [ops[i] for i in lay["nonzero"]]
                for length in range(1, len(lay["path_off"])):
                    names += ["path:" + ">".join(seq) for seq in _sequences(alph, length)]
            elif b == "cpath":
                alph = [ops[i] for i in lay["real"]]
                for length in range(0, len(lay["cpath_off"]) - 1):
                    names += ["cpath:" + (">".join(seq) or "identity") for seq in _sequences(alph, length)]
            elif b in ("synflow", "jacov"):
                names.append(b)
        return names

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    # ------------------------------------------------------------- transform
    def transform(self, archs: BatchLike) -> np.ndarray:
        """Feature matrix ``(n, n_features)`` float32 of ``archs`` (validated here)."""
        return self.transform_valid(self._space.validate(archs))

    def transform_valid(self, batch: np.ndarray) -> np.ndarray:
        """Like :meth:`transform` for a batch already validated by the space (no checks).

        Small spaces (``size <= TABLE_LIMIT``) answer from a table of every
        arch's features, built on first use; larger ones, and featurizers with
        an :data:`ON_DEMAND_BLOCKS` block, compute the blocks.
        """
        space = self._space
        table = self.table()
        if table is not None:
            return table[batch @ space._radix]
        return self.compute(canonical_representatives(space, batch) if self.canonical else batch)

    def table(self) -> np.ndarray | None:
        """Features of every arch of a small space (``size <= TABLE_LIMIT``) in index order, else ``None``.

        ``None`` too for a featurizer with an :data:`ON_DEMAND_BLOCKS` block (``jacov``: scored per class).

        Built on first use and shared by every featurizer of the same space and blocks.
        """
        space = self._space
        if space.size > TABLE_LIMIT or set(self.blocks) & set(ON_DEMAND_BLOCKS):
            return None
        key = (self.space, self.blocks, self.canonical)
        table = _TABLES.get(key)
        if table is None:
            idx = _representatives(space) if self.canonical else np.arange(space.size)
            table = _TABLES[key] = self.compute(space.from_index(idx))
        return table

    @cached_property
    def finite(self) -> bool:
        """Whether every feature value is finite (never NaN): counts, one-hots and finite choice values."""
        space, lay = self._space, self._layout
        return all(np.isfinite(np.asarray(space.choices[p], dtype=np.float64)).all() for p in lay["macro_numeric"])

    def compute(self, batch: np.ndarray) -> np.ndarray:
        """Compute the feature blocks of a validated batch (no table lookup).

        Every block is written straight into one preallocated float32 matrix by
        :mod:`~surrogate_eo.surrogates._fill` (scatters of small lookup tables; the
        ``_block_*`` methods here are the readable reference it is tested against,
        value for value).
        """
        out = np.zeros((len(batch), self.n_features), dtype=np.float32)
        fill = self._filler
        col = 0
        for b in self.blocks:
            width = self._widths[b]
            if not fill.fill(b, batch, out, col):
                out[:, col:col + width] = getattr(self, f"_block_{b}")(batch)
            col += width
        return out

    def reference(self, batch: np.ndarray) -> np.ndarray:
        """The feature blocks computed one by one and concatenated (what :meth:`compute` must equal)."""
        parts = [getattr(self, f"_block_{b}")(batch) for b in self.blocks]
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    @cached_property
    def _widths(self) -> dict[str, int]:
        """Columns of each block."""
        return {b: Featurizer(space=self.space, blocks=(b,)).n_features for b in self.blocks}

    @cached_property
    def _filler(self) -> Any:
        from ._fill import BlockFiller

        return BlockFiller(self._space, self._layout)

    def _block_onehot(self, batch: np.ndarray) -> np.ndarray:
        dims = np.asarray(self._space.dims)
        off = np.concatenate([[0], np.cumsum(dims)[:-1]])
        out = np.zeros((len(batch), int(dims.sum())), dtype=np.float32)
        rows = np.repeat(np.arange(len(batch)), len(dims))
        out[rows, (batch + off).reshape(-1)] = 1.0
        return out

    def _block_derived(self, batch: np.ndarray) -> np.ndarray:
        cell, lay = self._cell, self._layout
        cells = batch[:, :lay["n_cell"]]
        live = cell.live_edges(cells)
        onehot = np.eye(len(cell.ops), dtype=np.float32)[cells]  # (n, edges, ops)
        counts = onehot.sum(axis=1)
        live_counts = np.einsum("neo,ne->no", onehot, live.astype(np.float32))
        extra = [live.sum(axis=1, keepdims=True).astype(np.float32),
                 cell.longest_path(cells)[:, None].astype(np.float32)]
        space = self._space
        for p in lay["macro_numeric"]:
            values = np.asarray(space.choices[p], dtype=np.float32)
            extra.append(values[batch[:, p]][:, None])
        return np.concatenate([counts, live_counts] + extra, axis=1)

    def _block_path(self, batch: np.ndarray) -> np.ndarray:
        lay = self._layout
        base = len(lay["nonzero"])
        out = np.zeros((len(batch), int(lay["path_off"][-1])), dtype=np.float32)
        rows = np.arange(len(batch))
        for path in lay["paths"]:
            codes = lay["nz_code"][batch[:, list(path)]]  # (n, L), -1 where the op is none
            alive = (codes >= 0).all(axis=1)
            col = lay["path_off"][len(path) - 1] + (codes * base ** np.arange(len(path))).sum(axis=1)
            out[rows[alive], col[alive]] += 1.0
        return out

    def _block_cpath(self, batch: np.ndarray) -> np.ndarray:
        lay = self._layout
        base = len(lay["real"])
        out = np.zeros((len(batch), int(lay["cpath_off"][-1])), dtype=np.float32)
        rows = np.arange(len(batch))
        for path in lay["paths"]:
            ops = batch[:, list(path)]
            alive = (ops != lay["none"]).all(axis=1)
            code = np.zeros(len(batch), dtype=np.int64)
            length = np.zeros(len(batch), dtype=np.int64)
            for k in range(len(path)):
                rc = lay["real_code"][ops[:, k]]
                is_real = rc >= 0
                code = np.where(is_real, code + rc * base ** length, code)
                length += is_real
            col = lay["cpath_off"][length] + code
            out[rows[alive], col[alive]] += 1.0
        return out

    def _block_synflow(self, batch: np.ndarray) -> np.ndarray:
        return log_synflow(self._space, batch)[:, None].astype(np.float32)

    def _block_jacov(self, batch: np.ndarray) -> np.ndarray:
        from .jacov import jacov

        return jacov(self._space, batch)[:, None].astype(np.float32)

    # --------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (enough to rebuild an identical featurizer)."""
        out = {"space": self.space, "blocks": list(self.blocks), "n_features": self.n_features}
        if self.canonical:
            out["canonical"] = True
            if self._space.size > TABLE_LIMIT and _cell_canonical(self._space):
                out["canonical_cells"] = True  # large spaces canonicalise their cells since schema 2 of this dict
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Featurizer:
        """Rebuild from :meth:`to_dict`; refuses a feature count that does not match."""
        try:
            f = cls(space=str(d["space"]), blocks=tuple(str(b) for b in d["blocks"]),
                    canonical=d.get("canonical", False) is True)
        except (KeyError, TypeError) as exc:
            raise SurrogateError(f"featurizer description {d!r} lacks 'space'/'blocks': {exc}") from None
        if f.canonical and f._space.size > TABLE_LIMIT and _cell_canonical(f._space) \
                and d.get("canonical_cells") is not True:
            raise SurrogateError(
                f"featurizer description for {f.space} says canonical=True but not canonical_cells=True: it was made "
                f"by a version that featurised {f.space} archs as given, which this version would featurise by their "
                f"isomorphism class; refit the model (surrogate-eo surrogates fit ...)"
            )
        if "n_features" in d and int(d["n_features"]) != f.n_features:
            raise SurrogateError(
                f"featurizer for {f.space} with blocks {list(f.blocks)} has {f.n_features} features, "
                f"but the description says {d['n_features']} (made by another version?)"
            )
        return f


def _sequences(alphabet: list[str], length: int) -> list[tuple[str, ...]]:
    """All sequences of ``length`` symbols; symbol k of a sequence has weight len(alphabet)**k."""
    if length == 0:
        return [()]
    idx = np.indices((len(alphabet),) * length).reshape(length, -1).T  # row-major, first symbol slowest
    # column code = sum(sym_k * base**k): symbol 0 is the fastest-varying digit
    return [tuple(alphabet[i] for i in row[::-1]) for row in idx]
