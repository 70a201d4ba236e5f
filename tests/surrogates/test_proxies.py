"""The closed-form SynFlow proxy: theory values, agreement with the real score, NB201's accuracies, and its
use in models (monotonic constraints, the ``xgb-zc+gnn`` preset)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from surrogate_eo.errors import SurrogateError
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import proxies
from surrogate_eo.surrogates.features import Featurizer
from surrogate_eo.surrogates.proxies import cell_gain, log_synflow


def _cells(space, *strings):
    sp = get_space(space)
    return np.stack([sp.from_string(s) for s in strings])[:, :sp.cell.n_edges]


def test_cell_gain_is_the_path_polynomial():
    """Node i sums gain × value over its in-edges: all skips give 1, 2, 4; a lone 3×3 conv on 3<-0 gives
    1.5·√C (fan-in 9C, weights U(±1/√fan-in)); no live path gives 0."""
    sp = get_space("nb201")
    cells = _cells("nb201",
                   "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
                   "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|",
                   "|nor_conv_1x1~0|+|none~0|avg_pool_3x3~1|+|none~0|none~1|nor_conv_3x3~2|",
                   "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|nor_conv_3x3~1|none~2|",
                   "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|")
    width = np.full(len(cells), 16.0)
    np.testing.assert_allclose(cell_gain(sp, cells, width), [4.0, 6.0, 2.0 * 1.0 * 6.0, 6.0 * 6.0, 0.0])
    np.testing.assert_allclose(cell_gain(sp, cells[1:2], np.array([64.0])), [12.0])


def test_log_synflow_sums_stages_and_ranks_dead_cells_last():
    sp = get_space("nb201")
    archs = sp.enumerate()
    v = log_synflow(sp, archs)
    skips = sp.from_string("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|"
                           "skip_connect~2|")
    lone = sp.from_string("|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|")
    # all-skip cells have gain 4 at every width; the lone conv 1.5√C at C = 16, 32, 64 (5 cells per stage)
    diff = log_synflow(sp, lone[None])[0] - log_synflow(sp, skips[None])[0]
    assert diff == pytest.approx(5 * sum(np.log(1.5 * np.sqrt(c) / 4) for c in (16, 32, 64)))
    dead = cell_gain(sp, archs, np.full(len(archs), 16.0)) == 0
    assert 0 < dead.sum() < len(archs) and v[dead].max() < v[~dead].min()
    keys = sp.canonical_many(archs)  # one value per isomorphism class
    first = {}
    for k, x in zip(keys, v):
        assert first.setdefault(k, x) == pytest.approx(x)


@pytest.mark.parametrize("space, channels, n", [("nb201", 3, 24), ("eo", 10, 16)])
def test_closed_form_ranks_archs_like_the_real_synflow(space, channels, n, request):
    """Against SynFlow as Tanaka et al. define it, by autograd on the torch network (|θ|, all-ones input,
    Σ|θ ∂R/∂θ|; ``evaluation/synflow_proxy.py``'s ``real_log_synflow``), on other archs than that script's."""
    pytest.importorskip("torch")
    real_log_synflow = request.getfixturevalue("synflow_eval").real_log_synflow
    sp = get_space(space)
    archs = sp.sample(n, seed=3)
    real = [real_log_synflow(space, a, channels) for a in archs]
    assert spearmanr(log_synflow(sp, archs), real)[0] > 0.95


def test_synflow_feature_block_and_default_expansion():
    f = Featurizer("eo", blocks=("default", "synflow"))
    assert f.blocks == ("onehot", "derived", "cpath", "synflow") and f.feature_names[-1] == "synflow"
    assert f == Featurizer("eo", blocks=("onehot", "derived", "cpath", "synflow"))
    archs = get_space("eo").sample(20, seed=1)
    np.testing.assert_allclose(f.transform(archs)[:, -1], log_synflow("eo", archs), rtol=1e-6)
    with pytest.raises(SurrogateError, match=r"or 'default' for \['onehot', 'derived', 'cpath'\]"):
        Featurizer("eo", blocks=("default", "synflo"))


def test_an_op_without_a_gain_is_named(monkeypatch):
    monkeypatch.delitem(proxies.OP_GAINS, "se")
    with pytest.raises(SurrogateError, match="synflow: no gain for op 'se' of space 'eo'"):
        log_synflow("eo", get_space("eo").sample(2, seed=0))


def test_synflow_orders_nb201_accuracy(nb201_table):
    """On the real NAS-Bench-201 table the proxy orders CIFAR-10 accuracy as a zero-cost proxy does, far from
    chance and far from a trained surrogate (the measured values: ``evaluation/synflow_proxy.py``'s block)."""
    archs = nb201_table.space.enumerate()
    y = nb201_table.all_values("CIFAR10TestAccuracy200Epochs")
    tau = kendalltau(log_synflow("nb201", archs), y)[0]
    assert 0.55 < tau < 0.65
    assert spearmanr(log_synflow("nb201", archs), y)[0] > 0.7


# ------------------------------------------------------------- in models
def test_monotonic_constraint_holds_on_every_arch(toy_data):
    """With ``monotonic_cst={"synflow": 1}`` predictions never decrease with the proxy, even when the target
    is a hump in it (which the unconstrained model follows)."""
    from surrogate_eo.surrogates import XGBSurrogate

    archs, _ = toy_data
    s = log_synflow("nb201", archs)
    y = -((s - np.median(s)) / s.std()) ** 2
    everything = get_space("nb201").enumerate()
    order = np.argsort(log_synflow("nb201", everything), kind="stable")
    for cst, monotone in ((None, False), ({"synflow": 1}, True)):
        m = XGBSurrogate(space="nb201", features=("synflow",), n_estimators=60, monotonic_cst=cst).fit(archs, y)
        steps = np.diff(m.predict(everything)[order])
        assert bool((steps >= -1e-6).all()) is monotone


@pytest.mark.parametrize("kw, match", [
    (dict(monotonic_cst={"synflow": 2}), r"monotonic_cst must map feature names to -1, 0 or 1"),
    (dict(monotonic_cst=["synflow"]), r"monotonic_cst must map feature names"),
    (dict(monotonic_cst={"synflo": 1}, features=("default", "synflow")), r"'synflo'.*did you mean 'synflow'"),
    (dict(monotonic_cst={"synflow": 1}), r"features=\('default', 'synflow'\)"),
])
def test_bad_monotonic_constraints_are_one_line_errors(kw, match, toy_data):
    from surrogate_eo.surrogates import XGBSurrogate

    with pytest.raises(SurrogateError, match=match):
        XGBSurrogate(space="nb201", n_estimators=5, **kw).fit(*toy_data)


def test_xgb_zc_gnn_preset():
    """``xgb-zc+gnn``: ``xgb+gnn`` whose XGBoost member also sees both proxies, held increasing."""
    from surrogate_eo.surrogates import make_model
    from surrogate_eo.surrogates.base import XGB_ZC_PRESET

    m = make_model("xgb-zc+gnn", "nb201", seed=1, epochs=5, max_depth=3)
    xgb, gnn = m.members
    assert (xgb.family, gnn.family, m.weights) == ("xgb", "gnn", None)
    assert xgb.features == ("default", "synflow", "jacov") and xgb.monotonic_cst == {"synflow": 1, "jacov": 1}
    assert (xgb.target, xgb.max_depth, xgb.min_child_weight, gnn.epochs, m.seed) == ("normal", 3, 3.0, 5, 1)
    xgb.monotonic_cst["synflow"] = -1  # each model owns its defaults
    assert make_model("xgb-zc+gnn", "nb201").members[0].monotonic_cst == XGB_ZC_PRESET["monotonic_cst"] \
        == {"synflow": 1, "jacov": 1}
