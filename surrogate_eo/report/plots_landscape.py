"""Landscape figures of the quality report: features with CIs, autocorrelation, histograms, FDC, local optima.

Three landscapes are drawn side by side in every figure: the ground truth
(the database on the campaign's archs), the surrogate on the same archs
("paired") and the surrogate on fresh samples ("distributional").
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .landscape import MAP_FEATURES, MODES
from .plots import MODE_COLOURS, MODE_LABELS, Figure, count_axis, metric_axis, new_figure, to_png

_STATUS_COLOURS = {"fail": "#d62728", "inconclusive": "#ff7f0e", "pass": "#2ca02c"}


def _status(land: Mapping[str, Any], feature: str, key: str | None = None) -> str | None:
    """Worst status of a feature's comparisons (fail > inconclusive > pass), None when not judged."""
    st = [c["status"] for c in land["comparisons"] if c["feature"] == feature and (key is None or c["key"] == key)]
    for s in ("fail", "inconclusive", "pass"):
        if s in st:
            return s
    return None


def _err(v: Any, ci: Any) -> tuple[float, float]:
    if v is None or ci is None or ci[0] is None or ci[1] is None:
        return 0.0, 0.0
    return max(0.0, v - ci[0]), max(0.0, ci[1] - v)


def fig_feature_bars(d: Mapping[str, Any], task: str) -> Figure | None:
    from matplotlib.transforms import blended_transform_factory

    land = d["landscape"][task]
    feats = {n: f for n, f in land["features"].items() if not f["is_map"]}
    if not feats:
        return None
    ncols = 5
    nrows = -(-len(feats) // ncols)
    fig, axes = new_figure(nrows, ncols, 15, 2.5 * nrows + 0.6)
    for ax, (name, f) in zip(axes.flat, feats.items()):
        for k, m in enumerate(MODES):
            rec = f.get(m)
            v = None if rec is None else rec["value"]
            if v is None:
                ax.text(k, 0.5, "n/a", ha="center", va="center", fontsize=7, color="#777777", clip_on=True,
                        transform=blended_transform_factory(ax.transData, ax.transAxes))
                continue
            lo, hi = _err(v, rec["ci"])
            ax.bar(k, v, color=MODE_COLOURS[m], yerr=[[lo], [hi]], capsize=3, ecolor="#555555",
                   label=MODE_LABELS[m])
        st = _status(land, name)
        ax.set_title(name + (f"  [{st}]" if st else ""), fontsize=8,
                     color=_STATUS_COLOURS.get(st or "", "#000000"))
        ax.set_xticks(range(3), ["truth", "paired", "fresh"], fontsize=7)
        ax.set_xlim(-0.6, len(MODES) - 0.4)  # every slot inside the axes, so an "n/a" never sits on a tick label
        ax.tick_params(axis="y", labelsize=7)
        ax.axhline(0, color="#999999", lw=0.6)
    for ax in axes.flat[len(feats):]:
        ax.set_visible(False)
    from matplotlib.patches import Patch

    handles = [Patch(color=MODE_COLOURS[m], label=MODE_LABELS[m]) for m in MODES]
    top = 1 - 0.75 / (2.5 * nrows + 0.6)
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, top + 0.3 / (2.5 * nrows + 0.6)), ncol=3,
               fontsize=8, frameon=False)
    fig.suptitle(f"landscape features with {round(100 * land['ci_level'])}% bootstrap CIs: {task} "
                 "(title colour: verdict of the feature; units in the table)", fontsize=10, y=0.995)
    fig.subplots_adjust(left=0.035, right=0.995, bottom=0.03, top=top - 0.02, wspace=0.32, hspace=0.42)
    png = to_png(fig, tight=False)
    return Figure(f"landscape_features_{task}", "landscape", f"Landscape features ({task})",
                  "Each panel is one scalar feature of the ground truth and of the surrogate (paired: on the "
                  "campaign's archs; fresh: on new samples), with bootstrap confidence intervals. Red titles "
                  "failed the verdict, orange ones are inconclusive.", png)


