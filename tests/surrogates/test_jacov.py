"""The Jacobian-covariance zero-cost proxy: the score's formula, the proxy's properties, its cache and block."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from scipy.stats import kendalltau

from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates.base import SurrogateWarning
from surrogate_eo.surrogates.features import Featurizer

torch = pytest.importorskip("torch")
from surrogate_eo.surrogates import jacov as J  # noqa: E402

DEAD = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SURROGATE_EO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(J, "_MEMO", {})


def test_score_matches_scipy_and_its_extremes():
    g = np.random.default_rng(0).normal(size=(8, 50))
    lam = scipy.linalg.eigvalsh(pd.DataFrame(g.T).corr().to_numpy() + J.EPS * np.eye(8))  # peer libraries
    assert J.score_gradients(g) == pytest.approx(-np.sum(np.log(lam + J.EPS) + 1 / (lam + J.EPS)), rel=1e-10)
    f = lambda v: np.log(v + J.EPS) + 1 / (v + J.EPS)  # noqa: E731
    # uncorrelated gradients (orthogonal, zero-mean rows): correlation I, eigenvalues 1 + ε, the maximum
    m = np.random.default_rng(1).normal(size=(50, 8))
    q = np.linalg.qr(m - m.mean(axis=0))[0].T  # rows orthonormal and orthogonal to the ones vector
    assert J.score_gradients(q) == pytest.approx(-8 * f(1 + J.EPS), rel=1e-9)
    # identical gradients: one eigenvalue B + ε, the rest ε
    same = np.tile(np.arange(50.0), (8, 1))
    assert J.score_gradients(same) == pytest.approx(-(f(8 + J.EPS) + 7 * f(J.EPS)), rel=1e-9)
    # zero gradients (a network with no live path): the floor, B f(ε)
    assert J.score_gradients(np.zeros((8, 50))) == pytest.approx(-8 * f(J.EPS), rel=1e-12)
    assert J.score_gradients(same) > J.score_gradients(np.zeros((8, 50)))


def test_proxy_is_deterministic_class_wise_and_ranks_dead_archs_last():
    sp = get_space("nb201")
    archs = sp.sample(40, seed=3)
    keys = sp.canonical_many(archs)
    s = J.jacov(sp, archs)
    assert np.isfinite(s).all() and s.dtype == np.float64
    J._MEMO.clear()
    assert (J.jacov(sp, archs[::-1]) == s[::-1]).all()  # recomputed (cache in memory cleared): same values
    # isomorphic archs: one value; a cell whose 3→... edges are dead equals its pruned twin
    twin = sp.validate(["|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
                        "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|none~2|"])
    assert sp.canonical_many(twin)[0] == sp.canonical_many(twin)[1]
    assert J.jacov(sp, twin)[0] == J.jacov(sp, twin)[1]
    dead = J.jacov(sp, [DEAD])[0]
    assert dead == pytest.approx(-J.JACOV_BATCH * (np.log(2 * J.EPS) + 1 / (2 * J.EPS)), rel=1e-9)
    assert dead < s[keys != sp.canonical_many(sp.validate([DEAD]))[0]].min()


def test_disk_cache_is_reused_and_a_broken_one_is_recomputed(tmp_path, monkeypatch):
    sp = get_space("nb201")
    archs = sp.sample(6, seed=5)
    s = J.jacov(sp, archs)
    files = list((tmp_path / "cache").glob("jacov-nb201-*.npz"))
    assert len(files) == 1
    J._MEMO.clear()
    with monkeypatch.context() as m:
        m.setattr(J, "jacov_score", lambda *a: pytest.fail("recomputed a cached score"))
        assert (J.jacov(sp, archs) == s).all()
    key = J.cache_key(sp)
    J._save(files[0], {**J._MEMO[key], -1: 0.5})  # another process adds a class meanwhile
    J.jacov(sp, sp.sample(1, seed=99))  # this one adds its own: the file keeps both
    with np.load(files[0]) as z:
        assert -1 in z["index"] and len(z["index"]) == len(J._MEMO[key]) >= 8
    files[0].write_bytes(b"not an npz")
    J._MEMO.clear()
    with pytest.warns(SurrogateWarning, match="jacov cache .* unreadable"):
        assert (J.jacov(sp, archs) == s).all()
    monkeypatch.setenv("SURROGATE_EO_CACHE", "off")
    J._MEMO.clear()
    assert (J.jacov(sp, archs[:2]) == s[:2]).all()


def test_eo_archs_are_scored_on_their_own_network():
    sp = get_space("eo")
    archs = sp.sample(3, seed=0)
    s = J.jacov(sp, archs)
    assert np.isfinite(s).all() and len(set(s.tolist())) == 3


def test_jacov_block_is_a_column_without_a_feature_table():
    f = Featurizer(space="nb201", blocks=("default", "synflow", "jacov"), canonical=True)
    assert f.feature_names[-2:] == ["synflow", "jacov"] and f.table() is None
    archs = get_space("nb201").sample(12, seed=7)
    x = f.transform(archs)
    plain = Featurizer(space="nb201", blocks=("default", "synflow"), canonical=True).transform(archs)
    assert (x[:, :-1] == plain).all()
    assert np.allclose(x[:, -1], J.jacov("nb201", archs).astype(np.float32))


def test_jacov_ranks_nb201_accuracy(nb201_table):
    """On a seeded 120-arch sample the proxy alone orders CIFAR-10 accuracy (all 15,625 archs: docs block)."""
    sp = get_space("nb201")
    idx = np.random.default_rng(11).choice(sp.size, 120, replace=False)
    archs = sp.enumerate()[idx]
    y = nb201_table.all_values("CIFAR10TestAccuracy200Epochs")[idx]
    assert kendalltau(J.jacov(sp, archs), y)[0] > 0.2


def test_scoring_leaves_the_global_torch_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    J.jacov_score("nb201", get_space("nb201").sample(1, seed=4)[0])
    assert torch.equal(torch.rand(3), expected)
