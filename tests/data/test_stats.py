"""Streaming statistics: exact values, JSON cache beside the data, invalidation, read-only fallback."""
from __future__ import annotations

import json
import os

import h5py
import numpy as np

from surrogate_eo.data import So2SatSplit
from surrogate_eo.data import stats as stats_mod


def _refuse_writes_in(folder, monkeypatch) -> None:
    """Make the stats cache's writes into ``folder`` fail as on a read-only folder (root ignores chmod)."""
    real = stats_mod.atomic_write_json

    def refuse(p, obj, **kw):
        if p.parent == folder:
            raise PermissionError(13, "read-only", str(p))
        return real(p, obj, **kw)

    monkeypatch.setattr(stats_mod, "atomic_write_json", refuse)


def test_streaming_stats_match_numpy(tmp_path, h5_writer, arrays, monkeypatch):
    arr = arrays(n=40, seed=5)
    path = h5_writer(tmp_path / "training.h5", **arr)
    monkeypatch.setattr(stats_mod, "SLAB_BYTES", 3 * 32 * 32 * 10 * 8)   # force many slabs
    s = So2SatSplit(path, "so2sat-s1s2")
    mean, std = s.stats()
    full = np.concatenate([arr["sen1"], arr["sen2"]], axis=-1).reshape(-1, 18)
    np.testing.assert_allclose(mean, full.mean(0), rtol=1e-12)
    np.testing.assert_allclose(std, full.std(0), rtol=1e-10)


def test_cache_written_beside_and_reused(tmp_path, h5_writer, arrays, monkeypatch):
    path = h5_writer(tmp_path / "training.h5", **arrays(n=10))
    mean, _ = So2SatSplit(path, "so2sat-s2").stats()
    cache = tmp_path / "training.h5.stats.json"
    doc = json.loads(cache.read_text())
    assert doc["size"] == path.stat().st_size and set(doc["keys"]) == {"sen2"}
    calls = []
    real = stats_mod.key_stats
    monkeypatch.setattr(stats_mod, "key_stats", lambda *a, **k: calls.append(1) or real(*a, **k))
    np.testing.assert_array_equal(So2SatSplit(path, "so2sat-s2").stats()[0], mean)
    assert calls == []                                          # served from the cache
    So2SatSplit(path, "so2sat-s1s2").stats()
    assert len(calls) == 1                                      # only sen1 was new
    assert set(json.loads(cache.read_text())["keys"]) == {"sen1", "sen2"}


def test_changed_file_invalidates_cache(tmp_path, h5_writer, arrays):
    path = h5_writer(tmp_path / "training.h5", **arrays(n=10, seed=1))
    before = So2SatSplit(path, "so2sat-s2").stats()[0]
    new = arrays(n=10, seed=1)
    new["sen2"] = new["sen2"] * 0.5 + 7
    h5_writer(path, **new)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10 ** 9))   # a distinct mtime even on coarse clocks
    after = So2SatSplit(path, "so2sat-s2").stats()[0]
    np.testing.assert_allclose(after, before * 0.5 + 7)


def test_read_only_folder_falls_back_to_user_cache(tmp_path, h5_writer, arrays, monkeypatch):
    data = tmp_path / "ro"
    path = h5_writer(data / "training.h5", **arrays(n=6))
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("SURROGATE_EO_CACHE", str(cache_dir))
    data.chmod(0o555)
    try:
        if os.access(data, os.W_OK):      # running as root: simulate the failing write instead
            _refuse_writes_in(data, monkeypatch)
        mean, std = So2SatSplit(path, "so2sat-s2").stats()
    finally:
        data.chmod(0o755)
    assert not (data / "training.h5.stats.json").exists()
    cached = list((cache_dir / "stats").glob("*-training.h5.stats.json"))
    assert len(cached) == 1
    np.testing.assert_allclose(json.loads(cached[0].read_text())["keys"]["sen2"]["mean"], mean)


def test_cache_off_on_a_read_only_folder_computes_and_writes_nothing(tmp_path, h5_writer, arrays, monkeypatch):
    """SURROGATE_EO_CACHE=off disables the user cache (it is not a folder called 'off')."""
    data = tmp_path / "ro"
    path = h5_writer(data / "training.h5", **arrays(n=6))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SURROGATE_EO_CACHE", "off")
    _refuse_writes_in(data, monkeypatch)
    assert stats_mod.cache_paths(path) == [data / "training.h5.stats.json"]
    mean, std = So2SatSplit(path, "so2sat-s2").stats()
    with h5py.File(path) as f:
        np.testing.assert_allclose(mean, f["sen2"][:].astype(np.float64).mean(axis=(0, 1, 2)), rtol=1e-6)
    assert not (tmp_path / "off").exists() and sorted(p.name for p in data.iterdir()) == ["training.h5"]


def test_constant_channel_gets_unit_std(tmp_path, h5_writer, arrays):
    arr = arrays(n=4)
    arr["sen2"][..., 3] = 5.0
    s = So2SatSplit(h5_writer(tmp_path / "training.h5", **arr), "so2sat-s2")
    assert s.stats()[1][3] == 1.0
    x = s.read([0, 1])[0]
    np.testing.assert_array_equal(x[:, 3], 0.0)


def test_stats_of_gzip_file_match_plain(synth_gzip, synth_plain):
    a = So2SatSplit(synth_gzip / "training.h5", "so2sat-s1s2").stats()
    b = So2SatSplit(synth_plain / "training.h5", "so2sat-s1s2").stats()
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
    with h5py.File(synth_plain / "training.h5") as f:
        np.testing.assert_allclose(b[0][8:], f["sen2"][:].reshape(-1, 10).mean(0), rtol=1e-10)


def test_huge_finite_value_is_named_not_averaged_to_inf(tmp_path, h5_writer, arrays, capsys):
    """1e308 is finite in float64, but its mean overflows: one line naming key, patch, band and value."""
    from surrogate_eo.cli import main
    from surrogate_eo.data import synthesize

    synthesize(tmp_path, version=2, n_train=8, n_val=4, n_test=4, seed=0, compression=None)
    train = next(p for p in tmp_path.glob("*.h5") if "train" in p.name)
    with h5py.File(train, "r+") as f:
        f["sen2"][3, 5, 6, 2] = 1e308
    try:
        main(["data", "stats", str(tmp_path), "--task", "so2sat-s2", "--json"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("data stats accepted 1e308")
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'sen2'" in err and "patch 3, channel 2" in err
    assert "1e+308" in err and "float32" in err
    assert not list(tmp_path.glob("*.stats.json"))  # nothing cached


def test_cached_null_means_are_recomputed(tmp_path, h5_writer, arrays):
    path = h5_writer(tmp_path / "training.h5", **arrays(n=6))
    mean, _ = So2SatSplit(path, "so2sat-s2").stats()
    cache = tmp_path / "training.h5.stats.json"
    doc = json.loads(cache.read_text())
    doc["keys"]["sen2"]["mean"] = [None] * 10
    cache.write_text(json.dumps(doc))
    np.testing.assert_allclose(So2SatSplit(path, "so2sat-s2").stats()[0], mean)
