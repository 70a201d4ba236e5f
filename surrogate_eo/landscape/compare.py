"""Compare any two landscapes, feature by feature: ``surrogate-eo landscape compare A B``.

Each side is a **footprint** (JSON, :class:`~.footprint.Footprint`) or a
**source** (table column, database task, surrogate task). For every feature
(and key of a map feature) both have, the comparison reports A, B, the
difference ``B - A``, a confidence interval and whether it is significant,
with the family-wise error controlled over all reported differences:

- **from two sources** — a joint bootstrap: one replicate resamples every
  stratum's units once (walks, centres, points), so the correlation between
  features is kept; when both sides were analysed on the *same* archs (two
  columns of one table, two tasks of one campaign) the resamples are shared and
  the difference is **paired**. Simultaneous intervals come from
  :func:`~.simultaneous.judge_differences` (studentised max-statistic bootstrap,
  the verdict's error control); a difference backed by fewer than
  :data:`~.tolerances.MIN_UNITS` units is ``inconclusive``;
- **from two footprint JSONs** — only each side's marginal interval exists:
  they are combined by Newcombe's square-and-add rule (the difference's
  interval from the two one-sided half-widths), each half-width rescaled by
  ``z(Sidak) / z(level)`` so the family of ``K`` intervals holds
  simultaneously (Šidák: per-interval level ``level ** (1 / K)``). Exact
  features have zero-width intervals: any non-zero exact difference is
  significant.

>>> from surrogate_eo.landscape.nk import NKLandscape
>>> from surrogate_eo.landscape import SamplingPlan
>>> c = compare_landscapes(NKLandscape(10, 1, seed=0), NKLandscape(10, 1, seed=0),
...                        plan=SamplingPlan.small(n_climbs=0, n_neutral_walks=0))
>>> c.method, c.n_significant
('paired bootstrap, simultaneous (studentised max-statistic)', 0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

from .._io import atomic_write_json
from ..errors import LandscapeError
from .features import REGISTRY, LandscapeData
from .features._base import full_idx, resample, run_stat
from .footprint import Footprint, SamplingPlan, collect, footprint
from .sources import FitnessSource, check_source, is_complete, open_source

SCHEMA = "surrogate-eo/landscape-compare/1"


@dataclass(frozen=True)
class Difference:
    """One feature (one key of a map feature): A, B, B - A, its interval, and the outcome."""

    feature: str
    key: str | None
    a: float
    b: float
    ci: tuple[float, float]
    outcome: str
    n_units: int | None = None

    @property
    def difference(self) -> float:
        return self.b - self.a

    @property
    def significant(self) -> bool:
        return self.outcome == "significant"

    @property
    def label(self) -> str:
        return self.feature if self.key is None else f"{self.feature}[{self.key}]"

    def to_dict(self) -> dict[str, Any]:
        return {"a": _num(self.a), "b": _num(self.b), "difference": _num(self.difference),
                "ci": [_num(self.ci[0]), _num(self.ci[1])], "significant": self.significant,
                "outcome": self.outcome, "n_units": self.n_units}


def _num(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass
class LandscapeComparison:
    """Every difference between two landscapes, and how its intervals were made."""

    a: str
    b: str
    space: str
    method: str
    level: float
    differences: list[Difference]
    notes: list[str] = field(default_factory=list)

    @property
    def n_significant(self) -> int:
        return sum(d.significant for d in self.differences)

    def __getitem__(self, label: str) -> Difference:
        for d in self.differences:
            if d.label == label:
                return d
        raise LandscapeError(f"the comparison has no feature {label!r}; it has "
                             f"{', '.join(d.label for d in self.differences)}")

    def to_dict(self) -> dict[str, Any]:
        """``{"features": {name: record}}``; a map feature is ``name -> key -> record`` (as in footprints)."""
        feats: dict[str, Any] = {}
        for d in self.differences:
            if d.key is None:
                feats[d.feature] = d.to_dict()
            else:
                feats.setdefault(d.feature, {})[d.key] = d.to_dict()
        return {"schema": SCHEMA, "a": self.a, "b": self.b, "space": self.space, "method": self.method,
                "level": self.level, "n_significant": self.n_significant, "n_compared": len(self.differences),
                "notes": list(self.notes), "features": feats}

    def save(self, path: str | Path) -> None:
        atomic_write_json(path, self.to_dict())

    def rows(self) -> list[tuple[str, ...]]:
        """Text rows ``(feature, A, B, B - A, CI, outcome)``."""
        return [(d.label, f"{d.a:.4g}", f"{d.b:.4g}", f"{d.difference:+.4g}",
                 f"[{d.ci[0]:+.3g}, {d.ci[1]:+.3g}]", d.outcome) for d in self.differences]


# ------------------------------------------------------------------ inputs
def load_footprint(path: str | Path) -> Footprint:
    """A footprint JSON of the current schema (:meth:`Footprint.load`; another schema version is refused)."""
    return Footprint.load(path)


def _side(x: Footprint | FitnessSource | str | Path, space: str) -> Footprint | FitnessSource:
    """A footprint (object or JSON path) or a source (object or spec)."""
    if isinstance(x, Footprint):
        return x
    if isinstance(x, (str, Path)) and str(x).endswith(".json"):
        return load_footprint(x)
    if isinstance(x, (str, Path)):
        return open_source(str(x), space=space)
    return check_source(x)


# ------------------------------------------------------------------ two footprints
def sidak_z(level: float, k: int) -> float:
    """Two-sided normal quantile of the per-interval level ``level ** (1 / k)`` (Šidák).

    >>> round(sidak_z(0.95, 1), 3), round(sidak_z(0.95, 10), 3)
    (1.96, 2.8)
    """
    per = float(level) ** (1.0 / max(int(k), 1))
    return float(norm.ppf(0.5 + per / 2))


def _values(f: Any) -> list[tuple[str | None, float, float, float]]:
    if isinstance(f.value, dict):
        return [(k, float(v), float(f.ci[k][0]), float(f.ci[k][1])) for k, v in f.value.items()]
    return [(None, float(f.value), float(f.ci[0]), float(f.ci[1]))]


def compare_footprints(a: Footprint, b: Footprint, level: float = 0.95,
                       features: list[str] | None = None) -> LandscapeComparison:
    """Differences of two footprints from their marginal intervals (Newcombe + Šidák; see the module doc)."""
    if a.space != b.space and "?" not in (a.space, b.space):
        raise LandscapeError(f"footprint A ({a.source}) is of space {a.space!r}, B ({b.source}) of {b.space!r}; "
                             "compare landscapes of one space")
    names = [n for n in a.features if n in b.features and (features is None or n in features)]
    rows = []
    for n in names:
        va, vb = {k: r for k, *r in _values(a.features[n])}, {k: r for k, *r in _values(b.features[n])}
        for k in va:
            if k in vb and all(math.isfinite(x) for x in (*va[k], *vb[k])):
                rows.append((n, k, va[k], vb[k]))
    K = len(rows)
    z_a = float(norm.ppf(0.5 + float(a.plan.get("ci_level", 0.95)) / 2))
    z_b = float(norm.ppf(0.5 + float(b.plan.get("ci_level", 0.95)) / 2))
    z_s = sidak_z(level, K)
    diffs = []
    for n, k, (xa, la, ha), (xb, lb, hb) in rows:
        d = xb - xa
        lo = d - math.hypot((xb - lb) * z_s / z_b, (ha - xa) * z_s / z_a)
        hi = d + math.hypot((hb - xb) * z_s / z_b, (xa - la) * z_s / z_a)
        out = "significant" if (lo > 0 or hi < 0) else "not significant"
        diffs.append(Difference(n, k, xa, xb, (lo, hi), out, None))
    method = (f"Newcombe square-and-add of the footprints' marginal intervals, Sidak-adjusted over {K} "
              f"differences (per-interval level {float(level) ** (1 / max(K, 1)):.5f})")
    notes = ["from footprints only the marginal intervals exist: the adjustment assumes nothing about the "
             "features' correlation, so it is conservative; compare the sources for a joint bootstrap"]
    return LandscapeComparison(a.source, b.source, a.space, method, level, diffs, notes)


# ------------------------------------------------------------------ two sources
def _same_archs(da: LandscapeData, db: LandscapeData) -> bool:
    sa, sb = da.cache.get("strata"), db.cache.get("strata")
    if sa is None or sb is None:
        return False
    if sa is sb:
        return True
    for x, y in ((sa.points, sb.points), (sa.walks, sb.walks), (sa.centres, sb.centres), (sa.edges, sb.edges)):
        if (x is None) != (y is None) or (x is not None and (x.shape != y.shape or not np.array_equal(x, y))):
            return False
    return True


def _units_min() -> dict[str, int]:
    from .tolerances import MIN_UNITS

    return dict(MIN_UNITS)


def _collect_columns(da: LandscapeData, db: LandscapeData, names: list[str], paired: bool, idx: Any,
                     meta: list, cols: list, reps: list, ns: list) -> None:
    """Append each feature's point differences, bootstrap replicates and units (see :func:`compare_data`)."""
    for name in names:
        sa, sb = REGISTRY[name].resolve(da), REGISTRY[name].resolve(db)
        if sa is None or sb is None or not sa.pairable or not sb.pairable or sa.unit != sb.unit:
            continue
        if paired and sa is not sb:
            continue
        va = run_stat(sa, da, full_idx(da.n_units(sa.unit)))[0]
        vb = run_stat(sb, db, full_idx(db.n_units(sb.unit)))[0]
        keys = sa.keys(da) if sa.keys else [None]
        if va.shape != vb.shape or (sb.keys and sb.keys(db) != keys):
            continue
        ia, sca = idx("a", da, sa.unit)
        ib, scb = idx("b", db, sb.unit)
        ra, rb = run_stat(sa, da, ia), run_stat(sb, db, ib)
        rep = (vb - va)[None] + scb * (rb - vb[None]) - sca * (ra - va[None])
        n = min(da.n_units(sa.unit), db.n_units(sb.unit))
        for j, k in enumerate(keys):
            meta.append((name, k, float(va[j]), float(vb[j]), n, sa.unit))
            cols.append(float(vb[j] - va[j]))
            reps.append(rep[:, j])
            ns.append(n)


