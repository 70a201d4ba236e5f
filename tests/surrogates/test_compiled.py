"""Exported trees (surrogates/_compiled.py) against the libraries' own predictions, the query path, the probe."""
from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from sklearn.ensemble import RandomForestRegressor

from surrogate_eo.errors import ArtifactError
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import Benchmark, Entry, make_model
from surrogate_eo.surrogates import _compiled, _export, _jit, _walk
from surrogate_eo.surrogates._compiled import compile_members, compile_model, from_forest_arrays
from surrogate_eo.surrogates.artifacts import _canonical, _sha256, load_benchmark
from surrogate_eo.surrogates.ensemble import Ensemble, MultiFidelity
from surrogate_eo.surrogates.forest import forest_to_arrays
from surrogate_eo.surrogates.trees import LGBSurrogate, XGBSurrogate

SPACE = get_space("nb201")


@pytest.fixture(scope="module")
def data():
    archs = SPACE.sample(400, seed=0)
    rng = np.random.default_rng(0)
    y = 0.6 + 0.05 * (archs == 3).sum(axis=1) - 0.03 * (archs == 0).sum(axis=1) + 0.01 * rng.standard_normal(400)
    return archs, y


@pytest.fixture(scope="module")
def query():
    return SPACE.sample(300, seed=7)


@pytest.fixture(params=["jit", "numpy"])
def walk(request, monkeypatch):
    """Run a test with the compiled (numba) walk and with the numpy walk."""
    if request.param == "jit" and _jit.kernel() is None:
        pytest.skip("numba is not installed (a dependency of surrogate-eo: pip install numba)")
    monkeypatch.setattr(_jit, "ENABLED", request.param == "jit")
    monkeypatch.setattr(_jit, "USE_AFTER", 0)
    return request.param


def _chunks(trees, X, size):
    return np.concatenate([trees.predict(X[i:i + size]) for i in range(0, len(X), size)])


@pytest.mark.parametrize("size", [1, 5, 64])
def test_xgboost_export_reproduces_inplace_predict(data, query, size, walk):
    archs, y = data
    model = XGBSurrogate(space="nb201", n_estimators=500, max_depth=6).fit(archs, y)
    trees = compile_model(model)
    X = model.featurizer_.transform(query)
    want = model.booster_.inplace_predict(X)
    # base_score (the fitted intercept) is part of the model and of the export
    assert trees.parts["base"][0] == pytest.approx(float(np.float32(y.mean())), abs=1e-3)
    assert trees.n_trees == 500
    # XGBoost sums in float32 from base_score, tree by tree; the export does the same: equal to the bit
    np.testing.assert_array_equal(_chunks(trees, X, size), want.astype(np.float64))


def test_xgboost_trained_with_missing_values(query):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, (300, 8)).astype(np.float32)
    X[rng.random(X.shape) < 0.2] = np.nan           # learns default directions
    y = np.nan_to_num(X).sum(axis=1) + rng.standard_normal(300)
    booster = xgb.train({"max_depth": 4, "verbosity": 0, "base_score": 2.5}, xgb.DMatrix(X, label=y), 40)
    model = XGBSurrogate(space="nb201")
    model.booster_ = booster
    trees = _compiled.from_xgboost(booster)
    Xq = rng.integers(0, 4, (50, 8)).astype(np.float32)
    np.testing.assert_array_equal(trees.predict(Xq), booster.inplace_predict(Xq).astype(np.float64))
    # rows with NaN are never walked here: the hook hands them to the library
    Xq[0, 0] = np.nan
    for _ in range(_compiled.COMPILE_AFTER + 1):
        assert _compiled.small_batch(model, Xq) is None
        np.testing.assert_allclose(model._predict_X(Xq), booster.inplace_predict(Xq), rtol=0, atol=1e-7)


def test_lightgbm_export_reproduces_raw_score(data, query, walk):
    archs, y = data
    model = LGBSurrogate(space="nb201", n_estimators=300, num_leaves=31).fit(archs, y)
    trees = compile_model(model)
    X = model.featurizer_.transform(query)
    want = model.booster_.predict(X, raw_score=True)
    np.testing.assert_allclose(_chunks(trees, X, 7), want, rtol=0, atol=1e-9)
    trees._prepare()
    assert len(trees._levels) >= 6        # leaf-wise trees of uneven depth: the walk narrows level by level


