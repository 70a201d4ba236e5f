"""The surrogate-fidelity verdict: is a surrogate's landscape faithful to its ground truth?

Three footprints are computed:

1. **truth** — the ground truth on the archs a campaign trained (its strata:
   uniform points, random walks, neighbourhood centres);
2. **paired** — the surrogate on exactly those archs;
3. **distributional** — the surrogate on fresh samples drawn by the plan
   (plus hill climbs and neutral walks, which only a complete source allows).

For every judged feature (and key of a map feature) the verdict reports the
difference surrogate - truth with a bootstrap CI, paired (same resampled units
for both) and distributional (independent resamples), the feature's
:class:`Tolerance`, pass/fail and a score ``2**-(z**2)`` with ``z`` the
difference in tolerance units (1 at zero difference, 0.5 at the tolerance).
FDC is measured, for all three, to the ground truth's best known arch(s), so
the comparison does not hinge on where a surrogate puts its own argmax.
A comparison **fails** when its whole CI lies outside the tolerance band
(the surrogate is shown to be out of tolerance), **passes** when the point
difference is within tolerance, and is **inconclusive** otherwise (too little
ground truth to tell). The surrogate passes when no comparison fails; the
overall score is the mean score.

>>> from surrogate_eo.landscape.nk import NKLandscape
>>> v = fidelity(NKLandscape(12, 2, seed=0), NKLandscape(12, 2, seed=0),
...              plan=SamplingPlan.small(n_climbs=0, n_neutral_walks=0))
>>> v.passed, v.score > 0.95
(True, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau, spearmanr

from .._io import atomic_write_json
from ..errors import LandscapeError
from ..spaces.base import SeedLike
from .features import REGISTRY, LandscapeData, compute_features
from .features._base import full_idx, percentile_ci, resample, run_stat
from .footprint import Footprint, SamplingPlan, collect
from .samplers import Strata
from .sources import FitnessSource, check_source, is_complete

SCHEMA = "surrogate-eo/fidelity-verdict/1"


@dataclass(frozen=True)
class Tolerance:
    """How far a surrogate's feature may be from the truth's and still pass.

    ``z = min(|s - t| / abs, |ln(s / t)| / ln(ratio))`` over the kinds given; the
    comparison passes when ``z <= 1``. ``keys`` restricts a map feature to some
    keys (e.g. eps > 0 of neutrality).
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
    "local_optima_fraction": Tolerance(abs=0.005, ratio=2.0, why="within 0.5 points or a factor 2"),
    "information_content": Tolerance(abs=0.05, keys=("0.001", "0.005", "0.01")),
    "dispersion": Tolerance(abs=0.05),
    "persistence_top_auc": Tolerance(abs=0.1),
    "climb_optima_distinct": Tolerance(ratio=1.5),
    "optima_estimate_birthday": Tolerance(ratio=3.0, why="the birthday estimate is noisy"),
    "climb_length_mean": Tolerance(abs=0.75, ratio=1.5),
}


@dataclass(frozen=True)
class FeatureComparison:
    """Surrogate vs truth on one feature (one key of a map feature), in one mode."""

    feature: str
    key: str | None
    mode: str
    truth: float
    surrogate: float
    diff: float
    ci: tuple[float, float]
    tolerance: Tolerance
    z: float
    status: str
    score: float

    @property
    def passed(self) -> bool:
        """Not shown to be out of tolerance (status pass or inconclusive)."""
        return self.status != "fail"

    @property
    def label(self) -> str:
        return self.feature if self.key is None else f"{self.feature}[{self.key}]"

    def to_dict(self) -> dict[str, Any]:
        def n(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {"feature": self.feature, "key": self.key, "mode": self.mode, "truth": n(self.truth),
                "surrogate": n(self.surrogate), "diff": n(self.diff), "ci": [n(self.ci[0]), n(self.ci[1])],
                "tolerance": self.tolerance.to_dict(), "z": n(self.z), "status": self.status, "passed": self.passed,
                "score": n(self.score)}


@dataclass
class Verdict:
    """Every comparison, the pass/fail verdict and its score, plus the three footprints."""

    comparisons: list[FeatureComparison]
    truth: Footprint
    paired: Footprint
    distributional: Footprint
    agreement: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.comparisons) and all(c.passed for c in self.comparisons)

    @property
    def score(self) -> float:
        s = [c.score for c in self.comparisons]
        return float(np.mean(s)) if s else float("nan")

    def failures(self) -> list[FeatureComparison]:
        return [c for c in self.comparisons if not c.passed]

    def failed_features(self) -> set[str]:
        return {c.feature for c in self.failures()}

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "passed": self.passed, "score": self.score, "counts": self.counts(),
                "failed": sorted({c.label for c in self.failures()}), "agreement": self.agreement,
                "comparisons": [c.to_dict() for c in self.comparisons],
                "footprints": {"truth": self.truth.to_dict(), "paired": self.paired.to_dict(),
                               "distributional": self.distributional.to_dict()}}

    def save(self, path: str | Path) -> None:
        atomic_write_json(path, self.to_dict())

    def counts(self) -> dict[str, int]:
        """Number of comparisons per status (pass, inconclusive, fail)."""
        return {k: sum(c.status == k for c in self.comparisons) for k in ("pass", "inconclusive", "fail")}

    def summary(self) -> str:
        n = self.counts()
        head = (f"{'PASS' if self.passed else 'FAIL'}  score {self.score:.3f}  ({n['fail']} fail, "
                f"{n['inconclusive']} inconclusive, {n['pass']} pass of {len(self.comparisons)} comparisons)")
        lines = [head]
        for c in self.comparisons:
            lines.append(f"  {c.status:<12} {c.mode:<14} {c.label:<34} truth {c.truth:9.4g}  "
                         f"surrogate {c.surrogate:9.4g}  diff {c.diff:+.4g} [{c.ci[0]:+.3g}, {c.ci[1]:+.3g}]  "
                         f"z {c.z:.2f}")
        return "\n".join(lines)


