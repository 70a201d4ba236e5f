"""Fuzz: fidelity-verdict JSON handed to the report, and footprint JSON read by ``Footprint.load``.

A mutant is either refused with a one-line ``SurrogateEOError`` or accepted; an
accepted verdict must then survive everything the report does with it short of
redrawing samples (outcome summary, feature table, the reason of every
comparison, the summary sentence per mode, the footprints' sampling plans).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ._gen import Outcome, check, listing, mutate_text, mutate_tree

N_FILES = 300     # tree mutants written to a file
N_DICTS = 500     # tree mutants handed over as dicts
N_TEXTS = 250     # text mutants of the file
N_FOOTPRINTS = 200
TASK = "so2sat-s2"
#: Files no generator is guaranteed to produce: not UTF-8, nested past the parser's recursion limit, empty.
EDGE_FILES = [b"\xff\xfe{\"schema\": 1}", b"[" * 100_000 + b"]" * 100_000, b"", b"null",
              b'{"schema": "' + b"x" * 100_000 + b'"}']


@pytest.fixture(scope="module")
def verdict_doc() -> dict[str, Any]:
    """A real verdict (two different NK landscapes: every outcome occurs), as its JSON round trip."""
    from surrogate_eo.landscape import SamplingPlan
    from surrogate_eo.landscape.judge import judge
    from surrogate_eo.landscape.nk import NKLandscape

    plan = SamplingPlan.small(n_points=150, n_walks=6, walk_length=12, n_centres=8, n_climbs=4,
                              n_neutral_walks=3, n_boot=50)
    j = judge(NKLandscape(8, 1, seed=0), NKLandscape(8, 2, seed=1), plan=plan, campaign_runs=200)
    return json.loads(json.dumps(j.to_dict()))


def _mutant(rng: np.random.Generator, obj: Any, depth: int = 0) -> Any:
    """``obj`` with one random subtree mutated by :func:`mutate_tree` (copies only the path down to it).

    A verdict is a large tree (~40 KB); mutating one comparison, footprint or
    feature at a time reaches every part as often and costs a fraction of a copy.
    """
    kids = list(obj) if isinstance(obj, dict) else list(range(len(obj))) if isinstance(obj, list) else []
    if not kids or rng.random() < (0.1 if depth == 0 else 0.35):
        return mutate_tree(rng, obj)
    key = kids[int(rng.integers(len(kids)))]
    new = dict(obj) if isinstance(obj, dict) else list(obj)
    new[key] = _mutant(rng, obj[key], depth + 1)
    return new


def _consume(res: dict[str, tuple[Any, dict[str, Any], str]]) -> None:
    """What the report does with an accepted verdict, without a database or a benchmark."""
    from surrogate_eo.landscape.verdict_schema import check_plan
    from surrogate_eo.report.landscape import _features, _reason, verdict_summary
    from surrogate_eo.report.layout_landscape import verdict_line

    (obj, vd, origin), = res.values()
    assert obj is None and origin
    summary = verdict_summary(vd)
    assert summary["verdict"] in ("faithful", "unfaithful", "inconclusive")
    feats = _features(vd)
    assert all(set(f) >= {"description", "is_map"} for f in feats.values())
    level = float(vd.get("ci_level", 0.95))
    assert all(isinstance(_reason(c, level), str) for c in vd["comparisons"])
    land = {**summary, "counts": vd.get("counts", {})}
    assert all(verdict_line(TASK, land, m) for m in land["verdicts"])
    for side in ("truth", "distributional"):
        check_plan(vd["footprints"][side].get("plan", {}), side)


def test_fuzz_verdict_json(verdict_doc: dict[str, Any], tmp_path: Path) -> None:
    from surrogate_eo.report.landscape import verdict_inputs

    path = tmp_path / "verdict.json"
    text = json.dumps(verdict_doc)
    out = Outcome()
    path.write_text(text)
    check(lambda p: verdict_inputs([p], [TASK]), path, out, -1, _consume)  # the original is accepted
    assert out.accepted == 1
    for i, raw in enumerate(EDGE_FILES):
        path.write_bytes(raw)
        check(lambda p: verdict_inputs([p], [TASK]), path, out, -2 - i)
    assert out.refused == len(EDGE_FILES)
    for seed in range(N_FILES + N_DICTS + N_TEXTS):
        rng = np.random.default_rng([43, seed])
        if seed < N_FILES:
            path.write_text(json.dumps(_mutant(rng, verdict_doc), allow_nan=True))
            check(lambda p: verdict_inputs([p], [TASK]), path, out, seed, _consume)
        elif seed < N_FILES + N_DICTS:
            check(lambda d: verdict_inputs([d], [TASK]), _mutant(rng, verdict_doc), out, seed, _consume)
        else:
            path.write_bytes(mutate_text(rng, text).encode("utf-8", "surrogatepass"))
            check(lambda p: verdict_inputs([p], [TASK]), path, out, seed, _consume)
    assert out.tried == 1 + len(EDGE_FILES) + N_FILES + N_DICTS + N_TEXTS >= 1000, out
    assert out.refused > 100 and out.accepted > 100, out
    assert listing(tmp_path) == ["verdict.json"]


def test_fuzz_footprint_load(verdict_doc: dict[str, Any], tmp_path: Path) -> None:
    from surrogate_eo.landscape.footprint import Footprint

    doc = verdict_doc["footprints"]["truth"]
    path = tmp_path / "fp.json"
    out = Outcome()
    for i, raw in enumerate(EDGE_FILES):
        path.write_bytes(raw)
        check(Footprint.load, path, out, -2 - i)
    assert out.refused == len(EDGE_FILES)
    for seed in range(N_FOOTPRINTS):
        rng = np.random.default_rng([47, seed])
        if seed % 2:
            path.write_text(json.dumps(_mutant(rng, doc), allow_nan=True))
        else:
            path.write_bytes(mutate_text(rng, json.dumps(doc)).encode("utf-8", "surrogatepass"))
        check(Footprint.load, path, out, seed, lambda fp: fp.table())
    assert out.refused > 0 and out.accepted > 0, out
    assert listing(tmp_path) == ["fp.json"]
