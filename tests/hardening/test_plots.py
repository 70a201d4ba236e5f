"""Report figures: integer ticks on count axes, legends that cover no bar (issue 14)."""
from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("matplotlib")

from surrogate_eo.report import plots  # noqa: E402


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    figs: list[Any] = []
    real = plots.to_png

    def keep(fig: Any, *a: Any, **k: Any) -> bytes:
        png = real(fig, *a, **k)
        figs.append(fig)
        return png

    monkeypatch.setattr(plots, "to_png", keep)
    return figs


def _campaign() -> dict:
    counts = [{"task": "so2sat-s2", "stratum": s, "status": st, "runs": n}
              for s, st, n in (("random", "ok", 3), ("random", "failed", 1), ("walks", "ok", 2),
                               ("seeds", "ok", 5), ("seeds", "diverged", 1))]
    noise = {"so2sat-s2": {"n_archs_repeated": 3, "metric": "val_acc", "per_arch_std": [0.01, 0.02, 0.015],
                           "pooled_std": 0.016, "max_seeds_per_arch": 3}}
    return {"campaign": {"tasks": ["so2sat-s2"], "counts": counts, "noise": noise}}


@pytest.mark.parametrize("make", [plots.fig_campaign, plots.fig_noise])
def test_count_axes_have_integer_ticks_and_legends_cover_no_bar(make, captured: list[Any]) -> None:
    make(_campaign())
    fig = captured[-1]
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in ax.patches if p.get_height() > 0]
    assert bars and not any(legend.overlaps(b) for b in bars)
    assert legend.x0 >= ax.get_window_extent(renderer).x1  # beside the plot, inside the figure
    assert legend.x1 <= fig.bbox.x1
