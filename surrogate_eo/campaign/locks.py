"""Per-run lock files: two workers never train the same run at once.

A lock is a small JSON file created with ``O_CREAT | O_EXCL`` (atomic on
POSIX and on NFSv3+ shared file systems) holding its owner: host, pid, the
pid's start time (so a recycled pid is not mistaken for the owner), the SLURM
job/array task and restart count, and a random token. While held, a daemon
thread refreshes the file's mtime every ``heartbeat`` seconds.

A lock is **stale**, and may be broken, when

- its owner ran on this host and that process is gone, is a zombie (killed
  but not yet reaped), or the pid now belongs to another process;
- its owner was an earlier incarnation of this same SLURM array task (a
  requeued task finds the lock of its preempted self);
- its owner ran on another host and the heartbeat is older than ``stale_after``
  seconds (default 10 min);
- it is empty or unreadable and older than 60 s (a crash between create and write).

Breaking is serialised by a second ``O_EXCL`` file (``<lock>.break``) and the
staleness is re-checked under it, so two workers that both see a stale lock
cannot both take the run.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

#: Seconds without a heartbeat after which another host's lock is stale.
STALE_AFTER = 600.0
#: Seconds between heartbeats (mtime refreshes) of a held lock.
HEARTBEAT = 30.0
#: Age after which an empty/garbled lock or a leftover ``.break`` file is removed.
_GARBLED_AFTER = 60.0

_HOST = socket.gethostname()


def _proc_start(pid: int) -> int | None:
    """Start time of process ``pid`` in clock ticks since boot (Linux), None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _proc_state(pid: int) -> str | None:
    """One-letter state of process ``pid`` from ``/proc`` (``R``, ``S``, ``Z``...), None when unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _alive(pid: int) -> bool:
    """True while ``pid`` runs. A zombie (exited, not yet reaped: state ``Z`` or ``X``) is dead.

    ``os.kill(pid, 0)`` succeeds for a zombie, so it alone would keep a killed
    worker's lock forever in containers whose PID 1 does not reap orphans.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return _proc_state(pid) not in ("Z", "X")


def slurm_identity() -> tuple[str, int]:
    """``("ARRAYJOB_TASK" or "JOBID" or "", restart count)`` of the current SLURM job."""
    env = os.environ
    job = env.get("SLURM_ARRAY_JOB_ID")
    key = f"{job}_{env.get('SLURM_ARRAY_TASK_ID', '')}" if job else env.get("SLURM_JOB_ID", "")
    return key, int(env.get("SLURM_RESTART_COUNT", "0") or 0)


def owner_info() -> dict[str, Any]:
    """The owner fields written into a lock by this process."""
    job, restart = slurm_identity()
    return {"host": _HOST, "pid": os.getpid(), "pid_start": _proc_start(os.getpid()), "time": time.time(),
            "slurm_job": job, "restart": restart, "token": uuid.uuid4().hex}


def read_lock(path: Path) -> dict[str, Any] | None:
    """Owner dict of a lock file; None when it is missing, empty or garbled."""
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def is_stale(path: Path, stale_after: float = STALE_AFTER) -> bool:
    """True when the lock at ``path`` exists and its owner is gone (see module docstring)."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    info = read_lock(path)
    if info is None:
        return age > _GARBLED_AFTER
    job, restart = slurm_identity()
    if job and info.get("slurm_job") == job and int(info.get("restart", -1)) != restart:
        return True
    if info.get("host") == _HOST:
        pid = int(info.get("pid", -1))
        if pid <= 0 or not _alive(pid):
            return True
        start = info.get("pid_start")
        now_start = _proc_start(pid)
        return start is not None and now_start is not None and start != now_start
    return age > stale_after


class _Heartbeat:
    """One daemon thread per process touching every held lock."""

    def __init__(self) -> None:
        self.paths: set[Path] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.interval = HEARTBEAT
        self.wake = threading.Event()

    def add(self, path: Path, interval: float) -> None:
        with self.lock:
            self.paths.add(path)
            if interval < self.interval:
                self.interval = interval
                self.wake.set()
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="surrogate-eo-lock-heartbeat", daemon=True)
                self.thread.start()

    def discard(self, path: Path) -> None:
        with self.lock:
            self.paths.discard(path)

    def _run(self) -> None:
        while True:
            self.wake.wait(self.interval)
            self.wake.clear()
            with self.lock:
                paths = list(self.paths)
            for p in paths:
                with contextlib.suppress(OSError):
                    os.utime(p)


_HEARTBEAT = _Heartbeat()


class RunLock:
    """An exclusive, stale-recoverable lock on one run.

    Parameters
    ----------
    path : path-like
        The lock file (``<records>/_locks/<run_id>.lock``).
    stale_after : float, default=600
        Seconds without heartbeat after which another host's lock counts as stale.
    heartbeat : float, default=30
        Seconds between mtime refreshes while held.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.lock"
    >>> a, b = RunLock(p), RunLock(p)
    >>> a.acquire(), b.acquire()
    (True, False)
    >>> a.release(); b.acquire()
    True
    >>> b.release()
    """

    def __init__(self, path: str | os.PathLike[str], stale_after: float = STALE_AFTER,
                 heartbeat: float = HEARTBEAT) -> None:
        self.path = Path(path)
        self.stale_after = float(stale_after)
        self.heartbeat = float(heartbeat)
        self.token: str | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self.token is not None

    def _create(self) -> bool:
        info = owner_info()
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, json.dumps(info).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.token = info["token"]
        _HEARTBEAT.add(self.path, self.heartbeat)
        return True

    def _break_stale(self) -> bool:
        """Remove the lock if it is stale, under the ``.break`` guard; True when removed."""
        guard = self.path.with_name(self.path.name + ".break")
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - guard.stat().st_mtime > _GARBLED_AFTER:
                    guard.unlink()
            return False
        os.close(fd)
        try:
            if is_stale(self.path, self.stale_after):
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                return True
            return False
        finally:
            with contextlib.suppress(FileNotFoundError):
                guard.unlink()

    def acquire(self) -> bool:
        """Take the lock if free or stale; False when another live owner holds it (never blocks)."""
        if self.held:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._create():
            return True
        return self._break_stale() and self._create()

    def release(self) -> None:
        """Give the lock back (only if the file is still ours)."""
        if self.token is None:
            return
        _HEARTBEAT.discard(self.path)
        info = read_lock(self.path)
        if info is not None and info.get("token") == self.token:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self.token = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
