"""Field-by-field validation of a run record's JSON before it enters the database.

:func:`check_record` turns the parsed JSON of one ``<run_id>.json`` file into a
:class:`~surrogate_eo.records.RunRecord`, or raises
:class:`~surrogate_eo.errors.RecordError` with a one-line reason naming the
field and the value. It checks types (strings, integers, lists, objects) and
ranges, so :func:`~surrogate_eo.campaign.collect.collect` can quarantine any
record it could not use instead of failing or admitting impossible values:

- accuracies, macro-F1 and average accuracy are fractions in [0, 1];
- Cohen's kappa lies in [-1, 1];
- the training loss (nats) and every time (seconds) are finite and >= 0;
- ``params`` and ``flops`` are integers, > 0 for a run that trained
  (``ok``/``diverged``) and >= 0 for a ``failed`` one (it may fail before
  the network is built);
- a metric may be ``null`` (not measured, or non-finite in a diverged run),
  never NaN or another type.

Examples
--------
>>> from surrogate_eo.campaign.record_check import check_record
>>> check_record({"schema_version": 1, "status": "ok"}, source="r.json")
Traceback (most recent call last):
...
surrogate_eo.errors.RecordError: r.json: field 'spec' is missing; expected an object with space, arch, task, seed, protocol, protocol_hash
"""
from __future__ import annotations

import math
from typing import Any

from ..errors import RecordError, SurrogateEOError, shown
from ..records import EPOCH_METRICS, RECORD_SCHEMA_VERSION, STATUSES, RunRecord, RunSpec, run_id_for

#: Closed range of each per-epoch metric (None = no upper bound).
METRIC_RANGES: dict[str, tuple[float, float | None]] = {
    m: ((-1.0, 1.0) if m.endswith("kappa") else (0.0, None) if m in ("train_loss", "epoch_seconds") else (0.0, 1.0))
    for m in EPOCH_METRICS
}
_SPEC_STR = ("space", "arch", "task", "protocol", "protocol_hash")


def _fail(source: str, field: str, value: Any, expected: str) -> RecordError:
    return RecordError(f"{source}: field {field} = {shown(value)}: expected {expected}")


def _key(k: Any) -> str:
    """A JSON key as shown in a field name (long or odd keys capped and quoted)."""
    return k if isinstance(k, str) and len(k) <= 40 and k.isprintable() else shown(k, 40)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_spec(d: Any, source: str) -> RunSpec:
    if "spec" not in d:
        raise RecordError(f"{source}: field 'spec' is missing; expected an object with "
                          f"space, arch, task, seed, protocol, protocol_hash")
    spec = d["spec"]
    if not isinstance(spec, dict):
        raise _fail(source, "spec", spec, "an object")
    for key in _SPEC_STR:
        if key not in spec:
            raise RecordError(f"{source}: field spec.{key} is missing")
        if not isinstance(spec[key], str) or not spec[key]:
            raise _fail(source, f"spec.{key}", spec[key], "a non-empty string")
    for key in ("stratum", "run_id"):
        if not isinstance(spec.get(key, ""), str):
            raise _fail(source, f"spec.{key}", spec[key], "a string")
    seed = spec.get("seed")
    if not _is_int(seed) or not 0 <= seed < 2**63:
        raise _fail(source, "spec.seed", seed, "an integer >= 0")
    from ..spaces import SPACES, get_space

    if spec["space"] not in SPACES:
        raise _fail(source, "spec.space", spec["space"], f"one of {', '.join(sorted(SPACES))}")
    try:
        get_space(spec["space"]).from_string(spec["arch"])
    except SurrogateEOError as exc:
        raise RecordError(f"{source}: field spec.arch is not an architecture of its space: {exc}") from None
    rid = run_id_for(spec["space"], spec["arch"], spec["task"], seed, spec["protocol"], spec["protocol_hash"])
    if spec.get("run_id") and spec["run_id"] != rid:
        raise _fail(source, "spec.run_id", spec["run_id"], f"{rid!r}, the id of its spec")
    return RunSpec.from_dict(spec)


