"""Campaign summary and surrogate accuracy: the numbers of the report's first two sections.

Accuracy is measured **out of fold**: the benchmark's model configuration is
refitted ``cv_folds`` times on the task's archs (seed-averaged targets) and
each arch is predicted by the model that did not see it. Predictions of the
shipped benchmark on archs it was not trained on ("held-out") and on its own
training archs ("in-sample") are reported beside. Strata come from the
database's plan entries (an arch planned by two strata counts in both), else
from each run's stratum.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from .._types import BenchmarkLike, DatabaseLike, EntryLike, SurrogateLike
from ..errors import ReportError
from ..landscape.judge import clone_model as _clone
from ..landscape.judge import model_template as _template
from ..landscape.judge import out_of_fold
from ..landscape.judge import predict_dist as _dist
from ..surrogates.metrics import METRIC_KEYS, evaluate
from ..surrogates.splits import learning_curve
from .data import ReportOptions, plain

#: Fewest archs with ok runs a task needs for out-of-fold accuracy.
MIN_ARCHS = 6


def campaign_section(db: DatabaseLike, tasks: list[str], metric_of: dict[str, str]) -> dict[str, Any]:
    """Runs per stratum / task / status, totals, and seed-to-seed noise of each task's metric."""
    runs = db.runs
    summary = db.summary()
    counts = [{"stratum": str(r.stratum), "task": str(r.task), "status": str(r.status), "runs": int(r.runs)}
              for r in summary.itertuples(index=False)]
    per_task = {}
    for t in sorted(set(runs["task"])):
        sel = runs[runs["task"] == t]
        per_task[t] = {"runs": int(len(sel)), "archs": int(sel["arch"].nunique()),
                       **{s: int((sel["status"] == s).sum()) for s in ("ok", "diverged", "failed")},
                       "seeds": sorted(int(s) for s in set(sel["seed"]))}
    noise = {t: seed_noise(db, t, metric_of[t]) for t in tasks}
    return plain({"n_runs": int(len(runs)), "n_archs": int(runs["arch"].nunique()),
                  "tasks": per_task, "strata": sorted(set(summary["stratum"])), "counts": counts,
                  "statuses": {s: int((runs["status"] == s).sum()) for s in ("ok", "diverged", "failed")},
                  "wall_hours": float(runs["wall_seconds"].astype(float).sum() / 3600.0),
                  "n_plan_entries": int(len(db.plan)), "noise": noise})


def seed_noise(db: DatabaseLike, task: str, metric: str) -> dict[str, Any]:
    """Seed-to-seed noise of ``metric`` on ``task`` from archs trained with two or more seeds.

    ``pooled_std`` is the pooled within-arch standard deviation (fraction,
    ddof=1 per arch); ``per_arch_std`` lists each repeated arch's standard deviation.
    """
    table = db.per_seed(task, metric)
    n_seeds = table.notna().sum(axis=1).to_numpy()
    rep = table[n_seeds >= 2]
    out: dict[str, Any] = {"metric": metric, "n_archs": int(len(table)), "n_archs_repeated": int(len(rep)),
                           "max_seeds_per_arch": int(n_seeds.max()) if len(n_seeds) else 0}
    if len(rep) == 0:
        return {**out, "pooled_std": None, "median_std": None, "per_arch_std": [], "mean_range": None}
    vals = rep.to_numpy(dtype=float)
    k = np.isfinite(vals).sum(axis=1)
    sd = np.nanstd(vals, axis=1, ddof=1)
    pooled = float(np.sqrt(((k - 1) * sd ** 2).sum() / (k - 1).sum()))
    rng = np.nanmax(vals, axis=1) - np.nanmin(vals, axis=1)
    return {**out, "pooled_std": pooled, "median_std": float(np.median(sd)), "per_arch_std": sd.tolist(),
            "mean_range": float(rng.mean())}


def arch_strata(db: DatabaseLike, task: str) -> dict[str, list[str]]:
    """Arch string -> the strata that planned it for ``task`` (plan entries, else the runs' stratum)."""
    plan = db.plan_entries(task=task) if len(db.plan) else None
    if plan is not None and len(plan):
        pairs = plan[["arch", "stratum"]].drop_duplicates()
    else:
        pairs = db.runs.loc[db.runs["task"] == task, ["arch", "stratum"]].drop_duplicates()
    out: dict[str, list[str]] = {}
    for a, s in zip(pairs["arch"], pairs["stratum"]):
        out.setdefault(str(a), []).append(str(s) if s else "(none)")
    return {a: sorted(set(s)) for a, s in out.items()}


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    if len(y) < 2:
        return {k: None for k in METRIC_KEYS}
    return evaluate(y, p)


