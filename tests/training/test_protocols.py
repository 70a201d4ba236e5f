"""Protocols: registry, hashing (part of the run identity), validation, torch-free import."""
from __future__ import annotations

import subprocess
import sys

import pytest

from surrogate_eo.errors import SurrogateEOError, UnknownProtocolError
from surrogate_eo.records import RunSpec
from surrogate_eo.training import PROTOCOLS, Protocol, get_protocol


def test_registry_holds_default_and_smoke() -> None:
    d, s = get_protocol("so2sat-default"), get_protocol("smoke")
    assert {"so2sat-default", "smoke"} <= set(PROTOCOLS)
    assert (d.momentum, d.nesterov, d.weight_decay, d.schedule) == (0.9, True, 5e-4, "cosine")
    assert 30 <= d.epochs <= 50 and d.augment
    assert s.epochs <= 3 and s.train_count is not None and s.train_count <= 1000
    assert get_protocol(s) is s


def test_hash_is_stable_and_changes_with_any_field() -> None:
    s = get_protocol("smoke")
    assert s.hash == Protocol(**{f: getattr(s, f) for f in s.__dataclass_fields__}).hash
    assert len(s.hash) == 16 and int(s.hash, 16) >= 0
    assert s.replace(lr=0.051).hash != s.hash
    assert s.replace(version=s.version + 1).hash != s.hash
    assert len({p.hash for p in PROTOCOLS.values()}) == len(PROTOCOLS)


def test_hash_enters_run_id() -> None:
    s = get_protocol("smoke")
    a = RunSpec("nb201", "x", "so2sat-s2", 0, s.name, s.hash)
    b = RunSpec("nb201", "x", "so2sat-s2", 0, s.name, s.replace(epochs=s.epochs + 1).hash)
    assert a.run_id != b.run_id


def test_unknown_protocol_lists_known_names() -> None:
    with pytest.raises(UnknownProtocolError, match="so2sat-default") as info:
        get_protocol("fast")
    assert isinstance(info.value, SurrogateEOError)


@pytest.mark.parametrize("changes, field", [
    ({"epochs": 0}, "epochs"), ({"lr": -1.0}, "lr"), ({"momentum": 1.0}, "momentum"),
    ({"schedule": "step"}, "schedule"), ({"train_fraction": 0.5, "train_count": 10}, "train_count"),
    ({"val_fraction": 1.5}, "val_fraction"), ({"momentum": 0.0, "nesterov": True}, "nesterov"),
    ({"batch_size": 2.5}, "batch_size"), ({"bogus": 1}, "bogus"),
])
def test_invalid_fields_are_named(changes: dict, field: str) -> None:
    with pytest.raises(UnknownProtocolError, match=field):
        get_protocol("smoke").replace(**changes)


def test_protocols_import_without_torch() -> None:
    code = ("import sys; sys.modules['torch'] = None\n"
            "from surrogate_eo.training import get_protocol, EXIT_REQUEUE\n"
            "print(get_protocol('smoke').hash, EXIT_REQUEUE)\n"
            "try:\n    from surrogate_eo.training import train\nexcept Exception as e:\n    print(type(e).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [get_protocol("smoke").hash, "75", "MissingDependencyError"]