def _full(spec, data: LandscapeData) -> np.ndarray:
    return run_stat(spec, data, full_idx(data.n_units(spec.unit)))[0]


def _paired(name: str, t: LandscapeData, s: LandscapeData, rng: np.random.Generator, plan: SamplingPlan):
    spec = REGISTRY[name].resolve(t)
    if spec is None or not spec.pairable or REGISTRY[name].resolve(s) is not spec:
        return None
    n = t.n_units(spec.unit)
    ft, fs = _full(spec, t), _full(spec, s)
    idx, scale = resample(rng, n, plan.n_boot, plan.boot_max)
    reps = run_stat(spec, s, idx) - run_stat(spec, t, idx)
    return ft, fs, percentile_ci(fs - ft, reps, scale, plan.ci_level)


def _distributional(name: str, t: LandscapeData, s: LandscapeData, ft_feat, fs_feat, rng: np.random.Generator,
                    plan: SamplingPlan):
    st, ss = REGISTRY[name].resolve(t), REGISTRY[name].resolve(s)
    if st is None or ss is None:
        return None
    keys = list(ft_feat.value) if isinstance(ft_feat.value, dict) else None
    vt = np.array([ft_feat.value[k] for k in keys]) if keys else np.array([ft_feat.value])
    vs = np.array([fs_feat.value.get(k, np.nan) for k in keys]) if keys else np.array([fs_feat.value])
    if st.interval is not None:  # each side has its own interval: Newcombe's square-and-add combination
        ct = np.array([ft_feat.ci[k] for k in keys]) if keys else np.array([ft_feat.ci])
        cs = np.array([fs_feat.ci[k] for k in keys]) if keys else np.array([fs_feat.ci])
        d = vs - vt
        lo = d - np.sqrt((vs - cs[:, 0]) ** 2 + (ct[:, 1] - vt) ** 2)
        hi = d + np.sqrt((cs[:, 1] - vs) ** 2 + (vt - ct[:, 0]) ** 2)
        return vt, vs, np.stack([lo, hi], axis=1)
    it, sct = resample(rng, t.n_units(st.unit), plan.n_boot, plan.boot_max)
    is_, scs = resample(rng, s.n_units(ss.unit), plan.n_boot, plan.boot_max)
    dev = scs * (run_stat(ss, s, is_) - vs[None]) - sct * (run_stat(st, t, it) - vt[None])
    return vt, vs, percentile_ci(vs - vt, dev + (vs - vt)[None], 1.0, plan.ci_level)


def _compare(name: str, mode: str, vt: np.ndarray, vs: np.ndarray, ci: np.ndarray, keys: list[str] | None,
             tol: Tolerance) -> list[FeatureComparison]:
    out = []
    for j, k in enumerate(keys or [None]):
        if keys is not None and tol.keys is not None and k not in tol.keys:
            continue
        t, s = float(vt[j]), float(vs[j])
        z = tol.z(t, s)
        lo, hi = float(ci[j, 0]), float(ci[j, 1])
        b_lo, b_hi = tol.band(t)
        if not math.isfinite(z) and not (math.isfinite(t) and math.isfinite(s)):
            status = "fail"  # a feature the surrogate's landscape cannot even produce
        elif (math.isfinite(hi) and hi < b_lo) or (math.isfinite(lo) and lo > b_hi):
            status = "fail"
        elif z <= 1.0:
            status = "pass"
        else:
            status = "inconclusive"
        score = float(2.0 ** -(z * z)) if math.isfinite(z) else 0.0
        out.append(FeatureComparison(name, k, mode, t, s, s - t, (lo, hi), tol, z, status, score))
    return out


def _footprint(data: LandscapeData, plan: SamplingPlan, seed: int, source: FitnessSource) -> Footprint:
    feats = compute_features(data, None, seed=seed, n_boot=plan.n_boot, level=plan.ci_level, boot_max=plan.boot_max)
    return Footprint(features=feats, source=source.name, space=source.space.name, exact=False, seed=seed,
                     plan=plan.to_dict(), n_evaluations=int(data.cache["n_evaluations"]),
                     strata=data.cache["strata"].sizes(), data=data)


