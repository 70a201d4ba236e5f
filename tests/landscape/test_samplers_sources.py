"""Samplers (walks, neighbourhoods, climbs, neutral walks, strata) and fitness sources."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.errors import LandscapeError, MissingArchitectureError
from surrogate_eo.landscape import (BenchmarkSource, DatabaseSource, LookupSource, ModelSource, SamplingPlan, Strata,
                                    footprint, infer_strata, plan_strata)
from surrogate_eo.landscape.nk import NKLandscape
from surrogate_eo.landscape.samplers import CachedFitness, hill_climb, neutral_walks, random_walks
from surrogate_eo.landscape.sources import FitnessSource
from surrogate_eo.spaces import get_space


def test_random_walks_step_to_neighbours_and_are_seeded() -> None:
    space = get_space("eo")
    w = random_walks(space, 7, 12, seed=1)
    assert w.shape == (7, 12, space.n_dims)
    assert (np.diff(w, axis=1) != 0).sum(axis=2).tolist() == [[1] * 11] * 7
    assert np.array_equal(w, random_walks(space, 7, 12, seed=1))
    with pytest.raises(LandscapeError):
        random_walks(space, 2, 1)


def test_hill_climb_stops_at_strict_local_optima() -> None:
    nk = NKLandscape(12, 4, seed=2)
    fit = CachedFitness(nk)
    res = hill_climb(nk.space, fit, nk.space.sample(40, seed=3), max_steps=100)
    assert res.converged.all()
    f_nb = nk.fitness(nk.space.neighbours_batch(res.optima).reshape(-1, 12)).reshape(40, -1)
    assert (res.optimum_fitness >= f_nb.max(axis=1)).all()
    assert np.allclose(res.optimum_fitness, nk.fitness(res.optima))
    assert (nk.space.distance(res.starts, res.optima) <= res.steps).all()
    assert fit.n_evaluated <= fit.n_requested  # repeats come from the cache


def test_neutral_walks_move_away_within_eps() -> None:
    class Flat:
        space = get_space("nb201")
        name = "flat"

        def fitness(self, archs):
            return np.full(len(self.space.validate(archs)), 0.5)

    src = Flat()
    fit = CachedFitness(src)
    lengths = neutral_walks(src.space, fit, src.space.sample(5, seed=0), eps=0.0, max_steps=50, seed=0)
    assert lengths.tolist() == [6] * 5  # on a flat landscape a neutral walk reaches distance d = 6


def test_cached_fitness_evaluates_each_arch_once() -> None:
    calls = []

    class Counting:
        space = get_space("nb201")
        name = "count"

        def fitness(self, archs):
            calls.append(len(archs))
            return self.space.index(archs) / self.space.size

    fit = CachedFitness(Counting())
    a = Counting.space.sample(50, seed=0)
    v1 = fit(np.concatenate([a, a]))
    v2 = fit(a[:10])
    assert np.allclose(v1[:50], v1[50:]) and np.allclose(v2, v1[:10])
    assert sum(calls) == len(np.unique(Counting.space.index(a))) and fit.n_calls == 1


def test_strata_roundtrip_and_inference() -> None:
    space = get_space("nb201")
    st = plan_strata(space, 30, 3, 5, 2, seed=0)
    assert st.sizes()["walks"] == [3, 5] and st.sizes()["centres"] == 2
    back = Strata.from_dict(st.to_dict())
    assert np.array_equal(back.walks, st.walks) and np.array_equal(back.centres, st.centres)
    inf = infer_strata(space, st.archs())
    assert len(inf.centres) >= 2  # the planned centres have complete held neighbourhoods
    assert (space.distance(inf.edges[:, 0], inf.edges[:, 1]) == 1).all()


def test_lookup_source_never_returns_nan() -> None:
    space = get_space("nb201")
    a = space.sample(20, seed=0)
    src = LookupSource(space, a, np.linspace(0.1, 0.9, 20), name="tiny")
    assert np.allclose(src.fitness(a[:3]), np.linspace(0.1, 0.9, 20)[:3])
    other = a[0].copy()
    other[0] = (other[0] + 1) % 5
    if src.holds(other[None])[0]:
        pytest.skip("sampled a neighbour by chance")
    with pytest.raises(MissingArchitectureError, match="holds no value"):
        src.fitness(np.stack([a[1], other]))
    with pytest.raises(LandscapeError, match="finite"):
        LookupSource(space, a[:2], [0.5, np.nan])


def test_model_and_benchmark_adapters() -> None:
    space = get_space("nb201")

    class Model:
        def predict(self, archs):
            return archs.sum(axis=1) / 24.0

    class Bench:
        space = get_space("nb201")
        name = "fake"

        def __init__(self):
            self.kw = None

        def predict(self, archs, task=None, metric=None, epoch=None, with_noise=False, seed=None):
            self.kw = dict(task=task, metric=metric, epoch=epoch, with_noise=with_noise, seed=seed)
            return archs[:, 0] / 4.0

    a = space.sample(5, seed=1)
    m = ModelSource(Model(), "nb201")
    assert isinstance(m, FitnessSource) and np.allclose(m.fitness(a), a.sum(axis=1) / 24)
    b = Bench()
    src = BenchmarkSource(b, "so2sat-s2", metric="val_acc", epoch=12)
    assert np.allclose(src.fitness(a), a[:, 0] / 4) and b.kw["epoch"] == 12 and b.kw["task"] == "so2sat-s2"
    assert src.name == "fake:so2sat-s2:val_acc:epoch12"
    with pytest.raises(LandscapeError, match="predict"):
        ModelSource(object(), "nb201")


def test_database_source_rebuilds_campaign_strata(nb201_table, make_database) -> None:
    space = get_space("nb201")
    truth = nb201_table.source("CIFAR10TestAccuracy200Epochs")
    st = plan_strata(space, 40, 4, 6, 2, seed=0)
    db = make_database(space, st, truth.fitness)
    src = DatabaseSource(db, "so2sat-s2")
    got = src.strata()
    assert got.walks.shape == (4, 6, 6) and len(got.centres) == 2
    assert np.allclose(src.fitness(st.points), truth.fitness(st.points))
    fp = footprint(src, SamplingPlan(), seed=0)  # analysed on its own archs; no climbs on a database
    assert "climb_optima_distinct" not in fp.features and fp.strata["walks"] == [4, 6]
    assert fp["neutrality"].n == 2
    with pytest.raises(MissingArchitectureError):
        src.fitness(space.sample(500, seed=9))
    # a failed run inside a walk drops that walk, not the analysis
    lost = space.to_string(st.walks[1, 3])
    src2 = DatabaseSource(make_database(space, st, truth.fitness, drop=lost), "so2sat-s2")
    assert src2.strata().walks.shape[0] == 3


def test_one_source_spec_syntax_and_one_table_opener(nb201_dir, tmp_path):
    from surrogate_eo.errors import LandscapeError
    from surrogate_eo.landscape.sources import open_source, open_table, parse_source
    from surrogate_eo.search.specs import parse_spec

    sp = parse_source("db:C:/runs/a:b.parquet:so2sat-s2")  # the last ':' separates the task
    assert (sp.kind, sp.path.as_posix(), sp.name) == ("db", "C:/runs/a:b.parquet", "so2sat-s2")
    assert parse_spec(f"table:{nb201_dir}:X") == ("table", nb201_dir, "X")  # search reuses the parser
    for bad in ("tables:x.csv:y", "table:x.csv", "table::y", "db:x.parquet:"):
        with pytest.raises(LandscapeError, match="is not KIND:PATH:NAME"):
            parse_source(bad)
    src = open_source(f"table:{nb201_dir}:CIFAR10TestAccuracy200Epochs")
    assert src.name == "nb201:CIFAR10TestAccuracy200Epochs" and src.space.name == "nb201"
    assert open_table(nb201_dir / "nats_bench.csv").space.size == 15625  # a CSV or the NB201 folder
    with pytest.raises(LandscapeError, match="reference table .* does not exist"):
        open_table(tmp_path / "none.csv")
    with pytest.raises(LandscapeError, match="does not exist"):
        open_source(f"db:{tmp_path / 'none.parquet'}:so2sat-s2")
