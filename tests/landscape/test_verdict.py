"""The three-outcome fidelity verdict: simultaneous CIs, minimum evidence, modes, the top, tolerances files."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import norm, t as student_t

from surrogate_eo.errors import LandscapeError
from surrogate_eo.landscape import SamplingPlan, Strata, fidelity, plan_strata
from surrogate_eo.landscape.nk import NKLandscape
from surrogate_eo.landscape.simultaneous import judge_differences, marginal_factor, simultaneous_band
from surrogate_eo.landscape.tolerances import DEFAULT_TOLERANCES, load_tolerances

PLAN = SamplingPlan.small(n_climbs=0, n_neutral_walks=0, n_boot=200)


class Table:
    """A complete fitness source from one value per arch of a finite space."""

    def __init__(self, space, values, name="table"):
        self.space, self.values, self.name = space, np.asarray(values, float), name

    def fitness(self, archs):
        return self.values[self.space.enumeration_index(archs)]


@pytest.fixture(scope="module")
def nk():
    land = NKLandscape(12, 2, seed=3)
    return land, land.fitness(land.space.enumerate())


# ---------------------------------------------------------------- the simultaneous band
def test_judge_differences_three_outcomes_and_min_units() -> None:
    rng = np.random.default_rng(0)
    boot = rng.normal([0.0, 1.0, 0.45], 0.1, size=(1000, 3))
    bands = np.array([[-0.5, 0.5]] * 3)
    ci, out = judge_differences(np.array([0.0, 1.0, 0.45]), boot, bands, 0.95, min_units=20,
                                n_units=np.array([100, 100, 100]))
    assert out == ["faithful", "unfaithful", "inconclusive"]
    assert ci[0, 0] < 0 < ci[0, 1] and ci[1, 0] > 0.5
    _, out = judge_differences(np.array([0.0, 1.0, 0.45]), boot, bands, 0.95, min_units=20,
                               n_units=np.array([100, 3, 100]))
    assert out[1] == "inconclusive"  # clearly outside, but too few units: never unfaithful
    _, sig = judge_differences(np.array([0.0, 1.0, 0.45]), boot, None)
    assert sig == ["not significant", "significant", "significant"]


def test_simultaneous_wider_than_marginal_and_below_bonferroni() -> None:
    rng = np.random.default_rng(1)
    K = 12
    boot = rng.normal(0, 1, size=(4000, K))
    ci, c = simultaneous_band(np.zeros(K), boot, 0.95)
    marginal = norm.ppf(0.975)
    bonferroni = norm.ppf(1 - 0.025 / K)
    assert marginal < c < bonferroni * 1.05
    assert c == pytest.approx(norm.ppf(0.5 + 0.95 ** (1 / K) / 2), abs=0.12)  # Sidak for independent features
    # perfectly correlated features need no widening at all
    one = rng.normal(0, 1, size=(4000, 1))
    _, c_corr = simultaneous_band(np.zeros(K), np.repeat(one, K, axis=1), 0.95)
    assert c_corr == pytest.approx(marginal, abs=0.1)


def test_simultaneous_band_covers_on_a_synthetic_family() -> None:
    """K correlated means from n units: the band covers all K true means together in ~95 % of samples,
    while K marginal 95 % intervals cover all of them far less often."""
    rng = np.random.default_rng(2)
    K, n, B, reps = 8, 60, 300, 300
    L = np.linalg.cholesky(0.5 * np.eye(K) + 0.5)
    sim = marg = 0
    for _ in range(reps):
        x = rng.standard_t(6, size=(n, K)) @ L.T
        est = x.mean(axis=0)
        idx = rng.integers(0, n, size=(B, n))
        boot = x[idx].mean(axis=1)
        ci, _ = simultaneous_band(est, boot, 0.95, np.full(K, n))
        sim += bool(np.all((ci[:, 0] <= 0) & (0 <= ci[:, 1])))
        half = marginal_factor(n) * norm.ppf(0.975) * boot.std(axis=0, ddof=1)
        marg += bool(np.all(np.abs(est) <= half))
    assert sim / reps >= 0.91
    assert marg / reps < sim / reps - 0.15


def test_marginal_factor_is_the_t_over_z_correction() -> None:
    n = 10
    want = np.sqrt(n / (n - 1)) * student_t.ppf(0.975, n - 1) / norm.ppf(0.975)
    assert marginal_factor(n) == pytest.approx(want)
    assert marginal_factor(10 ** 6) == pytest.approx(1.0, abs=1e-5)


# ---------------------------------------------------------------- the verdict on known answers
def test_identity_on_a_complete_nk_landscape_is_never_unfaithful(nk) -> None:
    land, _ = nk
    outs = [fidelity(land, land, plan=PLAN, seed=s, footprints=False).verdict for s in range(5)]
    assert outs == ["faithful"] * 5


def test_shuffled_surrogate_is_unfaithful_in_both_modes(nk) -> None:
    land, f = nk
    shuffled = Table(land.space, np.random.default_rng(0).permutation(f), "shuffled")
    v = fidelity(land, shuffled, plan=PLAN, seed=0, footprints=False)
    assert v.verdict == "unfaithful" and v.verdict_for("rank") == "unfaithful"
    assert {"rank_agreement", "autocorr_lag1", "autocorr_lag1_rank"} <= v.failed_features()
    bad = {c.label: c for c in v.comparisons}["autocorr_lag1"]
    assert bad.ci[1] < bad.band[0] and bad.reason.startswith("simultaneous CI entirely below")


def test_rank_identical_transform_faithful_for_ranking_only(nk) -> None:
    land, f = nk
    g = np.exp(20 * f)  # strictly increasing, rescaled to the same mean and std (NK's spread is narrow)
    g = (g - g.mean()) / g.std() * f.std() + f.mean()
    v = fidelity(land, Table(land.space, g, "y^4"), plan=PLAN, seed=0, mode="rank", footprints=False)
    assert v.verdict == "faithful" and v.verdicts == {"value": "unfaithful", "rank": "faithful"}
    assert all(c.rank_invariant for c in v.judged())
    assert not all(c.rank_invariant for c in v.judged("value"))


def test_one_walk_campaign_is_inconclusive_with_runs_needed(nk) -> None:
    land, f = nk
    shuffled = Table(land.space, np.random.default_rng(0).permutation(f), "shuffled")
    plan = SamplingPlan(n_points=20, n_walks=1, walk_length=10, n_centres=1, n_climbs=0, n_neutral_walks=0)
    v = fidelity(land, shuffled, plan=plan, seed=0, truth_adaptive=False, footprints=False)
    assert v.verdict == "inconclusive"  # even a shuffled surrogate: too little evidence to call it unfaithful
    c = {c.label: c for c in v.comparisons}["autocorr_lag1"]
    assert c.verdict == "inconclusive" and c.reason.startswith("only 1 walk (< 20)")
    assert c.extra_runs["walks"] >= 19 * 10
    assert v.runs_needed["walks"] >= 190 and v.runs_needed["random"] >= 30


def test_top_permuted_surrogate_is_caught_by_the_exploit_stratum(nk) -> None:
    land, f = nk
    order = np.argsort(-f)
    top = order[:len(f) // 10]
    g = f.copy()
    g[top] = f[np.random.default_rng(1).permutation(top)]
    plan = PLAN.replace(n_exploit=10)
    v = fidelity(land, Table(land.space, g, "top permuted"), plan=plan, seed=0, footprints=False)
    assert v.verdict == "unfaithful"
    assert {"top_local_optima", "top_neighbour_rank"} & v.failed_features()
    assert v.agreement["exploit_centres"] == 10 and v.agreement["regret_top1"] > 0
    same = fidelity(land, land, plan=plan, seed=0, footprints=False)
    assert same.verdict == "faithful" and same.agreement["regret_top1"] == 0.0


def test_verdict_json_schema_2(nk, tmp_path) -> None:
    land, _ = nk
    v = fidelity(land, NKLandscape(12, 8, seed=4), plan=PLAN, seed=0)
    v.save(tmp_path / "v.json")
    d = json.loads((tmp_path / "v.json").read_text())
    assert d["schema"] == "surrogate-eo/fidelity-verdict/2"
    assert d["verdict"] == v.verdict == "unfaithful" and d["mode"] == "value"
    assert set(d["verdicts"]) == {"value", "rank"} and isinstance(d["runs_needed"], dict)
    assert {"truth", "paired", "distributional"} <= set(d["footprints"])
    for c in d["comparisons"]:
        assert c["verdict"] in ("faithful", "unfaithful", "inconclusive") and len(c["ci"]) == 2
        assert isinstance(c["rank_invariant"], bool) and c["reason"]
    with pytest.raises(LandscapeError, match="unknown verdict mode"):
        v.verdict_for("values")
    with pytest.raises(LandscapeError, match="unknown verdict mode"):
        fidelity(land, land, plan=PLAN, mode="ranks")


# ---------------------------------------------------------------- strata, plans, tolerance files
def test_strata_exploit_roundtrip_and_cost() -> None:
    from surrogate_eo.spaces import get_space

    space = get_space("nb201")
    st = plan_strata(space, 5, 1, 4, 1, seed=0)
    with_x = Strata(space, st.points, st.walks, st.centres, exploit=space.sample(2, seed=1))
    back = Strata.from_dict(json.loads(json.dumps(with_x.to_dict())))
    assert np.array_equal(back.exploit, with_x.exploit)
    assert len(with_x.archs()) == len(st.archs()) + 2 * (space.degree + 1)
    assert with_x.sizes()["exploit"] == 2 and st.sizes()["exploit"] is None


def test_for_campaign_exploit_wave() -> None:
    p = SamplingPlan.for_campaign(1563, 24, exploit=0.16)
    assert p.n_exploit == 10 and p.n_points == (1563 - 250) // 3
    with pytest.raises(LandscapeError, match="exploit is a fraction"):
        SamplingPlan.for_campaign(1563, 24, exploit=1.5)


def test_load_tolerances_validates(tmp_path) -> None:
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"fitness_mean": {"abs": 0.01}, "dispersion": None,
                             "neutrality": {"abs": 0.05, "keys": ["0.005"]}}))
    t = load_tolerances(p)
    assert t["fitness_mean"].abs == 0.01 and "dispersion" not in t and t["neutrality"].keys == ("0.005",)
    assert t["fdc_spearman"] == DEFAULT_TOLERANCES["fdc_spearman"]
    for bad, msg in (({"nope": {"abs": 1}}, "unknown feature 'nope'"),
                     ({"fitness_mean": {"abs": -0.1}}, "abs must be > 0"),
                     ({"fitness_mean": {"abs": "x"}}, "must be a number"),
                     ({"fitness_std": {"ratio": 0.5}}, "ratio must be > 1"),
                     ({"fitness_mean": 3}, "must be an object"),
                     ([1, 2], "expected an object")):
        p.write_text(json.dumps(bad))
        with pytest.raises(LandscapeError, match=msg) as e:
            load_tolerances(p)
        assert "\n" not in str(e.value) and str(p) in str(e.value)
    p.write_text("{")
    with pytest.raises(LandscapeError, match="not JSON"):
        load_tolerances(p)


def test_a_37_run_database_campaign_is_inconclusive_not_unfaithful(make_database, nb201_table) -> None:
    """The demo's campaign size: 8 points, one 4-step walk, one neighbourhood (37 runs) — even against a
    shuffled surrogate the evidence rule says "inconclusive" and how many runs of each stratum to add."""
    from surrogate_eo.landscape import DatabaseSource
    from surrogate_eo.spaces import get_space

    space = get_space("nb201")
    truth = nb201_table.source("CIFAR10TestAccuracy200Epochs")
    st = plan_strata(space, 8, 1, 4, 1, seed=0)
    db = make_database(space, st, truth.fitness)
    f = truth.fitness(space.enumerate())
    shuffled = Table(space, np.random.default_rng(0).permutation(f), "shuffled")
    v = fidelity(DatabaseSource(db, "so2sat-s2", space="nb201"), shuffled, plan=PLAN, seed=0, footprints=False)
    assert v.verdict == "inconclusive" and v.verdicts["rank"] == "inconclusive"
    assert not any(c.verdict == "unfaithful" for c in v.comparisons)
    assert {"random", "walks", "neighbourhoods"} <= set(v.runs_needed)
    assert any(c.reason.startswith("only 8 uniform points (< 50)") for c in v.comparisons)


def test_exploit_wave_from_database_plan_entries(nb201_table) -> None:
    """Plan entries of stratum "exploit" (group = rank, position 0 = centre) become the exploit centres
    when their whole neighbourhood was trained; an incomplete one is dropped and counted."""
    import pandas as pd

    from surrogate_eo.database import Database
    from surrogate_eo.landscape import DatabaseSource
    from surrogate_eo.landscape.samplers import strata_from_plan
    from surrogate_eo.records import RunRecord, RunSpec
    from surrogate_eo.spaces import get_space

    space = get_space("nb201")
    truth = nb201_table.source("CIFAR10TestAccuracy200Epochs")
    pts = space.sample(30, seed=0)
    centres = space.sample(2, seed=1)
    rows, recs = [], {}
    blocks = [("random", 0, i, a) for i, a in enumerate(pts)]
    for g, c in enumerate(centres):
        nb = space.neighbours(c)
        if g == 1:
            nb = nb[:-1]  # one neighbour never trained
        blocks += [("exploit", g, j, a) for j, a in enumerate(np.concatenate([c[None], nb]))]
    for stratum, g, pos, a in blocks:
        s = space.to_string(a)
        spec = RunSpec(space="nb201", arch=s, task="t", seed=0, protocol="smoke", protocol_hash="h", stratum=stratum)
        recs[spec.run_id] = RunRecord(spec, "ok", epochs=[{"val_acc": float(truth.fitness(a[None])[0])}])
        rows.append(dict(stratum=stratum, group=g, position=pos, task="t", seed=0, run_id=spec.run_id, arch=s))
    db = Database.from_records(recs.values(), plan=pd.DataFrame(rows))
    src = DatabaseSource(db, "t", space="nb201")
    st = strata_from_plan(src, db, "t")
    assert st.exploit is not None and np.array_equal(st.exploit, centres[:1])
    assert st.meta["exploit_incomplete"] == 1
    # the verdict finds the wave itself and judges the top on it
    v = fidelity(src, truth, plan=PLAN, seed=0, footprints=False)
    assert v.agreement["exploit_centres"] == 1
    assert {"top_fitness_mean", "top_neighbour_rank"} <= {c.feature for c in v.comparisons}
