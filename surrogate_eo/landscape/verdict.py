"""The records of the fidelity verdict: one :class:`FeatureComparison` per judged difference, one :class:`Verdict`.

Outcomes are three words, per comparison and overall: ``faithful`` (shown to be
within tolerance: the whole simultaneous CI of surrogate - truth lies inside the
band), ``unfaithful`` (shown to be outside: the whole CI lies outside), and
``inconclusive`` (not enough ground truth to tell; :attr:`Verdict.runs_needed`
says how many more runs of which stratum would settle it). A verdict is
``unfaithful`` when any judged comparison is, ``faithful`` when every judged
comparison is, and ``inconclusive`` otherwise. Two modes: ``"value"`` judges every
comparison, ``"rank"`` only the rank-invariant ones (what comparison-based
optimisers see); a verdict carries both outcomes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_json
from .footprint import Footprint
from .tolerances import Tolerance

SCHEMA = "surrogate-eo/fidelity-verdict/2"
MODES = ("value", "rank")
_COMPAT_STATUS = {"faithful": "pass", "unfaithful": "fail", "inconclusive": "inconclusive"}


def _n(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


@dataclass(frozen=True)
class FeatureComparison:
    """Surrogate vs truth on one feature (one key of a map feature).

    Attributes
    ----------
    feature, key : str, str or None
    kind : str
        ``"paired"`` (both on the campaign's archs, resampled together) or
        ``"distributional"`` (the surrogate on fresh samples).
    truth, surrogate, diff : float
        Feature values and ``surrogate - truth`` (feature units).
    ci : (float, float)
        Simultaneous CI of ``diff`` in the verdict's mode (family-wise over its judged comparisons).
    band : (float, float)
        Allowed range of ``diff`` from :attr:`tolerance`.
    n_units, unit : int, str
        Resampling units behind the comparison and their kind (points, walks, centres, exploit, ...).
    verdict : str
        ``faithful`` / ``unfaithful`` / ``inconclusive`` in the verdict's mode (the value-mode
        outcome for a comparison rank mode does not judge; then :attr:`judged` is False).
    reason : str
        One short sentence, e.g. ``"only 1 walk (< 20): ~475 more walks runs"``.
    rank_invariant : bool
        Judged in rank mode.
    outcomes, cis : dict
        Per mode (``value``, ``rank``): outcome and CI (None where that mode does not judge it).
    extra_runs : dict
        Stratum -> extra runs that would settle this comparison (empty when conclusive).
    """

    feature: str
    key: str | None
    kind: str
    truth: float
    surrogate: float
    diff: float
    ci: tuple[float, float]
    tolerance: Tolerance
    band: tuple[float, float]
    n_units: int
    unit: str
    verdict: str
    reason: str
    rank_invariant: bool
    judged: bool = True
    outcomes: dict[str, str | None] = field(default_factory=dict)
    cis: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    extra_runs: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.feature if self.key is None else f"{self.feature}[{self.key}]"

    @property
    def z(self) -> float:
        """``|diff|`` in tolerance units."""
        return self.tolerance.z(self.truth, self.surrogate)

    @property
    def score(self) -> float:
        """``2**-(z**2)``: 1 at zero difference, 0.5 at the tolerance (0 when undefined)."""
        z = self.z
        return float(2.0 ** -(z * z)) if math.isfinite(z) else 0.0

    @property
    def status(self) -> str:
        """Old vocabulary (pass / fail / inconclusive) of :attr:`verdict`, for version-1 readers."""
        return _COMPAT_STATUS[self.verdict]

    @property
    def mode(self) -> str:
        """Old name of :attr:`kind` (paired / distributional)."""
        return self.kind

    @property
    def passed(self) -> bool:
        """Not shown unfaithful."""
        return self.verdict != "unfaithful"

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "key": self.key, "label": self.label, "kind": self.kind, "mode": self.kind,
                "truth": _n(self.truth), "surrogate": _n(self.surrogate), "diff": _n(self.diff),
                "ci": [_n(self.ci[0]), _n(self.ci[1])], "band": [_n(self.band[0]), _n(self.band[1])],
                "tolerance": self.tolerance.to_dict(), "n_units": int(self.n_units), "unit": self.unit,
                "verdict": self.verdict, "judged": self.judged, "reason": self.reason,
                "rank_invariant": self.rank_invariant,
                "outcomes": dict(self.outcomes),
                "cis": {m: None if c is None else [_n(c[0]), _n(c[1])] for m, c in self.cis.items()},
                "extra_runs": dict(self.extra_runs),
                "z": _n(self.z), "score": _n(self.score), "status": self.status, "passed": self.passed}


def overall(outcomes: list[str]) -> str:
    """``unfaithful`` if any, ``faithful`` if all (and at least one), else ``inconclusive``."""
    if any(o == "unfaithful" for o in outcomes):
        return "unfaithful"
    if outcomes and all(o == "faithful" for o in outcomes):
        return "faithful"
    return "inconclusive"


@dataclass
class Verdict:
    """Every comparison, the three-outcome verdict in both modes, runs needed, and the footprints."""

    comparisons: list[FeatureComparison]
    truth: Footprint | None
    paired: Footprint | None
    distributional: Footprint | None
    agreement: dict[str, float] = field(default_factory=dict)
    mode: str = "value"
    verdicts: dict[str, str] = field(default_factory=dict)
    runs_needed_by_mode: dict[str, dict[str, int]] = field(default_factory=dict)
    level: float = 0.95
    critical: dict[str, float] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``faithful`` / ``unfaithful`` / ``inconclusive`` in this verdict's mode."""
        return self.verdicts[self.mode]

    def verdict_for(self, mode: str) -> str:
        """The outcome in ``mode`` (``"value"`` or ``"rank"``)."""
        from ..errors import LandscapeError

        if mode not in self.verdicts:
            raise LandscapeError(f"unknown verdict mode {mode!r}; expected one of {', '.join(MODES)}")
        return self.verdicts[mode]

    @property
    def runs_needed(self) -> dict[str, int]:
        """Stratum -> extra runs that would settle this mode's inconclusive comparisons (may be empty)."""
        return dict(self.runs_needed_by_mode.get(self.mode, {}))

    def judged(self, mode: str | None = None) -> list[FeatureComparison]:
        m = mode or self.mode
        return [c for c in self.comparisons if c.outcomes.get(m) is not None]

    @property
    def passed(self) -> bool:
        """Version-1 meaning: not shown unfaithful. Prefer :attr:`verdict`."""
        return self.verdict != "unfaithful"

    @property
    def score(self) -> float:
        s = [c.score for c in self.judged()]
        return float(np.mean(s)) if s else float("nan")

    def failures(self) -> list[FeatureComparison]:
        return [c for c in self.judged() if c.verdict == "unfaithful"]

    def failed_features(self) -> set[str]:
        return {c.feature for c in self.failures()}

    def counts(self, mode: str | None = None) -> dict[str, int]:
        """Judged comparisons per outcome in ``mode`` (default: this verdict's)."""
        m = mode or self.mode
        js = self.judged(m)
        return {k: sum(c.outcomes[m] == k for c in js) for k in ("faithful", "inconclusive", "unfaithful")}

    def to_dict(self) -> dict[str, Any]:
        fps = {k: v.to_dict() for k, v in (("truth", self.truth), ("paired", self.paired),
                                             ("distributional", self.distributional)) if v is not None}
        return {"schema": SCHEMA, "verdict": self.verdict, "mode": self.mode, "verdicts": dict(self.verdicts),
                "runs_needed": self.runs_needed, "runs_needed_by_mode": self.runs_needed_by_mode,
                "ci_level": self.level, "family": "studentised max-statistic bootstrap (simultaneous)",
                "critical_value": {m: _n(c) for m, c in self.critical.items()},
                "counts": {m: self.counts(m) for m in self.verdicts},
                "passed": self.passed, "score": _n(self.score),
                "failed": sorted({c.label for c in self.failures()}), "agreement": self.agreement,
                "comparisons": [c.to_dict() for c in self.comparisons], "footprints": fps}

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as JSON, atomically."""
        atomic_write_json(path, self.to_dict())

    def summary(self) -> str:
        """Text: the verdict in both modes, runs needed, one line per comparison."""
        other = [m for m in MODES if m != self.mode and m in self.verdicts]
        n = self.counts()
        head = (f"{self.verdict.upper()} ({self.mode} mode; "
                + "".join(f"{m} mode: {self.verdicts[m]}; " for m in other)
                + f"{n['unfaithful']} unfaithful, {n['inconclusive']} inconclusive, {n['faithful']} faithful of "
                  f"{sum(n.values())} judged comparisons, simultaneous {self.level:.0%} CIs)")
        lines = [head]
        if self.runs_needed:
            lines.append("  runs needed to settle the inconclusive comparisons: "
                         + ", ".join(f"~{r} more {s}" for s, r in self.runs_needed.items()))
        for c in self.comparisons:
            tag = c.verdict if c.judged else "(not judged)"
            lines.append(f"  {tag:<13} {c.label:<34} truth {c.truth:9.4g}  surrogate {c.surrogate:9.4g}  "
                         f"diff {c.diff:+.4g} [{c.ci[0]:+.3g}, {c.ci[1]:+.3g}]  band [{c.band[0]:+.3g}, "
                         f"{c.band[1]:+.3g}]  n={c.n_units}  {c.reason}")
        return "\n".join(lines)


__all__ = ["FeatureComparison", "MODES", "SCHEMA", "Verdict", "overall"]
