"""The campaign worker: train a chunk of a manifest's runs, each exactly once.

Files of a run inside the records directory (the trainer's layout, see
:mod:`surrogate_eo.training.trainer`):

- ``<records>/<run_id>.json``: the finished record (written atomically);
- ``<records>/<run_id>.ckpt``: its checkpoint while it trains (resume point);
- ``<records>/_locks/<run_id>.lock``: the lock of the worker training it.

For every run of its chunk the worker skips it when a finished record exists,
else takes the run's lock (:class:`~surrogate_eo.campaign.locks.RunLock`;
a run locked by a live worker is left to it), checks again for a record
(another worker may just have finished), removes temporary files that a
killed previous owner left (``.<run_id>.*.tmp``), and trains or resumes it.

On SIGTERM / SIGUSR1 the trainer checkpoints at the next batch; between runs
the worker stops at once. Either way the lock is released and the process
exits with :data:`~surrogate_eo.training.EXIT_REQUEUE` (75). On SIGUSR1 (the
pre-timeout signal of ``--signal=B:USR1@N``, or ``scancel --signal=USR1``)
inside a SLURM job started with ``requeue=True`` the worker first asks SLURM to
requeue its task (``scontrol requeue``); the requeued task resumes from the
checkpoint. SIGTERM (``scancel``, or preemption, after which SLURM requeues a
``--requeue`` job itself) only stops it.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from ..errors import RecordError, SurrogateEOError
from ..records import RunRecord, RunSpec
from ..training import EXIT_REQUEUE  # no torch: the exit code lives in training.signals
from .locks import STALE_AFTER, RunLock, slurm_identity
LOCK_DIR = "_locks"

#: Outcomes of :func:`run_one` besides the record statuses ``ok``, ``diverged``, ``failed``.
SKIPPED, LOCKED = "skipped", "locked"


def record_file(records_dir: str | Path, run_id: str) -> Path:
    """Where the finished record of ``run_id`` lives."""
    return Path(records_dir) / f"{run_id}.json"


def lock_file(records_dir: str | Path, run_id: str) -> Path:
    """The lock file of ``run_id``."""
    return Path(records_dir) / LOCK_DIR / f"{run_id}.lock"


def finished_status(path: str | Path, run_id: str | None = None) -> str | None:
    """Status of a valid finished record at ``path`` (None when missing, unreadable or of another run)."""
    try:
        rec = RunRecord.load(path)
    except RecordError:
        return None
    if run_id is not None and rec.run_id != run_id:
        return None
    return rec.status


class StopRequested(SystemExit):
    """Raised by the worker's SIGTERM/SIGUSR1 handler outside training; exit code 75."""

    def __init__(self, signame: str) -> None:
        super().__init__(EXIT_REQUEUE)
        self.signame = signame


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM/SIGUSR1 -> :class:`StopRequested` (the trainer installs its own handlers while it trains)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise StopRequested(signal.Signals(signum).name)

    sigs = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGUSR1", None)) if s is not None]
    old = {s: signal.signal(s, handler) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


def _default_train() -> Callable[..., RunRecord]:
    from ..training import train

    return train


def run_one(spec: RunSpec, data_root: str | Path, records_dir: str | Path, *,
            train_fn: Callable[..., RunRecord] | None = None, threads: int | None = None,
            stale_after: float = STALE_AFTER, log: Callable[[str], None] | None = None) -> str:
    """Train one run unless it is finished or another live worker holds it.

    Parameters
    ----------
    spec : RunSpec
        The run.
    data_root : path
        So2Sat LCZ42 data folder (official HDF5 layout).
    records_dir : path
        Records directory of the campaign (records, checkpoints, locks).
    train_fn : callable, optional
        ``train(spec, data_root, out_dir, threads=...) -> RunRecord``; default
        :func:`surrogate_eo.training.train`.
    threads : int, optional
        CPU threads per run (passed to the trainer).
    stale_after : float, default=600
        Seconds without heartbeat after which another host's lock is broken.
    log : callable, optional
        Receives one line per event.

    Returns
    -------
    str
        ``"skipped"`` (already finished), ``"locked"`` (another worker trains it),
        or the record's status (``ok``, ``diverged``, ``failed``).

    Raises
    ------
    SystemExit
        Code 75 after a preemption signal (checkpoint written, lock released).
    """
    say = log or (lambda msg: None)
    records_dir = Path(records_dir)
    rec_path = record_file(records_dir, spec.run_id)
    if finished_status(rec_path, spec.run_id) is not None:
        return SKIPPED
    lock = RunLock(lock_file(records_dir, spec.run_id), stale_after=stale_after)
    if not lock.acquire():
        say(f"{spec.run_id} locked by another worker; left to it")
        return LOCKED
    try:
        if finished_status(rec_path, spec.run_id) is not None:  # finished while we took the lock
            return SKIPPED
        for tmp in records_dir.glob(f".{spec.run_id}.*.tmp"):  # a killed owner's interrupted writes
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        t0 = time.perf_counter()
        say(f"{spec.run_id} start {spec.task} seed={spec.seed} {spec.arch}")
        kw: dict[str, Any] = {"threads": threads} if threads is not None else {}
        if train_fn is None:
            def on_event(event: str, info: dict[str, Any]) -> None:
                if event == "start" and (info.get("epoch") or info.get("batch")):
                    say(f"{spec.run_id} resumed from its checkpoint at epoch {info['epoch']}, batch {info['batch']}")

            kw["callback"] = on_event
        train = train_fn or _default_train()
        rec = train(spec, data_root, records_dir, **kw)
        if finished_status(rec_path, spec.run_id) is None:  # a train_fn that only returns the record
            rec.save(rec_path)
        say(f"{spec.run_id} {rec.status} in {time.perf_counter() - t0:.1f} s"
            + (f" val_acc={rec.final.get('val_acc', float('nan')):.4f}" if rec.final else ""))
        return rec.status
    finally:
        lock.release()


def run_chunk(manifest: Any, run_indices: list[int], data_root: str | Path, records_dir: str | Path,
              **kw: Any) -> Counter[str]:
    """Run :func:`run_one` over ``run_indices`` of ``manifest``; counts of each outcome.

    SIGTERM/SIGUSR1 stop the chunk with ``SystemExit(75)`` (see the module docstring).
    """
    counts: Counter[str] = Counter()
    with stop_on_signals():
        for i in run_indices:
            counts[run_one(manifest.spec(i), data_root, records_dir, **kw)] += 1
    return counts


def requeue_self() -> bool:
    """Ask SLURM to requeue the current job / array task; True when ``scontrol`` accepted."""
    job, _ = slurm_identity()
    if not job:
        return False
    try:
        res = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"[surrogate-eo worker] scontrol requeue {job} failed: {exc}", file=sys.stderr, flush=True)
        return False
    if res.returncode != 0:
        print(f"[surrogate-eo worker] scontrol requeue {job} failed: {res.stderr.strip()}", file=sys.stderr,
              flush=True)
    return res.returncode == 0


