"""Normal-score targets (surrogates/targets.py) in XGBoost: rank invariance, the compiled path, artifacts, bad input."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from surrogate_eo.errors import ArtifactError, SurrogateError
from surrogate_eo.surrogates import XGBSurrogate, fit_benchmark, make_model
from surrogate_eo.surrogates._compiled import COMPILE_AFTER, compile_model
from surrogate_eo.surrogates._query import compile_entry_model
from surrogate_eo.surrogates.targets import from_normal_scores, read_knots


def _fit(archs, y, **kw):
    return XGBSurrogate(space="nb201", n_estimators=60, target="normal", **kw).fit(archs, y)


def test_normal_targets_use_only_the_ranks_and_predict_in_target_units(toy_data):
    archs, y = toy_data
    a = _fit(archs[:300], y[:300]).predict(archs[300:])
    b = _fit(archs[:300], np.exp(8 * y[:300])).predict(archs[300:])  # a monotone change of the targets
    assert kendalltau(a, b)[0] == pytest.approx(1.0)  # same normal scores, same trees: same order
    assert y.min() - 0.05 <= a.min() and a.max() <= y.max() + 0.05  # mapped back to accuracy units
    assert kendalltau(a, y[300:])[0] > 0.6
    raw = XGBSurrogate(space="nb201", n_estimators=60).fit(archs[:300], np.exp(8 * y[:300])).predict(archs[300:])
    assert kendalltau(raw, b)[0] < 0.999  # raw targets: the tail reshapes the fit


def test_normal_target_trees_are_mapped_back_on_every_path(toy_data):
    archs, y = toy_data
    model = _fit(archs[:300], y[:300])
    assert compile_model(model) is None and compile_entry_model(model) is None  # summed leaves are normal scores
    X = model.featurizer_.transform(archs[:5])
    expect = from_normal_scores(np.asarray(model.booster_.inplace_predict(X), dtype=np.float64), model.knots_)
    for _ in range(COMPILE_AFTER + 1):  # past the call where small batches would switch to exported trees
        np.testing.assert_allclose(model.predict(archs[:5]), expect, rtol=1e-6)
    raw = XGBSurrogate(space="nb201", n_estimators=60).fit(archs[:300], y[:300])
    assert compile_model(raw) is not None  # raw-target trees keep the fast path


def test_normal_target_benchmark_roundtrip(tiny_db, tmp_path):
    import surrogate_eo
    from surrogate_eo.database import Database

    bench = fit_benchmark(Database.read(tiny_db), tasks=["so2sat-s2"],
                          model=XGBSurrogate(space="nb201", n_estimators=40, target="normal"))
    archs = bench.space.sample(40, seed=2)
    bench.save(str(tmp_path / "b"))
    loaded = surrogate_eo.load(tmp_path / "b")
    np.testing.assert_allclose(loaded.predict(archs, task="so2sat-s2"), bench.predict(archs, task="so2sat-s2"),
                               rtol=1e-6)
    model = loaded.entry("so2sat-s2", "val_acc")[0].model
    assert model.target == "normal" and len(model.knots_[0]) >= 2
    for _ in range(3):  # repeated queries (the query engine's fast paths) give the model's own predictions
        np.testing.assert_allclose(loaded.predict(archs[:4], task="so2sat-s2"), model.predict(archs[:4]), rtol=1e-6)


@pytest.mark.parametrize("state, what", [
    ({"target_y": [0.1, 0.2]}, "target_z"),
    ({"target_z": [0.0, 1.0], "target_y": [0.5, 0.2]}, "increasing"),
    ({"target_z": [0.0, float("nan")], "target_y": [0.1, 0.2]}, "finite"),
])
def test_garbled_knots_in_an_artifact_are_named(state, what):
    with pytest.raises(ArtifactError, match=f"XGBSurrogate state .*target_z, target_y.*{what}"):
        read_knots(state, "XGBSurrogate")


def test_bad_target_and_the_xgb_gnn_preset(toy_data):
    with pytest.raises(SurrogateError, match=r"^XGBSurrogate parameter target='log' is invalid; "
                                             r"expected one of raw, normal$"):
        XGBSurrogate(space="nb201", target="log").fit(*toy_data)
    member = make_model("xgb+gnn", "nb201").members[0]
    assert (member.target, member.max_depth) == ("normal", 4)
    assert make_model("xgb+gnn", "nb201", max_depth=6, target="raw").members[0].get_params()["max_depth"] == 6
    assert make_model("xgb", "nb201").target == "raw"  # the default model is unchanged