def compare_data(da: LandscapeData, db: LandscapeData, *, n_boot: int = 400, level: float = 0.95,
                 boot_max: int = 5000, seed: int = 0, features: list[str] | None = None,
                 paired: bool | None = None) -> tuple[list[Difference], str]:
    """Joint-bootstrap differences ``db - da`` of every feature both support (see the module doc)."""
    from .simultaneous import judge_differences

    paired = _same_archs(da, db) if paired is None else paired
    order = list(REGISTRY)
    rng = np.random.default_rng([int(seed), 11])
    draws: dict[tuple[str, str], tuple[np.ndarray, float]] = {}

    def idx(side: str, data: LandscapeData, unit: str) -> tuple[np.ndarray, float]:
        key = ("a" if paired else side, unit)
        if key not in draws:
            draws[key] = resample(rng, data.n_units(unit), n_boot, boot_max)
        return draws[key]

    meta, cols, reps, ns = [], [], [], []
    min_units = _units_min()
    with np.errstate(invalid="ignore"):  # undefined values (a correlation of a constant) stay NaN
        _collect_columns(da, db, features if features is not None else order, paired, idx, meta, cols, reps, ns)
    if not meta:
        return [], "none"
    diff = np.asarray(cols)
    boot = np.stack(reps, axis=1)
    mins = np.array([min_units.get(m[5], 2) for m in meta], dtype=float)
    ci, outs = judge_differences(diff, boot, None, level=level, min_units=mins, n_units=np.asarray(ns, float))
    out = [Difference(n, k, a, b, (float(ci[i, 0]), float(ci[i, 1])), outs[i], units)
           for i, (n, k, a, b, units, _u) in enumerate(meta)]
    method = f"{'paired' if paired else 'independent'} bootstrap, simultaneous (studentised max-statistic)"
    return out, method


