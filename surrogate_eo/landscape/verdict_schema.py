"""Every field of a fidelity-verdict JSON (``surrogate-eo fidelity --json``) checked before it is used.

A verdict read from a file is handed to the report, which prints its
comparisons and redraws samples with its footprints' plans. :func:`check_verdict`
checks the whole document first (types, outcomes, finite numbers, plan sizes)
and raises one :class:`~surrogate_eo.errors.LandscapeError` naming the field, so
a damaged or crafted file is a one-line error instead of a traceback deep in
the report, and a plan cannot ask the report to draw a billion points.

>>> from surrogate_eo.landscape.nk import NKLandscape
>>> from surrogate_eo.landscape import SamplingPlan, fidelity
>>> v = fidelity(NKLandscape(8, 1, seed=0), NKLandscape(8, 1, seed=0),
...              plan=SamplingPlan.small(n_climbs=0, n_neutral_walks=0))
>>> check_verdict(v.to_dict())["verdict"]
'faithful'
>>> check_verdict({**v.to_dict(), "ci_level": 7.5})
Traceback (most recent call last):
...
surrogate_eo.errors.LandscapeError: verdict field 'ci_level': expected a number in (0, 1); got 7.5
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from ..errors import LandscapeError, shown
from .footprint import Footprint, SamplingPlan
from .verdict import MODES, SCHEMA

OUTCOMES = ("faithful", "unfaithful", "inconclusive")
#: Footprints a verdict carries (the report needs all three).
SIDES = ("truth", "paired", "distributional")
#: Largest sample size a plan read from a file may ask for (the default plan draws 10,000 points).
MAX_PLAN_SIZE = 1_000_000
#: Most comparisons a verdict may list (every feature key of every mode is a few hundred).
MAX_COMPARISONS = 100_000


def _bad(where: str, expected: str, got: Any) -> LandscapeError:
    return LandscapeError(f"verdict field {where!r}: expected {expected}; got {shown(got, 80)}")


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _num(d: Mapping[str, Any], key: str, where: str, *, required: bool = False, finite: bool = False) -> None:
    """``d[key]`` is a number or null (finite when ``finite``); absent only when not ``required``."""
    if key not in d:
        if required:
            raise LandscapeError(f"verdict lacks the field {where + key!r}")
        return
    v = d[key]
    if v is None and not required:
        return
    if not _is_num(v) or (finite and not math.isfinite(float(v))):
        raise _bad(where + key, "a finite number" if finite else "a number or null", v)


def _str(d: Mapping[str, Any], key: str, where: str, *, choices: tuple[str, ...] | None = None,
         required: bool = False, nullable: bool = True) -> None:
    if key not in d:
        if required:
            raise LandscapeError(f"verdict lacks the field {where + key!r}")
        return
    v = d[key]
    if v is None and nullable and not required:
        return
    if not isinstance(v, str) or (choices is not None and v not in choices):
        raise _bad(where + key, f"one of {', '.join(choices)}" if choices else "a string", v)


def _mapping(d: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> Mapping[str, Any]:
    v = d.get(key)
    if v is None and not required:
        return {}
    if not isinstance(v, Mapping):
        raise _bad(where + key, "an object", v)
    return v


def _pair(v: Any, where: str) -> None:
    """A ``[lo, hi]`` of numbers or nulls (or null)."""
    if v is None:
        return
    if not isinstance(v, (list, tuple)) or len(v) != 2 or not all(x is None or _is_num(x) for x in v):
        raise _bad(where, "[lo, hi] of numbers or nulls", v)


def _runs(v: Any, where: str) -> None:
    """Stratum -> extra runs (non-negative finite numbers)."""
    if not isinstance(v, Mapping) or not all(isinstance(k, str) and _is_num(n) and math.isfinite(float(n))
                                              and n >= 0 for k, n in v.items()):
        raise _bad(where, "an object of stratum -> runs (numbers >= 0)", v)


def _comparison(c: Any, i: int) -> None:
    where = f"comparisons[{i}]."
    if not isinstance(c, Mapping):
        raise _bad(where[:-1], "an object", c)
    _str(c, "feature", where, required=True)
    _str(c, "kind", where, required=True)
    _str(c, "verdict", where, choices=OUTCOMES, required=True)
    _str(c, "key", where)
    _str(c, "reason", where)
    for k in ("truth", "surrogate", "diff"):
        if k not in c:
            raise LandscapeError(f"verdict lacks the field {where + k!r}")
        _num(c, k, where)
    _num(c, "n_units", where)
    for k in ("judged", "rank_invariant"):
        if k in c and not isinstance(c[k], bool):
            raise _bad(where + k, "true or false", c[k])
    if c.get("ci") is None:
        raise LandscapeError(f"verdict lacks the field {where + 'ci'!r} ([lo, hi] of surrogate - truth)")
    _pair(c["ci"], where + "ci")
    _pair(c.get("band"), where + "band")
    tol = _mapping(c, "tolerance", where, required=True)
    _num(tol, "abs", where + "tolerance.", finite=False)
    _num(tol, "ratio", where + "tolerance.", finite=False)
    _str(tol, "why", where + "tolerance.")


_PLAN_DEFAULTS = {f.name: f.default for f in fields(SamplingPlan)}


def check_plan(d: Any, where: str) -> SamplingPlan:
    """The :class:`SamplingPlan` a footprint's ``plan`` object describes, sizes capped at :data:`MAX_PLAN_SIZE`."""
    if not isinstance(d, Mapping):
        raise _bad(where, "an object", d)
    kw: dict[str, Any] = {}
    for k, v in d.items():
        if k not in _PLAN_DEFAULTS:
            continue
        default = _PLAN_DEFAULTS[k]
        if isinstance(default, tuple):
            if not isinstance(v, (list, tuple)) or len(v) > 1000 or not all(_is_num(x) and math.isfinite(float(x))
                                                                            for x in v):
                raise _bad(f"{where}.{k}", "a list of finite numbers", v)
            kw[k] = tuple(v)
        elif isinstance(default, bool) or (default is None and isinstance(v, bool)):
            if not isinstance(v, bool):
                raise _bad(f"{where}.{k}", "true or false", v)
            kw[k] = v
        elif isinstance(default, int):
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_PLAN_SIZE:
                raise _bad(f"{where}.{k}", f"an integer in [0, {MAX_PLAN_SIZE:,}]", v)
            kw[k] = v
        elif isinstance(default, float):
            if not _is_num(v) or not math.isfinite(float(v)):
                raise _bad(f"{where}.{k}", "a finite number", v)
            kw[k] = float(v)
    for n, length in (("n_walks", "walk_length"), ("n_climbs", "climb_max_steps"),
                      ("n_neutral_walks", "neutral_max_steps")):
        if kw.get(n, 1) * kw.get(length, 1) > MAX_PLAN_SIZE:
            raise _bad(f"{where}.{n}", f"{n} x {length} <= {MAX_PLAN_SIZE:,}", f"{kw[n]} x {kw[length]}")
    try:
        return SamplingPlan(**kw)
    except LandscapeError as exc:
        raise LandscapeError(f"verdict field {where!r}: {exc}") from None