def fig_map_features(d: Mapping[str, Any], task: str) -> Figure | None:
    land = d["landscape"][task]
    names = [n for n in MAP_FEATURES if n in land["features"]]
    if not names:
        return None
    fig, axes = new_figure(1, len(names), 4.2 * len(names), 3.8)
    for ax, name in zip(axes.flat, names):
        f = land["features"][name]
        keys = sorted({k for m in MODES if f.get(m) for k in f[m]["value"]}, key=float)
        x = np.arange(len(keys))
        for j, m in enumerate(MODES):
            rec = f.get(m)
            if rec is None:
                continue
            v = np.array([np.nan if rec["value"].get(k) is None else rec["value"][k] for k in keys])
            errs = np.array([_err(rec["value"].get(k), rec["ci"].get(k)) for k in keys]).T
            if name == "fitness_quantiles":  # points: bars from zero would hide the differences
                ax.errorbar(x + (j - 1) * 0.2, v, yerr=errs, fmt="o", capsize=2, color=MODE_COLOURS[m],
                            label=MODE_LABELS[m])
            else:
                ax.bar(x + (j - 1) * 0.27, v, width=0.27, color=MODE_COLOURS[m], yerr=errs, capsize=2,
                       ecolor="#555555", label=MODE_LABELS[m])
        ax.set_xticks(x, keys, fontsize=8)
        xl = {"fitness_quantiles": "quantile level", "persistence_top": "top N% of archs"}.get(name,
                                                                                              "ε (fitness units)")
        ax.set_xlabel(xl)
        ax.set_ylabel({"fitness_quantiles": "fitness (fraction)", "neutrality": "share of neutral neighbour pairs",
                       "information_content": "information content H(ε) (0-1)",
                       "persistence_top": "overlap of the top sets (fraction)"}.get(name, "value"))
        st = _status(land, name)
        ax.set_title(name + (f"  [{st}]" if st else ""), color=_STATUS_COLOURS.get(st or "", "#000000"))
        ax.legend(fontsize=7)
    return Figure(f"landscape_maps_{task}", "landscape", f"Features per threshold ({task})",
                  "Features with one value per threshold ε or quantile (neutrality counts neighbour pairs with "
                  "|Δf| ≤ ε; information content measures ruggedness seen at resolution ε).", to_png(fig))


def fig_autocorr(d: Mapping[str, Any], task: str) -> Figure | None:
    ac = d["landscape"][task]["autocorrelation"]
    if not ac:
        return None
    fig, axes = new_figure(1, 1, 8, 4.2)
    ax = axes[0, 0]
    for m in MODES:
        if m not in ac:
            continue
        a = ac[m]
        lags = np.asarray(a["lags"])
        rho = np.array([np.nan if v is None else v for v in a["rho"]], dtype=float)
        lo = np.array([np.nan if v is None else v for v in a["lo"]], dtype=float)
        hi = np.array([np.nan if v is None else v for v in a["hi"]], dtype=float)
        ax.plot(lags, rho, marker="o", color=MODE_COLOURS[m], label=MODE_LABELS[m])
        ax.fill_between(lags, lo, hi, color=MODE_COLOURS[m], alpha=0.15, linewidth=0)
    ax.axhline(0, color="#999999", lw=0.8)
    ax.set_xlabel("lag s (random-walk steps)")
    ax.set_ylabel("autocorrelation ρ(s) (dimensionless)")
    ax.set_title(f"random-walk autocorrelation with bootstrap CIs: {task}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return Figure(f"landscape_autocorr_{task}", "landscape", f"Autocorrelation ({task})",
                  "ρ(s) of fitness along random walks: a slow decay means a smooth landscape. Missing curves: "
                  "the campaign planned no random walks.", to_png(fig))


def fig_histogram(d: Mapping[str, Any], task: str) -> Figure:
    land = d["landscape"][task]
    label, scale, _ = metric_axis(d["meta"]["metrics"][task])
    h = land["histogram"]
    edges = scale * np.asarray(h["edges"], float)
    width = np.diff(np.asarray(h["edges"], float))
    fig, axes = new_figure(1, 1, 8, 4.2)
    ax = axes[0, 0]
    for m in MODES:
        share = 100 * np.asarray(h[m], float) * width
        ax.stairs(share, edges, color=MODE_COLOURS[m], lw=1.6,
                  label=f"{MODE_LABELS[m]} (n = {land['series'][m]['n']})")
    ax.set_xlabel(label)
    ax.set_ylabel("archs (% per bin)")
    ax.set_title(f"fitness distribution of the sampled archs: {task}")
    ax.legend(fontsize=8)
    return Figure(f"landscape_hist_{task}", "landscape", f"Fitness histograms ({task})",
                  "Distribution of the metric over the uniformly sampled archs of each landscape.", to_png(fig))


