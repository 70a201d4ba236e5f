"""Reference tables: published benchmark results (e.g. NAS-Bench-201 / NATS-Bench CSVs).

A :class:`ReferenceTable` maps every architecture of a finite space to one
or more metric columns, stored as fractions in [0, 1] (percent columns are
divided by 100 on load). It is a fitness source: ``table.fitness(archs,
column)`` or ``table.source(column).fitness(archs)``.

>>> table = load_nb201()  # the shared NAS-Bench-201 table (../shared/data/nb201 or $SURROGATE_EO_NB201)
>>> table.fitness(["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"],
...               "CIFAR10TestAccuracy200Epochs")
array([0.94363333])
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataFormatError, MissingArchitectureError, SurrogateEOError
from .spaces import SearchSpace, get_space
from .spaces.base import BatchLike

#: Column holding the architecture string in NB201/NATS CSVs.
ARCH_COLUMN = "ArchitectureString"

#: Where the shared NB201 CSVs lie, relative to the repository root (never copied into the project).
NB201_DIR_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nb201"


class ReferenceTable:
    """Metric columns for every architecture of ``space``, rows in enumeration order.

    Parameters
    ----------
    space : SearchSpace
        The (finite) space the table covers.
    values : pandas.DataFrame
        One row per arch in ``space.enumerate()`` order, numeric columns as fractions.
    name : str
        Where the table came from (for messages).
    """

    def __init__(self, space: SearchSpace, values: pd.DataFrame, name: str = "table") -> None:
        self.space = space
        self.values = values
        self.name = name

    @property
    def columns(self) -> list[str]:
        return list(self.values.columns)

    @classmethod
    def from_csv(cls, path: str | Path, space: str | SearchSpace = "nb201", columns: list[str] | None = None,
                 percent: bool | None = None) -> ReferenceTable:
        """Read a CSV with an ``ArchitectureString`` column and numeric metric columns.

        Rows may come in any order; each arch of the space must appear exactly
        once. Columns whose maximum exceeds 1 are taken as percentages and
        divided by 100 (``percent=True/False`` forces the choice).
        """
        path = Path(path)
        space = get_space(space)
        if not path.is_file():
            raise DataFormatError(f"reference table {path} does not exist")
        try:
            df = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise DataFormatError(f"reference table {path} is not a readable CSV: {exc}") from None
        if ARCH_COLUMN not in df.columns:
            raise DataFormatError(f"reference table {path} lacks the column {ARCH_COLUMN!r}; it has {list(df.columns)}")
        numeric = [c for c in df.columns if c != ARCH_COLUMN and pd.api.types.is_float_dtype(df[c])]
        if columns is not None:
            missing = [c for c in columns if c not in df.columns]
            if missing:
                raise DataFormatError(f"reference table {path} has no column {missing[0]!r}; numeric columns: {numeric}")
            numeric = list(columns)
        archs = space.from_strings(df[ARCH_COLUMN].astype(str))
        rows = space.enumeration_index(archs)
        counts = np.bincount(rows, minlength=space.size)
        if (counts != 1).any():
            bad = int(np.flatnonzero(counts != 1)[0])
            raise DataFormatError(
                f"reference table {path}: arch {space.to_string(space.enumerate()[bad])} appears "
                f"{int(counts[bad])} times; each of the {space.size} archs must appear once"
            )
        out = pd.DataFrame(index=np.arange(space.size))
        for c in numeric:
            col = df[c].to_numpy(dtype=float)
            is_pct = percent if percent is not None else bool(np.nanmax(col) > 1.0)
            v = np.empty(space.size)
            v[rows] = col / 100.0 if is_pct else col
            out[c] = v
        return cls(space, out, name=str(path))

    def _column(self, column: str) -> np.ndarray:
        if column not in self.values.columns:
            raise SurrogateEOError(f"{self.name} has no column {column!r}; columns: {self.columns}")
        return self.values[column].to_numpy()

    def fitness(self, archs: BatchLike, column: str) -> np.ndarray:
        """Values of ``column`` (fractions) for ``archs``."""
        return self._column(column)[self.space.enumeration_index(archs)]

    def all_values(self, column: str) -> np.ndarray:
        """``column`` for every arch, in ``space.enumerate()`` order."""
        return self._column(column).copy()

    def source(self, column: str) -> TableSource:
        """A fitness source bound to one column."""
        self._column(column)
        return TableSource(self, column)


@dataclass(frozen=True)
class TableSource:
    """Fitness source over a reference-table column: ``fitness(archs) -> ndarray`` of fractions."""

    table: ReferenceTable
    column: str

    @property
    def space(self) -> SearchSpace:
        return self.table.space

    @property
    def name(self) -> str:
        return f"{Path(self.table.name).name}:{self.column}"

    def fitness(self, archs: BatchLike) -> np.ndarray:
        return self.table.fitness(archs, self.column)


def load_nb201(root: str | Path | None = None) -> ReferenceTable:
    """Both shared NB201 CSVs merged: seed-averaged 200-epoch columns plus the 12/200-epoch pair.

    ``root`` defaults to ``$SURROGATE_EO_NB201`` or ``../shared/data/nb201``.
    Raises :class:`MissingArchitectureError` when the folder is absent.
    """
    import os

    root = Path(root or os.environ.get("SURROGATE_EO_NB201", NB201_DIR_DEFAULT))
    main = root / "nats_bench.csv"
    if not main.is_file():
        raise MissingArchitectureError(
            f"NAS-Bench-201 table not found at {main}; pass the folder holding nats_bench.csv "
            f"or set SURROGATE_EO_NB201"
        )
    table = ReferenceTable.from_csv(main, "nb201")
    fid = root / "nats_bench_v0_12and200ep.csv"
    if fid.is_file():
        extra = ReferenceTable.from_csv(fid, "nb201",
                                        columns=[c for c in pd.read_csv(fid, nrows=1).columns
                                                 if "Accuracy" in c])
        for c in extra.columns:
            table.values[c] = extra.values[c]
    table.name = str(root)
    return table
