"""The one entry point of the fidelity verdict: :func:`judge` (CLI ``fidelity``, the report and the demo).

:func:`~.fidelity.fidelity` compares a ground truth with a surrogate on the
archs a campaign trained. Its *paired* comparisons evaluate the surrogate at
exactly those archs, which is optimistic when the surrogate was fitted on
them. :func:`judge` therefore supplies **out-of-fold** paired predictions by
default: the surrogate benchmark's model configuration is refitted ``folds``
times on the campaign's archs (ground-truth values, seed-averaged), and each
arch is predicted by the refit that did not see it. ``paired="in-sample"``
opts out (with a warning in :attr:`Judgement.warnings`).

The ground truth is either

- a **database** (``db:DB.parquet:TASK``): analysed on the archs its campaign
  trained, strata rebuilt from its plan entries; or
- a **table** (``table:FILE.csv:COLUMN``): a campaign of ``campaign_runs``
  archs is emulated (:meth:`~.footprint.SamplingPlan.for_campaign`, strata
  drawn from ``seed``).

A surrogate that is a table column (no model to refit) is paired on its own
values, which are out of sample by construction.

>>> from surrogate_eo.landscape.nk import NKLandscape
>>> j = judge(NKLandscape(10, 1, seed=0), NKLandscape(10, 1, seed=0), campaign_runs=300)
>>> j.paired_by
'the surrogate itself (NK(N=10,K=1) has no model to refit)'
>>> j.outcome in ("faithful", "inconclusive")
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from .._io import atomic_write_json
from .._types import EntryLike, PredictorLike, SurrogateLike
from ..errors import LandscapeError
from .footprint import SamplingPlan
from .samplers import Strata, plan_strata
from .sources import (BenchmarkSource, DatabaseSource, FitnessSource, LookupSource, NamedSource, check_source,
                      is_complete, open_source)

#: CLI exit status of each overall outcome (2 is bad input).
EXIT_CODES = {"faithful": 0, "unfaithful": 1, "inconclusive": 3}
#: Default size of an emulated campaign on a table (runs = distinct archs, one seed).
DEFAULT_CAMPAIGN_RUNS = 1500
#: Verdict modes (``rank`` judges only rank-invariant features).
MODES = ("value", "rank")
PAIRED_CHOICES = ("out-of-fold", "in-sample")


# ------------------------------------------------------------------ out-of-fold predictions
def model_template(entry: EntryLike) -> SurrogateLike:
    """The model configuration a benchmark entry was fitted with (the base model of a multi-fidelity one)."""
    from ..surrogates.ensemble import MultiFidelity

    model = entry.model
    return cast(SurrogateLike, model.base if isinstance(model, MultiFidelity) else model)


def clone_model(template: SurrogateLike, seed: int) -> SurrogateLike:
    """An unfitted copy of ``template`` (seeded when the model has a seed)."""
    return template.clone(seed=seed) if "seed" in template.get_params() else template.clone()


def predict_dist(model: PredictorLike, archs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, model spread)``: an ensemble's predictive mean and standard deviation, else ``(pred, 0)``."""
    from ..surrogates.ensemble import Ensemble

    if isinstance(model, Ensemble):
        return model.predict_dist(archs)
    return np.asarray(model.predict(archs), dtype=float), np.zeros(len(archs))


