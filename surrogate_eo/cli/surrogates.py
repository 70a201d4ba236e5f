"""``surrogate-eo fit | evaluate | predict``: build, score and query surrogate benchmarks."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from .._types import DatabaseLike
from ..errors import SurrogateEOError

TABLE_HELP = "Reference table: a CSV with an ArchitectureString column, or a folder holding nats_bench.csv (NB201)."
DB_HELP = "Results database (Parquet) written by the campaign's collect step."


def _table(path: Path) -> Any:
    from ..landscape.sources import open_table

    return open_table(path)


def _database(path: Path) -> DatabaseLike:
    try:
        from ..database import Database  # type: ignore[import-not-found]
    except ImportError:
        raise SurrogateEOError(
            "this installation has no results-database module (surrogate_eo.database); use --table instead"
        ) from None
    return Database.read(path)


def _check_source(table: Optional[Path], db: Optional[Path]) -> None:
    if (table is None) == (db is None):
        raise SurrogateEOError("give exactly one ground truth: --table CSV_OR_DIR or --db DB.parquet")


def fit(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the benchmark to."),
    table: Optional[Path] = typer.Option(None, "--table", help=TABLE_HELP),
    column: Optional[list[str]] = typer.Option(None, "--column", help="Table column to fit (repeat; default all)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    task: Optional[list[str]] = typer.Option(None, "--task", help="Task to fit from --db (repeat)."),
    metric: list[str] = typer.Option(["val_acc"], "--metric", help="Metric to fit from --db (repeat)."),
    epoch: Optional[list[int]] = typer.Option(None, "--epoch", help="Epoch to fit from --db (repeat; default final)."),
    runtime: bool = typer.Option(False, "--runtime", help="Also fit the wall_seconds runtime model (--db only)."),
    model: str = typer.Option("xgb", "--model", help="xgb, lgb, rf, gin, gnn, xgb-ens, xgb+lgb, xgb+gnn, xgb-zc+gnn "
                                                     "(xgb+gnn whose XGBoost also reads two data-free "
                                                     "zero-cost proxies: best on tens of archs), gnn-ens (two "
                                                     "GNNs: minutes to fit), gnn-ens+xgb (gnn-ens plus a tenth of "
                                                     "XGBoost: best on thousands of archs), or "
                                                     "auto (chosen by training-set size and cross-validation; "
                                                     "considers xgb-zc+gnn up to 300 archs when torch is installed)."),
    seed_noise: Optional[float] = typer.Option(
        None, "--seed-noise", help="Seed-to-seed std of the metric (fraction, e.g. 0.0032) for data without "
                                   "repeated seeds, e.g. a seed-averaged table."),
    seed_noise_column: Optional[str] = typer.Option(
        None, "--seed-noise-column", help="With --table and one --column: a single-seed column of the same metric "
                                          "(e.g. NB201's Cifar10TestAccuracy200Epochs beside the averaged "
                                          "CIFAR10TestAccuracy200Epochs). Its values on the training archs "
                                          "calibrate the single-run intervals directly (run minus out-of-fold "
                                          "prediction) and measure the seed noise."),
    no_conformal: bool = typer.Option(False, "--no-conformal",
                                      help="Skip the out-of-fold fits that calibrate the model-error intervals."),
    tune: int = typer.Option(0, "--tune", min=0, help="Optuna TPE trials per target (0: no tuning)."),
    cv: int = typer.Option(3, "--cv", min=2, help="Folds for tuning."),
    objective: str = typer.Option("kendall_tau", "--objective", help="Tuning objective: kendall_tau or rmse."),
    train_fraction: float = typer.Option(1.0, "--train-fraction", help="Share of archs to train on (rest: test)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, models and tuning."),
    multi_fidelity: bool = typer.Option(False, "--multi-fidelity", help="One model with epoch as input."),
    force: bool = typer.Option(False, "--force", help="Replace an existing benchmark folder."),
) -> None:
    """Fit surrogates on a reference table or a results database and save the benchmark to --out."""
    from ..surrogates.fitting import fit_benchmark

    _check_source(table, db)
    if table is not None and (task or epoch or runtime):
        raise SurrogateEOError("--task/--epoch/--runtime select data from --db; with --table use --column")
    seed_columns = None
    if seed_noise_column is not None:
        if table is None or not column or len(column) != 1 or seed_noise is not None:
            raise SurrogateEOError("--seed-noise-column needs --table and exactly one --column, and no "
                                   f"--seed-noise; got --table {table}, --column {column}, --seed-noise {seed_noise}")
        seed_columns = {column[0]: seed_noise_column}
    kwargs = dict(model=model, tune=tune, cv=cv, objective=objective, train_fraction=train_fraction, seed=seed,
                  multi_fidelity=multi_fidelity, progress=True, seed_noise=seed_noise, conformal=not no_conformal)
    if table is not None:
        bench = fit_benchmark(_table(table), columns=column or None, seed_columns=seed_columns, **kwargs)
    else:
        if column:
            raise SurrogateEOError("--column selects table columns; with --db use --task/--metric/--epoch")
        bench = fit_benchmark(_database(db), tasks=task, metrics=metric, epochs=epoch or [None],  # type: ignore[arg-type]
                              runtime=runtime, **kwargs)
    bench.save(str(out), overwrite=force)
    for e in bench.entries:
        tuned = ""
        for r in e.info.get("tuning", []):
            tuned += f"; tuned {r['family']} {r['objective']} {r['default_value']:.4f} -> {r['best_value']:.4f}"
        if "auto" in e.info:
            tuned += f"; auto chose {e.info['auto']['chosen']} (CV tau " + ", ".join(
                f"{k} {v:.3f}" for k, v in e.info["auto"]["cv_kendall_tau"].items()) + ")"
        typer.echo(f"{e.task}/{e.metric} epoch={e.epoch if e.epoch is not None else (e.epochs or 'final')}: "
                   f"{e.model.family} on {e.info.get('n_train')} archs{tuned}")
    typer.echo(f"saved {out}")


def evaluate(
    bench_dir: Path = typer.Argument(..., help="Benchmark folder written by `surrogate-eo fit`."),
    table: Optional[Path] = typer.Option(None, "--table", help=TABLE_HELP),
    column: Optional[list[str]] = typer.Option(None, "--column", help="Table column(s) to score against."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    task: Optional[list[str]] = typer.Option(None, "--task", help="Tasks to score (--db; default all)."),
    metric: Optional[list[str]] = typer.Option(None, "--metric", help="Metrics to score (--db; default all)."),
    include_train: bool = typer.Option(False, "--include-train", help="Also score the training archs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score a benchmark against ground truth (by default only archs it was not trained on)."""
    from ..surrogates import load
    from ..surrogates.benchmark import RUNTIME_METRIC
    from ..surrogates.fitting import database_targets, table_targets

    _check_source(table, db)
    bench = load(bench_dir)
    if table is not None:
        targets = table_targets(_table(table), column or None)
    else:
        tasks = task or bench.tasks
        metrics = [m for m in (metric or bench.metrics) if m != RUNTIME_METRIC]
        _, targets = database_targets(_database(db), tasks, metrics, [None], space=bench.space.name)  # type: ignore[arg-type]
    rows = []
    for t in targets:
        if t.task not in bench.tasks or t.metric not in bench.metrics:
            continue
        try:
            bench.entry(t.task, t.metric, t.epoch)
        except SurrogateEOError:
            continue
        rows.append(bench.evaluate(t.archs, t.y, t.task, t.metric, t.epoch, exclude_train=not include_train,
                                   seed_archs=t.seed_archs, seed_y=t.seed_y))
    if not rows:
        raise SurrogateEOError(f"no ground-truth target matches the benchmark's tasks {bench.tasks} and "
                               f"metrics {bench.metrics}; choose --column/--task/--metric")
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    keys = ["n_test", "kendall_tau", "sparse_kendall_tau", "spearman", "r2", "rmse", "coverage_95"]
    if any("seed_coverage_95" in r for r in rows):
        keys += ["seed_coverage_68", "seed_coverage_95"]
    typer.echo(f"{'task':<12}{'metric':<10}{'epoch':>6}  " + "  ".join(f"{k:>18}" for k in keys))
    for r in rows:
        vals = "  ".join(f"{'-':>18}" if k not in r else f"{r[k]:>18}" if isinstance(r[k], int)
                         else f"{r[k]:>18.4f}" for k in keys)
        typer.echo(f"{r['task']:<12}{r['metric']:<10}{str(r['epoch']):>6}  {vals}")