def array_task(manifest_path: str | Path, task: int, offset: int, runs_per_task: int, data_root: str | Path,
               records_dir: str | Path, *, requeue: bool = True, threads: int | None = None) -> int:
    """Entry point of one SLURM array task; returns the process exit status.

    Trains runs ``[(offset + task) * R, (offset + task + 1) * R)`` of the manifest.
    0 = chunk done (every run finished or left to a live worker), 75 = interrupted
    and (with ``requeue``) requeued, 1 = a run could not start (bad data, ...).
    """
    from .manifest import Manifest

    def log(msg: str) -> None:
        print(f"[surrogate-eo worker {time.strftime('%H:%M:%S')}] {msg}", flush=True)

    manifest = Manifest.read(manifest_path)
    runs = manifest.chunk(offset + task, runs_per_task)
    job, restart = slurm_identity()
    log(f"task {offset + task} (job {job or '-'}, restart {restart}) on {os.uname().nodename}: runs {runs}")
    try:
        counts = run_chunk(manifest, runs, data_root, records_dir, threads=threads, log=log)
    except SystemExit as exc:
        if exc.code == EXIT_REQUEUE:
            # SIGUSR1 is the pre-timeout signal we asked for (--signal=B:USR1@N): requeue ourselves.
            # SIGTERM comes from scancel (must stay cancelled) or from SLURM preemption (which
            # requeues --requeue jobs itself): just stop.
            signame = getattr(exc, "signame", "")
            again = requeue and bool(job) and signame == "SIGUSR1"
            log(f"interrupted by a signal ({signame or 'unknown'}): checkpoint kept, lock released"
                + ("; requeueing" if again else ""))
            if again:
                requeue_self()
            return EXIT_REQUEUE
        raise
    except SurrogateEOError as exc:
        log("error: " + " ".join(str(exc).split()))
        return 1
    log("done: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0
