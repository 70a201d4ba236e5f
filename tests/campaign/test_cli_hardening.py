"""Campaign CLI on bad input and concurrent use (issue 14: findings 9, 12, 14)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from surrogate_eo.campaign import Manifest, collect, manifest_from_archs
from surrogate_eo.cli import main

CONFIG = """[campaign]
name = "h"
space = "nb201"
tasks = ["so2sat-s2"]
protocol = "smoke"
[strata.random]
n = {n}
"""


def _main(args: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ex:
        main([str(a) for a in args])
    code = 0 if ex.value.code is None else int(ex.value.code)
    return code, capsys.readouterr().err.strip()


def _one_error_line(code: int, err: str) -> str:
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_plan_config_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    line = _one_error_line(*_main(["plan", f"{folder}/", "--out", tmp_path / "m.parquet"], capsys))
    assert "is a folder" in line and "TOML file" in line


def test_plan_out_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(n=3))
    line = _one_error_line(*_main(["plan", cfg, "--out", tmp_path], capsys))
    assert "--out" in line and "is a folder" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]  # nothing partial written


def test_zero_run_stratum_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(n=0))
    line = _one_error_line(*_main(["plan", cfg, "--out", tmp_path / "m.parquet"], capsys))
    assert "strata.random.n = 0" in line and "remove the table [strata.random]" in line
    assert not (tmp_path / "m.parquet").exists()


@pytest.mark.parametrize("body", [
    "a = " + "[" * 100_000 + "]" * 100_000,
    "a = " + "{b = " * 50_000 + "1" + "}" * 50_000,
])
def test_deeply_nested_toml(tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "deep.toml"
    cfg.write_text(body)
    line = _one_error_line(*_main(["plan", cfg, "--out", tmp_path / "m.parquet"], capsys))
    assert "not valid TOML" in line and len(line) < 600


def test_run_with_missing_data_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = manifest_from_archs("nb201", ["|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2|"],
                            ["so2sat-s2"], "smoke")
    mp = m.write(tmp_path / "m.parquet")
    rec = tmp_path / "records"
    line = _one_error_line(*_main(["run", mp, "--data", tmp_path / "nonexistent", "--records", rec,
                                   "--no-progress"], capsys))
    assert "--data" in line and "nonexistent" in line
    assert not rec.exists()


@pytest.mark.torch
def test_run_waits_for_runs_another_runner_holds(tmp_path: Path, tiny_data: Path, cheap_archs, cli_env) -> None:
    """A second ``run`` on a campaign whose other run is locked by a live runner waits for it and exits 0."""
    import time

    from surrogate_eo.campaign.locks import RunLock
    from surrogate_eo.campaign.worker import lock_file, record_file

    from .conftest import fake_record

    m = manifest_from_archs("eo", cheap_archs[:2], ["so2sat-s2"], "smoke")
    mp = m.write(tmp_path / "m.parquet")
    rec = tmp_path / "rec"
    mine, theirs = m.specs()
    held = RunLock(lock_file(rec, theirs.run_id))  # "the other runner" is this live test process
    assert held.acquire()
    cmd = [sys.executable, "-m", "surrogate_eo.cli", "run", str(mp), "--data", str(tiny_data), "--records",
           str(rec), "--threads", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env)
    try:
        deadline = time.monotonic() + 240
        while not record_file(rec, mine.run_id).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)
        assert proc.poll() is None  # it trained its run and now waits for ours instead of exiting 1
        fake_record(theirs.arch, stratum=theirs.stratum, protocol_hash=theirs.protocol_hash).save(
            record_file(rec, theirs.run_id))
        held.release()
        out, err = proc.communicate(timeout=60)
    finally:
        held.release()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, (out, err)
    assert "trained by another runner" in err
    db, rep = collect(rec, None, manifest=Manifest.read(mp))
    assert rep.missing == 0 and set(db.runs["status"]) == {"ok"} and rep.quarantined == []


def test_status_prints_an_aligned_table(tmp_path: Path, cheap_archs, capsys: pytest.CaptureFixture[str]) -> None:
    from surrogate_eo.campaign.worker import record_file

    from .conftest import fake_record

    m = manifest_from_archs("eo", cheap_archs[:3], ["so2sat-s2"], "smoke")
    mp = m.write(tmp_path / "m.parquet")
    rec = tmp_path / "rec"
    rec.mkdir()
    s = m.specs()[0]
    fake_record(s.arch, stratum=s.stratum, protocol_hash=s.protocol_hash).save(record_file(rec, s.run_id))
    with pytest.raises(SystemExit) as ex:
        main(["status", "--records", str(rec), "--manifest", str(mp), "--runs"])
    assert ex.value.code in (0, None)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("3 runs: ") and "ok 1" in out[0] and "planned 2" in out[0]
    # a plain aligned table (header, one row per task), not pandas' two-level header
    assert out[1].split() == ["task", "ok", "planned"] and out[2].split() == ["so2sat-s2", "1", "2"]
    assert out[3].split() == ["run_id", "task", "seed", "stratum", "state"] and len(out) == 4 + 3
