"""Exact mode goes through the feature registry; it must equal the closed-form helpers of exact.py."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.landscape import SamplingPlan
from surrogate_eo.landscape.exact import (complete_data, exact_autocorrelation, exact_fdc, exact_features,
                                          exact_information_content, exact_local_optima, exact_neutrality,
                                          exact_rho1_pairs, neighbour_table)
from surrogate_eo.landscape.features import REGISTRY
from surrogate_eo.landscape.nk import NKLandscape

PARAMS = SamplingPlan().analysis_params()


def _check(space, f):
    archs, nbr = neighbour_table(space)
    ex = exact_features(space, f, PARAMS)
    pear, spear, _ = exact_fdc(space, archs, f)
    assert ex["fdc_pearson"].value == pytest.approx(pear, abs=1e-12)
    assert ex["fdc_spearman"].value == pytest.approx(spear, abs=1e-12)
    rho = exact_autocorrelation(f, nbr, PARAMS["max_lag"])
    assert [ex["autocorrelation"].value[str(s + 1)] for s in range(len(rho))] == pytest.approx(rho, abs=1e-12)
    assert ex["autocorr_lag1"].value == pytest.approx(exact_rho1_pairs(f, nbr), abs=1e-12)
    assert ex["autocorr_lag1"].params["exact"] is True and ex["autocorr_lag1"].ci == (ex["autocorr_lag1"].value,) * 2
    eps = list(PARAMS["epsilons"])
    assert [ex["neutrality"].value[f"{e:g}"] for e in eps] == pytest.approx(exact_neutrality(f, nbr, eps), abs=1e-12)
    strict, plateau, _ = exact_local_optima(f, nbr)
    assert ex["local_optima_strict"].value == strict and ex["local_optima_strict"].params["kind"] == "count"
    assert ex["local_optima_fraction"].value == pytest.approx(strict / len(f))
    assert ex["local_optima_plateau"].value == plateau
    ieps = list(PARAMS["info_epsilons"])
    H = exact_information_content(f, nbr, ieps)
    assert [ex["information_content"].value[f"{e:g}"] for e in ieps] == pytest.approx(H, abs=1e-12)
    assert ex["fitness_std"].value == pytest.approx(f.std(ddof=1))
    assert ex["fitness_quantiles"].value["0.5"] == pytest.approx(np.median(f))
    # every registry feature a complete enumeration supports is computed, through its spec
    data = complete_data(space, f, PARAMS)
    assert {n for n, s in REGISTRY.items() if s.resolve(data) is not None} <= set(ex)
    return ex


def test_nk_landscapes():
    for k in (0, 3):
        nk = NKLandscape(10, k, seed=1)
        _check(nk.space, nk.fitness(nk.space.enumerate()))


def test_nb201_cifar10(nb201_table):
    ex = _check(nb201_table.space, nb201_table.all_values("CIFAR10TestAccuracy200Epochs"))
    assert round(ex["autocorr_lag1"].value, 3) == 0.560 and ex["local_optima_strict"].value == 17
