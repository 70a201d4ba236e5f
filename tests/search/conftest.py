"""Fixtures of the search tests: small synthetic fitness sources (no data files needed)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from surrogate_eo.spaces import get_space


class Additive:
    """Fitness = mean over positions of a per-(position, choice) weight: unimodal, optimum known."""

    def __init__(self, space: str = "nb201", seed: int = 0, scale: float = 1.0, name: str = "additive") -> None:
        self.space = get_space(space)
        rng = np.random.default_rng(seed)
        self.weights = [rng.random(m) for m in self.space.dims]
        self.scale, self.name, self.calls = scale, name, 0

    def fitness(self, archs):
        a = self.space.validate(archs)
        self.calls += 1
        return self.scale * np.mean([w[a[:, p]] for p, w in enumerate(self.weights)], axis=0)

    @property
    def optimum_arch(self) -> np.ndarray:
        return np.array([int(np.argmax(w)) for w in self.weights])

    @property
    def optimum(self) -> float:
        return float(self.fitness(self.optimum_arch[None, :])[0])


class Hashed:
    """Fitness = a pseudo-random number per arch (no ties, maximally rugged)."""

    def __init__(self, space: str = "nb201", seed: int = 0) -> None:
        self.space = get_space(space)
        self.name, self.seed = "hashed", seed

    def fitness(self, archs):
        idx = self.space.index(archs).astype(np.uint64)
        x = (idx * np.uint64(6364136223846793005) + np.uint64(1442695040888963407 + self.seed)) >> np.uint64(11)
        return (x % np.uint64(1_000_003)).astype(np.float64) / 1_000_003.0


@pytest.fixture(scope="session")
def toys():
    """The toy source classes: ``toys.Additive(space, seed)``, ``toys.Hashed(space, seed)``."""
    return SimpleNamespace(Additive=Additive, Hashed=Hashed)


def _tiny_benchmark(runtime: bool):
    from surrogate_eo.surrogates.benchmark import RUNTIME_METRIC
    from surrogate_eo.surrogates.fitting import Target, fit_targets

    sp = get_space("eo")
    a = sp.sample(200, seed=0)
    y = 0.5 + 0.05 * (a[:, :6] == 3).sum(1) + 0.02 * a[:, 7] + np.random.default_rng(0).normal(0, 0.01, 200)
    targets = [Target("so2sat-s2", "val_acc", None, a, y, seed_archs=np.repeat(a[:20], 2, axis=0),
                      seed_y=np.repeat(y[:20], 2) + np.tile([-0.01, 0.01], 20))]
    if runtime:
        secs = 100.0 * (1 + a[:, 7]) * (1 + a[:, 8])
        targets.append(Target("so2sat-s2", RUNTIME_METRIC, None, a, np.log(secs), "log"))
    return fit_targets(sp, targets, model="xgb", model_params={"n_estimators": 15})


@pytest.fixture(scope="session")
def tiny_bench():
    """A small eo Benchmark (task so2sat-s2: val_acc with seed noise, and a runtime model)."""
    return _tiny_benchmark(runtime=True)


@pytest.fixture(scope="session")
def tiny_bench_no_runtime():
    """The same without a runtime model."""
    return _tiny_benchmark(runtime=False)


@pytest.fixture(scope="session")
def search_files(tmp_path_factory, tiny_bench, tiny_bench_no_runtime):
    """On-disk sources: a synthetic full NB201 CSV, two saved benchmarks, and a 2-seed nb201 database."""
    import pandas as pd

    from surrogate_eo.database import Database
    from surrogate_eo.records import RunRecord, RunSpec

    root = tmp_path_factory.mktemp("search")
    sp = get_space("nb201")
    allarchs = sp.enumerate()
    add = Additive("nb201", seed=0)
    pd.DataFrame({"ArchitectureString": sp.to_strings(allarchs),
                  "ToyAccuracy": 100 * add.fitness(allarchs)}).to_csv(root / "toy.csv", index=False)
    tiny_bench.save(str(root / "bench"))
    tiny_bench_no_runtime.save(str(root / "bench_nort"))
    records = []
    for a in np.unique(sp.sample(40, seed=5), axis=0):
        for seed in range(2):
            spec = RunSpec(space="nb201", arch=sp.to_string(a), task="so2sat-s2", seed=seed, protocol="tiny",
                           protocol_hash="h", stratum="random")
            v = float(add.fitness(a[None, :])[0]) * (1 + 0.01 * seed)
            records.append(RunRecord(spec=spec, status="ok", epochs=[{"val_acc": v, "test_acc": v}], params=1,
                                     flops=1, wall_seconds=100.0 + 10 * int(a[0])))
    Database.from_records(records).write(root / "db.parquet")
    return SimpleNamespace(root=root, csv=root / "toy.csv", bench=root / "bench", bench_nort=root / "bench_nort",
                           db=root / "db.parquet", additive=add)
