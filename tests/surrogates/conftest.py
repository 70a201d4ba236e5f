"""Fixtures of the surrogate tests: a toy NB201 target and a tiny results database built by code."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from surrogate_eo.spaces import get_space


def toy_target(archs: np.ndarray) -> np.ndarray:
    """A smooth, arch-dependent 'accuracy' in [0, 1]: 3x3 convs help, dead cells score 0.1."""
    space = get_space("nb201")
    live = space.cell.live_edges(archs)
    score = 0.6 + 0.05 * ((archs == 3) & live).sum(axis=1) + 0.02 * ((archs == 2) & live).sum(axis=1)
    return np.where(live.any(axis=1), score, 0.1)


@pytest.fixture(scope="session")
def toy_data() -> tuple[np.ndarray, np.ndarray]:
    archs = get_space("nb201").sample(400, seed=11)
    return archs, toy_target(archs)


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-seed database of 90 nb201 archs (val_acc curves of 3 epochs, wall_seconds), written as Parquet."""
    Database = pytest.importorskip("surrogate_eo.database").Database
    from surrogate_eo.records import RunRecord, RunSpec

    space = get_space("nb201")
    archs = np.unique(space.sample(90, seed=5), axis=0)
    truth = toy_target(archs)
    rng = np.random.default_rng(0)
    records = []
    for a, t in zip(archs, truth):
        s = space.to_string(a)
        for seed in range(3):
            spec = RunSpec(space="nb201", arch=s, task="so2sat-s2", seed=seed, protocol="tiny", protocol_hash="h",
                           stratum="random" if a[0] < 3 else "walks")
            final = float(np.clip(t + rng.normal(0, 0.01), 0, 1))
            curve = [final * f for f in (0.6, 0.85, 1.0)]
            epochs = [{"val_acc": v, "test_acc": v - 0.01, "train_loss": 1.0} for v in curve]
            wall = float(50.0 * (1 + (a == 3).sum()) * rng.uniform(0.95, 1.05))
            records.append(RunRecord(spec=spec, status="ok", epochs=epochs, params=1000, flops=10_000,
                                     wall_seconds=wall))
    path = tmp_path_factory.mktemp("db") / "tiny.parquet"
    Database.from_records(records).write(path)
    return path
