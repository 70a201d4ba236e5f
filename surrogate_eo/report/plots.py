"""Figures of the quality report, drawn from :class:`~surrogate_eo.report.data.ReportData` alone.

Every figure is a PNG (matplotlib, Agg canvas, no display and no pyplot
state) with a title, labelled axes with units and a legend where there is
more than one series. :func:`render_figures` returns them in report order;
:mod:`.plots_landscape` draws the landscape figures.
"""
from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Colours of the three landscapes, run statuses and other series.
MODE_COLOURS = {"truth": "#222222", "paired": "#1f77b4", "distributional": "#ff7f0e"}
MODE_LABELS = {"truth": "ground truth", "paired": "surrogate (paired)", "distributional": "surrogate (fresh samples)"}
STATUS_COLOURS = {"ok": "#2ca02c", "diverged": "#ff7f0e", "failed": "#d62728"}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
_METRIC_NAMES = {"acc": "accuracy", "kappa": "Cohen's kappa", "f1": "macro-F1", "aa": "average accuracy"}
_SPLIT_NAMES = {"val": "validation", "test": "test", "train": "training"}


@dataclass(frozen=True)
class Figure:
    """One rendered figure: file ``name`` (no suffix), section, title, caption and PNG bytes."""

    name: str
    section: str
    title: str
    caption: str
    png: bytes

    @property
    def filename(self) -> str:
        return f"{self.name}.png"


def metric_axis(metric: str) -> tuple[str, float, str]:
    """``(axis label with unit, scale from fractions, unit)`` of a metric: accuracies in percent."""
    split, _, kind = metric.partition("_")
    name = f"{_SPLIT_NAMES.get(split, split)} {_METRIC_NAMES.get(kind, kind)}".strip()
    if kind in ("acc", "f1", "aa"):
        return f"{name} (%)", 100.0, "pp"
    return f"{name} (dimensionless)", 1.0, ""


