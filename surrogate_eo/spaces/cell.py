"""Cell DAGs in NAS-Bench-201's encoding, shared by the ``nb201`` and ``eo`` spaces.

A cell has nodes ``0..n-1``; node 0 is the cell input, node ``n-1`` its
output, and every pair ``j < i`` is joined by an edge carrying one op. Edges
are ordered as in NAS-Bench-201's string
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: grouped by target node, then by
source node.

Canonical keys describe the computation symbolically, in one of two styles:

``"algebraic"`` (the ``eo`` space)
    Each node is the sorted multiset of the terms flowing into it: ``none``
    contributes nothing (a zero), ``skip_connect`` passes its input's terms
    through, any other op ``o`` on node value ``v`` gives the term ``o(v)``,
    and any op on a zero node gives zero. Isomorphic cells and cells that
    differ only in edges that cannot reach the output share a key.
``"nb201"`` (the ``nb201`` space)
    NAS-Bench-201's own ``CellStructure.to_unique_str(consider_zero=True)``,
    reproduced exactly because its 6,466 classes are the field's reference:
    node strings are ``'+'.join(sorted(terms))`` with ``none`` giving ``'#'``,
    skip passing the input's string unflattened, and only a node string equal
    to ``'#'`` counting as zero (a node fed by two zeros reads ``'#+#'``).
    It is slightly finer than the algebraic style (4,930 classes on nb201).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArchitectureError, shown

_NODE_RE = re.compile(r"^\|(.*)\|$")


@dataclass(frozen=True)
class CellEncoding:
    """An NB201-style cell: ``n_nodes`` nodes, ops on every edge ``j -> i`` with ``j < i``.

    Parameters
    ----------
    ops : tuple of str
        Op names; the index of a name is its choice value.
    n_nodes : int
        Number of nodes including input (0) and output (``n_nodes - 1``).
    zero_op : str
        The op that contributes nothing (``"none"``).
    identity_op : str
        The op that passes its input unchanged (``"skip_connect"``).
    """

    ops: tuple[str, ...]
    n_nodes: int = 4
    zero_op: str = "none"
    identity_op: str = "skip_connect"
    key_style: str = "algebraic"

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """``(source, target)`` of every edge, in string order."""
        return tuple((j, i) for i in range(1, self.n_nodes) for j in range(i))

    @property
    def n_edges(self) -> int:
        return self.n_nodes * (self.n_nodes - 1) // 2

    # ----------------------------------------------------------------- strings
    def to_string(self, ops_idx: np.ndarray) -> str:
        """NB201 string of a vector of ``n_edges`` op indices."""
        parts, k = [], 0
        for i in range(1, self.n_nodes):
            parts.append("|" + "|".join(f"{self.ops[int(ops_idx[k + j])]}~{j}" for j in range(i)) + "|")
            k += i
        return "+".join(parts)

    def from_string(self, text: str, space: str) -> np.ndarray:
        """Parse an NB201 string; errors name the bad token and what was expected."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"{space}: expected an architecture string, got {type(text).__name__}")
        s = text.strip()
        if "=" in s and ";" in s and space != "eo":
            raise InvalidArchitectureError(
                f"{space}: {shown(text)}: this is an eo arch (KEY=VALUE fields), but the space (of the benchmark "
                f"or command) is {space}, whose strings are cells like '|OP~0|+|OP~0|OP~1|+|OP~0|OP~1|OP~2|'; "
                f"use an eo benchmark for it")
        groups = s.split("+")
        expected_fmt = self.to_string(np.zeros(self.n_edges, dtype=int)).replace(self.ops[0], "OP")
        if len(groups) != self.n_nodes - 1:
            raise InvalidArchitectureError(
                f"{space}: architecture string {shown(text)} has {len(groups)} node group(s) separated by '+', "
                f"expected {self.n_nodes - 1} (format {expected_fmt})"
            )
        out = np.empty(self.n_edges, dtype=np.int64)
        k = 0
        for i, group in enumerate(groups, start=1):
            m = _NODE_RE.match(group)
            if not m:
                raise InvalidArchitectureError(
                    f"{space}: node group {i} {shown(group, 40)} in {shown(text)} must start and end with '|' "
                    f"(format {expected_fmt})"
                )
            tokens = m.group(1).split("|")
            if len(tokens) != i:
                raise InvalidArchitectureError(
                    f"{space}: node {i} in {shown(text)} has {len(tokens)} input edge(s) {shown(tokens, 60)}, expected {i} "
                    f"(one from each of nodes 0..{i - 1})"
                )
            for j, tok in enumerate(tokens):
                op, sep, src = tok.partition("~")
                if not sep:
                    raise InvalidArchitectureError(
                        f"{space}: edge token {shown(tok, 40)} of node {i} in {shown(text)} lacks '~'; expected 'OP~{j}'"
                    )
                if op not in self.ops:
                    raise InvalidArchitectureError(
                        f"{space}: unknown op {shown(op, 40)} in {shown(text)}; expected one of {', '.join(self.ops)}"
                    )
                if src != str(j):
                    raise InvalidArchitectureError(
                        f"{space}: edge {shown(tok, 40)} of node {i} in {shown(text)} has input node {shown(src, 20)}, expected {j} "
                        f"(edges of node {i} come from nodes 0..{i - 1} in order)"
                    )
                out[k] = self.ops.index(op)
                k += 1
        return out

    # --------------------------------------------------------------- canonical
    def key(self, ops_idx: np.ndarray) -> str:
        """Canonical expression of one cell in :attr:`key_style` (see module docstring)."""
        if self.key_style == "nb201":
            return self._nb201_key(ops_idx)
        return self._algebraic_key(ops_idx)

    def _nb201_key(self, ops_idx: np.ndarray) -> str:
        nodes = ["0"]
        k = 0
        for i in range(1, self.n_nodes):
            cur = []
            for j in range(i):
                op = self.ops[int(ops_idx[k])]
                k += 1
                if op == self.zero_op or nodes[j] == "#":
                    cur.append("#")
                elif op == self.identity_op:
                    cur.append(nodes[j])
                else:
                    cur.append(f"({nodes[j]})@{op}")
            nodes.append("+".join(sorted(cur)))
        return nodes[-1]

    def _algebraic_key(self, ops_idx: np.ndarray) -> str:
        values: list[list[str] | None] = [["x"]]  # node 0 is the input
        k = 0
        for i in range(1, self.n_nodes):
            terms: list[str] = []
            for j in range(i):
                op = self.ops[int(ops_idx[k])]
                k += 1
                src = values[j]
                if op == self.zero_op or src is None:
                    continue
                if op == self.identity_op:
                    terms.extend(src)
                else:
                    terms.append(f"{op}({'+'.join(src)})")
            values.append(sorted(terms) if terms else None)
        out = values[-1]
        return "0" if out is None else "+".join(out)

    def keys(self, cells: np.ndarray) -> list[str]:
        """Canonical keys of many cells (rows of op indices)."""
        return [self.key(row) for row in cells]

    def live_edges(self, cells: np.ndarray) -> np.ndarray:
        """Boolean mask ``(n, n_edges)``: edge lies on a non-zero path from input to output."""
        cells = np.asarray(cells)
        n = len(cells)
        nonzero = cells != self.ops.index(self.zero_op)
        edges = self.edges
        from_in = np.zeros((n, self.n_nodes), dtype=bool)
        from_in[:, 0] = True
        for e, (j, i) in enumerate(edges):  # edges are in topological order of targets
            from_in[:, i] |= from_in[:, j] & nonzero[:, e]
        to_out = np.zeros((n, self.n_nodes), dtype=bool)
        to_out[:, -1] = True
        for e in range(len(edges) - 1, -1, -1):
            j, i = edges[e]
            to_out[:, j] |= to_out[:, i] & nonzero[:, e]
        src = np.array([j for j, _ in edges])
        dst = np.array([i for _, i in edges])
        return nonzero & from_in[:, src] & to_out[:, dst]

    def longest_path(self, cells: np.ndarray) -> np.ndarray:
        """Number of parametric-or-pooling ops on the longest live input→output path (skip counts 0)."""
        cells = np.asarray(cells)
        live = self.live_edges(cells)
        weight = (cells != self.ops.index(self.identity_op)).astype(np.int64)
        depth = np.full((len(cells), self.n_nodes), -1, dtype=np.int64)
        depth[:, 0] = 0
        for e, (j, i) in enumerate(self.edges):
            cand = np.where(live[:, e] & (depth[:, j] >= 0), depth[:, j] + weight[:, e], -1)
            depth[:, i] = np.maximum(depth[:, i], cand)
        return np.maximum(depth[:, -1], 0)
