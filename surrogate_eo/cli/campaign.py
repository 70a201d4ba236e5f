"""``surrogate-eo plan | run | status | resubmit | cancel | collect`` (and the internal ``worker``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

_RECORDS = typer.Option(Path("records"), "--records", help="Records directory of the campaign (shared by all workers).")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header)] + [fmt.format(*map(str, r)) for r in rows])


def plan_cmd(config: Path = typer.Argument(..., help="Campaign TOML (see ground_truth/smoke.toml)."),
             out: Path = typer.Option(..., "--out", "-o", help="Manifest to write (Parquet)."),
             as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
             exploit_from: Optional[Path] = typer.Option(
                 None, "--exploit-from", help="Add an exploit stratum (second wave): the archs this fitted "
                                              "benchmark predicts best, with their neighbourhoods."),
             exploit_n: int = typer.Option(20, "--exploit-n", min=1, help="--exploit-from: predicted-best archs."),
             exploit_pool: int = typer.Option(10_000, "--exploit-pool", min=1,
                                              help="--exploit-from: random archs ranked by the benchmark."),
             exploit_neighbours: str = typer.Option("all", "--exploit-neighbours",
                                                    help="--exploit-from: neighbours per arch (\"all\" or 0..degree).")
             ) -> None:
    """Plan a campaign: draw every stratum's archs and write the manifest of runs."""
    from ..campaign import load_config, plan
    from ..campaign.design import with_exploit

    cfg = load_config(config)
    if exploit_from is not None:
        nb: int | str = int(exploit_neighbours) if exploit_neighbours.isdigit() else exploit_neighbours
        cfg = with_exploit(cfg, str(exploit_from), n=exploit_n, pool=exploit_pool, neighbours=nb)
    m = plan(cfg)
    m.write(out)
    s = m.summary()
    if as_json:
        typer.echo(json.dumps({"manifest": str(out), "runs": m.n_runs, "entries": len(m.entries),
                               "strata": s.to_dict(orient="records")}, indent=1))
        return
    typer.echo(_table(s.values.tolist(), list(s.columns)))
    typer.echo(f"{len(m.entries)} plan entries -> {m.n_runs} distinct runs; manifest written to {out}")


def run_cmd(
    manifest: Path = typer.Argument(..., help="Manifest from `surrogate-eo plan`."),
    executor: str = typer.Option("local", "--executor", "-e", help="local (process pool) or slurm (array jobs)."),
    data: Path = typer.Option(..., "--data", help="So2Sat LCZ42 data folder (as seen from the workers)."),
    records: Path = _RECORDS,
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="local: worker processes."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="local: CPU threads per run "
                                          "(default: cores / workers)."),
    partition: Optional[str] = typer.Option(None, "--partition", help="slurm: partition."),
    account: Optional[str] = typer.Option(None, "--account", help="slurm: account."),
    gres: Optional[str] = typer.Option(None, "--gres", help="slurm: generic resources, e.g. gpu:1."),
    time_limit: Optional[str] = typer.Option(None, "--time", help="slurm: time limit per array task, e.g. 04:00:00."),
    mem: Optional[str] = typer.Option(None, "--mem", help="slurm: memory per task, e.g. 32G."),
    cpus_per_task: int = typer.Option(4, "--cpus-per-task", min=1, help="slurm: CPUs per task (= trainer threads)."),
    max_parallel: Optional[int] = typer.Option(None, "--max-parallel", min=1, help="slurm: most tasks at once (%K)."),
    runs_per_task: int = typer.Option(1, "--runs-per-task", min=1, help="slurm: runs trained by one array task."),
    signal_seconds: int = typer.Option(300, "--signal-seconds", min=1,
                                       help="slurm: SIGUSR1 this many s before the limit."),
    setup: str = typer.Option("", "--setup", help="slurm: shell lines before the worker (module load, activate)."),
    stage: str = typer.Option("", "--stage", help="slurm: node-local dir to stage the data to, e.g. '$TMPDIR'."),
    template: Optional[Path] = typer.Option(None, "--template", help="slurm: sbatch template (default: packaged)."),
    max_array_size: Optional[int] = typer.Option(None, "--max-array-size", min=1,
                                                 help="slurm: override MaxArraySize (default: scontrol)."),
    extra: list[str] = typer.Option([], "--sbatch", help="slurm: extra directive, e.g. --sbatch=--qos=long "
                                    "(repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="slurm: render the scripts, print sbatch commands only."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="local: progress bar."),
) -> None:
    """Train a manifest's unfinished runs, locally or as SLURM array jobs."""
    from ..campaign import Manifest, SlurmOptions, run_local, submit
    from ..campaign.local import Interrupted
    from ..errors import SurrogateEOError

    if executor not in ("local", "slurm"):
        raise SurrogateEOError(f"--executor {executor!r}: expected 'local' or 'slurm'")
    m = Manifest.read(manifest)
    if executor == "local":
        _check_data_root(data)  # before anything is written under --records
        try:
            res = run_local(manifest, data, records, workers=workers, threads=threads, progress=progress)
            while res.counts.get("locked") and not res.killed and not res.errors:
                if _wait_for_other_runners(m, records):
                    typer.echo(f"{res.counts['locked']} run(s) were trained by another runner meanwhile", err=True)
                    res.counts["finished elsewhere"] = res.counts.pop("locked")
                    break
                again = run_local(manifest, data, records, workers=workers, threads=threads, progress=progress,
                                  remember=False)  # another runner died: train what it left
                res.counts.pop("locked")
                res.counts.update(again.counts)
                res.killed += again.killed
                res.errors += again.errors
        except Interrupted as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(130) from None
        counts = ", ".join(f"{k}={v}" for k, v in sorted(res.counts.items())) or "nothing to do"
        typer.echo(f"{m.n_runs} runs planned, {res.already_done} already finished; this run: {counts} "
                   f"({res.seconds:.1f} s)")
        if res.killed:
            typer.echo(f"{len(res.killed)} run(s) lost a worker process (killed); rerun the same command "
                       f"to finish them: {', '.join(res.killed[:5])}{' ...' if len(res.killed) > 5 else ''}", err=True)
        if res.counts.get("locked"):
            typer.echo(f"{res.counts['locked']} run(s) are being trained by other live workers (locked); "
                       f"see: surrogate-eo status --records {records}", err=True)
        if not res.complete:
            raise typer.Exit(1)
        return
    opts = SlurmOptions(partition=partition, account=account, gres=gres, time=time_limit, mem=mem,
                        cpus_per_task=cpus_per_task, runs_per_task=runs_per_task, max_parallel=max_parallel,
                        signal_seconds=signal_seconds, extra=list(extra), setup=setup, stage=stage,
                        python=sys.executable, template=str(template) if template else None)
    subs = submit(manifest, data, records, opts, dry_run=dry_run, max_array=max_array_size)
    tasks = sum(s.n_tasks for s in subs)
    for s in subs:
        typer.echo(("would run: " if dry_run else f"submitted {s.job_id}: ") + " ".join(s.command))
    typer.echo(f"{m.n_runs} runs in {tasks} array task(s) of {runs_per_task} run(s), {len(subs)} array job(s)"
               + (" (dry run: nothing submitted)" if dry_run
                  else f"; follow with: surrogate-eo status --records {records}"))


