"""The report's landscape-comparison and verdict sections (one subsection per task).

Part of :func:`~surrogate_eo.report.layout.layout`; :func:`verdict_line` is
also the summary's call-out sentence.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .elements import Block, Section, anchor, ci_text, figure_blocks, intro, num
from .plots import Figure

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
                cells.append(num(v) + ci_text(ci))
            st = [c["verdict"] for c in comps if c["feature"] == name and c.get("key") == k and c.get("judged", True)]
            status = next((s for s in ("unfaithful", "inconclusive", "faithful") if s in st), "")
            cells.insert(1, status or "not judged")
            rows.append(cells)
            statuses.append(status)
    return rows, statuses


_FEATURE_COLUMNS = ("feature", "verdict", "ground truth", "surrogate (paired)", "surrogate (fresh)")


def landscape_sections(d: Mapping[str, Any], figures: Sequence[Figure]) -> list[Section]:
    """The landscape comparison: the three landscapes' features, figures and local optima, per task."""
    out = [intro("Landscape comparison", "landscape",
                 "Three landscapes are analysed with the same features: the ground truth on the archs the campaign "
                 "trained, the surrogate on exactly those archs (paired) and the surrogate on fresh samples drawn by "
                 "the same plan (distributional, plus hill climbs and neutral walks, which only a surrogate allows). "
                 "Values are fractions of the metric unless the glossary says otherwise; brackets are bootstrap "
                 "confidence intervals. Correlation length is given as Weinberger's -1/ln|ρ(1)| (corr_length) and "
                 "Traoré's 1/ρ(1) (corr_length_traore).")]
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
            blocks += figure_blocks(figures, f"landscape_{key}_{t}")
        orows, ostat = _feature_rows(land, skip=[n for n in land["features"] if n not in land["local_optima"]])
        if orows:
            blocks.append(Block("table", "Local-optima statistics (hill climbs and neutral walks exist only on the "
                                         "surrogate: the ground truth holds only the campaign's archs).",
                                _FEATURE_COLUMNS, orows, ostat))
        blocks += figure_blocks(figures, f"landscape_optima_{t}")
        out.append(Section(f"Landscape of {t}", anchor("landscape", t), blocks, level=3))
    return out


def verdict_sections(d: Mapping[str, Any]) -> list[Section]:
    """The verdict: outcome call-outs, why each comparison failed or is inconclusive, every comparison."""
    out = [intro("Verdict", "verdict",
                 "Every judged comparison gets a simultaneous confidence interval of surrogate - truth (family-wise "
                 "over all judged comparisons). It is faithful when the whole interval lies inside the feature's "
                 "tolerance band, unfaithful when the whole interval lies outside it, and inconclusive otherwise or "
                 "when too few resampling units (walks, neighbourhoods, points) back it. The surrogate is faithful "
                 "when every judged comparison is, unfaithful when any is, else inconclusive. Value mode judges "
                 "every feature; rank mode only the rank-invariant ones (what comparison-based optimisers see).")]
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
                         num(c["diff"], "+.4g") + ci_text(c["ci"], "+.3g"), tt, num(c.get("n_units")),
                         str(c.get("reason") or "")])
        blocks.append(Block("table", "Every comparison (diff = surrogate - truth with its simultaneous CI; tolerance "
                                     "in metric units or as a ratio; units = resampling units behind it).",
                            ["verdict", "kind", "feature", "rank mode", "truth", "surrogate", "diff [CI]", "tolerance",
                             "units", "reason"], rows,
                            [c["verdict"] if c.get("judged", True) else "" for c in land["comparisons"]]))
        out.append(Section(f"Verdict on {t}", anchor("verdict", t), blocks, level=3))
    return out


__all__ = ["landscape_sections", "verdict_line", "verdict_sections"]
