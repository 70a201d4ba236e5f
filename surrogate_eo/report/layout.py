"""What the report says, in order: sections of paragraphs, tables, figures and call-outs.

:func:`layout` turns :class:`~surrogate_eo.report.data.ReportData` and the
rendered figures into a list of :class:`Section`; :mod:`.html` and
:mod:`.markdown` print the same sections in their format, so both files
carry the same content.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .plots import Figure, metric_axis

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


def num(x: Any, fmt: str = ".4g") -> str:
    """A number as text; ``n/a`` for None / NaN."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    return format(float(x), fmt)


def _ci(ci: Any, fmt: str = ".4g") -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f" [{num(ci[0], fmt)}, {num(ci[1], fmt)}]"


def _figs(figures: Sequence[Figure], name: str) -> list[Block]:
    """The figure called ``name`` as a block (none when it was not drawn)."""
    return [Block("figure", figure=f) for f in figures if f.name == name]


def _anchor(*parts: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else "-" for ch in p.lower()) for p in parts)


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


_MODE_MEANING = {"value": "for benchmarking values, every judged feature",
                 "rank": "for comparison-based search, rank-invariant features only"}


def verdict_line(task: str, land: Mapping[str, Any], mode: str) -> str:
    """One sentence: the outcome in ``mode``, its counts, and (inconclusive) the runs that would settle it."""
    word = land["verdicts"][mode]
    n = (land.get("counts") or {}).get(mode, {})
    text = {"faithful": "is faithful to the ground truth", "unfaithful": "is NOT faithful to the ground truth",
            "inconclusive": "cannot be judged yet"}[word]
    out = (f"{task}, {mode} mode ({_MODE_MEANING.get(mode, mode)}): the surrogate's landscape {text}; "
           f"{n.get('unfaithful', 0)} unfaithful, {n.get('inconclusive', 0)} inconclusive, "
           f"{n.get('faithful', 0)} faithful comparisons.")
    need = (land.get("runs_needed") or {}).get(mode) or {}
    if (land.get("too_small") or {}).get(mode):
        out += (" The campaign is too small for a conclusive verdict: runs needed "
                + ", ".join(f"~{int(v):,} more {k}" for k, v in need.items()) + ".")
    return out


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
    blocks += _figs(figures, "campaign_runs")
    blocks.append(Block("table", "Seed-to-seed noise from archs trained with two or more seeds (pooled within-arch "
                                 "standard deviation; pp = percentage points).",
                        ["task", "metric", "archs repeated", "max seeds", "pooled sd", "median sd",
                         "mean range"], noise_rows))
    if not any(v["n_archs_repeated"] for v in camp["noise"].values()):
        blocks.append(Block("callout", status="info", text="No architecture was trained with more than one seed, so "
                            "the noise level is unknown; plan a `seeds` stratum in the campaign."))
    blocks += _figs(figures, "campaign_noise")
    return Section("Campaign summary", "campaign", blocks)


# ---------------------------------------------------------------------- accuracy
def _accuracy(d: Mapping[str, Any], figures: Sequence[Figure]) -> list[Section]:
    out = [Section("Surrogate accuracy", "accuracy", [Block(
        "p", "Every architecture is predicted by a model of the benchmark's configuration that was fitted "
             "without it (k-fold cross-validation on the seed-averaged ground truth). The shipped benchmark's own "
             "predictions are shown beside: on archs it was not fitted on (held-out) and on its training archs "
             "(in-sample, optimistic). Sparse τ is Kendall τ after rounding predictions to 0.1 percentage point "
             "(NAS-Bench-301).")])]
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
        blocks += _figs(figures, f"accuracy_scatter_{t}")
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
        blocks += _figs(figures, f"accuracy_strata_{t}")
        lc = a["learning_curve"]
        if lc["summary"]:
            lrows = [[num(x["n_train"]), f"{num(x['kendall_tau_mean'], '.3f')} ± {num(x['kendall_tau_std'], '.3f')}",
                      f"{num(x['sparse_kendall_tau_mean'], '.3f')} ± {num(x['sparse_kendall_tau_std'], '.3f')}",
                      f"{num(scale * x['rmse_mean'], '.3g')} ± {num(scale * x['rmse_std'], '.3g')}"]
                     for x in lc["summary"]]
            blocks.append(Block("table", f"Learning curve (mean ± sd over {len(lc['seeds'])} random subsets; tested "
                                         "on the archs left out).",
                                ["training archs", "Kendall τ", "sparse τ", f"RMSE{u}"], lrows))
            blocks += _figs(figures, f"accuracy_learning_{t}")
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
        blocks += _figs(figures, f"accuracy_calibration_{t}")
        out.append(Section(f"Accuracy on {t}", _anchor("accuracy", t), blocks, level=3))
    return out


