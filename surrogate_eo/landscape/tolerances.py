"""Tolerances of the fidelity verdict: how far a surrogate's feature may be from the truth's.

The judged features, their bands, which of them are rank-invariant (judged in
``mode="rank"``) and the minimum evidence (resampling units) behind a judged
comparison. Chosen on NAS-Bench-201 CIFAR-10 only (docs/landscape.md; the other
datasets and NK landscapes are held-out evidence).

A tolerances JSON overrides the defaults feature by feature::

    {"fitness_mean": {"abs": 0.01},
     "neutrality": {"abs": 0.05, "keys": ["0.005"]},
     "dispersion": null}

(``null`` stops judging that feature).

>>> t = DEFAULT_TOLERANCES["fitness_std"]
>>> [round(x, 4) for x in t.band(0.1)]
[-0.02, 0.025]
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LandscapeError


@dataclass(frozen=True)
class Tolerance:
    """How far a surrogate's feature may be from the truth's and still be faithful.

    ``z = min(|s - t| / abs, |ln(s / t)| / ln(ratio))`` over the kinds given (tolerance
    units); the band of ``s - t`` is the union of the abs and ratio ranges. ``keys``
    restricts a map feature to some keys (e.g. eps > 0 of neutrality).
    """

    abs: float | None = None
    ratio: float | None = None
    keys: tuple[str, ...] | None = None
    why: str = ""

    def __post_init__(self) -> None:
        if self.abs is None and self.ratio is None:
            raise LandscapeError("a Tolerance needs abs= or ratio=")
        if (self.abs is not None and self.abs <= 0) or (self.ratio is not None and self.ratio <= 1):
            raise LandscapeError(f"Tolerance needs abs > 0 and ratio > 1; got abs={self.abs}, ratio={self.ratio}")

    def z(self, truth: float, surrogate: float) -> float:
        """Difference in tolerance units (NaN when either value is missing)."""
        if not (math.isfinite(truth) and math.isfinite(surrogate)):
            return float("nan")
        zs = []
        if self.abs is not None:
            zs.append(abs(surrogate - truth) / self.abs)
        if self.ratio is not None:
            if truth > 0 and surrogate > 0:
                zs.append(abs(math.log(surrogate / truth)) / math.log(self.ratio))
            elif truth == surrogate:
                zs.append(0.0)
        return min(zs) if zs else float("inf")

    def band(self, truth: float) -> tuple[float, float]:
        """Allowed range of ``surrogate - truth`` (the union of the abs and ratio ranges)."""
        lo, hi = [], []
        if self.abs is not None:
            lo.append(-self.abs)
            hi.append(self.abs)
        if self.ratio is not None and math.isfinite(truth) and truth > 0:
            lo.append(truth / self.ratio - truth)
            hi.append(truth * (self.ratio - 1))
        return (min(lo), max(hi)) if lo else (0.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"abs": self.abs, "ratio": self.ratio, "keys": list(self.keys) if self.keys else None, "why": self.why}


#: Default tolerances of the judged features (docs/landscape.md explains each).
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "fitness_mean": Tolerance(abs=0.02, why="2 accuracy points"),
    "fitness_std": Tolerance(ratio=1.25, why="spread within 25 %"),
    "fitness_quantiles": Tolerance(abs=0.03, keys=("0.05", "0.5", "0.95"), why="3 accuracy points"),
    "fdc_pearson": Tolerance(abs=0.1),
    "fdc_spearman": Tolerance(abs=0.1),
    "autocorr_lag1": Tolerance(abs=0.1, why="rho(1) within 0.1"),
    "autocorr_lag1_rank": Tolerance(abs=0.1, why="rho(1) of ranks within 0.1"),
    "neutrality": Tolerance(abs=0.1, keys=("0.001", "0.005", "0.01"), why="eps = 0 excluded: ties are an "
                            "artefact of rounding in tables and of tree leaves in surrogates"),
    "information_content": Tolerance(abs=0.05, keys=("0.001", "0.005", "0.01")),
    "dispersion": Tolerance(abs=0.05),
    "persistence_top_auc": Tolerance(abs=0.1),
    # local_optima_fraction of uniform centres is reported, not judged: on NB201 (17 strict optima in 15,625
    # archs) a campaign's few centres almost never hold one, so the paired bootstrap collapses to [0, 0] and
    # its CI misses the true difference (measured: evaluation/verdict_coverage.py); the top is judged on
    # the exploit stratum instead (top_local_optima, top_neighbour_rank)
    "climb_optima_distinct": Tolerance(ratio=1.5),
    "climb_length_mean": Tolerance(abs=0.75, ratio=1.5),
    # rank fidelity and the top of the landscape (see :mod:`.top`)
    "rank_agreement": Tolerance(abs=0.05, why="Spearman rho of surrogate vs truth over the uniform points at "
                                "least 0.95 (Kendall tau about 0.8)"),
    "top_decile_rank_agreement": Tolerance(abs=0.5, why="Spearman rho of surrogate vs truth among the truth's "
                                           "top-decile archs at least 0.5"),
    "top_fitness_mean": Tolerance(abs=0.01, why="the surrogate's predicted-best archs: claimed vs true fitness "
                                  "within 1 accuracy point"),
    "top_local_optima": Tolerance(abs=0.25, why="fraction of the predicted-best archs that are local optima"),
    "top_neighbour_rank": Tolerance(abs=0.05, why="fraction of its neighbours a predicted-best arch beats"),
}

#: Features (and keys, as ``"feature[key]"``) invariant under a strictly increasing
#: transform of fitness: judged in ``mode="rank"``.
RANK_INVARIANT: frozenset[str] = frozenset({
    "fdc_spearman", "autocorr_lag1_rank", "local_optima_fraction", "local_optima_strict", "dispersion",
    "persistence_top", "persistence_bottom", "persistence_top_auc", "persistence_bottom_auc",
    "climb_optima_distinct", "climb_length_mean", "optima_estimate_birthday", "neutrality[0]",
    "rank_agreement", "top_decile_rank_agreement", "top_local_optima", "top_neighbour_rank",
})

#: Minimum resampling units behind a judged comparison, per unit (fewer: inconclusive).
#: ``"top_decile"`` counts the truth's top-decile points.
MIN_UNITS: dict[str, int] = {"points": 50, "walks": 20, "centres": 20, "edges": 100, "climbs": 20,
                             "neutral": 20, "exploit": 10, "top_decile": 20}

#: Campaign stratum that supplies each resampling unit (for "runs needed").
UNIT_STRATUM: dict[str, str] = {"points": "random", "top_decile": "random", "walks": "walks",
                                "centres": "neighbourhoods", "edges": "neighbourhoods", "exploit": "exploit",
                                "climbs": "climbs", "neutral": "neutral walks"}


def is_rank_invariant(feature: str, key: str | None = None) -> bool:
    """Whether ``feature`` (key ``key`` of a map feature) is judged in rank mode."""
    return feature in RANK_INVARIANT or (key is not None and f"{feature}[{key}]" in RANK_INVARIANT)


def tolerances_from_dict(d: Any, where: str = "tolerances", base: dict[str, Tolerance] | None = None
                         ) -> dict[str, Tolerance]:
    """``base`` (default :data:`DEFAULT_TOLERANCES`) updated by a ``{feature: {abs, ratio, keys, why} | null}`` map."""
    from .features import REGISTRY
    from .top import TOP_FEATURES

    if not isinstance(d, dict):
        raise LandscapeError(f"{where}: expected an object feature -> {{abs, ratio, keys}}; got {type(d).__name__}")
    out = dict(DEFAULT_TOLERANCES if base is None else base)
    known = set(REGISTRY) | set(TOP_FEATURES)
    for name, spec in d.items():
        if name not in known:
            raise LandscapeError(f"{where}: unknown feature {name!r}; known: {', '.join(sorted(known))}")
        if spec is None:
            out.pop(name, None)
            continue
        if not isinstance(spec, dict):
            raise LandscapeError(f"{where}: {name} must be an object {{abs, ratio, keys}} or null; got {spec!r}")
        bad = set(spec) - {"abs", "ratio", "keys", "why"}
        if bad:
            raise LandscapeError(f"{where}: {name} has unknown field {sorted(bad)[0]!r}; "
                                 "expected abs, ratio, keys, why")
        vals = {}
        for f in ("abs", "ratio"):
            v = spec.get(f)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
                raise LandscapeError(f"{where}: {name}.{f} must be a number; got {v!r}")
            vals[f] = None if v is None else float(v)
        if vals["abs"] is None and vals["ratio"] is None:
            raise LandscapeError(f"{where}: {name} needs abs or ratio (or null to stop judging it)")
        if vals["abs"] is not None and vals["abs"] <= 0:
            raise LandscapeError(f"{where}: {name}.abs must be > 0; got {vals['abs']:g}")
        if vals["ratio"] is not None and vals["ratio"] <= 1:
            raise LandscapeError(f"{where}: {name}.ratio must be > 1; got {vals['ratio']:g}")
        keys = spec.get("keys")
        if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)):
            raise LandscapeError(f"{where}: {name}.keys must be a list of strings such as [\"0.005\"]; got {keys!r}")
        why = spec.get("why", "")
        out[name] = Tolerance(abs=vals["abs"], ratio=vals["ratio"], keys=tuple(keys) if keys else None,
                              why=str(why))
    return out


def load_tolerances(path: str | Path, base: dict[str, Tolerance] | None = None) -> dict[str, Tolerance]:
    """Read a tolerances JSON (see the module docstring) over ``base`` (default: the defaults).

    Raises :class:`~surrogate_eo.errors.LandscapeError` (one line) on an unreadable file,
    an unknown feature, a negative or non-numeric value, or a wrong type.
    """
    try:
        d = json.loads(Path(path).read_text())
    except OSError as exc:
        raise LandscapeError(f"cannot read tolerances {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise LandscapeError(f"tolerances {path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    return tolerances_from_dict(d, where=str(path), base=base)


__all__ = ["DEFAULT_TOLERANCES", "MIN_UNITS", "RANK_INVARIANT", "Tolerance", "UNIT_STRATUM", "is_rank_invariant",
           "load_tolerances", "tolerances_from_dict"]
