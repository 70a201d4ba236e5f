"""``surrogate-eo landscape`` / ``surrogate-eo fidelity`` on a generated NB201-format CSV."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from surrogate_eo.cli import app
from surrogate_eo.spaces import get_space

runner = CliRunner()


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory):
    """Every nb201 arch with percent columns: additive, additive + interactions, a noisy copy."""
    space = get_space("nb201")
    archs = space.enumerate()
    rng = np.random.default_rng(0)
    w = rng.normal(0, 2, size=(6, 5))
    add = 80 + w[np.arange(6), archs].sum(axis=1)
    acc = add + rng.normal(0, 1, len(add))
    df = pd.DataFrame({"ArchitectureString": space.to_strings(archs), "add": add, "acc": acc,
                       "acc_noisy": acc + rng.normal(0, 4, len(acc)), "add_early": add * 0.9})
    path = tmp_path_factory.mktemp("tbl") / "table.csv"
    df.to_csv(path, index=False)
    return path


def test_landscape_exact_json(table_csv, tmp_path) -> None:
    out = tmp_path / "fp.json"
    r = runner.invoke(app, ["landscape", "--space", "nb201", "--table", str(table_csv), "--column", "add",
                            "--exact", "--seed", "1", "--json", str(out), "--points", "500", "--walks", "20",
                            "--walk-length", "10", "--centres", "20", "--climbs", "10", "--second-column",
                            "add_early", "-q"])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())["features"]
    for name in ("fitness_mean", "fitness_std", "fdc_pearson", "fdc_spearman", "autocorr_lag1", "corr_length",
                 "corr_length_traore", "neutrality", "local_optima_strict", "persistence_top", "dispersion",
                 "information_content"):
        assert {"value", "ci", "n", "params"} == set(d[name]), name
    # an additive landscape without ties has exactly one local optimum and rho(1) = 1 - 5/4 / 6
    assert d["local_optima_strict"]["value"] == 1 and d["local_optima_strict"]["params"]["kind"] == "count"
    assert d["autocorr_lag1"]["value"] == pytest.approx(1 - 1.25 / 6, abs=1e-9)
    assert d["persistence_top_auc"]["value"] == pytest.approx(1.0)


def test_fidelity_exit_codes(table_csv, tmp_path) -> None:
    out = tmp_path / "v.json"
    args = ["fidelity", "--table", str(table_csv), "--column", "acc", "--campaign-runs", "600", "-q"]
    r = runner.invoke(app, args + ["--surrogate-column", "acc", "--json", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["passed"] is True
    r = runner.invoke(app, args + ["--surrogate-column", "acc_noisy"])
    assert r.exit_code == 1 and r.output.startswith("FAIL")


def test_cli_errors_are_one_line(table_csv) -> None:
    from surrogate_eo.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["landscape", "--table", str(table_csv)])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["landscape", "--table", str(table_csv), "--column", "acc", "--db", "x.parquet", "--task", "t"])
    assert exc.value.code == 2


def test_landscape_on_database_and_strata(table_csv, make_database, tmp_path) -> None:
    from surrogate_eo.landscape import plan_strata
    from surrogate_eo.reference import ReferenceTable

    space = get_space("nb201")
    truth = ReferenceTable.from_csv(table_csv).source("acc")
    st = plan_strata(space, 60, 4, 8, 2, seed=3)
    db_path = tmp_path / "gt.parquet"
    make_database(space, st, truth.fitness).write(db_path)
    out = tmp_path / "db.json"
    r = runner.invoke(app, ["landscape", "--db", str(db_path), "--task", "so2sat-s2", "--json", str(out), "-q"])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    assert d["strata"]["walks"] == [4, 8] and d["strata"]["centres"] == 2
    assert "climb_optima_distinct" not in d["features"]  # a database cannot be climbed on
    sfile = tmp_path / "strata.json"
    sfile.write_text(json.dumps(st.to_dict()))
    out2 = tmp_path / "st.json"
    r = runner.invoke(app, ["landscape", "--table", str(table_csv), "--column", "acc", "--strata", str(sfile),
                            "--climbs", "0", "--json", str(out2), "-q"])
    assert r.exit_code == 0, r.output
    d2 = json.loads(out2.read_text())
    for name in ("autocorr_lag1", "fitness_mean"):  # same archs, same values: same estimates
        assert d2["features"][name]["value"] == pytest.approx(d["features"][name]["value"])


def test_landscape_and_fidelity_on_a_saved_surrogate(nb201_table, tmp_path) -> None:
    """The real path: fit_benchmark -> save -> `--surrogate DIR --task T` (BenchmarkSource)."""
    from surrogate_eo.surrogates import fit_benchmark

    bench = fit_benchmark(nb201_table, columns=["CIFAR10TestAccuracy200Epochs"], model="xgb",
                          train_fraction=0.1, model_params={"n_estimators": 100})
    bench.save(str(tmp_path / "bench"))
    out = tmp_path / "sur.json"
    r = runner.invoke(app, ["landscape", "--surrogate", str(tmp_path / "bench"), "--task", "cifar10",
                            "--points", "2000", "--walks", "40", "--walk-length", "20", "--centres", "50",
                            "--climbs", "20", "--json", str(out), "-q"])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    assert d["source"].endswith(":cifar10") and 0.3 < d["features"]["autocorr_lag1"]["value"] < 0.9
    table = str(nb201_table.name)
    r = runner.invoke(app, ["fidelity", "--table", table, "--column", "CIFAR10TestAccuracy200Epochs",
                            "--surrogate", str(tmp_path / "bench"), "--task", "cifar10", "-q"])
    assert r.exit_code in (0, 1) and r.output.startswith(("PASS", "FAIL")), r.output
