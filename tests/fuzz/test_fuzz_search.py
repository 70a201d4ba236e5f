"""Fuzz: saved optimiser trajectories (JSON trees and texts, Parquet metadata)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from surrogate_eo.search import Trajectory
from surrogate_eo.spaces import get_space

from ._gen import Outcome, check, listing, mutate_text, mutate_tree

N_TREES = 500
N_TEXTS = 150


def _trajectory() -> Trajectory:
    space = get_space("nb201")
    archs = space.sample(12, seed=2)
    fit = np.linspace(0.3, 0.9, len(archs))
    return Trajectory(optimizer="rs", source="table:x.csv:acc", space="nb201", seed=0, archs=archs, fitness=fit,
                      cost=np.full(len(archs), 10.0), params={}, stop_reason="budget", wall_s=0.1, source_s=0.05)


def _valid(t: Trajectory) -> None:
    assert len(t.fitness) == len(t.archs) and t.archs.shape[1] == get_space(t.space).n_dims


def test_fuzz_trajectory_json(tmp_path: Path) -> None:
    base = _trajectory()
    path = tmp_path / "t.json"
    base.save(path)
    doc = json.loads(path.read_text())
    text = json.dumps(doc)
    out = Outcome()
    for seed in range(N_TREES + N_TEXTS):
        rng = np.random.default_rng([61, seed])
        if seed < N_TREES:
            path.write_text(json.dumps(mutate_tree(rng, doc), allow_nan=True))
        else:
            path.write_bytes(mutate_text(rng, text).encode("utf-8", "surrogatepass"))
        check(Trajectory.load, path, out, seed, _valid)
    assert out.tried == N_TREES + N_TEXTS and out.refused > 0 and out.accepted > 0, out
    assert listing(tmp_path) == ["t.json"]
