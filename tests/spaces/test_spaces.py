"""SearchSpace contract: round trips, neighbours, sampling, canonical keys, NB201 order."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.errors import InvalidArchitectureError, UnknownSpaceError
from surrogate_eo.spaces import SPACES, get_space

ALL_SPACES = sorted(SPACES)


def test_sizes_and_dims():
    nb = get_space("nb201")
    assert nb.size == 15_625 and nb.dims == (5,) * 6 and nb.degree == 24
    eo = get_space("eo")
    assert eo.size == 9**6 * 2 * 3 * 3 * 3 == 28_697_814
    assert eo.size >= 10**6
    assert eo.degree == 6 * 8 + 1 + 2 + 2 + 2


def test_nb201_round_trip_all():
    nb = get_space("nb201")
    archs = nb.enumerate()
    assert archs.shape == (15_625, 6)
    strings = nb.to_strings(archs)
    assert len(set(strings)) == 15_625
    np.testing.assert_array_equal(nb.from_strings(strings), archs)
    np.testing.assert_array_equal(nb.enumeration_index(archs), np.arange(15_625))


def test_eo_round_trip_sampled():
    eo = get_space("eo")
    archs = eo.sample(10_000, seed=0)
    back = eo.from_strings(eo.to_strings(archs))
    np.testing.assert_array_equal(back, archs)
    np.testing.assert_array_equal(eo.from_index(eo.index(archs)), archs)


@pytest.mark.parametrize("name", ALL_SPACES)
def test_sample_reproducible_and_in_range(name):
    space = get_space(name)
    a, b, c = space.sample(500, seed=7), space.sample(500, seed=7), space.sample(500, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (500, space.n_dims) and a.dtype == np.int64
    assert (a >= 0).all() and (a < np.array(space.dims)).all()
    # every choice of every position is drawn (uniform sampling covers the space's margins)
    for p, m in enumerate(space.dims):
        assert set(np.unique(a[:, p])) == set(range(m))


@pytest.mark.parametrize("name", ALL_SPACES)
def test_neighbours_valid_distance_one_complete(name):
    space = get_space(name)
    for arch in space.sample(20, seed=1):
        nbs = space.neighbours(arch)
        assert nbs.shape == (space.degree, space.n_dims)
        assert all(space.is_valid(n) for n in nbs)
        np.testing.assert_array_equal(space.distance(nbs, arch), np.ones(space.degree, dtype=int))
        assert len({tuple(n) for n in nbs}) == space.degree
        # completeness: every single-position change appears
        expected = {tuple(np.where(np.arange(space.n_dims) == p, v, arch))
                    for p, m in enumerate(space.dims) for v in range(m) if v != arch[p]}
        assert {tuple(n) for n in nbs} == expected


def test_nb201_neighbours_complete_against_enumeration():
    nb = get_space("nb201")
    allv = nb.enumerate()
    arch = allv[123]
    at_one = allv[(allv != arch).sum(axis=1) == 1]
    assert {tuple(x) for x in at_one} == {tuple(x) for x in nb.neighbours(arch)}


@pytest.mark.parametrize("name", ALL_SPACES)
def test_mutate_is_one_step_and_seeded(name):
    space = get_space(name)
    archs = space.sample(1000, seed=2)
    m1, m2 = space.mutate(archs, seed=3), space.mutate(archs, seed=3)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(space.distance(archs, m1), np.ones(1000, dtype=int))
    # uniform over the neighbourhood: every position gets mutated at a rate ∝ (dims-1)
    changed = (archs != m1).argmax(axis=1)
    rate = np.bincount(changed, minlength=space.n_dims) / 1000
    expected = (np.array(space.dims) - 1) / space.degree
    assert np.abs(rate - expected).max() < 0.06


def test_nb201_enumerate_is_nb201_index_order(nb201_dir):
    import pandas as pd

    nb = get_space("nb201")
    df = pd.read_csv(nb201_dir / "nats_bench.csv", usecols=["ArchitectureString"])
    assert nb.to_strings(nb.enumerate()) == list(df["ArchitectureString"])


def test_nb201_canonical_matches_unique_string_grouping(nb201_dir):
    import pandas as pd

    nb = get_space("nb201")
    df = pd.read_csv(nb201_dir / "nats_bench.csv", usecols=["UniqueString"])
    keys = nb.canonical_many(nb.enumerate())
    assert len(set(keys)) == 6466 == df["UniqueString"].nunique()
    # same partition: the key <-> UniqueString relation is a bijection
    pairs = set(zip(keys, df["UniqueString"]))
    assert len(pairs) == 6466


def test_nb201_canonical_count_without_table():
    nb = get_space("nb201")
    assert len(set(nb.canonical_many(nb.enumerate()))) == 6466


def test_nb201_dead_output_edges_share_key():
    nb = get_space("nb201")
    allv = nb.enumerate()
    dead = allv[(allv[:, 3:] == 0).all(axis=1)]  # node 3 fed by none only
    assert len(dead) == 125
    assert len(set(nb.canonical_many(dead))) == 1


def _swap_nodes_1_2(cells: np.ndarray) -> np.ndarray:
    """Relabel intermediate nodes 1 <-> 2 (an isomorphism when edge 1->2 is none)."""
    out = cells.copy()
    out[:, [0, 1]] = cells[:, [1, 0]]
    out[:, [4, 5]] = cells[:, [5, 4]]
    return out


def test_eo_canonical_invariant_under_isomorphism():
    eo = get_space("eo")
    archs = eo.sample(3000, seed=4)
    archs[:, 2] = 0  # edge 1->2 = none: nodes 1 and 2 are interchangeable
    swapped = archs.copy()
    swapped[:, :6] = _swap_nodes_1_2(archs[:, :6])
    np.testing.assert_array_equal(eo.canonical_many(archs), eo.canonical_many(swapped))
    # ...and the macro part still distinguishes archs
    other = archs.copy()
    other[:, 7] = (other[:, 7] + 1) % 3
    assert (eo.canonical_many(archs) != eo.canonical_many(other)).all()


def test_eo_canonical_ignores_dead_edges():
    eo = get_space("eo")
    archs = eo.sample(2000, seed=5)
    archs[:, 5] = 0  # edge 2->3 none: node 2 cannot reach the output
    varied = archs.copy()
    varied[:, 1] = (varied[:, 1] + 3) % 9  # edge 0->2
    varied[:, 2] = (varied[:, 2] + 5) % 9  # edge 1->2
    np.testing.assert_array_equal(eo.canonical_many(archs), eo.canonical_many(varied))
    # live edges do change the key (edge 0->3 turned from skip into conv_3x3)
    live = archs.copy()
    live[:, 3] = 1
    conv = live.copy()
    conv[:, 3] = 3
    assert (eo.canonical_many(live) != eo.canonical_many(conv)).all()


def test_skip_and_sum_semantics_of_algebraic_key():
    cell = get_space("eo").cell
    ops = {o: i for i, o in enumerate(cell.ops)}
    # x -> skip -> node1 -> conv -> out  ==  x -> conv -> out directly
    a = [ops["skip_connect"], 0, ops["conv_3x3"], 0, 0, ops["skip_connect"]]
    b = [0, 0, 0, ops["conv_3x3"], 0, 0]
    assert cell.key(np.array(a)) == cell.key(np.array(b)) == "conv_3x3(x)"
    assert cell.key(np.zeros(6, dtype=int)) == "0"


def test_live_edges_and_longest_path():
    cell = get_space("eo").cell
    o = {n: i for i, n in enumerate(cell.ops)}
    c = np.array([[o["conv_3x3"], 0, o["conv_3x3"], 0, 0, o["skip_connect"]]])
    np.testing.assert_array_equal(cell.live_edges(c)[0], [True, False, True, False, False, True])
    assert cell.longest_path(c)[0] == 2
    np.testing.assert_array_equal(cell.live_edges(np.zeros((1, 6), int))[0], [False] * 6)
    assert cell.longest_path(np.zeros((1, 6), int))[0] == 0


def test_input_forms_agree():
    nb = get_space("nb201")
    arch = nb.sample(1, seed=9)[0]
    s = nb.to_string(arch)
    for form in (s, tuple(arch), list(arch), arch, arch.astype(np.int8)):
        np.testing.assert_array_equal(nb.validate(form), arch[None])
    np.testing.assert_array_equal(nb.validate([s, s]), np.stack([arch, arch]))


def test_unknown_space():
    with pytest.raises(UnknownSpaceError, match="'nb301'.*eo, nb201"):
        get_space("nb301")


def test_enumerate_refuses_huge_space():
    with pytest.raises(InvalidArchitectureError, match="sample"):
        get_space("eo").enumerate()


def test_configspace_export_round_trip():
    pytest.importorskip("ConfigSpace")
    eo = get_space("eo")
    cs = eo.to_configspace(seed=0)
    assert len(list(cs.values())) == eo.n_dims
    for cfg in cs.sample_configuration(20):
        vec = eo.from_configuration(cfg)
        assert eo.is_valid(vec)
        assert eo.to_string(vec) == eo.to_string(eo.from_configuration(dict(cfg)))