def fig_fdc(d: Mapping[str, Any], task: str) -> Figure:
    land = d["landscape"][task]
    label, scale, _ = metric_axis(d["meta"]["metrics"][task])
    fig, axes = new_figure(1, 3, 14, 4.2)
    rng = np.random.default_rng(0)
    fdc = land["features"].get("fdc_pearson", {})
    ymin, ymax = np.inf, -np.inf
    for ax, m in zip(axes.flat, MODES):
        s = land["series"][m]
        dist = np.asarray(s["distance"], float)
        f = scale * np.asarray(s["fitness"], float)
        if len(f):
            ymin, ymax = min(ymin, f.min()), max(ymax, f.max())
        ax.scatter(dist + rng.uniform(-0.18, 0.18, len(dist)), f, s=7, alpha=0.35, color=MODE_COLOURS[m],
                   linewidths=0, label="archs (jittered)")
        ud = np.unique(dist)
        ax.plot(ud, [f[dist == u].mean() for u in ud], color="#d62728", marker="o", ms=3, label="mean per distance")
        v = (fdc.get(m) or {}).get("value")
        ax.set_title(f"{MODE_LABELS[m]}: FDC = {v:.3f}" if v is not None else MODE_LABELS[m])
        ax.set_xlabel("Hamming distance to the truth's best arch (choices)")
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="lower left")
    if np.isfinite(ymin):
        pad = 0.03 * (ymax - ymin or 1)
        for ax in axes.flat:
            ax.set_ylim(ymin - pad, ymax + pad)
    fig.suptitle(f"fitness-distance correlation: {task}", fontsize=10)
    return Figure(f"landscape_fdc_{task}", "landscape", f"Fitness-distance scatter ({task})",
                  "Fitness against the distance to the ground truth's best known arch; FDC is their Pearson "
                  "correlation (near -1: fitness rises towards the optimum).", to_png(fig, top=0.94))


def fig_optima(d: Mapping[str, Any], task: str) -> Figure | None:
    from matplotlib.transforms import blended_transform_factory

    land = d["landscape"][task]
    names = [n for n in ("local_optima_fraction", "local_optima_strict") if n in land["features"]]
    climbs = land["series"]["distributional"].get("climb_steps")
    if not names and not climbs:
        return None
    panels = len(names) + (1 if climbs else 0)
    fig, axes = new_figure(1, panels, 4.4 * panels, 3.8)
    for ax, name in zip(axes.flat, names):
        f = land["features"][name]
        for k, m in enumerate(MODES):
            rec = f.get(m)
            if rec is None or rec["value"] is None:
                ax.text(k, 0.5, "n/a", ha="center", va="center", fontsize=8, color="#777777", clip_on=True,
                        transform=blended_transform_factory(ax.transData, ax.transAxes))
                continue
            lo, hi = _err(rec["value"], rec["ci"])
            ax.bar(k, 100 * rec["value"], yerr=[[100 * lo], [100 * hi]], capsize=3, color=MODE_COLOURS[m],
                   label=MODE_LABELS[m])
            ax.annotate(f"{100 * rec['value']:.1f}%\n(n={rec['n']})", (k, 100 * rec["value"]), ha="center",
                        va="bottom", fontsize=7, xytext=(9, 2), textcoords="offset points")
        st = _status(land, name)
        ax.set_xticks(range(3), ["truth", "paired", "fresh"])
        ax.set_xlim(-0.6, len(MODES) - 0.4)
        ax.set_ylabel("neighbourhood centres that are local optima (%)")
        ax.set_title(name + (f"  [{st}]" if st else ""), color=_STATUS_COLOURS.get(st or "", "#000000"))
        ax.legend(fontsize=7)
    if climbs:
        ax = axes.flat[panels - 1]
        steps = np.asarray(climbs, int)
        ax.hist(steps, bins=np.arange(steps.max() + 2) - 0.5, color=MODE_COLOURS["distributional"],
                edgecolor="white", label=f"{len(steps)} climbs")
        ax.set_xlabel("improving moves until a local optimum (steps)")
        ax.set_ylabel("hill climbs (count)")
        count_axis(ax.xaxis)
        count_axis(ax.yaxis)
        ax.set_title("hill climbs on the surrogate")
        ax.legend(fontsize=7)
    return Figure(f"landscape_optima_{task}", "landscape", f"Local optima ({task})",
                  "Share of complete neighbourhoods whose centre beats all its neighbours, and how many "
                  "best-improvement moves hill climbs on the surrogate take (only a surrogate can be climbed: "
                  "the ground truth holds only the campaign's archs).", to_png(fig))


def landscape_figures(d: Mapping[str, Any], task: str) -> list[Figure | None]:
    """The landscape figures of one task (None where the data has nothing to draw)."""
    return [fig_feature_bars(d, task), fig_map_features(d, task), fig_autocorr(d, task), fig_histogram(d, task),
            fig_fdc(d, task), fig_optima(d, task)]


__all__ = ["landscape_figures"]
