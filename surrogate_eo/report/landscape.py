"""Landscape comparison and verdict: the numbers of the report's fidelity sections.

A verdict (:class:`~surrogate_eo.landscape.Verdict`) comes in as an object,
its JSON (``surrogate-eo fidelity --json``) or not at all — then the report
computes it with :func:`~surrogate_eo.landscape.judge.judge`, the entry point
``surrogate-eo fidelity`` uses too, with the **paired** landscape taken from the
out-of-fold predictions at the campaign's archs (the same folds and seed as the
accuracy section, so the same inputs give the same verdict as the CLI). Histograms and FDC scatters need the sampled fitness values,
which a verdict object carries and its JSON does not; for a JSON they are
drawn again from the database and the benchmark with the verdict's own plans
and seed.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._types import BenchmarkLike, DatabaseLike, EntryLike
from ..errors import LandscapeError, ReportError
from .data import ReportOptions, finite_or_none, plain

if TYPE_CHECKING:
    from ..landscape.sources import BenchmarkSource, DatabaseSource

MODES = ("truth", "paired", "distributional")
#: Features shown in the local-optima table (when a footprint has them).
OPTIMA_FEATURES = ("local_optima_fraction", "local_optima_strict", "neutral_walk_length", "climb_optima_distinct",
                   "climb_length_mean", "climb_optimum_fitness_mean", "optima_estimate_birthday")
#: Map features drawn as grouped bars (keyed by epsilon or quantile).
MAP_FEATURES = ("fitness_quantiles", "neutrality", "information_content", "persistence_top")


def _read_verdict(item: Any, where: str) -> tuple[Any, dict[str, Any], str]:
    """(Verdict object or None, verdict dict, origin) of one fidelity input."""
    from ..landscape._json import read_json_file
    from ..landscape.judge import Judgement
    from ..landscape.verdict import Verdict
    from ..landscape.verdict_schema import check_verdict

    if isinstance(item, Judgement):
        return item.verdict, item.to_dict(), "given as a Judgement object"
    if isinstance(item, Verdict):
        return item, item.to_dict(), "given as a Verdict object"
    origin = "given as a dict"
    if isinstance(item, (str, Path)):
        path = Path(item)
        item = read_json_file(path, "fidelity file", "write one with surrogate-eo fidelity --db DB "
                              "--surrogate DIR --task T --json FILE", ReportError)
        origin = f"read from {path}"
    try:
        return None, check_verdict(item), origin
    except LandscapeError as exc:
        raise ReportError(f"{where}: {exc}") from None


def _task_of(vd: Mapping[str, Any]) -> str | None:
    src = str(vd.get("footprints", {}).get("truth", {}).get("source", ""))
    parts = src.split(":")
    return parts[1] if len(parts) >= 3 and parts[0] == "db" else None


def verdict_inputs(fidelity: Any, tasks: list[str]) -> dict[str, tuple[Any, dict[str, Any], str]]:
    """Normalise the ``fidelity`` argument into ``task -> (Verdict or None, dict, origin)``."""
    if fidelity is None:
        return {}
    if isinstance(fidelity, (list, tuple)):
        items: list[tuple[Any, Any]] = [(None, f) for f in fidelity]
    elif not isinstance(fidelity, Mapping) or "schema" in fidelity:
        items = [(None, fidelity)]
    else:
        items = list(fidelity.items())
    out: dict[str, tuple[Any, dict[str, Any], str]] = {}
    for i, (key, item) in enumerate(items):
        where = f"fidelity[{key!r}]" if key is not None else (str(item) if isinstance(item, (str, Path)) else
                                                              f"fidelity input {i + 1}")
        obj, vd, origin = _read_verdict(item, where)
        task = key if key is not None else (_task_of(vd) or (tasks[0] if len(tasks) == 1 else None))
        if task is None:
            raise ReportError(f"{where}: cannot tell which task the verdict is for (its truth source is "
                              f"{vd['footprints'].get('truth', {}).get('source')!r}); pass {{task: verdict}}")
        if task not in tasks:
            raise ReportError(f"{where} judges task {task!r}, which is not reported (tasks: {', '.join(tasks)})")
        if task in out:
            raise ReportError(f"{where}: a second fidelity verdict for task {task!r}; give one per task")
        out[task] = (obj, vd, origin)
    return out


def _sources(db: DatabaseLike, bench: BenchmarkLike, task: str,
             metric: str) -> tuple[EntryLike, DatabaseSource, BenchmarkSource]:
    from ..landscape import BenchmarkSource, DatabaseSource

    entry, _ = bench.entry(task, metric)
    truth = DatabaseSource(db, task, metric=metric, epoch=entry.epoch, space=bench.space.name)
    return entry, truth, BenchmarkSource(bench, task, metric=metric, epoch=entry.epoch)


def compute_verdict(db: DatabaseLike, bench: BenchmarkLike, task: str, metric: str, oof: Mapping[str, Any] | None,
                    options: ReportOptions) -> Any:
    """The fidelity :class:`~surrogate_eo.landscape.judge.Judgement` of ``bench`` against the database.

    Computed by :func:`~surrogate_eo.landscape.judge.judge` (value mode; the rank mode's outcome
    comes with it), paired on out-of-fold predictions: ``oof`` (from the accuracy section, the same
    :func:`~surrogate_eo.landscape.judge.out_of_fold` with the same folds and seed) or refitted here.
    """
    from ..landscape import SamplingPlan
    from ..landscape.judge import judge

    _, truth, sur = _sources(db, bench, task, metric)
    plan = options.plan or SamplingPlan()
    pre = None if oof is None else (np.asarray(oof["archs"]), np.asarray(oof["pred"], dtype=float))
    return judge(truth, sur, mode="value", paired="out-of-fold", folds=int(options.cv_folds), plan=plan,
                 surrogate_plan=options.surrogate_plan or plan, seed=int(options.seed), oof=pre)


def _samples(obj: Any, vd: Mapping[str, Any], db: DatabaseLike, bench: BenchmarkLike, task: str,
             metric: str) -> dict[str, Any]:
    """Per mode: sampled archs and fitness of the points stratum, and the truth's best archs."""
    if obj is not None and all(getattr(obj, m).data is not None for m in MODES):
        data = {"truth": obj.truth.data, "paired": obj.paired.data, "distributional": obj.distributional.data}
        return {"data": data, "best": obj.truth.data.best_archs, "redrawn": False}
    from ..landscape import collect
    from ..landscape.verdict_schema import check_plan

    _, truth, sur = _sources(db, bench, task, metric)
    fps = vd["footprints"]
    plan_t = check_plan(fps["truth"].get("plan", {}), "footprints.truth.plan")
    plan_d = check_plan(fps["distributional"].get("plan", {}), "footprints.distributional.plan")
    seed = fps["truth"].get("seed")
    s0 = seed if isinstance(seed, int) else 0  # a generator seed was saved as text
    dt = collect(truth, plan_t, seed=np.random.default_rng([s0, 1]), adaptive=False)
    dp = collect(sur, plan_t, strata=dt.cache["strata"], adaptive=False)
    dd = collect(sur, plan_d, seed=np.random.default_rng([s0, 2]), adaptive=False)
    return {"data": {"truth": dt, "paired": dp, "distributional": dd}, "best": dt.best_archs, "redrawn": True}


