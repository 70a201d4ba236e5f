"""Fixtures of the trainer tests: tiny synthetic So2Sat data, a tiny protocol, a cheap arch."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("torch")

from surrogate_eo.records import RunSpec  # noqa: E402
from surrogate_eo.training import Protocol, get_protocol  # noqa: E402

#: A cheap eo architecture (33 MFLOPs per 10-band patch; ~1 s per tiny run on 1 thread).
ARCH = ("cell=|conv_3x3~0|+|skip_connect~0|conv_1x1~1|+|none~0|skip_connect~1|avg_pool_3x3~2|;"
        "stem=conv3x3;width=16;cells=1;reductions=2")

#: Two epochs of 4 batches; 32 validation and 32 test patches.
TINY: Protocol = get_protocol("smoke").replace(
    name="test-tiny", epochs=2, batch_size=16, train_count=64, val_count=32, test_count=32, eval_batch_size=32)


def tiny_spec(seed: int = 0, task: str = "so2sat-s2", arch: str = ARCH, protocol: Protocol = TINY) -> RunSpec:
    return RunSpec("eo", arch, task, seed, protocol.name, protocol.hash)


@pytest.fixture(scope="session")
def so2sat_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic So2Sat v2 files: 96 train / 48 val / 48 test patches, uncompressed."""
    from surrogate_eo.data import synthesize

    root = tmp_path_factory.mktemp("so2sat")
    synthesize(root, version=2, n_train=96, n_val=48, n_test=48, seed=0, compression=None)
    return root


@pytest.fixture(scope="session")
def reference(so2sat_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """The uninterrupted tiny run every resume test must reproduce exactly."""
    from surrogate_eo.training import train

    return train(tiny_spec(), so2sat_root, tmp_path_factory.mktemp("reference"), protocol=TINY, threads=1)


def metrics_of(record) -> list[dict[str, float]]:
    """Per-epoch metrics without the wall-clock seconds (those differ between runs)."""
    return [{k: v for k, v in e.items() if k != "epoch_seconds"} for e in record.epochs]


@pytest.fixture(scope="session")
def tiny() -> SimpleNamespace:
    """Helpers for test modules (``--import-mode=importlib`` forbids importing conftest)."""
    return SimpleNamespace(protocol=TINY, arch=ARCH, spec=tiny_spec, metrics=metrics_of)
