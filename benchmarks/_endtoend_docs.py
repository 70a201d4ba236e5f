"""The end-to-end part of docs/surrogates.md's Speed section, rendered from ``bench_endtoend.json`` alone.

``benchmarks/bench_endtoend.py`` writes the block after its JSON; ``evaluation/check_generated.py``
re-renders it from the committed JSON and fails when docs/surrogates.md differs. Every number is
formatted from the JSON; which tasks the shipped path speeds up or slows down is chosen by them.

>>> print(docs_block({"rows": [{"space": "nb201", "model": "xgb", "task": "TPE, 200 trials",
...                             "library_s": 2.0, "shipped_s": 1.0, "speedup": 2.0}]}))
The last run: wall time of each task through the libraries only and as shipped
(one-off costs included), in seconds:
<BLANKLINE>
| space | model | task | libraries only | as shipped | speed-up |
|---|---|---|---|---|---|
| `nb201` | xgb | TPE, 200 trials | 2.00 | 1.00 | 2.00× |
<BLANKLINE>
As shipped is faster in every task (2.00×).
"""
from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:   # run as a doctest, benchmarks/ is not on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predict_docs import load_text, span_text, wrap  # noqa: E402


def _label(row: dict) -> str:
    return f"`{row['space']}` {row['model']} {row['task'].split(',')[0]}"


def docs_block(result: dict) -> str:
    """The end-to-end part of docs/surrogates.md's Speed section, from a ``bench_endtoend.json`` result.

    Parameters
    ----------
    result : dict
        The JSON the benchmark writes: ``rows`` (``space``, ``model``, ``task``, ``library_s`` and
        ``shipped_s`` in seconds, ``speedup`` = library / shipped) and ``load_average``.

    Returns
    -------
    str
        Markdown (no trailing newline); the same result always gives the same text.
    """
    rows = result["rows"]
    load = load_text(result)
    lines = [f"The last run{f' ({load})' if load else ''}: wall time of each task through the libraries only "
             f"and as shipped (one-off costs included), in seconds:", "",
             "| space | model | task | libraries only | as shipped | speed-up |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['space']}` | {r['model']} | {r['task']} | {r['library_s']:,.2f} | "
                     f"{r['shipped_s']:,.2f} | {r['speedup']:.2f}× |")
    faster = [r for r in rows if r["speedup"] > 1]
    slower = [r for r in rows if r["speedup"] <= 1]
    if not slower:
        text = f"As shipped is faster in every task ({span_text([r['speedup'] for r in rows], '{:.2f}')}×)."
    else:
        best = max(rows, key=lambda r: r["speedup"])
        text = (f"As shipped is faster in {len(faster)} of {len(rows)} tasks"
                + (f" (up to {best['speedup']:.2f}×, {_label(best)})" if faster else "")
                + "; not faster in " + ", ".join(f"{_label(r)} ({r['speedup']:.2f}×)" for r in slower)
                + ": there the benchmark answers few queries per unit of the task's own work (Optuna's, per "
                  "trial), and the shipped run pays its one-off costs (exporting the trees, importing numba).")
    return "\n".join(wrap(line) for line in lines + ["", text])
