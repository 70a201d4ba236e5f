"""Cross-check on the real NAS-Bench-201 table against the peer library GraphFLA (skipped without the table).

GraphFLA's conventions (read from its source, graphfla 0.4): FDC uses the distance
to the nearest of tied global optima; ``neutrality(threshold)`` is the fraction of
neighbour pairs with |df| <= threshold; ``n_lo`` counts a plateau of equal-fitness
optima once, and its single-point optima (no better *and* no equal neighbour) are
our strict optima. Its random walk only moves along improving edges, so its
autocorrelation is a different quantity and is not compared.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from surrogate_eo.landscape import SamplingPlan, footprint
from surrogate_eo.landscape.exact import exact_features, exact_local_optima, neighbour_table

graphfla = pytest.importorskip("graphfla")
# graphfla 0.4 uses pandas' deprecated inplace= (Pandas4Warning); not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")

C10 = "CIFAR10TestAccuracy200Epochs"


@pytest.fixture(scope="module")
def c10(nb201_table):
    return nb201_table.source(C10)


def _graphfla(space, f: np.ndarray):
    from graphfla.landscape import Landscape

    X = pd.DataFrame(space.enumerate(), columns=[f"e{i}" for i in range(space.n_dims)])
    return Landscape().build_from_data(X, f, data_types={c: "categorical" for c in X.columns}, verbose=False)


# Cifar10TestAccuracy12Epochs has a plateau optimum (3 tied neighbours on a peak): 20 strict, 21 distinct optima
@pytest.mark.parametrize("column", [C10, "CIFAR100TestAccuracy200Epochs", "Cifar10TestAccuracy12Epochs"])
def test_fdc_neutrality_optima_agree_with_graphfla(nb201_table, column: str) -> None:
    from graphfla.analysis import fdc, neutrality

    space = nb201_table.space
    f = nb201_table.all_values(column)
    eps = (0.0, 0.001, 0.005, 0.01)
    ex = exact_features(space, f, SamplingPlan(epsilons=eps).analysis_params())
    L = _graphfla(space, f)
    assert ex["fdc_pearson"].value == pytest.approx(fdc(L, "pearson"), abs=1e-9)
    assert ex["fdc_spearman"].value == pytest.approx(fdc(L, "spearman"), abs=1e-9)
    for e in eps:
        assert ex["neutrality"].value[f"{e:g}"] == pytest.approx(neutrality(L, threshold=e), abs=1e-12)
    assert ex["local_optima_plateau"].value == L.n_lo
    singletons = L.n_lo - L.n_plateau_lo
    n_plateau_members = L.n_lo_members - singletons
    assert ex["local_optima_strict"].value == singletons
    assert n_plateau_members >= 2 * L.n_plateau_lo
    if column == "Cifar10TestAccuracy12Epochs":
        assert (L.n_lo, L.n_plateau_lo, ex["local_optima_strict"].value) == (21, 1, 20)


def test_seed_averaged_cifar10_has_two_tied_optima(nb201_table) -> None:
    """Two archs tie for the best seed-averaged CIFAR-10 accuracy: FDC measures distance to the nearer."""
    space = nb201_table.space
    f = nb201_table.all_values(C10)
    ex = exact_features(space, f, SamplingPlan().analysis_params())
    assert ex["fdc_pearson"].params["n_best"] == 2
    assert ex["fdc_pearson"].params["best_fitness"] == pytest.approx(0.9437, abs=1e-4)
    assert ex["local_optima_strict"].value == 17


def test_sampled_footprint_brackets_exact_nb201(c10) -> None:
    plan = SamplingPlan(n_points=5000, n_walks=300, walk_length=50, n_centres=1500, n_climbs=0,
                        n_neutral_walks=0, n_boot=300, ci_level=0.99)
    fp = footprint(c10, plan, seed=3)
    ex = footprint(c10, plan.replace(n_points=10, n_walks=2, walk_length=2, n_centres=1), seed=3, exact=True)
    for name in ("autocorr_lag1", "fdc_spearman", "fitness_mean", "local_optima_fraction"):
        lo, hi = fp[name].ci
        assert lo <= ex.value(name) <= hi, (name, fp.value(name), ex.value(name))
    for e in ("0.001", "0.005", "0.01"):
        lo, hi = fp["neutrality"].ci[e]
        assert lo <= ex.value("neutrality", e) <= hi
    assert ex.value("autocorr_lag1") == pytest.approx(0.5600, abs=1e-4)
    assert ex.value("corr_length") == pytest.approx(-1 / np.log(ex.value("autocorr_lag1")))
    assert ex.value("corr_length_traore") == pytest.approx(1 / ex.value("autocorr_lag1"))


def test_plateau_optima_on_a_handmade_landscape() -> None:
    """Two equal neighbours on top form one plateau optimum: strict count 0, plateau count 1."""
    from surrogate_eo.landscape.nk import BitStringSpace

    s = BitStringSpace(2)
    _, nbr = neighbour_table(s)
    f = np.array([0.1, 0.5, 0.5, 0.2])  # 00, 01, 10, 11 in enumerate order: 01 and 10 are not neighbours
    assert exact_local_optima(f, nbr)[:2] == (2, 2)
    f = np.array([0.1, 0.5, 0.2, 0.5])  # 01 and 11 are neighbours and tie: one plateau optimum
    strict, plateau, n_plateaus = exact_local_optima(f, nbr)
    assert (strict, plateau, n_plateaus) == (0, 1, 1)
