"""``surrogate-eo demo``: the whole pipeline on its embedded default."""
from __future__ import annotations

from pathlib import Path

import typer


def demo(
    out: Path = typer.Option(Path("surrogate-eo-demo"), "--out", help="Output folder (rerun to resume)."),
    executor: str = typer.Option("local", "--executor", help="local (process pool) or slurm (array jobs)."),
    workers: int = typer.Option(2, "--workers", min=1, help="Local worker processes, one torch thread each."),
    model: str = typer.Option("xgb", "--model", help="Surrogate model: xgb, lgb, rf, gin, ..."),
    config: Path = typer.Option(None, "--config", help="Campaign TOML (default: the embedded smoke campaign)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic data."),
    partition: str = typer.Option(None, "--partition", help="SLURM partition (with --executor slurm)."),
    account: str = typer.Option(None, "--account", help="SLURM account (with --executor slurm)."),
) -> None:
    """Run the whole benchmark pipeline on synthetic So2Sat-format data, in a few minutes on 2 CPU cores.

    Generates synthetic data in the official So2Sat LCZ42 HDF5 layout, plans the smoke campaign on the
    `eo` space (random archs, random walks, a neighbourhood, repeated seeds), trains it, collects the
    database, fits an XGBoost surrogate, runs the landscape fidelity verdict and writes the quality report
    (HTML, Markdown, JSON). Interrupt it and run it again: it resumes where it stopped.
    """
    from ..demo import DEFAULT_CONFIG, DemoOptions, run_demo

    slurm = {k: v for k, v in (("partition", partition), ("account", account)) if v}
    opts = DemoOptions(out_dir=out, config=config or DEFAULT_CONFIG, seed=seed, executor=executor,
                       workers=workers, model=model, slurm=slurm)
    res = run_demo(opts, log=typer.echo)
    typer.echo(f"\ndone in {res.seconds:.0f} s")
    for line in res.summary:
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
