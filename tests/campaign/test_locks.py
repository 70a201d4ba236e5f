"""Per-run locks: exclusive, stale-lock recovery, never two owners."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from surrogate_eo.campaign import locks as locks_mod
from surrogate_eo.campaign.locks import RunLock, is_stale, owner_info, read_lock


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _write(path: Path, **fields: object) -> None:
    info = owner_info()
    info.update(fields)
    path.write_text(json.dumps(info))


def test_exclusive_and_release(tmp_path: Path) -> None:
    p = tmp_path / "r.lock"
    a, b = RunLock(p), RunLock(p)
    assert a.acquire() and not b.acquire()
    info = read_lock(p)
    assert info["pid"] == os.getpid() and info["host"] == socket.gethostname() and info["token"] == a.token
    a.release()
    assert not p.exists()
    with b:
        assert b.acquire() and p.exists()
    assert not p.exists()


def test_release_leaves_a_lock_that_is_not_ours(tmp_path: Path) -> None:
    p = tmp_path / "r.lock"
    a = RunLock(p)
    assert a.acquire()
    _write(p, token="someone-else")
    a.release()
    assert p.exists()


def test_dead_owner_on_this_host_is_stale(tmp_path: Path) -> None:
    p = tmp_path / "r.lock"
    _write(p, pid=_dead_pid())
    assert is_stale(p)
    lk = RunLock(p)
    assert lk.acquire() and read_lock(p)["pid"] == os.getpid()
    lk.release()


def test_recycled_pid_is_stale(tmp_path: Path) -> None:
    p = tmp_path / "r.lock"
    _write(p, pid_start=1)  # our pid, but a process that started at another time
    assert is_stale(p)
    _write(p)
    assert not is_stale(p)


def test_previous_incarnation_of_same_slurm_task_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "r.lock"
    _write(p, host="node-a", slurm_job="77_3", restart=0)
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "77")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert is_stale(p)
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "4")  # another task's lock on another host: heartbeat rules
    assert not is_stale(p)


def test_other_host_stale_only_without_heartbeat(tmp_path: Path) -> None:
    p = tmp_path / "r.lock"
    _write(p, host="elsewhere", pid=1)
    assert not is_stale(p, stale_after=600)
    old = time.time() - 700
    os.utime(p, (old, old))
    assert is_stale(p, stale_after=600)
    assert RunLock(p, stale_after=600).acquire()


def test_garbled_lock(tmp_path: Path) -> None:
    p = tmp_path / "r.lock"
    p.write_text("")
    assert not is_stale(p)  # maybe being written right now
    old = time.time() - 120
    os.utime(p, (old, old))
    assert is_stale(p)


def test_heartbeat_refreshes_mtime(tmp_path: Path) -> None:
    p = tmp_path / "r.lock"
    lk = RunLock(p, heartbeat=0.05)
    assert lk.acquire()
    old = time.time() - 1000
    os.utime(p, (old, old))
    deadline = time.time() + 5
    while p.stat().st_mtime < time.time() - 100 and time.time() < deadline:
        time.sleep(0.05)
    assert p.stat().st_mtime > time.time() - 100
    lk.release()


_RACER = """
import importlib.util, os, sys, time
spec = importlib.util.spec_from_file_location("locks", sys.argv[4])  # stdlib only: fast start
locks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(locks)
RunLock = locks.RunLock
path, start, release = sys.argv[1], float(sys.argv[2]), sys.argv[3]
time.sleep(max(0.0, start - time.time()))
lk = RunLock(path)
print("WON" if lk.acquire() else "LOST", flush=True)
deadline = time.time() + 60
while not os.path.exists(release) and time.time() < deadline:  # hold until every racer has tried
    time.sleep(0.02)
"""


@pytest.mark.parametrize("stale_first", [False, True])
def test_processes_race_one_winner(tmp_path: Path, stale_first: bool) -> None:
    p = tmp_path / "r.lock"
    release = tmp_path / "release"
    if stale_first:  # all racers find a stale lock and try to break it at once
        _write(p, pid=_dead_pid())
    start = time.time() + 0.5
    procs = [subprocess.Popen([sys.executable, "-c", _RACER, str(p), str(start), str(release), locks_mod.__file__],
                              stdout=subprocess.PIPE, text=True) for _ in range(6)]
    outs = [pr.stdout.readline().strip() for pr in procs]
    release.touch()
    for pr in procs:
        pr.wait(timeout=60)
    assert sorted(outs) == ["LOST"] * 5 + ["WON"]


def test_zombie_owner_is_dead(tmp_path: Path) -> None:
    """A killed but unreaped owner (a zombie still answers kill(pid, 0)) does not keep its lock."""
    import json
    import signal
    import subprocess
    import sys

    from surrogate_eo.campaign import locks

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = locks._proc_start(child.pid)
        lock = tmp_path / "run.lock"
        info = {**locks.owner_info(), "pid": child.pid, "pid_start": start}
        lock.write_text(json.dumps(info))
        assert not locks.is_stale(lock)            # alive: the lock holds
        os.kill(child.pid, signal.SIGKILL)
        for _ in range(200):                       # wait until the kernel marks it a zombie; do NOT reap it
            if locks._proc_state(child.pid) == "Z":
                break
            time.sleep(0.01)
        assert locks._proc_state(child.pid) == "Z"
        os.kill(child.pid, 0)                      # still "exists" for kill(0) ...
        assert locks.is_stale(lock)                # ... but the lock is stale
        assert locks.RunLock(lock).acquire()
    finally:
        child.kill()
        child.wait()