def compare_landscapes(a: Footprint | FitnessSource | str | Path, b: Footprint | FitnessSource | str | Path, *,
                       plan: SamplingPlan | None = None, exact: bool = False, seed: int = 0,
                       level: float = 0.95, features: list[str] | None = None,
                       space: str = "nb201") -> LandscapeComparison:
    """Compare landscapes A and B (footprints, footprint JSON paths, sources or source specs).

    Parameters
    ----------
    a, b : Footprint, path to a footprint JSON, FitnessSource or spec
        Specs: ``table:FILE:COLUMN``, ``surrogate:DIR:TASK``, ``db:DB.parquet:TASK``.
    plan : SamplingPlan, optional
        How sources are sampled (default :class:`SamplingPlan`); two complete sources
        are sampled on the same archs (paired).
    exact : bool
        Two complete sources of a finite space: exact footprints (zero-width intervals).
    seed : int
    level : float
        Family-wise (simultaneous) level.
    features : list of str, optional
        Only these features.
    space : str
        Space of table specs.
    """
    if not 0 < float(level) < 1:
        raise LandscapeError(f"level must lie in (0, 1); got {level}")
    A, B = _side(a, space), _side(b, space)
    if isinstance(A, Footprint) or isinstance(B, Footprint):
        plan = plan or SamplingPlan()
        fa = A if isinstance(A, Footprint) else footprint(A, plan, exact=exact, seed=seed)
        fb = B if isinstance(B, Footprint) else footprint(B, plan, exact=exact, seed=seed)
        return compare_footprints(fa, fb, level, features)
    if A.space.name != B.space.name:
        raise LandscapeError(f"A ({A.name}) is in space {A.space.name!r}, B ({B.name}) in {B.space.name!r}; "
                             "compare landscapes of one space")
    plan = plan or SamplingPlan()
    if exact:
        if not (is_complete(A) and is_complete(B)):
            raise LandscapeError("exact=True needs two sources that cover the whole space (tables, surrogates)")
        return compare_footprints(footprint(A, plan, exact=True, seed=seed, features=features),
                                  footprint(B, plan, exact=True, seed=seed, features=features), level, features)
    # a complete side is analysed on the other side's archs (paired); two databases keep their own strata
    first, second = (B, A) if (is_complete(A) and not is_complete(B)) else (A, B)
    d1 = collect(first, plan, seed=np.random.default_rng([int(seed), 1]), adaptive=False)
    d2 = collect(second, plan, strata=d1.cache["strata"] if is_complete(second) else None,
                 seed=np.random.default_rng([int(seed), 2]), adaptive=False)
    da, db = (d1, d2) if first is A else (d2, d1)
    diffs, method = compare_data(da, db, n_boot=plan.n_boot, level=level, boot_max=plan.boot_max,
                                 seed=seed, features=features)
    notes = [f"A: {da.cache['strata'].sizes()}; B: {db.cache['strata'].sizes()}"]
    return LandscapeComparison(A.name, B.name, A.space.name, method, level, diffs, notes)


__all__ = ["Difference", "LandscapeComparison", "SCHEMA", "compare_data", "compare_footprints",
           "compare_landscapes", "load_footprint", "sidak_z"]