def test_lightgbm_single_leaf_trees_and_average_output(walk):
    rng = np.random.default_rng(2)
    X = rng.random((60, 3)).astype(np.float32)
    y = X[:, 0] + rng.standard_normal(60) * 0.01
    # min_data_in_leaf larger than half the data: every tree is a single leaf
    flat = lgb.train({"objective": "regression", "verbose": -1, "min_data_in_leaf": 40}, lgb.Dataset(X, y), 5)
    trees = _compiled.from_lightgbm(flat)
    np.testing.assert_allclose(trees.predict(X[:9]), flat.predict(X[:9]), rtol=0, atol=1e-12)
    rf = lgb.train({"objective": "regression", "boosting": "rf", "bagging_freq": 1, "bagging_fraction": 0.7,
                    "verbose": -1, "min_data_in_leaf": 3}, lgb.Dataset(X, y), 20)
    trees = _compiled.from_lightgbm(rf)
    np.testing.assert_allclose(trees.predict(X[:9]), rf.predict(X[:9]), rtol=0, atol=1e-12)


def test_lightgbm_zero_as_missing_and_categorical_are_left_to_the_library():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 3, (200, 3)).astype(np.float64)
    y = X[:, 0] * 2 + X[:, 1]
    zero = lgb.train({"objective": "regression", "verbose": -1, "zero_as_missing": True, "min_data_in_leaf": 5},
                     lgb.Dataset(X, y), 5)
    assert _compiled.from_lightgbm(zero) is None
    cat = lgb.train({"objective": "regression", "verbose": -1, "min_data_in_leaf": 5, "min_data_per_group": 5,
                     "cat_smooth": 1}, lgb.Dataset(X, y, categorical_feature=[0]), 5)
    assert _compiled.from_lightgbm(cat) is None
    logistic = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, (y > 2).astype(float)), 3)
    assert _compiled.from_lightgbm(logistic) is None   # a link function: raw score is not the prediction


def test_random_forest_export_matches_scikit_learn(walk):
    rng = np.random.default_rng(4)
    X = rng.integers(0, 5, (300, 6)).astype(np.float32)
    y = X[:, 0] * X[:, 1] + rng.standard_normal(300)
    rf = RandomForestRegressor(n_estimators=40, random_state=0, max_features=0.5).fit(X, y)
    trees = from_forest_arrays(forest_to_arrays(rf))
    # thresholds sit between the integer values; the rows hit them exactly and must go left (x <= t)
    np.testing.assert_allclose(_chunks(trees, X[:100], 3), rf.predict(X[:100]), rtol=0, atol=1e-12)


def test_ensemble_members_in_one_walk(data, query, walk):
    archs, y = data
    ens = make_model("xgb+lgb", "nb201", n_estimators=80).fit(archs, y)
    trees = compile_members(ens.estimators_)
    X = ens.featurizer_.transform(query[:40])
    assert trees.n_groups == 6
    np.testing.assert_allclose(trees.predict_groups(X), ens._members_X(X), rtol=0, atol=1e-9)


def test_model_hook_compiles_after_a_few_small_calls(data, query):
    archs, y = data
    model = XGBSurrogate(space="nb201", n_estimators=50).fit(archs, y)
    X = model.featurizer_.transform(query[:3])
    want = model.booster_.inplace_predict(X).astype(np.float64)
    for _ in range(_compiled.COMPILE_AFTER + 2):
        np.testing.assert_array_equal(model._predict_X(X), want)
    assert model._compiled_cache[1] is not None
    model.fit(archs[:200], y[:200])          # a refit replaces the booster: the export is made again
    assert model._compiled_cache[0] is not model.booster_
    np.testing.assert_array_equal(model.predict(query[:3]), model.booster_.inplace_predict(X).astype(np.float64))


# --------------------------------------------------------------- benchmark path
def _bench(model, archs, y, **entry):
    return Benchmark(SPACE, [Entry("cifar10", "val_acc", None, model.fit(archs, y), **entry)])


def _library(bench, batch):
    with _compiled.library_only():
        return bench.predict(batch)


