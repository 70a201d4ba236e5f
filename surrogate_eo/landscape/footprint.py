"""A landscape footprint: every feature of one fitness source, from one sampling plan.

>>> from surrogate_eo.landscape import footprint, SamplingPlan
>>> from surrogate_eo.landscape.nk import NKLandscape
>>> fp = footprint(NKLandscape(12, 2, seed=0), SamplingPlan.small(), seed=0)
>>> sorted(fp.to_dict()["features"]["autocorr_lag1"])
['ci', 'n', 'params', 'value']

The sampling plan draws uniform points, random walks, neighbourhood centres
(the *strata* a ground-truth campaign would train), evaluates them in one
batched call, then runs the adaptive samplers (best-improvement hill climbs,
neutral walks) batch by batch. A source that only holds some archs (a
database) is analysed on those archs: strata are inferred from them and the
adaptive samplers are skipped. ``exact=True`` replaces the sampled estimates
of a finite, fully covered space by exact values (:mod:`.exact`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_json
from ..errors import LandscapeError, shown
from ..spaces.base import SeedLike, as_rng
from ._json import read_json_file
from .features import REGISTRY, Feature, LandscapeData, compute_features
from .samplers import CachedFitness, Strata, hill_climb, infer_strata, neutral_walks, plan_strata, uniform
from .sources import FitnessSource, check_source, evaluate, is_complete

SCHEMA = "surrogate-eo/landscape-footprint/1"


@dataclass(frozen=True)
class SamplingPlan:
    """How many archs each sampler draws, and the analysis parameters.

    Attributes
    ----------
    n_points : int
        Uniform archs for the distribution, FDC and dispersion.
    n_walks, walk_length : int
        Random walks and archs per walk (autocorrelation, information content).
    n_centres : int
        Uniform centres whose complete neighbourhoods are evaluated.
    n_climbs, climb_max_steps : int
        Best-improvement hill climbs (restarts) and their step cap.
    n_neutral_walks, neutral_max_steps : int
        Neutral walks (started at the first centres) and their cap.
    neutral_epsilon : float
        Neutrality threshold of the neutral walks (fitness units).
    max_lag : int
        Autocorrelation lags 1..max_lag.
    epsilons : tuple of float
        Neutrality thresholds (fitness units, e.g. 0.001 = 0.1 accuracy points).
    info_epsilons : tuple of float
        Thresholds of the information content H(eps) / M(eps).
    quantiles : tuple of float
        Fitness quantiles reported.
    dispersion_q : float
        Fraction of best archs whose dispersion is measured.
    persistence_pcts : tuple of float
        Top/bottom N% (percent) of the persistence curves.
    birthday_p : float
        Probability level of the birthday-paradox estimate.
    n_boot, ci_level, boot_max : int, float, int
        Bootstrap replicates, CI level, and the m of the m-out-of-n bootstrap.
    n_exploit : int
        Exploit centres (the surrogate's predicted-best archs, each with its complete
        neighbourhood) the verdict adds as a second wave; 0: none.
    """

    n_points: int = 10_000
    n_walks: int = 200
    walk_length: int = 100
    n_centres: int = 1_000
    n_climbs: int = 200
    climb_max_steps: int = 100
    n_neutral_walks: int = 100
    neutral_max_steps: int = 50
    neutral_epsilon: float = 0.001
    max_lag: int = 10
    epsilons: tuple[float, ...] = (0.0, 0.001, 0.005, 0.01)
    info_epsilons: tuple[float, ...] = (0.0, 0.001, 0.005, 0.01, 0.02, 0.05)
    quantiles: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
    dispersion_q: float = 0.05
    persistence_pcts: tuple[float, ...] = (1, 2, 5, 10, 20, 30, 50)
    birthday_p: float = 0.5
    n_boot: int = 200
    ci_level: float = 0.95
    boot_max: int = 5000
    n_exploit: int = 0

    def __post_init__(self) -> None:
        for f in ("n_points", "n_walks", "n_centres", "n_climbs", "n_neutral_walks", "climb_max_steps",
                  "neutral_max_steps", "n_boot", "n_exploit"):
            if int(getattr(self, f)) < 0:
                raise LandscapeError(f"SamplingPlan.{f} must be >= 0; got {getattr(self, f)}")
        if self.walk_length < 2 or self.max_lag < 1:
            raise LandscapeError(f"SamplingPlan needs walk_length >= 2 and max_lag >= 1; "
                                 f"got {self.walk_length}, {self.max_lag}")
        if not 0 < self.ci_level < 1 or not 0 < self.dispersion_q <= 1 or not 0 < self.birthday_p < 1:
            raise LandscapeError("SamplingPlan needs 0 < ci_level < 1, 0 < dispersion_q <= 1, 0 < birthday_p < 1; "
                                 f"got {self.ci_level}, {self.dispersion_q}, {self.birthday_p}")
        for f in ("epsilons", "info_epsilons"):
            if any(e < 0 for e in getattr(self, f)) or not getattr(self, f):
                raise LandscapeError(f"SamplingPlan.{f} must be non-empty and >= 0; got {getattr(self, f)}")
        if any(not 0 < p <= 100 for p in self.persistence_pcts):
            raise LandscapeError(f"persistence_pcts are percents in (0, 100]; got {self.persistence_pcts}")

    @classmethod
    def small(cls, **kw: Any) -> SamplingPlan:
        """A plan for tests and quick looks (~2,000 points, 40 walks x 30, 100 centres, 30 climbs)."""
        base = dict(n_points=2000, n_walks=40, walk_length=30, n_centres=100, n_climbs=30,
                    n_neutral_walks=20, n_boot=100)
        base.update(kw)
        return cls(**base)

    @classmethod
    def for_campaign(cls, runs: int, degree: int, walk_length: int = 25, exploit: float = 0.0,
                     **kw: Any) -> SamplingPlan:
        """Strata sizes for a campaign of ~``runs`` trained archs: a fraction ``exploit`` goes to a
        second wave of exploit neighbourhoods (``degree + 1`` archs each), the rest a third each to
        uniform points, random walks of ``walk_length`` and complete neighbourhoods."""
        if not 0 <= exploit < 1:
            raise LandscapeError(f"exploit is a fraction of the runs in [0, 1); got {exploit}")
        n_exploit = int(round(int(runs) * exploit / (degree + 1)))
        rest = int(runs) - n_exploit * (degree + 1)
        if rest < 3 * (degree + 1):
            raise LandscapeError(f"a campaign of {runs} runs cannot hold a neighbourhood of {degree + 1} archs "
                                 f"per third; plan at least {3 * (degree + 1)} runs (besides the exploit wave)")
        third = rest // 3
        return cls(n_points=third, n_walks=max(1, third // walk_length), walk_length=walk_length,
                   n_centres=max(1, third // (degree + 1)), n_exploit=n_exploit, **kw)

    def replace(self, **kw: Any) -> SamplingPlan:
        return replace(self, **kw)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def analysis_params(self) -> dict[str, Any]:
        """The parameters features read from :attr:`LandscapeData.params`."""
        return self.to_dict()


def _best(fit: CachedFitness, archs: list[np.ndarray], values: list[np.ndarray]) -> tuple[float, np.ndarray]:
    a = np.concatenate([x.reshape(-1, fit.space.n_dims) for x in archs])
    v = np.concatenate([x.reshape(-1) for x in values])
    best = float(v.max())
    top = a[v == best]
    return best, fit.space.from_index(np.unique(fit.space.index(top)))


def collect(source: FitnessSource, plan: SamplingPlan | None = None, *, strata: Strata | None = None,
            second: FitnessSource | None = None, seed: SeedLike = 0, adaptive: bool | None = None,
            fit: CachedFitness | None = None) -> LandscapeData:
    """Sample ``source`` by ``plan`` (or on given ``strata``) and return the data features need.

    Parameters
    ----------
    source : FitnessSource
    plan : SamplingPlan, optional
    strata : Strata, optional
        Archs to analyse (e.g. what a campaign trained); drawn from ``plan`` when
        None on a complete source, inferred from ``source.archs`` otherwise.
    second : FitnessSource, optional
        A second fidelity of the same archs (persistence features).
    seed : int or Generator
    adaptive : bool, optional
        Run hill climbs and neutral walks; default: when the source is complete.
    fit : CachedFitness, optional
        Reuse an evaluation cache (counts evaluations across calls).
    """
    source = check_source(source)
    plan = plan or SamplingPlan()
    space = source.space
    rng = as_rng(seed)
    complete = is_complete(source)
    if strata is None:
        if complete:
            strata = plan_strata(space, plan.n_points, plan.n_walks,
                                 plan.walk_length, plan.n_centres, rng)
        elif callable(getattr(source, "strata", None)):
            strata = source.strata()
        elif hasattr(source, "archs"):
            strata = infer_strata(space, source.archs)
        else:
            raise LandscapeError(f"source {source.name!r} is not complete and does not list its archs; "
                                 "pass strata= (the archs it holds)")
    adaptive = complete if adaptive is None else adaptive
    fit = fit or CachedFitness(source)
    f_all = fit(strata.archs())
    params = plan.analysis_params()
    if second is not None:
        params["second_name"] = second.name
    data = LandscapeData(space=space, name=source.name, params=params, points=strata.points)
    o = len(strata.points)
    data.f_points = f_all[:o]
    seen_a, seen_f = [strata.points], [data.f_points]
    if strata.walks is not None:
        w, L = strata.walks.shape[:2]
        data.walks, data.f_walks = strata.walks, f_all[o:o + w * L].reshape(w, L)
        o += w * L
        seen_a.append(strata.walks)
        seen_f.append(data.f_walks)
    if strata.centres is not None:
        c, D = len(strata.centres), space.degree
        data.centres, data.f_centres = strata.centres, f_all[o:o + c]
        data.f_nbrs = f_all[o + c:o + c + c * D].reshape(c, D)
        o += c + c * D
        seen_a += [strata.centres, space.neighbours_batch(strata.centres)]
        seen_f += [data.f_centres, data.f_nbrs]
    if strata.edges is not None:
        data.edges_f = f_all[o:o + 2 * len(strata.edges)].reshape(-1, 2)
    if second is not None:
        data.f2_points = evaluate(second, strata.points)
    if adaptive and plan.n_climbs > 0:
        data.climbs = hill_climb(space, fit, uniform(space, plan.n_climbs, rng), plan.climb_max_steps)
        seen_a.append(data.climbs.optima)
        seen_f.append(data.climbs.optimum_fitness)
    if adaptive and plan.n_neutral_walks > 0 and data.centres is not None:
        k = min(plan.n_neutral_walks, len(data.centres))
        data.neutral_lengths = neutral_walks(space, fit, data.centres[:k], plan.neutral_epsilon,
                                             plan.neutral_max_steps, rng, f_starts=data.f_centres[:k],
                                             f_nbrs0=data.f_nbrs[:k])
    data.best_f, data.best_archs = _best(fit, seen_a, seen_f)
    data.cache["n_evaluations"] = fit.n_evaluated
    data.cache["strata"] = strata
    return data


@dataclass
class Footprint:
    """Every feature of one source, with what produced them; ``to_dict()`` is the JSON schema."""

    features: dict[str, Feature]
    source: str
    space: str
    exact: bool
    seed: Any
    plan: dict[str, Any]
    n_evaluations: int
    strata: dict[str, Any] = field(default_factory=dict)
    data: LandscapeData | None = field(default=None, repr=False, compare=False)

    def __getitem__(self, name: str) -> Feature:
        if name not in self.features:
            raise LandscapeError(f"footprint of {self.source!r} has no feature {name!r}; "
                                 f"it has {', '.join(self.features)}")
        return self.features[name]

    def value(self, name: str, key: str | None = None) -> float:
        """A scalar feature's value, or one key of a map feature."""
        v = self[name].value
        return float(v[key] if key is not None else v) if isinstance(v, dict) else float(v)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "source": self.source, "space": self.space, "exact": self.exact,
                "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
                "n_evaluations": int(self.n_evaluations), "strata": self.strata, "plan": self.plan,
                "features": {k: f.to_dict() for k, f in self.features.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Footprint:
        if not isinstance(d, dict) or not isinstance(d.get("features"), dict):
            raise LandscapeError("a footprint JSON needs a 'features' object")
        if not isinstance(d.get("n_evaluations", 0), int) or not isinstance(d.get("plan", {}), dict):
            raise LandscapeError("a footprint JSON needs an integer 'n_evaluations' and a 'plan' object")
        return cls(features={k: Feature.from_dict(k, v) for k, v in d["features"].items()},
                   source=d.get("source", "?"), space=d.get("space", "?"), exact=bool(d.get("exact", False)),
                   seed=d.get("seed"), plan=d.get("plan", {}), n_evaluations=int(d.get("n_evaluations", 0)),
                   strata=d.get("strata", {}))

    def save(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as JSON, atomically."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Footprint:
        """A footprint JSON of the current schema (a missing, unreadable or other-schema file: one line)."""
        p = Path(path)
        d = read_json_file(p, "footprint", "write one with surrogate-eo landscape ... --json FILE")
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            got = d.get("schema") if isinstance(d, dict) else type(d).__name__
            raise LandscapeError(f"{p}: footprint schema {shown(got, 60)}, expected {SCHEMA!r}; recompute it "
                                 "with this version (surrogate-eo landscape ... --json FILE)")
        return cls.from_dict(d)

    def table(self) -> list[tuple[str, str, str, str]]:
        """Rows ``(feature, value, ci, n)`` as text, map features one row per key."""
        rows = []
        for name, f in self.features.items():
            if isinstance(f.value, dict):
                for k, v in f.value.items():
                    lo, hi = f.ci[k]  # type: ignore[index]
                    rows.append((f"{name}[{k}]", f"{v:.4g}", f"[{lo:.4g}, {hi:.4g}]", str(f.n)))
            else:
                lo, hi = f.ci  # type: ignore[misc]
                rows.append((name, f"{f.value:.4g}", f"[{lo:.4g}, {hi:.4g}]", str(f.n)))
        return rows


def footprint(source: FitnessSource, plan: SamplingPlan | None = None, *, exact: bool = False,
              second: FitnessSource | None = None, strata: Strata | None = None, seed: SeedLike = 0,
              features: list[str] | None = None, adaptive: bool | None = None) -> Footprint:
    """Compute the landscape footprint of ``source``.

    Parameters
    ----------
    source : FitnessSource
        Table, surrogate, model or database source (fitness maximised).
    plan : SamplingPlan, optional
        Sample sizes and analysis parameters (defaults: :class:`SamplingPlan`).
    exact : bool, default=False
        For a finite space the source fully covers: exact FDC, rho(s), neutrality,
        strict/plateau local optima, H(eps), distribution and persistence over all archs.
    second : FitnessSource, optional
        Second fidelity (e.g. an earlier epoch) for the persistence features.
    strata : Strata, optional
        Analyse these archs instead of sampling (campaign strata).
    seed : int
        Same seed, same footprint.
    features : list of str, optional
        Subset of :data:`~surrogate_eo.landscape.features.REGISTRY` names.
    adaptive : bool, optional
        Run hill climbs and neutral walks (default: when the source is complete).
    """
    source = check_source(source)
    plan = plan or SamplingPlan()
    seed_int = seed if isinstance(seed, (int, np.integer)) else None
    data = collect(source, plan, strata=strata, second=second, seed=seed, adaptive=adaptive)
    n_eval = int(data.cache["n_evaluations"])
    ex: dict[str, Feature] = {}
    if exact:
        from .exact import exact_features

        if not is_complete(source):
            raise LandscapeError(f"exact=True needs a source that covers the whole space; {source.name!r} "
                                 "only holds some archs")
        space = source.space
        f_all = evaluate(source, space.enumerate())
        f2 = evaluate(second, space.enumerate()) if second is not None else None
        ex = exact_features(space, f_all, data.params, f2)
        n_eval += space.size
        if features is not None:
            ex = {k: v for k, v in ex.items() if k in features}
    names = [n for n in (features if features is not None else list(REGISTRY)) if n not in ex]
    feats = compute_features(data, names, seed=seed_int or 0, n_boot=plan.n_boot, level=plan.ci_level,
                             boot_max=plan.boot_max)
    feats.update(ex)
    order = list(REGISTRY) + [k for k in feats if k not in REGISTRY]
    feats = {k: feats[k] for k in order if k in feats}
    strata_obj = data.cache["strata"]
    return Footprint(features=feats, source=source.name, space=source.space.name, exact=exact,
                     seed=seed_int, plan=plan.to_dict(), n_evaluations=n_eval, strata=strata_obj.sizes(),
                     data=data)


__all__ = ["SamplingPlan", "Footprint", "collect", "footprint", "SCHEMA"]
