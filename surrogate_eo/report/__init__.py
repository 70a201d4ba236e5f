"""The surrogate quality report: one self-contained HTML file, the same as Markdown, and a JSON of every number.

A tiny campaign whose ground truth is the real NAS-Bench-201 table (60 uniform
archs and two complete neighbourhoods), a small XGBoost benchmark fitted on
it, and its report (a few seconds; ``build_report`` takes paths as well):

>>> import tempfile
>>> import numpy as np
>>> from surrogate_eo.database import Database
>>> from surrogate_eo.landscape import SamplingPlan
>>> from surrogate_eo.records import RunRecord, RunSpec
>>> from surrogate_eo.reference import load_nb201
>>> from surrogate_eo.surrogates import XGBSurrogate, fit_benchmark
>>> truth = load_nb201().source("CIFAR10TestAccuracy200Epochs")
>>> sp = truth.space
>>> hoods = [np.vstack([c, sp.neighbours(c)]) for c in sp.sample(2, 1)]
>>> archs = sp.from_index(np.unique(sp.index(np.vstack([sp.sample(60, 0), *hoods]))))
>>> db = Database.from_records([RunRecord(RunSpec("nb201", sp.to_string(a), "so2sat-s2", 0, "doc", "0"), "ok",
...                                       [{"val_acc": float(v)}]) for a, v in zip(archs, truth.fitness(archs))])
>>> bench = fit_benchmark(db, tasks=["so2sat-s2"], model=XGBSurrogate(space="nb201", n_estimators=30))
>>> opts = ReportOptions(cv_folds=3, learning_curve_fractions=(0.5,), learning_curve_seeds=(0,),
...                      plan=SamplingPlan.small(n_points=200, n_walks=4, walk_length=10, n_centres=4,
...                                              n_climbs=4, n_neutral_walks=0, n_boot=50))
>>> paths = build_report(db, bench, out_dir=tempfile.mkdtemp(), options=opts)
>>> paths.html.name, paths.markdown.name, paths.json.name
('report.html', 'report.md', 'report.json')
>>> paths.summary()[0].split(",")[0]
'so2sat-s2: 109 archs'

The work is split in two: :func:`~surrogate_eo.report.data.compute_report`
computes a :class:`ReportData` (plain numbers, JSON-ready) from the inputs;
:mod:`.plots`, :mod:`.layout`, :mod:`.html` and :mod:`.markdown` only render it
(:func:`write_report` re-renders a saved ``report.json`` too). Nothing is
written until everything is computed and rendered, and every file is
written atomically, so a failure never leaves a half-written report.
Matplotlib is used with its Agg canvas; torch is never imported.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import atomic_write_bytes, atomic_write_json, atomic_write_text
from .._types import BenchmarkLike, DatabaseLike
from ..errors import ReportError
from .data import ReportData, ReportOptions, compute_report

HTML_NAME, MARKDOWN_NAME, JSON_NAME, FIGURE_DIR = "report.html", "report.md", "report.json", "figures"
_FIGURE_PREFIXES = ("campaign_", "accuracy_", "landscape_", "search_")


@dataclass(frozen=True)
class ReportPaths:
    """Where a report was written, and its numbers."""

    html: Path
    markdown: Path
    json: Path
    figures: tuple[Path, ...]
    data: ReportData

    def summary(self) -> list[str]:
        """A few lines for a terminal: accuracy and verdict per task, then where the report is."""
        return summary_lines(self.data) + [f"report: {self.html}"]


def summary_lines(data: ReportData) -> list[str]:
    """One line per task: out-of-fold Kendall τ / sparse τ and the fidelity verdict."""
    lines = []
    for t in data.tasks:
        m = data.accuracy[t]["metrics"][0]
        line = (f"{t}: {data.accuracy[t]['n_archs']} archs, out-of-fold Kendall tau {m['kendall_tau']:.3f} "
                f"(sparse {m['sparse_kendall_tau']:.3f}), R2 {m['r2']:.3f}")
        land = data.landscape.get(t)
        if land:
            vv = land.get("verdicts", {})
            line += f"; landscape verdict {land['verdict']} ({', '.join(f'{m} mode: {w}' for m, w in vv.items())}"
            line += f"; unfaithful: {', '.join(land['failed'])})" if land["failed"] else ")"
        lines.append(line)
    return lines


def _out_dir(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"report folder {out} exists and is not a folder; choose another --out")
    return out


def write_report(data: ReportData | dict[str, Any] | str | Path, out_dir: str | Path) -> ReportPaths:
    """Render ``data`` (a ReportData, its dict, or a saved ``report.json``) into ``out_dir``.

    Writes ``report.html`` (self-contained), ``report.md`` with ``figures/*.png``
    and ``report.json``. Everything is rendered in memory first; each file is
    then written atomically (figures first, the HTML last).
    """
    from .html import render_html
    from .layout import layout
    from .markdown import render_markdown
    from .plots import render_figures

    if isinstance(data, (str, Path)):
        from ..landscape._json import read_json_file

        data = read_json_file(data, "report JSON", "write one with surrogate-eo report ... --out DIR", ReportError)
    if isinstance(data, dict):
        data = ReportData.from_dict(data)
    out = _out_dir(out_dir)
    figures = render_figures(data)
    sections = layout(data, figures)
    html = render_html(sections, data.meta)
    markdown = render_markdown(sections, data.meta, FIGURE_DIR)
    payload = data.to_dict()
    payload["figures"] = [{"name": f.name, "file": f"{FIGURE_DIR}/{f.filename}", "section": f.section,
                           "title": f.title, "caption": f.caption} for f in figures]
    fig_dir = out / FIGURE_DIR
    fig_paths = []
    for f in figures:
        atomic_write_bytes(fig_dir / f.filename, f.png)
        fig_paths.append(fig_dir / f.filename)
    keep = {f.filename for f in figures}
    if fig_dir.is_dir():  # figures of an earlier report that this one no longer draws
        for old in fig_dir.glob("*.png"):
            if old.name not in keep and old.name.startswith(_FIGURE_PREFIXES):
                old.unlink()
    atomic_write_text(out / MARKDOWN_NAME, markdown)
    atomic_write_json(out / JSON_NAME, payload)
    atomic_write_text(out / HTML_NAME, html)
    return ReportPaths(out / HTML_NAME, out / MARKDOWN_NAME, out / JSON_NAME, tuple(fig_paths), data)


def build_report(db: DatabaseLike | str | Path, bench: BenchmarkLike | str | Path, fidelity: Any = None,
                 trajectories: Any = None, out_dir: str | Path = "report", *, tasks: Sequence[str] | None = None,
                 metric: str | None = None, options: ReportOptions | None = None, progress: bool = False,
                 sources: dict[str, Any] | None = None) -> ReportPaths:
    """Compute and write the quality report of a surrogate benchmark.

    Parameters
    ----------
    db : Database or str or Path
        The ground-truth results database or its Parquet file.
    bench : Benchmark or str or Path
        The surrogate benchmark or its folder (``surrogate-eo fit``); same space as ``db``.
    fidelity : Verdict, dict, path, or {task: one of these}, optional
        Fidelity verdicts (``landscape.fidelity`` / ``surrogate-eo fidelity --json``). Tasks
        without one get a verdict computed here, paired on out-of-fold predictions
        (sampling plan ``options.plan``, default ``SamplingPlan()``).
    trajectories : Trajectory, Comparison, path, or a list of them, optional
        Optimiser runs and trajectory-fidelity comparisons; the section is omitted without them.
    out_dir : str or Path
        Folder for ``report.html``, ``report.md``, ``report.json`` and ``figures/``.
    tasks : list of str, optional
        Default: every task with ok runs and a model.
    metric : str, optional
        Default: the benchmark's (``val_acc`` when modelled).
    options : ReportOptions, optional
        Folds, learning-curve sizes, sampling plans, seed.
    progress : bool
        Show a progress bar.
    sources : dict, optional
        Input names shown in the report (default: the paths given).

    Returns
    -------
    ReportPaths

    Raises
    ------
    ReportError, DatabaseError, ArtifactError, LandscapeError
        On inputs that do not belong together (another space, no common task, an
        empty database, a verdict of another task) — before anything is written.
    """
    out = _out_dir(out_dir)
    if sources is None:
        sources = {k: v for k, v in (("database", db), ("surrogate", bench)) if isinstance(v, (str, Path))}
        if isinstance(fidelity, (str, Path)):
            sources["fidelity"] = fidelity
        if isinstance(trajectories, (str, Path)) or (isinstance(trajectories, (list, tuple)) and trajectories
                                                     and all(isinstance(t, (str, Path)) for t in trajectories)):
            items = trajectories if isinstance(trajectories, (list, tuple)) else [trajectories]
            sources["trajectories"] = ", ".join(str(t) for t in items)
    data = compute_report(db, bench, fidelity, trajectories, tasks=tasks, metric=metric, options=options,
                          progress=progress, sources=sources)
    return write_report(data, out)


__all__ = ["ReportData", "ReportOptions", "ReportPaths", "build_report", "compute_report", "summary_lines",
           "write_report"]
