"""Estimators against theory we did not write: Weinberger's NK autocorrelation, OneMax FDC, exact enumeration."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.landscape import SamplingPlan, footprint
from surrogate_eo.landscape.exact import (exact_autocorrelation, exact_fdc, exact_features, exact_rho1_pairs,
                                          neighbour_table)
from surrogate_eo.landscape.features import LandscapeData, compute_features
from surrogate_eo.landscape.nk import BitStringSpace, NKLandscape, OneMax
from surrogate_eo.landscape.samplers import random_walks

PLAN = SamplingPlan()


@pytest.mark.parametrize("n,k", [(16, 0), (16, 3), (16, 8), (24, 2), (24, 12), (12, 11)])
def test_ensemble_rho1_matches_weinberger(n: int, k: int) -> None:
    """Pooled over 300 independent landscapes (one walk each), rho(1) = 1 - (K+1)/N within its 99 % CI."""
    walks, fits = [], []
    for i in range(300):
        nk = NKLandscape(n, k, seed=[n, k, i])
        w = random_walks(nk.space, 1, 40, seed=[n, k, i, 1])
        walks.append(w)
        fits.append(nk.fitness(w.reshape(-1, n)).reshape(1, -1))
    data = LandscapeData(nk.space, "NK ensemble", PLAN.analysis_params(), walks=np.concatenate(walks),
                         f_walks=np.concatenate(fits))
    f = compute_features(data, ["autocorr_lag1"], n_boot=400, level=0.99)["autocorr_lag1"]
    theory = 1 - (k + 1) / n
    assert f.ci[0] <= theory <= f.ci[1], (f.value, f.ci, theory)
    assert abs(f.value - theory) < 0.03


def test_single_landscape_is_not_weinberger_but_matches_exact() -> None:
    """Within one K=0 landscape rho(1) = 1 - 2/N exactly (not 1 - 1/N); sampling finds the exact value."""
    nk = NKLandscape(14, 0, seed=3)
    f = nk.fitness(nk.space.enumerate())
    _, nbr = neighbour_table(nk.space)
    rho = exact_autocorrelation(f, nbr, 3)
    assert rho[0] == pytest.approx(1 - 2 / 14, abs=1e-12)
    assert rho[0] == pytest.approx(exact_rho1_pairs(f, nbr), abs=1e-12)
    fp = footprint(nk, SamplingPlan(n_points=100, n_walks=300, walk_length=60, n_centres=0, n_climbs=0,
                                    n_neutral_walks=0, n_boot=300), seed=1, features=["autocorr_lag1"])
    lo, hi = fp["autocorr_lag1"].ci
    assert lo <= rho[0] <= hi


@pytest.mark.parametrize("k", [2, 5])
def test_sampled_rho_and_neutrality_match_exact_in_one_landscape(k: int) -> None:
    nk = NKLandscape(12, k, seed=10 + k)
    plan = SamplingPlan(n_points=3000, n_walks=300, walk_length=50, n_centres=800, n_climbs=0, n_neutral_walks=0,
                        epsilons=(0.01, 0.03), max_lag=3, n_boot=300, ci_level=0.99)
    fp = footprint(nk, plan, seed=2, exact=False)
    ex = exact_features(nk.space, nk.fitness(nk.space.enumerate()), plan.analysis_params())
    for s in ("1", "2", "3"):
        lo, hi = fp["autocorrelation"].ci[s]
        assert lo <= ex["autocorrelation"].value[s] <= hi, s
    for e in ("0.01", "0.03"):
        lo, hi = fp["neutrality"].ci[e]
        assert lo <= ex["neutrality"].value[e] <= hi, e
    lo, hi = fp["local_optima_fraction"].ci
    assert lo <= ex["local_optima_fraction"].value <= hi
    for key in ("fdc_pearson", "fitness_mean", "fitness_std"):
        lo, hi = fp[key].ci
        assert lo <= ex[key].value <= hi, key


def test_exact_information_content_matches_walks() -> None:
    nk = NKLandscape(10, 3, seed=4)
    plan = SamplingPlan(n_points=10, n_walks=400, walk_length=40, n_centres=0, n_climbs=0, n_neutral_walks=0,
                        info_epsilons=(0.0, 0.02), n_boot=300, ci_level=0.99)
    fp = footprint(nk, plan, seed=0, features=["information_content"])
    ex = exact_features(nk.space, nk.fitness(nk.space.enumerate()), plan.analysis_params())
    for e in ("0", "0.02"):
        lo, hi = fp["information_content"].ci[e]
        assert lo <= ex["information_content"].value[e] <= hi


def test_onemax_fdc_is_minus_one() -> None:
    om = OneMax(10)
    pear, spear, n_best = exact_fdc(om.space, om.space.enumerate(), om.fitness(om.space.enumerate()))
    assert (pear, spear, n_best) == (pytest.approx(-1.0), pytest.approx(-1.0), 1)
    fp = footprint(om, SamplingPlan.small(n_climbs=20), seed=0, features=["fdc_pearson", "fdc_spearman"])
    # climbs reach the all-ones optimum, so the sampled FDC measures distance to it: exactly -1
    assert fp.value("fdc_pearson") == pytest.approx(-1.0)
    assert fp.value("fdc_spearman") == pytest.approx(-1.0)


def test_onemax_is_unimodal_and_climbs_take_the_distance() -> None:
    om = OneMax(12)
    ex = exact_features(om.space, om.fitness(om.space.enumerate()), PLAN.analysis_params())
    assert ex["local_optima_strict"].value == 1 and ex["local_optima_plateau"].value == 1
    fp = footprint(om, SamplingPlan.small(n_climbs=25), seed=5)
    data = fp.data
    zeros = (data.climbs.starts == 0).sum(axis=1)
    assert np.array_equal(data.climbs.steps, zeros)  # one flip per missing one
    assert fp.value("climb_optima_distinct") == 1


def test_bitstring_space_contract() -> None:
    s = BitStringSpace(5)
    assert s.size == 32 and s.degree == 5
    assert s.to_string(s.from_string("01101")) == "01101"
    assert (s.distance(s.neighbours("00000"), "00000") == 1).all()
