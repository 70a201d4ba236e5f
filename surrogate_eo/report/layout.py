"""What the report says, in order: sections of paragraphs, tables, figures and call-outs.

The elements live in :mod:`.elements`, the landscape and verdict sections in
:mod:`.layout_landscape`. :func:`layout` turns :class:`~surrogate_eo.report.data.ReportData` and the
rendered figures into a list of :class:`Section`; :mod:`.html` and
:mod:`.markdown` print the same sections in their format, so both files
carry the same content.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .elements import STATUS_WORD, Block, Section, anchor, figure_blocks, intro, num
from .layout_landscape import landscape_sections, verdict_line, verdict_sections
from .plots import Figure, metric_axis


# ----------------------------------------------------------------------- summary
def _summary(d: Mapping[str, Any]) -> Section:
    rows, statuses = [], []
    for t in d["meta"]["tasks"]:
        a, land = d["accuracy"][t], d["landscape"].get(t)
        m = a["metrics"][0]
        _, scale, unit = metric_axis(a["metric"])
        vv = (land or {}).get("verdicts", {})
        rows.append([t, a["metric"], num(a["n_archs"]), num(m["kendall_tau"], ".3f"),
                     num(m["sparse_kendall_tau"], ".3f"), num(m["r2"], ".3f"),
                     f"{num(scale * m['rmse'], '.3g')} {unit}", vv.get("value", "n/a"), vv.get("rank", "n/a"),
                     ", ".join(land["failed"]) if land else ""])
        statuses.append("" if not land else land["verdict"])
    camp = d["campaign"]
    st = camp["statuses"]
    blocks = [Block("p", f"{camp['n_runs']:,} training runs of {camp['n_archs']:,} architectures in the "
                         f"{d['meta']['space']!r} space ({st['ok']:,} ok, {st['diverged']:,} "
                         f"diverged, {st['failed']:,} failed; {camp['wall_hours']:,.1f} hours of summed "
                         f"training wall time), judged against the surrogate benchmark with "
                         f"{len(d['meta']['benchmark']['entries'])} fitted model(s)."),
              Block("table", "Accuracy is out-of-fold; the verdict compares landscape features of ground truth and "
                             "surrogate (details below).",
                    ["task", "metric", "archs", "Kendall τ", "sparse τ", "R²", "RMSE", "verdict (values)",
                     "verdict (ranks)", "unfaithful features"], rows, statuses)]
    synthetic = d["meta"].get("synthetic")
    if synthetic:
        blocks.append(Block("callout", status="info", text=f"The ground truth was trained on SYNTHETIC data "
                                                           f"({synthetic}), not on real So2Sat LCZ42: these "
                                                           "numbers exercise the pipeline and say nothing about "
                                                           "real Earth-observation NAS."))
    for t in d["meta"]["tasks"]:
        land = d["landscape"].get(t)
        if land:
            blocks += [Block("callout", status=land["verdicts"][m], text=verdict_line(t, land, m))
                       for m in ("value", "rank") if m in land.get("verdicts", {})]
    return Section("Summary", "summary", blocks)


# ---------------------------------------------------------------------- campaign
def _campaign(d: Mapping[str, Any], figures: Sequence[Figure]) -> Section:
    camp = d["campaign"]
    rows = []
    keys = sorted({(c["task"], c["stratum"]) for c in camp["counts"]})
    for task, stratum in keys:
        cnt = {c["status"]: c["runs"] for c in camp["counts"] if c["task"] == task and c["stratum"] == stratum}
        rows.append([task, stratum] + [num(cnt.get(s, 0)) for s in ("ok", "diverged", "failed")]
                    + [num(sum(cnt.values()))])
    task_rows = [[t, num(v["runs"]), num(v["archs"]), num(v["ok"]), num(v["diverged"]), num(v["failed"]),
                  ", ".join(map(str, v["seeds"]))] for t, v in camp["tasks"].items()]
    noise_rows = []
    for t, v in camp["noise"].items():
        _, scale, unit = metric_axis(v["metric"])
        u = f" {unit}" if unit else ""
        noise_rows.append([t, v["metric"], num(v["n_archs_repeated"]), num(v["max_seeds_per_arch"]),
                           num(None if v["pooled_std"] is None else scale * v["pooled_std"], ".3g") + u,
                           num(None if v["median_std"] is None else scale * v["median_std"], ".3g") + u,
                           num(None if v["mean_range"] is None else scale * v["mean_range"], ".3g") + u])
    blocks = [Block("p", f"The database holds {camp['n_runs']:,} runs ({camp['n_plan_entries']:,} plan entries). "
                         "A run planned by two strata counts in both rows."),
              Block("table", "Runs per task.", ["task", "runs", "archs", "ok", "diverged", "failed", "seeds"],
                    task_rows),
              Block("table", "Runs per stratum, task and status.",
                    ["task", "stratum", "ok", "diverged", "failed", "total"], rows)]
    blocks += figure_blocks(figures, "campaign_runs")
    blocks.append(Block("table", "Seed-to-seed noise from archs trained with two or more seeds (pooled within-arch "
                                 "standard deviation; pp = percentage points).",
                        ["task", "metric", "archs repeated", "max seeds", "pooled sd", "median sd",
                         "mean range"], noise_rows))
    if not any(v["n_archs_repeated"] for v in camp["noise"].values()):
        blocks.append(Block("callout", status="info", text="No architecture was trained with more than one seed, so "
                            "the noise level is unknown; plan a `seeds` stratum in the campaign."))
    blocks += figure_blocks(figures, "campaign_noise")
    return Section("Campaign summary", "campaign", blocks)


# ---------------------------------------------------------------------- accuracy
def _accuracy(d: Mapping[str, Any], figures: Sequence[Figure]) -> list[Section]:
    out = [intro("Surrogate accuracy", "accuracy",
                 "Every architecture is predicted by a model of the benchmark's configuration that was fitted "
                 "without it (k-fold cross-validation on the seed-averaged ground truth). The shipped benchmark's own "
                 "predictions are shown beside: on archs it was not fitted on (held-out) and on its training archs "
                 "(in-sample, optimistic). Sparse τ is Kendall τ after rounding predictions to 0.1 percentage point "
                 "(NAS-Bench-301).")]
    for t, a in d["accuracy"].items():
        _, scale, unit = metric_axis(a["metric"])
        u = f" ({unit})" if unit else ""
        rows = [[r["split"], num(r["n"]), num(r["r2"], ".3f"),
                 num(None if r["mae"] is None else scale * r["mae"], ".3g"),
                 num(None if r["rmse"] is None else scale * r["rmse"], ".3g"), num(r["kendall_tau"], ".3f"),
                 num(r["sparse_kendall_tau"], ".3f"), num(r["spearman"], ".3f"), num(r["top_k_overlap"], ".2f")]
                for r in a["metrics"]]
        blocks = [Block("p", f"Task {t}, metric {a['metric']} (epoch {a['epoch'] or 'final'}); model "
                             f"{a['model']}; {a['n_archs']:,} archs with ok runs, {a['n_train_benchmark']:,} of them "
                             "in the benchmark's training set."),
                  Block("table", "Prediction quality (top-1% is the share of the true top 1% archs also predicted "
                                 "in the top 1%).",
                        ["split", "archs", "R²", f"MAE{u}", f"RMSE{u}", "Kendall τ", "sparse τ", "Spearman ρ",
                         "top-1% overlap"], rows)]
        blocks += figure_blocks(figures, f"accuracy_scatter_{t}")
        srows = []
        for r in a["per_stratum"]:
            o, lo = r["oof"], r["loso"] or {}
            srows.append([r["stratum"], num(r["n"]), num(None if o["mae"] is None else scale * o["mae"], ".3g"),
                          num(o["kendall_tau"], ".3f"), num(lo.get("n_train")),
                          num(None if lo.get("mae") is None else scale * lo["mae"], ".3g"),
                          num(lo.get("kendall_tau"), ".3f")])
        blocks.append(Block("table", "Errors per stratum: out-of-fold, and leave-one-stratum-out (trained on the "
                                     "other strata only).",
                            ["stratum", "archs", f"OOF MAE{u}", "OOF τ", "LOSO train archs", f"LOSO MAE{u}",
                             "LOSO τ"], srows))
        blocks += figure_blocks(figures, f"accuracy_strata_{t}")
        lc = a["learning_curve"]
        if lc["summary"]:
            lrows = [[num(x["n_train"]), f"{num(x['kendall_tau_mean'], '.3f')} ± {num(x['kendall_tau_std'], '.3f')}",
                      f"{num(x['sparse_kendall_tau_mean'], '.3f')} ± {num(x['sparse_kendall_tau_std'], '.3f')}",
                      f"{num(scale * x['rmse_mean'], '.3g')} ± {num(scale * x['rmse_std'], '.3g')}"]
                     for x in lc["summary"]]
            blocks.append(Block("table", f"Learning curve (mean ± sd over {len(lc['seeds'])} random subsets; tested "
                                         "on the archs left out).",
                                ["training archs", "Kendall τ", "sparse τ", f"RMSE{u}"], lrows))
            blocks += figure_blocks(figures, f"accuracy_learning_{t}")
        else:
            blocks.append(Block("callout", status="info", text=f"No learning curve: {lc.get('note', '')}."))
        cal = a["calibration"]
        crows = [[f"{100 * lv:.0f}%", f"{100 * o:.1f}%", f"{100 * m:.1f}%"]
                 for lv, o, m in zip(cal["levels"], cal["observed"], cal["observed_model_only"])]
        text = (f"Seed noise σ_seed = {num(None if cal['noise_std'] is None else scale * cal['noise_std'], '.3g')} "
                f"{unit}, mean ensemble spread σ_model = {num(scale * cal['model_std_mean'], '.3g')} {unit}; "
                f"{cal['n_obs']:,} single-seed results; sd of their z-scores {num(cal['z_std'], '.2f')} (1 when "
                "calibrated).")
        stored = cal.get("stored") or {}
        if "coverage_95" in stored:
            text += (f" The benchmark's own check at fit time: 68% interval covers {100 * stored['coverage_68']:.1f}%, "
                     f"95% interval covers {100 * stored['coverage_95']:.1f}%.")
        blocks += [Block("p", text), Block("table", "Calibration: nominal vs observed coverage.",
                                           ["nominal", "observed (model + seed noise)", "observed (model only)"],
                                           crows)]
        if cal["degenerate"]:
            blocks.append(Block("callout", status="info", text="The predictive spread is zero (one model and no "
                                "repeated seeds): the benchmark cannot express uncertainty."))
        blocks += figure_blocks(figures, f"accuracy_calibration_{t}")
        out.append(Section(f"Accuracy on {t}", anchor("accuracy", t), blocks, level=3))
    return out


# ------------------------------------------------------------------------ search
def _search(d: Mapping[str, Any], figures: Sequence[Figure]) -> Section:
    s = d.get("search")
    if not s:
        return intro("Optimiser trajectories", "search",
                     "No optimiser trajectories were given. Run surrogate-eo search run or surrogate-eo search compare "
                     "and pass the saved files with --trajectories to add this section.")
    metric = next(iter(d["meta"]["metrics"].values()), "val_acc")
    _, scale, unit = metric_axis(metric)
    blocks = []
    if s["groups"]:
        rows = [[g["optimizer"], g["source"], num(g["n_runs"]), num(len(g["evaluations"])),
                 f"{num(scale * g['best_mean'], '.4g')} ± {num(scale * g['best_std'], '.3g')}",
                 num(scale * g["best_max"], ".4g")] for g in s["groups"]]
        blocks.append(Block("table", f"Best value found per optimiser and source "
                                     f"({'%' if scale == 100 else 'metric units'}).",
                            ["optimizer", "source", "runs", "evaluations", "best (mean ± sd)", "best overall"], rows))
        blocks += figure_blocks(figures, "search_incumbent")
        best = sorted(s["runs"], key=lambda r: -(r["best_fitness"] if r["best_fitness"] is not None else -1e9))[:5]
        blocks.append(Block("table", "Best architectures found.", ["optimizer", "source", "seed", "best", "arch"],
                            [[r["optimizer"], r["source"], str(r["seed"]), num(scale * r["best_fitness"], ".4g"),
                              r["best_arch"] or ""] for r in best], code_columns=(4,)))
    for i, c in enumerate(s["comparisons"]):
        st = c.get("stats", {})
        k, ps = st.get("kendall", {}), st.get("per_seed", {})
        rows = [[o, num(st.get("rank", {}).get("ground_truth", [None] * 99)[j]),
                 num(st.get("rank", {}).get("surrogate", [None] * 99)[j])] for j, o in enumerate(c["optimizers"])]
        blocks.append(Block("p", f"Trajectory fidelity ({c['sources'].get('ground_truth')} vs "
                                 f"{c['sources'].get('surrogate')}, {len(c['seeds'])} seeds x {c['budget']} "
                                 f"evaluations): Kendall τ of the optimiser rankings {num(k.get('tau'), '.3f')} "
                                 f"(p = {num(k.get('p'), '.3g')}); mean per-seed τ {num(ps.get('mean_tau'), '.3f')}."))
        blocks.append(Block("table", "Rank of each optimiser by mean final regret (1 = best).",
                            ["optimizer", "rank on ground truth", "rank on surrogate"], rows))
        blocks += [Block("figure", figure=f) for f in figures if f.name == f"search_comparison_{i}"]
    return Section("Optimiser trajectories", "search", blocks)


def _about(d: Mapping[str, Any]) -> Section:
    meta = d["meta"]
    rows = [[k, v] for k, v in meta.get("sources", {}).items()]
    rows += [["surrogate-eo", meta["version"]], ["created (UTC)", meta["created"]],
             ["options", ", ".join(f"{k}={v}" for k, v in meta["options"].items()
                                   if k not in ("plan", "surrogate_plan"))]]
    return Section("About this report", "about", [
        Block("table", "Inputs and settings.", ["item", "value"], rows),
        Block("p", "Every number is also in report.json beside this file. How to read each part: docs/report.md "
                   "in the surrogate-eo repository.")])


def layout(data: Any, figures: Sequence[Figure]) -> list[Section]:
    """The report's sections, in order (``data``: ReportData or its dict)."""
    d = data.to_dict() if hasattr(data, "to_dict") else data
    return [_summary(d), _campaign(d, figures), *_accuracy(d, figures), *landscape_sections(d, figures),
            *verdict_sections(d), _search(d, figures), _about(d)]


__all__ = ["Block", "Section", "STATUS_WORD", "layout", "num", "verdict_line"]
