"""Featurisation: values on hand-checked cells, vectorised == per-row, graph encoding."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.errors import InvalidArchitectureError, SurrogateError
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates.features import Featurizer, cell_paths
from surrogate_eo.surrogates.graphs import graph_encoding

ARCH = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|skip_connect~1|avg_pool_3x3~2|"


def nonzero(f: Featurizer, arch: str) -> dict[str, float]:
    x = f.transform(arch)[0]
    return {n: float(v) for n, v in zip(f.feature_names, x) if v}


def test_cell_paths_of_nb201():
    assert sorted(cell_paths(get_space("nb201").cell)) == [(0, 2, 5), (0, 4), (1, 5), (3,)]


def test_derived_and_path_values():
    f = Featurizer(space="nb201", blocks=("derived", "path", "cpath"))
    got = nonzero(f, ARCH)
    assert got["count:none"] == 1 and got["count:skip_connect"] == 2 and got["live:nor_conv_3x3"] == 1
    assert got["n_live_edges"] == 5 and got["longest_path"] == 3
    # live paths: 0->1->3 (conv3, skip), 0->2->3 (skip, pool), 0->1->2->3 (conv3, conv1, pool); 0->3 is none
    paths = {k for k in got if k.startswith("path:")}
    assert paths == {"path:nor_conv_3x3>skip_connect", "path:skip_connect>avg_pool_3x3",
                     "path:nor_conv_3x3>nor_conv_1x1>avg_pool_3x3"}
    cpaths = {k for k in got if k.startswith("cpath:")}
    assert cpaths == {"cpath:nor_conv_3x3", "cpath:avg_pool_3x3", "cpath:nor_conv_3x3>nor_conv_1x1>avg_pool_3x3"}


def test_identity_cpath_and_dead_cell():
    f = Featurizer(space="nb201", blocks=("cpath",))
    assert nonzero(f, "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|") == {}
    assert nonzero(f, "|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|") == \
        {"cpath:identity": 1.0}
    dead = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert Featurizer(space="nb201").transform(dead)[0][30:].sum() == 6.0  # only count:none


@pytest.mark.parametrize("space", ["nb201", "eo"])
def test_batch_equals_rows_and_names(space):
    f = Featurizer(space=space)
    sp = get_space(space)
    batch = sp.sample(50, seed=3)
    X = f.transform(batch)
    assert X.dtype == np.float32 and X.shape == (50, f.n_features) == (50, len(f.feature_names))
    rows = np.concatenate([f.transform(a) for a in batch[:5]])
    np.testing.assert_array_equal(X[:5], rows)
    assert len(set(f.feature_names)) == f.n_features
    onehot = Featurizer(space=space, blocks=("onehot",)).transform(batch)
    assert (onehot.sum(axis=1) == sp.n_dims).all()
    np.testing.assert_array_equal(X, f.compute(batch))  # nb201 answers from its table; eo computes


def test_eo_macro_values_and_default_blocks():
    f = Featurizer(space="eo")
    assert f.blocks == ("onehot", "derived", "cpath")
    sp = get_space("eo")
    a = sp.sample(1, seed=0)[0]
    got = nonzero(f, sp.to_string(a))
    assert got.get("value:width", 0) == sp.macro_values(a)["width"]


def test_bad_blocks_and_description_mismatch():
    with pytest.raises(SurrogateError, match="feature blocks"):
        Featurizer(space="nb201", blocks=("onehot", "magic"))
    with pytest.raises(SurrogateError, match="features"):
        Featurizer.from_dict({"space": "nb201", "blocks": ["onehot"], "n_features": 31})
    assert Featurizer.from_dict(Featurizer(space="nb201").to_dict()) == Featurizer(space="nb201")
    with pytest.raises(InvalidArchitectureError):
        Featurizer(space="nb201").transform([[0, 1, 2, 3, 4, 5]])


def test_graph_encoding():
    adj, nodes, glob = graph_encoding("nb201", [ARCH])
    assert adj.shape == (1, 8, 8) and nodes.shape == (1, 8, 7) and glob.shape == (1, 0)
    # edge nodes 1..6 = edges (0,1),(0,2),(1,2),(0,3),(1,3),(2,3); edge (0,3) is none: no links
    assert adj[0, 4].sum() == 0 and adj[0, 7, 4] == 0
    assert adj[0, 3, 1] == 1  # edge 1->2 reads edge 0->1
    assert adj[0, 6, 2] == 1 and adj[0, 6, 3] == 1  # edge 2->3 reads both edges into node 2
    assert adj[0, 7, 5] == 1 and adj[0, 7, 6] == 1
    assert nodes[0, 0, 0] == 1 and nodes[0, 7, 1] == 1 and nodes[0, 1, 2 + 3] == 1
    _, _, g = graph_encoding("eo", get_space("eo").sample(2, seed=1))
    assert g.shape == (2, 11) and (g.sum(axis=1) == 4).all()
