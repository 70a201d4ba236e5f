"""The data of one run: the three splits of a task and the protocol's subsets of them."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DatasetNotFoundError, DataFormatError
from ..tasks import Task
from .protocols import Protocol


def _subset(labels: np.ndarray, fraction: float | None, count: int | None, seed: int,
            balanced: bool) -> np.ndarray:
    """Sorted indices of the protocol's stratified subset (a count above the split's size = all)."""
    from ..data import stratified_subset

    n = int(labels.shape[0])
    if not balanced and fraction is None and (count is None or count >= n):
        return np.arange(n, dtype=np.int64)
    if fraction is None:
        count = n if count is None else min(int(count), n)
    return np.asarray(stratified_subset(labels, fraction=fraction, count=count, seed=seed, balanced=balanced),
                      dtype=np.int64)


@dataclass
class RunData:
    """Opened splits (lazy) and index subsets; ``val``/``test`` are ``None`` when the version lacks them."""

    train: Any
    val: Any
    test: Any
    train_idx: np.ndarray
    val_idx: np.ndarray | None
    test_idx: np.ndarray | None
    protocol: Protocol
    device: torch.device
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, root: str | Path, task: Task, proto: Protocol, *, device: torch.device) -> RunData:
        """Open the splits of ``task`` under ``root`` and draw the protocol's subsets.

        Raises
        ------
        DatasetNotFoundError
            ``root`` is not a folder or lacks the training file.
        DataFormatError
            An empty training split (other format errors come from :mod:`surrogate_eo.data`).
        """
        from ..data import open_split

        root = Path(root)
        if not root.is_dir():
            raise DatasetNotFoundError(
                f"data root {root} is not a folder; expected a folder with So2Sat LCZ42 HDF5 files "
                f"(training.h5, validation.h5, testing.h5); generate synthetic ones with "
                f"`surrogate-eo data synth --out {root}`")
        train = open_split(root, "train", task=task.name)
        if len(train) == 0:
            raise DataFormatError(f"training split under {root} holds no samples; expected at least one patch")
        notes: list[str] = []
        others: dict[str, Any] = {}
        for name in ("val", "test"):
            try:
                others[name] = open_split(root, name, task=task.name)
            except DatasetNotFoundError as exc:
                others[name] = None
                notes.append(f"no {name} split under {root} ({exc}); {name}_* metrics are NaN")
            else:
                if len(others[name]) == 0:
                    others[name] = None
                    notes.append(f"{name} split under {root} is empty; {name}_* metrics are NaN")
        if others["val"] is None and others["test"] is None:
            raise DatasetNotFoundError(
                f"data root {root} has a training split but neither a validation nor a testing split; "
                f"a run needs at least one to be evaluated on")
        p = proto
        train_idx = _subset(np.asarray(train.labels), p.train_fraction, p.train_count, p.subset_seed, p.balanced)
        idx = {name: (None if s is None else
                      _subset(np.asarray(s.labels), getattr(p, f"{name}_fraction"), getattr(p, f"{name}_count"),
                              p.subset_seed, False))
               for name, s in others.items()}
        return cls(train, others["val"], others["test"], train_idx, idx["val"], idx["test"], p, device, notes)

    @property
    def n_train(self) -> int:
        return int(self.train_idx.shape[0])

    def _kw(self) -> dict[str, Any]:
        return {"device": str(self.device), "cache": self.protocol.cache}

    def train_batches(self, seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of shuffled (and augmented, if the protocol says so) training batches."""
        return iter(self.train.batches(self.train_idx, self.protocol.batch_size, shuffle=True, seed=seed,
                                       augment=self.protocol.augment, **self._kw()))

    def eval_batches(self, split: Any, idx: np.ndarray) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The evaluation subset of ``split`` in order, unaugmented."""
        return iter(split.batches(idx, self.protocol.eval_batch_size, shuffle=False, seed=0, augment=False,
                                  **self._kw()))
