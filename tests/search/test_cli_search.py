"""`surrogate-eo search run|compare`: outputs on table, surrogate and database sources; one-line errors, exit 2."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from surrogate_eo.cli import main
from surrogate_eo.search import Trajectory


def cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_run_on_table(capsys, search_files, tmp_path):
    out = tmp_path / "t.json"
    rc, stdout, err = cli(capsys, "search", "run", "-o", "ls", "-s", f"table:{search_files.csv}:ToyAccuracy",
                          "-b", "150", "--seed", "2", "--out", str(out), "-q")
    assert rc == 0, err
    traj = Trajectory.load(out)
    assert traj.n_evals == 150 and traj.optimizer == "ls" and traj.seed == 2
    assert traj.best_fitness == pytest.approx(search_files.additive.optimum)     # unimodal: LS finds it
    assert "ls on table:" in stdout and f"wrote {out}" in stdout


def test_run_on_surrogate_with_time_budget_and_params(capsys, search_files, tmp_path):
    out = tmp_path / "s.parquet"
    rc, stdout, err = cli(capsys, "search", "run", "-o", "re", "-s", f"surrogate:{search_files.bench}:so2sat-s2",
                          "-b", "1000", "--time-budget", "5000", "--out", str(out), "-p", "population_size=5",
                          "-p", "sample_size=2", "--noise")
    assert rc == 0, err
    traj = Trajectory.load(out)
    assert traj.stop_reason == "time_budget" and traj.n_evals < 1000
    assert traj.sim_time[-1] >= 5000 > traj.sim_time[-2]
    assert traj.params["population_size"] == 5 and traj.params["time_budget"] == 5000.0


def test_run_on_database_stays_on_its_archs(capsys, search_files, tmp_path):
    from surrogate_eo.database import Database

    out = tmp_path / "d.json"
    rc, _, err = cli(capsys, "search", "run", "-o", "tpe", "-s", f"db:{search_files.db}:so2sat-s2", "-b", "20",
                     "--time-budget", "1500", "--out", str(out), "-q")
    assert rc == 0, err
    traj = Trajectory.load(out)
    held = set(Database.read(search_files.db).targets("so2sat-s2", "val_acc")[0])
    assert set(traj.to_dict()["archs"]) <= held
    np.testing.assert_allclose(traj.cost, 100.0 + 10 * traj.archs[:, 0])          # measured wall_seconds
    assert traj.n_evals <= 15 and traj.stop_reason in ("time_budget", "budget")


def test_compare_command(capsys, search_files, tmp_path):
    rc, stdout, err = cli(capsys, "search", "compare", "-g", f"table:{search_files.csv}:ToyAccuracy",
                          "-s", f"table:{search_files.csv}:ToyAccuracy", "--optimizers", "rs,ls,re", "--seeds", "3",
                          "--budget", "30", "--out", str(tmp_path / "c.json"), "--plot", str(tmp_path / "c.png"), "-q")
    assert rc == 0, err
    d = json.loads((tmp_path / "c.json").read_text())
    assert d["stats"]["rank"]["ground_truth"] == d["stats"]["rank"]["surrogate"]
    assert "Kendall tau" in stdout and (tmp_path / "c.png").stat().st_size > 0


@pytest.mark.parametrize(("args", "message"), [
    (["-o", "sa"], "unknown optimiser 'sa'; expected one of rs, re, ls, tpe"),
    (["-b", "0"], "budget must be a whole number of evaluations >= 1, got 0"),
    (["--time-budget", "100"], "--time-budget needs simulated training times, but source 'table:"),
    (["-s", "tables:x.csv:y"], "is not KIND:PATH:NAME with KIND one of table, surrogate, db"),
    (["-s", "table:/nonexistent.csv:y"], "/nonexistent.csv does not exist"),
    (["-p", "population=3"], "optimiser 're' has no option 'population'"),
    (["--out", "x.txt"], "must end in .json or .parquet"),
])
def test_run_errors(capsys, search_files, tmp_path, args, message):
    base = {"-o": "re", "-s": f"table:{search_files.csv}:ToyAccuracy", "-b": "10", "--out": str(tmp_path / "t.json")}
    extra = []
    for i in range(0, len(args), 2):
        if args[i] in base:
            base[args[i]] = args[i + 1]
        else:
            extra += args[i:i + 2]
    argv = ["search", "run", *[x for kv in base.items() for x in kv], *extra, "-q"]
    rc, _, err = cli(capsys, *argv)
    assert rc == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


def test_surrogate_source_errors(capsys, search_files, tmp_path):
    rc, _, err = cli(capsys, "search", "run", "-o", "rs", "-s", f"surrogate:{search_files.bench_nort}:so2sat-s2",
                     "-b", "5", "--time-budget", "100", "--out", str(tmp_path / "x.json"))
    assert rc == 2 and "cannot simulate training time for task 'so2sat-s2'" in err
    rc, _, err = cli(capsys, "search", "run", "-o", "rs", "-s", f"surrogate:{search_files.bench}:cifar10",
                     "-b", "5", "--out", str(tmp_path / "x.json"))
    assert rc == 2 and "unknown task 'cifar10'" in err
    rc, _, err = cli(capsys, "search", "compare", "-g", f"table:{search_files.csv}:ToyAccuracy",
                     "-s", f"surrogate:{search_files.bench}:so2sat-s2", "--out", str(tmp_path / "c.json"), "-q")
    assert rc == 2 and "is of space 'nb201' but the surrogate" in err and "of space 'eo'" in err


def test_entry_point_help():
    out = subprocess.run([sys.executable, "-m", "surrogate_eo.cli", "search", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "compare" in out.stdout and "run" in out.stdout
