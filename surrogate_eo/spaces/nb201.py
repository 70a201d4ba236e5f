"""NAS-Bench-201's cell search space (Dong & Yang, ICLR 2020).

Six edges of a 4-node cell, five ops each: 5**6 = 15,625 architectures,
6,466 distinct computations. The vector order is the edge order of
NAS-Bench-201's string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.
:meth:`NB201Space.enumerate` returns NAS-Bench-201's own index order: the
lexicographic product (``CellStructure.gen_all``) shuffled by
``random.seed(88); random.shuffle(archs)`` as in its ``generate_meta_info``.
"""
from __future__ import annotations

import itertools
import random
from typing import ClassVar

import numpy as np

from ..errors import InvalidArchitectureError
from .base import ArchLike, SearchSpace
from .cell import CellEncoding

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
CELL = CellEncoding(OPS, n_nodes=4, key_style="nb201")


class NB201Space(SearchSpace):
    """The NAS-Bench-201 topology space; see the module docstring."""

    name: ClassVar[str] = "nb201"
    cell: ClassVar[CellEncoding] = CELL
    dim_names: ClassVar[tuple[str, ...]] = tuple(f"edge_{i}<-{j}" for j, i in CELL.edges)
    choices: ClassVar[tuple[tuple[str, ...], ...]] = (OPS,) * CELL.n_edges

    def __init__(self) -> None:
        super().__init__()
        self._order: np.ndarray | None = None  # NB201 index -> lexicographic index
        self._rank: np.ndarray | None = None  # lexicographic index -> NB201 index
        self._keys: np.ndarray | None = None  # lexicographic index -> canonical key

    # NB201's index order ------------------------------------------------------
    def _nb201_order(self) -> np.ndarray:
        if self._order is None:
            lex = list(range(self.size))  # gen_all order == lexicographic order
            random.Random(88).shuffle(lex)
            self._order = np.asarray(lex, dtype=np.int64)
            self._rank = np.empty_like(self._order)
            self._rank[self._order] = np.arange(self.size)
        return self._order

    def enumerate(self) -> np.ndarray:
        """All 15,625 archs in NAS-Bench-201's index order."""
        return self.from_index(self._nb201_order())

    def enumeration_index(self, archs) -> np.ndarray:  # noqa: ANN001 - see base
        """NAS-Bench-201 index of each arch (its row in NB201/NATS tables)."""
        self._nb201_order()
        assert self._rank is not None
        return self._rank[self.index(archs)]

    # strings --------------------------------------------------------------------
    def to_string(self, arch: ArchLike) -> str:
        batch, single = self.as_batch(arch)
        if not single:
            raise InvalidArchitectureError("to_string() takes one architecture; use to_strings()")
        return self.cell.to_string(batch[0])

    def from_string(self, text: str) -> np.ndarray:
        return self.cell.from_string(text, self.name)

    # canonical ------------------------------------------------------------------
    def _canonical_keys(self, batch: np.ndarray) -> list[str]:
        return list(self.canonical_many(batch))

    def canonical_many(self, archs) -> np.ndarray:  # noqa: ANN001 - see base
        """Canonical keys via a table over the whole space (built once, ~0.1 s)."""
        if self._keys is None:
            all_cells = np.array(list(itertools.product(range(len(OPS)), repeat=CELL.n_edges)))
            self._keys = np.asarray(self.cell.keys(all_cells), dtype=object)
        return self._keys[self.index(archs)]
