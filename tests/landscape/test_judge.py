"""The one entry point of the verdict (`judge`): out-of-fold pairing, bad input, and the exploit second wave."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from surrogate_eo.errors import LandscapeError
from surrogate_eo.landscape import SamplingPlan, plan_strata
from surrogate_eo.landscape.judge import EXIT_CODES, judge, out_of_fold
from surrogate_eo.landscape.nk import NKLandscape
from surrogate_eo.spaces import get_space

C10 = "CIFAR10TestAccuracy200Epochs"


def test_outcomes_and_exit_codes_on_nk():
    nk = NKLandscape(10, 1, seed=0)
    small = judge(nk, nk, campaign_runs=100)
    assert small.outcome == "inconclusive" and small.exit_code == 3 and sum(small.runs_needed().values()) > 0
    assert not any(c.verdict == "unfaithful" for c in small.verdict.comparisons)
    big = judge(nk, nk, campaign_runs=1500)
    assert big.outcome == "faithful" and big.exit_code == EXIT_CODES["faithful"] == 0
    other = judge(nk, NKLandscape(10, 6, seed=0), campaign_runs=1500)
    assert other.outcome == "unfaithful" and other.exit_code == 1
    assert "autocorr_lag1" in {c.feature for c in other.verdict.failures()}


@pytest.mark.parametrize("kw, match", [
    (dict(campaign_runs=20), "too small: a campaign must hold one unit of each stratum .* at least 33 runs"),
    (dict(mode="ranks"), "--mode 'ranks'"),
    (dict(paired="oof"), "paired='oof'"),
    (dict(folds=1), "--folds 1"),
])
def test_bad_arguments(kw, match):
    nk = NKLandscape(10, 1, seed=0)
    with pytest.raises(LandscapeError, match=match):
        judge(nk, nk, **kw)


def test_sources_of_two_spaces_are_refused(nb201_dir):
    with pytest.raises(LandscapeError, match="is in space 'nb201' but surrogate .* is in 'bits10'"):
        judge(f"table:{nb201_dir}:{C10}", NKLandscape(10, 1, seed=0))


def test_a_campaign_without_landscape_strata_is_refused(make_database, nb201_table):
    space = get_space("nb201")
    truth = nb201_table.source(C10)
    st = plan_strata(space, 30, 2, 5, 1, seed=0)
    db = make_database(space, st, truth.fitness)
    db.plan = db.plan[db.plan["stratum"] == "random"].assign(stratum="seeds")  # nothing a verdict can use
    from surrogate_eo.landscape import DatabaseSource

    with pytest.raises(LandscapeError, match="lacks the strata a verdict needs"):
        judge(DatabaseSource(db, "so2sat-s2", space="nb201"), truth)
    with pytest.raises(LandscapeError, match="--campaign-runs emulates a campaign on a table"):
        judge(DatabaseSource(db, "so2sat-s2", space="nb201"), truth, campaign_runs=300)


def test_out_of_fold_predictions_never_see_their_arch(nb201_table):
    """Out-of-fold: each arch predicted by a refit that did not see it, so errors are larger than in-sample."""
    from surrogate_eo.surrogates import XGBSurrogate

    space = get_space("nb201")
    archs = space.sample(200, seed=0)
    y = nb201_table.source(C10).fitness(archs)
    model = XGBSurrogate(space="nb201", n_estimators=30, max_depth=6)
    mu, _ = out_of_fold(model, archs, y, 5, seed=0)
    fitted = model.clone().fit(archs, y).predict(archs)
    assert np.abs(fitted - y).mean() < 0.8 * np.abs(mu - y).mean()  # in-sample is optimistic
    mu2, _ = out_of_fold(model, archs, y, 5, seed=0)
    assert np.array_equal(mu, mu2)  # same folds and seed, same predictions


def _database_of(manifest, f):
    """Every planned run finished with the table's value; plan entries from the manifest."""
    from surrogate_eo.database import Database
    from surrogate_eo.records import RunRecord, RunSpec

    space = get_space(manifest.space)
    e = manifest.entries
    recs = {}
    for arch, task, seed in e[["arch", "task", "seed"]].drop_duplicates().itertuples(index=False):
        spec = RunSpec(space=manifest.space, arch=arch, task=task, seed=int(seed), protocol=manifest.protocol,
                       protocol_hash=manifest.protocol_hash)
        recs[spec.run_id] = RunRecord(spec, "ok", epochs=[{"val_acc": float(f(space.from_string(arch)[None])[0])}])
    plan = pd.DataFrame(e[["stratum", "group", "position", "task", "seed", "run_id", "arch"]])
    return Database.from_records(recs.values(), plan=plan)