def new_figure(nrows: int, ncols: int, width: float, height: float) -> tuple[Any, np.ndarray]:
    """A matplotlib Figure on an Agg canvas and its axes as a 2-D array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def to_png(fig: Any, top: float = 1.0, tight: bool = True) -> bytes:
    """Lay out (leaving the upper ``1 - top`` of the figure free) and encode ``fig`` as PNG bytes.

    ``tight=False`` keeps the caller's ``subplots_adjust`` (tight layout is slow on large grids).
    """
    if tight:
        fig.tight_layout(rect=(0, 0, 1, top))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def count_axis(axis: Any) -> None:
    """Integer ticks only, for an axis that counts things (runs, archs, evaluations)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def legend_outside(ax: Any, **kw: Any) -> Any:
    """The legend to the right of the axes, where it cannot cover bars or points."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


def _grid(n: int, ncols: int = 3) -> tuple[int, int]:
    c = min(n, ncols)
    return -(-n // c), c


def _hide_unused(axes: np.ndarray, n: int) -> None:
    for ax in axes.flat[n:]:
        ax.set_visible(False)


# --------------------------------------------------------------------- campaign
def fig_campaign(d: Mapping[str, Any]) -> Figure:
    camp = d["campaign"]
    tasks = list(camp["tasks"])
    r, c = _grid(len(tasks))
    fig, axes = new_figure(r, c, 4.6 * c + 1, 3.6 * r)
    for ax, t in zip(axes.flat, tasks):
        rows = [x for x in camp["counts"] if x["task"] == t]
        strata = sorted({x["stratum"] for x in rows})
        bottom = np.zeros(len(strata))
        for status in ("ok", "diverged", "failed"):
            v = np.array([sum(x["runs"] for x in rows if x["stratum"] == s and x["status"] == status) for s in strata])
            ax.bar(strata, v, bottom=bottom, color=STATUS_COLOURS[status], label=status)
            bottom += v
        for i, tot in enumerate(bottom):
            ax.annotate(f"{int(tot)}", (i, tot), ha="center", va="bottom", fontsize=8)
        ax.set_title(f"runs per stratum: {t}")
        ax.set_xlabel("stratum (campaign sampling group)")
        ax.set_ylabel("training runs (count)")
        count_axis(ax.yaxis)
        ax.tick_params(axis="x", labelrotation=20)
        legend_outside(ax, title="status", fontsize=8)
        ax.margins(y=0.12)
    _hide_unused(axes, len(tasks))
    return Figure("campaign_runs", "campaign", "Runs per stratum and status",
                  "Training runs of each campaign stratum, stacked by final status (a run planned by two strata "
                  "counts in both).", to_png(fig))


def fig_noise(d: Mapping[str, Any]) -> Figure | None:
    noise = {t: v for t, v in d["campaign"]["noise"].items() if v["n_archs_repeated"] > 0}
    if not noise:
        return None
    r, c = _grid(len(noise))
    fig, axes = new_figure(r, c, 4.6 * c + 1, 3.4 * r)
    for ax, (t, v) in zip(axes.flat, noise.items()):
        label, scale, unit = metric_axis(v["metric"])
        sd = scale * np.asarray(v["per_arch_std"], dtype=float)
        ax.hist(sd, bins=min(20, max(5, len(sd) // 3)), color="#7f7f7f", edgecolor="white", label="repeated archs")
        ax.axvline(scale * v["pooled_std"], color="#d62728", ls="--",
                   label=f"pooled sd = {scale * v['pooled_std']:.3g} {unit}")
        ax.set_title(f"seed-to-seed noise: {t} ({v['n_archs_repeated']} archs, up to {v['max_seeds_per_arch']} seeds)")
        ax.set_xlabel(f"standard deviation across seeds ({unit or 'metric units'})")
        ax.set_ylabel("archs (count)")
        count_axis(ax.yaxis)
        legend_outside(ax, fontsize=8)
    _hide_unused(axes, len(noise))
    return Figure("campaign_noise", "campaign", "Seed-to-seed noise",
                  "Spread of the metric across training seeds of the same architecture; the pooled standard "
                  "deviation is the noise floor no surrogate can beat.", to_png(fig))


# --------------------------------------------------------------------- accuracy
def fig_scatter(d: Mapping[str, Any], task: str) -> Figure:
    fig, axes = new_figure(1, 1, 5.8, 5.2)
    for ax, (t, a) in zip(axes.flat, [(task, d["accuracy"][task])]):
        label, scale, unit = metric_axis(a["metric"])
        s = a["scatter"]
        yt, yp = scale * np.asarray(s["y_true"], float), scale * np.asarray(s["y_pred"], float)
        strata = np.asarray(s["stratum"], dtype=object)
        for i, name in enumerate(sorted(set(strata))):
            m = strata == name
            ax.scatter(yt[m], yp[m], s=12, alpha=0.7, color=PALETTE[i % len(PALETTE)], label=name, linewidths=0)
        lo, hi = float(min(yt.min(), yp.min())), float(max(yt.max(), yp.max()))
        pad = 0.04 * (hi - lo or 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#444444", lw=1, label="y = x")
        noise = d["campaign"]["noise"].get(t, {}).get("pooled_std")
        if noise:
            xs = np.array([lo - pad, hi + pad])
            ax.fill_between(xs, xs - scale * noise, xs + scale * noise, color="#999999", alpha=0.2,
                            label="± seed noise (1 sd)")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        row = a["metrics"][0]
        ax.text(0.03, 0.97, f"Kendall τ = {row['kendall_tau']:.3f}\nsparse τ = {row['sparse_kendall_tau']:.3f}\n"
                f"R² = {row['r2']:.3f}\nRMSE = {scale * row['rmse']:.3g} {unit}", transform=ax.transAxes,
                va="top", fontsize=8, bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "#cccccc"})
        ax.set_title(f"predicted vs true: {t} ({s['n_total']} archs, out-of-fold)")
        ax.set_xlabel(f"true {label}")
        ax.set_ylabel(f"predicted {label}")
        ax.legend(fontsize=7, loc="lower right", title="stratum", title_fontsize=7)
    return Figure(f"accuracy_scatter_{task}", "accuracy", "Predicted vs true",
                  "Out-of-fold predictions (each arch predicted by a model that did not see it) against the "
                  "seed-averaged ground truth, coloured by the stratum that planned the arch.", to_png(fig))


def fig_strata(d: Mapping[str, Any], task: str) -> Figure:
    fig, axes = new_figure(1, 2, 11, 3.6)
    for row_axes, (t, a) in zip(axes, [(task, d["accuracy"][task])]):
        _, scale, unit = metric_axis(a["metric"])
        rows = a["per_stratum"]
        names = [x["stratum"] for x in rows]
        x = np.arange(len(names))
        for ax, key, lab, sc in ((row_axes[0], "mae", f"mean absolute error ({unit or 'metric units'})", scale),
                                 (row_axes[1], "kendall_tau", "Kendall τ (dimensionless)", 1.0)):
            for k, (split, col, name) in enumerate((("oof", "#1f77b4", "out-of-fold (all strata in training)"),
                                                    ("loso", "#d62728", "leave-this-stratum-out"))):
                vals = [np.nan if not x_.get(split) or x_[split].get(key) is None else sc * x_[split][key]
                        for x_ in rows]
                ax.bar(x + (k - 0.5) * 0.38, vals, width=0.38, color=col, label=name)
            ax.set_xticks(x, [f"{n}\n(n={r['n']})" for n, r in zip(names, rows)], fontsize=8)
            ax.set_xlabel("stratum")
            ax.set_ylabel(lab)
            ax.set_title(f"{'error' if key == 'mae' else 'ranking'} per stratum: {t}")
            ax.legend(fontsize=7)
    return Figure(f"accuracy_strata_{task}", "accuracy", "Errors per stratum",
                  "Error and ranking quality on the archs of each stratum: out-of-fold (the model saw the other "
                  "strata's archs and most of this one's) and leave-one-stratum-out (it saw none of this stratum: "
                  "the test of extrapolation to a sampling design it was not fitted on).", to_png(fig))


def fig_learning_curve(d: Mapping[str, Any], task: str) -> Figure | None:
    if not d["accuracy"][task]["learning_curve"]["summary"]:
        return None
    fig, axes = new_figure(1, 2, 11, 3.6)
    for row_axes, (t, a) in zip(axes, [(task, d["accuracy"][task])]):
        _, scale, unit = metric_axis(a["metric"])
        s = a["learning_curve"]["summary"]
        n = np.array([x["n_train"] for x in s])
        for key, col, name in (("kendall_tau", "#1f77b4", "Kendall τ"), ("sparse_kendall_tau", "#2ca02c", "sparse τ"),
                               ("spearman", "#9467bd", "Spearman ρ")):
            row_axes[0].errorbar(n, [x[f"{key}_mean"] for x in s], yerr=[x[f"{key}_std"] for x in s], marker="o",
                                 capsize=3, color=col, label=name)
        row_axes[1].errorbar(n, [scale * x["rmse_mean"] for x in s], yerr=[scale * x["rmse_std"] for x in s],
                             marker="o", capsize=3, color="#d62728", label="RMSE")
        row_axes[1].errorbar(n, [scale * x["mae_mean"] for x in s], yerr=[scale * x["mae_std"] for x in s],
                             marker="s", capsize=3, color="#ff7f0e", label="MAE")
        noise = d["campaign"]["noise"].get(t, {}).get("pooled_std")
        if noise:
            row_axes[1].axhline(scale * noise, color="#7f7f7f", ls="--", label="seed noise (pooled sd)")
        row_axes[0].set_ylabel("rank correlation (dimensionless)")
        row_axes[1].set_ylabel(f"error ({unit or 'metric units'})")
        for ax, what in zip(row_axes, ("ranking", "error")):
            ax.set_xlabel("training archs (count)")
            if ax.get_xscale() == "linear":
                count_axis(ax.xaxis)
            ax.set_title(f"learning curve, {what}: {t}")
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
    return Figure(f"accuracy_learning_{task}", "accuracy", "Learning curve",
                  "Quality against the number of training archs (mean ± sd over random subsets; tested on the "
                  "archs left out). A curve still rising means more ground truth would pay off.", to_png(fig))


def fig_calibration(d: Mapping[str, Any], task: str) -> Figure:
    fig, axes = new_figure(1, 1, 5.8, 4.8)
    for ax, (t, a) in zip(axes.flat, [(task, d["accuracy"][task])]):
        cal = a["calibration"]
        lv = 100 * np.asarray(cal["levels"], float)
        ax.plot([0, 100], [0, 100], color="#444444", lw=1, label="perfect calibration")
        ax.plot(lv, 100 * np.asarray(cal["observed"], float), marker="o", color="#1f77b4",
                label="model spread + seed noise")
        ax.plot(lv, 100 * np.asarray(cal["observed_model_only"], float), marker="s", color="#ff7f0e",
                label="model spread only")
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        ax.set_xlabel("nominal coverage of the predictive interval (%)")
        ax.set_ylabel("observed coverage of single-seed results (%)")
        ax.set_title(f"noise-model calibration: {t} ({cal['n_obs']} runs)")
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
    return Figure(f"accuracy_calibration_{task}", "accuracy", "Calibration of the noise model",
                  "How often a single training run falls inside the out-of-fold predictive interval "
                  "mean ± z·sqrt(σ_model² + σ_seed²) (what predict(..., with_noise=True) samples from). "
                  "Below the "
                  "diagonal: intervals too narrow; above: too wide.", to_png(fig))


# ----------------------------------------------------------------------- search
def fig_search(d: Mapping[str, Any]) -> list[Figure]:
    s = d.get("search")
    if not s:
        return []
    out = []
    groups = s.get("groups") or []
    if groups:
        metric = next(iter(d["meta"]["metrics"].values()), "val_acc")
        label, scale, _ = metric_axis(metric)
        fig, axes = new_figure(1, 1, 9, 4.6)
        ax = axes[0, 0]
        opts = sorted({g["optimizer"] for g in groups})
        srcs = sorted({g["source"] for g in groups})
        styles = ("-", "--", ":", "-.")
        for g in groups:
            col = PALETTE[opts.index(g["optimizer"]) % len(PALETTE)]
            ls = styles[srcs.index(g["source"]) % len(styles)]
            x, m, sd = np.asarray(g["evaluations"]), scale * np.asarray(g["mean"]), scale * np.asarray(g["std"])
            ax.plot(x, m, ls, color=col, label=f"{g['optimizer']} on {g['source']} ({g['n_runs']} runs)")
            ax.fill_between(x, m - sd, m + sd, color=col, alpha=0.12, linewidth=0)
        ax.set_xscale("log")
        ax.set_xlabel("evaluations (count, log scale)")
        ax.set_ylabel(f"best {label} so far")
        ax.set_title("optimiser trajectories: incumbent (mean ± sd over runs)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        out.append(Figure("search_incumbent", "search", "Optimiser trajectories",
                          "Best metric found so far against the number of evaluations.", to_png(fig)))
    for i, cmp in enumerate(s.get("comparisons") or []):
        fig, axes = new_figure(1, 1, 9, 4.6)
        ax = axes[0, 0]
        x = np.asarray(cmp["checkpoints"])
        for k, o in enumerate(cmp["optimizers"]):
            for role, ls in (("ground_truth", "-"), ("surrogate", "--")):
                c = cmp["curves"][role][o]
                m, se = 100 * np.asarray(c["mean"], float), 100 * np.asarray(c["sem"], float)
                ax.plot(x, m, ls, color=PALETTE[k % len(PALETTE)], label=f"{o} ({role.replace('_', ' ')})")
                ax.fill_between(x, m - se, m + se, color=PALETTE[k % len(PALETTE)], alpha=0.12, linewidth=0)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("evaluations (count, log scale)")
        ax.set_ylabel("regret (percentage points)")
        k = cmp.get("stats", {}).get("kendall", {})
        tau = f": Kendall τ of rankings = {k['tau']:.2f}" if k.get("tau") is not None else ""
        ax.set_title(f"trajectory fidelity, anytime regret (mean ± s.e.){tau}")
        ax.legend(fontsize=7, ncol=2)
        ax.grid(alpha=0.3)
        out.append(Figure(f"search_comparison_{i}", "search", "Optimisers on ground truth vs surrogate",
                          "Regret of each optimiser on the ground truth (solid) and on the surrogate (dashed).",
                          to_png(fig)))
    return out


def render_figures(data: Any) -> list[Figure]:
    """Every figure of the report, in report order (``data``: ReportData or its dict)."""
    from matplotlib import rc_context

    from .plots_landscape import landscape_figures

    d = data.to_dict() if hasattr(data, "to_dict") else data
    with rc_context({"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False, "axes.spines.right": False}):
        figs: list[Figure | None] = [fig_campaign(d), fig_noise(d)]
        for t in d["accuracy"]:
            figs += [fig_scatter(d, t), fig_strata(d, t), fig_learning_curve(d, t), fig_calibration(d, t)]
        for t in d["landscape"]:
            figs += landscape_figures(d, t)
        figs += fig_search(d)
    return [f for f in figs if f is not None]


__all__ = ["Figure", "MODE_COLOURS", "MODE_LABELS", "metric_axis", "new_figure", "render_figures", "to_png"]
