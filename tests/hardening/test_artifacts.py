"""Benchmark artifacts under attack and under crashes (issue 14, findings 4, 5, 6, 14)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import surrogate_eo
from surrogate_eo._io import old_copy_name, recover_folder, replace_folder
from surrogate_eo.errors import ArtifactError
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import Benchmark, Entry, make_model
from surrogate_eo.surrogates.artifacts import _canonical, _library_message, _sha256


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Benchmark, Path, np.ndarray]:
    archs = get_space("nb201").sample(150, seed=3)
    y = (archs == 3).sum(1) * 0.05 + 0.5
    model = make_model("xgb", "nb201", n_estimators=8).fit(archs, y)
    bench = Benchmark("nb201", [Entry("toy", "val_acc", None, model, train_archs=archs, info={"n": 150})],
                      {"tuning": {"trials": 3}})
    path = tmp_path_factory.mktemp("art") / "b"
    bench.save(str(path))
    return bench, path, archs


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _rewrite(path: Path, edit) -> None:
    """Edit benchmark.json and recompute its checksum (what an attacker who read the code does)."""
    doc = json.loads((path / "benchmark.json").read_text())
    edit(doc)
    doc.pop("checksum", None)
    doc["checksum"] = _sha256(_canonical(doc))
    (path / "benchmark.json").write_text(json.dumps(doc))


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.update(meta=[1, 2, 3]), "field meta = [1, 2, 3]"),
    (lambda d: d["entries"][0].update(info=[1, 2]), "entries[0].info"),
    (lambda d: d["entries"][0]["model"]["params"].update(n_jobs=10**12), "params.n_jobs = 1000000000000"),
    (lambda d: d["entries"][0]["model"]["params"].update(max_depth="deep"), "params.max_depth"),
    (lambda d: d["entries"][0]["model"].update(n_train=-1), "n_train"),
    (lambda d: d["entries"][0].update(noise_std=-1), "noise_std"),
    (lambda d: d.update(entries={}), "field entries"),
    (lambda d: d.update(tasks="toy"), "field tasks"),
    (lambda d: d["files"].update({"entries/00/booster.ubj": "x" * 64}), "sha256 digest"),
    (lambda d: d.update(sizes=[1]), "field sizes"),
    (lambda d: d["entries"][0]["model"].update(base={"base": {}}), "model.base"),
    (lambda d: d.update(extra=1), "unknown field 'extra'"),
    (lambda d: d["entries"][0]["info"].update(noise={"quantiles": [0.0] * 200}), "info.noise.quantiles"),
    (lambda d: d["entries"][0]["info"].update(conformal={"quantiles": [1.0] + [0.0] * 200, "n": 9}),
     "info.conformal.quantiles[1] = 0.0"),
])
def test_crafted_manifest_with_recomputed_checksum(small, tmp_path: Path, edit, field: str) -> None:
    d = _copy(small[1], tmp_path / "c")
    _rewrite(d, edit)
    with pytest.raises(ArtifactError) as ei:
        surrogate_eo.load(d)
    msg = str(ei.value)
    assert field in msg and "\n" not in msg and len(msg) < 400


def test_deeply_nested_manifest_and_bad_tuning(small, tmp_path: Path) -> None:
    d = _copy(small[1], tmp_path / "deep")
    (d / "benchmark.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ArtifactError, match="nested too deeply"):
        surrogate_eo.load(d)
    d = _copy(small[1], tmp_path / "tuning")
    garbage = b"{garbage"
    (d / "tuning.json").write_bytes(garbage)
    _rewrite(d, lambda doc: (doc["files"].update({"tuning.json": _sha256(garbage)}),
                             doc["sizes"].update({"tuning.json": len(garbage)})))
    with pytest.raises(ArtifactError, match=r"tuning.json is not valid JSON"):
        surrogate_eo.load(d)


def test_size_is_checked_before_reading(small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3 GB (sparse) booster is refused from its size alone: no byte of any listed file is read."""
    d = _copy(small[1], tmp_path / "big")
    with open(d / "entries/00/booster.ubj", "r+b") as fh:
        fh.truncate(3 * 2**30)
    import surrogate_eo.surrogates.artifacts as art

    def no_read(*a, **k):  # noqa: ANN002, ANN003
        raise AssertionError("a listed file was read before its size was checked")

    monkeypatch.setattr(art, "_read_hashed", no_read)
    with pytest.raises(ArtifactError, match=r"3,221,225,472 bytes, the metadata lists"):
        surrogate_eo.load(d)