def predict(
    bench_dir: Path = typer.Argument(..., help="Benchmark folder written by `surrogate-eo fit`."),
    arch: list[str] = typer.Option(..., "--arch", help="Architecture string (repeat; quote it: it contains '|')."),
    task: Optional[str] = typer.Option(None, "--task", help="Task (needed when the benchmark has several)."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric (default val_acc or the only one)."),
    epoch: Optional[int] = typer.Option(None, "--epoch", help="Epoch (default final)."),
    with_noise: bool = typer.Option(False, "--with-noise", help="Sample from the predictive distribution."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the noise draw."),
    runtime: bool = typer.Option(False, "--runtime", help="Predict training seconds instead."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Predict the metric (or runtime) of one or more architectures."""
    from ..surrogates import load

    bench = load(bench_dir)
    if runtime:
        values = bench.predict_runtime(arch, task=task, with_noise=with_noise, seed=seed)
    else:
        values = bench.predict(arch, task=task, metric=metric, epoch=epoch, with_noise=with_noise, seed=seed)
    rows = [{"arch": a, "value": float(v)} for a, v in zip(arch, values)]  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
    else:
        typer.echo("\n".join(f"{r['value']:.6f}  {r['arch']}" for r in rows))


def register(app: typer.Typer) -> None:
    app.command("fit")(fit)
    app.command("evaluate")(evaluate)
    app.command("predict")(predict)