def out_of_fold(template: SurrogateLike, archs: np.ndarray, y: np.ndarray, folds: int,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold mean and model spread of ``template`` refitted ``folds`` times on ``(archs, y)``.

    Folds come from :func:`~surrogate_eo.surrogates.splits.kfold` (``seed``);
    every refit is seeded with ``seed``. Values are fractions, shape ``(n,)``.
    """
    from ..surrogates.splits import kfold

    mu, sd = np.empty(len(y)), np.empty(len(y))
    for tr, te in kfold(len(y), min(int(folds), len(y)), seed=seed):
        mu[te], sd[te] = predict_dist(clone_model(template, seed).fit(archs[tr], y[tr]), archs[te])
    return mu, sd


class PairedSource(NamedSource):
    """Out-of-fold predictions where known, the surrogate elsewhere (e.g. archs of a later wave).

    Complete over the space, so the verdict can evaluate it at any arch of
    the ground truth's strata.
    """

    complete = True

    def __init__(self, oof: LookupSource, surrogate: FitnessSource) -> None:
        self.oof, self.surrogate = oof, surrogate
        self._space, self._name = surrogate.space, oof.name

    def fitness(self, archs: Any) -> np.ndarray:
        batch = self._space.validate(archs)
        held = self.oof.holds(batch)
        out = np.empty(len(batch))
        if held.any():
            out[held] = self.oof.fitness(batch[held])
        if (~held).any():
            out[~held] = np.asarray(self.surrogate.fitness(batch[~held]), dtype=float).reshape(-1)
        return out


def campaign_targets(truth: FitnessSource, strata: Strata | None) -> tuple[np.ndarray, np.ndarray]:
    """The campaign's distinct archs and their ground-truth values (what out-of-fold refits train on).

    A database source gives its targets in the database's order (the same order the report's
    accuracy section uses, so both draw the same folds); a table gives the strata's distinct archs.
    """
    if isinstance(truth, DatabaseSource):
        strings, y = truth.db.targets(truth.task, truth.metric, epoch=truth.epoch, space=truth.space.name)
        return truth.space.from_strings(list(strings)), np.asarray(y, dtype=float)
    if strata is None:
        raise LandscapeError("out-of-fold predictions need the campaign's strata; pass strata=")
    sp = truth.space
    archs = sp.from_index(np.unique(sp.index(strata.archs())))
    return archs, np.asarray(truth.fitness(archs), dtype=float)


def _refittable(surrogate: FitnessSource) -> tuple[SurrogateLike, str] | None:
    """``(model template, description)`` of a benchmark source's entry, None for a source with no model."""
    if not isinstance(surrogate, BenchmarkSource) or not callable(getattr(surrogate.bench, "entry", None)):
        return None
    entry, _ = surrogate.bench.entry(surrogate.task, surrogate.metric)
    return model_template(entry), getattr(entry.model, "family", type(entry.model).__name__)


