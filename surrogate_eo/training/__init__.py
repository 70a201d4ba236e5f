"""Ground-truth training: protocols, one run -> one RunRecord, checkpoints, preemption.

Protocols, metrics and the preemption exit code import without torch (a campaign
can be planned where torch is absent); :func:`train` and the checkpoint helpers
load torch on first use and raise :class:`~surrogate_eo.errors.MissingDependencyError`
with the install command when it is missing.

>>> from surrogate_eo.records import RunSpec
>>> from surrogate_eo.training import get_protocol, train
>>> p = get_protocol("smoke")
>>> spec = RunSpec("nb201", "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
...                "so2sat-s2", 0, p.name, p.hash)
>>> import tempfile
>>> from surrogate_eo.data import synthesize
>>> tmp = tempfile.mkdtemp()
>>> _ = synthesize(f"{tmp}/data", n_train=64, n_val=32, n_test=32)         # tiny synthetic So2Sat files
>>> tiny = p.replace(name="doc", epochs=1, train_count=64, val_count=32, test_count=32)
>>> spec = RunSpec(spec.space, spec.arch, spec.task, 0, tiny.name, tiny.hash)
>>> record = train(spec, f"{tmp}/data", f"{tmp}/runs", protocol=tiny, threads=1)
>>> record.status, len(record.epochs), 0.0 <= record.final["val_acc"] <= 1.0
('ok', 1, True)
"""
from __future__ import annotations

import importlib
from typing import Any

from .metrics import classification_metrics, confusion_matrix, metrics_from_confusion
from .protocols import PROTOCOLS, Protocol, get_protocol
from .signals import EXIT_REQUEUE, Preempted, PreemptionGuard

#: Names that need torch, and the submodule defining each (imported on first access).
_LAZY = {
    "train": "trainer", "record_path": "trainer", "checkpoint_path": "trainer",
    "CheckpointWarning": "checkpoint", "load_checkpoint": "checkpoint", "save_checkpoint": "checkpoint",
    "THREADS_ENV": "runtime", "resolve_threads": "runtime",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from .._imports import require_torch

        require_torch(f"surrogate_eo.training.{name}")
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "train", "get_protocol", "PROTOCOLS", "Protocol", "EXIT_REQUEUE", "Preempted", "PreemptionGuard",
    "record_path", "checkpoint_path", "CheckpointWarning", "load_checkpoint", "save_checkpoint",
    "classification_metrics", "confusion_matrix", "metrics_from_confusion", "THREADS_ENV", "resolve_threads",
]