def _check_epochs(epochs: Any, source: str) -> list[dict[str, float | None]]:
    if not isinstance(epochs, list):
        raise _fail(source, "epochs", epochs, "a list of per-epoch metric objects")
    out = []
    for i, e in enumerate(epochs):
        if not isinstance(e, dict):
            raise _fail(source, f"epochs[{i}]", e, "an object of metric -> number")
        row: dict[str, float | None] = {}
        for m, v in e.items():
            where = f"epochs[{i}].{_key(m)}"
            if m not in METRIC_RANGES:
                raise RecordError(f"{source}: unknown field {where}; expected metrics {', '.join(EPOCH_METRICS)}")
            if v is None:
                row[m] = None
                continue
            if not _is_number(v) or not math.isfinite(v):
                raise _fail(source, where, v, "a finite number or null")
            lo, hi = METRIC_RANGES[m]
            if v < lo or (hi is not None and v > hi):
                raise _fail(source, where, v, f"a value in [{lo:g}, {hi:g}]" if hi is not None else f"a value >= {lo:g}")
            row[m] = float(v)
        out.append(row)
    return out


def check_record(d: Any, *, source: str = "record") -> RunRecord:
    """Validate the parsed JSON ``d`` of one record; return the :class:`RunRecord`.

    Parameters
    ----------
    d : object
        What ``json.loads`` returned for the file.
    source : str, default="record"
        Name used in messages (the file path).

    Raises
    ------
    RecordError
        On the first bad field, one line naming it, its value (capped) and what was expected.
    """
    if not isinstance(d, dict):
        raise RecordError(f"{source}: expected a JSON object (a run record), got a JSON {type(d).__name__}")
    ver = d.get("schema_version")
    if ver != RECORD_SCHEMA_VERSION:
        raise RecordError(f"{source}: schema_version is {shown(ver)}, this surrogate-eo reads {RECORD_SCHEMA_VERSION}")
    status = d.get("status")
    if status not in STATUSES:
        raise _fail(source, "status", status, f"one of {', '.join(STATUSES)}")
    spec = _check_spec(d, source)
    epochs = _check_epochs(d.get("epochs", []), source)
    lo = 0 if status == "failed" else 1
    for key in ("params", "flops"):
        v = d.get(key, 0)
        if not _is_int(v) or v < lo or v >= 2**63:
            raise _fail(source, key, v, f"an integer >= {lo}" + (" (a trained network has weights and FLOPs)"
                                                                 if lo else ""))
    wall = d.get("wall_seconds", 0.0)
    if not _is_number(wall) or not math.isfinite(wall) or wall < 0:
        raise _fail(source, "wall_seconds", wall, "a finite number of seconds >= 0")
    for key in ("device", "host", "created"):
        if not isinstance(d.get(key, ""), str):
            raise _fail(source, key, d[key], "a string")
    if d.get("error") is not None and not isinstance(d["error"], str):
        raise _fail(source, "error", d["error"], "a string or null")
    notes = d.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise _fail(source, "notes", notes, "a list of strings")
    versions = d.get("versions", {})
    if not isinstance(versions, dict) or not all(isinstance(v, (str, type(None))) for v in versions.values()):
        raise _fail(source, "versions", versions, "an object of library -> version string")
    rec = RunRecord(spec=spec, status=status, epochs=epochs, params=int(d.get("params", 0)),
                    flops=int(d.get("flops", 0)), wall_seconds=float(wall), device=d.get("device", ""),
                    versions=dict(versions), error=d.get("error"), notes=list(notes), host=d.get("host", ""),
                    created=d.get("created", ""))
    if d.get("run_id", rec.run_id) != rec.run_id:
        raise _fail(source, "run_id", d.get("run_id"), f"{rec.run_id!r}, the id of its spec")
    return rec
