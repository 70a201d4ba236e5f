"""Version layouts: find_files / open_split on synthetic roots of every version and on torchgeo's fixture."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.data import VERSIONS, detect_version, find_files, open_split, synthesize
from surrogate_eo.data.layout import DataArgumentError, canonical_version
from surrogate_eo.errors import DatasetNotFoundError


@pytest.fixture(scope="module")
def all_versions(tmp_path_factory):
    roots = {}
    for v in ("1", "2", "3", "4"):
        roots[v] = tmp_path_factory.mktemp(f"v{v}")
        synthesize(roots[v], version=v, n_train=20, n_val=10, n_test=10, seed=1, compression=None)
    return roots


@pytest.mark.parametrize("given,expected", [(2, "2"), ("v2", "2"), ("3_random", "3-random"),
                                            ("3-culture-10", "3-culture_10"), ("4", "4")])
def test_canonical_version(given, expected):
    assert canonical_version(given) == expected


def test_canonical_version_variant_and_unknown():
    assert canonical_version("3", "block") == "3-block"
    with pytest.raises(DataArgumentError, match="unknown So2Sat version 7; expected one of 1, 2, 3-random"):
        canonical_version(7)


def test_synthesized_layouts_are_found(all_versions):
    assert set(find_files(all_versions["1"])) == {"train", "val"}
    assert detect_version(all_versions["1"]) == "1"
    assert detect_version(all_versions["2"]) == "2"
    assert detect_version(all_versions["4"]) == "4"
    files = find_files(all_versions["4"], version=4)
    assert files["val"].name == "validation.h5" and (all_versions["4"] / "validation_geo.h5").is_file()
    for variant in ("random", "block", "culture_10"):
        got = find_files(all_versions["3"], "3", variant=variant)
        assert got == {"train": all_versions["3"] / variant / "training.h5",
                       "test": all_versions["3"] / variant / "testing.h5"}
        assert find_files(all_versions["3"], f"3-{variant}") == got
    assert detect_version(all_versions["3"]) == "3-culture_10"


def test_v3_split_sizes_and_shift(all_versions):
    root = all_versions["3"]
    tr, te = open_split(root, "train", version="3-random"), open_split(root, "test", version="3-random")
    assert (len(tr), len(te)) == (20, 10)
    assert set(tr.city if tr.city is not None else []) == set()     # version 3 files carry no city
    btr, bte = open_split(root, "train", version="3-block"), open_split(root, "test", version="3-block")
    assert (len(btr), len(bte)) == (20, 10)
    assert len(open_split(root, "test", version="3-culture_10")) == 10


def test_v4_city_and_v2_without(all_versions):
    s = open_split(all_versions["4"], "val", task="so2sat-s1")
    assert s.city is not None and s.city.shape == (10,)
    assert all(c.startswith("synthetic-heldout-city-") for c in s.city)
    train_cities = set(open_split(all_versions["4"], "train").city)
    assert not train_cities & set(s.city)                      # validation cities are other cities
    assert open_split(all_versions["2"], "train").city is None


def test_missing_split_and_files(all_versions, tmp_path):
    with pytest.raises(DatasetNotFoundError, match="version 3-random has no 'val' split"):
        open_split(all_versions["3"], "val", version="3-random")
    with pytest.raises(DatasetNotFoundError, match="version 1 has no 'test' split"):
        open_split(all_versions["1"], "test")
    with pytest.raises(DatasetNotFoundError, match="missing training_geo.h5, validation_geo.h5, testing_geo.h5"):
        find_files(all_versions["2"], version=4)
    (tmp_path / "training.h5").write_bytes(b"")
    with pytest.raises(DatasetNotFoundError, match=r"closest: version 1\): missing validation.h5; found training.h5"):
        find_files(tmp_path)
    with pytest.raises(DatasetNotFoundError, match="is not a folder"):
        find_files(tmp_path / "nope")
    with pytest.raises(DataArgumentError, match="unknown split 'dev'"):
        open_split(all_versions["2"], "dev")


@pytest.mark.parametrize("version", ["1", "2", "3-random", "3-block", "3-culture_10"])
def test_torchgeo_fixture_every_layout(torchgeo_fixture, version, tmp_path, monkeypatch):
    monkeypatch.setenv("SURROGATE_EO_CACHE", str(tmp_path))   # the fixture folder is read-only
    files = find_files(torchgeo_fixture, version)
    assert set(files) == set(VERSIONS[version].files)
    for split in files:
        s = open_split(torchgeo_fixture, split, task="so2sat-s1s2", version=version)
        x, y = s.read([1, 0])
        assert x.shape == (2, 18, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
        assert np.isfinite(x).all()
        s.normalise = False
        raw, _ = s.read([0])
        import h5py

        with h5py.File(files[split], "r") as f:
            np.testing.assert_array_equal(raw[0, 8:], f["sen2"][0].transpose(2, 0, 1))
            np.testing.assert_array_equal(raw[0, :8], f["sen1"][0].transpose(2, 0, 1))
            np.testing.assert_array_equal(s.labels, f["label"][:].argmax(1))
