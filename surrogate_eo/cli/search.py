"""``surrogate-eo search …``: run NAS optimisers on a benchmark, table or database; compare trajectories."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

search_app = typer.Typer(
    help="Run NAS optimisers (rs, re, ls, tpe) on a fitness source and compare their trajectories.\n\n"
         "Sources: table:FILE.csv:COLUMN | surrogate:DIR:TASK | db:DB.parquet:TASK.",
    no_args_is_help=True,
)

_SOURCE_HELP = "table:FILE.csv:COLUMN | surrogate:DIR:TASK | db:DB.parquet:TASK"


def _params(items: list[str]) -> dict[str, Any]:
    from .._io import loads_json
    from ..errors import SearchError, shown

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SearchError(f"--param {shown(item)} is not KEY=VALUE (e.g. --param population_size=50)")
        try:
            out[key.strip()] = loads_json(value)
        except ValueError:
            out[key.strip()] = value
    return out


@search_app.command("run")
def run(optimizer: str = typer.Option(..., "--optimizer", "-o", help="rs, re, ls or tpe."),
        source: str = typer.Option(..., "--source", "-s", help=_SOURCE_HELP),
        budget: int = typer.Option(..., "--budget", "-b", help="Number of evaluations (>= 1)."),
        out: Path = typer.Option(..., "--out", help="Trajectory file to write (.json or .parquet)."),
        time_budget: Optional[float] = typer.Option(None, "--time-budget",
                                                    help="Stop once this many simulated training seconds are "
                                                         "spent (needs a source with training times)."),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same trajectory)."),
        metric: Optional[str] = typer.Option(None, "--metric", help="Metric of a surrogate or database source "
                                                                    "(default val_acc)."),
        epoch: Optional[int] = typer.Option(None, "--epoch", help="Epoch of the metric (default: final)."),
        space: str = typer.Option("nb201", "--space", help="Space of a table source's architecture strings."),
        noise: bool = typer.Option(False, "--noise", help="Draw surrogate values from its noise model."),
        param: list[str] = typer.Option([], "--param", "-p", help="Optimiser hyper-parameter KEY=VALUE "
                                                                  "(repeatable), e.g. population_size=50."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar.")) -> None:
    """Run one optimiser on one source and write its trajectory (incumbent vs evaluations and simulated time)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..errors import SearchError
    from ..search._core import check_budget
    from ..search.optimisers import get_optimizer, run_optimizer
    from ..search.specs import cost_for_time_budget, open_source

    get_optimizer(optimizer)
    check_budget(budget, time_budget)
    if out.suffix.lower() not in (".json", ".parquet"):
        raise SearchError(f"--out {out} must end in .json or .parquet")
    opened = open_source(source, metric=metric, epoch=epoch, space=space, with_noise=noise, seed=seed)
    cost = cost_for_time_budget(opened, source) if time_budget is not None else opened.cost
    kwargs = _params(param)
    with Progress(TextColumn(f"{optimizer} on {source}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  disable=quiet, transient=True) as bar:
        task = bar.add_task("evaluations", total=budget)
        traj = run_optimizer(optimizer, opened.source, budget, seed=seed, cost=cost, time_budget=time_budget,
                             progress=lambda n: bar.advance(task, n), **kwargs)
    traj.source = source
    traj.save(out)
    typer.echo(traj.summary())
    typer.echo(f"wrote {out}")


@search_app.command("compare")
def compare(ground_truth: str = typer.Option(..., "--ground-truth", "-g", help=_SOURCE_HELP),
            surrogate: str = typer.Option(..., "--surrogate", "-s", help=_SOURCE_HELP),
            out: Path = typer.Option(..., "--out", help="Result JSON (curves, regrets, rankings, tests)."),
            optimizers: str = typer.Option("rs,re,ls,tpe", "--optimizers", help="Comma-separated optimisers."),
            seeds: int = typer.Option(10, "--seeds", help="Seeds per optimiser and source (>= 2; 10+ advised)."),
            budget: int = typer.Option(200, "--budget", "-b", help="Evaluations per run."),
            plot: Optional[Path] = typer.Option(None, "--plot", help="Also write a figure (.png/.pdf/.svg)."),
            metric: Optional[str] = typer.Option(None, "--metric", help="Metric of surrogate / database sources."),
            epoch: Optional[int] = typer.Option(None, "--epoch", help="Epoch of that metric (default: final)."),
            space: str = typer.Option("nb201", "--space", help="Space of table sources' architecture strings."),
            trajectories: bool = typer.Option(False, "--trajectories", help="Store every trajectory in the JSON."),
            quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar.")) -> None:
    """Run every optimiser with SEEDS seeds on the ground truth and on the surrogate; do they rank alike?"""
    from ..errors import SearchError
    from ..search.compare import compare_optimizers
    from ..search.optimisers import get_optimizer
    from ..search.specs import open_source

    names = [o.strip() for o in optimizers.split(",") if o.strip()]
    for o in names:
        get_optimizer(o)
    if out.suffix.lower() != ".json":
        raise SearchError(f"--out {out} must end in .json")
    gt = open_source(ground_truth, metric=metric, epoch=epoch, space=space).source
    su = open_source(surrogate, metric=metric, epoch=epoch, space=space).source
    cmp = compare_optimizers(gt, su, optimizers=names, seeds=seeds, budget=budget, progress=not quiet)
    cmp.save(out, with_trajectories=trajectories)
    typer.echo(cmp.table())
    typer.echo(f"wrote {out}")
    if plot is not None:
        from ..search.plots import plot_comparison

        plot_comparison(cmp, plot, title=f"{cmp.sources['ground_truth']} vs {cmp.sources['surrogate']}")
        typer.echo(f"wrote {plot}")


def register(app: typer.Typer) -> None:
    app.add_typer(search_app, name="search")
