"""Baseline optimisers: budgets, seeding, algorithm behaviour, time budgets, restricted domains, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.errors import SearchError, SurrogateEOError
from surrogate_eo.landscape.sources import LookupSource
from surrogate_eo.search import (
    OPTIMIZERS,
    hyperparameters,
    local_search,
    random_search,
    regularized_evolution,
    run_optimizer,
    tpe,
)

NAMES = sorted(OPTIMIZERS)


@pytest.mark.parametrize("name", NAMES)
def test_budget_seed_and_validity(name, toys):
    src = toys.Additive("nb201", seed=1)
    a = run_optimizer(name, src, 60, seed=3)
    b = run_optimizer(name, src, 60, seed=3)
    c = run_optimizer(name, src, 60, seed=4)
    assert a.n_evals == 60 and a.stop_reason == "budget" and a.optimizer == name
    np.testing.assert_array_equal(a.archs, b.archs)
    np.testing.assert_array_equal(a.fitness, b.fitness)
    assert not np.array_equal(a.archs, c.archs)
    np.testing.assert_allclose(a.fitness, src.fitness(a.archs))     # recorded values are the source's
    assert np.all(np.diff(a.incumbent) >= 0) and a.best_fitness == a.fitness.max()
    assert a.space == "nb201" and a.source == "additive" and a.cost is None


@pytest.mark.parametrize(("name", "budget"), [("re", 300), ("ls", 200), ("tpe", 200)])
def test_finds_optimum_of_unimodal_landscape(name, budget, toys):
    src = toys.Additive("nb201", seed=2)
    traj = run_optimizer(name, src, budget, seed=0)
    assert traj.best_fitness == pytest.approx(src.optimum)
    np.testing.assert_array_equal(traj.best_arch, src.optimum_arch)


def test_random_search_draws_distinct_archs_in_any_batching(toys):
    src = toys.Hashed("nb201")
    t1 = random_search(src, 300, seed=5, batch_size=7)
    t2 = random_search(src, 300, seed=5, batch_size=300)
    np.testing.assert_array_equal(t1.archs, t2.archs)
    assert len(np.unique(src.space.index(t1.archs))) == 300


def test_regularized_evolution_is_aging_tournament_of_whole_population(toys):
    """With sample_size == population_size the parent is the best of the last P evaluations."""
    src, P = toys.Hashed("nb201"), 8
    traj = regularized_evolution(src, 80, seed=1, population_size=P, sample_size=P)
    sp = src.space
    for i in range(P, traj.n_evals):
        window = slice(i - P, i)
        parent = traj.archs[window][np.argmax(traj.fitness[window])]
        assert sp.distance(traj.archs[i], parent) == 1, i


def test_regularized_evolution_batched_keeps_population_size(toys):
    src = toys.Additive("eo", seed=0)
    traj = regularized_evolution(src, 103, seed=0, population_size=10, sample_size=3, batch_size=16)
    assert traj.n_evals == 103 and traj.params["batch_size"] == 16
    # every child is one mutation away from some member of the population it was bred from
    sp = src.space
    for start in range(10, 103, 16):
        pop = traj.archs[start - 10:start]
        for child in traj.archs[start:start + 16]:
            assert (sp.distance(pop, child) == 1).any()


def test_local_search_best_improvement_and_no_repeats(toys):
    src = toys.Hashed("nb201")
    traj = local_search(src, 400, seed=2)
    sp = src.space
    assert len(np.unique(sp.index(traj.archs))) == traj.n_evals       # seen archs are reused, never re-evaluated
    assert traj.params["local_optima"] >= 2                            # a rugged landscape forces restarts
    # a climb: the first evaluation after a start is a neighbour of that start
    assert sp.distance(traj.archs[0], traj.archs[1]) == 1


def test_local_search_unimodal_is_one_climb(toys):
    src = toys.Additive("nb201", seed=4)
    traj = local_search(src, 300, seed=0)
    assert traj.params["local_optima"] >= 1
    first_opt = int(np.argmax(traj.fitness == src.optimum))
    assert traj.fitness[first_opt] == pytest.approx(src.optimum)
    # best-improvement on an additive function fixes one position per step: at most 6 steps of <= 24 + 1
    assert first_opt <= 1 + 6 * 24


def test_tpe_batched_and_startup(toys):
    src = toys.Additive("nb201", seed=0)
    traj = tpe(src, 40, seed=0, batch_size=8, n_startup_trials=5, multivariate=False)
    assert traj.n_evals == 40 and traj.params == {"budget": 40, "time_budget": None, "n_startup_trials": 5,
                                                  "multivariate": False, "batch_size": 8}


@pytest.mark.parametrize("name", NAMES)
def test_time_budget_stops_after_crossing_evaluation(name, toys):
    src = toys.Additive("nb201")
    traj = run_optimizer(name, src, 500, seed=0, cost=lambda a: np.full(len(a), 10.0), time_budget=95.0)
    assert traj.n_evals == 10 and traj.stop_reason == "time_budget"   # starts at 0..90 s are within 95 s
    np.testing.assert_allclose(traj.sim_time, 10.0 * np.arange(1, 11))
    assert traj.at_time([5.0, 10.0, 1e9]).tolist()[1:] == [traj.incumbent[0], traj.incumbent[-1]]
    assert np.isnan(traj.at_time([5.0])[0])


def test_evaluation_budget_wins_when_reached_first(toys):
    traj = random_search(toys.Additive(), 20, seed=0, cost=lambda a: np.ones(len(a)), time_budget=1e6)
    assert traj.n_evals == 20 and traj.stop_reason == "budget" and traj.sim_time[-1] == 20.0


def test_restricted_domain_stays_on_held_archs(toys):
    full = toys.Hashed("nb201")
    held = full.space.sample(60, seed=9)
    src = LookupSource("nb201", held, full.fitness(held), name="db")
    keys = set(full.space.index(held).tolist())
    for name in NAMES:
        traj = run_optimizer(name, src, 40, seed=0)
        assert set(full.space.index(traj.archs).tolist()) <= keys, name
    rs = random_search(src, 500, seed=0)
    assert rs.n_evals == len(keys) and rs.stop_reason == "exhausted"
    ls = local_search(src, 500, seed=0)
    assert ls.n_evals == len(keys) and ls.stop_reason == "exhausted"
    assert ls.best_fitness == src.values.max()


def test_candidates_restrict_a_complete_source(toys):
    src = toys.Additive("eo", seed=0)
    cands = src.space.sample(30, seed=1)
    traj = regularized_evolution(src, 50, seed=0, candidates=cands, population_size=10)
    assert set(src.space.index(traj.archs).tolist()) <= set(src.space.index(cands).tolist())


@pytest.mark.parametrize("budget", [0, -5, 2.5, "10", None])
def test_bad_budget(budget, toys):
    with pytest.raises(SearchError, match="budget must be a whole number"):
        random_search(toys.Additive(), budget)


def test_bad_input_messages(toys):
    src = toys.Additive()
    with pytest.raises(SearchError, match="unknown optimiser 'sa'; expected one of rs, re, ls, tpe"):
        run_optimizer("sa", src, 10)
    with pytest.raises(SearchError, match="no option 'population'.*population_size, sample_size, batch_size"):
        run_optimizer("re", src, 10, population=3)
    with pytest.raises(SearchError, match="sample_size \\(30\\) must not exceed population_size \\(20\\)"):
        regularized_evolution(src, 10, sample_size=30)
    with pytest.raises(SearchError, match="needs a cost model"):
        random_search(src, 10, time_budget=100)
    with pytest.raises(SearchError, match="time_budget must be simulated seconds > 0"):
        random_search(src, 10, cost=lambda a: np.ones(len(a)), time_budget=0)
    with pytest.raises(SearchError, match="is not a fitness source: it lacks fitness"):
        random_search(object.__new__(type("NoFit", (), {"space": "nb201"})), 10)
    assert hyperparameters("ls") == {}


def test_bad_source_answers_raise(toys):
    class Broken:
        space, name = toys.Additive().space, "broken"

        def __init__(self, out):
            self.out = out

        def fitness(self, archs):
            return self.out(len(archs))

    with pytest.raises(SearchError, match="returned 1 values for 100 archs"):
        random_search(Broken(lambda n: np.ones(1)), 100)
    with pytest.raises(SearchError, match="returned nan for arch .*expected a finite fraction"):
        random_search(Broken(lambda n: np.full(n, np.nan)), 100)
    with pytest.raises(SurrogateEOError, match="cost model returned"):
        random_search(toys.Additive(), 10, cost=lambda a: -np.ones(len(a)), time_budget=5)
