"""``surrogate-eo landscape`` (footprints, ``landscape compare``) and ``surrogate-eo fidelity`` (the verdict).

Sources are named one way everywhere: ``table:FILE.csv:COLUMN``,
``surrogate:DIR:TASK`` or ``db:DB.parquet:TASK`` (``--source``, ``--truth``,
``landscape compare A B``). The older options ``--table/--column``,
``--surrogate DIR --task T`` and ``--db DB --task T`` are spelled into the same
spec and opened by the same code (:func:`~surrogate_eo.landscape.sources.open_source`).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

if TYPE_CHECKING:
    from ..landscape import FitnessSource, SamplingPlan

_PLAN_HELP = "Sampling plan (defaults: 10,000 points, 200 walks x 100, 1,000 neighbourhoods, 200 climbs)."
_SPEC_HELP = "table:FILE.csv:COLUMN | surrogate:DIR:TASK | db:DB.parquet:TASK"


def source_spec(spec: Optional[str], table: Optional[Path], column: Optional[str], surrogate: Optional[Path],
                db: Optional[Path], task: Optional[str], what: str = "source", spec_flag: str = "--source") -> str:
    """The one spec string named by either ``spec`` or the older options (exactly one of them)."""
    from ..errors import LandscapeError

    given = [n for n, v in ((spec_flag, spec), ("--table", table), ("--surrogate", surrogate), ("--db", db))
             if v is not None]
    if len(given) != 1:
        raise LandscapeError(f"name exactly one {what}: {spec_flag} {_SPEC_HELP}, or --table FILE.csv --column COL, "
                             f"--surrogate DIR --task T, --db DB.parquet --task T (got {', '.join(given) or 'none'})")
    if spec is not None:
        return spec
    if table is not None:
        if column is None:
            raise LandscapeError("--table needs --column (the metric column to analyse)")
        return f"table:{table}:{column}"
    if task is None:
        raise LandscapeError(f"{given[0]} needs --task (e.g. so2sat-s2)")
    return f"{'surrogate' if surrogate is not None else 'db'}:{surrogate if surrogate is not None else db}:{task}"


def _open(spec: str, space: str, metric: Optional[str] = None, epoch: Optional[int] = None) -> FitnessSource:
    from ..landscape.sources import open_source

    return open_source(spec, space=space, metric=metric, epoch=epoch)


def _plan(points: Optional[int], walks: Optional[int], walk_length: Optional[int], centres: Optional[int],
          climbs: Optional[int], epsilon: Optional[list[float]], boot: Optional[int]) -> SamplingPlan:
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
    Console(width=200).print(t)


landscape_app = typer.Typer(
    help="Landscape footprints (`surrogate-eo landscape --source SPEC`) and comparisons "
         "(`surrogate-eo landscape compare A B`).",
    invoke_without_command=True, no_args_is_help=False)


@landscape_app.callback()
def landscape_command(
    ctx: typer.Context,
    source: Optional[str] = typer.Option(None, "--source", "-s", help=f"Source to analyse: {_SPEC_HELP}."),
    space: str = typer.Option("nb201", "--space", help="Search space of a table: nb201 or eo."),
    table: Optional[Path] = typer.Option(None, "--table", help="Reference table CSV (or the NB201 folder)."),
    column: Optional[str] = typer.Option(None, "--column", help="Metric column of --table (percent or fraction)."),
    second_column: Optional[str] = typer.Option(None, "--second-column",
                                                help="Second fidelity column of the table (persistence features)."),
    surrogate: Optional[Path] = typer.Option(None, "--surrogate", help="Saved surrogate benchmark folder."),
    db: Optional[Path] = typer.Option(None, "--db", help="Ground-truth database (Parquet); analysed on its archs."),
    task: Optional[str] = typer.Option(None, "--task", help="Task of --surrogate/--db, e.g. so2sat-s2."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric of a surrogate/db (default val_acc)."),
    epoch: Optional[int] = typer.Option(None, "--epoch", min=1, help="Epoch of a surrogate/db (default: final)."),
    second_epoch: Optional[int] = typer.Option(None, "--second-epoch", min=1,
                                               help="Second fidelity of a surrogate/db (an earlier epoch)."),
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

    Example: `surrogate-eo landscape --source table:nats_bench.csv:CIFAR10TestAccuracy200Epochs
    --exact --json c10.json`; compare two landscapes with `surrogate-eo landscape compare A B`.
    """
    import json

    from ..errors import LandscapeError
    from ..landscape import Strata, footprint
    from ..landscape.sources import parse_source

    if ctx.invoked_subcommand is not None:
        if any(v is not None for v in (source, table, surrogate, db, out)):
            raise LandscapeError(f"options such as --source/--table/--json go after `landscape "
                                 f"{ctx.invoked_subcommand}`, not before it")
        return
    spec = source_spec(source, table, column, surrogate, db, task)
    src = _open(spec, space, metric, epoch)
    second = None
    if second_column is not None:
        sp = parse_source(spec)
        if sp.kind != "table":
            raise LandscapeError("--second-column needs a table source; use --second-epoch for a surrogate or db")
        second = _open(f"table:{sp.path}:{second_column}", space)
    elif second_epoch is not None:
        second = _open(spec, space, metric, second_epoch)
    try:
        st = Strata.from_dict(json.loads(strata.read_text())) if strata is not None else None
    except (OSError, json.JSONDecodeError) as exc:
        raise LandscapeError(f"cannot read strata {strata}: {exc}; expected the JSON of Strata.to_dict()") from None
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


