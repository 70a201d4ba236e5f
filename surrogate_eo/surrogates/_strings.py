"""Batch parsing of architecture strings of cell spaces (``nb201``, ``eo``) by token lookup.

The spaces' own parsers (:meth:`SearchSpace.from_string`) check every field
and name what is wrong, at tens of microseconds a string. A search over the
infinite ``eo`` space sends strings the space itself wrote (canonical form),
thousands at a time. :class:`StringParser` joins the batch, splits it on
``+`` once and looks each node's edge group up in a dict of its own
(``"|conv_3x3~0|se~1|"`` → its share of the arch's index; the first group
carries the ``cell=`` prefix, the last one the macro tail): about 1.4 us a
string for ``eo``, without a Python loop over the strings. Only strings in
exactly the canonical layout are answered — anything else (extra spaces,
reordered fields, a typo) goes to the space's parser, which accepts the
variants it accepts and raises its one-line error on the rest. The layout is
learned from the space's own :meth:`to_string` and checked on a sample when
the parser is built; a space it does not fit gets no fast path.

>>> from surrogate_eo.spaces import get_space
>>> eo = get_space("eo")
>>> archs = eo.sample(3, seed=0)
>>> p = StringParser(eo)
>>> bool((p.parse(eo.to_strings(archs)) == archs).all())
True
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..spaces import SearchSpace


#: Largest number of strings one node's edge group may take (ops ** in-edges) for a lookup dict.
GROUP_LIMIT = 100_000
#: Looked-up value of an unknown token: any sum with it stays negative.
_MISSING = -(2 ** 40)


class StringParser:
    """Canonical strings of one cell space → ``(n, d)`` int64 batches (see the module docstring).

    A cell string is ``|op~0|+|op~0|op~1|+...``: one ``|...|`` group per node, split
    on ``+``. Each group (9, 81, 729 strings for ``eo``'s nodes) and the whole macro
    tail (``;stem=...;reductions=...``, 54 strings) maps in one dict lookup to its
    share of the arch's lexicographic index; the batch is then decoded at once by
    :meth:`SearchSpace.from_index`. :meth:`fast` answers a batch in one pass (the
    last group and the tail share one dict, 39,366 keys for ``eo``) or not at all;
    :meth:`parse` falls back to one string at a time, then to the space's parser.

    Parameters
    ----------
    space : SearchSpace
        A space with a ``cell`` (:class:`~surrogate_eo.spaces.cell.CellEncoding`) and, optionally,
        ``macro`` fields written ``cell=...;key=value;...`` (``eo``).
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.ok = False
        cell = getattr(space, "cell", None)
        if cell is None or len(cell.ops) ** (cell.n_nodes - 1) > GROUP_LIMIT:
            return
        macro: dict[str, tuple[Any, ...]] = dict(getattr(space, "macro", {}) or {})
        radix = [int(r) for r in space._radix]
        self.prefix = "cell=" if macro else ""
        # one dict per node: its "|op~0|op~1|...|" group -> share of the lexicographic index
        self.groups: list[dict[str, int]] = []
        k = 0
        for i in range(1, cell.n_nodes):
            table: dict[str, int] = {}
            for combo in itertools.product(range(len(cell.ops)), repeat=i):
                text = "|" + "|".join(f"{cell.ops[o]}~{j}" for j, o in enumerate(combo)) + "|"
                table[text] = sum(o * radix[k + j] for j, o in enumerate(combo))
            self.groups.append(table)
            k += i
        # the macro tail ";stem=...;width=...": every combination -> its share of the index
        self.macro: dict[str, int] = {"": 0}
        if macro:
            self.macro = {}
            for combo in itertools.product(*(range(len(v)) for v in macro.values())):
                text = "".join(f";{key}={values[c]}" for (key, values), c in zip(macro.items(), combo))
                self.macro[text] = sum(c * radix[k + p] for p, c in enumerate(combo))
        # the batch path splits every string on "+" only: the first group carries the prefix, the
        # last one the macro tail (eo: 729 groups x 54 tails = 39,366 keys)
        self.tokens: list[dict[str, int]] | None = None
        if len(self.groups[-1]) * len(self.macro) <= GROUP_LIMIT:
            tables = [dict(g) for g in self.groups]
            tables[0] = {self.prefix + key: v for key, v in tables[0].items()}
            tables[-1] = {key + tail: v + tv for key, v in tables[-1].items() for tail, tv in self.macro.items()}
            self.tokens = tables
        check = space.sample(64, seed=0)
        self.ok = True
        try:
            texts = space.to_strings(check)
            self.ok = bool((space.from_index(np.array(self._indices(texts))) == check).all())
            fast = self._batch_indices(texts)
            if fast is None or not (fast >= 0).all() or not (space.from_index(fast) == check).all():
                self.tokens = None                         # pragma: no cover - a layout not known here
        except (TypeError, ValueError, KeyError, IndexError):  # pragma: no cover - a layout not known here
            self.ok = False

    def _indices(self, texts: list[str]) -> list[int]:
        """Lexicographic index of each canonical string, ``-1`` for any other."""
        groups, macro, prefix, n_groups = self.groups, self.macro, self.prefix, len(self.groups)
        cut = len(prefix)
        out = []
        for t in texts:
            try:
                end = t.index(";") if prefix else len(t)
                parts = t[cut:end].split("+")
                if len(parts) != n_groups or t[:cut] != prefix:
                    out.append(-1)
                    continue
                idx = macro[t[end:]]
                for g, p in zip(groups, parts):
                    idx += g[p]
                out.append(idx)
            except (KeyError, ValueError, AttributeError, TypeError):
                out.append(-1)
        return out

    def _batch_indices(self, texts: list[str]) -> np.ndarray | None:
        """Lexicographic index of each string (negative for a string not in canonical layout), or
        ``None`` when some string does not split into exactly one token per node group.

        All strings are joined with a separator token and split on ``+`` once; every string
        then owns exactly ``k`` tokens when the separator sits at every ``(k + 1)``-th place
        and nowhere else. Each column of tokens is looked up in its own dict in one pass.
        """
        tokens_of = self.tokens
        if tokens_of is None:
            return None
        n, k = len(texts), len(tokens_of)
        try:
            tokens = "+\n+".join(texts).split("+")
        except TypeError:                                  # a non-string: the space's parser reports it
            return None
        if len(tokens) != (k + 1) * n - 1 or tokens.count("\n") != n - 1 or tokens[k::k + 1].count("\n") != n - 1:
            return None
        idx = np.zeros(n, dtype=np.int64)
        for c, table in enumerate(tokens_of):
            idx += np.fromiter(map(table.get, tokens[c::k + 1], itertools.repeat(_MISSING)), dtype=np.int64, count=n)
        return idx

    def _one(self, text: str) -> int | None:
        """Lexicographic index of one canonical string, or ``None`` when it is not in canonical layout."""
        idx = self._indices([text])[0]
        return None if idx < 0 else idx

    def fast(self, texts: list[str]) -> np.ndarray | None:
        """``(n, d)`` int64 batch when every one of ``texts`` is in canonical layout, else ``None``."""
        if not self.ok:
            return None
        idx = self._batch_indices(texts)
        if idx is None or not len(idx) or idx.min() < 0:
            return None
        return self.space.from_index(idx)

    def parse(self, texts: list[str]) -> np.ndarray:
        """``(n, d)`` int64 batch of ``texts``; strings not in canonical layout go to the space's parser.

        Raises
        ------
        InvalidArchitectureError
            From the space's parser, for a string that is not an architecture of the space.
        """
        space = self.space
        if not self.ok:
            return space.from_strings(texts)
        idx = self._batch_indices(texts)
        if idx is None:
            idx = np.array(self._indices(texts), dtype=np.int64)
        out = space.from_index(np.maximum(idx, 0)) if len(idx) else np.zeros((0, space.n_dims), dtype=np.int64)
        for i in np.flatnonzero(idx < 0):       # not canonical: the space parses (and checks) it
            out[i] = space.validate(space.from_string(texts[i]))[0]
        return out
