"""Local executor: a pool of worker processes on this machine.

:func:`run_local` trains every run of a manifest that has no finished record,
with ``workers`` processes (``spawn``\\ ed, so torch is never forked) fed one
run at a time over a pipe. Each process sets its CPU thread count before torch
is imported (``threads`` per run; by default the machine's cores divided
among the workers), and takes the per-run lock like a SLURM worker does, so a
local run and a cluster run of the same records directory never collide.

Robustness:

- a worker process that dies (OOM killer, ``kill -9``) costs only its current
  run: the executor reports it as ``killed``, starts a replacement and goes on;
  rerunning the same command trains what is missing (the dead run resumes from
  its last checkpoint, its lock is recognised as stale);
- Ctrl-C (or SIGTERM to the executor) sends SIGTERM to the workers, which
  checkpoint at the next batch and exit; records are atomic, so nothing
  half-written is left; :class:`Interrupted` is raised when they are down.
"""
from __future__ import annotations

import os
import signal
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from ..errors import SurrogateEOError
from .locks import STALE_AFTER
from .worker import EXIT_REQUEUE, finished_status, record_file

#: Outcome of a run whose worker process died before reporting.
KILLED = "killed"


class Interrupted(KeyboardInterrupt):
    """Raised by :func:`run_local` after Ctrl-C once every worker has checkpointed and exited."""


@dataclass
class LocalResult:
    """Outcome of :func:`run_local`: counts per outcome and the runs whose worker died."""

    counts: Counter[str] = field(default_factory=Counter)
    killed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    already_done: int = 0
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """True when every run finished (nothing killed, locked elsewhere or failed to start)."""
        return not self.killed and not self.errors and not self.counts.get("locked")


def default_threads(workers: int) -> int:
    """CPU threads per run: the machine's cores (or SLURM's allocation) divided among ``workers``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, workers))


def _serve(conn: Connection, manifest_path: str, data_root: str, records_dir: str, threads: int,
           stale_after: float) -> None:
    """Body of one worker process: receive run indices, train, report ``(kind, index, outcome, error)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's job: it sends SIGTERM
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "SURROGATE_EO_THREADS"):
        os.environ[var] = str(threads)
    from .._memory import release_memory
    from .manifest import Manifest
    from .worker import run_one, stop_on_signals

    manifest = Manifest.read(manifest_path)
    try:
        with stop_on_signals():
            while True:
                idx = conn.recv()
                if idx is None:
                    return
                try:
                    out = run_one(manifest.spec(idx), data_root, records_dir, threads=threads,
                                  stale_after=stale_after)
                except SurrogateEOError as exc:
                    conn.send(("error", idx, None, " ".join(str(exc).split())))
                    return
                release_memory()
                conn.send(("done", idx, out, None))
    except SystemExit as exc:
        if exc.code == EXIT_REQUEUE:
            os._exit(EXIT_REQUEUE)
        raise
    except EOFError:
        return


@dataclass
class _Slot:
    proc: Any
    conn: Connection
    current: int | None = None


