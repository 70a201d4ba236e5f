"""Surrogates v2, part 2: eo isomorphism classes, the shared graph training loop, the pretraining cache, auto+GNN."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.errors import SurrogateError
from surrogate_eo.spaces import get_space
from surrogate_eo.spaces.eo import CELL
from surrogate_eo.surrogates import Featurizer, SurrogateWarning, make_model
from surrogate_eo.surrogates.auto import candidates_for, select_model
from surrogate_eo.surrogates.canonical import canonical_representatives, cell_class_hash
from surrogate_eo.surrogates.metrics import kendall_tau_score

from .conftest import toy_target


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Keep the GNN pretraining cache of these tests out of the user's cache folder."""
    monkeypatch.setenv("SURROGATE_EO_CACHE", str(tmp_path_factory.getbasetemp() / "gnn-cache"))


def _partition(labels: np.ndarray) -> np.ndarray:
    """Each element's class as the index of the class's first element (comparable across labelings)."""
    _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    return first[inv.reshape(-1)]


# ------------------------------------------------------------ eo classes
def _check_cell_partition(cells: np.ndarray) -> None:
    keys = np.asarray(CELL.keys(cells), dtype=object)
    h = cell_class_hash(CELL, cells)
    assert len(np.unique(keys)) < 0.6 * len(np.unique(cells, axis=0))  # the test has collisions to get right
    np.testing.assert_array_equal(_partition(h), _partition(keys))
    assert ((h == 0) == (keys == "0")).all()


def test_cell_hash_partition_equals_the_algebraic_keys():
    rng = np.random.default_rng(0)
    # none- and skip-heavy cells: many distinct cells share a class (dead edges, skips, node swaps)
    _check_cell_partition(rng.choice(9, size=(20_000, 6), p=np.r_[0.35, 0.25, np.full(7, 0.4 / 7)]))


@pytest.mark.slow
def test_cell_hash_partition_on_every_eo_cell():
    _check_cell_partition(np.indices((9,) * 6).reshape(6, -1).T)  # all 9**6 = 531,441 cells


