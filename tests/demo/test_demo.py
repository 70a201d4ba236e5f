"""`surrogate-eo demo` end to end on a tiny campaign: every stage's output, the summary, and resume."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from surrogate_eo.demo import DemoOptions, run_demo  # noqa: E402
from surrogate_eo.errors import SurrogateEOError  # noqa: E402

TINY = """
[campaign]
name = "tiny-demo"
space = "eo"
tasks = ["so2sat-s2"]
protocol = "smoke"
seeds = [0]
design_seed = 3

[strata.random]
n = 6

[strata.walks]
n = 1
length = 4

[strata.seeds]
n = 1
seeds = [0, 1]
"""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    cfg = root / "tiny.toml"
    cfg.write_text(TINY)
    opts = DemoOptions(out_dir=root / "out", config=cfg, n_train=512, n_val=256, n_test=256, workers=2)
    lines: list[str] = []
    res = run_demo(opts, log=lines.append, progress=False)
    return opts, res, lines


@pytest.mark.slow
def test_demo_writes_every_stage(demo_run):
    opts, res, lines = demo_run
    out = Path(opts.out_dir)
    for f in ("data/training.h5", "data/validation.h5", "data/testing.h5", "manifest.parquet",
              "database.parquet", "benchmark", "report/report.html", "report/report.md", "report/report.json",
              "summary.txt"):
        assert (out / f).exists(), f
    assert [ln.split("]")[0] for ln in lines] == [f"[{i}/6" for i in range(1, 7)]
    rep = json.loads((out / "report" / "report.json").read_text())
    # 6 random + 4 walk + 1 arch x 2 seeds = 12 runs, all planned runs collected exactly once
    assert rep["campaign"]["n_runs"] == 12
    records = sorted((out / "records").glob("*.json"))
    assert len(records) == 12
    assert len(res.summary) == 5 and res.summary[-1].endswith("report.html")
    assert "12 runs on space 'eo'" in res.summary[1]
    assert (out / "summary.txt").read_text().splitlines() == res.summary
    acc = rep["accuracy"]["so2sat-s2"]["metrics"][0]
    assert -1.0 <= acc["kendall_tau"] <= 1.0 and acc["n"] == 11  # 11 distinct archs
    land = rep["landscape"]["so2sat-s2"]
    # 12 runs cannot settle any comparison: the evidence rule says inconclusive, with the runs needed
    assert land["verdict"] == "inconclusive" and land["too_small"]["value"] and land["runs_needed"]["value"]
    assert "too small for a conclusive verdict: runs needed" in res.summary[3]
    assert rep["meta"]["synthetic"] and "SYNTHETIC" in (out / "report" / "report.md").read_text()


@pytest.mark.slow
def test_demo_resumes_without_retraining(demo_run):
    opts, _, _ = demo_run
    out = Path(opts.out_dir)
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")}
    bench_mtime = (out / "benchmark" / "database.sha").stat().st_mtime_ns
    lines: list[str] = []
    run_demo(opts, log=lines.append, progress=False)
    assert any("reusing" in ln for ln in lines if ln.startswith("[1/6]"))
    assert any("reusing" in ln for ln in lines if ln.startswith("[5/6]"))
    assert {p: p.stat().st_mtime_ns for p in (out / "records").glob("*.json")} == mtimes
    assert (out / "benchmark" / "database.sha").stat().st_mtime_ns == bench_mtime


def test_demo_rejects_bad_options(tmp_path):
    with pytest.raises(SurrogateEOError, match="executor"):
        run_demo(DemoOptions(out_dir=tmp_path / "x", executor="kubernetes"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(SurrogateEOError, match="not a folder"):
        run_demo(DemoOptions(out_dir=tmp_path / "file"))


def test_demo_cli_help_and_bad_executor(tmp_path):
    out = subprocess.run([sys.executable, "-m", "surrogate_eo.cli", "demo", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "resumes" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "surrogate_eo.cli", "demo", "--out", str(tmp_path / "d"),
                          "--executor", "mesos"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --executor")


def _slurm_up() -> bool:
    import shutil

    if not shutil.which("sbatch") or not shutil.which("squeue"):
        return False
    return subprocess.run(["squeue", "-h"], capture_output=True, check=False).returncode == 0


@pytest.fixture
def tiny_slurm_config(tmp_path) -> Path:
    """The tiny campaign's TOML; skips the test where no SLURM cluster runs."""
    if not _slurm_up():
        pytest.skip("needs a running SLURM cluster (sbatch on PATH)")
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    return cfg


@pytest.mark.slow
@pytest.mark.slurm
def test_demo_on_slurm_array_jobs(tiny_slurm_config, tmp_path):
    opts = DemoOptions(out_dir=tmp_path / "out", config=tiny_slurm_config, n_train=512, n_val=256, n_test=256,
                       executor="slurm", poll_seconds=1.0)
    lines: list[str] = []
    res = run_demo(opts, log=lines.append, progress=False)
    assert any("submitted 1 array job(s)" in ln for ln in lines)
    assert len(list((tmp_path / "out" / "records").glob("*.json"))) == 12
    assert "12 ok" in res.summary[1]


@pytest.mark.slurm
def test_demo_on_slurm_refuses_an_unschedulable_job(tiny_slurm_config, tmp_path):
    opts = DemoOptions(out_dir=tmp_path / "out", config=tiny_slurm_config, n_train=256, n_val=128, n_test=128,
                       executor="slurm", slurm={"cpus_per_task": 4096}, poll_seconds=0.5)
    with pytest.raises(SurrogateEOError, match="can never start") as info:
        run_demo(opts, log=lambda _: None, progress=False)
    job = str(info.value).split("scancel ")[1].rstrip("`")
    subprocess.run(["scancel", job], check=False)