def run_local(manifest: Any, data_root: str | Path, records_dir: str | Path, *, workers: int = 1,
              threads: int | None = None, progress: bool = True, stale_after: float = STALE_AFTER,
              remember: bool = True) -> LocalResult:
    """Train every unfinished run of ``manifest`` with a local process pool.

    Parameters
    ----------
    manifest : Manifest or path
        The campaign manifest (a path is needed by the worker processes; a Manifest
        object must have been written to ``manifest.meta["path"]``).
    data_root : path
        So2Sat LCZ42 data folder.
    records_dir : path
        Where records, checkpoints and locks go.
    workers : int, default=1
        Worker processes.
    threads : int, optional
        CPU threads per run (default :func:`default_threads`).
    progress : bool, default=True
        Show a rich progress bar on a terminal, plain ``done/total, ETA`` lines otherwise
        (:class:`~surrogate_eo._progress.Progress`).
    stale_after : float, default=600
        Seconds after which another host's lock counts as stale.
    remember : bool, default=True
        Record the manifest and data root as the campaign of ``records_dir`` (for
        ``status`` / ``collect``); resubmissions of a sub-manifest pass False.

    Returns
    -------
    LocalResult

    Raises
    ------
    Interrupted
        After Ctrl-C / SIGTERM, once the workers have checkpointed and exited.
    SurrogateEOError
        When a run cannot start (e.g. data folder without the task's files).
    """
    from .manifest import Manifest

    if isinstance(manifest, Manifest):
        path = manifest.meta.get("path")
        if not path:
            raise SurrogateEOError("run_local needs a manifest path or a Manifest read from a file")
        m = manifest
    else:
        path, m = str(manifest), Manifest.read(manifest)
    if int(workers) < 1:
        raise SurrogateEOError(f"workers must be an integer >= 1, got {workers!r}")
    records_dir = Path(records_dir)
    records_dir.mkdir(parents=True, exist_ok=True)
    if remember:
        from .state import CampaignState

        CampaignState(records_dir).save_campaign(path, data_root, "local")
    threads = threads or default_threads(workers)
    result = LocalResult()
    t0 = time.perf_counter()
    runs = m.runs
    todo = deque(i for i, rid in enumerate(runs["run_id"]) if finished_status(record_file(records_dir, rid)) is None)
    result.already_done = m.n_runs - len(todo)
    if not todo:
        return result
    ctx = get_context("spawn")
    slots: list[_Slot] = []

    def spawn() -> None:
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_serve, args=(child, str(path), str(data_root), str(records_dir), threads,
                                             stale_after), daemon=False)
        p.start()
        child.close()
        slots.append(_Slot(p, parent))

    from .._progress import Progress

    # a bar on a terminal; plain "done/total, ETA" lines every few seconds when stdout is a pipe or file
    bar = Progress(f"training {m.name}", m.n_runs, enabled=progress, done=result.already_done, unit="runs")
    old_term = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    total = len(todo)
    try:
        with bar:
            for _ in range(min(int(workers), total)):
                spawn()
            while slots:
                for s in slots:
                    if s.current is None:
                        nxt = todo.popleft() if todo else None
                        try:
                            s.conn.send(nxt)
                        except OSError:  # the process died: its sentinel is handled below
                            if nxt is not None:
                                todo.appendleft(nxt)
                            nxt = None
                        s.current = -1 if nxt is None else nxt
                ready = wait([s.conn for s in slots] + [s.proc.sentinel for s in slots])
                for s in list(slots):
                    eof = False
                    if s.conn in ready:
                        try:
                            msg = s.conn.recv()
                        except (EOFError, OSError):
                            msg, eof = None, True
                        if msg is not None:
                            kind, idx, out, err = msg
                            if kind == "error":
                                rid = runs["run_id"].iloc[idx]
                                result.errors.append(f"{rid}: {err}")
                                raise SurrogateEOError(f"run {rid} could not start: {err}")
                            result.counts[out] += 1
                            s.current = None
                            bar.advance(1, info=_fmt(result.counts))
                            continue
                    if eof or s.proc.sentinel in ready:
                        if not eof and s.conn.poll():
                            continue  # read its last message first
                        s.proc.join()
                        if s.current is not None and s.current >= 0:
                            result.killed.append(str(runs["run_id"].iloc[s.current]))
                            result.counts[KILLED] += 1
                            bar.advance(1, info=_fmt(result.counts))
                        slots.remove(s)
                        s.conn.close()
                        if todo:
                            spawn()
    except KeyboardInterrupt:
        _shutdown(slots)
        raise Interrupted("interrupted: workers checkpointed and stopped; rerun the same command to resume") from None
    except BaseException:
        _shutdown(slots)
        raise
    finally:
        signal.signal(signal.SIGTERM, old_term)
        result.seconds = time.perf_counter() - t0
    return result


def _fmt(counts: Counter[str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def _shutdown(slots: list[_Slot], timeout: float = 60.0) -> None:
    """SIGTERM every live worker (they checkpoint and exit), wait, then SIGKILL stragglers."""
    for s in slots:
        if s.proc.is_alive():
            os.kill(s.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for s in slots:
        s.proc.join(max(0.0, deadline - time.monotonic()))
        if s.proc.is_alive():
            s.proc.kill()
            s.proc.join()
