"""``surrogate-eo landscape`` and ``surrogate-eo fidelity``: landscape footprints and the fidelity verdict."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

_PLAN_HELP = "Sampling plan (defaults: 10,000 points, 200 walks x 100, 1,000 neighbourhoods, 200 climbs)."


def _source(space: str, table: Optional[Path], column: Optional[str], surrogate: Optional[Path],
            db: Optional[Path], task: Optional[str], metric: Optional[str], epoch: Optional[int],
            what: str = "source") -> Any:
    """Build the one fitness source the options name."""
    from ..errors import LandscapeError

    given = [n for n, v in (("--table", table), ("--surrogate", surrogate), ("--db", db)) if v is not None]
    if len(given) != 1:
        raise LandscapeError(f"name exactly one {what}: --table FILE.csv --column COL, --surrogate DIR --task T, "
                             f"or --db DB.parquet --task T (got {', '.join(given) or 'none'})")
    if table is not None:
        from ..reference import ReferenceTable, load_nb201

        if column is None:
            raise LandscapeError("--table needs --column (the metric column to analyse)")
        ref = load_nb201(table) if table.is_dir() else ReferenceTable.from_csv(table, space)
        return ref.source(column)
    if task is None:
        raise LandscapeError(f"{given[0]} needs --task (e.g. so2sat-s2)")
    if surrogate is not None:
        from ..landscape.sources import BenchmarkSource
        from ..surrogates import load

        return BenchmarkSource(load(surrogate), task, metric=metric, epoch=epoch)
    from ..landscape.sources import DatabaseSource

    return DatabaseSource(db, task, metric=metric or "val_acc", epoch=epoch)


def _plan(points: Optional[int], walks: Optional[int], walk_length: Optional[int], centres: Optional[int],
          climbs: Optional[int], epsilon: Optional[list[float]], boot: Optional[int]) -> Any:
    from ..landscape import SamplingPlan

    kw: dict[str, Any] = {k: v for k, v in (("n_points", points), ("n_walks", walks), ("walk_length", walk_length),
                                             ("n_centres", centres), ("n_climbs", climbs), ("n_boot", boot))
                          if v is not None}
    if epsilon:
        kw["epsilons"] = tuple(sorted(set(epsilon)))
    return SamplingPlan(**kw)


def _busy(quiet: bool, what: str) -> Any:
    """A rich spinner on stderr while long work runs (nothing when quiet)."""
    import contextlib

    if quiet:
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(what)


def _print_rows(rows: list[tuple[str, ...]], header: tuple[str, ...], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(*header, title=title)
    for r in rows:
        t.add_row(*r)
    Console().print(t)


def landscape_command(
    space: str = typer.Option("nb201", "--space", help="Search space: nb201 or eo."),
    table: Optional[Path] = typer.Option(None, "--table", help="Reference table CSV (or the NB201 folder)."),
    column: Optional[str] = typer.Option(None, "--column", help="Metric column of --table (percent or fraction)."),
    second_column: Optional[str] = typer.Option(None, "--second-column",
                                                help="Second fidelity column of --table (persistence features)."),
    surrogate: Optional[Path] = typer.Option(None, "--surrogate", help="Saved surrogate benchmark folder."),
    db: Optional[Path] = typer.Option(None, "--db", help="Ground-truth database (Parquet); analysed on its archs."),
    task: Optional[str] = typer.Option(None, "--task", help="Task of --surrogate/--db, e.g. so2sat-s2."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric of --surrogate/--db (default val_acc)."),
    epoch: Optional[int] = typer.Option(None, "--epoch", min=1, help="Epoch of --surrogate/--db (default: final)."),
    second_epoch: Optional[int] = typer.Option(None, "--second-epoch", min=1,
                                               help="Second fidelity of --surrogate/--db (an earlier epoch)."),
    exact: bool = typer.Option(False, "--exact", help="Exact features over the whole (finite, covered) space."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same footprint)."),
    points: Optional[int] = typer.Option(None, "--points", min=0, help=_PLAN_HELP),
    walks: Optional[int] = typer.Option(None, "--walks", min=0, help="Random walks."),
    walk_length: Optional[int] = typer.Option(None, "--walk-length", min=2, help="Archs per random walk."),
    centres: Optional[int] = typer.Option(None, "--centres", min=0, help="Complete neighbourhoods."),
    climbs: Optional[int] = typer.Option(None, "--climbs", min=0, help="Hill climbs (restarts)."),
    epsilon: Optional[list[float]] = typer.Option(None, "--epsilon",
                                                  help="Neutrality eps (repeatable; fitness units)."),
    boot: Optional[int] = typer.Option(None, "--boot", min=10, help="Bootstrap replicates (default 200)."),
    strata: Optional[Path] = typer.Option(None, "--strata",
                                          help="JSON of campaign strata to analyse instead of sampling."),
    out: Optional[Path] = typer.Option(None, "--json", help="Write the footprint JSON here."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print the feature table."),
) -> None:
    """Compute a fitness-landscape footprint of a table, a surrogate or the ground-truth database.

    Example: `surrogate-eo landscape --space nb201 --table nats_bench.csv --column
    CIFAR10TestAccuracy200Epochs --exact --json c10.json`
    """
    from ..landscape import Strata, footprint

    src = _source(space, table, column, surrogate, db, task, metric, epoch)
    second = None
    if second_column is not None:
        second = _source(space, table, second_column, None, None, None, None, None)
    elif second_epoch is not None:
        second = _source(space, table, None, surrogate, db, task, metric, second_epoch)
    st = Strata.from_dict(json.loads(strata.read_text())) if strata is not None else None
    with _busy(quiet, f"footprint of {src.name} ..."):
        fp = footprint(src, _plan(points, walks, walk_length, centres, climbs, epsilon, boot), exact=exact,
                       second=second, strata=st, seed=seed)
    if out is not None:
        fp.save(out)
    if not quiet:
        _print_rows(fp.table(), ("feature", "value", "95% CI", "n"),
                    f"landscape of {fp.source} ({'exact + sampled' if exact else 'sampled'}, seed {seed})")
        if out is not None:
            typer.echo(f"footprint: {out}")


def fidelity_command(
    space: str = typer.Option("nb201", "--space", help="Search space: nb201 or eo."),
    table: Optional[Path] = typer.Option(None, "--table",
                                         help="Ground truth: a reference table CSV (or NB201 folder)."),
    column: Optional[str] = typer.Option(None, "--column", help="Metric column of --table."),
    campaign_runs: int = typer.Option(1500, "--campaign-runs", min=3,
                                      help="With --table: emulate a campaign of about this many runs."),
    db: Optional[Path] = typer.Option(None, "--db", help="Ground truth: the campaign's database (Parquet)."),
    surrogate: Optional[Path] = typer.Option(None, "--surrogate", help="The surrogate benchmark folder to judge."),
    surrogate_column: Optional[str] = typer.Option(None, "--surrogate-column",
                                                   help="Judge another column of --table instead of a surrogate."),
    task: Optional[str] = typer.Option(None, "--task", help="Task, e.g. so2sat-s2."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric (default val_acc)."),
    tolerances: Optional[Path] = typer.Option(
        None, "--tolerances", help='JSON {"feature": {"abs": .., "ratio": .., "keys": [..]}} overriding defaults.'),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    out: Optional[Path] = typer.Option(None, "--json", help="Write the verdict JSON here."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the verdict line."),
) -> None:
    """Judge whether a surrogate's landscape is faithful to the ground truth; exit 1 when it fails.

    Ground truth is the database (analysed on the archs its campaign trained) or a table
    (a campaign of --campaign-runs archs is emulated from it).
    """
    from ..errors import LandscapeError
    from ..landscape import SamplingPlan, Tolerance, fidelity
    from ..landscape.fidelity import DEFAULT_TOLERANCES

    truth = _source(space, table, column, None, db, task, metric, None, "ground truth")
    if surrogate is not None:
        sur = _source(space, None, None, surrogate, None, task, metric, None, "surrogate")
    elif surrogate_column is not None and table is not None:
        sur = _source(space, table, surrogate_column, None, None, None, None, None)
    else:
        raise LandscapeError("name the surrogate: --surrogate DIR (or --surrogate-column COL with --table)")
    tols = dict(DEFAULT_TOLERANCES)
    if tolerances is not None:
        try:
            raw = json.loads(tolerances.read_text())
            for k, v in raw.items():
                tols[k] = Tolerance(abs=v.get("abs"), ratio=v.get("ratio"),
                                    keys=tuple(v["keys"]) if v.get("keys") else None, why=v.get("why", ""))
        except (OSError, json.JSONDecodeError, AttributeError) as exc:
            raise LandscapeError(f"cannot read tolerances {tolerances}: {exc}; expected "
                                 '{"feature": {"abs": 0.1}}') from None
    plan = SamplingPlan()
    if table is not None:
        plan = SamplingPlan.for_campaign(campaign_runs, truth.space.degree)
    with _busy(quiet, f"fidelity of {sur.name} to {truth.name} ..."):
        v = fidelity(truth, sur, plan=plan, surrogate_plan=SamplingPlan(), tolerances=tols, seed=seed,
                     truth_adaptive=False)
    if out is not None:
        v.save(out)
    if quiet:
        typer.echo(v.summary().splitlines()[0])
    else:
        rows = [(c.status, c.mode, c.label, f"{c.truth:.4g}", f"{c.surrogate:.4g}",
                 f"{c.diff:+.4g}", f"[{c.ci[0]:+.3g}, {c.ci[1]:+.3g}]", f"{c.z:.2f}") for c in v.comparisons]
        _print_rows(rows, ("", "mode", "feature", "truth", "surrogate", "diff", "95% CI", "z"),
                    f"fidelity of {sur.name} to {truth.name}")
        typer.echo(v.summary().splitlines()[0] + f"  (Kendall tau at the campaign's points "
                                                 f"{v.agreement['kendall_tau']:.3f})")
    if not v.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("landscape")(landscape_command)
    app.command("fidelity")(fidelity_command)