# --------------------------------------------------------------------- landscape
def _feature_rows(land: Mapping[str, Any], skip: Sequence[str] = ()) -> tuple[list[list[str]], list[str]]:
    """Rows ``feature[key] | verdict | truth [CI] | paired [CI] | fresh [CI]`` and each row's status."""
    rows, statuses = [], []
    comps = land["comparisons"]
    for name, f in land["features"].items():
        if name in skip:
            continue
        keys = sorted({k for m in ("truth", "paired", "distributional") if f.get(m) for k in f[m]["value"]},
                      key=float) if f["is_map"] else [None]
        for k in keys:
            cells = [name if k is None else f"{name}[{k}]"]
            for m in ("truth", "paired", "distributional"):
                rec = f.get(m)
                if rec is None:
                    cells.append("n/a")
                    continue
                v, ci = (rec["value"], rec["ci"]) if k is None else (rec["value"].get(k), rec["ci"].get(k))
                cells.append(num(v) + _ci(ci))
            st = [c["verdict"] for c in comps if c["feature"] == name and c.get("key") == k and c.get("judged", True)]
            status = next((s for s in ("unfaithful", "inconclusive", "faithful") if s in st), "")
            cells.insert(1, status or "not judged")
            rows.append(cells)
            statuses.append(status)
    return rows, statuses


_FEATURE_COLUMNS = ("feature", "verdict", "ground truth", "surrogate (paired)", "surrogate (fresh)")


def _landscape(d: Mapping[str, Any], figures: Sequence[Figure]) -> list[Section]:
    out = [Section("Landscape comparison", "landscape", [Block(
        "p", "Three landscapes are analysed with the same features: the ground truth on the archs the campaign "
             "trained, the surrogate on exactly those archs (paired) and the surrogate on fresh samples drawn by "
             "the same plan (distributional, plus hill climbs and neutral walks, which only a surrogate allows). "
             "Values are fractions of the metric unless the glossary says otherwise; brackets are bootstrap "
             "confidence intervals. Correlation length is given as Weinberger's -1/ln|ρ(1)| (corr_length) and "
             "Traoré's 1/ρ(1) (corr_length_traore).")])]
    for t, land in d["landscape"].items():
        sizes = ", ".join(f"{m}: {land['n_evaluations'][m]:,} evaluations" for m in land["sources"]
                          if land["n_evaluations"].get(m) is not None)
        blocks = [Block("p", f"Verdict {land['origin']}. Sources: truth = {land['sources']['truth']}, paired = "
                             f"{land['sources']['paired']}, fresh = {land['sources']['distributional']} ({sizes})."
                             + (" Histogram and FDC samples were drawn again with the verdict's plans and seed."
                                if land["samples_redrawn"] else ""))]
        rows, statuses = _feature_rows(land, skip=("autocorrelation",))
        blocks.append(Block("table", "Every feature of the three landscapes (ρ(s) at every lag: see the "
                                     "autocorrelation figure and report.json).", _FEATURE_COLUMNS, rows, statuses))
        blocks.append(Block("list", items=[f"{n}: {f['description']}" for n, f in land["features"].items()]))
        for key in ("features", "maps", "autocorr", "hist", "fdc"):
            blocks += _figs(figures, f"landscape_{key}_{t}")
        orows, ostat = _feature_rows(land, skip=[n for n in land["features"] if n not in land["local_optima"]])
        if orows:
            blocks.append(Block("table", "Local-optima statistics (hill climbs and neutral walks exist only on the "
                                         "surrogate: the ground truth holds only the campaign's archs).",
                                _FEATURE_COLUMNS, orows, ostat))
        blocks += _figs(figures, f"landscape_optima_{t}")
        out.append(Section(f"Landscape of {t}", _anchor("landscape", t), blocks, level=3))
    return out


