"""The results database: run records <-> one schema-versioned Parquet table, and its queries.

One row per run (a :class:`~surrogate_eo.records.RunRecord`): the spec
(``run_id, space, arch, task, seed, protocol, protocol_hash, stratum``), the
outcome (``status, n_epochs, params, flops, wall_seconds, device, host,
created, error``), the final value of every per-epoch metric
(``final_<metric>``) and its whole curve (``curve_<metric>``, a list per run).
Metrics are fractions in [0, 1]; losses are nats; times are seconds.

When the campaign's manifest is known, its **plan entries** (stratum, group,
position, task, seed, run_id, arch) travel inside the same file, so landscape
analysis can rebuild the planned walks and neighbourhoods from the database
alone (:meth:`Database.walks`, :meth:`Database.neighbourhoods`).

>>> import tempfile, pathlib
>>> from surrogate_eo.database import Database
>>> from surrogate_eo.records import RunRecord, RunSpec
>>> from surrogate_eo.spaces import get_space
>>> space = get_space("nb201")
>>> recs = [RunRecord(RunSpec("nb201", a, "so2sat-s2", seed, "smoke", "h"), "ok",
...                   epochs=[{"val_acc": 0.5 + 0.1 * i + 0.01 * seed}], params=10, flops=20)
...         for i, a in enumerate(space.to_strings(space.sample(3, seed=0))) for seed in (0, 1)]
>>> path = pathlib.Path(tempfile.mkdtemp()) / "db.parquet"
>>> Database.from_records(recs).write(path).name
'db.parquet'
>>> db = Database.read(path)
>>> db
Database(6 runs, 0 plan entries)
>>> archs, y = db.targets("so2sat-s2", "val_acc")   # one value per arch: the mean over its seeds
>>> len(archs), [round(float(v), 3) for v in y]
(3, [0.505, 0.605, 0.705])
>>> db.per_seed("so2sat-s2", "val_acc").round(3).values.tolist()
[[0.5, 0.51], [0.6, 0.61], [0.7, 0.71]]
"""
from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ._io import atomic_write_parquet, read_parquet_with_meta
from .errors import DatabaseError, MissingArchitectureError, one_line
from .records import EPOCH_METRICS, RECORD_SCHEMA_VERSION, STATUSES, RunRecord

DATABASE_SCHEMA_VERSION = 1
_META_KEY = b"surrogate_eo.database"

#: Run-level numeric columns usable as targets (epoch is ignored for them).
RUN_METRICS: tuple[str, ...] = ("params", "flops", "wall_seconds")
SPEC_COLUMNS: tuple[str, ...] = ("run_id", "space", "arch", "task", "seed", "protocol", "protocol_hash", "stratum")
OUTCOME_COLUMNS: tuple[str, ...] = ("status", "n_epochs", "params", "flops", "wall_seconds", "device", "host",
                                    "created", "error", "notes", "versions", "record_schema_version")
PLAN_COLUMNS: tuple[str, ...] = ("stratum", "group", "position", "task", "seed", "run_id", "arch")
_STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}  # ok < diverged < failed


def _schema() -> pa.Schema:
    fields = [pa.field(c, pa.int64() if c == "seed" else pa.string()) for c in SPEC_COLUMNS]
    fields += [pa.field("status", pa.string()), pa.field("n_epochs", pa.int32()), pa.field("params", pa.int64()),
               pa.field("flops", pa.int64()), pa.field("wall_seconds", pa.float64()),
               pa.field("device", pa.string()), pa.field("host", pa.string()), pa.field("created", pa.string()),
               pa.field("error", pa.string()), pa.field("notes", pa.string()), pa.field("versions", pa.string()),
               pa.field("record_schema_version", pa.int32())]
    fields += [pa.field(f"final_{m}", pa.float64()) for m in EPOCH_METRICS]
    fields += [pa.field(f"curve_{m}", pa.list_(pa.float64())) for m in EPOCH_METRICS]
    return pa.schema(fields)


def records_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per record in the database's column layout."""
    rows = []
    for r in records:
        s = r.spec
        row: dict[str, Any] = {"run_id": s.run_id, "space": s.space, "arch": s.arch, "task": s.task,
                               "seed": int(s.seed), "protocol": s.protocol, "protocol_hash": s.protocol_hash,
                               "stratum": s.stratum, "status": r.status, "n_epochs": len(r.epochs),
                               "params": int(r.params), "flops": int(r.flops),
                               "wall_seconds": float(r.wall_seconds), "device": r.device, "host": r.host,
                               "created": r.created, "error": r.error, "notes": json.dumps(list(r.notes)),
                               "versions": json.dumps(r.versions, sort_keys=True),
                               "record_schema_version": r.schema_version}
        for m in EPOCH_METRICS:
            curve = [np.nan if e.get(m) is None else float(e[m]) for e in r.epochs]
            row[f"curve_{m}"] = curve
            row[f"final_{m}"] = curve[-1] if curve else np.nan
        rows.append(row)
    return _to_frame(_to_arrow(pd.DataFrame(rows, columns=[f.name for f in _schema()])))