def _features(vd: Mapping[str, Any]) -> dict[str, Any]:
    from ..landscape.features import REGISTRY

    fps = vd["footprints"]
    names = [n for n in REGISTRY if any(n in fps[m].get("features", {}) for m in MODES)]
    out = {}
    for n in names:
        per = {m: fps[m]["features"].get(n) for m in MODES}
        first = next(v for v in per.values() if v is not None)
        out[n] = {"description": REGISTRY[n].description, "unit": REGISTRY[n].unit,
                  "is_map": isinstance(first["value"], dict),
                  **{m: (None if v is None else {"value": v["value"], "ci": v["ci"], "n": v["n"]})
                     for m, v in per.items()}}
    return out


def _reason(c: Mapping[str, Any], level: float) -> str:
    """Why a comparison came out as it did: the verdict's own reason, then its interval against the band."""
    tol = c["tolerance"]
    parts = []
    if tol.get("abs") is not None:
        parts.append(f"|diff| <= {tol['abs']:g}")
    if tol.get("ratio") is not None:
        parts.append(f"within a factor {tol['ratio']:g}")
    tol_text = " or ".join(parts) + (f"; {tol['why']}" if tol.get("why") else "")
    t, s = c.get("truth"), c.get("surrogate")
    own = str(c.get("reason") or "").rstrip(".")
    if t is None or s is None:
        which = "surrogate's" if s is None else "ground truth's"
        return own or f"the {which} landscape does not yield this feature (no value)"
    lo, hi = c["ci"]
    band = c.get("band") or [None, None]
    ci = f"simultaneous {round(100 * level)}% CI [{_f(lo)}, {_f(hi)}]"
    band_text = f"allowed band [{_f(band[0])}, {_f(band[1])}] ({tol_text})"
    where = {"faithful": "inside", "unfaithful": "entirely outside"}.get(c["verdict"], "partly outside")
    text = f"surrogate - truth = {_f(c['diff'])}; its {ci} lies {where} the {band_text}"
    return f"{own}: {text}" if own else text


def _f(x: Any, fmt: str = "+.4g") -> str:
    return "n/a" if x is None or not math.isfinite(float(x)) else format(float(x), fmt)


def _subsample(n: int, k: int, seed: int) -> np.ndarray:
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, k, replace=False))


