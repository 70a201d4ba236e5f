"""train(): record contents, rerun/resume, determinism, divergence, corrupt checkpoints, bad input."""
from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from surrogate_eo.errors import (  # noqa: E402
    DatasetNotFoundError, InvalidArchitectureError, SurrogateEOError, TrainingError, UnknownProtocolError,
    UnknownTaskError)
from surrogate_eo.networks import build_network, count_flops, count_params  # noqa: E402
from surrogate_eo.records import EPOCH_METRICS, RunRecord, RunSpec  # noqa: E402
from surrogate_eo.training import (  # noqa: E402
    EXIT_REQUEUE, CheckpointWarning, Preempted, checkpoint_path, record_path, resolve_threads, train)


def test_record_has_curves_counts_and_environment(reference, tiny, tmp_path: Path) -> None:
    rec = reference
    assert rec.status == "ok" and rec.error is None
    assert len(rec.epochs) == tiny.protocol.epochs
    for e in rec.epochs:
        assert tuple(e) == EPOCH_METRICS
        assert all(0.0 <= e[k] <= 1.0 for k in EPOCH_METRICS if k not in ("train_loss", "epoch_seconds", "val_kappa",
                                                                          "test_kappa"))
        assert e["train_loss"] > 0 and e["epoch_seconds"] > 0
    assert rec.epochs[-1]["train_loss"] < rec.epochs[0]["train_loss"]  # it learns
    net = build_network("eo", tiny.arch, 10)
    assert rec.params == count_params(net) and rec.flops == count_flops(net, 10) > 0
    assert rec.device == "cpu (1 thread)"
    assert {"python", "torch", "numpy", "h5py"} <= set(rec.versions)
    assert rec.wall_seconds == pytest.approx(sum(e["epoch_seconds"] for e in rec.epochs))
    assert rec.host and rec.created


def test_files_layout_and_rerun_returns_existing_record(so2sat_root: Path, tiny, tmp_path: Path) -> None:
    spec = tiny.spec(seed=3)
    events: list[str] = []
    rec = train(spec, so2sat_root, tmp_path, protocol=tiny.protocol, threads=1,
                callback=lambda ev, info: events.append(ev))
    assert record_path(tmp_path, spec) == tmp_path / f"{spec.run_id}.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{spec.run_id}.json"]  # checkpoint removed
    assert events.count("epoch") == 2 and events.count("batch") == 8 and events[0] == "start"
    assert RunRecord.load(record_path(tmp_path, spec)).to_dict() == rec.to_dict()
    events.clear()
    again = train(spec, so2sat_root, tmp_path, protocol=tiny.protocol, threads=1,
                  callback=lambda ev, info: events.append(ev))
    assert events == [] and again.to_dict() == rec.to_dict()


def test_same_spec_same_metrics_other_seed_other_metrics(reference, so2sat_root: Path, tiny,
                                                         tmp_path: Path) -> None:
    again = train(tiny.spec(), so2sat_root, tmp_path / "a", protocol=tiny.protocol, threads=1)
    assert tiny.metrics(again) == tiny.metrics(reference)
    other = train(tiny.spec(seed=1), so2sat_root, tmp_path / "b", protocol=tiny.protocol, threads=1)
    assert tiny.metrics(other) != tiny.metrics(reference)


def test_failure_keeps_checkpoint_and_retry_resumes_exactly(reference, so2sat_root: Path, tiny,
                                                            tmp_path: Path) -> None:
    def crash(event: str, info: dict) -> None:
        if event == "batch" and info["epoch"] == 1 and info["batch"] == 2:
            raise RuntimeError("simulated out of memory")

    failed = train(tiny.spec(), so2sat_root, tmp_path, protocol=tiny.protocol, threads=1, callback=crash)
    assert failed.status == "failed" and "simulated out of memory" in failed.error
    assert len(failed.epochs) == 1 and checkpoint_path(tmp_path, tiny.spec()).is_file()
    assert train(tiny.spec(), so2sat_root, tmp_path, protocol=tiny.protocol, retry_failed=False).status == "failed"
    resumed = train(tiny.spec(), so2sat_root, tmp_path, protocol=tiny.protocol, threads=1)
    assert resumed.status == "ok" and tiny.metrics(resumed) == tiny.metrics(reference)


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="POSIX signals only")
def test_sigterm_checkpoints_mid_epoch_exits_75_and_resumes_exactly(reference, so2sat_root: Path, tiny,
                                                                    tmp_path: Path) -> None:
    def preempt(event: str, info: dict) -> None:
        if event == "batch" and info["epoch"] == 0 and info["batch"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Preempted) as info:
        train(tiny.spec(), so2sat_root, tmp_path, protocol=tiny.protocol, threads=1, callback=preempt)
    assert info.value.code == EXIT_REQUEUE and info.value.signame == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) == before
    ckpt = torch.load(checkpoint_path(tmp_path, tiny.spec()), weights_only=True)
    assert (ckpt["epoch"], ckpt["batch"], ckpt["partial"]["seen"]) == (0, 3, 48)
    assert not record_path(tmp_path, tiny.spec()).exists()
    resumed = train(tiny.spec(), so2sat_root, tmp_path, protocol=tiny.protocol, threads=1)
    assert tiny.metrics(resumed) == tiny.metrics(reference)