def _to_arrow(runs: pd.DataFrame) -> pa.Table:
    """Runs frame -> Arrow table in the database schema (tolerates frames read from older files)."""
    if not len(runs):  # pyarrow cannot convert an empty object column to list<double>
        return _schema().empty_table()
    if "notes" not in runs.columns:  # databases written before records carried notes
        runs = runs.assign(notes="[]")
    return pa.Table.from_pandas(runs[[f.name for f in _schema()]], schema=_schema(), preserve_index=False)


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow table -> DataFrame with the same dtypes whether built from records or read from disk."""
    runs = table.to_pandas()
    for m in EPOCH_METRICS:  # lists of floats, not arrays of objects
        runs[f"curve_{m}"] = [list(c) if c is not None else [] for c in runs[f"curve_{m}"]]
    return runs


class Database:
    """The collected ground truth: runs (one row each) plus, optionally, the campaign's plan.

    Parameters
    ----------
    runs : pandas.DataFrame
        Rows in the layout of :func:`records_frame`; ``run_id`` must be unique.
    plan : pandas.DataFrame, optional
        Plan entries (columns :data:`PLAN_COLUMNS`) of the manifest(s) the runs came from.
    meta : dict, optional
        Provenance (campaign name, collect time, ...).
    """

    def __init__(self, runs: pd.DataFrame, plan: pd.DataFrame | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        if runs["run_id"].duplicated().any():
            dup = runs.loc[runs["run_id"].duplicated(), "run_id"].iloc[0]
            raise DatabaseError(f"database rows must have distinct run_id; {dup!r} appears twice")
        self.runs = runs.reset_index(drop=True)
        self.plan = plan.reset_index(drop=True) if plan is not None else pd.DataFrame(columns=list(PLAN_COLUMNS))
        self.meta = dict(meta or {})

    @classmethod
    def from_records(cls, records: Iterable[RunRecord], plan: pd.DataFrame | None = None,
                     meta: dict[str, Any] | None = None) -> Database:
        """Build a database from records (they must have distinct run ids)."""
        return cls(records_frame(records), plan, meta)

    def __len__(self) -> int:
        return len(self.runs)

    def __repr__(self) -> str:
        return f"Database({len(self)} runs, {len(self.plan)} plan entries)"

    # -------------------------------------------------------------------- io
    def write(self, path: str | Path) -> Path:
        """Write atomically as one Parquet file (plan entries embedded in the metadata)."""
        path = Path(path)
        table = _to_arrow(self.runs)
        meta = {"schema_version": DATABASE_SCHEMA_VERSION, "record_schema_version": RECORD_SCHEMA_VERSION,
                **self.meta}
        if len(self.plan):
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pandas(self.plan[list(PLAN_COLUMNS)], preserve_index=False), buf,
                           compression="zstd")
            meta["plan_parquet_b64"] = base64.b64encode(buf.getvalue()).decode("ascii")
        return atomic_write_parquet(path, table, _META_KEY, meta)

    @classmethod
    def read(cls, path: str | Path) -> Database:
        """Read a database written by :meth:`write` / ``surrogate-eo collect``.

        Raises
        ------
        DatabaseError
            When the file is missing, not Parquet, or of another schema version.
        """
        table, meta = read_parquet_with_meta(
            path, _META_KEY, what="database", version=DATABASE_SCHEMA_VERSION, error=DatabaseError,
            missing_hint=f"build it with: surrogate-eo collect RECORDS_DIR --out {path}",
            version_hint="rebuild it with surrogate-eo collect")
        plan = None
        if "plan_parquet_b64" in meta:
            try:
                plan = pq.read_table(io.BytesIO(base64.b64decode(meta.pop("plan_parquet_b64"), validate=True)))
                plan = plan.to_pandas()
            except (ValueError, TypeError, pa.ArrowException) as exc:
                raise DatabaseError(f"database {path}: its embedded plan (plan_parquet_b64) is unreadable "
                                    f"({one_line(str(exc), 120)}); rebuild it with surrogate-eo collect") from None
            missing = [c for c in PLAN_COLUMNS if c not in plan.columns]
            if missing:
                raise DatabaseError(f"database {path}: its embedded plan lacks column {missing[0]!r}; "
                                    f"rebuild it with surrogate-eo collect")
        names = set(table.column_names)
        missing = [f.name for f in _schema() if f.name not in names and f.name != "notes"]
        if missing:
            raise DatabaseError(f"database {path} lacks column {missing[0]!r}; rebuild it with surrogate-eo collect")
        try:
            runs = _to_frame(table)
            return cls(runs, plan, meta)
        except DatabaseError:
            raise
        except (ValueError, TypeError, KeyError, pa.ArrowException) as exc:
            raise DatabaseError(f"database {path} has malformed rows ({one_line(str(exc), 120)}); "
                                f"rebuild it with surrogate-eo collect") from None

    def records(self) -> list[RunRecord]:
        """The runs back as :class:`RunRecord` objects (curves, params, status...)."""
        from .records import RunSpec

        out = []
        for row in self.runs.itertuples(index=False):
            r = row._asdict()
            n = int(r["n_epochs"])
            epochs = [{m: (None if np.isnan(r[f"curve_{m}"][e]) else float(r[f"curve_{m}"][e]))
                       for m in EPOCH_METRICS} for e in range(n)]
            spec = RunSpec(**{k: (int(r[k]) if k == "seed" else r[k]) for k in SPEC_COLUMNS})
            out.append(RunRecord(spec=spec, status=r["status"], epochs=epochs, params=int(r["params"]),
                                 flops=int(r["flops"]), wall_seconds=float(r["wall_seconds"]),
                                 device=r["device"] or "", versions=json.loads(r["versions"] or "{}"),
                                 error=r["error"], notes=json.loads(r.get("notes") or "[]"),
                                 host=r["host"] or "", created=r["created"] or ""))
        return out

    # --------------------------------------------------------------- queries
    def _select(self, task: str, metric: str, epoch: int | None, space: str | None, protocol: str | None,
                statuses: Sequence[str]) -> pd.DataFrame:
        """Rows of ``task`` (and space/protocol) with the metric value in column ``y`` (NaN rows dropped)."""
        if metric not in EPOCH_METRICS and metric not in RUN_METRICS:
            raise DatabaseError(f"unknown metric {metric!r}; expected one of {', '.join(EPOCH_METRICS + RUN_METRICS)}")
        runs = self.runs
        if task not in set(runs["task"]):
            have = ", ".join(sorted(set(runs["task"]))) or "none"
            raise DatabaseError(f"task {task!r} has no runs in this database (tasks present: {have})")
        sel = runs[(runs["task"] == task) & runs["status"].isin(list(statuses))]
        space = getattr(space, "name", space)  # a SearchSpace works too
        for col, val in (("space", space), ("protocol", protocol)):
            if val is not None:
                sel = sel[sel[col] == val]
            elif sel[col].nunique() > 1:
                raise DatabaseError(f"runs of task {task!r} mix several {col}s ({', '.join(sorted(set(sel[col])))}); "
                                    f"pass {col}=... to choose one")
        if metric in RUN_METRICS:
            y = sel[metric].astype(float).to_numpy()
        elif epoch is None:
            y = sel[f"final_{metric}"].to_numpy(dtype=float)
        else:
            if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 1:
                raise DatabaseError(f"epoch must be an integer >= 1 (1 = after the first epoch), got {epoch!r}")
            y = np.array([c[epoch - 1] if len(c) >= epoch else np.nan for c in sel[f"curve_{metric}"]], dtype=float)
        out = sel[["run_id", "arch", "seed"]].assign(y=y)
        return out[np.isfinite(out["y"].to_numpy())]

    def targets(self, task: str, metric: str, epoch: int | None = None, seed_average: bool = True, *,
                space: str | None = None, protocol: str | None = None,
                statuses: Sequence[str] = ("ok",)) -> tuple[list[str], np.ndarray]:
        """Training targets: architecture strings and their metric values.

        Parameters
        ----------
        task : str
            Task, e.g. ``"so2sat-s2"``.
        metric : str
            A per-epoch metric of :data:`~surrogate_eo.records.EPOCH_METRICS` (e.g. ``"val_acc"``,
            a fraction) or a run-level one (``"params"``, ``"flops"``, ``"wall_seconds"``).
        epoch : int, optional
            Value after this many epochs (1-based); runs with fewer epochs are left out.
            ``None`` (default) takes each run's final epoch.
        seed_average : bool, default=True
            One value per arch, the mean over its seeds; ``False`` gives one value per run
            (an arch repeats once per seed).
        space, protocol : str, optional
            Required only when the task's runs mix several spaces / protocols.
        statuses : sequence of str, default=("ok",)
            Run statuses included (diverged and failed runs are left out by default).

        Returns
        -------
        archs : list of str
            Architecture strings, sorted (and within an arch by seed when not averaged).
        y : ndarray of float, shape (len(archs),)
        """
        sel = self._select(task, metric, epoch, space, protocol, statuses)
        if seed_average:
            g = sel.groupby("arch", sort=True)["y"].mean()
            return [str(a) for a in g.index], g.to_numpy(dtype=float)
        sel = sel.sort_values(["arch", "seed"], kind="stable")
        return [str(a) for a in sel["arch"]], sel["y"].to_numpy(dtype=float)

    def per_seed(self, task: str, metric: str, epoch: int | None = None, **kw: Any) -> pd.DataFrame:
        """Metric values with one row per arch and one column per seed (NaN where a seed is missing)."""
        sel = self._select(task, metric, epoch, kw.pop("space", None), kw.pop("protocol", None),
                           kw.pop("statuses", ("ok",)))
        return sel.pivot_table(index="arch", columns="seed", values="y", aggfunc="mean").sort_index()

    def fitness(self, archs: Sequence[str], task: str, metric: str = "val_acc", epoch: int | None = None,
                **kw: Any) -> np.ndarray:
        """Seed-averaged metric of the given arch strings, in their order.

        Raises
        ------
        MissingArchitectureError
            Naming the first arch the database has no (successful) run of.
        """
        a, y = self.targets(task, metric, epoch, True, **kw)
        lookup = dict(zip(a, y))
        out = np.empty(len(archs), dtype=float)
        for i, s in enumerate(archs):
            if s not in lookup:
                raise MissingArchitectureError(f"the database has no successful {task!r} run of arch {s!r}")
            out[i] = lookup[s]
        return out

    def status_counts(self) -> pd.DataFrame:
        """Runs per task and status."""
        return self.runs.groupby(["task", "status"]).size().rename("runs").reset_index()

    def summary(self) -> pd.DataFrame:
        """Runs per stratum, task and status (a run planned by two strata counts in both).

        Strata come from the plan entries when present, else from each run's first stratum.
        """
        runs = self.runs[["run_id", "task", "status", "stratum"]]
        if len(self.plan):
            pairs = self.plan[["stratum", "run_id"]].drop_duplicates()
            runs = runs.drop(columns="stratum").merge(pairs, on="run_id", how="left")
            runs["stratum"] = runs["stratum"].fillna("(unplanned)")
        out = runs.groupby(["stratum", "task", "status"]).size().rename("runs").reset_index()
        return out

    def plan_entries(self, stratum: str | None = None, task: str | None = None) -> pd.DataFrame:
        """Plan entries (stratum, group, position, task, seed, run_id, arch), optionally filtered."""
        p = self.plan
        if stratum is not None:
            p = p[p["stratum"] == stratum]
        if task is not None:
            p = p[p["task"] == task]
        return p.sort_values(["stratum", "task", "seed", "group", "position"], kind="stable").reset_index(drop=True)

    def _groups(self, stratum: str, task: str, seed: int | None) -> list[pd.DataFrame]:
        p = self.plan_entries(stratum, task)
        if not len(p):
            raise DatabaseError(f"the database holds no {stratum!r} plan entries for task {task!r} "
                                f"(collect with the campaign's manifest: surrogate-eo collect ... --manifest M)")
        seeds = sorted(set(p["seed"]))
        seed = seeds[0] if seed is None else seed
        p = p[p["seed"] == seed]
        return [g.sort_values("position") for _, g in p.groupby("group", sort=True)]

    def walks(self, task: str, seed: int | None = None) -> list[list[str]]:
        """The planned random walks of ``task``: one list of arch strings per walk, in step order.

        ``seed`` picks the training seed (default: the smallest planned one).
        """
        return [list(g["arch"]) for g in self._groups("walks", task, seed)]

    def neighbourhoods(self, task: str, seed: int | None = None) -> list[tuple[str, list[str]]]:
        """The planned neighbourhoods of ``task``: ``(centre, [neighbour archs...])`` per centre."""
        out = []
        for g in self._groups("neighbourhoods", task, seed):
            centre = g[g["position"] == 0]["arch"]
            out.append((str(centre.iloc[0]) if len(centre) else "", list(g[g["position"] > 0]["arch"])))
        return out
