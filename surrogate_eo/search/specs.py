"""Fitness sources from short text specs (the CLI's ``--source``), with their cost models.

=====================================  ==================================================================
spec                                   source
=====================================  ==================================================================
``table:FILE.csv:COLUMN``              a reference-table column (a folder instead of a CSV: the merged
                                       NB201 table of :func:`~surrogate_eo.reference.load_nb201`)
``surrogate:DIR:TASK``                 a saved surrogate benchmark (``surrogate_eo.load(DIR)``), one task;
                                       cost model: its runtime model, when it has one
``db:DB.parquet:TASK``                 the ground-truth database, restricted to the archs it holds;
                                       cost model: the measured ``wall_seconds`` of each arch
=====================================  ==================================================================

The last ``:`` separates the column or task, so paths may contain ``:``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import SearchError, SurrogateEOError
from ..landscape.sources import SPEC_KINDS as KINDS  # noqa: F401  (one spec syntax for every command)
from ..landscape.sources import FitnessSource
from ._core import CostFn, runtime_cost


@dataclass
class OpenedSource:
    """A fitness source opened from a spec, and its cost model (None when it has none)."""

    source: FitnessSource
    cost: CostFn | None
    kind: str
    cost_note: str = ""


def parse_spec(spec: str) -> tuple[str, Path, str]:
    """Split ``KIND:PATH:NAME`` into its parts (:func:`~surrogate_eo.landscape.sources.parse_source`);
    raises :class:`SearchError` on a malformed spec."""
    from ..landscape.sources import parse_source

    try:
        sp = parse_source(spec)
    except SurrogateEOError as exc:
        raise SearchError(str(exc)) from None
    return sp.kind, sp.path, sp.name


def open_source(spec: str, *, metric: str | None = None, epoch: int | None = None, space: str = "nb201",
                with_noise: bool = False, seed: int | None = None) -> OpenedSource:
    """Open the fitness source named by ``spec`` (see the module docstring).

    Parameters
    ----------
    metric : str, optional
        Metric of a surrogate (its default, ``val_acc``, when None) or a database (``val_acc`` when None).
    epoch : int, optional
        Epoch of a surrogate or database metric; the final one when None.
    space : str, default="nb201"
        Space of a table's architecture strings.
    with_noise, seed
        Draw surrogate values from its noise model (seeded).
    """
    from ..landscape.sources import BenchmarkSource, DatabaseSource, LookupSource

    kind, path, name = parse_spec(spec)
    if not path.exists():
        raise SearchError(f"source {spec!r}: {path} does not exist")
    if kind == "table":
        from ..landscape.sources import open_table

        return OpenedSource(open_table(path, space).source(name), None, kind,
                            "a reference table has no training times; drop --time-budget or use a surrogate "
                            "with a runtime model")
    if kind == "surrogate":
        from ..surrogates import load

        bench = load(path)
        bsrc = BenchmarkSource(bench, name, metric=metric, epoch=epoch, with_noise=with_noise, seed=seed)
        bsrc.fitness(bench.space.sample(1, 0))  # fail now on an unknown task / metric / epoch
        try:
            return OpenedSource(bsrc, runtime_cost(bench, name), kind)
        except SearchError as exc:
            return OpenedSource(bsrc, None, kind, str(exc))
    from ..database import Database

    db = Database.read(path)
    src = DatabaseSource(db, name, metric=metric or "val_acc", epoch=epoch)
    try:
        archs, secs = db.targets(name, "wall_seconds")
        cost_src = LookupSource(src.space, list(archs), secs, name=f"db:{name}:wall_seconds")
    except SurrogateEOError as exc:
        return OpenedSource(src, None, kind, f"the database has no wall_seconds for {name!r}: {exc}")
    if not cost_src.holds(src.archs).all():
        return OpenedSource(src, None, kind, f"some archs of {name!r} in the database lack wall_seconds")
    return OpenedSource(src, cost_src.fitness, kind)


def cost_for_time_budget(opened: OpenedSource, spec: str) -> CostFn:
    """The cost model of ``opened``, or a :class:`SearchError` saying why a time budget cannot be simulated."""
    if opened.cost is None:
        raise SearchError(f"--time-budget needs simulated training times, but source {spec!r} has none: "
                          f"{opened.cost_note or 'it has no runtime model'}")
    return opened.cost
