"""sbatch rendering, array splitting, submission bookkeeping, status/cancel/resubmit (fake SLURM tools)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from surrogate_eo.campaign import (SlurmOptions, campaign_status, manifest_from_archs, resubmit, submit)
from surrogate_eo.campaign.locks import RunLock
from surrogate_eo.campaign.slurm import cancel, render, split_arrays, time_seconds
from surrogate_eo.campaign.state import CampaignState
from surrogate_eo.campaign.worker import lock_file
from surrogate_eo.errors import SlurmError
from surrogate_eo.spaces import get_space


@pytest.mark.parametrize(("text", "secs"), [("90", 5400), ("10:30", 630), ("04:00:00", 14400), ("1-12", 129600),
                                            ("2-00:30", 174600), ("1-00:00:10", 86410)])
def test_time_seconds(text: str, secs: int) -> None:
    assert time_seconds(text) == secs


def test_split_arrays() -> None:
    assert split_arrays(2500, 1001) == [(0, 1001), (1001, 1001), (2002, 498)]
    assert split_arrays(5, 1001) == [(0, 5)]
    assert split_arrays(6, 3) == [(0, 3), (3, 3)]


def test_options_validation() -> None:
    with pytest.raises(SlurmError, match="--time 00:04:00 must be longer"):
        SlurmOptions(time="00:04:00", signal_seconds=300).validate()
    with pytest.raises(SlurmError, match="--runs-per-task"):
        SlurmOptions(runs_per_task=0).validate()
    with pytest.raises(SlurmError, match="--partition"):
        SlurmOptions(partition="gpu; rm -rf /").validate()
    with pytest.raises(SlurmError, match="not a SLURM time limit"):
        SlurmOptions(time="4h").validate()
    with pytest.raises(SlurmError, match="unknown placeholder"):
        render("{{nope}}", {})


def _manifest(tmp_path: Path, n: int) -> Path:
    space = get_space("eo")
    m = manifest_from_archs("eo", space.sample(n, seed=1), ["so2sat-s2"], "smoke", name="t")
    return m.write(tmp_path / "m.parquet")


def test_dry_run_splits_and_chains(tmp_path: Path) -> None:
    mp = _manifest(tmp_path, 2500)
    opts = SlurmOptions(partition="gpu", gres="gpu:1", time="04:00:00", max_parallel=5, cpus_per_task=8,
                        extra=["--qos=long"], setup="module load cuda", stage="$TMPDIR")
    subs = submit(mp, tmp_path / "data", tmp_path / "rec", opts, dry_run=True, max_array=1001)
    assert [(s.offset, s.n_tasks) for s in subs] == [(0, 1001), (1001, 1001), (2002, 498)]
    assert subs[0].command[:2] == ["sbatch", "--parsable"] and "--dependency=afterany:DRYRUN-0" in subs[1].command
    for s in subs:
        text = Path(s.script).read_text()
        assert f"#SBATCH --array=0-{s.n_tasks - 1}%5" in text
        assert f"--offset {s.offset} --runs-per-task 1" in text
        for line in ("#SBATCH --partition=gpu", "#SBATCH --gres=gpu:1", "#SBATCH --time=04:00:00",
                     "#SBATCH --cpus-per-task=8", "#SBATCH --qos=long", "#SBATCH --requeue",
                     "#SBATCH --signal=B:USR1@300", "module load cuda", 'STAGE="$TMPDIR"'):
            assert line in text
        assert "{{" not in text
        assert subprocess.run(["bash", "-n", s.script]).returncode == 0
    assert not (tmp_path / "rec" / "_campaign" / "submissions.jsonl").exists()
    # without --max-parallel the arrays are independent
    subs = submit(mp, tmp_path / "data", tmp_path / "rec", SlurmOptions(runs_per_task=3), dry_run=True, max_array=400)
    assert sum(s.n_tasks for s in subs) == 834 and not any("--dependency" in " ".join(s.command) for s in subs)


@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """sbatch/squeue/scontrol/scancel stand-ins that log their calls under tmp_path/slurm."""
    d = tmp_path / "slurm"
    (d / "bin").mkdir(parents=True)
    scripts = {
        "sbatch": 'n=$(cat "$D/next" 2>/dev/null || echo 100); echo $((n+1)) > "$D/next"; '
                  'echo "$@" >> "$D/sbatch.log"; echo "$n"',
        "squeue": 'cat "$D/squeue.out" 2>/dev/null; true',
        "scontrol": 'echo "MaxArraySize            = 3"',
        "scancel": 'echo "$@" >> "$D/scancel.log"',
    }
    for name, body in scripts.items():
        p = d / "bin" / name
        p.write_text(f'#!/bin/bash\nD={d}\n{body}\n')
        p.chmod(0o755)
    monkeypatch.setenv("PATH", f"{d / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return d


def test_submit_status_cancel_resubmit(tmp_path: Path, fake_slurm: Path, make_record) -> None:
    mp = _manifest(tmp_path, 7)
    rec = tmp_path / "rec"
    subs = submit(mp, tmp_path / "data", rec, SlurmOptions(cpus_per_task=1, time="10"), max_array=None)
    assert [(s.job_id, s.offset, s.n_tasks) for s in subs] == [("100", 0, 3), ("101", 3, 3), ("102", 6, 1)]
    assert len(CampaignState(rec).submissions()) == 3
    assert CampaignState(rec).manifest_path() == mp.resolve()
    from surrogate_eo.campaign import Manifest

    m = Manifest.read(mp)
    specs = m.specs()
    # run 0: a live lock; run 1: queued (task 1 of job 100 pending); run 2: ok; run 3: failed; 4-6: lost
    lk = RunLock(lock_file(rec, specs[0].run_id))
    assert lk.acquire()
    (fake_slurm / "squeue.out").write_text("100|0|RUNNING\n100|1|PENDING\n100|2|COMPLETED\n999|0|RUNNING\n")
    make_record(specs[2].arch, protocol_hash=specs[2].protocol_hash).save(rec / f"{specs[2].run_id}.json")
    make_record(specs[3].arch, protocol_hash=specs[3].protocol_hash, status="failed", epochs=0).save(
        rec / f"{specs[3].run_id}.json")
    st = campaign_status(rec)
    assert list(st.runs["state"]) == ["running", "queued", "ok", "failed", "planned", "planned", "planned"]
    assert st.counts == {"ok": 1, "diverged": 0, "failed": 1, "running": 1, "queued": 1, "planned": 3}
    assert st.jobs["100"] == {"RUNNING": 1, "PENDING": 1, "COMPLETED": 1}
    assert cancel(rec) == ["100"]
    assert (fake_slurm / "scancel.log").read_text().split() == ["100"]
    ids, subs = resubmit(rec)
    assert set(ids) == {specs[i].run_id for i in (3, 4, 5, 6)}
    assert not (rec / f"{specs[3].run_id}.json").exists()
    assert len(list((rec / "_failed").glob(f"{specs[3].run_id}-*.json"))) == 1
    assert [(s.offset, s.n_tasks) for s in subs] == [(0, 3), (3, 1)]
    sub_manifest = Manifest.read(subs[0].manifest)
    assert set(sub_manifest.runs["run_id"]) == set(ids)
    assert "--time=10" in Path(subs[0].script).read_text()
    assert CampaignState(rec).manifest_path() == mp.resolve()  # the campaign is still the full manifest
    lk.release()


def test_cli_run_slurm_dry_run(tmp_path: Path, cli) -> None:
    mp = _manifest(tmp_path, 5)
    res = cli(["run", mp, "--executor", "slurm", "--data", tmp_path, "--records", tmp_path / "rec", "--dry-run",
               "--runs-per-task", "2", "--max-array-size", "2", "--gres", "gpu:1"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("would run: sbatch --parsable") == 2
    assert "5 runs in 3 array task(s) of 2 run(s), 2 array job(s)" in res.stdout
    res = cli(["run", mp, "--executor", "slurm", "--data", tmp_path, "--records", tmp_path / "rec", "--dry-run",
               "--time", "2", "--signal-seconds", "300"])
    assert res.returncode == 2 and "--time 2 must be longer" in res.stderr
    res = cli(["status", "--records", tmp_path / "nothing"])
    assert res.returncode == 2 and "holds no campaign state" in res.stderr
