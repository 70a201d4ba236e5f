"""Figures of a trajectory-fidelity comparison (matplotlib, written without a display)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_bytes
from ..errors import SearchError
from .compare import ROLES, Comparison

_STYLE = {"ground_truth": ("-", "ground truth"), "surrogate": ("--", "surrogate")}


def plot_comparison(cmp: Comparison, path: str | Path, title: str | None = None, dpi: int = 150) -> Path:
    """Write a two-panel PNG: anytime regret curves, and mean final regret on ground truth vs surrogate.

    Left: mean regret (percentage points) ± one standard error against the
    number of evaluations (log axis); solid lines are the ground truth,
    dashed the surrogate. Right: each optimiser's mean final regret on the
    ground truth (x) and on the surrogate (y), with Kendall τ and its p-value.
    """
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise SearchError(f"figure file {path} must end in .png, .pdf or .svg")
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    x = cmp.checkpoints
    for i, o in enumerate(cmp.optimizers):
        c = colours[i % len(colours)]
        for role in ROLES:
            mean, sem = cmp.mean_curve(role, o)
            ls, lab = _STYLE[role]
            ax.plot(x, 100 * mean, ls, color=c, label=f"{o} ({lab})")
            ax.fill_between(x, 100 * (mean - sem), 100 * (mean + sem), color=c, alpha=0.12, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=0.1)  # linear below 0.1 pp, so zero regret stays on the axis
    ax.set_ylim(bottom=0)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("regret (percentage points)")
    ax.set_title("anytime regret (mean ± s.e.)")
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    ax.grid(alpha=0.3)
    s: dict[str, Any] = cmp.stats
    for i, o in enumerate(cmp.optimizers):
        g, su = (100 * cmp.final_regret[r][o] for r in ROLES)
        n = len(g)
        bx.errorbar(g.mean(), su.mean(), xerr=g.std(ddof=1) / np.sqrt(n) if n > 1 else 0,
                    yerr=su.std(ddof=1) / np.sqrt(n) if n > 1 else 0, fmt="o", color=colours[i % len(colours)],
                    capsize=3)
        bx.annotate(f"{o} ({s['rank']['ground_truth'][i]:g}/{s['rank']['surrogate'][i]:g})", (g.mean(), su.mean()),
                    textcoords="offset points", xytext=(5, 4), fontsize=8)
    bx.set_xlabel("final regret on ground truth (pp)")
    bx.set_ylabel("final regret on surrogate (pp)")
    k = s["kendall"]
    bx.set_title(f"rankings (GT/surrogate): Kendall τ = {k['tau']:.2f}, p = {k['p']:.3f}")
    bx.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lower()[1:], dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path