def test_exploit_second_wave_is_planned_and_rebuilt(nb201_table, tmp_path, run_cli):
    """`plan --exploit-from BENCH` adds the benchmark's predicted-best archs with complete neighbourhoods;
    the database source rebuilds them as the verdict's exploit centres."""
    from surrogate_eo.campaign import Manifest
    from surrogate_eo.landscape import DatabaseSource
    from surrogate_eo.surrogates import fit_benchmark

    truth = nb201_table.source(C10)
    cfg = tmp_path / "c.toml"
    cfg.write_text('[campaign]\nname = "w1"\nspace = "nb201"\ntasks = ["so2sat-s2"]\nprotocol = "smoke"\n'
                   '[strata.random]\nn = 120\n[strata.walks]\nn = 4\nlength = 10\n')
    r = run_cli("plan", cfg, "--out", tmp_path / "w1.parquet")
    assert r.returncode == 0, r.stderr
    wave1 = _database_of(Manifest.read(tmp_path / "w1.parquet"), truth.fitness)
    bench = fit_benchmark(wave1, tasks=["so2sat-s2"], model="xgb", model_params={"n_estimators": 40})
    bench.save(str(tmp_path / "bench"))
    r = run_cli("plan", cfg, "--out", tmp_path / "w2.parquet", "--exploit-from", tmp_path / "bench",
                "--exploit-n", "3", "--exploit-pool", "500")
    assert r.returncode == 0, r.stderr
    m2 = Manifest.read(tmp_path / "w2.parquet")
    w1_ids = set(Manifest.read(tmp_path / "w1.parquet").entries["run_id"])
    assert w1_ids <= set(m2.entries["run_id"])  # wave 1 unchanged: nothing is retrained
    ex = m2.entries[m2.entries["stratum"] == "exploit"]
    assert sorted(set(ex["group"])) == [0, 1, 2] and len(ex) == 3 * 25  # 3 archs x (1 + 24 neighbours)
    space = get_space("nb201")
    centres = space.from_strings(list(ex[ex["position"] == 0].sort_values("group")["arch"]))
    pred = bench.predict(centres, task="so2sat-s2")
    assert list(pred) == sorted(pred, reverse=True)
    src = DatabaseSource(_database_of(m2, truth.fitness), "so2sat-s2")
    st = src.strata()
    assert st.exploit is not None and np.array_equal(st.exploit, centres)
    j = judge(src, f"surrogate:{tmp_path / 'bench'}:so2sat-s2", plan=SamplingPlan.small(n_climbs=0),
              surrogate_plan=SamplingPlan.small(n_climbs=0), folds=3)
    exploit = [c for c in j.verdict.comparisons if c.unit == "exploit"]
    assert exploit and all(c.n_units == 3 for c in exploit)
    assert j.paired_by.startswith("out-of-fold (3-fold refits")


def test_plan_exploit_bad_input(tmp_path, run_cli):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[campaign]\nname = "w1"\nspace = "nb201"\ntasks = ["so2sat-s2"]\nprotocol = "smoke"\n'
                   '[strata.random]\nn = 10\n')
    r = run_cli("plan", cfg, "--out", tmp_path / "m.parquet", "--exploit-from", tmp_path / "nope")
    assert r.returncode == 2 and "strata.exploit.surrogate" in r.stderr and not (tmp_path / "m.parquet").exists()
    r = run_cli("plan", cfg, "--out", tmp_path / "m.parquet", "--exploit-from", tmp_path / "nope",
                "--exploit-neighbours", "99")
    assert r.returncode == 2 and "strata.exploit.neighbours = 99" in r.stderr
