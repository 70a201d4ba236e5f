"""The campaign manifest: every planned entry, mapped to the run that serves it.

A manifest is one Parquet file with one row per **plan entry**
``(stratum, group, position, task, seed)`` and the run that serves it
(``run_index``, ``run_id``, ``arch``). A run (same space, arch, task, seed and
protocol) that several strata plan is trained once: its entries share one
``run_id`` and one ``run_index``. Runs are numbered ``0..n_runs-1`` in order of
first appearance, and array task ``i`` of a submission trains runs
``[(offset + i) * R, (offset + i + 1) * R)``.

Meaning of ``group`` and ``position`` per stratum:

============== ======================== =====================================
stratum        group                    position
============== ======================== =====================================
random         0                        index of the arch in the sample
walks          walk number              step number (0 = start)
neighbourhoods centre number            0 = centre, j >= 1 = neighbour j-1 of
                                        ``space.neighbours(centre)``
seeds          arch number              index of the seed in the stratum's list
exploit        0                        rank by predicted fitness (0 = best)
============== ======================== =====================================
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._io import atomic_write_parquet, read_parquet_with_meta
from ..errors import RecordError, one_line, shown
from ..records import RunSpec

MANIFEST_SCHEMA_VERSION = 1
_META_KEY = b"surrogate_eo.manifest"

#: Columns of a manifest, in order.
COLUMNS: tuple[str, ...] = ("stratum", "group", "position", "task", "seed", "run_index", "run_id", "arch")

_SCHEMA = pa.schema([
    ("stratum", pa.string()), ("group", pa.int32()), ("position", pa.int32()), ("task", pa.string()),
    ("seed", pa.int64()), ("run_index", pa.int64()), ("run_id", pa.string()), ("arch", pa.string()),
])


@dataclass
class Manifest:
    """Plan entries of a campaign and the distinct runs that serve them.

    Attributes
    ----------
    entries : pandas.DataFrame
        One row per plan entry, columns :data:`COLUMNS`.
    space, protocol, protocol_hash : str
        Shared by every run of the campaign.
    meta : dict
        Campaign name, configuration, design seed and other provenance.
    """

    entries: pd.DataFrame
    space: str
    protocol: str
    protocol_hash: str
    meta: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ runs
    @property
    def runs(self) -> pd.DataFrame:
        """Distinct runs ordered by ``run_index``: run_index, run_id, arch, task, seed, stratum (first)."""
        if getattr(self, "_runs", None) is None:
            e = self.entries
            first = e.drop_duplicates("run_index", keep="first").sort_values("run_index")
            self._runs = first[["run_index", "run_id", "arch", "task", "seed", "stratum"]].reset_index(drop=True)
        return self._runs

    @property
    def n_runs(self) -> int:
        """Number of distinct runs."""
        return len(self.runs)

    @property
    def name(self) -> str:
        """Campaign name."""
        return str(self.meta.get("name", "campaign"))

    def spec(self, run_index: int) -> RunSpec:
        """The :class:`RunSpec` of run ``run_index``."""
        r = self.runs.iloc[int(run_index)]
        return RunSpec(space=self.space, arch=str(r.arch), task=str(r.task), seed=int(r.seed),
                       protocol=self.protocol, protocol_hash=self.protocol_hash, stratum=str(r.stratum),
                       run_id=str(r.run_id))

    def specs(self, run_indices: Any = None) -> list[RunSpec]:
        """RunSpecs of the given run indices (all runs when None)."""
        idx = range(self.n_runs) if run_indices is None else run_indices
        return [self.spec(i) for i in idx]

    def n_tasks(self, runs_per_task: int) -> int:
        """Number of array tasks needed with ``runs_per_task`` runs each."""
        return -(-self.n_runs // max(1, int(runs_per_task)))

    def chunk(self, task_index: int, runs_per_task: int) -> list[int]:
        """Run indices trained by array task ``task_index`` (empty past the end)."""
        r = max(1, int(runs_per_task))
        lo = int(task_index) * r
        return list(range(lo, min(lo + r, self.n_runs))) if lo >= 0 else []

    def subset(self, run_ids: Any, **meta: Any) -> Manifest:
        """A manifest of only the given runs (all their plan entries), renumbered ``0..k-1``."""
        keep = set(run_ids)
        e = self.entries[self.entries["run_id"].isin(keep)].copy()
        order = {old: new for new, old in enumerate(sorted(e["run_index"].unique()))}
        e["run_index"] = e["run_index"].map(order).astype(np.int64)
        return Manifest(e.reset_index(drop=True), self.space, self.protocol, self.protocol_hash,
                        {**self.meta, **meta})

    # -------------------------------------------------------------------- io
    def write(self, path: str | Path) -> Path:
        """Write the manifest atomically as Parquet; returns the path."""
        path = Path(path)
        if path.is_dir():
            raise RecordError(f"--out {path} is a folder; expected the manifest file to write, "
                              f"e.g. {path / 'manifest.parquet'}")
        table = pa.Table.from_pandas(self.entries[list(COLUMNS)], schema=_SCHEMA, preserve_index=False)
        meta = {"schema_version": MANIFEST_SCHEMA_VERSION, "space": self.space, "protocol": self.protocol,
                "protocol_hash": self.protocol_hash, "n_runs": self.n_runs, **self.meta}
        return atomic_write_parquet(path, table, _META_KEY, meta)

    @classmethod
    def read(cls, path: str | Path) -> Manifest:
        """Read a manifest written by :meth:`write`.

        Raises
        ------
        RecordError
            When the file is missing, not Parquet, or not a manifest of this schema version.
        """
        table, meta = read_parquet_with_meta(
            path, _META_KEY, what="manifest", version=MANIFEST_SCHEMA_VERSION, error=RecordError,
            missing_hint=f"make one with: surrogate-eo plan CONFIG --out {path}",
            version_hint=f"re-plan it with: surrogate-eo plan CONFIG --out {path}")
        missing = [c for c in COLUMNS if c not in table.column_names]
        if missing:
            raise RecordError(f"manifest {path} lacks column {missing[0]!r}")
        for key in ("space", "protocol", "protocol_hash"):
            if not isinstance(meta.get(key), str):
                raise RecordError(f"manifest {path}: metadata field {key} = {shown(meta.get(key))}, expected a "
                                  f"string; re-plan it with: surrogate-eo plan CONFIG --out {path}")
        space, protocol, phash = meta.pop("space"), meta.pop("protocol"), meta.pop("protocol_hash")
        meta.pop("n_runs", None)
        try:
            table = table.select(list(COLUMNS)).cast(_SCHEMA)
        except (pa.ArrowException, ValueError) as exc:
            raise RecordError(f"manifest {path}: columns of the wrong type ({one_line(str(exc), 120)}); "
                              f"re-plan it with: surrogate-eo plan CONFIG --out {path}") from None
        return cls(table.to_pandas(), space, protocol, phash, meta)

    def summary(self) -> pd.DataFrame:
        """Plan entries and distinct runs per stratum and task."""
        e = self.entries
        out = e.groupby(["stratum", "task"], sort=False).agg(entries=("run_id", "size"),
                                                              runs=("run_id", "nunique"))
        return out.reset_index()
