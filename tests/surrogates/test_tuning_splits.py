"""Splits (random, k-fold, leave-one-stratum-out, learning curve) and Optuna tuning."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.errors import SurrogateError
from surrogate_eo.surrogates import Ensemble, LGBSurrogate, XGBSurrogate
from surrogate_eo.surrogates.splits import kfold, learning_curve, leave_one_stratum_out, random_split
from surrogate_eo.surrogates.tuning import tune, tune_model


def test_random_split_and_kfold():
    tr, te = random_split(1000, 0.05, seed=1)
    assert len(tr) == 50 and len(te) == 950 and not set(tr) & set(te)
    np.testing.assert_array_equal(tr, random_split(1000, 0.05, seed=1)[0])
    assert len(random_split(10, 3, seed=0)[0]) == 3
    folds = kfold(10, 3, seed=0)
    assert sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(10))
    for tr, te in folds:
        assert not set(tr) & set(te) and len(tr) + len(te) == 10
    for bad in (0.0, 1.5, 0, 11, True):
        with pytest.raises(SurrogateError):
            random_split(10, bad)
    with pytest.raises(SurrogateError, match="k-fold"):
        kfold(3, 5)


def test_leave_one_stratum_out():
    strata = ["random", "walks", "random", "neighbourhoods", "walks"]
    out = {s: (tr.tolist(), te.tolist()) for s, tr, te in leave_one_stratum_out(strata)}
    assert out["walks"] == ([0, 2, 3], [1, 4])
    only = leave_one_stratum_out(strata, train_strata=["random", "walks"])
    assert [(s, tr.tolist(), te.tolist()) for s, tr, te in only] == [("neighbourhoods", [0, 1, 2, 4], [3])]
    with pytest.raises(SurrogateError, match="at least 2 strata"):
        leave_one_stratum_out(["random"] * 3)
    with pytest.raises(SurrogateError, match="not present"):
        leave_one_stratum_out(strata, train_strata=["exploit"])


def test_learning_curve_improves(toy_data):
    archs, y = toy_data
    df = learning_curve(lambda s: XGBSurrogate(space="nb201", n_estimators=40, seed=s), archs, y, [20, 200],
                        seeds=[0, 1])
    assert list(df["n_train"]) == [20, 20, 200, 200]
    means = df.groupby("n_train")["kendall_tau"].mean()
    assert means[200] > means[20]


def test_tune_records_defaults_and_improves(toy_data):
    archs, y = toy_data
    model = XGBSurrogate(space="nb201", n_estimators=20, learning_rate=0.01)  # under-fitted on purpose
    res = tune(model, archs[:150], y[:150], n_trials=4, cv=3, seed=0)
    assert res.family == "xgb" and len(res.trials) == 4 and res.direction == "maximize"
    assert res.trials[0]["params"]["n_estimators"] == 20  # the first trial is the model as given
    assert res.best_value >= res.default_value
    assert set(res.best_params) <= set(model.get_params())
    res2 = tune(model, archs[:150], y[:150], n_trials=2, cv=2, objective="rmse", seed=0)
    assert res2.direction == "minimize" and res2.best_value <= res2.default_value
    with pytest.raises(SurrogateError, match="objective"):
        tune(model, archs, y, objective="mse")


def test_tune_model_ensemble(toy_data):
    archs, y = toy_data
    ens = Ensemble(members=[XGBSurrogate(space="nb201", n_estimators=20), LGBSurrogate(space="nb201",
                                                                                       n_estimators=20)], n_seeds=2)
    tuned, results = tune_model(ens, archs[:120], y[:120], n_trials=2, cv=2)
    assert [r.family for r in results] == ["xgb", "lgb"]
    assert tuned.members[0].n_estimators == results[0].best_params["n_estimators"]
    assert not tuned.is_fitted and tuned.n_seeds == 2