def test_benchmark_strings_vectors_and_tables_agree(data, query):
    archs, y = data
    bench = _bench(make_model("xgb+lgb", "nb201", n_estimators=60), archs, y)
    bench.precompute(False)
    want = _library(bench, query)
    strings = SPACE.to_strings(query)
    one = [bench.predict(s) for s in strings[:20]]
    np.testing.assert_allclose(one, want[:20], rtol=0, atol=1e-9)
    np.testing.assert_allclose([bench.predict(tuple(a)) for a in query[:20]], want[:20], rtol=0, atol=1e-9)
    np.testing.assert_allclose(bench.predict(strings), want, rtol=0, atol=1e-12)
    # a string with extra spaces is not in the table: parsed by the space, same arch
    assert bench.predict("  " + strings[0] + " ") == pytest.approx(one[0], abs=1e-12)
    mean, std = bench.predict_dist(query[:5])
    assert (std > 0).all()
    bench.precompute(True)
    np.testing.assert_allclose(bench.predict(query), want, rtol=0, atol=1e-9)
    assert len(bench._query._table) == 1
    np.testing.assert_allclose(bench.predict_dist(query[:5])[1], std, rtol=0, atol=1e-9)
    with pytest.raises(Exception, match="precompute"):
        bench.precompute("sometimes")


def test_auto_table_after_a_space_worth_of_queries(data):
    archs, y = data
    bench = _bench(XGBSurrogate(space="nb201", n_estimators=30), archs, y).precompute("auto")
    q = SPACE.sample(8000, seed=3)
    bench.predict(q)
    assert not bench._query._table
    bench.predict(q)            # 16,000 asked >= 15,625 archs: the table pays for itself
    assert len(bench._query._table) == 1
    np.testing.assert_allclose(bench.predict(q), _library(bench, q), rtol=0, atol=1e-9)


def test_multifidelity_entry_uses_the_epoch_column(data, query):
    archs, y = data
    epochs = np.where(np.arange(len(y)) % 2 == 0, 12, 200)
    mf = MultiFidelity(base=Ensemble(members=[XGBSurrogate(space="nb201", n_estimators=40)], n_seeds=2))
    mf.fit(archs, y - 0.1 * (epochs == 12), epochs)
    bench = Benchmark(SPACE, [Entry("cifar10", "val_acc", None, mf)])
    bench.precompute(False)
    for ep in (12, 200):
        got = [bench.predict(a, epoch=ep) for a in query[:10]]
        np.testing.assert_allclose(got, _library(bench, query[:10]) if ep == 200 else
                                   _lib_epoch(bench, query[:10], ep), rtol=0, atol=1e-9)


def _lib_epoch(bench, batch, epoch):
    with _compiled.library_only():
        return bench.predict(batch, epoch=epoch)


# -------------------------------------------------------------------- probe
def _rehash(folder: Path, rel: str, data: bytes) -> None:
    """Rewrite one model file and every checksum, as someone editing the folder would."""
    (folder / rel).write_bytes(data)
    meta = folder / "benchmark.json"
    doc = json.loads(meta.read_text())
    doc["files"][rel] = _sha256(data)
    if "sizes" in doc:
        doc["sizes"][rel] = len(data)
    doc["checksum"] = _sha256(_canonical({k: v for k, v in doc.items() if k != "checksum"}))
    meta.write_text(json.dumps(doc, indent=1))


def test_probe_refuses_an_edited_leaf_value(tmp_path, data):
    archs, y = data
    bench = _bench(make_model("xgb+lgb", "nb201", n_estimators=40), archs, y)
    bench.save(str(tmp_path / "b"))
    loaded = load_benchmark(tmp_path / "b")          # untouched: loads, and predicts like the original
    np.testing.assert_allclose(loaded.predict(archs[:5]), bench.predict(archs[:5]), rtol=0, atol=1e-9)
    rel = next(p.relative_to(tmp_path / "b").as_posix() for p in sorted((tmp_path / "b").rglob("*booster.txt")))
    text = (tmp_path / "b" / rel).read_text()
    # change one digit of the first leaf value (same length: LightGBM checks each tree's byte size)
    at = text.index(".", text.index("leaf_value=")) + 1
    edited = text[:at] + str((int(text[at]) + 3) % 10) + text[at + 1:]
    _rehash(tmp_path / "b", rel, edited.encode())
    with pytest.raises(ArtifactError) as info:
        load_benchmark(tmp_path / "b")
    msg = str(info.value)
    assert "\n" not in msg and "entry 0" in msg and "restore the folder" in msg
    assert "trees differ from the ones saved" in msg or "predicts differently from when it was saved" in msg


