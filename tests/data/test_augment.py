"""Flips and 90° rotations: pixel permutations, the 8 distinct views, numpy and torch agree."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.data import apply_dihedral, random_codes


def test_eight_distinct_permutations():
    x = np.random.default_rng(0).standard_normal((8, 3, 32, 32)).astype(np.float32)
    base = np.repeat(x[:1], 8, axis=0)
    out = apply_dihedral(base.copy(), np.arange(8))
    np.testing.assert_array_equal(out[0], x[0])                           # code 0 = identity
    flat = out.reshape(8, -1)
    assert len({row.tobytes() for row in flat}) == 8                      # all views differ
    for v in out:                                                         # each is a pixel permutation
        np.testing.assert_array_equal(np.sort(v.reshape(3, -1), axis=1), np.sort(x[0].reshape(3, -1), axis=1))
    np.testing.assert_array_equal(out[1], np.rot90(x[0], 1, axes=(1, 2)))
    np.testing.assert_array_equal(out[4], x[0][:, :, ::-1])


def test_torch_matches_numpy():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 2, 32, 32)).astype(np.float32)
    codes = random_codes(rng, 40)
    np.testing.assert_array_equal(apply_dihedral(torch.from_numpy(x.copy()), codes).numpy(),
                                  apply_dihedral(x.copy(), codes))


def test_codes_seeded():
    a = random_codes(np.random.default_rng(5), 100)
    np.testing.assert_array_equal(a, random_codes(np.random.default_rng(5), 100))
    assert set(np.unique(a)) == set(range(8))
