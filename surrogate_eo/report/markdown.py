"""The report as Markdown (GitHub-flavoured): the same sections as the HTML, figures as PNG files beside it."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .elements import STATUS_WORD, Block, Section


def _cell(text: str, code: bool = False) -> str:
    t = " ".join(str(text).split()).replace("|", "\\|")
    return f"`{t}`" if code and t else t


def _table(b: Block) -> list[str]:
    lines = [f"*{b.text}*", ""] if b.text else []
    lines.append("| " + " | ".join(_cell(c) for c in b.columns) + " |")
    lines.append("|" + "|".join("---" for _ in b.columns) + "|")
    for row in b.rows:
        lines.append("| " + " | ".join(_cell(c, j in b.code_columns) for j, c in enumerate(row)) + " |")
    return lines + [""]


def _block(b: Block, fig_no: list[int], figure_dir: str) -> list[str]:
    if b.kind == "p":
        return [b.text, ""]
    if b.kind == "table":
        return _table(b)
    if b.kind == "list":
        return [f"- {x}" for x in b.items] + [""]
    if b.kind == "callout":
        return [f"> **{STATUS_WORD.get(b.status, 'NOTE')}** {b.text}", ""]
    if b.kind == "figure" and b.figure is not None:
        fig_no[0] += 1
        f = b.figure
        return [f"![{f.title}]({figure_dir}/{f.filename})", "", f"*Figure {fig_no[0]}. {f.title}. {f.caption}*", ""]
    raise ValueError(f"unknown block kind {b.kind!r}")  # pragma: no cover - layout only makes the kinds above


def render_markdown(sections: Sequence[Section], meta: dict[str, Any], figure_dir: str = "figures") -> str:
    """The whole report as Markdown; figures are linked as ``{figure_dir}/<name>.png``."""
    fig_no = [0]
    lines = [f"# {meta.get('title', 'Surrogate quality report')}", "",
             f"surrogate-eo {meta.get('version', '')} · created {meta.get('created', '')} (UTC) · "
             f"space {meta.get('space', '')}", "", "**Contents**", ""]
    lines += [f"1. [{s.title}](#{s.anchor})" for s in sections if s.level == 2] + [""]
    for s in sections:
        lines += [f'<a id="{s.anchor}"></a>', "", f"{'#' * s.level} {s.title}", ""]
        for b in s.blocks:
            lines += _block(b, fig_no, figure_dir)
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["render_markdown"]