def test_probe_refuses_an_export_that_disagrees_with_the_library(tmp_path, data, monkeypatch):
    archs, y = data
    bench = _bench(XGBSurrogate(space="nb201", n_estimators=30), archs, y)
    bench.save(str(tmp_path / "b"))
    real = _export.from_xgboost

    def skewed(booster):            # an exporter that reads every leaf a little differently (a version skew)
        trees = real(booster)
        p = dict(trees.parts)
        p["value"] = p["value"] + 0.01 * (p["value"] != 0)
        return _compiled.CompiledTrees(**p, n_features=trees.n_features)

    monkeypatch.setattr(_compiled, "from_xgboost", skewed)
    with pytest.raises(ArtifactError, match="exported trees disagree with the library") as info:
        load_benchmark(tmp_path / "b")
    assert "\n" not in str(info.value) and "refit" in str(info.value)


def test_large_space_strings_are_parsed_in_batches_and_checked():
    eo = get_space("eo")
    archs = eo.sample(300, seed=0)
    y = 0.5 + 0.05 * (archs[:, :6] == 3).sum(axis=1) + 0.01 * archs[:, -1]
    bench = Benchmark(eo, [Entry("so2sat-s2", "val_acc", None,
                                 XGBSurrogate(space="eo", n_estimators=30).fit(archs, y))])
    q = eo.sample(20, seed=1)
    strings = eo.to_strings(q)
    want = _library(bench, q)
    np.testing.assert_allclose(bench.predict(strings), want, rtol=0, atol=1e-9)
    np.testing.assert_allclose([bench.predict(s) for s in strings], want, rtol=0, atol=1e-9)
    assert bench._query._parser.ok and not bench._query._table   # token lookup; no table for a space this large
    # a variant the space accepts (spaces around a field) is not canonical: the space's parser answers it
    variant = strings[0].replace(";width=", "; width=")
    assert bench.predict(variant) == pytest.approx(want[0], abs=1e-12)
    for bad in (strings[0].replace("width=", "widht="), strings[0].replace("~1|", "~2|", 1),
                strings[0].replace("conv3x3", "conv5x5").replace("spectral", "conv5x5")):
        with pytest.raises(Exception, match="eo"):
            bench.predict([strings[1], bad])


def test_kernel_is_asked_for_only_after_many_calls(monkeypatch):
    if _jit.kernel() is None:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(_jit, "_KERNEL", [])          # as in a fresh process: numba not loaded yet
    monkeypatch.setattr(_jit, "USE_AFTER", 5)
    rng = np.random.default_rng(0)
    X = rng.random((50, 3)).astype(np.float32)
    rf = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, X[:, 0])
    trees = from_forest_arrays(forest_to_arrays(rf))
    for _ in range(4):
        np.testing.assert_allclose(trees.predict(X[:2]), rf.predict(X[:2]), rtol=0, atol=1e-12)
    assert not _jit.loaded() and trees._calls == 4      # short use: the numpy walk, numba never imported
    np.testing.assert_allclose(trees.predict(X[:2]), rf.predict(X[:2]), rtol=0, atol=1e-12)
    assert _jit.loaded()                                # the 5th call loaded the kernel
    other = from_forest_arrays(forest_to_arrays(rf))
    assert _jit.wanted(1) is not None and other.predict(X[:1]).shape == (1,)   # loaded: every forest uses it


def test_switch_by_rows_and_library_threads(data, query, monkeypatch):
    archs, y = data
    monkeypatch.setattr(_jit, "ENABLED", False)          # numpy walk: small batches only
    assert _compiled.enabled(_compiled.MAX_ROWS) and not _compiled.enabled(_compiled.MAX_ROWS + 1)
    ens = make_model("xgb+lgb", "nb201", n_estimators=20)
    for m in ens.members:
        m.set_params(n_jobs=3)
    assert _compiled.threads_of(ens) == 3 and _compiled.threads_of(XGBSurrogate(space="nb201")) == 1
    monkeypatch.setattr(_jit, "ENABLED", True)            # kernels loaded: every size, any library threads
    if _jit.kernel() is None:
        pytest.skip("numba is not installed")
    assert _compiled.JIT_MAX_ROWS is None and _compiled.enabled(10 ** 7, 1) and _compiled.enabled(10 ** 7, 3)
    monkeypatch.setattr(_compiled, "JIT_MAX_ROWS", 100)
    assert _compiled.enabled(100, 1) and not _compiled.enabled(101, 3)
    monkeypatch.setattr(_compiled, "JIT_MAX_ROWS", None)
    bench = _bench(XGBSurrogate(space="nb201", n_estimators=60), archs, y)
    X = bench.entries[0].model.featurizer_.transform(query)
    # 300 rows through the row-block kernel: XGBoost's own numbers, to the bit
    np.testing.assert_array_equal(bench.predict(query), bench.entries[0].model.booster_.inplace_predict(X))


