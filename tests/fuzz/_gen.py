"""Seeded generators of bad input for the fuzz suite: text mutations and JSON-tree mutations.

Every generator takes a ``numpy.random.Generator`` so a run is reproducible
from its seed; a failing case is reported with its seed and (capped) input.
The mutations aim at what parsers get wrong: truncation, deleted or repeated
spans, structural characters (``| ~ + ; = [ ] { } "``), control and
non-UTF-8 bytes, wrong JSON types, non-finite and huge numbers, unknown keys,
very long strings and very deep nesting.
"""
from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from surrogate_eo.errors import SurrogateEOError, shown

TOKENS = ["|", "~", "+", ";", "=", "[", "]", "{", "}", '"', "'", ",", ":", "\n", "\t", " ", "\x00", "\\", "#",
          "nan", "NaN", "Infinity", "-1", "0", "1e308", "-1e308", "99999999999999999999", "1.5", "true", "null",
          "none~0", "skip_connect~1", "nor_conv_3x3~2", "conv_3x3~0", "cell=", "stem=", "width=", "cells=",
          "reductions=", "[strata.random]", "[campaign]", "n = ", "é", "\u202e", "😀", "\ud7ff"]
#: Longest acceptable error message (user values echoed inside are capped at errors.ECHO_LIMIT).
MAX_MESSAGE = 1000
KEYS = ["n", "length", "seed", "schema_version", "space", "arch", "epochs", "val_acc", "params", "files",
        "meta", "info", "family", "n_jobs", "extra", "", "0", "__class__"]


def mutate_text(rng: np.random.Generator, text: str, n_ops: int | None = None) -> str:
    """``text`` after 1-4 random edits (delete / repeat / insert a token / replace / truncate / nest)."""
    s = text
    for _ in range(int(n_ops or rng.integers(1, 5))):
        op = int(rng.integers(0, 9))
        i = int(rng.integers(0, len(s) + 1))
        j = min(len(s), i + int(rng.integers(0, 12)))
        if op == 0:
            s = s[:i] + s[j:]
        elif op == 1:
            s = s[:i] + s[i:j] * int(rng.integers(2, 6)) + s[j:]
        elif op in (2, 3):
            s = s[:i] + TOKENS[int(rng.integers(len(TOKENS)))] + s[i:]
        elif op == 4 and s:
            s = s[:i] + chr(int(rng.integers(32, 127))) + s[i + 1:]
        elif op == 5:
            s = s[:i]
        elif op == 6:
            s = s.upper() if rng.random() < 0.5 else s.replace(" ", "")
        elif op == 7:
            s = s[:i] + "x" * int(rng.integers(1000, 20_000)) + s[i:]
        else:
            d = int(rng.integers(1, 3000))
            s = s[:i] + "[" * d + "]" * d + s[i:]
    return s


def random_value(rng: np.random.Generator, depth: int = 0) -> Any:
    """A JSON-ish value of a random type, biased towards the edges (NaN, huge, negative, empty, nested)."""
    k = int(rng.integers(0, 14))
    if k == 0:
        return None
    if k == 1:
        return bool(rng.random() < 0.5)
    if k == 2:
        return int(rng.choice([-1, 0, 1, 2, 7, 10**12, -(2**63), 2**64, 10**30]))
    if k == 3:
        return float(rng.choice([math.nan, math.inf, -math.inf, 1e308, -0.0, 0.5, 7.5, -3.25, 1e-320]))
    if k == 4:
        return str(rng.choice(["", "abc", "high", "many", "ok", "nb201", "eo", "0", "-1", "nan"]))
    if k == 5:
        return "y" * int(rng.integers(100, 5000))
    if k == 6 and depth < 3:
        return [random_value(rng, depth + 1) for _ in range(int(rng.integers(0, 4)))]
    if k == 7 and depth < 3:
        return {str(rng.choice(KEYS)): random_value(rng, depth + 1) for _ in range(int(rng.integers(0, 4)))}
    if k == 8:
        v: Any = 1
        for _ in range(int(rng.integers(50, 400))):
            v = [v]
        return v
    if k == 9:
        return [1, 2]
    if k == 10:
        return {}
    if k == 11:
        return float(rng.normal())
    if k == 12:
        return int(rng.integers(-5, 100))
    return "\x00\ud800"[: int(rng.integers(0, 2))]


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:20]):
            out += _paths(v, prefix + (i,))
    return out


def mutate_tree(rng: np.random.Generator, obj: Any, n_ops: int | None = None) -> Any:
    """A deep copy of ``obj`` with 1-3 nodes replaced by random values, deleted, or given an unknown key."""
    obj = copy.deepcopy(obj)
    for _ in range(int(n_ops or rng.integers(1, 4))):
        paths = _paths(obj)
        path = paths[int(rng.integers(len(paths)))]
        if not path:
            if rng.random() < 0.2:
                return random_value(rng)
            continue
        parent = obj
        for p in path[:-1]:
            parent = parent[p]
        key = path[-1]
        op = rng.random()
        if op < 0.6:
            parent[key] = random_value(rng)
        elif op < 0.8 and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent[str(rng.choice(KEYS))] = random_value(rng)
        elif isinstance(parent, list):
            parent.append(random_value(rng))
    return obj


class Outcome:
    """Counts of one fuzz run: inputs tried, accepted (a valid result) and refused (a SurrogateEOError)."""

    def __init__(self) -> None:
        self.tried = self.accepted = self.refused = 0

    def __repr__(self) -> str:
        return f"{self.tried} inputs: {self.accepted} accepted, {self.refused} refused"


def check(fn: Callable[..., Any], arg: Any, outcome: Outcome, seed: int,
          validate: Callable[[Any], None] | None = None) -> Any:
    """Call ``fn(arg)``: a result (checked by ``validate``) or a one-line SurrogateEOError, never another exception."""
    outcome.tried += 1
    try:
        res = fn(arg)
    except SurrogateEOError as exc:
        outcome.refused += 1
        msg = str(exc)
        assert msg and len(msg) < MAX_MESSAGE and "\n" not in msg.strip(), \
            f"seed {seed}: message of {len(msg)} chars ({shown(msg, 200)}) for input {shown(arg, 300)}"
        return None
    except Exception as exc:  # noqa: BLE001 - this is exactly what the fuzz suite must never see
        raise AssertionError(f"seed {seed}: {type(exc).__name__}: {shown(str(exc), 300)} "
                             f"for input {shown(arg, 300)}") from exc
    outcome.accepted += 1
    if validate is not None:
        validate(res)
    return res


def listing(folder: Path) -> list[str]:
    """Every path under ``folder`` (relative, sorted): to assert that nothing was left behind."""
    return sorted(str(Path(dp, f).relative_to(folder)) for dp, dn, fs in os.walk(folder) for f in fs + dn)
