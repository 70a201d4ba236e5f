"""Fuzz: HDF5 files of random layouts (keys, shapes, dtypes, values, non-HDF5 bytes) opened as So2Sat splits."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from surrogate_eo.data import So2SatSplit

from ._gen import Outcome, check, listing

N_FILES = 250
DTYPES = ["float64", "float32", "uint8", "int16", "bool", "S1", "complex64", "float16"]


def _arrays(rng: np.random.Generator) -> dict[str, np.ndarray | None]:
    n = int(rng.choice([0, 1, 3, 5]))
    shapes = {"sen1": (n, 32, 32, 8), "sen2": (n, 32, 32, 10), "label": (n, 17)}
    out: dict[str, np.ndarray | None] = {}
    for key, shape in shapes.items():
        r = rng.random()
        if r < 0.08:
            continue                                           # key missing
        if r < 0.16:
            shape = tuple(int(rng.integers(0, 4)) for _ in range(int(rng.integers(0, 5))))  # wrong rank
        elif r < 0.24:
            shape = (n + int(rng.integers(1, 3)),) + shape[1:]  # other patch count
        dtype = DTYPES[int(rng.integers(len(DTYPES)))] if rng.random() < 0.25 else "float64"
        a = np.zeros(shape, dtype=dtype) if dtype == "S1" else rng.integers(0, 3, shape).astype(dtype)
        if key == "label" and a.ndim == 2 and a.shape[1] == 17 and rng.random() < 0.7 and dtype != "S1":
            a[:] = 0
            a[np.arange(a.shape[0]), rng.integers(0, 17, a.shape[0])] = 1
        if a.dtype.kind == "f" and a.size and rng.random() < 0.3:
            a.flat[int(rng.integers(a.size))] = rng.choice([np.nan, np.inf, 1e308, -1e30])
        out[key] = a
    if rng.random() < 0.1:
        out["sen2"] = None                                     # a group instead of a dataset
    return out


def test_fuzz_hdf5_layouts(tmp_path: Path) -> None:
    out = Outcome()
    path = tmp_path / "training.h5"
    for seed in range(N_FILES):
        rng = np.random.default_rng([51, seed])
        if seed % 10 == 9:  # not HDF5 at all / a truncated one
            path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(rng.integers(0, 256, int(rng.integers(0, 600)),
                                                                       dtype=np.uint8)))
        else:
            with h5py.File(path, "w") as f:
                for key, a in _arrays(rng).items():
                    if a is None:
                        f.create_group(key)
                    else:
                        f.create_dataset(key, data=a)
        task = "so2sat-s1s2" if seed % 2 else "so2sat-s2"

        def open_and_read(p: Path) -> tuple[np.ndarray, np.ndarray] | None:
            split = So2SatSplit(p, task, normalise=False)
            return split.read(np.arange(min(len(split), 2))) if len(split) else None

        def valid(res: tuple[np.ndarray, np.ndarray] | None) -> None:
            if res is not None:
                x, y = res
                assert x.shape[0] == y.shape[0] and np.isfinite(x).all()

        check(open_and_read, path, out, seed, valid)
    assert out.tried == N_FILES and out.refused > 0 and out.accepted > 0, out
    assert listing(tmp_path) == ["training.h5"]  # no cache or temporary left beside it
