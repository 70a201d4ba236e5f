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
    e = np.exp(0.4 * acc)  # a rank-identical transform, rescaled to acc's mean and std
    acc_exp = (e - e.mean()) / e.std() * acc.std() + acc.mean()
    df = pd.DataFrame({"ArchitectureString": space.to_strings(archs), "add": add, "acc": acc,
                       "acc_noisy": acc + rng.normal(0, 4, len(acc)), "add_early": add * 0.9,
                       "acc_exp": acc_exp, "acc_shuffled": rng.permutation(acc)})
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


def test_source_spec_and_old_options_give_the_same_footprint(table_csv, tmp_path) -> None:
    base = ["--points", "300", "--walks", "10", "--walk-length", "10", "--centres", "10", "--climbs", "0", "-q"]
    r1 = runner.invoke(app, ["landscape", "--table", str(table_csv), "--column", "acc", "--json",
                             str(tmp_path / "a.json")] + base)
    r2 = runner.invoke(app, ["landscape", "--source", f"table:{table_csv}:acc", "--json", str(tmp_path / "b.json")]
                       + base)
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    assert a["source"] == b["source"] == "table.csv:acc"
    assert a["features"]["autocorr_lag1"] == b["features"]["autocorr_lag1"]


def test_fidelity_exit_codes(table_csv, tmp_path) -> None:
    """0 faithful, 1 unfaithful, 3 inconclusive (with runs needed), 2 bad input."""
    out = tmp_path / "v.json"
    args = ["fidelity", "--table", str(table_csv), "--column", "acc", "-q"]
    r = runner.invoke(app, args + ["--campaign-runs", "1500", "--surrogate-column", "acc", "--json", str(out)])
    assert r.exit_code == 0 and r.output.startswith("FAITHFUL"), r.output
    d = json.loads(out.read_text())
    assert d["schema"] == "surrogate-eo/fidelity-verdict/2" and d["verdict"] == "faithful"
    assert d["verdicts"] == {"value": "faithful", "rank": "faithful"} and d["judge"]["campaign_runs"] == 1500
    assert all(c["verdict"] == "faithful" for c in d["comparisons"] if c["judged"])
    r = runner.invoke(app, args + ["--campaign-runs", "600", "--surrogate-column", "acc_shuffled"])
    assert r.exit_code == 1 and r.output.startswith("UNFAITHFUL"), r.output
    r = runner.invoke(app, args + ["--campaign-runs", "100", "--surrogate-column", "acc", "--json", str(out)])
    assert r.exit_code == 3 and r.output.startswith("INCONCLUSIVE") and "runs needed" in r.output, r.output
    d = json.loads(out.read_text())
    assert d["verdict"] == "inconclusive" and sum(d["runs_needed"].values()) > 0
    assert not any(c["verdict"] == "unfaithful" for c in d["comparisons"])


def test_fidelity_modes(table_csv) -> None:
    """A rank-identical transform: faithful for ranking (exit 0), not for values (exit 1)."""
    args = ["fidelity", "--truth", f"table:{table_csv}:acc", "--surrogate", f"table:{table_csv}:acc_exp",
            "--campaign-runs", "1500", "-q"]
    r = runner.invoke(app, args + ["--mode", "rank"])
    assert r.exit_code == 0 and r.output.startswith("FAITHFUL (rank mode; value mode: unfaithful)"), r.output
    r = runner.invoke(app, args + ["--mode", "value"])
    assert r.exit_code == 1 and r.output.startswith("UNFAITHFUL (value mode; rank mode: faithful)"), r.output


@pytest.mark.parametrize("extra, match", [
    (["--campaign-runs", "10"], "--campaign-runs 10 is too small: a campaign must hold one unit of each stratum"),
    (["--mode", "ranks"], "--mode 'ranks': expected one of value, rank"),
    (["--folds", "1"], "--folds 1"),
    (["--tolerances", "TOL_UNKNOWN"], "unknown feature 'no_such_feature'"),
    (["--tolerances", "TOL_NEGATIVE"], "fitness_mean.abs must be > 0"),
])
def test_fidelity_bad_input_exits_2(table_csv, tmp_path, run_cli, extra, match) -> None:
    (tmp_path / "unknown.json").write_text(json.dumps({"no_such_feature": {"abs": 0.1}}))
    (tmp_path / "negative.json").write_text(json.dumps({"fitness_mean": {"abs": -0.1}}))
    extra = [str(tmp_path / "unknown.json") if e == "TOL_UNKNOWN" else
             str(tmp_path / "negative.json") if e == "TOL_NEGATIVE" else e for e in extra]
    r = run_cli("fidelity", "--table", table_csv, "--column", "acc", "--surrogate-column", "acc", "-q", *extra)
    assert r.returncode == 2 and match in r.stderr, r.stderr
    assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1


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
    args = ["fidelity", "--table", table, "--column", "CIFAR10TestAccuracy200Epochs",
            "--surrogate", str(tmp_path / "bench"), "--task", "cifar10", "-q"]
    r = runner.invoke(app, args + ["--json", str(tmp_path / "oof.json")])
    words = {0: "FAITHFUL", 1: "UNFAITHFUL", 3: "INCONCLUSIVE"}
    assert r.exit_code in words and r.output.startswith(words[r.exit_code]), r.output
    oof = json.loads((tmp_path / "oof.json").read_text())
    assert oof["judge"]["paired"].startswith("out-of-fold (5-fold refits of the xgb model") and not oof["judge"]["warnings"]
    r = runner.invoke(app, args + ["--in-sample", "--json", str(tmp_path / "ins.json")])
    assert r.exit_code in words and "in-sample" in r.output, r.output
    ins = json.loads((tmp_path / "ins.json").read_text())
    assert ins["judge"]["paired"].startswith("in-sample") and "optimistic" in ins["judge"]["warnings"][0]
    # the same truth archs, different paired predictions: the printed Kendall tau is out-of-fold by default
    assert oof["agreement"]["n"] == ins["agreement"]["n"]
    assert oof["agreement"]["kendall_tau"] != pytest.approx(ins["agreement"]["kendall_tau"], abs=1e-6)
