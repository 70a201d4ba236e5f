"""``surrogate-eo demo``: the whole pipeline on an embedded default, resumable.

Stages, each writing its outputs atomically into ``out_dir`` and skipped when
they are already there (so an interrupted demo resumes where it stopped):

1. ``data/`` — synthetic So2Sat-format data (official HDF5 layout, float64; *synthetic*);
2. ``manifest.parquet`` — the smoke campaign (``campaign/configs/smoke.toml``) planned on ``eo``;
3. ``records/`` — the campaign trained by the local executor (or SLURM arrays);
4. ``database.parquet`` — records collected (always redone: cheap, and picks up new runs);
5. ``benchmark/`` — an XGBoost surrogate benchmark with a runtime model (refitted when the
   database changed);
6. ``report/`` — the quality report (out-of-fold accuracy, landscape fidelity verdict);
7. ``summary.txt`` — the five-line summary printed at the end.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._io import atomic_write_text
from ._types import DatabaseLike
from .errors import SurrogateEOError

#: The embedded default campaign (also at ``ground_truth/smoke.toml`` in the repository).
DEFAULT_CONFIG = Path(__file__).resolve().parent / "campaign" / "configs" / "smoke.toml"
DEFAULT_OUT = Path("surrogate-eo-demo")
SPLIT_FILES = ("training.h5", "validation.h5", "testing.h5")


@dataclass
class DemoOptions:
    """Settings of :func:`run_demo` (the defaults are the embedded default).

    Attributes
    ----------
    out_dir : Path
        Where everything goes.
    config : Path
        Campaign TOML.
    n_train, n_val, n_test : int
        Synthetic patches per split (the smoke protocol trains on 128 of them).
    seed : int
        Seed of the synthetic data.
    executor : str
        ``"local"`` or ``"slurm"``.
    workers : int
        Local worker processes (one torch thread each).
    model : str
        Surrogate model family (``xgb``, ``lgb``, ``rf``, ``gin``, …).
    slurm : dict
        Options for :class:`~surrogate_eo.campaign.SlurmOptions` when ``executor="slurm"``.
    """

    out_dir: Path = DEFAULT_OUT
    config: Path = DEFAULT_CONFIG
    n_train: int = 2048
    n_val: int = 512
    n_test: int = 512
    seed: int = 0
    executor: str = "local"
    workers: int = 2
    model: str = "xgb"
    slurm: dict[str, Any] = field(default_factory=dict)
    poll_seconds: float = 2.0


@dataclass
class DemoResult:
    """Where the demo wrote things, and its summary lines."""

    out_dir: Path
    report_html: Path
    summary: list[str]
    seconds: float


def _say(log: Callable[[str], None], step: int, text: str) -> None:
    log(f"[{step}/6] {text}")


def run_demo(opts: DemoOptions | None = None, *, log: Callable[[str], None] = print,
             progress: bool = True) -> DemoResult:
    """Run (or resume) the demo; return where the report is and the five-line summary.

    Long stages show progress (a bar on a terminal, plain ``done/total, ETA`` lines when
    stdout is a pipe or a file). On Ctrl-C the finished work is kept and the command to
    resume is printed before the interrupt propagates.
    """
    out = Path((opts or DemoOptions()).out_dir)
    try:
        return _run_demo(opts, log, progress)
    except KeyboardInterrupt:
        log(f"interrupted: finished stages and runs are kept in {out}; run the same command again to resume "
            f"(surrogate-eo demo --out {out})")
        raise


def _run_demo(opts: DemoOptions | None, log: Callable[[str], None], progress: bool) -> DemoResult:
    from . import campaign as camp
    from .data import synthesize

    opts = opts or DemoOptions()
    if opts.executor not in ("local", "slurm"):
        raise SurrogateEOError(f"--executor must be 'local' or 'slurm', got {opts.executor!r}")
    if opts.workers < 1:
        raise SurrogateEOError(f"--workers must be >= 1, got {opts.workers}")
    t0 = time.perf_counter()
    out = Path(opts.out_dir)
    if out.exists() and not out.is_dir():
        raise SurrogateEOError(f"demo output {out} exists and is not a folder; pass another --out")
    out.mkdir(parents=True, exist_ok=True)
    data, records = out / "data", out / "records"

    # 1. synthetic data -------------------------------------------------------------
    if all((data / f).is_file() for f in SPLIT_FILES):
        _say(log, 1, f"synthetic So2Sat-format data: reusing {data}")
    else:
        _say(log, 1, f"writing synthetic So2Sat-format data ({opts.n_train}/{opts.n_val}/{opts.n_test} "
                     f"patches, official HDF5 layout) to {data}")
        synthesize(data, version=2, n_train=opts.n_train, n_val=opts.n_val, n_test=opts.n_test,
                   seed=opts.seed, compression=None, progress=progress)

    # 2. plan ------------------------------------------------------------------------
    manifest_path = out / "manifest.parquet"
    cfg = camp.load_config(opts.config)
    manifest = camp.plan(cfg)
    if manifest_path.is_file() and camp.Manifest.read(manifest_path).runs["run_id"].tolist() == \
            manifest.runs["run_id"].tolist():
        _say(log, 2, f"campaign {cfg.name!r}: reusing {manifest_path}")
    else:
        manifest.write(manifest_path)
        _say(log, 2, f"planned campaign {cfg.name!r} on space {cfg.space!r}: {manifest.n_runs} runs "
                     f"({', '.join(cfg.strata)}) -> {manifest_path}")

    # 3. train ------------------------------------------------------------------------
    _say(log, 3, f"training with the {opts.executor} executor into {records} (finished runs are skipped)")
    if opts.executor == "local":
        camp.run_local(manifest_path, data, records, workers=opts.workers, threads=1, progress=progress)
    else:
        _run_slurm(camp, manifest_path, data, records, opts, log)

    # 4. collect ----------------------------------------------------------------------
    db_path = out / "database.parquet"
    db, report = camp.collect(records, db_path, manifest=manifest_path)
    _say(log, 4, f"collected {len(db)} runs into {db_path}")
    if not len(db) or "ok" not in set(db.runs["status"]):
        raise SurrogateEOError(f"no successful run in {records}; see the records' 'error' fields")

    # 5. surrogate ----------------------------------------------------------------------
    bench_dir = out / "benchmark"
    db_hash = _runs_hash(db)
    stamp = bench_dir / "database.sha"
    task = cfg.tasks[0]
    if bench_dir.is_dir() and stamp.is_file() and stamp.read_text().strip() == db_hash:
        from .surrogates import load

        bench = load(bench_dir)
        _say(log, 5, f"surrogate: reusing {bench_dir}")
    else:
        from .surrogates import fit_benchmark

        _say(log, 5, f"fitting a {opts.model} surrogate (val_acc and training seconds) on {len(db)} runs")
        bench = fit_benchmark(db, tasks=list(cfg.tasks), metrics=("val_acc",), runtime=True, model=opts.model,
                              progress=progress)
        tmp = bench_dir.with_name(bench_dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        bench.save(str(tmp))
        atomic_write_text(tmp / "database.sha", db_hash + "\n")
        shutil.rmtree(bench_dir, ignore_errors=True)
        tmp.rename(bench_dir)

    # 6. report (fidelity verdict included) ---------------------------------------------
    from .landscape import SamplingPlan
    from .report import ReportOptions, build_report

    _say(log, 6, "evaluating the surrogate, running the landscape fidelity verdict, writing the report")
    options = ReportOptions(cv_folds=3, learning_curve_fractions=(0.25, 0.5, 0.75), learning_curve_seeds=(0,),
                            plan=SamplingPlan.small(), surrogate_plan=SamplingPlan.small(),
                            synthetic=SYNTHETIC_NOTE)
    paths = build_report(db, bench, out_dir=out / "report", tasks=[task], options=options, progress=progress)

    ok = int((db.runs["status"] == "ok").sum())
    m = paths.data.accuracy[task]["metrics"][0]
    land = paths.data.landscape.get(task) or {}
    summary = [
        f"demo output: {out.resolve()} (synthetic So2Sat-format data, not real So2Sat)",
        f"campaign {cfg.name!r}: {len(db)} runs on space {cfg.space!r}, task {task}, protocol {cfg.protocol!r}: "
        f"{ok} ok, {len(db) - ok} diverged/failed; {len(report.quarantined)} records quarantined",
        f"surrogate ({opts.model}, {m['split']}): Kendall tau {m['kendall_tau']:.3f}, sparse tau "
        f"{m['sparse_kendall_tau']:.3f}, R2 {m['r2']:.3f}, RMSE {100 * m['rmse']:.2f} pp",
        verdict_summary_line(land),
        f"report: {paths.html}",
    ]
    atomic_write_text(out / "summary.txt", "\n".join(summary) + "\n")
    return DemoResult(out, Path(paths.html), summary, time.perf_counter() - t0)


#: What the demo's ground truth is trained on (stated in the summary and the report).
SYNTHETIC_NOTE = "synthetic So2Sat-format data written by surrogate-eo demo"


def verdict_summary_line(land: dict[str, Any]) -> str:
    """The summary's verdict line: both modes, and whether the campaign is too small (from the evidence rule).

    >>> verdict_summary_line({"verdict": "inconclusive", "verdicts": {"value": "inconclusive", "rank": "inconclusive"},
    ...                       "too_small": {"value": True}, "runs_needed": {"value": {"walks": 450}}, "failed": []})
    'landscape fidelity verdict: inconclusive (value mode; rank mode: inconclusive) - the campaign is too small for a conclusive verdict: runs needed ~450 more walks'
    """
    if not land:
        return "landscape fidelity verdict: not computed"
    vv = land.get("verdicts") or {"value": land.get("verdict")}
    line = f"landscape fidelity verdict: {vv.get('value')} (value mode; rank mode: {vv.get('rank', 'n/a')})"
    if (land.get("too_small") or {}).get("value"):
        need = (land.get("runs_needed") or {}).get("value") or {}
        line += (" - the campaign is too small for a conclusive verdict: runs needed "
                 + ", ".join(f"~{int(v):,} more {k}" for k, v in need.items()))
    elif land.get("failed"):
        line += f"; unfaithful features: {', '.join(land['failed'])}"
    return line


def _runs_hash(db: DatabaseLike) -> str:
    """Digest of the database's runs (ids, statuses, final metrics): changes when the ground truth does."""
    cols = [c for c in ("run_id", "status", "final_val_acc", "wall_seconds") if c in db.runs.columns]
    payload = db.runs[cols].sort_values("run_id").to_json(orient="values", double_precision=10)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _run_slurm(camp: Any, manifest_path: Path, data: Path, records: Path, opts: DemoOptions,
               log: Callable[[str], None]) -> None:
    """Submit the campaign as SLURM array jobs and wait until every run has a record."""
    status = camp.campaign_status(records, manifest_path) if records.is_dir() else None
    pending = None if status is None else sum(status.counts[s] for s in ("running", "queued", "planned"))
    if pending != 0:
        job_ids: list[str] = []
        if status is None or status.counts["queued"] + status.counts["running"] == 0:
            # one CPU and one torch thread per task, like the local executor's workers
            settings = {"cpus_per_task": 1, **opts.slurm}
            subs = camp.submit(manifest_path, data, records, camp.SlurmOptions(**settings))
            job_ids = [str(s.job_id) for s in subs]
            log(f"      submitted {len(subs)} array job(s): {', '.join(job_ids)}")
        while True:
            _check_schedulable(job_ids)
            counts = camp.campaign_status(records, manifest_path).counts
            left = counts["running"] + counts["queued"] + counts["planned"]
            if left == 0:
                break
            if counts["running"] + counts["queued"] == 0:
                raise SurrogateEOError(
                    f"{left} runs are neither queued nor running on SLURM (cancelled?); "
                    f"run `surrogate-eo resubmit --records {records}` or rerun the demo")
            time.sleep(opts.poll_seconds)
    log(f"      SLURM campaign finished: {json.dumps(camp.campaign_status(records, manifest_path).counts)}")


#: squeue reasons that mean a pending job can never start as submitted.
_HOPELESS = ("PartitionConfig", "BadConstraints", "PartitionNodeLimit", "PartitionTimeLimit", "InvalidAccount",
             "InvalidQOS", "ReqNodeNotAvail")


def _check_schedulable(job_ids: list[str]) -> None:
    """Raise when SLURM says our pending jobs can never run (e.g. more CPUs than any node has)."""
    import subprocess

    if not job_ids:
        return
    out = subprocess.run(["squeue", "-h", "-t", "PENDING", "-o", "%i %r", "-j", ",".join(job_ids)],
                         capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        job, _, reason = line.partition(" ")
        if reason.strip() in _HOPELESS:
            raise SurrogateEOError(
                f"SLURM job {job} is pending with reason {reason.strip()!r}: it can never start as submitted "
                f"(check --partition/--account and the CPUs, memory and time it asks for); "
                f"cancel it with `scancel {job.split('_')[0]}`")
