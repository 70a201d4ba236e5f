"""Fuzz: architecture strings and vectors of both spaces (a valid arch or InvalidArchitectureError)."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.spaces import get_space

from ._gen import Outcome, check, mutate_text

N_STRINGS = 2500  # per space
N_VECTORS = 500   # per space


@pytest.mark.parametrize("name", ["nb201", "eo"])
def test_fuzz_arch_strings(name: str) -> None:
    space = get_space(name)
    other = get_space("eo" if name == "nb201" else "nb201")
    bases = space.to_strings(space.sample(50, seed=1)) + other.to_strings(other.sample(10, seed=2))
    out = Outcome()

    def valid(vec: np.ndarray) -> None:  # an accepted string is a real arch that round-trips
        batch = space.validate(vec)
        assert batch.shape == (1, space.n_dims)
        assert np.array_equal(space.from_string(space.to_string(vec)), vec)

    for seed in range(N_STRINGS):
        rng = np.random.default_rng([7, seed])
        text = mutate_text(rng, bases[seed % len(bases)])
        check(space.from_string, text, out, seed, valid)
    for junk in (None, 3, b"|none~0|", ["x"], {"a": 1}, 1.5):
        check(space.from_string, junk, out, -1, valid)
    assert out.tried == N_STRINGS + 6 and out.refused > N_STRINGS // 2 and out.accepted > 0, out


@pytest.mark.parametrize("name", ["nb201", "eo"])
def test_fuzz_arch_vectors(name: str) -> None:
    space = get_space(name)
    out = Outcome()
    for seed in range(N_VECTORS):
        rng = np.random.default_rng([8, seed])
        k = int(rng.integers(0, 6))
        shape = [(space.n_dims,), (int(rng.integers(0, 4)), space.n_dims), (int(rng.integers(0, 9)),),
                 (2, int(rng.integers(0, 9))), (1, 1, space.n_dims), (space.n_dims,)][k]
        arr = rng.integers(-2, 12, size=shape)
        dtype = rng.choice(["int64", "int8", "uint8", "float64", "float32", "object", "bool"])
        arr = arr.astype(dtype)
        if dtype.startswith("float") and arr.size and rng.random() < 0.5:
            arr.flat[int(rng.integers(arr.size))] = rng.choice([np.nan, np.inf, 0.5])

        def valid(batch: np.ndarray) -> None:
            assert batch.dtype == np.int64 and batch.ndim == 2 and batch.shape[1] == space.n_dims
            assert ((batch >= 0) & (batch < np.asarray([len(c) for c in space.choices]))).all()

        check(space.validate, arr, out, seed, valid)
    assert out.tried == N_VECTORS and out.refused > 0 and out.accepted > 0, out