def paired_predictions(truth: FitnessSource, surrogate: FitnessSource, strata: Strata | None, *,
                       folds: int = 5, seed: int = 0,
                       oof: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[FitnessSource | None, str]:
    """``(paired source, how it was made)``: out-of-fold refits of the surrogate's model on the campaign.

    ``oof`` (archs, predictions) reuses predictions already computed by :func:`out_of_fold`
    with the same folds and seed (the report's accuracy section). Returns ``(None, why)``
    for a surrogate without a model to refit (it is then paired on itself).
    """
    model = _refittable(surrogate)
    if model is None:
        return None, f"the surrogate itself ({surrogate.name} has no model to refit)"
    template, family = model
    if oof is None:
        archs, y = campaign_targets(truth, strata)
        if len(y) < 2 * int(folds):
            raise LandscapeError(f"out-of-fold predictions need at least {2 * int(folds)} archs with ground truth "
                                 f"({folds} folds x 2); the campaign has {len(y)}: train more archs, lower "
                                 "--folds, or pass --in-sample")
        pred, _ = out_of_fold(template, archs, y, folds, seed)
    else:
        archs, pred = np.asarray(oof[0]), np.asarray(oof[1], dtype=float)
    look = LookupSource(surrogate.space, archs, pred, name=f"out-of-fold:{surrogate.name}")
    return PairedSource(look, surrogate), (f"out-of-fold ({folds}-fold refits of the {family} model on the "
                                           f"campaign's {len(look)} archs)")


# ------------------------------------------------------------------ the judgement
@dataclass
class Judgement:
    """A verdict and how it was reached (the paired predictions, warnings, campaign size).

    ``to_dict()`` is the verdict's JSON (schema ``surrogate-eo/fidelity-verdict/2``)
    plus a ``"judge"`` object; :meth:`save` writes it atomically.
    """

    verdict: Any
    paired_by: str
    truth: str
    surrogate: str
    mode: str
    campaign_runs: int | None
    folds: int | None
    warnings: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """``faithful``, ``unfaithful`` or ``inconclusive`` (in :attr:`mode`)."""
        return verdict_word(self.verdict, self.mode)

    @property
    def exit_code(self) -> int:
        """CLI exit status: 0 faithful, 1 unfaithful, 3 inconclusive."""
        return EXIT_CODES[self.outcome]

    @property
    def kendall_tau(self) -> float:
        """Kendall tau of truth and paired predictions at the campaign's points (out-of-fold by default)."""
        return float(getattr(self.verdict, "agreement", {}).get("kendall_tau", float("nan")))

    def runs_needed(self) -> dict[str, Any]:
        return dict(getattr(self.verdict, "runs_needed", None) or {})

    def info(self) -> dict[str, Any]:
        """The ``"judge"`` object of the JSON."""
        return {"truth": self.truth, "surrogate": self.surrogate, "paired": self.paired_by, "mode": self.mode,
                "campaign_runs": self.campaign_runs, "folds": self.folds, "warnings": list(self.warnings),
                "kendall_tau_paired": _num(self.kendall_tau)}

    def to_dict(self) -> dict[str, Any]:
        return {**self.verdict.to_dict(), "judge": self.info()}

    def save(self, path: str | Path) -> None:
        atomic_write_json(path, self.to_dict())

    def headline(self) -> str:
        """One line: the outcome in this mode, the other mode's, runs needed, Kendall tau."""
        other = "rank" if self.mode == "value" else "value"
        line = (f"{self.outcome.upper()} ({self.mode} mode; {other} mode: {verdict_word(self.verdict, other)})  "
                f"Kendall tau {self.kendall_tau:.3f} at the campaign's points, paired {self.paired_by}")
        need = runs_needed_text(self.runs_needed())
        return line + (f"; runs needed: {need}" if need and self.outcome == "inconclusive" else "")


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


def verdict_word(verdict: Any, mode: str | None = None) -> str:
    """The overall outcome word of a :class:`~.fidelity.Verdict` (or its dict) in ``mode``."""
    if isinstance(verdict, dict):
        if mode is not None and isinstance(verdict.get("verdicts"), dict) and mode in verdict["verdicts"]:
            return str(verdict["verdicts"][mode])
        return str(verdict["verdict"])
    if mode is not None and callable(getattr(verdict, "verdict_for", None)):
        return str(verdict.verdict_for(mode))
    return str(verdict.verdict)


def runs_needed_text(needed: dict[str, Any]) -> str:
    """``"+40 walks runs, +120 centres runs"`` from a ``runs_needed`` dict (empty when nothing is needed)."""
    parts = []
    for k, v in needed.items():
        if isinstance(v, (int, float, np.integer, np.floating)) and v > 0:
            parts.append(f"+{int(v):,} {k} runs")
        elif v:
            parts.append(f"{k}: {v}")
    return ", ".join(parts)


def _open(src: FitnessSource | str | Path, what: str, space: str) -> FitnessSource:
    if isinstance(src, str):
        return open_source(src, space=space)
    if isinstance(src, Path):
        raise LandscapeError(f"{what} {src} is a path; name a source as table:FILE:COLUMN, surrogate:DIR:TASK "
                             "or db:DB.parquet:TASK")
    return check_source(src)


def emulated_plan(runs: int, degree: int, **kw: Any) -> SamplingPlan:
    """Strata sizes of an emulated campaign of ``runs`` archs (raises when one unit per stratum cannot fit)."""
    minimum = 3 * (degree + 1)
    if int(runs) < minimum:
        raise LandscapeError(f"--campaign-runs {runs} is too small: a campaign must hold one unit of each stratum "
                             f"(a third each for points, walks and complete neighbourhoods of {degree + 1} archs), "
                             f"i.e. at least {minimum} runs on this space")
    return SamplingPlan.for_campaign(int(runs), degree, **kw)


def _check_strata(strata: Strata, truth: FitnessSource) -> None:
    have = [n for n, v in (("points", strata.points), ("walks", strata.walks), ("centres", strata.centres),
                           ("edges", strata.edges)) if v is not None and len(v)]
    if not any(n in have for n in ("walks", "centres", "edges")) or "points" not in have:
        raise LandscapeError(
            f"the campaign of {truth.name} lacks the strata a verdict needs (it has {', '.join(have) or 'none'}); "
            "plan [strata.random] plus [strata.walks] and/or [strata.neighbourhoods] "
            "(see campaign/configs/smoke.toml)")


def judge(truth: FitnessSource | str, surrogate: FitnessSource | str, *, mode: str = "value",
          paired: FitnessSource | str = "out-of-fold", folds: int = 5,
          strata: Strata | None = None, plan: SamplingPlan | None = None,
          surrogate_plan: SamplingPlan | None = None, campaign_runs: int | None = None,
          tolerances: Any = None, seed: int = 0, space: str = "nb201",
          oof: tuple[np.ndarray, np.ndarray] | None = None) -> Judgement:
    """Judge ``surrogate`` against ``truth``: the one entry point of the CLI, the report and the demo.

    Parameters
    ----------
    truth, surrogate : FitnessSource or str
        Sources or specs (``table:FILE:COLUMN``, ``surrogate:DIR:TASK``, ``db:DB.parquet:TASK``).
    mode : {"value", "rank"}
        ``rank`` judges only rank-invariant features (faithful for comparison-based search).
    paired : "out-of-fold", "in-sample" or FitnessSource
        What the paired comparisons evaluate at the campaign's archs. Out-of-fold
        (default) refits the surrogate benchmark's model ``folds`` times on the
        campaign; ``in-sample`` uses the surrogate as it is (optimistic: it may have
        been fitted on those archs); a source is used as given.
    folds : int
        Folds of the out-of-fold refits (>= 2).
    strata : Strata, optional
        The campaign's archs; default: rebuilt from a database, drawn on a table.
    plan, surrogate_plan : SamplingPlan, optional
        Analysis plan of the truth (default: :meth:`SamplingPlan.for_campaign` of
        ``campaign_runs`` on a table, :class:`SamplingPlan` on a database) and of
        the surrogate's fresh samples (default :class:`SamplingPlan`).
    campaign_runs : int, optional
        Size of the emulated campaign on a table truth (default 1,500).
    tolerances : dict, optional
        Feature -> tolerance (default: the verdict's defaults).
    seed : int
        Seeds the strata, the folds and every bootstrap.
    space : str
        Space of table specs.
    oof : (archs, predictions), optional
        Out-of-fold predictions already computed with :func:`out_of_fold` (same folds and seed).
    """
    from .fidelity import fidelity

    if mode not in MODES:
        raise LandscapeError(f"--mode {mode!r}: expected one of {', '.join(MODES)}")
    if int(folds) < 2:
        raise LandscapeError(f"--folds {folds}: out-of-fold predictions need at least 2 folds")
    truth, surrogate = _open(truth, "ground truth", space), _open(surrogate, "surrogate", space)
    if truth.space.name != surrogate.space.name:
        raise LandscapeError(f"ground truth {truth.name!r} is in space {truth.space.name!r} but surrogate "
                             f"{surrogate.name!r} is in {surrogate.space.name!r}; compare sources of one space")
    if not is_complete(surrogate):
        raise LandscapeError(f"surrogate {surrogate.name!r} only holds some archs; judge a surrogate benchmark "
                             "(surrogate:DIR:TASK) or a table column (table:FILE:COLUMN)")
    s0 = int(seed)
    warnings: list[str] = []
    runs: int | None = None
    if is_complete(truth):
        runs = int(campaign_runs) if campaign_runs is not None else DEFAULT_CAMPAIGN_RUNS
        if plan is None:
            plan = emulated_plan(runs, truth.space.degree)
        if strata is None:
            strata = plan_strata(truth.space, plan.n_points, plan.n_walks, plan.walk_length, plan.n_centres,
                                 np.random.default_rng([s0, 1]))
    else:
        if campaign_runs is not None:
            raise LandscapeError(f"--campaign-runs emulates a campaign on a table; {truth.name} is a database "
                                 "whose campaign is what it holds (drop --campaign-runs)")
        own_strata = getattr(truth, "strata", None)  # a database source rebuilds its campaign's strata
        if strata is None and callable(own_strata):
            strata = own_strata()
        plan = plan or SamplingPlan()
    if strata is not None:
        _check_strata(strata, truth)
    used_folds: int | None = None
    if isinstance(paired, str):
        if paired not in PAIRED_CHOICES:
            raise LandscapeError(f"paired={paired!r}: expected one of {', '.join(PAIRED_CHOICES)} or a source")
        if paired == "in-sample":
            paired_src, paired_by = None, "in-sample (the surrogate as fitted)"
            if _refittable(surrogate) is not None:
                warnings.append("paired comparisons and Kendall tau use in-sample predictions: the surrogate may "
                                "have been fitted on these very archs, so they are optimistic (drop --in-sample)")
        else:
            paired_src, paired_by = paired_predictions(truth, surrogate, strata, folds=folds, seed=s0, oof=oof)
            used_folds = int(folds) if paired_src is not None else None
    else:
        paired_src, paired_by = check_source(paired), f"given ({paired.name})"
    v = fidelity(truth, surrogate, strata=strata, plan=plan, surrogate_plan=surrogate_plan or SamplingPlan(),
                 tolerances=tolerances, seed=s0, mode=mode, paired=paired_src, truth_adaptive=False)
    return Judgement(v, paired_by, truth.name, surrogate.name, mode, runs, used_folds, warnings)


__all__ = ["EXIT_CODES", "Judgement", "PairedSource", "campaign_targets", "clone_model", "emulated_plan", "judge",
           "model_template", "out_of_fold", "paired_predictions", "predict_dist", "runs_needed_text",
           "verdict_word"]
