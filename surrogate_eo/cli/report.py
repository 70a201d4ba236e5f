"""``surrogate-eo report``: the surrogate quality report (HTML + Markdown + JSON)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def report_command(
    db: Path = typer.Option(..., "--db", help="Ground-truth results database (Parquet) from `surrogate-eo collect`."),
    surrogate: Path = typer.Option(..., "--surrogate", help="Surrogate benchmark folder from `surrogate-eo fit`."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for report.html, report.md, report.json, figures/."),
    fidelity: Optional[list[Path]] = typer.Option(
        None, "--fidelity", help="Fidelity verdict JSON from `surrogate-eo fidelity --json` (repeat: one per task). "
                                 "Tasks without one get a verdict computed here."),
    trajectories: Optional[list[Path]] = typer.Option(
        None, "--trajectories", help="Optimiser trajectory (.json/.parquet) or comparison (.json) files (repeat)."),
    task: Optional[list[str]] = typer.Option(None, "--task", help="Task to report (repeat; default all)."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Quality metric (default val_acc)."),
    cv_folds: int = typer.Option(5, "--cv-folds", min=2, help="Folds of the out-of-fold predictions."),
    quick: bool = typer.Option(False, "--quick", help="Smaller sampling plan and fewer refits (a quick look)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the splits, the verdict and subsamples."),
) -> None:
    """Write the surrogate quality report: campaign, accuracy, landscape comparison, verdict, trajectories.

    Example: `surrogate-eo report --db ground_truth/smoke.parquet --surrogate bench/ --out report/`
    """
    from ..landscape import SamplingPlan
    from ..report import ReportOptions, build_report

    opts = ReportOptions(cv_folds=cv_folds, seed=seed)
    if quick:
        opts = ReportOptions(cv_folds=min(cv_folds, 3), seed=seed, learning_curve_seeds=(0,),
                             learning_curve_fractions=(0.2, 0.5, 0.8), plan=SamplingPlan.small())
    sources = {"database": db, "surrogate": surrogate}
    if fidelity:
        sources["fidelity"] = ", ".join(map(str, fidelity))
    if trajectories:
        sources["trajectories"] = ", ".join(map(str, trajectories))
    paths = build_report(db, surrogate, list(fidelity) if fidelity else None,
                         list(trajectories) if trajectories else None, out, tasks=task or None, metric=metric,
                         options=opts, progress=True, sources=sources)
    for line in paths.summary():
        typer.echo(line)
    typer.echo(f"markdown: {paths.markdown} (figures in {paths.markdown.parent / 'figures'}); numbers: {paths.json}")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
