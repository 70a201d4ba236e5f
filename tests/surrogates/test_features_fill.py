"""Fast feature blocks (surrogates/_fill.py) equal the featurizer's reference blocks, value for value."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import _fill
from surrogate_eo.surrogates.canonical import canonical_representatives
from surrogate_eo.surrogates.features import BLOCKS, Featurizer


def _with_corner_cells(space, batch):
    """Random archs plus cells that are all one op (all none: dead; all skip: identity paths only)."""
    extra = np.repeat(batch[:1], len(space.cell.ops), axis=0)
    extra[:, :space.cell.n_edges] = np.arange(len(space.cell.ops))[:, None]
    return np.concatenate([batch, extra])


@pytest.mark.parametrize("name", ["nb201", "eo"])
@pytest.mark.parametrize("blocks", [("onehot", "derived", "cpath"), BLOCKS, ("cpath", "derived"), ("derived",)])
def test_fast_blocks_equal_the_reference_bit_for_bit(name, blocks):
    space = get_space(name)
    f = Featurizer(space=name, blocks=blocks)
    batch = _with_corner_cells(space, space.sample(3000, seed=21))
    got, want = f.compute(batch), f.reference(batch)
    assert got.dtype == np.float32 and got.flags.c_contiguous and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert f.finite


def test_canonical_eo_features_equal_the_reference_of_the_representatives():
    eo = get_space("eo")
    f = Featurizer(space="eo", canonical=True)
    batch = eo.sample(2000, seed=5)
    np.testing.assert_array_equal(f.transform_valid(batch), f.reference(canonical_representatives(eo, batch)))


def test_spaces_too_large_for_the_tables_use_the_reference(monkeypatch):
    monkeypatch.setattr(_fill, "TABLE_LIMIT", 10)
    f = Featurizer(space="eo")
    batch = get_space("eo").sample(200, seed=8)
    assert not f._filler.fill("derived", batch, np.zeros((200, f.n_features), np.float32), 0)
    np.testing.assert_array_equal(f.compute(batch), f.reference(batch))
