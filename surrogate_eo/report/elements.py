"""The elements the report is made of: sections of blocks (paragraphs, tables, figures, call-outs, lists).

:mod:`.layout` fills them; :mod:`.html` and :mod:`.markdown` print them.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .plots import Figure

STATUS_WORD = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE", "info": "NOTE",
               "faithful": "FAITHFUL", "unfaithful": "UNFAITHFUL"}


@dataclass
class Block:
    """One element of a section.

    ``kind`` is ``"p"`` (``text``), ``"table"`` (``columns``, ``rows``, optional
    ``text`` caption and per-row ``statuses``), ``"figure"`` (``figure``),
    ``"callout"`` (``status``: pass / fail / faithful / unfaithful / inconclusive / info, ``text``) or
    ``"list"`` (``items``).
    """

    kind: str
    text: str = ""
    columns: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()
    statuses: Sequence[str] = ()
    figure: Figure | None = None
    status: str = ""
    items: Sequence[str] = ()
    code_columns: Sequence[int] = ()


@dataclass
class Section:
    """A titled part of the report; ``level`` 2 for sections, 3 for per-task subsections."""

    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2


def intro(title: str, anchor: str, text: str, level: int = 2) -> Section:
    """A section that opens with one paragraph (more blocks are appended by the caller)."""
    return Section(title, anchor, [Block("p", text)], level)


def num(x: Any, fmt: str = ".4g") -> str:
    """A number as text; ``n/a`` for None / NaN."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    return format(float(x), fmt)


def ci_text(ci: Any, fmt: str = ".4g") -> str:
    """`` [lo, hi]`` of a CI (empty when it is missing)."""
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f" [{num(ci[0], fmt)}, {num(ci[1], fmt)}]"


def figure_blocks(figures: Sequence[Figure], name: str) -> list[Block]:
    """The figure called ``name`` as a block (none when it was not drawn)."""
    return [Block("figure", figure=f) for f in figures if f.name == name]


def anchor(*parts: str) -> str:
    """An HTML anchor from ``parts`` (lower case, non-alphanumerics as ``-``)."""
    return "-".join("".join(ch if ch.isalnum() else "-" for ch in p.lower()) for p in parts)


__all__ = ["Block", "STATUS_WORD", "Section", "anchor", "ci_text", "figure_blocks", "intro", "num"]