def accuracy_section(db: DatabaseLike, bench: BenchmarkLike, task: str, metric: str,
                     options: ReportOptions) -> tuple[dict[str, Any], dict[str, Any]]:
    """Accuracy numbers of one task, and the out-of-fold predictions (for the paired fidelity verdict).

    Returns
    -------
    section : dict
        ``metrics`` (rows: out-of-fold, held-out, in-sample), ``scatter``, ``per_stratum``,
        ``learning_curve``, ``calibration``, model facts.
    oof : dict
        ``archs`` (vectors), ``pred`` (out-of-fold means, fractions).
    """
    space = bench.space
    entry, _ = bench.entry(task, metric)
    if entry.transform != "identity":
        raise ReportError(f"metric {metric!r} of task {task!r} is modelled as {entry.transform}({metric}) (a runtime "
                          "model); report a quality metric such as val_acc (--metric val_acc)")
    strings, y = db.targets(task, metric, epoch=entry.epoch, space=space.name)
    if len(y) < MIN_ARCHS:
        raise ReportError(f"task {task!r} has {len(y)} archs with ok {metric} runs; the accuracy section needs "
                          f"at least {MIN_ARCHS} (train more, or report other tasks with --task)")
    archs = space.from_strings(list(strings))
    template = _template(entry)
    seed = int(options.seed)
    mu, sd = out_of_fold(template, archs, y, options.cv_folds, seed)
    rows = [{"split": f"out-of-fold ({min(options.cv_folds, len(y))}-fold CV)", "n": int(len(y)), **_metrics(y, mu)}]
    in_train = np.zeros(len(y), bool)
    if entry.train_archs is not None and len(entry.train_archs):
        in_train = np.isin(space.index(archs), space.index(entry.train_archs))
    pred = np.asarray(bench.predict(archs, task=task, metric=metric), dtype=float)
    if (~in_train).sum() >= 2:
        rows.append({"split": "held-out (benchmark, archs it was not fitted on)", "n": int((~in_train).sum()),
                     **_metrics(y[~in_train], pred[~in_train])})
    if in_train.sum() >= 2:
        rows.append({"split": "in-sample (benchmark, its own training archs)", "n": int(in_train.sum()),
                     **_metrics(y[in_train], pred[in_train])})
    membership = arch_strata(db, task)
    labels = [membership.get(s, ["(unplanned)"]) for s in strings]
    section = {
        "metric": metric, "epoch": entry.epoch, "model": entry.model.family,
        "model_params": {k: repr(v) for k, v in template.get_params().items()},
        "n_archs": int(len(y)), "n_train_benchmark": int(in_train.sum()), "metrics": rows,
        "scatter": _scatter(y, mu, sd, labels, options),
        "per_stratum": _per_stratum(template, archs, y, mu, labels, seed),
        "learning_curve": _learning_curve(template, archs, y, options),
        "calibration": _calibration(db, task, metric, entry, space.name, strings, mu, sd, options),
    }
    return plain(section), {"archs": archs, "pred": mu}


def _scatter(y: np.ndarray, mu: np.ndarray, sd: np.ndarray, labels: list[list[str]],
             options: ReportOptions) -> dict[str, Any]:
    idx = np.arange(len(y))
    if len(idx) > options.max_points:
        idx = np.sort(np.random.default_rng(options.seed).choice(len(y), options.max_points, replace=False))
    return {"y_true": y[idx], "y_pred": mu[idx], "y_std": sd[idx], "stratum": [labels[i][0] for i in idx],
            "n_total": int(len(y)), "subsampled": bool(len(idx) < len(y))}


def _per_stratum(template: SurrogateLike, archs: np.ndarray, y: np.ndarray, mu: np.ndarray, labels: list[list[str]],
                 seed: int) -> list[dict[str, Any]]:
    """Out-of-fold errors per stratum, and leave-one-stratum-out (train on the others, test on it)."""
    names = sorted({s for lab in labels for s in lab})
    rows = []
    for s in names:
        member = np.array([s in lab for lab in labels])
        row: dict[str, Any] = {"stratum": s, "n": int(member.sum())}
        row["oof"] = _metrics(y[member], mu[member])
        row["loso"] = None
        if len(names) > 1 and (~member).sum() >= MIN_ARCHS and member.sum() >= 2:
            m = _clone(template, seed).fit(archs[~member], y[~member])
            row["loso"] = {"n_train": int((~member).sum()), **_metrics(y[member], _dist(m, archs[member])[0])}
        rows.append(row)
    return rows


