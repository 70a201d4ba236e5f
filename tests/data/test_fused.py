"""Memory-mapped fast path: which files take it, and the fused kernel equals the numpy and h5py paths bit for bit."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from surrogate_eo.data import So2SatSplit, _fused
from surrogate_eo.errors import DataFormatError

numba = pytest.importorskip("numba")


@pytest.fixture
def spy(monkeypatch):
    """Force the kernel for reads of any size and count its calls."""
    real = _fused.kernel()
    if real is None:
        pytest.skip("the numba kernel is switched off (SURROGATE_EO_JIT=0)")
    calls = []

    def counted(*args):
        calls.append(args[1].size)
        return real(*args)

    monkeypatch.setattr(_fused, "_KERNEL", [counted])
    monkeypatch.setattr(_fused, "MIN_ROWS", 1)
    return calls


def _write(path, arrays, **kw):
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value, **(kw if key != "label" else {}))
    return path


def _reads(split, idx, normalise):
    split.normalise = normalise
    return split.read(idx)[0]


@pytest.mark.parametrize("task", ["so2sat-s2", "so2sat-s1s2"])
def test_kernel_numpy_and_h5py_paths_agree_bit_for_bit(tmp_path, arrays, spy, monkeypatch, task):
    arr = arrays(n=40, seed=4)
    rng = np.random.default_rng(1)
    for key in ("sen1", "sen2"):             # values with fractions and signs, not only small integers
        arr[key] = arr[key] * rng.normal(1.0, 0.3, arr[key].shape) - 50.0
    plain = So2SatSplit(_write(tmp_path / "plain.h5", arr), task)
    gzip = So2SatSplit(_write(tmp_path / "gzip.h5", arr, chunks=True, compression="gzip"), task,
                       stats=plain.stats())
    assert {plain._source(k).access for k in plain.task.keys} == {"memmap"}
    assert all(plain._source(k).fusable for k in plain.task.keys)
    assert {gzip._source(k).access for k in gzip.task.keys} == {"hdf5"}
    idx = np.array([17, 3, 39, 3, 0, 22, 21, 5])
    for normalise in (False, True):
        fused = _reads(plain, idx, normalise)
        assert spy, "the kernel was not used"
        n_calls = len(spy)
        monkeypatch.setattr(_fused, "ENABLED", False)
        numpy_path = _reads(plain, idx, normalise)
        monkeypatch.setattr(_fused, "ENABLED", True)
        assert len(spy) == n_calls          # the numpy path did not call it
        h5_path = _reads(gzip, idx, normalise)
        for other in (numpy_path, h5_path):
            assert np.array_equal(fused.view(np.int32), other.view(np.int32))
    # and against a plain numpy formula written here
    mean, std = plain.stats()
    raw = np.concatenate([arr[k][idx] for k in plain.task.keys], axis=-1).transpose(0, 3, 1, 2)
    want = (raw * (1.0 / std)[:, None, None]).astype(np.float32) - (mean / std).astype(np.float32)[:, None, None]
    assert np.array_equal(fused.view(np.int32), want.view(np.int32))


def test_float32_and_big_endian_sources(tmp_path, arrays, spy):
    arr = arrays(n=10, seed=5, dtype=np.float32)
    s32 = So2SatSplit(_write(tmp_path / "f32.h5", arr), "so2sat-s2", normalise=False)
    assert s32._source("sen2").fusable
    x = s32.read([9, 1])[0]
    assert spy and np.array_equal(x, arr["sen2"][[9, 1]].transpose(0, 3, 1, 2))
    big = {k: v.astype(">f8") for k, v in arrays(n=10, seed=5).items()}
    sbe = So2SatSplit(_write(tmp_path / "be.h5", big), "so2sat-s2", normalise=False)
    src = sbe._source("sen2")
    assert src.access == "memmap" and not src.fusable           # numba takes native byte order only
    n = len(spy)
    np.testing.assert_array_equal(sbe.read([9, 1])[0], x)
    assert len(spy) == n


def test_chunked_uncompressed_takes_h5py_path(tmp_path, arrays):
    s = So2SatSplit(_write(tmp_path / "chunked.h5", arrays(n=6), chunks=True), "so2sat-s2")
    assert s._source("sen2").access == "hdf5" and s._source("sen2").mmap is None


@pytest.mark.parametrize("key,value", [("sen2", np.nan), ("sen2", np.inf), ("sen1", -np.inf), ("sen2", 1e300)])
def test_kernel_screens_non_finite(tmp_path, arrays, spy, key, value):
    arr = arrays()
    arr[key][5, 3, 4, 2] = value                  # 1e300 is finite in float64 but not in float32
    s = So2SatSplit(_write(tmp_path / "training.h5", arr), "so2sat-s1s2", stats=(np.zeros(18), np.ones(18)))
    s.read([0, 1, 4])
    shown = np.inf if value == 1e300 else value
    with pytest.raises(DataFormatError, match=f"key '{key}' .* value \\({shown}\\) at patch 5, channel 2"):
        s.read([1, 5])
    assert spy


def test_kernel_tail_and_direct_call(spy):
    """Shapes whose pixel count is not a multiple of the tile take the tail loop; same bits as numpy."""
    k = _fused.kernel()
    rng = np.random.default_rng(2)
    src = rng.normal(size=(7, 5, 3, 4))                           # 15 pixels: no whole tile of 16
    rows = np.array([6, 0, 6, 2], dtype=np.int64)
    scale, shift = rng.uniform(0.5, 2, 4), rng.normal(size=4).astype(np.float32)
    out = np.full((4, 6, 5, 3), 7.0, np.float32)
    assert k(src, rows, out, 1, scale, shift)
    want = np.empty((4, 4, 5, 3), np.float32)
    assert _fused.convert_numpy(src[rows], want, scale, shift)
    assert np.array_equal(out[:, 1:5].view(np.int32), want.view(np.int32))
    assert (out[:, [0, 5]] == 7.0).all()                          # other channels untouched
    src[2, 4, 2, 3] = np.nan
    assert not k(src, rows, out, 1, scale, shift)


def test_disabled_or_small_reads_do_not_load(monkeypatch):
    monkeypatch.setattr(_fused, "ENABLED", False)
    assert _fused.kernel() is None and _fused.wanted(10 ** 6) is None
    monkeypatch.setattr(_fused, "ENABLED", True)
    monkeypatch.setattr(_fused, "_KERNEL", [])
    monkeypatch.setattr(_fused, "_READ", [0])
    assert _fused.wanted(_fused.MIN_ROWS // 2) is None and not _fused.loaded()
    assert _fused.wanted(_fused.MIN_ROWS // 2 - 1) is None and not _fused.loaded()  # 1 row short in all
    assert _fused.wanted(1) is not None and _fused.wanted(1) is not None  # the rows add up; then every read
