"""Trajectory: curves, regret, JSON / Parquet round trips, bad files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from surrogate_eo.errors import SearchError
from surrogate_eo.search import Trajectory, random_search
from surrogate_eo.spaces import get_space


def make(cost=True):
    sp = get_space("nb201")
    return Trajectory(optimizer="re", source="toy", space="nb201", seed=3, archs=sp.sample(4, seed=0),
                      fitness=np.array([0.5, 0.3, 0.7, 0.6]), cost=np.array([10.0, 20.0, 5.0, 1.0]) if cost else None,
                      params={"population_size": 2})


def test_curves():
    t = make()
    assert t.incumbent.tolist() == [0.5, 0.5, 0.7, 0.7]
    assert t.sim_time.tolist() == [10.0, 30.0, 35.0, 36.0]
    np.testing.assert_array_equal(t.at_evaluations([0, 1, 3, 99]), [np.nan, 0.5, 0.7, 0.7])
    np.testing.assert_array_equal(t.at_time([9.9, 10.0, 34.9, 35.0, 1e9]), [np.nan, 0.5, 0.5, 0.7, 0.7])
    np.testing.assert_allclose(t.regret(0.8), [0.3, 0.3, 0.1, 0.1])
    np.testing.assert_array_equal(t.best_arch, t.archs[2])
    assert "best 0.7000" in t.summary() and "simulated time 36 s" in t.summary()
    with pytest.raises(SearchError, match="has no simulated costs"):
        make(cost=False).at_time([1.0])


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
@pytest.mark.parametrize("cost", [True, False])
def test_round_trip(tmp_path, suffix, cost):
    t = make(cost)
    back = Trajectory.load(t.save(tmp_path / f"t{suffix}"))
    np.testing.assert_array_equal(back.archs, t.archs)
    np.testing.assert_array_equal(back.fitness, t.fitness)
    assert (back.cost is None) == (not cost)
    if cost:
        np.testing.assert_array_equal(back.cost, t.cost)
    assert (back.optimizer, back.source, back.space, back.seed, back.params) == ("re", "toy", "nb201", 3,
                                                                                  {"population_size": 2})


def test_json_is_readable_and_run_output_round_trips(tmp_path):
    class Src:
        space, name = get_space("eo"), "toy-eo"

        def fitness(self, archs):
            return archs.sum(axis=1) / 100.0

    traj = random_search(Src(), 25, seed=1, cost=lambda a: np.full(len(a), 3.0))
    d = json.loads(traj.save(tmp_path / "r.json").read_text())
    assert d["archs"][0] == Src.space.to_string(traj.archs[0]) and d["n_evals"] == 25 and d["cost"][0] == 3.0
    back = Trajectory.load(tmp_path / "r.json")
    np.testing.assert_array_equal(back.incumbent, traj.incumbent)
    back2 = Trajectory.load(traj.save(tmp_path / "r.parquet"))
    np.testing.assert_array_equal(back2.archs, traj.archs)


def test_empty_trajectory_round_trip(tmp_path):
    t = Trajectory(optimizer="rs", source="x", space="eo", seed=None, archs=np.zeros((0, 10)), fitness=[])
    assert t.n_evals == 0 and np.isnan(t.best_fitness)
    assert Trajectory.load(t.save(tmp_path / "e.json")).n_evals == 0


def test_bad_files(tmp_path):
    with pytest.raises(SearchError, match="must end in .json or .parquet"):
        make().save(tmp_path / "t.csv")
    with pytest.raises(SearchError, match="does not exist"):
        Trajectory.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SearchError, match="not valid JSON"):
        Trajectory.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"schema": "something-else"}))
    with pytest.raises(SearchError, match="is not a surrogate-eo trajectory"):
        Trajectory.load(tmp_path / "other.json")
    d = make().to_dict()
    del d["fitness"]
    (tmp_path / "nofit.json").write_text(json.dumps(d))
    with pytest.raises(SearchError, match="lacks the field 'fitness'"):
        Trajectory.load(tmp_path / "nofit.json")
    d = make().to_dict()
    d["cost"] = [1.0]
    (tmp_path / "cost.json").write_text(json.dumps(d))
    with pytest.raises(SearchError, match="4 evaluations but 1 costs"):
        Trajectory.load(tmp_path / "cost.json")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 nonsense")
    with pytest.raises(SearchError, match="not a readable Parquet file"):
        Trajectory.load(tmp_path / "junk.parquet")