def _verdict(d: Mapping[str, Any]) -> list[Section]:
    out = [Section("Verdict", "verdict", [Block(
        "p", "Every judged comparison gets a simultaneous confidence interval of surrogate - truth (family-wise "
             "over all judged comparisons). It is faithful when the whole interval lies inside the feature's "
             "tolerance band, unfaithful when the whole interval lies outside it, and inconclusive otherwise or "
             "when too few resampling units (walks, neighbourhoods, points) back it. The surrogate is faithful "
             "when every judged comparison is, unfaithful when any is, else inconclusive. Value mode judges "
             "every feature; rank mode only the rank-invariant ones (what comparison-based optimisers see).")])]
    for t, land in d["landscape"].items():
        ag = land.get("agreement") or {}
        blocks = [Block("callout", status=land["verdicts"][m], text=verdict_line(t, land, m))
                  for m in ("value", "rank") if m in land.get("verdicts", {})]
        blocks.append(Block("p", f"Paired predictions: {land.get('paired_by') or 'as given in the verdict'}. "
                                 f"Kendall τ of truth and paired surrogate at the campaign's uniform archs: "
                                 f"{num(ag.get('kendall_tau'), '.3f')} (n = {ag.get('n', 'n/a')})."))
        for w in land.get("warnings", []):
            blocks.append(Block("callout", status="info", text=f"Warning: {w}."))
        judged = [c for c in land["comparisons"] if c.get("judged", True)]
        fails = [c for c in judged if c["verdict"] == "unfaithful"]
        inc = [c for c in judged if c["verdict"] == "inconclusive"]
        if fails:
            blocks.append(Block("p", "Unfaithful, and why:"))
            blocks.append(Block("list", items=[f"{c['label']} ({c['kind']}): {c['why']}." for c in fails]))
        else:
            blocks.append(Block("p", "No comparison is unfaithful."))
        if inc:
            blocks.append(Block("p", "Inconclusive:"))
            blocks.append(Block("list", items=[f"{c['label']} ({c['kind']}): {c['why']}." for c in inc]))
        rows = []
        for c in land["comparisons"]:
            tol = c["tolerance"]
            tt = " or ".join(x for x in (f"±{tol['abs']:g}" if tol.get("abs") is not None else "",
                                         f"×{tol['ratio']:g}" if tol.get("ratio") is not None else "") if x)
            rows.append([c["verdict"] if c.get("judged", True) else "not judged", c["kind"], c["label"],
                         "yes" if c.get("rank_invariant") else "no", num(c["truth"]), num(c["surrogate"]),
                         num(c["diff"], "+.4g") + _ci(c["ci"], "+.3g"), tt, num(c.get("n_units")),
                         str(c.get("reason") or "")])
        blocks.append(Block("table", "Every comparison (diff = surrogate - truth with its simultaneous CI; tolerance "
                                     "in metric units or as a ratio; units = resampling units behind it).",
                            ["verdict", "kind", "feature", "rank mode", "truth", "surrogate", "diff [CI]", "tolerance",
                             "units", "reason"], rows,
                            [c["verdict"] if c.get("judged", True) else "" for c in land["comparisons"]]))
        out.append(Section(f"Verdict on {t}", _anchor("verdict", t), blocks, level=3))
    return out


# ------------------------------------------------------------------------ search
def _search(d: Mapping[str, Any], figures: Sequence[Figure]) -> Section:
    s = d.get("search")
    if not s:
        return Section("Optimiser trajectories", "search", [Block(
            "p", "No optimiser trajectories were given. Run surrogate-eo search run or surrogate-eo search compare "
                 "and pass the saved files with --trajectories to add this section.")])
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
        blocks += _figs(figures, "search_incumbent")
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
    return [_summary(d), _campaign(d, figures), *_accuracy(d, figures), *_landscape(d, figures),
            *_verdict(d), _search(d, figures), _about(d)]


__all__ = ["Block", "Section", "STATUS_WORD", "layout", "num"]
