"""Small helpers for the evaluation scripts: write LaTeX tables into paper/generated/."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from surrogate_eo._io import atomic_write_text

GENERATED = Path(__file__).resolve().parents[1] / "paper" / "generated"


def latex_escape(text: object) -> str:
    s = str(text)
    for a, b in (("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                 ("~", r"\textasciitilde{}"), ("|", r"\textbar{}")):
        s = s.replace(a, b)
    return s


def write_table(name: str, header: Sequence[str], rows: Sequence[Sequence[object]], *, caption: str,
                label: str, align: str | None = None, note: str = "") -> Path:
    """Write a booktabs ``table`` environment to ``paper/generated/<name>.tex``; cells are escaped."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = [r"\begin{table}[t]", r"\centering", r"\small", rf"\caption{{{caption}}}", rf"\label{{{label}}}",
             # shrink to the text width only when the table is wider than it
             r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
             rf"\begin{{tabular}}{{{align}}}", r"\toprule",
             " & ".join(latex_escape(h) for h in header) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(c) for c in row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}}"]
    if note:
        lines.append(rf"\par\smallskip\footnotesize {note}")
    lines.append(r"\end{table}")
    path = GENERATED / f"{name}.tex"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
