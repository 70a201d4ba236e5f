"""Campaign status (from records, locks and squeue) and resubmission of failed or lost runs.

The state of each planned run, in order of precedence:

========= ================================================================
ok        a finished record with status ok
diverged  a finished record with status diverged (NaN/inf loss)
failed    a finished record with status failed
running   a live (non-stale) lock: a worker is training it
queued    its SLURM array task is pending or running and it has no record yet
planned   none of the above: not started yet, or lost (e.g. a node died
          without requeue) -- ``resubmit`` picks these up
========= ================================================================
"""
from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SlurmError
from .locks import STALE_AFTER, is_stale
from .manifest import Manifest
from .slurm import ACTIVE_STATES, SlurmOptions, Submission, squeue_states, submit
from .state import CampaignState
from .worker import finished_status, lock_file, record_file

STATES: tuple[str, ...] = ("ok", "diverged", "failed", "running", "queued", "planned")


@dataclass
class CampaignStatus:
    """Per-run states and per-job task states of a campaign."""

    runs: pd.DataFrame
    jobs: dict[str, Counter[str]] = field(default_factory=dict)
    manifest: str = ""

    @property
    def counts(self) -> dict[str, int]:
        """Runs per state (every state of :data:`STATES`, zeros included)."""
        c = Counter(self.runs["state"])
        return {s: int(c.get(s, 0)) for s in STATES}

    def to_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest, "runs": len(self.runs), "counts": self.counts,
                "jobs": {j: dict(c) for j, c in self.jobs.items()}}


def campaign_status(records_dir: str | Path, manifest: str | Path | None = None, *,
                    stale_after: float = STALE_AFTER, use_squeue: bool = True) -> CampaignStatus:
    """State of every run of the campaign in ``records_dir`` (see the module docstring)."""
    state = CampaignState(records_dir)
    mpath = state.manifest_path(manifest)
    m = Manifest.read(mpath)
    runs = m.runs[["run_index", "run_id", "task", "seed", "stratum", "arch"]].copy()
    states = []
    for rid in runs["run_id"]:
        st = finished_status(record_file(records_dir, rid), rid)
        if st is None:
            lk = lock_file(records_dir, rid)
            if lk.exists() and not is_stale(lk, stale_after):
                st = "running"
        states.append(st)
    subs = state.submissions()
    jobs: dict[str, Counter[str]] = {}
    if use_squeue and subs:
        sq = squeue_states([s["job_id"] for s in subs])
        queued: set[str] = set()
        for s in subs:
            jobs[s["job_id"]] = Counter(st for (j, _), st in sq.items() if j == s["job_id"])
            active = [t for (j, t), st in sq.items() if j == s["job_id"] and st in ACTIVE_STATES]
            if not active:
                continue
            sm = m if Path(s["manifest"]) == Path(mpath).resolve() else Manifest.read(s["manifest"])
            for t in active:
                for i in sm.chunk(s["offset"] + t, s["runs_per_task"]):
                    queued.add(str(sm.runs["run_id"].iloc[i]))
        states = [st if st is not None else ("queued" if rid in queued else None)
                  for st, rid in zip(states, runs["run_id"])]
    runs["state"] = [st or "planned" for st in states]
    return CampaignStatus(runs, jobs, str(mpath))


def resubmit(records_dir: str | Path, *, failed: bool = True, missing: bool = True, diverged: bool = False,
             executor: str = "slurm", opts: SlurmOptions | None = None, data_root: str | Path | None = None,
             dry_run: bool = False, **overrides: Any) -> tuple[list[str], list[Submission] | Any]:
    """Submit again the runs that need it, as a new sub-manifest.

    Parameters
    ----------
    records_dir : path
        The campaign's records directory.
    failed, missing, diverged : bool
        Which runs: records with status failed (default) / diverged, and runs that are
        neither finished, running nor queued (default).
    executor : {"slurm", "local"}
        Where to run them.
    opts : SlurmOptions, optional
        sbatch settings; default those of the campaign's last submission, with ``overrides``.
    data_root : path, optional
        Default the campaign's data root.
    dry_run : bool
        Render (SLURM) without submitting; nothing is moved.

    Returns
    -------
    (run_ids, result)
        The runs resubmitted and the list of :class:`Submission` (SLURM) or the
        :class:`~surrogate_eo.campaign.local.LocalResult`.

    Notes
    -----
    Failed/diverged records are moved to ``<records>/_failed/`` (kept, not deleted) so
    that the workers retrain those runs; a failed run resumes from its checkpoint if any.
    """
    status = campaign_status(records_dir)
    want = set()
    if failed:
        want.add("failed")
    if diverged:
        want.add("diverged")
    if missing:
        want.add("planned")
    sel = status.runs[status.runs["state"].isin(want)]
    run_ids = [str(r) for r in sel["run_id"]]
    if not run_ids:
        return [], []
    state = CampaignState(records_dir)
    camp = state.campaign()
    data_root = data_root or camp["data"]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if not dry_run:
        bad = sel[sel["state"].isin(["failed", "diverged"])]["run_id"]
        (Path(records_dir) / "_failed").mkdir(parents=True, exist_ok=True)
        for rid in bad:
            src = record_file(records_dir, rid)
            if src.exists():
                shutil.move(str(src), Path(records_dir) / "_failed" / f"{rid}-{stamp}.json")
    m = Manifest.read(status.manifest)
    sub = m.subset(run_ids, resubmitted_from=status.manifest)
    sub_path = state.dir / f"resubmit-{stamp}.parquet"
    sub.write(sub_path)
    if executor == "local":
        from .local import run_local

        return run_ids, run_local(sub_path, data_root, records_dir, remember=False, **overrides)
    if executor != "slurm":
        raise SlurmError(f"--executor {executor!r}: expected 'slurm' or 'local'")
    if opts is None:
        prev = [s for s in state.submissions() if s.get("options")]
        base = dict(prev[-1]["options"]) if prev else {}
        base.pop("data", None)
        base.update({k: v for k, v in overrides.items() if v is not None})
        opts = SlurmOptions(**base)
    return run_ids, submit(sub_path, data_root, records_dir, opts, dry_run=dry_run, remember=False)
