"""Every bad input raises a SurrogateEOError subclass whose message names the file, key, shape, dtype or value."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.data import So2SatSplit, find_files, open_split
from surrogate_eo.errors import DataFormatError, DatasetNotFoundError, SurrogateEOError, UnknownTaskError


def _split(tmp_path, h5_writer, task="so2sat-s2", **arrays):
    return So2SatSplit(h5_writer(tmp_path / "training.h5", **arrays), task)


def test_missing_key(tmp_path, h5_writer, arrays):
    arr = arrays()
    del arr["sen1"]
    assert len(_split(tmp_path, h5_writer, **arr)) == 12              # S2 does not need sen1
    with pytest.raises(DataFormatError) as info:
        _split(tmp_path, h5_writer, "so2sat-s1s2", **arr)
    msg = str(info.value)
    assert "training.h5" in msg and "lacks key 'sen1'" in msg and "so2sat-s1s2" in msg and "['label', 'sen2']" in msg


@pytest.mark.parametrize("key,shape,expected", [
    ("sen2", (12, 10, 32, 32), "has shape 12×10×32×32; expected N×32×32×10"),
    ("sen1", (12, 32, 32, 7), "has shape 12×32×32×7; expected N×32×32×8"),
    ("label", (12, 16), "has shape 12×16; expected N×17"),
    ("sen2", (10, 32, 32, 10), "has 10 patches but the other keys have 12"),
])
def test_wrong_shape(tmp_path, h5_writer, arrays, key, shape, expected):
    arr = arrays()
    arr[key] = np.zeros(shape)
    with pytest.raises(DataFormatError) as info:
        _split(tmp_path, h5_writer, **arr)
    assert expected in str(info.value) and f"'{key}'" in str(info.value) and "training.h5" in str(info.value)


def test_wrong_dtype(tmp_path, h5_writer, arrays):
    arr = arrays()
    arr["sen2"] = np.full((12, 32, 32, 10), b"x", dtype="S1")
    with pytest.raises(DataFormatError, match=r"key 'sen2' of .*training.h5' has dtype \|S1; expected numbers"):
        _split(tmp_path, h5_writer, **arr)


@pytest.mark.parametrize("row,expected", [([0] * 17, "[0.0, 0.0"), ([1, 1] + [0] * 15, "[1.0, 1.0, 0.0"),
                                           ([0.5, 0.5] + [0] * 15, "[0.5, 0.5")])
def test_label_not_one_hot(tmp_path, h5_writer, arrays, row, expected):
    arr = arrays()
    arr["label"][7] = row
    s = _split(tmp_path, h5_writer, **arr)
    with pytest.raises(DataFormatError) as info:
        s.labels
    msg = str(info.value)
    assert "key 'label'" in msg and "not one-hot at patch 7" in msg and expected in msg and "training.h5" in msg


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_in_a_batch(tmp_path, h5_writer, arrays, value):
    arr = arrays()
    arr["sen2"][5, 3, 4, 2] = value
    s = _split(tmp_path, h5_writer, **arr)
    s.normalise = False
    s.read([0, 1, 4])                                                 # clean rows read fine
    with pytest.raises(DataFormatError) as info:
        s.read([1, 5])
    msg = str(info.value)
    assert "key 'sen2'" in msg and "at patch 5, channel 2" in msg and str(value) in msg and "training.h5" in msg
    s.normalise = True
    with pytest.raises(DataFormatError, match="non-finite value .* at patch 5, channel 2"):
        s.stats()                                                     # the streaming pass catches it too


def test_non_finite_in_torch_batches(tmp_path, h5_writer, arrays):
    pytest.importorskip("torch")
    arr = arrays()
    arr["sen1"][9, 0, 0, 6] = np.nan
    s = _split(tmp_path, h5_writer, "so2sat-s1", **arr)
    s.normalise = False
    with pytest.raises(DataFormatError, match="key 'sen1' .* at patch 9, channel 6"):
        list(s.batches(None, 4, shuffle=True))


def test_empty_split(tmp_path, h5_writer):
    with pytest.raises(DataFormatError, match=r"training.h5' \(training.h5\) holds 0 patches; the split is empty"):
        _split(tmp_path, h5_writer, sen1=np.zeros((0, 32, 32, 8)), sen2=np.zeros((0, 32, 32, 10)),
               label=np.zeros((0, 17)))


def test_truncated_file(tmp_path, synth_plain):
    data = (synth_plain / "validation.h5").read_bytes()
    (tmp_path / "training.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError) as info:
        s = So2SatSplit(tmp_path / "training.h5")
        s.read(np.arange(len(s)))
    assert "training.h5" in str(info.value) and "truncated" in str(info.value)


def test_non_hdf5_file(tmp_path):
    (tmp_path / "training.h5").write_text("this is not HDF5\n")
    with pytest.raises(DataFormatError, match=r"training.h5' is not a readable HDF5 file .* truncated or not HDF5"):
        So2SatSplit(tmp_path / "training.h5")


def test_missing_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="nope.h5' does not exist"):
        So2SatSplit(tmp_path / "nope.h5")


def test_unknown_task(tmp_path, h5_writer, arrays):
    with pytest.raises(UnknownTaskError, match="unknown task 'so2sat-s3'; expected one of so2sat-s1, so2sat-s1s2"):
        _split(tmp_path, h5_writer, "so2sat-s3", **arrays())


def test_root_without_version_files(tmp_path, h5_writer, arrays):
    h5_writer(tmp_path / "training.h5", **arrays())
    h5_writer(tmp_path / "validation.h5", **arrays())
    assert set(find_files(tmp_path)) == {"train", "val"}              # that is version 1
    with pytest.raises(DatasetNotFoundError) as info:
        open_split(tmp_path, "train", version=2)
    assert "lacks the files of So2Sat LCZ42 version 2: missing testing.h5" in str(info.value)
    assert "surrogate-eo data synth" in str(info.value)
    with pytest.raises(DatasetNotFoundError, match="missing random/training.h5, random/testing.h5"):
        find_files(tmp_path, "3-random")


def test_all_are_surrogate_eo_errors():
    for cls in (DataFormatError, DatasetNotFoundError, UnknownTaskError):
        assert issubclass(cls, SurrogateEOError)
