"""The feature contract, footprint JSON, and the fidelity verdict."""
from __future__ import annotations

import json

import numpy as np
import pytest

from surrogate_eo.errors import LandscapeError
from surrogate_eo.landscape import (CORE_FEATURES, REGISTRY, Feature, Footprint, LookupSource, ModelSource,
                                    SamplingPlan, Tolerance, fidelity, footprint, plan_strata)
from surrogate_eo.landscape.features import compute_features
from surrogate_eo.landscape.nk import NKLandscape


@pytest.fixture(scope="module")
def nk_fp():
    nk = NKLandscape(14, 3, seed=1)
    second = NKLandscape(14, 3, seed=1)
    return footprint(nk, SamplingPlan.small(), second=second, seed=0)


def test_every_feature_has_the_contract(nk_fp) -> None:
    assert set(REGISTRY) <= set(nk_fp.features)  # small plan covers every stratum
    for name, f in nk_fp.features.items():
        d = f.to_dict()
        assert set(d) == {"value", "ci", "n", "params"} and d["n"] > 0, name
        if f.is_map:
            assert set(d["ci"]) == set(d["value"]) and all(len(v) == 2 for v in d["ci"].values())
        else:
            assert len(d["ci"]) == 2
        assert Feature.from_dict(name, d).to_dict() == d


def test_json_schema_and_roundtrip(nk_fp, tmp_path) -> None:
    path = tmp_path / "fp.json"
    nk_fp.save(path)
    d = json.loads(path.read_text())
    assert set(CORE_FEATURES) <= set(d["features"])
    assert d["features"]["neutrality"]["params"]["epsilons"] == [0.0, 0.001, 0.005, 0.01]
    assert set(d["features"]["neutrality"]["value"]) == {"0", "0.001", "0.005", "0.01"}
    back = Footprint.load(path)
    assert back.value("autocorr_lag1") == pytest.approx(nk_fp.value("autocorr_lag1"))


def test_same_seed_same_footprint() -> None:
    nk = NKLandscape(12, 2, seed=0)
    a = footprint(nk, SamplingPlan.small(), seed=4).to_dict()
    b = footprint(nk, SamplingPlan.small(), seed=4).to_dict()
    assert a == b


def test_identical_fidelities_persist_fully(nk_fp) -> None:
    assert all(v == pytest.approx(1.0) for v in nk_fp["persistence_top"].value.values())
    assert nk_fp.value("persistence_bottom_auc") == pytest.approx(1.0)


def test_correlation_lengths_follow_rho1(nk_fp) -> None:
    r = nk_fp.value("autocorr_lag1")
    assert nk_fp.value("corr_length") == pytest.approx(-1 / np.log(abs(r)))
    assert nk_fp.value("corr_length_traore") == pytest.approx(1 / r)
    assert nk_fp["autocorrelation"].value["1"] == pytest.approx(r)


def test_bad_inputs_raise_landscape_errors() -> None:
    with pytest.raises(LandscapeError, match="walk_length"):
        SamplingPlan(walk_length=1)
    with pytest.raises(LandscapeError, match="unknown landscape feature"):
        compute_features(footprint(NKLandscape(8, 1, seed=0), SamplingPlan.small(), seed=0).data, ["nope"])
    with pytest.raises(LandscapeError, match="not a fitness source"):
        footprint(object())
    with pytest.raises(LandscapeError, match="exact=True"):
        db_like = LookupSource("nb201", [[0] * 6, [1] * 6], [0.5, 0.6])
        footprint(db_like, exact=True)


def test_tolerance_band_and_z() -> None:
    t = Tolerance(abs=0.01, ratio=2.0)
    assert t.z(0.002, 0.004) == pytest.approx(0.2)  # abs wins: 0.002 / 0.01
    assert t.band(0.1) == pytest.approx((-0.05, 0.1))
    with pytest.raises(LandscapeError):
        Tolerance()


def test_verdict_on_nk_twins_and_strangers() -> None:
    plan = SamplingPlan.small(n_climbs=0, n_neutral_walks=0, n_boot=100)
    same = fidelity(NKLandscape(14, 2, seed=0), NKLandscape(14, 2, seed=0), plan=plan, seed=0)
    assert same.verdict == "faithful" and same.score == pytest.approx(1.0)
    assert same.counts() == {"faithful": len(same.judged()), "inconclusive": 0, "unfaithful": 0}
    rugged = fidelity(NKLandscape(14, 2, seed=0), NKLandscape(14, 12, seed=1), plan=plan, seed=0)
    assert rugged.verdict == "unfaithful" and not rugged.passed
    assert "autocorr_lag1" in rugged.failed_features()
    d = rugged.to_dict()
    assert d["verdict"] == "unfaithful" and {"truth", "paired", "distributional"} <= set(d["footprints"])


def test_nb201_verdict_separates_good_from_noisy(nb201_table) -> None:
    """Campaign of ~750 runs on NB201: the table itself (and a slightly noisy copy) pass, heavy noise fails."""
    truth = nb201_table.source("CIFAR10TestAccuracy200Epochs")
    space = truth.space
    plan = SamplingPlan.for_campaign(750, space.degree, n_boot=100)
    st = plan_strata(space, plan.n_points, plan.n_walks, plan.walk_length, plan.n_centres, seed=0)
    archs = space.from_index(np.unique(space.index(st.archs())))
    gt = LookupSource(space, archs, truth.fitness(archs), name="campaign")
    fresh = SamplingPlan(n_points=3000, n_walks=100, walk_length=50, n_centres=300, n_climbs=0,
                         n_neutral_walks=0, n_boot=100)

    class Noisy:
        def __init__(self, sigma: float) -> None:
            self.space, self.name = space, f"noise{sigma}"
            self.noise = np.random.default_rng(0).normal(0, sigma, space.size)

        def predict(self, archs):
            return truth.fitness(archs) + self.noise[space.enumeration_index(archs)]

    ok = fidelity(gt, truth, strata=st, plan=plan, surrogate_plan=fresh, seed=0)
    # 750 runs: 10 walks and 10 neighbourhoods (< 20), so the identity is inconclusive, never unfaithful
    assert ok.verdict == "inconclusive", ok.summary()
    assert ok.counts()["unfaithful"] == 0 and set(ok.runs_needed) == {"walks", "neighbourhoods"}
    bad = fidelity(gt, ModelSource(Noisy(0.03), space), strata=st, plan=plan, surrogate_plan=fresh, seed=0)
    assert bad.verdict == "unfaithful"
    assert {"rank_agreement", "fdc_pearson"} & bad.failed_features()
