"""The ``eo`` search space: an NB201-style cell with an EO-aware op set plus macro choices.

See ``docs/search_spaces.md`` for the rationale. Vector layout: six cell
edges (NB201 string order) followed by four macro positions
``stem, width, cells, reductions``. 9**6 * 2 * 3 * 3 * 3 = 28,697,814 archs.

String format::

    cell=|conv_3x3~0|+|skip_connect~0|sep_conv_3x3~1|+|none~0|se~1|dil_conv_3x3~2|;stem=spectral;width=24;cells=2;reductions=1
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidArchitectureError, shown
from .base import ArchLike, SearchSpace
from .cell import CellEncoding

OPS: tuple[str, ...] = (
    "none",          # no edge
    "skip_connect",  # identity
    "conv_1x1",      # spectral mixing: a per-pixel linear map across bands
    "conv_3x3",
    "sep_conv_3x3",  # depthwise 3x3 + pointwise 1x1
    "dil_conv_3x3",  # depthwise 3x3, dilation 2 (5x5 receptive field) + pointwise
    "avg_pool_3x3",
    "max_pool_3x3",
    "se",            # squeeze-and-excitation channel attention
)
CELL = CellEncoding(OPS, n_nodes=4)

#: Macro choices, in vector order after the cell edges. Values are data.
MACRO: dict[str, tuple[Any, ...]] = {
    "stem": ("conv3x3", "spectral"),  # spectral = 1x1 band mixing, then 3x3
    "width": (16, 24, 32),            # channels of stage 1 (stages: C, 2C, 4C)
    "cells": (1, 2, 3),               # cells per stage (3 stages)
    "reductions": (0, 1, 2),          # how many stage transitions halve 32x32 (latest first)
}


class EOSpace(SearchSpace):
    """EO search space: 4-node cell over 9 ops, and stem/width/depth/downsampling."""

    name: ClassVar[str] = "eo"
    cell: ClassVar[CellEncoding] = CELL
    macro: ClassVar[dict[str, tuple[Any, ...]]] = MACRO
    dim_names: ClassVar[tuple[str, ...]] = tuple(f"edge_{i}<-{j}" for j, i in CELL.edges) + tuple(MACRO)
    choices: ClassVar[tuple[tuple[Any, ...], ...]] = (OPS,) * CELL.n_edges + tuple(MACRO.values())

    def macro_values(self, arch: ArchLike) -> dict[str, Any]:
        """Macro settings of one arch, e.g. ``{"stem": "spectral", "width": 24, ...}``."""
        batch, _ = self.as_batch(arch)
        row = batch[0, CELL.n_edges:]
        return {k: v[int(i)] for (k, v), i in zip(MACRO.items(), row)}

    def to_string(self, arch: ArchLike) -> str:
        batch, single = self.as_batch(arch)
        if not single:
            raise InvalidArchitectureError("to_string() takes one architecture; use to_strings()")
        row = batch[0]
        macro = ";".join(f"{k}={v[int(i)]}" for (k, v), i in zip(MACRO.items(), row[CELL.n_edges:]))
        return f"cell={CELL.to_string(row[:CELL.n_edges])};{macro}"

    def from_string(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"eo: expected an architecture string, got {type(text).__name__}")
        if "=" not in text and "~" in text and text.strip().startswith("|"):
            raise InvalidArchitectureError(
                f"eo: {shown(text)}: this is an nb201 arch (a cell without macro fields), but the space (of the "
                f"benchmark or command) is eo, whose strings read "
                f"'cell=|...|;stem=...;width=...;cells=...;reductions=...'; use an nb201 benchmark for it")
        fields: dict[str, str] = {}
        for part in text.strip().split(";"):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep:
                raise InvalidArchitectureError(
                    f"eo: field {shown(part, 40)} in {shown(text)} is not KEY=VALUE; expected "
                    f"'cell=|...|;stem=...;width=...;cells=...;reductions=...'"
                )
            if key in fields:
                raise InvalidArchitectureError(f"eo: field {shown(key, 40)} appears twice in {shown(text)}")
            fields[key] = value.strip()
        expected = ("cell",) + tuple(MACRO)
        unknown = [k for k in fields if k not in expected]
        if unknown:
            raise InvalidArchitectureError(
                f"eo: unknown field {shown(unknown[0], 40)} in {shown(text)}; expected fields {', '.join(expected)}"
            )
        missing = [k for k in expected if k not in fields]
        if missing:
            raise InvalidArchitectureError(f"eo: field {missing[0]!r} missing from {shown(text)}")
        out = np.empty(self.n_dims, dtype=np.int64)
        out[:CELL.n_edges] = CELL.from_string(fields["cell"], self.name)
        for p, (k, values) in enumerate(MACRO.items(), start=CELL.n_edges):
            labels = [str(v) for v in values]
            if fields[k] not in labels:
                raise InvalidArchitectureError(
                    f"eo: {k}={shown(fields[k], 40)} in {shown(text)}; expected one of {', '.join(labels)}"
                )
            out[p] = labels.index(fields[k])
        return out

    def _canonical_keys(self, batch: np.ndarray) -> list[str]:
        cells = batch[:, :CELL.n_edges]
        uniq, inv = np.unique(cells, axis=0, return_inverse=True)
        cell_keys = CELL.keys(uniq)
        macro_txt = [";".join(f"{k}={v[int(i)]}" for (k, v), i in zip(MACRO.items(), row))
                     for row in batch[:, CELL.n_edges:]]
        return [f"{cell_keys[c]};{m}" for c, m in zip(inv.reshape(-1), macro_txt)]
