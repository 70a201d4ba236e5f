"""One conformance test over every surrogate model, plus bad-input checks and per-family details."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from surrogate_eo.errors import InvalidArchitectureError, NotFittedError, SurrogateError
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import (Ensemble, LGBSurrogate, MultiFidelity, RFSurrogate, SurrogateWarning,
                                     XGBSurrogate, make_model)
from surrogate_eo.surrogates.metrics import kendall_tau_score

SMALL = {
    "xgb": lambda **kw: XGBSurrogate(space="nb201", n_estimators=60, **kw),
    "xgb-normal": lambda **kw: XGBSurrogate(space="nb201", n_estimators=60, target="normal", **kw),
    "xgb-zc": lambda **kw: XGBSurrogate(space="nb201", n_estimators=60, target="normal",
                                        features=("default", "synflow"), monotonic_cst={"synflow": 1}, **kw),
    "lgb": lambda **kw: LGBSurrogate(space="nb201", n_estimators=60, **kw),
    "rf": lambda **kw: RFSurrogate(space="nb201", n_estimators=30, **kw),
    "ensemble": lambda **kw: Ensemble(members=[XGBSurrogate(space="nb201", n_estimators=40),
                                               LGBSurrogate(space="nb201", n_estimators=40)], n_seeds=2, **kw),
    "ensemble-weighted": lambda **kw: Ensemble(members=[XGBSurrogate(space="nb201", n_estimators=40),
                                                        RFSurrogate(space="nb201", n_estimators=20)],
                                               n_seeds=1, weights=[3.0, 1.0], **kw),
    "gin": lambda **kw: _gin(**kw),
    "gnn": lambda **kw: _gnn(**kw),
}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Keep the GNN pretraining cache of these tests out of the user's cache folder."""
    monkeypatch.setenv("SURROGATE_EO_CACHE", str(tmp_path_factory.getbasetemp() / "gnn-cache"))


def _gnn(**kw):
    pytest.importorskip("torch")
    from surrogate_eo.surrogates import GNNSurrogate

    return GNNSurrogate(space="nb201", epochs=20, hidden=16, layers=1, pretrain_epochs=1, **kw)


def _gin(**kw):
    pytest.importorskip("torch")
    from surrogate_eo.surrogates import GINSurrogate

    return GINSurrogate(space="nb201", epochs=40, hidden=32, **kw)


@pytest.mark.parametrize("name", list(SMALL))
def test_conformance(name, toy_data):
    archs, y = toy_data
    model = SMALL[name](seed=3)
    cls = type(model)
    # keyword-only constructor that only stores its arguments
    params = model.get_params()
    assert params["seed"] == 3
    with pytest.raises(TypeError):
        cls("nb201")
    assert cls(**params).get_params() == params
    assert not [k for k in vars(model) if k.endswith("_")], "constructor must not set learned state"
    # set_params and its error
    assert model.set_params(seed=4) is model and model.seed == 4
    with pytest.raises(SurrogateError, match="valid parameters"):
        model.set_params(not_a_param=1)
    # predict before fit
    with pytest.raises(NotFittedError, match="fit"):
        model.predict(archs[:3])
    # fit returns self; learned state ends in "_"
    train, test = archs[:300], archs[300:]
    assert model.fit(train, y[:300]) is model
    learned = [k for k in vars(model) if k not in params]
    assert learned and all(k.endswith("_") for k in learned)
    pred = model.predict(test)
    assert pred.shape == (100,) and pred.dtype == np.float64
    assert kendall_tau_score(y[300:], pred) > 0.6
    # same seed, same predictions; strings and vectors give the same answer
    again = SMALL[name](seed=4).fit(train, y[:300]).predict(test)
    np.testing.assert_allclose(pred, again, rtol=1e-6, atol=1e-6)
    strings = get_space("nb201").to_strings(test[:4])
    np.testing.assert_allclose(model.predict(strings), pred[:4], rtol=1e-6)
    # clone is unfitted with equal parameters, and deep: nested models are new objects
    c = model.clone()
    assert repr(c) == repr(model) and not c.is_fitted
    for key, value in c.get_params().items():
        if isinstance(value, list):
            assert all(a is not b for a, b in zip(value, model.get_params()[key]) if hasattr(a, "fit"))


