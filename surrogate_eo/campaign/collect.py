"""Collect run records into the results database, deduplicated, quarantining bad files.

:func:`collect` reads every ``<records>/*.json`` record (directories whose
name starts with ``_`` hold locks, checkpoints and campaign state and are not
read), merges them with an existing database, keeps one row per ``run_id``
and writes the database atomically. Files it cannot use are **moved** to
``<records>/_quarantine/`` and listed in a JSON report there instead of
failing the collection:

- ``corrupt``: not JSON (e.g. truncated, or nested too deeply), or JSON that
  is not a valid record: a field of the wrong type or an impossible value
  (accuracy outside [0, 1], NaN, negative time, non-positive params...; see
  :mod:`~surrogate_eo.campaign.record_check`);
- ``schema``: a record of another schema version;
- ``partial``: a leftover temporary file of an interrupted atomic write
  (``.<name>.*.tmp``) older than ``partial_age`` seconds (younger ones may be
  a write in progress and are left alone).

Leftover temporaries of the database itself (``.<out>.<x>.tmp`` of a
collect killed before its rename) older than ``partial_age`` are deleted.

When a run appears more than once (two record copies, or a run already in the
database), the row kept is the best status (ok, then diverged, then failed)
and, among equals, the one seen first (the database, then files in name order).
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import atomic_write_json, loads_json, sweep_temp_files
from ..database import PLAN_COLUMNS, Database, records_frame
from ..errors import DatabaseError, RecordError, one_line
from ..records import RECORD_SCHEMA_VERSION, STATUSES, RunRecord
from .record_check import check_record

#: Seconds after which a leftover ``.tmp`` file counts as an interrupted write.
PARTIAL_AGE = 600.0
QUARANTINE_DIR = "_quarantine"
#: Largest record file read (a record is a few KB; anything this big is not one).
MAX_RECORD_BYTES = 16 * 2**20


@dataclass
class CollectReport:
    """What :func:`collect` did.

    Attributes
    ----------
    files : int
        Record files read.
    records : int
        Valid records among them.
    new : int
        Runs added to the database (not there before).
    duplicates : int
        Extra copies of a run (identical outcome) that were dropped.
    conflicts : list of str
        run_ids seen with different statuses/metrics; the best was kept.
    quarantined : list of dict
        ``{"file", "moved_to", "kind", "reason"}`` per quarantined file.
    in_progress : list of str
        Young temporary files left alone (a write may be in progress).
    planned, missing, unplanned : int
        With a manifest: planned runs, planned runs without a record, records not in the plan.
    """

    files: int = 0
    records: int = 0
    new: int = 0
    duplicates: int = 0
    conflicts: list[str] = field(default_factory=list)
    quarantined: list[dict[str, str]] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    planned: int | None = None
    missing: int | None = None
    unplanned: int | None = None
    report_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _quarantine(path: Path, root: Path, kind: str, reason: str, move: bool, report: CollectReport) -> None:
    entry = {"file": str(path), "kind": kind, "reason": one_line(reason, 500), "moved_to": ""}
    if move:
        qdir = root / QUARANTINE_DIR
        try:
            qdir.mkdir(parents=True, exist_ok=True)
            dest = qdir / path.name
            k = 1
            while dest.exists():
                dest = qdir / f"{path.name}.{k}"
                k += 1
            shutil.move(str(path), dest)
            entry["moved_to"] = str(dest)
        except FileNotFoundError:  # a concurrent writer finished (tmp renamed) meanwhile
            return
        except OSError as exc:  # e.g. a read-only records folder: report it, leave the file where it is
            entry["reason"] += f" (left in place: cannot move it to {qdir}: {exc.strerror or exc})"
    report.quarantined.append(entry)


def read_records(records_dir: str | Path, report: CollectReport, *, quarantine: bool = True,
                 partial_age: float = PARTIAL_AGE) -> list[RunRecord]:
    """Valid records of one directory (files in name order); bad files quarantined into ``report``."""
    root = Path(records_dir)
    if not root.is_dir():
        raise RecordError(f"records directory {root} does not exist")
    out = []
    now = time.time()
    for path in sorted(root.iterdir()):
        if not path.is_file():
            continue
        name = path.name
        if name.startswith(".") and name.endswith(".tmp"):
            try:
                age = now - path.stat().st_mtime
            except FileNotFoundError:
                continue
            if age > partial_age:
                _quarantine(path, root, "partial", f"temporary file of an interrupted write ({age:.0f} s old)",
                            quarantine, report)
            else:
                report.in_progress.append(str(path))
            continue
        if not name.endswith(".json") or name.startswith("."):
            continue
        report.files += 1
        try:
            size = path.stat().st_size
            if size > MAX_RECORD_BYTES:
                _quarantine(path, root, "corrupt", f"{size:,} bytes, more than a record can hold "
                            f"({MAX_RECORD_BYTES:,})", quarantine, report)
                continue
            raw = loads_json(path.read_bytes())
        except ValueError as exc:
            _quarantine(path, root, "corrupt", f"not valid JSON (truncated?): {exc}", quarantine, report)
            continue
        except FileNotFoundError:
            continue
        except OSError as exc:
            _quarantine(path, root, "corrupt", f"unreadable: {exc.strerror or exc}", quarantine, report)
            continue
        ver = raw.get("schema_version") if isinstance(raw, dict) else None
        try:
            rec = check_record(raw, source=str(path))
        except RecordError as exc:
            kind = "schema" if isinstance(raw, dict) and "spec" in raw and ver != RECORD_SCHEMA_VERSION else "corrupt"
            _quarantine(path, root, kind, str(exc), quarantine, report)
            continue
        except Exception as exc:  # noqa: BLE001 - any malformed field is a corrupt record, never fatal
            _quarantine(path, root, "corrupt", f"malformed record: {type(exc).__name__}: {one_line(str(exc), 200)}",
                        quarantine, report)
            continue
        report.records += 1
        out.append(rec)
    return out


def _fingerprint(row: pd.Series) -> tuple[Any, ...]:
    return (row["status"], row["n_epochs"], round(float(row["final_val_acc"]), 12)
            if row["final_val_acc"] == row["final_val_acc"] else None)


def collect(records_dirs: str | Path | list[str | Path], out: str | Path | None = None, *,
            manifest: Any = None, merge: bool = True, quarantine: bool = True,
            partial_age: float = PARTIAL_AGE) -> tuple[Database, CollectReport]:
    """Merge records into a database.

    Parameters
    ----------
    records_dirs : path or list of paths
        Directories of ``<run_id>.json`` records.
    out : path, optional
        Database file to write (and, with ``merge``, to merge into when it exists).
    manifest : Manifest or path, optional
        The campaign manifest: its plan entries are embedded and planned/missing counted.
    merge : bool, default=True
        Start from the runs already in ``out``.
    quarantine : bool, default=True
        Move bad files to ``<records>/_quarantine/`` (else only report them).
    partial_age : float, default=600
        Seconds after which a ``.tmp`` file counts as an interrupted write.

    Returns
    -------
    (Database, CollectReport)
    """
    from .manifest import Manifest

    dirs = [records_dirs] if isinstance(records_dirs, (str, Path)) else list(records_dirs)
    report = CollectReport()
    if out is not None:
        out = Path(out)
        if out.is_dir():
            raise DatabaseError(f"--out {out} is a folder; expected the database file to write, e.g. {out / 'db.parquet'}")
        sweep_temp_files(out.parent, out.name, older_than=partial_age)  # left by a collect killed mid-write
    old = Database.read(out) if (out is not None and merge and out.is_file()) else None
    records: list[RunRecord] = []
    for d in dirs:
        records += read_records(d, report, quarantine=quarantine, partial_age=partial_age)
    new_rows = records_frame(records)
    frames = [f for f in ((old.runs if old is not None else None), new_rows) if f is not None and len(f)]
    rows = pd.concat(frames, ignore_index=True) if frames else new_rows
    rows["_rank"] = rows["status"].map({s: i for i, s in enumerate(STATUSES)})
    rows["_order"] = range(len(rows))
    for rid, g in rows[rows["run_id"].duplicated(keep=False)].groupby("run_id", sort=True):
        prints = {_fingerprint(r) for _, r in g.iterrows()}
        if len(prints) > 1:
            report.conflicts.append(str(rid))
        else:
            report.duplicates += len(g) - 1
    rows = rows.sort_values(["_rank", "_order"], kind="stable").drop_duplicates("run_id", keep="first")
    rows = rows.sort_values("_order").drop(columns=["_rank", "_order"])
    old_ids = set(old.runs["run_id"]) if old is not None else set()
    report.new = int((~rows["run_id"].isin(old_ids)).sum())

    plan = old.plan if old is not None and len(old.plan) else None
    meta = dict(old.meta) if old is not None else {}
    if manifest is not None:
        m = manifest if isinstance(manifest, Manifest) else Manifest.read(manifest)
        p = m.entries[list(PLAN_COLUMNS)]
        plan = p if plan is None else pd.concat([plan, p]).drop_duplicates(
            ["stratum", "group", "position", "task", "seed", "run_id"])
        meta["campaign"] = m.name
    if plan is not None and len(plan):
        planned = set(plan["run_id"])
        have = set(rows["run_id"])
        report.planned, report.missing, report.unplanned = len(planned), len(planned - have), len(have - planned)
    meta["collected"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    db = Database(rows.reset_index(drop=True), plan, meta)
    if out is not None:
        db.write(out)
    if report.quarantined and quarantine:
        moved = [q["moved_to"] for q in report.quarantined if q["moved_to"]]
        qdir = Path(moved[0]).parent if moved else Path(dirs[0]) / QUARANTINE_DIR
        rpt = qdir / f"report-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6:06d}.json"
        try:
            atomic_write_json(rpt, {"quarantined": report.quarantined})
            report.report_file = str(rpt)
        except OSError:  # read-only records folder: the reasons are still printed and returned
            report.report_file = None
    return db, report