def landscape_section(db: DatabaseLike, bench: BenchmarkLike, task: str, metric: str, verdict_in: Any,
                      oof: Mapping[str, Any], options: ReportOptions) -> dict[str, Any]:
    """Landscape-comparison and verdict numbers of one task."""
    from ..landscape.features.distribution import nearest_distance

    if verdict_in is None:
        j = compute_verdict(db, bench, task, metric, oof, options)
        obj, vd = j.verdict, j.to_dict()
        origin = f"computed by the report (paired landscape: {j.paired_by})"
    else:
        obj, vd, origin = verdict_in
    fps = vd["footprints"]
    space = fps.get("truth", {}).get("space")
    if space not in (None, "?", bench.space.name):
        raise ReportError(f"the fidelity verdict for task {task!r} is in space {space!r}, the benchmark in "
                          f"{bench.space.name!r}; give the verdict of this benchmark")
    feats = _features(vd)
    smp = _samples(obj, vd, db, bench, task, metric)
    level = float(fps["truth"].get("plan", {}).get("ci_level", 0.95))
    series: dict[str, Any] = {}
    for k, m in enumerate(MODES):
        d = smp["data"][m]
        f = np.asarray(d.f_points, dtype=float)
        dist = nearest_distance(d.points, np.asarray(smp["best"])) if len(f) else np.zeros(0, int)
        idx = _subsample(len(f), options.max_points, options.seed + k)
        series[m] = {"source": fps[m].get("source"), "n": int(len(f)), "fitness": f[idx], "distance": dist[idx],
                     "mean": finite_or_none(f.mean()) if len(f) else None,
                     "std": finite_or_none(f.std(ddof=1)) if len(f) > 1 else None,
                     "climb_steps": None if d.climbs is None else np.asarray(d.climbs.steps),
                     "climb_optima": None if d.climbs is None else np.asarray(d.climbs.optimum_fitness)}
    allf = np.concatenate([smp["data"][m].f_points for m in MODES])
    allf = allf[np.isfinite(allf)] if len(allf) else np.zeros(1)
    edges = np.linspace(allf.min(), allf.max() if allf.max() > allf.min() else allf.min() + 1e-6,
                        options.hist_bins + 1)
    hist = {"edges": edges, **{m: np.histogram(np.asarray(smp["data"][m].f_points, float), bins=edges,
                                               density=True)[0] for m in MODES}}
    level = float(vd.get("ci_level", level))
    comps = [{**c, "label": c["feature"] if c.get("key") is None else f"{c['feature']}[{c['key']}]",
              "why": _reason(c, level)} for c in vd["comparisons"]]
    autocorr = {}
    for m in MODES:
        a = (feats.get("autocorrelation") or {}).get(m)
        if a is not None:
            lags = sorted(a["value"], key=float)
            autocorr[m] = {"lags": [int(float(x)) for x in lags], "rho": [a["value"][x] for x in lags],
                           "lo": [a["ci"][x][0] for x in lags], "hi": [a["ci"][x][1] for x in lags]}
    return plain({
        "origin": origin, **verdict_summary(vd), "score": vd.get("score"), "counts": vd.get("counts", {}),
        "failed": sorted({c["label"] for c in comps if c.get("judged", True) and c["verdict"] == "unfaithful"}),
        "agreement": vd.get("agreement", {}), "ci_level": level, "comparisons": comps,
        "sources": {m: fps[m].get("source") for m in MODES},
        "strata": {m: fps[m].get("strata") for m in MODES},
        "n_evaluations": {m: fps[m].get("n_evaluations") for m in MODES},
        "features": feats, "autocorrelation": autocorr, "histogram": hist, "series": series,
        "samples_redrawn": smp["redrawn"],
        "local_optima": [n for n in OPTIMA_FEATURES if n in feats],
    })


def verdict_summary(vd: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict's outcome in both modes, what would settle it, and whether the campaign is too small.

    ``too_small`` comes from the evidence rule (comparisons inconclusive for lack of resampling
    units, i.e. runs needed), never from the campaign's name.
    """
    verdicts = dict(vd.get("verdicts") or {vd.get("mode", "value"): vd["verdict"]})
    needed = {m: dict(r) for m, r in (vd.get("runs_needed_by_mode") or {}).items()}
    if not needed and vd.get("runs_needed"):
        needed = {vd.get("mode", "value"): dict(vd["runs_needed"])}
    too_small = {m: verdicts[m] == "inconclusive" and bool(needed.get(m)) for m in verdicts}
    judge = vd.get("judge") or {}
    return {"verdict": vd["verdict"], "mode": vd.get("mode", "value"), "verdicts": verdicts,
            "runs_needed": needed, "too_small": too_small, "paired_by": judge.get("paired"),
            "warnings": list(judge.get("warnings", []))}


__all__ = ["MODES", "compute_verdict", "landscape_section", "verdict_inputs", "verdict_summary"]