@pytest.mark.parametrize("name", ["xgb", "rf"])
def test_bad_training_data(name, toy_data):
    archs, y = toy_data
    model = SMALL[name]()
    with pytest.raises(SurrogateError, match="at least 2"):
        model.fit(archs[:0], y[:0])
    with pytest.raises(SurrogateError, match="constant"):
        model.fit(archs[:50], np.full(50, 0.9))
    with pytest.raises(SurrogateError, match="must match"):
        model.fit(archs[:50], y[:49])
    with pytest.raises(InvalidArchitectureError, match="position 0"):
        model.fit(np.full((3, 6), 7), [0.1, 0.2, 0.3])
    with pytest.raises(InvalidArchitectureError):
        model.fit(get_space("eo").sample(5, seed=0), np.arange(5.0))
    with pytest.raises(InvalidArchitectureError, match="unknown op"):
        model.fit(["|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"] * 2, [0.1, 0.2])
    yy = y[:100].copy()
    yy[[3, 7, 9]] = np.nan
    with pytest.warns(SurrogateWarning, match="dropped 3 of 100"):
        model.fit(archs[:100], yy)
    assert model.n_train_ == 97


def test_rf_arrays_match_sklearn(toy_data):
    from sklearn.ensemble import RandomForestRegressor

    archs, y = toy_data
    rf = RFSurrogate(space="nb201", n_estimators=20, seed=1).fit(archs[:200], y[:200])
    X = rf.featurizer_.transform(archs[200:])
    sk = RandomForestRegressor(n_estimators=20, max_features=0.5, random_state=1).fit(
        rf.featurizer_.transform(archs[:200]), y[:200])
    np.testing.assert_allclose(rf.predict(archs[200:]), sk.predict(X), rtol=1e-12)


def test_ensemble_spread_sampling_and_bootstrap(toy_data):
    archs, y = toy_data
    ens = Ensemble(members=[XGBSurrogate(space="nb201", n_estimators=30)], n_seeds=4, bootstrap=True).fit(
        archs[:200], y[:200])
    mean, std = ens.predict_dist(archs[200:])
    assert len(ens.estimators_) == 4 and (std > 0).any()
    np.testing.assert_allclose(mean, ens.predict(archs[200:]))
    np.testing.assert_array_equal(ens.sample(archs[200:], seed=1), ens.sample(archs[200:], seed=1))
    assert not np.array_equal(ens.sample(archs[200:], seed=1), ens.sample(archs[200:], seed=2))
    with pytest.raises(SurrogateError, match="one search space"):
        Ensemble(members=[XGBSurrogate(space="nb201"), XGBSurrogate(space="eo")]).fit(archs, y)


def test_multifidelity(toy_data):
    archs, y = toy_data
    a = np.concatenate([archs[:200], archs[:200]])
    yy = np.concatenate([y[:200] * 0.7, y[:200]])
    ep = np.repeat([10, 100], 200)
    mf = MultiFidelity(base=XGBSurrogate(space="nb201", n_estimators=80)).fit(a, yy, ep)
    assert mf.epochs_ == [10, 100]
    low, high = mf.predict(archs[200:], 10), mf.predict(archs[200:], 100)
    assert high.mean() > low.mean() + 0.1
    np.testing.assert_allclose(mf.predict(archs[200:]), high)
    with pytest.raises(SurrogateError, match="epoch"):
        MultiFidelity(base=XGBSurrogate(space="nb201")).fit(a, yy)
    with pytest.raises(SurrogateError, match="positive"):
        mf.predict(archs[:2], 0)


def test_make_model_names():
    assert isinstance(make_model("xgb+lgb", "nb201"), Ensemble)
    assert make_model("rf", "eo", seed=2).get_params()["seed"] == 2
    with pytest.raises(SurrogateError, match="unknown surrogate model"):
        make_model("svm", "nb201")
    ens = make_model("xgb+lgb", "nb201", n_estimators=10, num_leaves=7)
    assert [m.n_estimators for m in ens.members] == [10, 10] and ens.members[1].num_leaves == 7
    with pytest.raises(SurrogateError, match=r"xgb\+lgb: no member \(xgb nor lgb\) takes parameter 'depth'"):
        make_model("xgb+lgb", "nb201", depth=3)
    with pytest.raises(SurrogateError, match="xgb-ens: no member .* takes parameter 'hidden'"):
        make_model("xgb-ens", "nb201", hidden=3)


def test_xgb_learns_nb201(nb201_table):
    """Path features beat the naive one-hot encoding at 5 % of NB201 (CIFAR-10)."""
    from surrogate_eo.surrogates.splits import random_split

    archs = nb201_table.space.enumerate()
    y = nb201_table.all_values("CIFAR10TestAccuracy200Epochs")
    tr, te = random_split(len(y), 0.05, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = XGBSurrogate(space="nb201", n_estimators=200).fit(archs[tr], y[tr]).predict(archs[te])
    naive = XGBSurrogate(space="nb201", n_estimators=200, features=("onehot",)).fit(archs[tr], y[tr])
    kt_full, kt_naive = kendall_tau_score(y[te], full), kendall_tau_score(y[te], naive.predict(archs[te]))
    assert kt_full > 0.84 and kt_full > kt_naive + 0.04
