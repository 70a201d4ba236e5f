"""Naming a fitness source in text: the one spec syntax ``KIND:PATH:NAME`` and the table opener.

Every command names its sources alike (``table:FILE.csv:COLUMN``,
``surrogate:DIR:TASK``, ``db:DB.parquet:TASK``); :func:`parse_source` splits a
spec and :func:`open_table` opens a reference table. The source objects
themselves, and :func:`~surrogate_eo.landscape.sources.open_source` that opens a
spec as one, live in :mod:`surrogate_eo.landscape.sources` (which re-exports the
names here).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import LandscapeError
from ..reference import ReferenceTable
from ..spaces import SearchSpace

#: Kinds of source spec ``KIND:PATH:NAME`` (the one syntax of every CLI command).
SPEC_KINDS = ("table", "surrogate", "db")
SPEC_HELP = "table:FILE.csv:COLUMN | surrogate:DIR:TASK | db:DB.parquet:TASK"


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source spec: ``kind`` (table, surrogate, db), ``path`` and ``name`` (column or task)."""

    kind: str
    path: Path
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.path}:{self.name}"


def parse_source(spec: str) -> SourceSpec:
    """Split ``KIND:PATH:NAME`` (the last ``:`` separates the column or task, so paths may contain ``:``).

    >>> parse_source("table:nb201/nats_bench.csv:CIFAR10TestAccuracy200Epochs").kind
    'table'
    >>> parse_source("db:C:/runs/db.parquet:so2sat-s2").path.as_posix()
    'C:/runs/db.parquet'
    """
    kind, sep, rest = str(spec).partition(":")
    path, sep2, name = rest.rpartition(":")
    if not sep or not sep2 or kind not in SPEC_KINDS or not path or not name:
        raise LandscapeError(f"source {spec!r} is not KIND:PATH:NAME with KIND one of {', '.join(SPEC_KINDS)}; "
                             "e.g. table:nats_bench.csv:CIFAR10TestAccuracy200Epochs, surrogate:bench/:so2sat-s2, "
                             "db:ground_truth/db.parquet:so2sat-s2")
    return SourceSpec(kind, Path(path), name)


def open_table(path: str | Path, space: str | SearchSpace = "nb201") -> ReferenceTable:
    """The one opener of reference tables: a CSV, or a folder holding NB201's ``nats_bench.csv``.

    A folder is read by :func:`~surrogate_eo.reference.load_nb201` (both shared CSVs merged).
    """
    from ..reference import load_nb201

    path = Path(path)
    if not path.exists():
        raise LandscapeError(f"reference table {path} does not exist; give a CSV with an ArchitectureString "
                             "column or the folder holding nats_bench.csv")
    return load_nb201(path) if path.is_dir() else ReferenceTable.from_csv(path, space)


__all__ = ["SPEC_KINDS", "SPEC_HELP", "SourceSpec", "parse_source", "open_table"]