def _isomorphic_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of distinct eo archs with one canonical key: swapped middle nodes, and dead-edge changes."""
    sp = get_space("eo")
    a = sp.sample(4 * n, seed=3)
    a[:, 2] = 0  # no edge 1->2: nodes 1 and 2 are interchangeable
    b = a.copy()
    b[:, [0, 1, 4, 5]] = a[:, [1, 0, 5, 4]]
    c = sp.sample(4 * n, seed=4)
    c[:, 3] = 0
    c[:, 4] = 0
    c[:, 5] = 0  # nothing reaches the output: every cell edge is dead
    d = c.copy()
    d[:, :3] = sp.sample(4 * n, seed=5)[:, :3]
    left, right = np.concatenate([a, c]), np.concatenate([b, d])
    same = (sp.canonical_many(left) == sp.canonical_many(right)) & (left != right).any(axis=1)
    return left[same][:n], right[same][:n]


def test_eo_canonical_representatives_follow_the_space_keys():
    sp = get_space("eo")
    left, right = _isomorphic_pairs(200)
    assert len(left) == 200
    batch = np.concatenate([left, right, sp.sample(2000, seed=9)])
    reps = canonical_representatives(sp, batch)
    keys = sp.canonical_many(batch)
    assert (sp.canonical_many(reps) == keys).all()  # a representative is a member of its class
    np.testing.assert_array_equal(_partition(sp.index(reps)), _partition(keys))  # one per class
    np.testing.assert_array_equal(reps[:, 6:], batch[:, 6:])  # macro choices untouched
    np.testing.assert_array_equal(canonical_representatives(sp, reps), reps)
    np.testing.assert_array_equal(reps[:200], reps[200:400])
    assert (sp.index(reps[:200]) <= np.minimum(sp.index(left), sp.index(right))).all()  # first of its class


def test_eo_featurizer_canonical_description():
    f = Featurizer(space="eo", canonical=True)
    d = f.to_dict()
    assert d["canonical"] is True and d["canonical_cells"] is True
    assert Featurizer.from_dict(d) == f
    left, right = _isomorphic_pairs(20)
    np.testing.assert_array_equal(f.transform(left), f.transform(right))
    assert not np.array_equal(Featurizer(space="eo").transform(left), Featurizer(space="eo").transform(right))
    old = {k: v for k, v in d.items() if k != "canonical_cells"}
    with pytest.raises(SurrogateError, match="featurised eo archs as given.*refit"):
        Featurizer.from_dict(old)


TORCH_PARAMS = {"gin": dict(epochs=3, hidden=8, layers=1),
                "gnn": dict(epochs=3, hidden=8, layers=1, pretrain_epochs=1, pretrain_sample=300),
                "xgb+gnn": dict(epochs=3, hidden=8, layers=1, pretrain_epochs=1, pretrain_sample=300,
                                n_estimators=20),
                "gnn-ens": dict(epochs=3, hidden=8, layers=1, pretrain_epochs=1, pretrain_sample=300)}


@pytest.mark.parametrize("name", ["xgb", "lgb", "rf", "xgb-ens", "xgb+lgb", "gin", "gnn", "xgb+gnn", "gnn-ens"])
def test_isomorphic_eo_archs_get_identical_predictions(name):
    if name in TORCH_PARAMS:
        pytest.importorskip("torch")
    params = TORCH_PARAMS.get(name, {"n_estimators": 20})
    sp = get_space("eo")
    train = sp.sample(120, seed=1)
    y = toy_target(train[:, :6].clip(0, 4)) + 0.01 * train[:, 7]
    model = make_model(name, "eo", seed=0, **params).fit(train, y)
    left, right = _isomorphic_pairs(40)
    pl, pr = model.predict(left), model.predict(right)
    np.testing.assert_array_equal(pl, pr)
    assert np.ptp(model.predict(sp.sample(50, seed=2))) > 0  # not a constant model


# ------------------------------------------------- one graph training loop
#: Predictions of the GIN and the GNN before their loops were merged into _graph_fit (same seeds and data).
GOLDEN = {
    "gin": [0.344562, 0.341691, 0.349224, 0.331521, 0.335419, 0.343618],
    "gnn": [0.309723, 0.318043, 0.315068, 0.315069, 0.312239, 0.311081],
    "gnn0": [0.280019, 0.285941, 0.28611, 0.28509, 0.283251, 0.280934],
}


def test_graph_models_predict_as_before_the_shared_loop():
    pytest.importorskip("torch")
    from surrogate_eo.surrogates.gin import GINSurrogate
    from surrogate_eo.surrogates.gnn import GNNSurrogate

    sp = get_space("nb201")
    archs = sp.sample(40, seed=3)
    y = (archs == 3).sum(axis=1) / 6.0 + 0.05 * (archs == 1).sum(axis=1)
    test = sp.sample(6, seed=4)
    models = {
        "gin": GINSurrogate(space="nb201", hidden=16, layers=2, epochs=5, batch_size=16, seed=1),
        "gnn": GNNSurrogate(space="nb201", hidden=8, layers=1, epochs=5, batch_size=16, pretrain_epochs=1, seed=1,
                            target="standard"),
        "gnn0": GNNSurrogate(space="nb201", hidden=8, layers=1, epochs=5, batch_size=16, pretrain_epochs=0, seed=2,
                             target="standard"),
    }
    for key, model in models.items():
        np.testing.assert_allclose(model.fit(archs, y).predict(test), GOLDEN[key], atol=2e-5, err_msg=key)


# ------------------------------------------------------ pretraining cache
def _tiny_gnn(**kw):
    from surrogate_eo.surrogates.gnn import GNNSurrogate

    return GNNSurrogate(space="nb201", hidden=8, layers=1, epochs=3, pretrain_epochs=1, seed=0, **kw)


def test_pretraining_cache_on_disk(tmp_path, monkeypatch, toy_data):
    pytest.importorskip("torch")
    from surrogate_eo.surrogates import gnn, pretrain

    monkeypatch.setenv("SURROGATE_EO_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(pretrain, "_MEMORY", {})
    archs, y = toy_data
    first = _tiny_gnn().fit(archs[:60], y[:60]).predict(archs[60:90])
    files = list((tmp_path / "c").iterdir())
    assert len(files) == 1 and files[0].name.startswith("gnn-pretrain-nb201-") and files[0].suffix == ".safetensors"

    def no_pretraining(*a, **k):  # pragma: no cover - must not run
        raise AssertionError("pretrained again despite a cache entry")

    monkeypatch.setattr(pretrain, "_MEMORY", {})  # a new process: only the disk remains
    monkeypatch.setattr(gnn.GNNSurrogate, "_pretrain", no_pretraining)
    np.testing.assert_array_equal(_tiny_gnn().fit(archs[:60], y[:60]).predict(archs[60:90]), first)

    monkeypatch.undo()
    monkeypatch.setenv("SURROGATE_EO_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(pretrain, "_MEMORY", {})
    files[0].write_bytes(b"\x00garbage" * 10)  # a corrupt entry is ignored, rebuilt and rewritten
    with pytest.warns(SurrogateWarning, match="unreadable.*pretraining again"):
        again = _tiny_gnn().fit(archs[:60], y[:60]).predict(archs[60:90])
    np.testing.assert_array_equal(again, first)
    assert [f.name for f in (tmp_path / "c").iterdir()] == [files[0].name]  # no temporary files left
    monkeypatch.setattr(pretrain, "_MEMORY", {})
    np.testing.assert_array_equal(_tiny_gnn().fit(archs[:60], y[:60]).predict(archs[60:90]), first)


def test_pretraining_cache_keys_and_switches(tmp_path, monkeypatch, toy_data):
    pytest.importorskip("torch")
    from surrogate_eo.surrogates import pretrain

    archs, y = toy_data
    monkeypatch.setenv("SURROGATE_EO_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(pretrain, "_MEMORY", {})
    _tiny_gnn().fit(archs[:30], y[:30])
    _tiny_gnn(pretrain_sample=123).fit(archs[:30], y[:30])  # nb201 is pretrained on every class: same key
    assert len(list((tmp_path / "c").iterdir())) == 1
    monkeypatch.setattr(pretrain, "code_version", lambda: "edited-source")  # new code, new entry
    monkeypatch.setattr(pretrain, "_MEMORY", {})
    _tiny_gnn().fit(archs[:30], y[:30])
    assert len(list((tmp_path / "c").iterdir())) == 2
    monkeypatch.setenv("SURROGATE_EO_CACHE", "off")
    assert pretrain.cache_dir() is None
    monkeypatch.delenv("SURROGATE_EO_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert pretrain.cache_dir() == tmp_path / "xdg" / "surrogate-eo"
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SURROGATE_EO_CACHE", str(blocker))
    monkeypatch.setattr(pretrain, "_MEMORY", {})
    with pytest.warns(SurrogateWarning, match="cannot write the GNN pretraining cache"):
        assert np.isfinite(_tiny_gnn().fit(archs[:30], y[:30]).predict(archs[:5])).all()


# ------------------------------------------------------------ auto + GNN
def test_auto_considers_xgb_zc_gnn_at_small_sizes(toy_data):
    assert candidates_for(78, gnn=True)[0] == "xgb-zc+gnn" and "xgb-zc+gnn" not in candidates_for(78, gnn=False)
    assert "xgb-zc+gnn" not in candidates_for(301, gnn=True)
    pytest.importorskip("torch")
    archs, y = toy_data
    params = {"n_estimators": 30, "epochs": 20, "hidden": 8, "layers": 1, "pretrain_epochs": 1}
    name, scores = select_model("nb201", archs[:60], y[:60], cv=3, params=params, gnn=True)
    assert list(scores) == ["xgb-zc+gnn", "xgb", "rf", "xgb-ens"]  # in order of preference
    assert name == "xgb-zc+gnn" or scores[name] > scores["xgb-zc+gnn"] + 0.005  # another must beat the first clearly
    assert all(0.2 < s <= 1 for s in scores.values())
    with pytest.raises(SurrogateError, match="no candidate .*xgb, rf.* takes parameter 'rank_weight'"):
        select_model("nb201", archs[:60], y[:60], candidates=("xgb", "rf"), params={"rank_weight": 1.0})


def test_choose_keeps_the_first_candidate_unless_another_beats_it_beyond_fold_noise():
    from surrogate_eo.surrogates.auto import TIE, choose

    noisy = {"xgb+gnn": [0.70, 0.84, 0.76], "xgb": [0.76, 0.80, 0.78]}  # +.013 on average, SE of the diffs .03
    assert choose(noisy) == "xgb+gnn"
    steady = {"xgb+gnn": [0.70, 0.84, 0.76], "xgb": [0.72, 0.86, 0.78]}  # +.02 in every fold: SE 0
    assert choose(steady) == "xgb"
    tie = {"xgb+gnn": [0.70, 0.84, 0.76], "xgb": [v + TIE / 2 for v in (0.70, 0.84, 0.76)]}
    assert choose(tie) == "xgb+gnn"  # the TIE floor: a steady gain below TIE is a tie
    assert choose({"a": [0.5, float("nan"), 0.6], "b": [0.7, 0.8, 0.9]}) == "b"  # a NaN fold is skipped
    assert choose({"only": [0.4]}) == "only"
    assert choose({"a": [float("nan")] * 3, "b": [0.1, 0.2, 0.3]}) == "b"  # a candidate without scores never wins
    assert choose({"a": [float("nan")] * 3}) == "a"


# ------------------------------------------------------- normal-score targets
def test_normal_score_map_round_trips_and_keeps_order():
    from surrogate_eo.surrogates.targets import from_normal_scores, normal_score_knots, to_normal_scores

    rng = np.random.default_rng(1)
    y = np.concatenate([rng.uniform(0.85, 0.94, 70), np.full(8, 0.1)])  # a dead-arch tail with ties
    knots = normal_score_knots(y)
    z = to_normal_scores(y, knots)
    assert abs(z.mean()) < 0.05 and 0.8 < z.std() < 1.0 and len(np.unique(z[y == 0.1])) == 1
    np.testing.assert_allclose(from_normal_scores(z, knots), y, rtol=0, atol=1e-12)
    grid = np.linspace(-6, 6, 500)
    back = from_normal_scores(grid, knots)
    assert (np.diff(back) > 0).all()  # strictly monotone, also beyond the outermost knots: no ties at the ends
    assert back[-1] > y.max() and back[0] < y.min()


def test_gnn_target_parameter(toy_data):
    pytest.importorskip("torch")
    from surrogate_eo.errors import ArtifactError
    from surrogate_eo.surrogates.gnn import GNNSurrogate

    archs, y = toy_data
    with pytest.raises(SurrogateError, match="target='rank' is invalid; expected one of standard, normal"):
        GNNSurrogate(space="nb201", target="rank").fit(archs[:20], y[:20])
    model = GNNSurrogate(space="nb201", hidden=8, layers=1, epochs=30, pretrain_epochs=1).fit(archs[:80], y[:80])
    assert model.target == "normal" and model.knots_ is not None and len(model.knots_[1]) == len(np.unique(y[:80]))
    state, _ = model._save_state()
    assert state["target_y"] == sorted(set(y[:80].tolist()))
    pred = model.predict(archs[80:])
    assert kendall_tau_score(y[80:], pred) > 0.3 and y.min() - 0.5 < pred.min() and pred.max() < y.max() + 0.5
    bad = dict(state, target_z=state["target_z"][::-1])
    with pytest.raises(ArtifactError, match="target knots must be two increasing"):
        GNNSurrogate(space="nb201", hidden=8, layers=1)._load_state(bad, {})


# ------------------------------------------------- gnn-ens and the step rule
def test_gnn_ens_preset_is_two_gnns_of_two_widths():
    pytest.importorskip("torch")
    from surrogate_eo.surrogates import Ensemble
    from surrogate_eo.surrogates.base import GNN_ENS_PRESET

    ens = make_model("gnn-ens", "nb201", seed=2)
    assert isinstance(ens, Ensemble) and ens.n_seeds == 1 and ens.seed == 2
    widths = [(m.hidden, m.max_steps_per_epoch) for m in ens.members]
    assert widths == [(64, 4), (128, 16)] and len(GNN_ENS_PRESET) == 2
    # parameters go to both members (over the preset's own); a parameter no GNN takes is a one-line error
    ens = make_model("gnn-ens", "nb201", epochs=7, max_steps_per_epoch=8)
    assert [(m.epochs, m.max_steps_per_epoch, m.hidden) for m in ens.members] == [(7, 8, 64), (7, 8, 128)]
    with pytest.raises(SurrogateError, match=r"gnn-ens: no member \(gnn\) takes parameter 'max_depth'"):
        make_model("gnn-ens", "nb201", max_depth=4)


def test_steps_per_epoch_cap_sets_the_batch():
    pytest.importorskip("torch")
    from surrogate_eo.surrogates.gnn import GNNSurrogate

    # below batch_size * cap nothing changes; above it the batch grows so an epoch is at most `cap` steps
    assert [GNNSurrogate(space="nb201")._steps_batch(n) for n in (78, 256, 390, 3906)] == [64, 64, 98, 977]
    wide = GNNSurrogate(space="nb201", max_steps_per_epoch=16)
    assert [wide._steps_batch(n) for n in (78, 390, 1024, 3906)] == [64, 64, 64, 245]
    with pytest.raises(SurrogateError, match="max_steps_per_epoch=0 is out of range"):
        GNNSurrogate(space="nb201", max_steps_per_epoch=0).fit(get_space("nb201").sample(20, seed=0),
                                                              np.arange(20.0))
