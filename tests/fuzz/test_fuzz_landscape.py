"""Fuzz: footprint JSON files read by `landscape compare` (the verdict JSON: test_fuzz_verdict.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ._gen import Outcome, check, listing, mutate_text, mutate_tree

N_TREES = 400
N_TEXTS = 150


@pytest.fixture(scope="module")
def footprint_doc() -> dict:
    from surrogate_eo.landscape import SamplingPlan, footprint
    from surrogate_eo.landscape.nk import NKLandscape

    plan = SamplingPlan.small(n_points=200, n_walks=8, walk_length=15, n_centres=10, n_climbs=0, n_neutral_walks=0)
    return footprint(NKLandscape(10, 1, seed=0), plan, seed=0).to_dict()


def _valid(fp) -> None:  # noqa: ANN001 - a Footprint
    rows = fp.table()  # an accepted footprint can be displayed
    assert all(len(r) == 4 for r in rows)


def test_fuzz_footprint_json(footprint_doc: dict, tmp_path: Path) -> None:
    from surrogate_eo.landscape.compare import load_footprint

    path = tmp_path / "fp.json"
    out = Outcome()
    text = json.dumps(footprint_doc)
    for seed in range(N_TREES + N_TEXTS):
        rng = np.random.default_rng([41, seed])
        if seed < N_TREES:
            path.write_text(json.dumps(mutate_tree(rng, footprint_doc), allow_nan=True))
        else:
            path.write_bytes(mutate_text(rng, text).encode("utf-8", "surrogatepass"))
        check(load_footprint, path, out, seed, _valid)
    assert out.tried == N_TREES + N_TEXTS and out.refused > 0 and out.accepted > 0, out
    assert listing(tmp_path) == ["fp.json"]