def check_verdict(d: Any) -> dict[str, Any]:
    """``d`` if it is a complete fidelity verdict of the current schema, else a one-line :class:`LandscapeError`."""
    if not isinstance(d, Mapping) or d.get("schema") != SCHEMA:
        got = d.get("schema") if isinstance(d, Mapping) else type(d).__name__
        raise LandscapeError(f"not a fidelity verdict (schema {shown(got, 60)}, expected {SCHEMA!r}); "
                             "write one with surrogate-eo fidelity ... --json FILE")
    _str(d, "verdict", "", choices=OUTCOMES, required=True)
    _str(d, "mode", "", choices=MODES, nullable=False)
    verdicts = _mapping(d, "verdicts", "")
    for m, w in verdicts.items():
        if m not in MODES or w not in OUTCOMES:
            raise _bad(f"verdicts.{m}", f"a mode ({', '.join(MODES)}) -> one of {', '.join(OUTCOMES)}", w)
    if "ci_level" in d and not (_is_num(d["ci_level"]) and 0 < float(d["ci_level"]) < 1):
        raise _bad("ci_level", "a number in (0, 1)", d["ci_level"])
    _num(d, "score", "")
    if d.get("runs_needed") is not None:
        _runs(d["runs_needed"], "runs_needed")
    for m, r in _mapping(d, "runs_needed_by_mode", "").items():
        _runs(r, f"runs_needed_by_mode.{m}")
    for m, n in _mapping(d, "counts", "").items():
        if not isinstance(n, Mapping) or not all(_is_num(v) for v in n.values()):
            raise _bad(f"counts.{m}", "an object of outcome -> count", n)
    for k, v in _mapping(d, "agreement", "").items():
        if not (v is None or _is_num(v)):
            raise _bad(f"agreement.{k}", "a number or null", v)
    judge = _mapping(d, "judge", "")
    _str(judge, "paired", "judge.")
    warnings = judge.get("warnings", [])
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise _bad("judge.warnings", "a list of strings", warnings)
    comps = d.get("comparisons")
    if not isinstance(comps, list) or len(comps) > MAX_COMPARISONS:
        raise _bad("comparisons", f"a list of at most {MAX_COMPARISONS:,} comparisons", comps)
    for i, c in enumerate(comps):
        _comparison(c, i)
    fps = _mapping(d, "footprints", "", required=True)
    for side in SIDES:
        fp = fps.get(side)
        if not isinstance(fp, Mapping):
            raise _bad(f"footprints.{side}", "a footprint object", fp)
        try:
            Footprint.from_dict(dict(fp))
        except LandscapeError as exc:
            raise LandscapeError(f"verdict field 'footprints.{side}': {exc}") from None
        check_plan(fp.get("plan", {}), f"footprints.{side}.plan")
        _str(fp, "source", f"footprints.{side}.")
        _str(fp, "space", f"footprints.{side}.")
        seed = fp.get("seed")
        if not (seed is None or isinstance(seed, str) or (type(seed) is int and 0 <= seed < 2 ** 63)):
            raise _bad(f"footprints.{side}.seed", "a non-negative integer, a string or null", seed)
        _mapping(fp, "strata", f"footprints.{side}.")
    _check_maps(fps)
    return dict(d)


def _check_maps(fps: Mapping[str, Any]) -> None:
    """Each feature is a map (numeric keys: epsilons, lags, quantiles) on every side or a scalar on every side."""
    kinds: dict[str, bool] = {}
    for side in SIDES:
        for name, f in fps[side]["features"].items():
            is_map = isinstance(f["value"], Mapping)
            if kinds.setdefault(name, is_map) != is_map:
                raise _bad(f"footprints.{side}.features.{name}", "the same shape (map or number) on every side",
                           f["value"])
            for k in (f["value"] if is_map else ()):
                try:
                    ok = math.isfinite(float(k))
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    raise _bad(f"footprints.{side}.features.{name}", "numeric keys (epsilons, lags, quantiles)", k)


__all__ = ["MAX_COMPARISONS", "MAX_PLAN_SIZE", "OUTCOMES", "SIDES", "check_plan", "check_verdict"]
