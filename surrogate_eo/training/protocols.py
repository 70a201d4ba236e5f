"""Training protocols: named, versioned, frozen configurations of a ground-truth run.

A protocol fixes everything about *how* an architecture is trained (optimiser,
schedule, epochs, data subset, augmentation, evaluation subsets). Its
:attr:`Protocol.hash` (sha256 of its canonical JSON, 16 hex digits) is part of
every :class:`~surrogate_eo.records.RunSpec`'s identity, so changing any field
gives new run ids and never mixes results of two protocols.

This module does not import torch.

>>> from surrogate_eo.training.protocols import get_protocol
>>> p = get_protocol("smoke")
>>> p.name, p.epochs, len(p.hash)
('smoke', 2, 16)
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..errors import UnknownProtocolError

PROTOCOL_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Protocol:
    """How one ground-truth run is trained and evaluated.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"so2sat-default"``.
    version : int
        Bumped whenever the protocol's meaning changes (it is hashed).
    epochs : int
        Training epochs.
    batch_size : int
        Training mini-batch size, samples.
    lr : float
        Peak learning rate of SGD.
    momentum : float
        SGD momentum.
    nesterov : bool
        Nesterov momentum.
    weight_decay : float
        L2 penalty of SGD (applied to every parameter, as NAS-Bench-201 does).
    schedule : str
        ``"cosine"`` (per-step cosine decay to 0 after ``warmup_epochs`` of linear
        warm-up) or ``"constant"``.
    warmup_epochs : float
        Linear warm-up length, epochs (may be fractional).
    grad_clip : float or None
        Gradient-norm clip (L2 over all parameters); ``None`` disables it.
    label_smoothing : float
        Cross-entropy label smoothing in [0, 1).
    train_fraction, train_count : float or int or None
        Size of the stratified training subset (a fraction of the training split or a
        sample count; both ``None`` = the whole split).
    balanced : bool
        Draw the training subset class-balanced instead of class-proportional.
    val_fraction, val_count, test_fraction, test_count : float or int or None
        Sizes of the stratified evaluation subsets (``None`` and ``None`` = whole split).
    subset_seed : int
        Seed of every subset draw. It belongs to the protocol, not the run, so all
        runs of a protocol see the same training and evaluation patches.
    augment : bool
        Random horizontal/vertical flips and 90-degree rotations of training patches.
    cache : bool
        Hold the training subset in memory after the first epoch (small subsets only).
    eval_batch_size : int
        Batch size of evaluation, samples.
    """

    name: str
    version: int = 1
    epochs: int = 40
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    warmup_epochs: float = 0.0
    grad_clip: float | None = 5.0
    label_smoothing: float = 0.0
    train_fraction: float | None = None
    train_count: int | None = None
    balanced: bool = False
    val_fraction: float | None = None
    val_count: int | None = None
    test_fraction: float | None = None
    test_count: int | None = None
    subset_seed: int = 0
    augment: bool = True
    cache: bool = False
    eval_batch_size: int = 512

    def __post_init__(self) -> None:
        def bad(field: str, expected: str) -> UnknownProtocolError:
            return UnknownProtocolError(
                f"protocol {self.name!r}: field {field}={getattr(self, field)!r} is invalid; expected {expected}")

        if not isinstance(self.name, str) or not self.name:
            raise UnknownProtocolError(f"protocol name must be a non-empty string, got {self.name!r}")
        for f in ("version", "epochs", "batch_size", "eval_batch_size"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise bad(f, "an integer >= 1")
        if not self.lr > 0:
            raise bad("lr", "a learning rate > 0")
        if not 0 <= self.momentum < 1:
            raise bad("momentum", "a value in [0, 1)")
        if self.nesterov and self.momentum == 0:
            raise bad("nesterov", "False when momentum is 0 (Nesterov needs momentum)")
        if self.weight_decay < 0:
            raise bad("weight_decay", ">= 0")
        if self.schedule not in ("cosine", "constant"):
            raise bad("schedule", "'cosine' or 'constant'")
        if not 0 <= self.warmup_epochs <= self.epochs:
            raise bad("warmup_epochs", f"a value in [0, epochs={self.epochs}]")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise bad("grad_clip", "None or a norm > 0")
        if not 0 <= self.label_smoothing < 1:
            raise bad("label_smoothing", "a value in [0, 1)")
        for prefix in ("train", "val", "test"):
            frac, count = getattr(self, f"{prefix}_fraction"), getattr(self, f"{prefix}_count")
            if frac is not None and count is not None:
                raise bad(f"{prefix}_count", f"None when {prefix}_fraction is set (give one of the two)")
            if frac is not None and not 0 < frac <= 1:
                raise bad(f"{prefix}_fraction", "a fraction in (0, 1]")
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
                raise bad(f"{prefix}_count", "an integer >= 1")

    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-able dict (the hashed content, plus the schema version)."""
        d = dataclasses.asdict(self)
        d["schema_version"] = PROTOCOL_SCHEMA_VERSION
        return d

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`to_dict`, first 16 hex digits."""
        canon = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:16]

    def replace(self, **changes: Any) -> Protocol:
        """A copy with ``changes`` applied (give it a new ``name`` when it is a new protocol)."""
        try:
            return dataclasses.replace(self, **changes)
        except TypeError as exc:
            fields = ", ".join(f.name for f in dataclasses.fields(self))
            raise UnknownProtocolError(f"protocol {self.name!r}: {exc}; fields are {fields}") from None


#: The registered protocols. ``so2sat-default`` is the ground-truth protocol; ``smoke``
#: is small enough to train ~40 median-size runs in a few minutes on 2 CPU cores.
PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            name="so2sat-default",
            epochs=40,
            batch_size=128,
            lr=0.1,
            momentum=0.9,
            nesterov=True,
            weight_decay=5e-4,
            schedule="cosine",
            warmup_epochs=1.0,
            grad_clip=5.0,
            train_fraction=0.25,
            balanced=False,
            augment=True,
            cache=False,
            eval_batch_size=512,
        ),
        Protocol(
            name="smoke",
            version=2,
            epochs=2,
            batch_size=16,
            lr=0.05,
            momentum=0.9,
            nesterov=True,
            weight_decay=5e-4,
            schedule="cosine",
            warmup_epochs=0.0,
            grad_clip=5.0,
            train_count=128,
            val_count=128,
            test_count=128,
            augment=True,
            cache=True,
            eval_batch_size=32,  # 25 % less CPU per patch than 128 on one thread (cache-resident activations)
        ),
    )
}


def get_protocol(name: str | Protocol) -> Protocol:
    """Return the registered protocol called ``name`` (a :class:`Protocol` passes through).

    Raises
    ------
    UnknownProtocolError
        When ``name`` is not registered; the message lists the registered names.
    """
    if isinstance(name, Protocol):
        return name
    try:
        return PROTOCOLS[name]
    except (KeyError, TypeError):
        raise UnknownProtocolError(
            f"unknown training protocol {name!r}; expected one of {', '.join(sorted(PROTOCOLS))} "
            f"(or pass a Protocol object to train(..., protocol=...))") from None
