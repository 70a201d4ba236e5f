"""RunSpec and RunRecord: the contract between campaign, trainer and database.

A :class:`RunSpec` says what to train; a :class:`RunRecord` says what came
out. Records are one JSON file each, written atomically. Metrics are
fractions in [0, 1] (losses are nats); times are seconds.

The ``run_id`` is a stable hash of ``(space, arch, task, seed, protocol,
protocol_hash)``. The stratum that planned a run is *not* part of its
identity: an arch that a walk and a neighbourhood both visit is trained once,
and the manifest maps every planned entry (stratum, group, position) to its
run_id.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._io import atomic_write_json
from .errors import RecordError

RECORD_SCHEMA_VERSION = 1

#: Status values of a finished run.
STATUSES = ("ok", "diverged", "failed")

#: Per-epoch metric names a record carries (fractions unless noted).
EPOCH_METRICS = (
    "train_loss",  # mean cross-entropy over the epoch, nats
    "train_acc",
    "val_acc", "val_kappa", "val_f1", "val_aa",      # overall acc, Cohen's kappa, macro-F1, average (per-class) acc
    "test_acc", "test_kappa", "test_f1", "test_aa",
    "epoch_seconds",  # wall seconds of the epoch's training + evaluation
)


def run_id_for(space: str, arch: str, task: str, seed: int, protocol: str, protocol_hash: str) -> str:
    """Stable 16-hex-digit id of a run (same inputs -> same id, on every platform)."""
    payload = json.dumps([space, arch, task, int(seed), protocol, protocol_hash], separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RunSpec:
    """What to train: one architecture, on one task, with one seed, under one protocol."""

    space: str
    arch: str
    task: str
    seed: int
    protocol: str
    protocol_hash: str
    stratum: str = ""
    run_id: str = ""

    def __post_init__(self) -> None:
        rid = run_id_for(self.space, self.arch, self.task, self.seed, self.protocol, self.protocol_hash)
        if self.run_id and self.run_id != rid:
            raise RecordError(f"run_id {self.run_id!r} does not match its spec (expected {rid!r})")
        object.__setattr__(self, "run_id", rid)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        try:
            return cls(**{k: d[k] for k in ("space", "arch", "task", "seed", "protocol", "protocol_hash")},
                       stratum=d.get("stratum", ""), run_id=d.get("run_id", ""))
        except KeyError as exc:
            raise RecordError(f"run spec lacks field {exc.args[0]!r}") from None


@dataclass
class RunRecord:
    """What a run produced. ``epochs`` holds one dict per finished epoch with :data:`EPOCH_METRICS`."""

    spec: RunSpec
    status: str
    epochs: list[dict[str, float]] = field(default_factory=list)
    params: int = 0
    flops: int = 0            # forward FLOPs of one 32x32 sample (torch.utils.flop_counter)
    wall_seconds: float = 0.0
    device: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "corrupt checkpoint ignored, restarted"
    host: str = ""
    created: str = ""
    schema_version: int = RECORD_SCHEMA_VERSION

    @property
    def run_id(self) -> str:
        return self.spec.run_id

    @property
    def final(self) -> dict[str, float]:
        """Metrics of the last finished epoch (empty when none finished)."""
        return dict(self.epochs[-1]) if self.epochs else {}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["spec"] = self.spec.to_dict()
        d["run_id"] = self.run_id
        d["final"] = self.final
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "record") -> RunRecord:
        if not isinstance(d, dict):
            raise RecordError(f"{source}: expected a JSON object, got {type(d).__name__}")
        ver = d.get("schema_version")
        if ver != RECORD_SCHEMA_VERSION:
            raise RecordError(f"{source}: schema_version is {ver!r}, this surrogate-eo reads {RECORD_SCHEMA_VERSION}")
        if d.get("status") not in STATUSES:
            raise RecordError(f"{source}: status {d.get('status')!r} is not one of {', '.join(STATUSES)}")
        try:
            spec = RunSpec.from_dict(d["spec"])
        except (KeyError, TypeError) as exc:
            raise RecordError(f"{source}: bad or missing 'spec' ({exc})") from None
        fields = {k: d[k] for k in ("epochs", "params", "flops", "wall_seconds", "device", "versions",
                                     "error", "notes", "host", "created") if k in d}
        rec = cls(spec=spec, status=d["status"], **fields)
        if d.get("run_id", rec.run_id) != rec.run_id:
            raise RecordError(f"{source}: run_id {d.get('run_id')!r} does not match its spec ({rec.run_id})")
        return rec

    def save(self, path: str | Path) -> None:
        """Write the record atomically as one JSON file."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> RunRecord:
        """Read a record; raise :class:`RecordError` naming the file on any problem."""
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RecordError(f"record file {path} does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RecordError(f"record file {path} is not valid JSON (truncated?): {exc}") from None
        return cls.from_dict(d, source=str(path))
