"""Fixtures of the campaign tests: tiny synthetic So2Sat data, cheap manifests, fake records."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from surrogate_eo.records import EPOCH_METRICS, RunRecord, RunSpec

#: Cheap eo archs (16 channels, 1 cell per stage, 2 reductions): ~1 s per smoke run on one core.
CHEAP = [
    "cell=|conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|;stem=conv3x3;width=16;cells=1;reductions=2",
    "cell=|avg_pool_3x3~0|+|skip_connect~0|conv_1x1~1|+|none~0|none~1|skip_connect~2|;stem=conv3x3;width=16;cells=1;reductions=2",
    "cell=|skip_connect~0|+|conv_1x1~0|none~1|+|none~0|skip_connect~1|none~2|;stem=conv3x3;width=16;cells=1;reductions=2",
    "cell=|max_pool_3x3~0|+|skip_connect~0|none~1|+|conv_1x1~0|none~1|skip_connect~2|;stem=spectral;width=16;cells=1;reductions=2",
    "cell=|conv_1x1~0|+|none~0|skip_connect~1|+|none~0|avg_pool_3x3~1|skip_connect~2|;stem=spectral;width=16;cells=1;reductions=2",
    "cell=|se~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|;stem=conv3x3;width=16;cells=1;reductions=2",
    "cell=|conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|max_pool_3x3~2|;stem=conv3x3;width=16;cells=1;reductions=2",
    "cell=|skip_connect~0|+|skip_connect~0|conv_1x1~1|+|none~0|none~1|skip_connect~2|;stem=spectral;width=16;cells=1;reductions=2",
    "cell=|conv_1x1~0|+|conv_1x1~0|none~1|+|none~0|none~1|skip_connect~2|;stem=conv3x3;width=16;cells=1;reductions=2",
    "cell=|avg_pool_3x3~0|+|conv_1x1~0|none~1|+|skip_connect~0|none~1|skip_connect~2|;stem=spectral;width=16;cells=1;reductions=2",
]
#: A slower arch (~1-3 s per epoch): long enough to be preempted mid-run.
# slow enough that a signal sent after its first epoch checkpoint lands mid-run (smoke: 2 epochs)
SLOW = "cell=|conv_3x3~0|+|conv_3x3~0|conv_3x3~1|+|conv_3x3~0|conv_3x3~1|conv_3x3~2|;stem=conv3x3;width=32;cells=3;reductions=0"


def fake_record(arch: str, task: str = "so2sat-s2", seed: int = 0, status: str = "ok", val: float = 0.5,
                epochs: int = 3, space: str = "eo", stratum: str = "random", protocol: str = "smoke",
                protocol_hash: str = "0" * 16) -> RunRecord:
    """A record without training: val_acc rises linearly to ``val`` over ``epochs``."""
    spec = RunSpec(space, arch, task, seed, protocol, protocol_hash, stratum)
    eps = []
    for e in range(epochs):
        f = (e + 1) / epochs
        row = {m: 0.1 * f for m in EPOCH_METRICS}
        row.update(val_acc=val * f, test_acc=val * f * 0.9, train_loss=2.0 - f, epoch_seconds=1.0)
        eps.append(row)
    return RunRecord(spec=spec, status=status, epochs=eps, params=1000, flops=5000, wall_seconds=float(epochs),
                     device="cpu (1 thread)", host="test", created="2026-01-01T00:00:00+00:00")


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic So2Sat v2 files: 64 training, 32 validation, 32 test patches (uncompressed)."""
    pytest.importorskip("torch")
    from surrogate_eo.data import synthesize

    root = tmp_path_factory.mktemp("so2sat-tiny")
    synthesize(root, version=2, n_train=64, n_val=32, n_test=32, seed=0, compression=None)
    return root


@pytest.fixture
def cli_env() -> dict[str, str]:
    """Environment for CLI subprocesses: one thread per run, repo importable."""
    env = dict(os.environ)
    env.update(SURROGATE_EO_THREADS="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return env


def run_cli(args: list[str], env: dict[str, str] | None = None, timeout: float = 300,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m surrogate_eo.cli ARGS`` in a subprocess."""
    return subprocess.run([sys.executable, "-m", "surrogate_eo.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=cwd)


def have_slurm() -> bool:
    return shutil.which("sbatch") is not None and shutil.which("squeue") is not None


@pytest.fixture
def make_record():
    """The :func:`fake_record` factory."""
    return fake_record


@pytest.fixture
def cli():
    """The :func:`run_cli` runner."""
    return run_cli


@pytest.fixture
def cheap_archs() -> list[str]:
    return list(CHEAP)


@pytest.fixture
def slow_arch() -> str:
    return SLOW