def _check_data_root(data: Path) -> None:
    """Refuse a --data folder that does not exist (nothing is written under --records before this)."""
    from ..errors import DatasetNotFoundError

    if not data.is_dir():
        raise DatasetNotFoundError(f"--data {data}: no such folder; expected the So2Sat LCZ42 data folder "
                                   f"(see: surrogate-eo data info DATA)")


def _wait_for_other_runners(m, records: Path, poll: float = 1.0) -> bool:  # noqa: ANN001
    """Wait while other live runners hold the locks of this campaign's unfinished runs.

    Returns True when every planned run has a finished record, False as soon as
    an unfinished run is no longer locked by a live owner (its runner died: train it here).
    """
    import time

    from ..campaign.locks import is_stale
    from ..campaign.worker import finished_status, lock_file, record_file

    pending = list(m.runs["run_id"])
    while True:
        pending = [rid for rid in pending if finished_status(record_file(records, rid)) is None]
        if not pending:
            return True
        for rid in pending:
            lock = lock_file(records, rid)
            if not lock.exists() or is_stale(lock):
                if finished_status(record_file(records, rid)) is None:
                    return False
        time.sleep(poll)


def status_cmd(records: Path = _RECORDS,
               manifest: Optional[Path] = typer.Option(None, "--manifest", help="Default: the campaign's."),
               runs: bool = typer.Option(False, "--runs", help="Also list every run with its state."),
               as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Planned / queued / running / ok / diverged / failed runs, from records, locks and squeue."""
    from ..campaign import campaign_status
    from ..campaign.status import STATES

    st = campaign_status(records, manifest)
    if as_json:
        d = st.to_dict()
        if runs:
            d["run_states"] = st.runs[["run_id", "task", "seed", "stratum", "state"]].to_dict(orient="records")
        typer.echo(json.dumps(d, indent=1))
        return
    c = st.counts
    typer.echo(f"{len(st.runs)} runs: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    states = [s for s in STATES if s in set(st.runs["state"])]
    by = st.runs.groupby(["task", "state"]).size()
    rows = [[task] + [str(int(by.get((task, s), 0))) for s in states] for task in sorted(set(st.runs["task"]))]
    if rows:
        typer.echo(_table(rows, ["task"] + states))
    for job, cnt in st.jobs.items():
        typer.echo(f"job {job}: " + (", ".join(f"{k.lower()} {v}" for k, v in sorted(cnt.items()))
                                     or "no tasks known to squeue (finished)"))
    if runs:
        cols = ["run_id", "task", "seed", "stratum", "state"]
        typer.echo(_table([[str(v) for v in r] for r in st.runs[cols].itertuples(index=False)], cols))


def resubmit_cmd(records: Path = _RECORDS,
                 failed: bool = typer.Option(True, "--failed/--no-failed", help="Runs whose record failed."),
                 missing: bool = typer.Option(True, "--missing/--no-missing",
                                              help="Runs neither finished, running nor queued (lost)."),
                 diverged: bool = typer.Option(False, "--diverged", help="Also retrain diverged runs."),
                 executor: str = typer.Option("slurm", "--executor", "-e", help="slurm or local."),
                 workers: int = typer.Option(1, "--workers", "-w", min=1, help="local: worker processes."),
                 time_limit: Optional[str] = typer.Option(None, "--time", help="slurm: new time limit."),
                 runs_per_task: Optional[int] = typer.Option(None, "--runs-per-task", min=1),
                 dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be resubmitted.")) -> None:
    """Train again the failed (and lost) runs, with the campaign's last sbatch settings."""
    from ..campaign import resubmit

    over = {"workers": workers} if executor == "local" else {"time": time_limit, "runs_per_task": runs_per_task}
    ids, res = resubmit(records, failed=failed, missing=missing, diverged=diverged, executor=executor,
                        dry_run=dry_run, **over)
    if not ids:
        typer.echo("nothing to resubmit")
        return
    typer.echo(f"{'would resubmit' if dry_run else 'resubmitted'} {len(ids)} run(s)")
    if executor == "slurm":
        for s in res:
            typer.echo(("would run: " if dry_run else f"submitted {s.job_id}: ") + " ".join(s.command))


def cancel_cmd(records: Path = _RECORDS) -> None:
    """Cancel the campaign's array jobs (running tasks checkpoint on SIGTERM and release their locks)."""
    from ..campaign.slurm import cancel

    jobs = cancel(records)
    typer.echo(f"cancelled {', '.join(jobs)}" if jobs else "no active jobs")


def collect_cmd(records: list[Path] = typer.Argument(..., help="Records directories."),
                out: Path = typer.Option(..., "--out", "-o", help="Database (Parquet) to write / merge into."),
                manifest: Optional[Path] = typer.Option(None, "--manifest",
                                                        help="Campaign manifest (default: the records' campaign)."),
                quarantine: bool = typer.Option(True, "--quarantine/--no-quarantine",
                                                help="Move bad files to RECORDS/_quarantine/."),
                as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Merge records into the database; quarantine corrupt/partial/other-schema files with a report."""
    from ..campaign import collect
    from ..campaign.state import CampaignState
    from ..errors import RecordError, one_line

    if manifest is None:
        try:
            manifest = CampaignState(records[0]).manifest_path()
        except RecordError:
            manifest = None
    db, rep = collect(records, out, manifest=manifest, quarantine=quarantine)
    if as_json:
        typer.echo(json.dumps({"database": str(out), "runs": len(db), **rep.to_dict()}, indent=1, default=str))
        return
    s = db.summary()
    if len(s):
        typer.echo(_table(s.values.tolist(), list(s.columns)))
    typer.echo(f"{len(db)} runs in {out} ({rep.new} new, {rep.duplicates} duplicate copies dropped, "
               f"{len(rep.conflicts)} conflicting)")
    if rep.planned is not None:
        typer.echo(f"plan: {rep.planned} runs, {rep.missing} missing, {rep.unplanned} not in the plan")
    for q in rep.quarantined[:20]:
        typer.echo(f"quarantined ({q['kind']}): {q['file']}: {one_line(q['reason'], 300)}", err=True)
    if len(rep.quarantined) > 20:
        typer.echo(f"... and {len(rep.quarantined) - 20} more (see the quarantine report)", err=True)
    if rep.quarantined:
        typer.echo(f"warning: {len(rep.quarantined)} file(s) quarantined"
                   + (f"; report: {rep.report_file}" if rep.report_file else " (--no-quarantine: left in place)"),
                   err=True)
    if rep.in_progress:
        typer.echo(f"{len(rep.in_progress)} temporary file(s) left alone (writes may be in progress)", err=True)


def worker_cmd(manifest: Path = typer.Option(..., "--manifest"), task: int = typer.Option(..., "--task"),
               offset: int = typer.Option(0, "--offset"), runs_per_task: int = typer.Option(1, "--runs-per-task"),
               data: Path = typer.Option(..., "--data"), records: Path = typer.Option(..., "--records"),
               requeue: bool = typer.Option(False, "--requeue/--no-requeue"),
               threads: Optional[int] = typer.Option(None, "--threads")) -> None:
    """Internal: train one array task's chunk (used by the sbatch script)."""
    from ..campaign.worker import array_task

    raise typer.Exit(array_task(manifest, task, offset, runs_per_task, data, records, requeue=requeue,
                                threads=threads))


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_cmd)
    app.command("run")(run_cmd)
    app.command("status")(status_cmd)
    app.command("resubmit")(resubmit_cmd)
    app.command("cancel")(cancel_cmd)
    app.command("collect")(collect_cmd)
    app.command("worker", hidden=True)(worker_cmd)
