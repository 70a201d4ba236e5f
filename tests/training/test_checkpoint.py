"""Checkpoints: atomic round trip of model/optimiser/RNG state; bad files are reported and ignored."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from surrogate_eo.training.checkpoint import (  # noqa: E402
    CheckpointWarning, load_checkpoint, rng_state, save_checkpoint, set_rng_state)


def _state(model: "torch.nn.Module", opt: "torch.optim.Optimizer") -> dict:
    return {"run_id": "r1", "protocol_hash": "h1", "epoch": 2, "batch": 3,
            "partial": {"loss_sum": 1.5, "correct": 4, "seen": 8, "seconds": 0.25},
            "epochs": [{"val_acc": 0.5}], "model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": {"last_epoch": 7}, "rng": rng_state()}


def _model_and_opt() -> tuple:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(5, 4)).sum().backward()
    opt.step()
    return model, opt


def test_round_trip_restores_everything(tmp_path: Path) -> None:
    model, opt = _model_and_opt()
    path = tmp_path / "run.ckpt"
    save_checkpoint(path, _state(model, opt))
    assert [p.name for p in tmp_path.iterdir()] == ["run.ckpt"]  # no temporary file left
    expected = (torch.rand(3), np.random.rand(3), random.random())
    state, note = load_checkpoint(path, run_id="r1", protocol_hash="h1")
    assert note is None and state["epoch"] == 2 and state["batch"] == 3 and state["partial"]["seen"] == 8
    set_rng_state(state["rng"])
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(expected[0], again[0]) and np.array_equal(expected[1], again[1]) and expected[2] == again[2]
    m2, o2 = _model_and_opt()
    torch.nn.init.zeros_(m2[0].weight)
    m2.load_state_dict(state["model"])
    o2.load_state_dict(state["optimizer"])
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), m2.state_dict().values()))
    buf = opt.state_dict()["state"][0]["momentum_buffer"]
    assert torch.equal(buf, o2.state_dict()["state"][0]["momentum_buffer"])


def test_missing_file_is_no_checkpoint_without_warning(tmp_path: Path) -> None:
    assert load_checkpoint(tmp_path / "none.ckpt", run_id="r1", protocol_hash="h1") == (None, None)


@pytest.mark.parametrize("content, reason", [
    (b"garbage, not a torch file", "unreadable"),
    (b"", "unreadable"),
])
def test_corrupt_file_is_reported_and_ignored(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "run.ckpt"
    path.write_bytes(content)
    with pytest.warns(CheckpointWarning, match=reason):
        state, note = load_checkpoint(path, run_id="r1", protocol_hash="h1")
    assert state is None and str(path) in note and "from scratch" in note


def test_truncated_checkpoint_is_reported(tmp_path: Path) -> None:
    model, opt = _model_and_opt()
    path = tmp_path / "run.ckpt"
    save_checkpoint(path, _state(model, opt))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(CheckpointWarning, match="unreadable"):
        assert load_checkpoint(path, run_id="r1", protocol_hash="h1")[0] is None


def test_checkpoint_of_another_run_or_protocol_is_ignored(tmp_path: Path) -> None:
    model, opt = _model_and_opt()
    path = tmp_path / "run.ckpt"
    save_checkpoint(path, _state(model, opt))
    with pytest.warns(CheckpointWarning, match="belongs to run 'r1'"):
        assert load_checkpoint(path, run_id="r2", protocol_hash="h1")[0] is None
    with pytest.warns(CheckpointWarning, match="protocol hash 'h1'"):
        assert load_checkpoint(path, run_id="r1", protocol_hash="h2")[0] is None


def test_non_checkpoint_torch_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "run.ckpt"
    torch.save({"weights": torch.ones(2)}, path)
    with pytest.warns(CheckpointWarning, match="not a surrogate-eo checkpoint"):
        assert load_checkpoint(path, run_id="r1", protocol_hash="h1")[0] is None


def test_rerun_sweeps_temporaries_of_a_killed_checkpoint_write(so2sat_root: Path, tiny, tmp_path: Path) -> None:
    """``train`` killed during its first checkpoint rename left ``.<run>.ckpt.<x>.tmp``; the rerun removes it."""
    from surrogate_eo.training import checkpoint_path, train

    spec = tiny.spec(seed=5)
    ckpt = checkpoint_path(tmp_path, spec)
    tmp_path.mkdir(exist_ok=True)
    leftover = ckpt.with_name(f".{ckpt.name}.k1ll3d.tmp")
    leftover.write_bytes(b"half a torch file")
    other = tmp_path / ".another-run.ckpt.x.tmp"  # another run's temporary: not ours to remove
    other.write_bytes(b"x")
    rec = train(spec, so2sat_root, tmp_path, protocol=tiny.protocol, threads=1)
    assert rec.status == "ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{spec.run_id}.json", other.name])