def test_corrupt_checkpoint_is_reported_and_training_restarts(reference, so2sat_root: Path, tiny,
                                                              tmp_path: Path) -> None:
    ckpt = checkpoint_path(tmp_path, tiny.spec())
    ckpt.write_bytes(b"PK\x03\x04 truncated zip")
    with pytest.warns(CheckpointWarning, match="ignored"):
        rec = train(tiny.spec(), so2sat_root, tmp_path, protocol=tiny.protocol, threads=1)
    assert rec.status == "ok" and rec.error is None
    assert len(rec.notes) == 1 and rec.notes[0].startswith("checkpoint") and str(ckpt) in rec.notes[0]
    assert tiny.metrics(rec) == tiny.metrics(reference)


def test_nan_loss_gives_diverged_record(so2sat_root: Path, tiny, tmp_path: Path) -> None:
    proto = tiny.protocol.replace(name="test-explode", lr=1e30, grad_clip=None, epochs=3)
    spec = tiny.spec(protocol=proto)
    rec = train(spec, so2sat_root, tmp_path, protocol=proto, threads=1)
    assert rec.status == "diverged" and "loss became" in rec.error
    assert len(rec.epochs) < proto.epochs and all(math.isfinite(e["train_loss"]) for e in rec.epochs)
    assert RunRecord.load(record_path(tmp_path, spec)).status == "diverged"
    assert not checkpoint_path(tmp_path, spec).exists()


@pytest.mark.parametrize("change, error, match", [
    ({"task": "so2sat-rgb"}, UnknownTaskError, "so2sat-s1"),
    ({"protocol": "fast", "protocol_hash": "0"}, UnknownProtocolError, "so2sat-default"),
    ({"protocol_hash": "0123456789abcdef"}, TrainingError, "replan"),
    ({"arch": "cell=|bogus~0|"}, InvalidArchitectureError, "bogus"),
    ({"space": "darts"}, SurrogateEOError, "darts"),
    ({"seed": -1}, TrainingError, "seed"),
])
def test_bad_spec_raises_before_writing(change: dict, error: type, match: str, so2sat_root: Path, tiny,
                                        tmp_path: Path) -> None:
    fields = {**tiny.spec().to_dict(), "run_id": "", **change}
    spec = RunSpec(**fields)
    proto = None if "protocol" in change else tiny.protocol
    with pytest.raises(error, match=match):
        train(spec, so2sat_root, tmp_path / "out", protocol=proto, threads=1)
    assert not (tmp_path / "out").exists()


def test_data_root_problems_raise(tiny, tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="not a folder"):
        train(tiny.spec(), tmp_path / "missing", tmp_path / "out", protocol=tiny.protocol)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SurrogateEOError, match=str(tmp_path / "empty")):
        train(tiny.spec(), tmp_path / "empty", tmp_path / "out", protocol=tiny.protocol)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "training.h5").write_bytes(b"not hdf5")
    (tmp_path / "broken" / "validation.h5").write_bytes(b"not hdf5")
    with pytest.raises(SurrogateEOError, match="training.h5"):
        train(tiny.spec(), tmp_path / "broken", tmp_path / "out", protocol=tiny.protocol)
    assert not (tmp_path / "out").exists()


def test_device_and_thread_settings(so2sat_root: Path, tiny, tmp_path: Path, monkeypatch) -> None:
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError, match="CUDA is not available"):
            train(tiny.spec(), so2sat_root, tmp_path, protocol=tiny.protocol, device="cuda")
    with pytest.raises(TrainingError, match="not a torch device"):
        train(tiny.spec(), so2sat_root, tmp_path, protocol=tiny.protocol, device="gpu please")
    monkeypatch.delenv("SURROGATE_EO_THREADS", raising=False)
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "3")
    assert resolve_threads() == 3
    monkeypatch.setenv("SURROGATE_EO_THREADS", "1")
    assert resolve_threads() == 1 and resolve_threads(4) == 4
    monkeypatch.setenv("SURROGATE_EO_THREADS", "many")
    with pytest.raises(TrainingError, match="SURROGATE_EO_THREADS='many'"):
        resolve_threads()
    monkeypatch.delenv("SURROGATE_EO_THREADS")
    monkeypatch.delenv("SLURM_CPUS_PER_TASK")
    assert resolve_threads() == min(2, os.cpu_count() or 1)
    threads_before = torch.get_num_threads()
    det_before = torch.are_deterministic_algorithms_enabled()
    train(tiny.spec(seed=5), so2sat_root, tmp_path, protocol=tiny.protocol, threads=1)
    assert torch.get_num_threads() == threads_before
    assert torch.are_deterministic_algorithms_enabled() == det_before


def test_nan_in_training_data_raises_and_writes_nothing(so2sat_root: Path, tiny, tmp_path: Path) -> None:
    import shutil

    import h5py

    root = tmp_path / "data"
    shutil.copytree(so2sat_root, root, ignore=shutil.ignore_patterns("*.json"))  # no cached statistics
    with h5py.File(root / "training.h5", "r+") as f:
        f["sen2"][5, 3, 4, 0] = float("nan")
    with pytest.raises(SurrogateEOError, match="training.h5"):
        train(tiny.spec(), root, tmp_path / "out", protocol=tiny.protocol, threads=1)
    assert not any((tmp_path / "out").glob("*.json"))
