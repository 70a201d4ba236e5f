"""Benchmark API, fitting from the NB201 table, and artifacts that refuse tampering."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import surrogate_eo
from surrogate_eo.errors import ArtifactError, InvalidArchitectureError, SurrogateError
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import Benchmark, Ensemble, Entry, RFSurrogate, XGBSurrogate, fit_benchmark, parse_column

C10, C10_12 = "CIFAR10TestAccuracy200Epochs", "Cifar10TestAccuracy12Epochs"
SMALL = {"n_estimators": 60}


@pytest.fixture(scope="module")
def bench(nb201_table) -> Benchmark:
    return fit_benchmark(nb201_table, columns=[C10, C10_12, "CIFAR100TestAccuracy200Epochs"], model="xgb-ens",
                         model_params=SMALL, train_fraction=0.03, seed=0, conformal_folds=3)


@pytest.fixture(scope="module")
def saved(bench, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "b"
    bench.save(str(path))
    return path


def test_parse_column():
    assert parse_column("Cifar10TestAccuracy12Epochs") == ("cifar10", "test_acc", 12)
    assert parse_column("ImageNetTestAccuracy200Epochs") == ("imagenet16", "test_acc", 200)
    assert parse_column("my_metric") == ("table", "my_metric", None)


def test_predict_forms_and_lookup(bench, nb201_table):
    space = bench.space
    archs = space.sample(5, seed=1)
    strings = space.to_strings(archs)
    batch = bench.predict(archs, task="cifar10")
    assert bench.tasks == ["cifar10", "cifar100"] and bench.metrics == ["test_acc"]
    assert bench.epochs("cifar10") == [12, 200]
    np.testing.assert_allclose(bench.predict(strings, task="cifar10"), batch)
    one = bench.predict(strings[0], task="cifar10")
    assert isinstance(one, float) and one == pytest.approx(batch[0])
    assert bench.predict(tuple(archs[0]), task="cifar10") == pytest.approx(batch[0])
    assert bench.predict(list(archs[0]), task="cifar10", epoch=200) == pytest.approx(batch[0])
    low = bench.predict(archs, task="cifar10", epoch=12)
    assert low.mean() < batch.mean() - 0.05  # 12-epoch accuracies are lower
    truth = nb201_table.fitness(archs, C10)
    assert np.abs(batch - truth).mean() < 0.05


def test_noise_is_seeded(bench):
    archs = bench.space.sample(50, seed=2)
    a = bench.predict(archs, task="cifar10", with_noise=True, seed=7)
    b = bench.predict(archs, task="cifar10", with_noise=True, seed=7)
    c = bench.predict(archs, task="cifar10", with_noise=True, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and ((a >= 0) & (a <= 1)).all()
    mean, std = bench.predict_dist(archs, task="cifar10")
    nm = bench.entry("cifar10")[0].noise_model  # conformal: draws are prediction + an out-of-fold residual
    assert (std > 0).all() and nm.seed_std == 0.0
    assert np.abs(a - mean).max() <= np.abs(nm.quantiles).max() + 1e-12


def test_bad_queries(bench):
    arch = bench.space.sample(1, seed=0)[0]
    with pytest.raises(SurrogateError, match="several tasks"):
        bench.predict(arch)
    with pytest.raises(SurrogateError, match="unknown task 'so2sat-s2'"):
        bench.predict(arch, task="so2sat-s2")
    with pytest.raises(SurrogateError, match="unknown metric 'val_acc'.*test_acc"):
        bench.predict(arch, task="cifar10", metric="val_acc")
    with pytest.raises(SurrogateError, match="epoch 50.*12, 200"):
        bench.predict(arch, task="cifar10", epoch=50)
    with pytest.raises(InvalidArchitectureError):
        bench.predict("|bogus~0|", task="cifar10")
    with pytest.raises(InvalidArchitectureError):
        bench.predict(get_space("eo").sample(1, seed=0), task="cifar10")
    with pytest.raises(SurrogateError, match="no runtime model"):
        bench.predict_runtime(arch, task="cifar10")


def test_evaluate_excludes_training_archs(bench, nb201_table):
    archs = nb201_table.space.enumerate()
    r = bench.evaluate(archs, nb201_table.all_values(C10), task="cifar10")
    assert r["n_test"] == len(archs) - round(0.03 * len(archs))
    assert r["kendall_tau"] > 0.7 and 0 < r["coverage_95"] <= 1
    r_all = bench.evaluate(archs, nb201_table.all_values(C10), task="cifar10", exclude_train=False)
    assert r_all["n_test"] == len(archs)


def test_roundtrip(bench, saved):
    loaded = surrogate_eo.load(saved)
    archs = bench.space.sample(200, seed=3)
    for task, epoch in [("cifar10", None), ("cifar10", 12), ("cifar100", None)]:
        np.testing.assert_array_equal(loaded.predict(archs, task=task, epoch=epoch),
                                      bench.predict(archs, task=task, epoch=epoch))
    assert loaded.describe()["entries"] == bench.describe()["entries"]
    doc = json.loads((saved / "benchmark.json").read_text())
    assert doc["schema_version"] == 1 and doc["space"] == "nb201" and doc["library_versions"]["xgboost"]
    assert all(len(h) == 64 for h in doc["files"].values()) and len(doc["files"]) == 3 * 5 + 3


@pytest.mark.parametrize("family", ["lgb", "rf", "gin"])
def test_roundtrip_families(family, toy_data, tmp_path):
    from surrogate_eo.surrogates import make_model

    if family == "gin":
        pytest.importorskip("torch")
    params = {"gin": {"epochs": 5, "hidden": 16}, "rf": {"n_estimators": 10}, "lgb": {"n_estimators": 30}}[family]
    archs, y = toy_data
    model = make_model(family, "nb201", **params).fit(archs, y)
    bench = Benchmark("nb201", [Entry("toy", "val_acc", None, model, train_archs=archs)])
    bench.save(str(tmp_path / "b"))
    np.testing.assert_allclose(surrogate_eo.load(tmp_path / "b").predict(archs[:50]), model.predict(archs[:50]),
                               rtol=1e-6)


def test_roundtrip_weighted_ensemble(toy_data, tmp_path):
    """Weights are saved and validated; a weighted tree ensemble answers through the library (the exported
    trees average with equal weights) and equals the fitted model after loading."""
    archs, y = toy_data
    model = Ensemble(members=[XGBSurrogate(space="nb201", n_estimators=20), RFSurrogate(space="nb201",
                                                                                      n_estimators=5)],
                     n_seeds=1, weights=[0.9, 0.1]).fit(archs, y)
    bench = Benchmark("nb201", [Entry("toy", "val_acc", None, model, train_archs=archs)])
    bench.save(str(tmp_path / "b"))
    loaded = surrogate_eo.load(tmp_path / "b")
    assert loaded.entries[0].model.weights == [0.9, 0.1]
    np.testing.assert_allclose(loaded.predict(archs[:50]), model.predict(archs[:50]), rtol=1e-6)
    np.testing.assert_allclose(bench.predict(archs[:3]), model.predict(archs[:3]), rtol=1e-6)


def _copy(saved: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(saved, dst)
    return dst


def _rewrite(path: Path, edit) -> None:
    from surrogate_eo.surrogates.artifacts import _canonical, _sha256

    doc = json.loads((path / "benchmark.json").read_text())
    edit(doc)
    doc.pop("checksum", None)
    doc["checksum"] = _sha256(_canonical(doc))
    (path / "benchmark.json").write_text(json.dumps(doc))


def test_tampered_artifacts_are_refused(saved, tmp_path):
    d = _copy(saved, tmp_path)
    booster = d / "entries/00/m00-booster.ubj"
    data = bytearray(booster.read_bytes())
    data[-10] ^= 1
    booster.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256.*modified"):
        surrogate_eo.load(d)
    shutil.rmtree(d)

    d = _copy(saved, tmp_path)
    text = (d / "benchmark.json").read_text().replace('"noise_std": 0.0', '"noise_std": 0.5', 1)
    (d / "benchmark.json").write_text(text)
    with pytest.raises(ArtifactError, match="checksum"):
        surrogate_eo.load(d)
    shutil.rmtree(d)

    d = _copy(saved, tmp_path)
    (d / "entries/00/m01-booster.ubj").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        surrogate_eo.load(d)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.update(schema_version=99), "schema version 99"),
    (lambda d: d.update(space="nas301"), "unknown space"),
    (lambda d: d["files"].update({"../outside.txt": "0" * 64}), "plain relative path"),
    (lambda d: d["entries"][0]["model"].update(family="os.system"), "unknown model family"),
    (lambda d: d["entries"][0]["model"]["params"].update(evil=1), "no parameter 'evil'"),
    (lambda d: d["entries"][0]["model"]["estimators"][0]["files"].update({"booster.ubj": "tuning.json"}),
     "not listed"),
    (lambda d: d["entries"][0]["model"]["featurizer"].update(blocks=["onehot"], n_features=30), "features"),
    (lambda d: d["entries"][0]["model"]["params"].update(weights=[1.0, 2.0]), r"weights.*one weight per member"),
    (lambda d: d["entries"][0]["model"]["params"].update(weights=[-1.0]), r"weights\[0\].*finite number > 0"),
    (lambda d: d["entries"][0]["model"]["params"].update(weights="1"), r"weights.*a list of numbers"),
    (lambda d: d["entries"][0]["model"]["estimators"][0]["params"].update(monotonic_cst={"synflow": 2}),
     r"monotonic_cst.synflow.*-1, 0 or 1"),
    (lambda d: d["entries"][0]["model"]["estimators"][0]["params"].update(monotonic_cst=[1]),
     r"monotonic_cst.*an object of feature name"),
    (lambda d: d["entries"][0]["model"]["estimators"][1]["featurizer"].update(blocks=["onehot"], n_features=30),
     "expects .* features"),
])
def test_mismatched_metadata_is_refused(saved, tmp_path, edit, match):
    d = _copy(saved, tmp_path)
    _rewrite(d, edit)
    with pytest.raises(ArtifactError, match=match):
        surrogate_eo.load(d)


def test_save_refuses_to_clobber(bench, saved, tmp_path):
    with pytest.raises(ArtifactError, match="already exists"):
        bench.save(str(saved))
    other = tmp_path / "notes"
    other.mkdir()
    (other / "x.txt").write_text("keep me")
    with pytest.raises(ArtifactError, match="not a benchmark folder"):
        bench.save(str(other), overwrite=True)
    assert (other / "x.txt").read_text() == "keep me"
    with pytest.raises(ArtifactError, match="not a benchmark folder"):
        surrogate_eo.load(other)


def test_query_without_torch(saved, toy_data, tmp_path):
    """XGBoost, LightGBM and forest benchmarks load and predict with torch blocked; a GIN says how to install it."""
    from surrogate_eo.surrogates import make_model

    archs, y = toy_data
    entries = [Entry("toy", m, None, make_model(m, "nb201", n_estimators=20).fit(archs, y)) for m in ("lgb", "rf")]
    Benchmark("nb201", entries).save(str(tmp_path / "trees"))
    code = textwrap.dedent(f"""
        import importlib.abc, sys

        class NoTorch(importlib.abc.MetaPathFinder):  # as if torch were not installed
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("torch", "safetensors"):
                    raise ImportError("No module named " + repr(name))

        sys.meta_path.insert(0, NoTorch())
        import surrogate_eo
        b = surrogate_eo.load({str(saved)!r})
        print(round(float(b.predict("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", task="cifar10")), 4))
        trees = surrogate_eo.load({str(tmp_path / "trees")!r})
        assert all(0 < trees.predict([[3, 3, 3, 1, 3, 3]], metric=m)[0] < 1 for m in ("lgb", "rf"))
        from surrogate_eo.surrogates import GINSurrogate
        try:
            GINSurrogate(space="nb201", epochs=1).fit([[0, 1, 2, 3, 4, 0], [1, 1, 1, 1, 1, 1]], [0.1, 0.2])
        except surrogate_eo.SurrogateEOError as exc:
            print("ERR", exc)
        assert "torch" not in sys.modules
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    value, err = out.stdout.strip().splitlines()
    assert 0.5 < float(value) <= 1.0
    assert err.startswith("ERR") and "pip install" in err


def test_member_mean_and_std_match_numpy_for_one_arch_and_batches():
    from surrogate_eo.surrogates._query import _mean_std

    rng = np.random.default_rng(12)
    for k, n in ((1, 1), (2, 1), (6, 1), (6, 7), (1, 5)):
        out = rng.normal(0.8, 0.05, (k, n))
        mean, std = _mean_std(out)
        assert mean.shape == std.shape == (n,)
        np.testing.assert_allclose(mean, out.mean(axis=0), rtol=0, atol=1e-15)
        np.testing.assert_allclose(std, out.std(axis=0, ddof=1) if k > 1 else np.zeros(n), rtol=0, atol=1e-15)
