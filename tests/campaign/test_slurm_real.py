"""A real SLURM cluster: array submission, preemption by SIGUSR1, requeue + resume, collect.

Needs ``sbatch`` on PATH and a responding controller (``../shared/ci/start-slurm.sh``);
skipped otherwise.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from surrogate_eo.campaign import Manifest, campaign_status, manifest_from_archs
from surrogate_eo.campaign.slurm import ACTIVE_STATES, squeue_states
from surrogate_eo.campaign.state import CampaignState
from surrogate_eo.database import Database
from surrogate_eo.records import RunRecord
from surrogate_eo.training import get_protocol


def _slurm_up() -> bool:
    if shutil.which("sbatch") is None or shutil.which("scontrol") is None:
        return False
    try:
        res = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0 and "UP" in res.stdout


pytestmark = [pytest.mark.slurm, pytest.mark.torch, pytest.mark.slow,
              pytest.mark.skipif(not _slurm_up(), reason="needs a running SLURM cluster (sbatch on PATH)")]


def _cli(*args: object, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "surrogate_eo.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


def test_array_preempt_requeue_resume_collect(tmp_path: Path, tiny_data: Path, cheap_archs, slow_arch,
                                              cli_env) -> None:
    archs = [cheap_archs[0], cheap_archs[1], slow_arch, cheap_archs[2], cheap_archs[3]]
    m = manifest_from_archs("eo", archs, ["so2sat-s2"], "smoke", name="slurmtest")
    mp = m.write(tmp_path / "m.parquet")
    rec = tmp_path / "records"
    slow_id = m.runs["run_id"].iloc[2]  # task 1 trains runs 2 (slow) and 3
    res = _cli("run", mp, "--executor", "slurm", "--data", tiny_data, "--records", rec, "--runs-per-task", 2,
               "--cpus-per-task", 1, "--signal-seconds", 60, "--max-parallel", 2, env=cli_env)
    assert res.returncode == 0, res.stderr
    (sub,) = CampaignState(rec).submissions()
    job = sub["job_id"]
    assert sub["n_tasks"] == 3
    try:
        # preempt array task 1 while it trains the slow run (after its first epoch checkpoint)
        deadline = time.time() + 180
        while not (rec / f"{slow_id}.ckpt").exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (rec / f"{slow_id}.ckpt").exists(), "the slow run never checkpointed"
        sig = subprocess.run(["scancel", "--signal=USR1", "--batch", f"{job}_1"], capture_output=True, text=True)
        assert sig.returncode == 0, sig.stderr
        # wait until no task of the job is active any more
        deadline = time.time() + 240
        seen_requeue = False
        while time.time() < deadline:
            states = squeue_states([job])
            seen_requeue |= states.get((job, 1)) == "PENDING" and not (rec / f"{slow_id}.json").exists()
            if states and not any(s in ACTIVE_STATES for s in states.values()):
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"array job {job} did not finish: {squeue_states([job])}")
    finally:
        subprocess.run(["scancel", job], capture_output=True)
    log = (rec / "_campaign" / "logs" / f"{job}_1.out").read_text()
    assert "restart 0" in log and "restart 1" in log, log
    assert "interrupted by a signal (SIGUSR1): checkpoint kept, lock released; requeueing" in log, log
    assert f"{slow_id} resumed from its checkpoint at epoch" in log, log
    assert log.count(f"{slow_id} ok in") == 1, log
    st = campaign_status(rec)
    assert st.counts["ok"] == 5, st.runs
    r = RunRecord.load(rec / f"{slow_id}.json")
    assert r.status == "ok" and len(r.epochs) == get_protocol("smoke").epochs
    out = tmp_path / "db.parquet"
    res = _cli("collect", rec, "--out", out, "--json", env=cli_env)
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["runs"] == 5 and rep["missing"] == 0 and rep["duplicates"] == 0 and rep["quarantined"] == []
    db = Database.read(out)
    assert sorted(db.runs["run_id"]) == sorted(Manifest.read(mp).runs["run_id"])
    assert not db.runs["run_id"].duplicated().any() and set(db.runs["status"]) == {"ok"}
    assert seen_requeue or "restart 1" in log


def _wait_done(job: str, timeout: float = 240) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = squeue_states([job])
        if states and not any(s in ACTIVE_STATES for s in states.values()):
            return states
        time.sleep(0.5)
    pytest.fail(f"array job {job} did not finish: {squeue_states([job])}")


def test_cancel_stays_cancelled_then_resubmit(tmp_path: Path, tiny_data: Path, slow_arch, cli_env) -> None:
    m = manifest_from_archs("eo", [slow_arch], ["so2sat-s2"], "smoke", name="canceltest")
    mp = m.write(tmp_path / "m.parquet")
    rec = tmp_path / "records"
    rid = m.runs["run_id"].iloc[0]
    res = _cli("run", mp, "--executor", "slurm", "--data", tiny_data, "--records", rec, "--cpus-per-task", 1,
               env=cli_env)
    assert res.returncode == 0, res.stderr
    job = CampaignState(rec).submissions()[0]["job_id"]
    try:
        deadline = time.time() + 180
        while not (rec / f"{rid}.ckpt").exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (rec / f"{rid}.ckpt").exists()
        res = _cli("cancel", "--records", rec, env=cli_env)
        assert res.returncode == 0 and f"cancelled {job}" in res.stdout, res.stdout + res.stderr
        states = _wait_done(job)
        assert states[(job, 0)] == "CANCELLED", states
        time.sleep(2)  # a wrongly requeued task would show up as PENDING again
        assert squeue_states([job])[(job, 0)] == "CANCELLED"
    finally:
        subprocess.run(["scancel", job], capture_output=True)
    assert not (rec / f"{rid}.json").exists() and (rec / f"{rid}.ckpt").exists()
    assert campaign_status(rec).counts["planned"] == 1
    res = _cli("resubmit", "--records", rec, env=cli_env)
    assert res.returncode == 0 and "resubmitted 1 run(s)" in res.stdout, res.stdout + res.stderr
    job2 = CampaignState(rec).submissions()[-1]["job_id"]
    try:
        _wait_done(job2)
    finally:
        subprocess.run(["scancel", job2], capture_output=True)
    log = (rec / "_campaign" / "logs" / f"{job2}_0.out").read_text()
    assert f"{rid} resumed from its checkpoint" in log, log
    assert campaign_status(rec).counts["ok"] == 1