def fidelity(truth: FitnessSource, surrogate: FitnessSource, *, strata: Strata | None = None,
             plan: SamplingPlan | None = None, surrogate_plan: SamplingPlan | None = None,
             tolerances: dict[str, Tolerance] | None = None, seed: SeedLike = 0,
             truth_adaptive: bool | None = None, modes: tuple[str, ...] = ("paired", "distributional"),
             paired: FitnessSource | None = None) -> Verdict:
    """Judge ``surrogate`` against ``truth`` feature by feature.

    Parameters
    ----------
    truth : FitnessSource
        Ground truth: a database source (restricted to its archs) or a table.
    surrogate : FitnessSource
        The surrogate, complete over the space (a benchmark or model source).
    strata : Strata, optional
        The archs the campaign trained. Default: inferred from a database
        source's archs, or drawn by ``plan`` on a complete truth.
    plan : SamplingPlan, optional
        Analysis parameters (and the strata sizes when they are drawn).
    surrogate_plan : SamplingPlan, optional
        Sizes of the surrogate's fresh (distributional) samples; default ``plan``.
    tolerances : dict, optional
        Feature name -> :class:`Tolerance`; default :data:`DEFAULT_TOLERANCES`.
    seed : int
    truth_adaptive : bool, optional
        Hill-climb on the truth too (only a complete truth; default: when complete).
    modes : tuple of str
        Which comparisons to judge: "paired", "distributional".
    paired : FitnessSource, optional
        What to evaluate at the truth's archs for the paired comparison, e.g.
        out-of-fold predictions of the surrogate (a :class:`~.sources.LookupSource`
        over the campaign's archs). Default: ``surrogate`` itself, which is
        optimistic when it was fitted on those very archs.
    """
    truth, surrogate = check_source(truth), check_source(surrogate)
    if truth.space.name != surrogate.space.name:
        raise LandscapeError(f"truth {truth.name!r} is in space {truth.space.name!r} but surrogate "
                             f"{surrogate.name!r} is in {surrogate.space.name!r}; compare within one space")
    if not is_complete(surrogate):
        raise LandscapeError(f"surrogate {surrogate.name!r} must answer for any arch (a model or benchmark)")
    bad = [m for m in modes if m not in ("paired", "distributional")]
    if bad:
        raise LandscapeError(f"unknown fidelity mode {bad[0]!r}; expected 'paired' and/or 'distributional'")
    plan = plan or SamplingPlan()
    surrogate_plan = surrogate_plan or plan
    tolerances = DEFAULT_TOLERANCES if tolerances is None else tolerances
    s0 = int(seed) if isinstance(seed, (int, np.integer)) else 0
    rng = np.random.default_rng([s0, 7])
    t_adapt = is_complete(truth) if truth_adaptive is None else truth_adaptive
    dt = collect(truth, plan, strata=strata, seed=np.random.default_rng([s0, 1]), adaptive=t_adapt)
    dp = collect(paired if paired is not None else surrogate, plan, strata=dt.cache["strata"],
                 seed=np.random.default_rng([s0, 1]), adaptive=False)
    dd = collect(surrogate, surrogate_plan, seed=np.random.default_rng([s0, 2]))
    for d in (dp, dd):  # FDC of every landscape is measured to the ground truth's best known arch(s)
        d.params["fdc_reference"] = dt.best_archs
    ft, fp, fd = (_footprint(d, p, s0, src) for d, p, src in
                  ((dt, plan, truth), (dp, plan, paired if paired is not None else surrogate),
                   (dd, surrogate_plan, surrogate)))
    comps: list[FeatureComparison] = []
    for name, tol in tolerances.items():
        if name not in REGISTRY:
            raise LandscapeError(f"tolerance for unknown feature {name!r}; known: {', '.join(REGISTRY)}")
        if name not in ft.features:
            continue
        keys = list(ft.features[name].value) if ft.features[name].is_map else None
        if "paired" in modes and name in fp.features:
            r = _paired(name, dt, dp, rng, plan)
            if r is not None:
                comps += _compare(name, "paired", *r, keys, tol)
        if "distributional" in modes and name in fd.features:
            r = _distributional(name, dt, dd, ft.features[name], fd.features[name], rng, plan)
            if r is not None:
                comps += _compare(name, "distributional", *r, keys, tol)
    ts, ss = dt.f_points, dp.f_points
    agreement = {"kendall_tau": float(kendalltau(ts, ss)[0]), "spearman": float(spearmanr(ts, ss)[0]),
                 "rmse": float(np.sqrt(np.mean((ts - ss) ** 2))), "n": int(len(ts))}
    return Verdict(comps, ft, fp, fd, agreement)


__all__ = ["Tolerance", "DEFAULT_TOLERANCES", "FeatureComparison", "Verdict", "fidelity", "SCHEMA"]