def test_hash_is_streamed_in_chunks(small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import surrogate_eo.surrogates.artifacts as art

    monkeypatch.setattr(art, "HASH_CHUNK", 1000)
    reads: list[int] = []
    real_open = open

    class Spy:
        def __init__(self, fh):  # noqa: ANN001
            self.fh = fh

        def read(self, n: int = -1) -> bytes:
            reads.append(n)
            return self.fh.read(n)

        def __enter__(self):  # noqa: ANN204
            return self

        def __exit__(self, *a):  # noqa: ANN002
            self.fh.close()

    monkeypatch.setattr(art, "open", lambda p, m="r": Spy(real_open(p, m)), raising=False)
    b = surrogate_eo.load(small[1])
    assert reads and max(reads) == 1000 and len(reads) > 10  # chunked, never read whole
    np.testing.assert_allclose(b.predict(small[2][:20]), small[0].predict(small[2][:20]))


def test_library_errors_are_one_short_line() -> None:
    exc = RuntimeError("[22:30:00] /workspace/src/learner.cc:742: Check failed: n > 0: bad model\n"
                       "Stack trace:\n  [bt] (0) /usr/lib/libxgboost.so(+0x1234) [0x7f]\n" + "  [bt] x\n" * 40)
    msg = _library_message(exc)
    assert msg == "Check failed: n > 0: bad model"


def test_tampered_booster_bytes_give_short_message(small, tmp_path: Path) -> None:
    d = _copy(small[1], tmp_path / "t")
    garbage = b"\x00not a booster" * 10
    (d / "entries/00/booster.ubj").write_bytes(garbage)
    _rewrite(d, lambda doc: (doc["files"].update({"entries/00/booster.ubj": _sha256(garbage)}),
                             doc["sizes"].update({"entries/00/booster.ubj": len(garbage)})))
    with pytest.raises(ArtifactError) as ei:
        surrogate_eo.load(d)
    msg = str(ei.value)
    assert "not a well-formed XGBoost model" in msg and "[bt]" not in msg and "Stack trace" not in msg
    assert len(msg) < 400


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_force_replacement_never_leaves_no_benchmark(small, tmp_path: Path) -> None:
    """Readers in a loop while fit --force replaces the folder 15 times: every read gets a whole benchmark."""
    bench, _, archs = small
    out = tmp_path / "live"
    bench.save(str(out))
    errors: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                surrogate_eo.load(out).predict(archs[:2])
            except Exception as exc:  # noqa: BLE001 - any failure of the reader is the bug
                errors.append(f"{type(exc).__name__}: {exc}")

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(15):
            bench.save(str(out), overwrite=True)
    finally:
        done.set()
        t.join()
    assert errors == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live"]  # no .tmp / .old leftovers


def test_interrupted_replacement_is_recovered(small, tmp_path: Path) -> None:
    """The non-atomic fallback killed between its two renames: the next reader and writer repair it."""
    bench, src, archs = small
    out = tmp_path / "b"
    parked = old_copy_name(out).with_name(f".b.old-{_dead_pid()}")
    shutil.copytree(src, parked)          # the old benchmark, parked; the new one never arrived
    half = tmp_path / ".b.kill9.tmp"      # the writer's half-written temporary folder
    shutil.copytree(src, half)
    old = time.time() - 3600
    os.utime(half, (old, old))
    got = surrogate_eo.load(out)          # the reader finds the old benchmark, restored in place
    assert out.is_dir() and not parked.exists()
    np.testing.assert_allclose(got.predict(archs[:5]), bench.predict(archs[:5]))
    bench.save(str(out), overwrite=True)  # the next writer sweeps the stale temporary folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_fallback_rename_path(small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import surrogate_eo._io as io_mod

    monkeypatch.setattr(io_mod, "_exchange", lambda a, b: False)
    a, b = tmp_path / "new", tmp_path / "dst"
    a.mkdir()
    (a / "f").write_text("new")
    b.mkdir()
    (b / "f").write_text("old")
    replace_folder(a, b)
    assert (b / "f").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["dst"]
    assert recover_folder(b) == []


def test_config_pointing_at_tampered_benchmark_is_one_short_line(small, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """An error that nests another (plan -> exploit surrogate -> xgboost parser) prints no library stack."""
    from surrogate_eo.cli import main

    d = _copy(small[1], tmp_path / "tampered")
    garbage = b"{\x00garbage" * 50
    (d / "entries/00/booster.ubj").write_bytes(garbage)
    _rewrite(d, lambda doc: (doc["files"].update({"entries/00/booster.ubj": _sha256(garbage)}),
                             doc["sizes"].update({"entries/00/booster.ubj": len(garbage)})))
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[campaign]\nname = "x"\nspace = "nb201"\ntasks = ["so2sat-s2"]\nprotocol = "smoke"\n'
                   f'[strata.exploit]\nn = 2\npool = 10\nsurrogate = "{d}"\n')
    with pytest.raises(SystemExit) as ex:
        main(["plan", str(cfg), "--out", str(tmp_path / "m.parquet")])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "strata.exploit.surrogate" in err
    assert "not a well-formed XGBoost model" in err
    assert len(err) < 600 and "[bt]" not in err and "Stack trace" not in err
    assert not (tmp_path / "m.parquet").exists()


def test_model_files_that_would_crash_the_libraries_are_refused(tmp_path: Path) -> None:
    """A child index flipped in an XGBoost tree (segfault in XGBoost) or a truncated LightGBM text (abort in
    LightGBM), with digests recomputed: both refused with an ArtifactError before the library parses them."""
    from surrogate_eo.surrogates.artifact_models import check_lgb_text, check_xgb_ubj, decode_ubjson

    archs = get_space("nb201").sample(100, seed=4)
    y = (archs == 3).sum(1) * 0.05 + 0.5
    xgb = make_model("xgb", "nb201", n_estimators=3).fit(archs, y)
    lgb = make_model("lgb", "nb201", n_estimators=3).fit(archs, y)
    ubj = xgb._save_state()[1]["booster.ubj"]
    text = lgb._save_state()[1]["booster.txt"]
    check_xgb_ubj(ubj, "ok")                            # the real files pass
    assert b"end of trees" in check_lgb_text(text, "ok")
    doc = decode_ubjson(ubj)
    left = doc["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"]
    inner = int(np.argmax(left.astype(np.int64) > 0))
    pos = ubj.find(left.tobytes())                      # the big-endian int32 array inside the file
    bad = bytearray(ubj)
    bad[pos + 4 * inner: pos + 4 * inner + 4] = (10**6).to_bytes(4, "big", signed=True)
    with pytest.raises(ArtifactError, match="left_children points outside the tree"):
        check_xgb_ubj(bytes(bad), "b/booster.ubj")
    cut = text[: text.index(b"end of trees") - 40]
    with pytest.raises(ArtifactError, match="not a well-formed LightGBM model"):
        check_lgb_text(cut, "b/booster.txt")
    tail_cut = text[: text.index(b"end of parameters") - 5]  # LightGBM segfaults on this one
    assert check_lgb_text(tail_cut, "b/booster.txt").endswith(b"end of trees\n")


def test_large_mismatching_file_is_hashed_in_constant_memory(small, tmp_path: Path) -> None:
    """Size listed correctly but content not: refused after a streaming hash, never held in memory whole."""
    import tracemalloc

    d = _copy(small[1], tmp_path / "big")
    big = 64 * 2**20
    with open(d / "entries/00/booster.ubj", "wb") as fh:
        fh.truncate(big)
    _rewrite(d, lambda doc: doc["sizes"].update({"entries/00/booster.ubj": big}))
    tracemalloc.start()
    try:
        with pytest.raises(ArtifactError, match="sha256 .* does not match"):
            surrogate_eo.load(d)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < big // 4, peak
