"""Fixtures of the data tests: small synthetic roots (built once per session) and an HDF5 writer."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from surrogate_eo.data import synthesize


@pytest.fixture(scope="session")
def synth_gzip(tmp_path_factory) -> Path:
    """Version-2 root, gzip (chunked) float64: 160 / 64 / 64 patches."""
    root = tmp_path_factory.mktemp("synth_gzip")
    synthesize(root, version=2, n_train=160, n_val=64, n_test=64, seed=3, compression="gzip")
    return root


@pytest.fixture(scope="session")
def synth_plain(tmp_path_factory) -> Path:
    """Same data as ``synth_gzip`` but contiguous (memory-mapped reads)."""
    root = tmp_path_factory.mktemp("synth_plain")
    synthesize(root, version=2, n_train=160, n_val=64, n_test=64, seed=3, compression=None)
    return root


def write_h5(path: Path, **arrays) -> Path:
    """Write ``arrays`` as datasets of a new HDF5 file (no validation: tests make bad files too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value)
    return path


def make_arrays(n: int = 12, seed: int = 0, dtype=np.float64) -> dict[str, np.ndarray]:
    """Random arrays in the official layout (values in [0, 200) so uint8 holds them)."""
    rng = np.random.default_rng(seed)
    label = np.zeros((n, 17), dtype=dtype)
    label[np.arange(n), rng.integers(0, 17, n)] = 1
    return {"sen1": rng.integers(0, 200, (n, 32, 32, 8)).astype(dtype),
            "sen2": rng.integers(0, 200, (n, 32, 32, 10)).astype(dtype), "label": label}


@pytest.fixture
def h5_writer():
    return write_h5


@pytest.fixture
def arrays():
    return make_arrays
