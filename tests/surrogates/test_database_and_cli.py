"""Fitting from a results database (noise model, runtime), and the fit / evaluate / predict CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import surrogate_eo
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import Ensemble, XGBSurrogate, fit_benchmark
from surrogate_eo.surrogates.conformal import NoiseModel, conformal_noise, seed_grid
from surrogate_eo.surrogates.fitting import database_targets, seed_deviations, single_run_residuals

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_console_entry_point():
    r = subprocess.run([sys.executable, "-m", "surrogate_eo.cli", "predict", "no-such-dir", "--arch", ARCH],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "not a benchmark folder" in r.stderr


def test_seed_noise_estimate_and_coverage():
    space = get_space("nb201")
    archs = np.unique(space.sample(300, seed=0), axis=0)
    truth = 0.7 + 0.04 * ((archs == 3) & space.cell.live_edges(archs)).sum(axis=1)
    rng = np.random.default_rng(1)
    seed_archs = np.repeat(archs, 3, axis=0)
    seed_y = np.repeat(truth, 3) + rng.normal(0, 0.02, len(seed_archs))
    noise, n_rep, dev = seed_deviations(space, seed_archs, seed_y)
    assert n_rep == len(archs) and noise == pytest.approx(0.02, rel=0.1) and len(dev) == len(seed_y)
    means = seed_y.reshape(-1, 3).mean(axis=1)
    np.testing.assert_allclose(dev, seed_y - np.repeat(means, 3))
    nm, oof = conformal_noise(XGBSurrogate(space="nb201", n_estimators=40), archs, means, seed_std=noise)
    runs = np.abs(single_run_residuals(space, archs, oof, seed_archs, seed_y))  # one run vs its arch's OOF
    assert len(runs) == len(seed_y)
    cov = {lv: np.mean(runs <= nm.interval(lv, "single")) for lv in (0.68, 0.95)}
    assert 0.60 < cov[0.68] < 0.80 and 0.90 < cov[0.95] < 0.99  # the normal convolution, on normal noise
    assert np.mean(runs <= nm.interval(0.95, "mean")) < cov[0.95] - 0.05  # model error alone is too narrow


def test_heavy_tailed_seed_noise_needs_the_measured_grid():
    """Seed noise with 5 % diverged runs: a normal of the pooled std over-covers at 68 %, the grid does not."""
    rng = np.random.default_rng(7)
    n = 4000
    dev = np.where(rng.random(n) < 0.05, rng.normal(0, 0.08, n), rng.normal(0, 0.01, n))
    resid = rng.normal(0, 0.005, n)
    obs = rng.normal(0, 0.005, n) + np.where(rng.random(n) < 0.05, rng.normal(0, 0.08, n), rng.normal(0, 0.01, n))
    gauss = NoiseModel.from_residuals(resid, seed_std=float(dev.std()))
    grid = NoiseModel.from_residuals(resid, seed_std=float(dev.std()), seed_quantiles=seed_grid(dev))
    for level in (0.68, 0.95):
        assert abs(np.mean(np.abs(obs) <= grid.interval(level, "single")) - level) < 0.03
        assert np.mean(np.abs(grid.sample(n, seed=1)) <= grid.interval(level, "single")) == pytest.approx(level, abs=0.03)
    assert np.mean(np.abs(obs) <= gauss.interval(0.68, "single")) > 0.80  # the normal is too wide in the middle


def test_fit_from_database(tiny_db):
    from surrogate_eo.database import Database

    db = Database.read(tiny_db)
    space, targets = database_targets(db, ["so2sat-s2"], ["val_acc"], [None, 2], runtime=True)
    assert space.name == "nb201" and [(t.metric, t.epoch, t.transform) for t in targets] == [
        ("val_acc", None, "identity"), ("val_acc", 2, "identity"), ("wall_seconds", None, "log")]
    assert len(targets[0].seed_y) == 3 * len(targets[0].y)
    ens = Ensemble(members=[XGBSurrogate(space="nb201", n_estimators=40)], n_seeds=3)
    bench = fit_benchmark(db, tasks=["so2sat-s2"], epochs=[None, 2], runtime=True, model=ens)
    final = bench.entry("so2sat-s2", "val_acc")[0]
    assert final.noise_std == pytest.approx(0.01, rel=0.3) and final.info["noise"]["n_archs_repeated"] >= 80
    assert final.info["conformal"]["n_single"] == len(targets[0].seed_y)  # every run: y_run - oof(arch)
    assert len(final.info["noise"]["quantiles"]) == 201 and final.noise_model.single_quantiles is not None
    assert bench.predict(ARCH, task="so2sat-s2") > bench.predict(ARCH, task="so2sat-s2", epoch=2)
    secs = bench.predict_runtime([ARCH, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    assert secs[0] > 3 * secs[1] > 0  # runtime grows with the number of 3x3 convs (50 s per conv + 50 s)


def test_stratum_scores(tiny_db):
    from surrogate_eo.database import Database
    from surrogate_eo.surrogates.fitting import stratum_scores

    df = stratum_scores(Database.read(tiny_db), "so2sat-s2", model=XGBSurrogate(space="nb201", n_estimators=40))
    assert sorted(df["stratum"]) == ["random", "walks"]
    assert (df["n_train"] + df["n_test"] == df["n_train"].sum()).all() and (df["kendall_tau"] > 0.3).all()


def test_cli_table_roundtrip(run_cli, nb201_dir, tmp_path):
    out = tmp_path / "b"
    r = run_cli("fit", "--table", str(nb201_dir), "--column", "CIFAR10TestAccuracy200Epochs", "--model", "xgb",
            "--train-fraction", "0.02", "--tune", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "cifar10/test_acc epoch=200: xgb on 312 archs; tuned xgb kendall_tau" in r.stdout
    assert (out / "tuning.json").is_file() and surrogate_eo.load(out).meta["tuning"][0]["n_trials"] == 2
    r = run_cli("evaluate", str(out), "--table", str(nb201_dir), "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(x["task"], x["epoch"]) for x in rows] == [("cifar10", 200)]
    assert rows[0]["n_test"] == 15625 - 312 and rows[0]["kendall_tau"] > 0.7
    r = run_cli("predict", str(out), "--arch", ARCH, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["value"] == pytest.approx(surrogate_eo.load(out).predict(ARCH))


def test_cli_database(run_cli, tiny_db, tmp_path):
    out = tmp_path / "db-bench"
    r = run_cli("fit", "--db", str(tiny_db), "--task", "so2sat-s2", "--runtime", "--model", "xgb", "--out", str(out))
    assert r.returncode == 0, r.stderr
    r = run_cli("evaluate", str(out), "--db", str(tiny_db), "--include-train")
    assert r.returncode == 0, r.stderr
    assert "seed_coverage_95" in r.stdout and "so2sat-s2" in r.stdout
    r = run_cli("predict", str(out), "--arch", ARCH, "--runtime", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["value"] > 100


@pytest.mark.parametrize("args, message", [
    (["fit", "--out", "x"], "exactly one ground truth"),
    (["fit", "--table", "missing.csv", "--out", "x"], "does not exist"),
    (["fit", "--db", "missing.parquet", "--task", "so2sat-s2", "--out", "x"], "does not exist"),
    (["predict", "no-such-dir", "--arch", ARCH], "not a benchmark folder"),
])
def test_cli_errors(run_cli, args, message):
    r = run_cli(*args)
    assert r.returncode == 2 and message in r.stderr and r.stderr.startswith("error:")
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_bad_arch_and_model(run_cli, nb201_table, nb201_dir, tmp_path):
    bench_dir = tmp_path / "b"
    bench = fit_benchmark(nb201_table, columns=["CIFAR10TestAccuracy200Epochs"],
                          model=XGBSurrogate(space="nb201", n_estimators=10), train_fraction=0.01)
    bench.save(str(bench_dir))
    r = run_cli("predict", str(bench_dir), "--arch", "|nor_conv_3x3~0|")
    assert r.returncode == 2 and "node group" in r.stderr
    r = run_cli("predict", str(bench_dir), "--arch", ARCH, "--task", "so2sat-s2")
    assert r.returncode == 2 and "unknown task 'so2sat-s2'" in r.stderr
    r = run_cli("fit", "--table", str(nb201_dir), "--model", "svm", "--out", str(tmp_path / "c"))
    assert r.returncode == 2 and "unknown surrogate model 'svm'" in r.stderr
