"""The Optuna bridge: suggest_arch, make_objective (user attrs, noise seeds, time budget), ConfigSpace export."""
from __future__ import annotations

import numpy as np
import optuna
import pytest

from surrogate_eo.errors import SearchError
from surrogate_eo.search import make_objective, runtime_cost, suggest_arch
from surrogate_eo.search.optuna_bridge import arch_params, distributions, params_to_arch
from surrogate_eo.spaces import get_space

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize("name", ["nb201", "eo"])
def test_suggest_arch_maps_labels_to_vectors(name):
    space = get_space(name)
    arch = space.sample(1, seed=4)[0]
    params = arch_params(space, arch)
    assert list(params) == list(space.dim_names)
    got = suggest_arch(optuna.trial.FixedTrial(params), space)
    np.testing.assert_array_equal(got, arch)
    np.testing.assert_array_equal(params_to_arch(space, params), arch)
    assert set(distributions(space)) == set(space.dim_names)


def test_suggest_arch_covers_every_choice():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = get_space("eo")
    archs = np.stack([suggest_arch(study.ask(), space) for _ in range(200)])
    assert space.validate(archs).shape == (200, 10)                 # every suggestion is a valid arch
    assert all(len(np.unique(archs[:, p])) == m for p, m in enumerate(space.dims))


def test_objective_records_runtime_and_values(tiny_bench):
    obj = make_objective(tiny_bench, "so2sat-s2", with_noise=False)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(obj, n_trials=12)
    space = tiny_bench.space
    for t in study.trials:
        arch = space.from_string(t.user_attrs["arch"])
        assert t.value == pytest.approx(float(tiny_bench.predict(arch, task="so2sat-s2")))
        assert t.user_attrs["runtime_s"] == pytest.approx(float(tiny_bench.predict_runtime(arch, task="so2sat-s2")))
    cum = [t.user_attrs["cumulative_runtime_s"] for t in study.trials]
    np.testing.assert_allclose(np.diff(cum), [t.user_attrs["runtime_s"] for t in study.trials[1:]])
    assert obj.n_calls == 12 and obj.total_runtime_s == pytest.approx(cum[-1])


def test_objective_noise_is_seeded_per_trial(tiny_bench):
    def values(seed):
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))
        study.optimize(make_objective(tiny_bench, "so2sat-s2", seed=seed), n_trials=6)
        return [t.value for t in study.trials]

    assert values(0) == values(0)
    assert values(0) != values(1)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(make_objective(tiny_bench, "so2sat-s2", with_noise=False), n_trials=6)
    assert [t.value for t in study.trials] != values(0)           # the noise changes the values


def test_time_budget_stops_the_study(tiny_bench):
    obj = make_objective(tiny_bench, "so2sat-s2", time_budget=3000.0)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(obj, n_trials=500)
    cum = [t.user_attrs["cumulative_runtime_s"] for t in study.trials]
    assert len(study.trials) < 500
    assert cum[-1] >= 3000.0 > cum[-2]                              # stopped right after crossing the budget


def test_bad_input(tiny_bench, tiny_bench_no_runtime):
    with pytest.raises(SearchError, match="cannot simulate training time for task 'so2sat-s2'"):
        make_objective(tiny_bench_no_runtime, "so2sat-s2", time_budget=100)
    obj = make_objective(tiny_bench_no_runtime, "so2sat-s2")     # no budget: fine, no runtime attrs
    study = optuna.create_study(direction="maximize")
    study.optimize(obj, n_trials=2)
    assert "runtime_s" not in study.trials[0].user_attrs
    with pytest.raises(SearchError, match="no task 'cifar10'; it offers: so2sat-s2"):
        make_objective(tiny_bench, "cifar10")
    with pytest.raises(SearchError, match="no metric 'kappa'"):
        make_objective(tiny_bench, "so2sat-s2", metric="kappa")
    with pytest.raises(SearchError, match="time_budget must be simulated seconds > 0"):
        make_objective(tiny_bench, "so2sat-s2", time_budget=-1)
    with pytest.raises(SearchError, match="is not a benchmark"):
        make_objective(object(), "so2sat-s2")
    with pytest.raises(SearchError, match="cannot simulate training time"):
        runtime_cost(tiny_bench_no_runtime, "so2sat-s2")


def test_configspace_round_trip():
    pytest.importorskip("ConfigSpace")
    space = get_space("eo")
    cs = space.to_configspace(seed=0)
    configs = cs.sample_configuration(20)
    archs = np.stack([space.from_configuration(c) for c in configs])
    assert space.validate(archs).shape == (20, 10)
    assert dict(configs[0]) == arch_params(space, archs[0])          # same names and labels as the Optuna bridge
