"""The synthetic generator: exact official layout, determinism, atomic writes, a non-trivial landscape."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from surrogate_eo.data import DataArgumentError, open_split, synthesize
from surrogate_eo.data import synthetic as synth_mod


def test_official_layout(synth_gzip):
    for name, n in (("training.h5", 160), ("validation.h5", 64), ("testing.h5", 64)):
        with h5py.File(synth_gzip / name, "r") as f:
            assert sorted(f.keys()) == ["label", "sen1", "sen2"]
            assert f["sen1"].shape == (n, 32, 32, 8) and f["sen1"].dtype == np.float64
            assert f["sen2"].shape == (n, 32, 32, 10) and f["sen2"].dtype == np.float64
            assert f["label"].shape == (n, 17) and f["label"].dtype == np.float64
            lab = f["label"][:]
            assert set(np.unique(lab)) == {0.0, 1.0} and (lab.sum(1) == 1).all()
            assert f["sen2"].compression == "gzip"
            assert f.attrs["synthetic"] and "SYNTHETIC" in f.attrs["description"]
    assert "SYNTHETIC" in (synth_gzip / "README.md").read_text()


def test_value_ranges_like_so2sat(synth_plain):
    with h5py.File(synth_plain / "training.h5", "r") as f:
        s2, s1 = f["sen2"][:], f["sen1"][:]
    assert s2.min() >= 0 and s2.max() <= 1
    assert 0.03 < s2.mean() < 0.3 and np.isfinite(s1).all()
    assert (s1[..., 4:6] >= 0).all()                                # Lee intensities are powers
    assert abs(s1[..., 0].mean()) < 0.05 and 0.05 < s1[..., 2].std() < 1.5   # zero-mean complex parts
    np.testing.assert_array_equal(np.round(s2 * 1e4) / 1e4, s2.astype(np.float32).astype(np.float64).round(4))


def test_deterministic_and_seed_dependent(tmp_path, synth_gzip):
    synthesize(tmp_path / "a", n_train=160, n_val=64, n_test=64, seed=3, compression=None)
    synthesize(tmp_path / "b", n_train=20, n_val=8, n_test=8, seed=4, compression=None, workers=1)
    synthesize(tmp_path / "c", n_train=20, n_val=8, n_test=8, seed=4, compression=None, workers=3)
    with h5py.File(tmp_path / "b" / "training.h5") as b, h5py.File(tmp_path / "c" / "training.h5") as c:
        np.testing.assert_array_equal(b["sen1"][:], c["sen1"][:])   # thread count does not matter
    with h5py.File(tmp_path / "a" / "validation.h5") as a, h5py.File(synth_gzip / "validation.h5") as g, \
            h5py.File(tmp_path / "b" / "validation.h5") as b:
        np.testing.assert_array_equal(a["sen2"][:], g["sen2"][:])   # compression does not change values
        np.testing.assert_array_equal(a["label"][:], g["label"][:])
        assert not np.array_equal(a["sen2"][:8], b["sen2"][:8])


def test_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    calls = []

    def boom(rng, labels, cities, city):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("disk full (simulated)")
        return real(rng, labels, cities, city)

    real = synth_mod.render
    monkeypatch.setattr(synth_mod, "render", boom)
    monkeypatch.setattr(synth_mod, "RENDER_CHUNK", 8)
    with pytest.raises(RuntimeError, match="simulated"):
        synthesize(tmp_path, n_train=40, n_val=8, n_test=8, workers=1)
    assert list(tmp_path.iterdir()) == []                            # no file, no temp file


def test_class_imbalance_and_domain_shift(tmp_path):
    synthesize(tmp_path, version=4, n_train=600, n_val=300, n_test=300, seed=0, compression=None)
    tr, va = open_split(tmp_path, "train"), open_split(tmp_path, "val")
    counts = np.bincount(tr.labels, minlength=17)
    assert counts.max() >= 6 * max(counts.min(), 1)                    # strongly imbalanced
    p_tr, p_va = counts / counts.sum(), np.bincount(va.labels, minlength=17) / len(va)
    assert 0.5 * np.abs(p_tr - p_va).sum() > 0.08                       # label shift between the splits
    assert not set(tr.city) & set(va.city)                             # held-out cities


def test_landscape_s2_beats_s1_and_texture_matters(tmp_path):
    """Cheap proxies: band means (spectral only) vs adding multi-scale texture energy; S1 vs S2."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    synthesize(tmp_path, n_train=1000, n_val=500, n_test=8, seed=0, compression=None)

    def feats(task, split, texture):
        s = open_split(tmp_path, split, task=task)
        x, y = s.read(np.arange(len(s)))
        f = [x.mean((2, 3)), x.std((2, 3))]
        if texture:
            g = x.mean(1)
            for k in (1, 2, 4, 8):       # local contrast at growing scales
                f.append(np.abs(g - np.roll(g, k, 1)).mean((1, 2))[:, None])
                f.append(np.abs(g - np.roll(g, k, 2)).mean((1, 2))[:, None])
        return np.concatenate(f, 1), y

    def score(task, texture):
        model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(*feats(task, "train", texture))
        return model.score(*feats(task, "val", texture))

    s2_spec, s2_tex, s1_tex = score("so2sat-s2", False), score("so2sat-s2", True), score("so2sat-s1", True)
    assert s2_tex > s2_spec + 0.08, (s2_spec, s2_tex)          # measured: 0.63 -> 0.79
    assert s2_tex > s1_tex + 0.2, (s2_tex, s1_tex)             # measured: S1 0.37
    assert s1_tex > 0.2                                                 # weak, not absent


def test_bad_arguments(tmp_path):
    with pytest.raises(DataArgumentError, match="n_train must be a positive integer; got 0"):
        synthesize(tmp_path, n_train=0)
    with pytest.raises(DataArgumentError, match="compression must be 'gzip', 'lzf' or None; got 'zstd'"):
        synthesize(tmp_path, compression="zstd")
    with pytest.raises(DataArgumentError, match="dtype must be one of float64, float32, float16; got 'uint8'"):
        synthesize(tmp_path, dtype="uint8")
    with pytest.raises(DataArgumentError, match="unknown So2Sat version '5'"):
        synthesize(tmp_path, version="5")
    assert list(tmp_path.iterdir()) == []
