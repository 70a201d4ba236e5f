"""Fuzz: benchmark manifests (benchmark.json) with and without a recomputed checksum, and model files."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import surrogate_eo
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import Benchmark, Entry, make_model
from surrogate_eo.surrogates.artifacts import _canonical, _sha256

from ._gen import Outcome, check, listing, mutate_text, mutate_tree

N_TREES = 300
N_TEXTS = 150
N_FILES = 150


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, np.ndarray]:
    """A small benchmark with an XGBoost, a LightGBM and a random-forest entry."""
    archs = get_space("nb201").sample(120, seed=5)
    y = (archs == 3).sum(1) * 0.05 + 0.5
    entries = []
    for task, family, params in (("t-xgb", "xgb", {"n_estimators": 4}), ("t-lgb", "lgb", {"n_estimators": 4}),
                                 ("t-rf", "rf", {"n_estimators": 3})):
        model = make_model(family, "nb201", **params).fit(archs, y)
        entries.append(Entry(task, "val_acc", None, model, train_archs=archs if family == "xgb" else None,
                             info={"n": 120}))
    path = tmp_path_factory.mktemp("fz") / "b"
    Benchmark("nb201", entries, {"tuning": {"trials": 2}}).save(str(path))
    return path, json.loads((path / "benchmark.json").read_text()), archs


def _valid(archs: np.ndarray):
    def check_bench(b: surrogate_eo.surrogates.Benchmark) -> None:
        for e in b.entries:
            p = b.predict(archs[:4], task=e.task, metric=e.metric)
            assert np.asarray(p).shape == (4,) and np.isfinite(p).all()
    return check_bench


def _with_checksum(doc: object) -> object:
    if isinstance(doc, dict):
        doc = {k: v for k, v in doc.items() if k != "checksum"}
        try:
            doc["checksum"] = _sha256(_canonical(doc))
        except (TypeError, ValueError):
            pass
    return doc


def test_fuzz_manifest_trees(saved, tmp_path: Path) -> None:
    """Edited manifests, most with a recomputed checksum (so the schema, not the checksum, must refuse them)."""
    src, doc, archs = saved
    d = tmp_path / "b"
    shutil.copytree(src, d)
    before = listing(d)
    out = Outcome()
    for seed in range(N_TREES):
        rng = np.random.default_rng([31, seed])
        m = mutate_tree(rng, doc)
        if seed % 4:
            m = _with_checksum(m)
        (d / "benchmark.json").write_text(json.dumps(m, allow_nan=True))
        check(surrogate_eo.load, d, out, seed, _valid(archs))
    assert out.tried == N_TREES and out.refused > N_TREES // 2, out
    assert listing(d) == before


def test_fuzz_manifest_texts(saved, tmp_path: Path) -> None:
    src, doc, archs = saved
    d = tmp_path / "b"
    shutil.copytree(src, d)
    text = json.dumps(doc)
    out = Outcome()
    for seed in range(N_TEXTS):
        rng = np.random.default_rng([32, seed])
        (d / "benchmark.json").write_bytes(mutate_text(rng, text).encode("utf-8", "surrogatepass"))
        check(surrogate_eo.load, d, out, seed, _valid(archs))
    assert out.tried == N_TEXTS and out.refused > N_TEXTS // 2, out


def test_fuzz_model_files(saved, tmp_path: Path) -> None:
    """Model and array files replaced by mutants whose digests and sizes were recomputed."""
    src, doc, archs = saved
    d = tmp_path / "b"
    shutil.copytree(src, d)
    names = sorted(doc["files"])
    out = Outcome()
    for seed in range(N_FILES):
        rng = np.random.default_rng([33, seed])
        name = names[seed % len(names)]
        data = (src / name).read_bytes()
        k = int(rng.integers(0, 4))
        if k == 0:
            data = data[: int(rng.integers(0, len(data) + 1))]
        elif k == 1:
            arr = bytearray(data)
            for _ in range(int(rng.integers(1, 20))):
                arr[int(rng.integers(len(arr)))] = int(rng.integers(256))
            data = bytes(arr)
        elif k == 2:
            data = bytes(rng.integers(0, 256, int(rng.integers(0, 3000)), dtype=np.uint8))
        else:
            data = data + data[: int(rng.integers(1, 200))]
        (d / name).write_bytes(data)
        m = dict(doc)
        m["files"] = {**doc["files"], name: _sha256(data)}
        m["sizes"] = {**doc["sizes"], name: len(data)}
        (d / "benchmark.json").write_text(json.dumps(_with_checksum(m)))
        check(surrogate_eo.load, d, out, seed, _valid(archs))
        (d / name).write_bytes((src / name).read_bytes())
    assert out.tried == N_FILES and out.refused > 0, out
