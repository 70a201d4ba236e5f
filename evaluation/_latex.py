"""Small helpers for the evaluation scripts: write LaTeX tables into paper/generated/."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from surrogate_eo._io import atomic_write_text

#: Output folder; ``SURROGATE_EO_GENERATED`` redirects it (evaluation/check_generated.py regenerates into a
#: temporary folder and compares with the committed files).
GENERATED = Path(os.environ.get("SURROGATE_EO_GENERATED") or Path(__file__).resolve().parents[1] / "paper" / "generated")


def latex_escape(text: object) -> str:
    s = str(text)
    for a, b in (("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                 ("~", r"\textasciitilde{}"), ("|", r"\textbar{}")):
        s = s.replace(a, b)
    return s


#: Widest row (characters) that fits the page upright at \small; wider tables are set rotated
#: (``sidewaystable``) so the shrink-to-fit below never makes their font unreadably small.
MAX_UPRIGHT_CHARS = 115


def _row_chars(cells: Sequence[object]) -> int:
    return sum(len(latex_escape(c)) for c in cells) + 3 * (len(cells) - 1)


def write_table(name: str, header: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str,
                label: str, align: str | None = None, note: str = "") -> Path:
    """Write a booktabs ``table`` environment to ``paper/generated/<name>.tex``; cells are escaped.

    Tables wider than :data:`MAX_UPRIGHT_CHARS` become ``sidewaystable`` (package ``rotating``).
    ``<`` and ``>`` in the note are set in math mode (in text mode the default font prints them as
    inverted punctuation).
    """
    align = align or "l" + "r" * (len(header) - 1)
    wide = max(_row_chars(r) for r in [header, *rows]) > MAX_UPRIGHT_CHARS
    env = "sidewaystable" if wide else "table"
    note = note.replace("<", "$<$").replace(">", "$>$")
    lines = [rf"\begin{{{env}}}" + ("" if wide else "[tbp]"), r"\centering", r"\small", rf"\caption{{{caption}}}",
             rf"\label{{{label}}}",
             # shrink to the text width only when the table is wider than it
             r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
             rf"\begin{{tabular}}{{{align}}}", r"\toprule",
             " & ".join(latex_escape(h) for h in header) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(c) for c in row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}}"]
    if note:
        lines.append(rf"\par\smallskip\footnotesize {note}")
    lines.append(rf"\end{{{env}}}")
    path = GENERATED / f"{name}.tex"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
