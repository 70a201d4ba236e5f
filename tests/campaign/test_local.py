"""Local execution with real (tiny) training: concurrent workers, killed workers, Ctrl-C."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from surrogate_eo.campaign import Manifest, collect, manifest_from_archs
from surrogate_eo.records import RunRecord
from surrogate_eo.training import get_protocol

pytestmark = pytest.mark.torch
pytest.importorskip("torch")


def _cmd(*args: object) -> list[str]:
    return [sys.executable, "-m", "surrogate_eo.cli", *map(str, args)]


def _check_db(rec: Path, m: Manifest, tmp_path: Path) -> None:
    """Exactly the planned runs, no duplicates, nothing corrupt, nothing half-written."""
    db, rep = collect(rec, tmp_path / "db.parquet", manifest=m)
    assert sorted(db.runs["run_id"]) == sorted(m.runs["run_id"])
    assert rep.duplicates == 0 and not rep.conflicts and rep.quarantined == [] and rep.in_progress == []
    assert rep.missing == 0 and set(db.runs["status"]) == {"ok"}
    assert (db.runs["n_epochs"] == get_protocol("smoke").epochs).all()
    assert not list(rec.glob(".*.tmp")) and not list((rec / "_locks").glob("*.lock"))


def test_two_workers_same_chunk_train_each_run_once(tmp_path: Path, tiny_data: Path, cheap_archs, cli_env) -> None:
    m = manifest_from_archs("eo", cheap_archs[:6], ["so2sat-s2"], "smoke")
    mp = m.write(tmp_path / "m.parquet")
    rec = tmp_path / "rec"
    args = ("worker", "--manifest", mp, "--task", 0, "--runs-per-task", 6, "--data", tiny_data, "--records", rec,
            "--threads", 1)
    procs = [subprocess.Popen(_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=cli_env)
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    starts = Counter(re.findall(r"\] ([0-9a-f]{16}) start ", "".join(outs)))
    assert starts == Counter({rid: 1 for rid in m.runs["run_id"]}), outs
    _check_db(rec, m, tmp_path)


@pytest.mark.slow
def test_local_executor_survives_killed_workers(tmp_path: Path, tiny_data: Path, cheap_archs, cli_env) -> None:
    m = manifest_from_archs("eo", cheap_archs[:10], ["so2sat-s2"], "smoke")
    mp = m.write(tmp_path / "m.parquet")
    rec = tmp_path / "rec"
    victims = set(np.random.default_rng(4).choice(m.runs["run_id"], size=2, replace=False))  # 20 % of the runs
    run = _cmd("run", mp, "--executor", "local", "--workers", 2, "--threads", 1, "--data", tiny_data,
               "--records", rec, "--no-progress")
    proc = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=cli_env)
    killed: set[str] = set()
    deadline = time.time() + 300
    while proc.poll() is None and time.time() < deadline:
        for lk in (rec / "_locks").glob("*.lock"):
            rid = lk.stem
            if rid in victims and rid not in killed:
                try:
                    pid = int(json.loads(lk.read_text())["pid"])
                except (OSError, ValueError, KeyError):
                    continue  # being written
                os.kill(pid, signal.SIGKILL)
                killed.add(rid)
        time.sleep(0.05)
    out = proc.communicate(timeout=60)[0]
    assert killed == victims, out
    # a kill lands on the victim's run, or (rarely, if it just finished) on its process's next run
    k = int(re.search(r"killed=(\d+)", out).group(1)) if "killed=" in out else 0
    assert proc.returncode == 1 and 1 <= k <= 2, out
    # the rerun trains exactly what is missing (the dead runs' locks are stale)
    again = subprocess.run(run, capture_output=True, text=True, env=cli_env, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{10 - k} already finished" in again.stdout and f"ok={k}" in again.stdout
    _check_db(rec, m, tmp_path)
    st = subprocess.run(_cmd("status", "--records", rec, "--json"), capture_output=True, text=True, env=cli_env)
    assert json.loads(st.stdout)["counts"] == {"ok": 10, "diverged": 0, "failed": 0, "running": 0, "queued": 0,
                                                "planned": 0}


def _ctrl_c_enabled() -> None:
    """A shell without job control starts background jobs with SIGINT ignored; the CLI must see Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_checkpoints_and_resumes(tmp_path: Path, tiny_data: Path, slow_arch, cli_env) -> None:
    m = manifest_from_archs("eo", [slow_arch], ["so2sat-s2"], "smoke")
    mp = m.write(tmp_path / "m.parquet")
    rec = tmp_path / "rec"
    rid = m.runs["run_id"].iloc[0]
    run = _cmd("run", mp, "--workers", 1, "--threads", 1, "--data", tiny_data, "--records", rec, "--no-progress")
    proc = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=cli_env,
                            start_new_session=True, preexec_fn=_ctrl_c_enabled)
    deadline = time.time() + 120
    while not (rec / f"{rid}.ckpt").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert (rec / f"{rid}.ckpt").exists(), "no checkpoint after the first epoch"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground process group
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130 and "interrupted" in out, out
    assert not (rec / f"{rid}.json").exists() and (rec / f"{rid}.ckpt").exists()
    assert not list(rec.glob(".*.tmp")) and not list((rec / "_locks").glob("*.lock"))
    again = subprocess.run(run, capture_output=True, text=True, env=cli_env, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    r = RunRecord.load(rec / f"{rid}.json")
    assert r.status == "ok" and len(r.epochs) == get_protocol("smoke").epochs