def _learning_curve(template: SurrogateLike, archs: np.ndarray, y: np.ndarray,
                    options: ReportOptions) -> dict[str, Any]:
    n = len(y)
    sizes = sorted({int(round(f * n)) for f in options.learning_curve_fractions})
    sizes = [k for k in sizes if k >= 5 and n - k >= 5]
    if not sizes:
        return {"sizes": [], "rows": [], "summary": [], "note": f"too few archs ({n}) for a learning curve"}
    df = learning_curve(lambda s: _clone(template, int(s)), archs, y, sizes, seeds=options.learning_curve_seeds)
    rows = df.to_dict(orient="records")
    summary = []
    for k, g in df.groupby("n_train", sort=True):
        summary.append({"n_train": int(k), "n_seeds": int(len(g)),
                        **{f"{m}_mean": float(g[m].mean()) for m in METRIC_KEYS},
                        **{f"{m}_std": float(g[m].std(ddof=1)) if len(g) > 1 else 0.0 for m in METRIC_KEYS}})
    return {"sizes": sizes, "seeds": list(options.learning_curve_seeds), "rows": rows, "summary": summary,
            "test": "archs left out of each training subset"}


def _calibration(db: DatabaseLike, task: str, metric: str, entry: EntryLike, space: str, strings: list[str],
                 mu: np.ndarray, sd: np.ndarray, options: ReportOptions) -> dict[str, Any]:
    """Observed vs nominal coverage of single-seed results by the out-of-fold predictive interval.

    With the entry's calibrated noise model (conformal model error + seed
    noise, what ``with_noise=True`` samples from) the interval at level L is
    ``mean ± NoiseModel.interval(L, "single")`` and "model only" uses the
    model-error half-width alone (``kind="mean"``). Older entries without one
    use ``mean ± z·sqrt(σ_model² + σ_seed²)`` and the ensemble spread σ_model.
    """
    s_strings, s_y = db.targets(task, metric, epoch=entry.epoch, seed_average=False, space=space)
    pos = {s: i for i, s in enumerate(strings)}
    keep = np.array([s in pos for s in s_strings], dtype=bool)
    at = np.array([pos[s] for s, k in zip(s_strings, keep) if k], dtype=np.int64)
    obs = np.asarray(s_y, dtype=float)[keep]
    noise = float(entry.noise_std) if entry.transform == "identity" else float("nan")
    sigma = np.sqrt(sd[at] ** 2 + (noise if np.isfinite(noise) else 0.0) ** 2)
    resid = np.abs(obs - mu[at])
    levels = np.asarray(options.calibration_levels, dtype=float)
    z = stats.norm.ppf(0.5 + levels / 2.0)
    nm = entry.noise_model if entry.transform == "identity" else None
    if nm is not None:
        full = [(resid <= nm.interval(lv, "single")).mean() if len(obs) else float("nan") for lv in levels]
        model = [(resid <= nm.interval(lv, "mean")).mean() if len(obs) else float("nan") for lv in levels]
        sigma = np.full(len(obs), nm.std("single"))
    else:
        full = [(resid <= zz * sigma).mean() if len(obs) else float("nan") for zz in z]
        model = [(resid <= zz * sd[at]).mean() if len(obs) else float("nan") for zz in z]
    with np.errstate(divide="ignore", invalid="ignore"):
        zscores = np.where(sigma > 0, (obs - mu[at]) / np.where(sigma > 0, sigma, 1), np.nan)
    return {"levels": levels, "observed": full, "observed_model_only": model, "n_obs": int(len(obs)),
            "noise_std": noise, "model_std_mean": float(sd.mean()),
            "degenerate": bool(len(sigma) == 0 or float(sigma.max()) == 0.0),
            "z_std": float(np.nanstd(zscores)) if np.isfinite(zscores).any() else None,
            "stored": entry.info.get("noise"), "method": "conformal" if nm is not None else "gaussian"}


__all__ = ["MIN_ARCHS", "accuracy_section", "arch_strata", "campaign_section", "out_of_fold", "seed_noise"]
