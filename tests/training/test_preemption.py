"""A run killed or preempted in another process resumes to exactly the uninterrupted result."""
from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals only")

from surrogate_eo.training import EXIT_REQUEUE, checkpoint_path, record_path, train  # noqa: E402

#: The child trains the spec; in epoch 2, after batch 2, it writes MARKER and waits (up to 60 s)
#: until the parent has written MARKER.sent.
CHILD = """
import json, os, sys, time
from surrogate_eo.records import RunSpec
from surrogate_eo.training import Protocol, train
spec, proto, root, out, marker = sys.argv[1:]
def callback(event, info):
    if event == "batch" and info["epoch"] == 1 and info["batch"] == 2:
        open(marker, "w").write("mid-epoch")
        deadline = time.time() + 60
        while time.time() < deadline and not os.path.exists(marker + ".sent"):
            time.sleep(0.02)
train(RunSpec.from_dict(json.loads(spec)), root, out, protocol=Protocol(**json.loads(proto)),
      threads=1, callback=callback)
"""


def _start_child(tiny, root: Path, out: Path, marker: Path) -> subprocess.Popen:
    proto = json.dumps(dataclasses.asdict(tiny.protocol))
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(tiny.spec().to_dict()), proto, str(root),
                             str(out), str(marker)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(marker: Path, child: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while not marker.exists():
        if child.poll() is not None:
            raise AssertionError(f"child exited early ({child.returncode}): {child.stderr.read()}")
        if time.time() > deadline:
            child.kill()
            raise AssertionError("child never reached the middle of epoch 2")
        time.sleep(0.02)


def test_sigkill_mid_epoch_then_rerun_gives_identical_metrics(reference, so2sat_root: Path, tiny,
                                                              tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    child = _start_child(tiny, so2sat_root, tmp_path / "out", marker)
    _wait_for(marker, child)
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=60) == -signal.SIGKILL
    ckpt = torch.load(checkpoint_path(tmp_path / "out", tiny.spec()), weights_only=True)
    assert (ckpt["epoch"], ckpt["batch"]) == (1, 0)  # the end-of-epoch-1 checkpoint survived the kill
    assert not record_path(tmp_path / "out", tiny.spec()).exists()
    resumed = train(tiny.spec(), so2sat_root, tmp_path / "out", protocol=tiny.protocol, threads=1)
    assert resumed.status == "ok"
    assert tiny.metrics(resumed) == tiny.metrics(reference)


def test_sigusr1_checkpoints_exits_requeue_and_resumes_identically(reference, so2sat_root: Path, tiny,
                                                                   tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    child = _start_child(tiny, so2sat_root, tmp_path / "out", marker)
    _wait_for(marker, child)
    child.send_signal(signal.SIGUSR1)
    Path(f"{marker}.sent").write_text("sent")
    assert child.wait(timeout=60) == EXIT_REQUEUE == 75
    ckpt = torch.load(checkpoint_path(tmp_path / "out", tiny.spec()), weights_only=True)
    assert (ckpt["epoch"], ckpt["batch"], ckpt["partial"]["seen"]) == (1, 2, 32)
    assert len(ckpt["epochs"]) == 1
    assert not record_path(tmp_path / "out", tiny.spec()).exists()
    resumed = train(tiny.spec(), so2sat_root, tmp_path / "out", protocol=tiny.protocol, threads=1)
    assert tiny.metrics(resumed) == tiny.metrics(reference)
    assert not checkpoint_path(tmp_path / "out", tiny.spec()).exists()