@landscape_app.command("compare")
def compare_command(
    a: str = typer.Argument(..., help=f"Landscape A: a footprint JSON or a source ({_SPEC_HELP})."),
    b: str = typer.Argument(..., help="Landscape B: a footprint JSON or a source."),
    space: str = typer.Option("nb201", "--space", help="Search space of table sources."),
    exact: bool = typer.Option(False, "--exact", help="Two complete sources: exact features (no sampling error)."),
    level: float = typer.Option(0.95, "--level", min=0.5, max=0.999, help="Family-wise (simultaneous) level."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    points: Optional[int] = typer.Option(None, "--points", min=0, help=_PLAN_HELP),
    walks: Optional[int] = typer.Option(None, "--walks", min=0, help="Random walks."),
    walk_length: Optional[int] = typer.Option(None, "--walk-length", min=2, help="Archs per random walk."),
    centres: Optional[int] = typer.Option(None, "--centres", min=0, help="Complete neighbourhoods."),
    boot: Optional[int] = typer.Option(None, "--boot", min=10, help="Bootstrap replicates (default 200)."),
    feature: Optional[list[str]] = typer.Option(None, "--feature", help="Only this feature (repeatable)."),
    out: Optional[Path] = typer.Option(None, "--json", help="Write the comparison JSON here."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the summary line."),
) -> None:
    """Compare two landscapes feature by feature: A, B, B - A with a simultaneous CI, significant or not.

    Example: `surrogate-eo landscape compare c10.json c100.json` (two footprints) or
    `surrogate-eo landscape compare db:db.parquet:so2sat-s1 db:db.parquet:so2sat-s2` (two tasks, paired).
    """
    from ..errors import LandscapeError
    from ..landscape.compare import compare_landscapes
    from ..landscape.features import REGISTRY

    unknown = [f for f in (feature or []) if f not in REGISTRY]
    if unknown:
        raise LandscapeError(f"--feature {unknown[0]!r} is not a landscape feature; known: {', '.join(REGISTRY)}")
    plan = _plan(points, walks, walk_length, centres, 0, None, boot)
    with _busy(quiet, f"comparing {a} with {b} ..."):
        c = compare_landscapes(a, b, plan=plan, exact=exact, seed=seed, level=level, features=feature or None,
                               space=space)
    if out is not None:
        c.save(out)
    line = (f"{c.n_significant} of {len(c.differences)} feature differences significant at family-wise level "
            f"{level:g} ({c.method})")
    if not quiet:
        _print_rows(c.rows(), ("feature", "A", "B", "B - A", f"{level:.0%} simultaneous CI", ""),
                    f"A = {c.a}  vs  B = {c.b}")
        for n in c.notes:
            typer.echo(f"note: {n}")
    typer.echo(line)


def fidelity_command(
    truth_spec: Optional[str] = typer.Option(None, "--truth", help=f"Ground truth: {_SPEC_HELP}."),
    space: str = typer.Option("nb201", "--space", help="Search space of table sources: nb201 or eo."),
    table: Optional[Path] = typer.Option(None, "--table",
                                         help="Ground truth: a reference table CSV (or NB201 folder)."),
    column: Optional[str] = typer.Option(None, "--column", help="Metric column of --table."),
    campaign_runs: Optional[int] = typer.Option(
        None, "--campaign-runs", help="Table ground truth: emulate a campaign of this many runs (default 1,500)."),
    db: Optional[Path] = typer.Option(None, "--db", help="Ground truth: the campaign's database (Parquet)."),
    surrogate: Optional[str] = typer.Option(
        None, "--surrogate", help="The surrogate to judge: a benchmark folder (with --task) or a spec "
                                  "surrogate:DIR:TASK / table:FILE:COLUMN."),
    surrogate_column: Optional[str] = typer.Option(None, "--surrogate-column",
                                                   help="Judge another column of the ground-truth table."),
    task: Optional[str] = typer.Option(None, "--task", help="Task, e.g. so2sat-s2."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric (default val_acc)."),
    mode: str = typer.Option("value", "--mode", help="value: judge every feature; rank: only rank-invariant ones "
                                                     "(faithful for comparison-based search)."),
    in_sample: bool = typer.Option(False, "--in-sample", help="Pair on the surrogate's own predictions instead of "
                                                             "out-of-fold refits (optimistic; warns)."),
    folds: int = typer.Option(5, "--folds", help="Folds of the out-of-fold refits."),
    tolerances: Optional[Path] = typer.Option(
        None, "--tolerances", help='JSON {"feature": {"abs": .., "ratio": .., "keys": [..]} | null} over the defaults.'),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    out: Optional[Path] = typer.Option(None, "--json", help="Write the verdict JSON here."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the verdict line."),
) -> None:
    """Judge whether a surrogate's landscape is faithful to the ground truth.

    Exit status: 0 faithful, 1 unfaithful, 3 inconclusive (more ground truth needed), 2 bad input.
    Ground truth is a database (analysed on the archs its campaign trained) or a table (a campaign
    of --campaign-runs archs is emulated). Paired comparisons use out-of-fold predictions.
    """
    from ..errors import LandscapeError
    from ..landscape.judge import judge, runs_needed_text
    from ..landscape.sources import parse_source

    tspec = source_spec(truth_spec, table, column, None, db, task, "ground truth", "--truth")
    if surrogate_column is not None:
        tp = parse_source(tspec)
        if surrogate is not None or tp.kind != "table":
            raise LandscapeError("--surrogate-column judges another column of a table ground truth; "
                                 "give either it (with a table truth) or --surrogate")
        sspec = f"table:{tp.path}:{surrogate_column}"
    elif surrogate is not None:
        is_spec = surrogate.split(":", 1)[0] in ("surrogate", "table", "db") and surrogate.count(":") >= 2
        sspec = surrogate if is_spec else source_spec(None, None, None, Path(surrogate), None, task, "surrogate")
    else:
        raise LandscapeError("name the surrogate: --surrogate DIR --task T, --surrogate surrogate:DIR:TASK, "
                             "or --surrogate-column COL with a table ground truth")
    tols = None
    if tolerances is not None:
        from ..landscape.tolerances import load_tolerances

        tols = load_tolerances(tolerances)
    truth = _open(tspec, space, metric)
    sur = _open(sspec, space, metric)
    with _busy(quiet, f"fidelity of {sur.name} to {truth.name} ..."):
        j = judge(truth, sur, mode=mode, paired="in-sample" if in_sample else "out-of-fold", folds=folds,
                  campaign_runs=campaign_runs, tolerances=tols, seed=seed)
    for w in j.warnings:
        typer.echo(f"warning: {w}", err=True)
    if out is not None:
        j.save(out)
    if not quiet:
        v = j.verdict
        rows = [(c.verdict if c.judged else "(not judged)", c.label, f"{c.truth:.4g}", f"{c.surrogate:.4g}", f"{c.diff:+.4g}",
                 f"[{c.ci[0]:+.3g}, {c.ci[1]:+.3g}]", str(c.n_units), c.reason) for c in v.comparisons]
        _print_rows(rows, ("", "feature", "truth", "surrogate", "diff", "simultaneous CI", "units", "why"),
                    f"fidelity of {sur.name} to {truth.name} ({mode} mode)")
        need = runs_needed_text(j.runs_needed())
        if need:
            typer.echo(f"runs needed to settle the inconclusive comparisons: {need}")
    typer.echo(j.headline())
    raise typer.Exit(j.exit_code)


def register(app: typer.Typer) -> None:
    app.add_typer(landscape_app, name="landscape")
    app.command("fidelity")(fidelity_command)
