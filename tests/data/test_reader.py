"""So2SatSplit: read order, dtypes, channels-first layout, tasks, normalisation, pickling, DataLoader use."""
from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest

from surrogate_eo.data import So2SatSplit, open_split
from surrogate_eo.errors import UnknownTaskError


def _raw(path, key, rows):
    with h5py.File(path, "r") as f:
        return f[key][np.sort(rows)][np.argsort(np.argsort(rows))]


@pytest.mark.parametrize("fixture", ["synth_gzip", "synth_plain"])
def test_read_returns_requested_order(request, fixture):
    root = request.getfixturevalue(fixture)
    s = open_split(root, "train", task="so2sat-s2", normalise=False)
    idx = np.array([17, 3, 159, 3, 0, 42, 41])
    x, y = s.read(idx)
    assert x.shape == (7, 10, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    with h5py.File(s.path, "r") as f:
        for i, j in enumerate(idx):
            np.testing.assert_array_equal(x[i], f["sen2"][j].transpose(2, 0, 1).astype(np.float32))
            assert y[i] == f["label"][j].argmax()
    np.testing.assert_array_equal(x[1], x[3])                    # repeats allowed
    x1, _ = s.read(np.array([42]))
    np.testing.assert_array_equal(x1[0], x[5])


def test_gzip_and_memmap_agree(synth_gzip, synth_plain):
    a = open_split(synth_gzip, "val", task="so2sat-s1s2")
    b = open_split(synth_plain, "val", task="so2sat-s1s2")
    assert b._source("sen2").mmap is not None and a._source("sen2").mmap is None
    idx = np.random.default_rng(0).permutation(len(a))[:30]
    xa, ya = a.read(idx)
    xb, yb = b.read(idx)
    np.testing.assert_array_equal(xa, xb)
    np.testing.assert_array_equal(ya, yb)


def test_s1s2_is_s1_then_s2(synth_plain):
    both = open_split(synth_plain, "test", task="so2sat-s1s2", normalise=False)
    s1 = open_split(synth_plain, "test", task="so2sat-s1", normalise=False)
    s2 = open_split(synth_plain, "test", task="so2sat-s2", normalise=False)
    idx = [5, 1, 9]
    xb = both.read(idx)[0]
    np.testing.assert_array_equal(xb[:, :8], s1.read(idx)[0])
    np.testing.assert_array_equal(xb[:, 8:], s2.read(idx)[0])
    assert both.in_channels == 18 and s1.in_channels == 8 and both.num_classes == 17


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.uint8])
def test_other_dtypes(tmp_path, h5_writer, arrays, dtype):
    arr = arrays(n=9, seed=2, dtype=dtype)
    path = h5_writer(tmp_path / "training.h5", **arr)
    s = So2SatSplit(path, "so2sat-s1s2", normalise=False)
    x, y = s.read([8, 0, 4])
    np.testing.assert_array_equal(x[:, :8], arr["sen1"][[8, 0, 4]].transpose(0, 3, 1, 2).astype(np.float32))
    np.testing.assert_array_equal(x[:, 8:], arr["sen2"][[8, 0, 4]].transpose(0, 3, 1, 2).astype(np.float32))
    np.testing.assert_array_equal(y, arr["label"][[8, 0, 4]].argmax(1))
    s.normalise = True
    xn = s.read(np.arange(9))[0]
    np.testing.assert_allclose(xn.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(xn.std(axis=(0, 2, 3)), 1, atol=1e-3)


def test_val_normalised_with_training_stats(synth_plain):
    train = open_split(synth_plain, "train")
    val = open_split(synth_plain, "val")
    for a, b in zip(train.stats(), val.stats()):
        np.testing.assert_array_equal(a, b)
    val.normalise = False
    raw = val.read([3])[0]
    val.normalise = True
    mean, std = train.stats()
    np.testing.assert_allclose(val.read([3])[0], (raw - mean[:, None, None]) / std[:, None, None], rtol=1e-5, atol=1e-5)
    custom = open_split(synth_plain, "val", stats=(np.zeros(10), np.full(10, 2.0)))
    np.testing.assert_allclose(custom.read([3])[0], raw / 2, rtol=1e-6)


def test_labels_read_only_label_key_and_are_cached(synth_gzip):
    s = open_split(synth_gzip, "train")
    with h5py.File(s.path, "r") as f:
        np.testing.assert_array_equal(s.labels, f["label"][:].argmax(1))
    assert s.labels is s.labels and s.labels.dtype == np.int64
    assert set(s._sources) == {"label"}                       # sen2 never opened for labels


def test_pickle_reopens_and_dataloader(synth_gzip):
    torch = pytest.importorskip("torch")
    s = open_split(synth_gzip, "train", task="so2sat-s1")
    s.read([0])
    clone = pickle.loads(pickle.dumps(s))
    assert clone._h5 is None and len(clone) == len(s)
    np.testing.assert_array_equal(clone.read([7, 2])[0], s.read([7, 2])[0])
    x0, y0 = s[5]
    assert x0.shape == (8, 32, 32) and isinstance(y0, int)
    loader = torch.utils.data.DataLoader(s, batch_size=16, shuffle=False, num_workers=0)
    xb, yb = next(iter(loader))
    assert xb.shape == (16, 8, 32, 32) and yb.dtype == torch.int64
    np.testing.assert_array_equal(xb.numpy(), s.read(np.arange(16))[0])


def test_unknown_task(synth_gzip):
    with pytest.raises(UnknownTaskError, match="unknown task 'so2sat-rgb'"):
        open_split(synth_gzip, "train", task="so2sat-rgb")


def test_empty_read_and_repr(synth_gzip):
    s = open_split(synth_gzip, "test")
    x, y = s.read([])
    assert x.shape == (0, 10, 32, 32) and y.shape == (0,)
    assert "n=64" in repr(s)
    with s:
        s.read([1])
    assert s._h5 is None