def test_a_process_of_large_batches_loads_the_kernels_after_enough_rows(monkeypatch):
    if _jit.kernel() is None:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(_jit, "_KERNEL", [])          # as in a fresh process: numba not loaded yet
    monkeypatch.setattr(_jit, "_LIBRARY_ROWS", [0])
    monkeypatch.setattr(_jit, "USE_AFTER_ROWS", 100)
    assert _compiled.enabled(5) and not _jit.loaded()  # small batches: the numpy walk, nothing counted
    assert not _compiled.enabled(64) and not _compiled.enabled(64)   # 128 rows to the library
    assert not _jit.loaded()
    with _compiled.library_only():                     # the probe's batches neither count nor load
        assert not _compiled.enabled(64) and not _jit.loaded()
    assert _compiled.enabled(64) and _jit.loaded()     # past the mark: this batch has the kernels


def _row_kernel_cases(data, query):
    archs, y = data
    X = XGBSurrogate(space="nb201").fit(archs[:50], y[:50]).featurizer_.transform(query)
    xg = XGBSurrogate(space="nb201", n_estimators=120, max_depth=7).fit(archs, y)
    lg = LGBSurrogate(space="nb201", n_estimators=120, num_leaves=40).fit(archs, y)
    rng = np.random.default_rng(5)
    Xr = rng.integers(0, 5, (300, 6)).astype(np.float32)
    rf = RandomForestRegressor(n_estimators=30, random_state=0).fit(Xr, Xr[:, 0] * Xr[:, 1])
    ens = make_model("xgb+lgb", "nb201", n_estimators=40).fit(archs, y)
    forest = from_forest_arrays(forest_to_arrays(rf))
    forest.n_features = 6                       # as compile_model sets it: the rows' width, not the used columns
    return [(compile_model(xg), X, xg.booster_.inplace_predict(X)[None, :].astype(np.float64), 0.0),
            (compile_model(lg), X, lg.booster_.predict(X, raw_score=True)[None, :], 1e-9),
            (forest, Xr, rf.predict(Xr)[None, :], 1e-12),
            (compile_members(ens.estimators_), X, ens._members_X(X), 1e-9)]


def test_row_kernel_threads_and_tree_kernel_agree_with_the_libraries(data, query, monkeypatch):
    if _jit.kernel() is None or _jit.row_kernel() is None:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(_jit, "USE_AFTER", 0)
    for trees, X, want, tol in _row_kernel_cases(data, query):
        for rows_from, per_thread, threads in ((10 ** 9, 2048, 1), (1, 2048, 1), (1, 70, 3), (1, 70, 2)):
            # tree-major kernel only; row-block kernel on one thread; on 3 and 2 threads over row chunks
            monkeypatch.setattr(_walk, "ROW_KERNEL_ROWS", rows_from)
            monkeypatch.setattr(_walk, "ROWS_PER_THREAD", per_thread)
            got = trees.predict_groups(X, threads)
            assert got.shape == want.shape
            if tol == 0.0:                          # XGBoost: float32 sums in its order, to the bit
                np.testing.assert_array_equal(got, want)
            else:
                np.testing.assert_allclose(got, want, rtol=0, atol=tol)
        np.testing.assert_array_equal(trees.predict_groups(X[:0], 2), np.zeros((want.shape[0], 0)))
    layout = trees.row_layout()
    assert layout[2].dtype == np.uint32 and layout[3].dtype == np.uint32    # unsigned node ids and test offsets
    assert (layout[2] % _jit.BLOCK == 0).all()


def test_tuple_queries_are_checked_like_the_space_checks_them(data, query):
    archs, y = data
    bench = _bench(XGBSurrogate(space="nb201", n_estimators=30), archs, y)
    want = _library(bench, query[:5])
    got = [bench.predict(tuple(int(v) for v in a)) for a in query[:5]]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert bench.predict(tuple(np.int64(v) for v in query[0])) == pytest.approx(want[0], abs=1e-9)
    batch, single = bench._query.as_batch((1, 2, 3, 4, 0, 1))
    assert single and batch.shape == (1, 6) and not batch.flags.writeable      # a view of the arch table
    for bad in ((1, 2, 3, 4, 0, 5), (1, 2, 3, 4, 0), (1, 2, 3, 4, 0, -1), (1, 2, 3, 4, 0, 1, 0)):
        with pytest.raises(Exception, match="nb201"):
            bench.predict(bad)
