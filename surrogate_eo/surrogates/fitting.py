"""Fit a :class:`~surrogate_eo.surrogates.benchmark.Benchmark` from a reference table or a results database.

A *target* is one (task, metric, epoch) with its training archs and values.
:func:`table_targets` reads them from a :class:`~surrogate_eo.reference.ReferenceTable`
(NAS-Bench-201 column names such as ``Cifar10TestAccuracy12Epochs`` are parsed
into ``("cifar10", "test_acc", 12)``); :func:`database_targets` asks a
``surrogate_eo.database.Database`` (``db.targets(task, metric, epoch, seed_average)``),
including the per-seed rows that measure seed-to-seed noise.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._types import DatabaseLike
from ..errors import SurrogateError
from ..spaces import SPACES, SearchSpace, get_space
from .base import Surrogate, accepted_params, check_training_data, make_model
from .benchmark import RUNTIME_METRIC, Benchmark, Entry
from .conformal import conformal_noise, noise_info, seed_grid, seed_noise_spec
from .ensemble import MultiFidelity
from .splits import random_split

if TYPE_CHECKING:
    from ..reference import ReferenceTable

_COLUMN_RE = re.compile(r"^(cifar10|cifar100|imagenet16|imagenet)(test|valid|val|train)accuracy(\d+)epochs$", re.I)
_TASK_NAMES = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet16", "imagenet": "imagenet16"}


@dataclass
class Target:
    """Training data of one benchmark entry (``y`` already transformed; per-seed rows optional)."""

    task: str
    metric: str
    epoch: int | None
    archs: np.ndarray
    y: np.ndarray
    transform: str = "identity"
    seed_archs: np.ndarray | None = None
    seed_y: np.ndarray | None = None
    source: str = ""


def parse_column(name: str) -> tuple[str, str, int | None]:
    """``(task, metric, epoch)`` of an NB201/NATS column name; other names give ``("table", name, None)``."""
    m = _COLUMN_RE.match(name)
    if not m:
        return "table", name, None
    split = {"valid": "val", "val": "val", "test": "test", "train": "train"}[m.group(2).lower()]
    return _TASK_NAMES[m.group(1).lower()], f"{split}_acc", int(m.group(3))


def table_targets(table: ReferenceTable, columns: Sequence[str] | None = None, *, task: str | None = None,
                  metric: str | None = None, epoch: int | None = None,
                  seed_columns: dict[str, str] | None = None) -> list[Target]:
    """Targets from a reference table: one per column (``None``: every column, first of duplicates kept).

    ``task``/``metric``/``epoch`` override what :func:`parse_column` reads from the name
    (only with a single column). ``seed_columns`` maps a (seed-averaged) column to a
    single-seed column of the same metric, e.g. NB201's ``{"CIFAR10TestAccuracy200Epochs":
    "Cifar10TestAccuracy200Epochs"}``: its values become the target's single runs, from
    which the seed noise and the single-run intervals are measured.
    """
    cols = list(table.columns) if columns is None else list(columns)
    if not cols:
        raise SurrogateError(f"reference table {table.name} has no numeric columns to fit")
    if (task or metric or epoch is not None) and len(cols) != 1:
        raise SurrogateError("task/metric/epoch overrides need exactly one column; got " + ", ".join(cols))
    archs = table.space.enumerate()
    out, seen = [], set()
    for c in cols:
        t, m, e = parse_column(c)
        t, m, e = task or t, metric or m, (epoch if epoch is not None else e)
        if (t, m, e) in seen:
            if columns is None:
                continue
            raise SurrogateError(f"columns {cols} give two targets for task={t}, metric={m}, epoch={e}")
        seen.add((t, m, e))
        single = (seed_columns or {}).get(c)
        out.append(Target(t, m, e, archs, table.all_values(c), source=f"{table.name}:{c}",
                          seed_archs=None if single is None else archs,
                          seed_y=None if single is None else table.all_values(single)))
    unused = set(seed_columns or {}) - set(cols)
    if unused:
        raise SurrogateError(f"seed_columns names columns that are not fitted: {sorted(unused)}; fitted: {cols}")
    return out


def _db_space(db: DatabaseLike, arch_strings: Sequence[str]) -> SearchSpace:
    runs = getattr(db, "runs", None)
    names = sorted(set(runs["space"])) if runs is not None and "space" in runs else []
    if len(names) > 1:
        raise SurrogateError(f"the database mixes spaces {names}; fit one space at a time (space=...)")
    if names and names[0] in SPACES:
        return get_space(names[0])
    for cand in SPACES:
        space = get_space(cand)
        if arch_strings and space.is_valid(arch_strings[0]):
            return space
    raise SurrogateError("cannot tell the search space of the database's architecture strings; pass space=")


def database_targets(db: DatabaseLike, tasks: Sequence[str], metrics: Sequence[str] = ("val_acc",),
                     epochs: Sequence[int | None] = (None,), *, runtime: bool = False,
                     space: str | None = None) -> tuple[SearchSpace, list[Target]]:
    """Targets from a results database (seed-averaged, plus per-seed rows for the noise model).

    ``runtime=True`` adds a ``wall_seconds`` target per task (the whole run's
    wall time), modelled in log-seconds. Epochs are 1-based as in the database.
    """
    out: list[Target] = []
    sp: SearchSpace | None = get_space(space) if space else None
    jobs = [(t, m, e, "identity") for t in tasks for m in metrics for e in epochs]
    if runtime:
        jobs += [(t, RUNTIME_METRIC, None, "log") for t in tasks]
    for t, m, e, transform in jobs:
        kw = {"space": space} if space else {}
        strings, y = db.targets(t, m, epoch=e, seed_average=True, **kw)
        strings = list(strings)
        if not strings:
            raise SurrogateError(f"database has no finished runs for task={t}, metric={m}, epoch={e}")
        sp = sp or _db_space(db, strings)
        s_strings, s_y = db.targets(t, m, epoch=e, seed_average=False, **kw)
        yy, sy = np.asarray(y, dtype=np.float64), np.asarray(s_y, dtype=np.float64)
        if transform == "log":
            yy, sy = np.log(np.maximum(yy, 1e-9)), np.log(np.maximum(sy, 1e-9))
        out.append(Target(t, m, e, sp.from_strings(strings), yy, transform,
                          sp.from_strings(list(s_strings)), sy, source=f"{getattr(db, 'path', 'database')}"))
    if sp is None:
        raise SurrogateError("database_targets: no tasks/metrics/epochs requested")
    return sp, out


def seed_deviations(space: SearchSpace, archs: np.ndarray, y: np.ndarray) -> tuple[float, int, np.ndarray]:
    """Seed noise of repeated runs: pooled within-arch std, number of repeated archs, deviations.

    The deviations are ``y_run - mean(y_arch)`` of every run of an arch with two or more
    runs (target units). They are not rescaled: a model fitted on arch means already
    carries ``1/k`` of the seed variance in its residuals, so one run scatters around
    the model by the residual plus exactly such a deviation.
    """
    ok = np.isfinite(y)
    idx = space.index(archs[ok])
    yy = y[ok]
    uniq, inv, counts = np.unique(idx, return_inverse=True, return_counts=True)
    means = np.bincount(inv, weights=yy) / counts
    dof = int((counts - 1).sum())
    if dof == 0:
        return 0.0, 0, np.empty(0)
    dev = yy - means[inv]
    return float(np.sqrt((dev ** 2).sum() / dof)), int((counts > 1).sum()), dev[counts[inv] > 1]


def single_run_residuals(space: SearchSpace, archs: np.ndarray, values: np.ndarray, run_archs: np.ndarray,
                         run_y: np.ndarray) -> np.ndarray:
    """``y_run - values(arch)`` for every finite run of an arch in ``archs`` (target units).

    ``values`` is one number per arch of ``archs``: out-of-fold predictions (single-run
    residuals) or the arch's own target value (seed deviations). Runs of other archs are skipped.
    """
    ok = np.isfinite(run_y)
    keys = space.index(archs)
    if not len(keys):
        return np.empty(0)
    order = np.argsort(keys, kind="stable")
    runs = space.index(run_archs[ok])
    at = np.minimum(np.searchsorted(keys[order], runs), len(keys) - 1)
    hit = keys[order][at] == runs
    return run_y[ok][hit] - values[order[at[hit]]]


def stratum_scores(db: DatabaseLike, task: str, metric: str = "val_acc", *, model: str | Surrogate = "xgb",
                   epoch: int | None = None, train_strata: Sequence[str] | None = None, seed: int = 0) -> Any:
    """Leave-one-stratum-out quality on a results database.

    Each arch gets the stratum of its runs (``db.runs["stratum"]``, first one
    when several); for each held-out stratum a fresh model is fitted on the
    others (or on ``train_strata``) and scored on it.

    Returns
    -------
    pandas.DataFrame
        One row per held-out stratum: ``stratum``, ``n_train``, ``n_test`` and the metric columns.
    """
    import pandas as pd

    from .metrics import evaluate
    from .splits import leave_one_stratum_out

    strings, y = db.targets(task, metric, epoch=epoch, seed_average=True)
    strings = list(strings)
    space = _db_space(db, strings)
    runs = db.runs[db.runs["task"] == task]
    first = runs.drop_duplicates("arch").set_index("arch")["stratum"]
    strata = [str(first.get(a, "")) for a in strings]
    archs = space.from_strings(strings)
    rows = []
    for held, tr, te in leave_one_stratum_out(strata, train_strata):
        if len(te) < 2 or len(tr) < 2:
            continue
        m = _build(model, space.name, seed, {}).fit(archs[tr], y[tr])
        rows.append({"stratum": held, "n_train": len(tr), "n_test": len(te), **evaluate(y[te], m.predict(archs[te]))})
    return pd.DataFrame(rows)


def data_hash(archs: np.ndarray, y: np.ndarray) -> str:
    """sha256 of the training data (arch vectors as int64, targets as float64)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(archs, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()


def _build(model: str | Surrogate, space: str, seed: int, params: dict[str, Any]) -> Surrogate:
    if isinstance(model, Surrogate):
        return model.clone()
    return make_model(model, space, seed=seed, **params)


def fit_targets(space: SearchSpace, targets: list[Target], *, model: str | Surrogate = "xgb",
                model_params: dict[str, Any] | None = None, tune: int = 0, cv: int = 3,
                objective: str = "kendall_tau", train_fraction: float = 1.0, seed: int = 0,
                multi_fidelity: bool = False, progress: bool = False, seed_noise: float | np.ndarray | None = None,
                conformal: bool = True, conformal_folds: int = 5,
                meta: dict[str, Any] | None = None, auto_candidates: Sequence[str] | None = None) -> Benchmark:
    """Fit one model per target (or one :class:`MultiFidelity` per task/metric) and bundle them.

    ``train_fraction < 1`` keeps a random share of the architectures (the same
    archs for every target) so the rest can evaluate the benchmark.
    ``model="auto"`` picks a model per target by size and ``cv``-fold Kendall τ
    (:func:`~surrogate_eo.surrogates.auto.select_model`; the choice and scores go to
    ``entry.info["auto"]``; ``auto_candidates`` overrides its size-based candidate
    list, e.g. to leave out the GNN). ``conformal`` (default) fits ``conformal_folds``
    extra clones per target to measure out-of-fold residuals, the model-error
    part of the noise model (``entry.info["conformal"]``). ``seed_noise`` sets
    the seed noise of every quality target whose data has no repeated seeds,
    e.g. a seed-averaged table: σ_seed (target units, e.g. 0.0032 = 0.32 pp; a
    normal is assumed) or measured deviations of single runs from their seed
    mean (a 1-D array; its quantiles are kept). Repeated seeds in a database
    always take precedence: their deviations from the arch means are kept as
    a quantile grid (``entry.info["noise"]["quantiles"]``).
    """
    from .tuning import tune_model

    given = seed_noise_spec(seed_noise) if seed_noise is not None else None
    params = dict(model_params or {})
    if train_fraction < 1.0:
        union = np.unique(np.concatenate([space.index(t.archs) for t in targets]))
        tr, _ = random_split(len(union), train_fraction, seed=seed)
        keep_idx = union[tr]
    groups: dict[tuple[str, str, int | None, bool], list[Target]] = {}
    for t in targets:
        mf = multi_fidelity and t.epoch is not None and t.metric != RUNTIME_METRIC
        groups.setdefault((t.task, t.metric, None if mf else t.epoch, mf), []).append(t)
    entries, tuning = [], []
    bar = _progress(progress, len(groups))
    for (task, _metric, _epoch, mf), group in groups.items():
        rows = []
        for t in group:
            mask = np.isin(space.index(t.archs), keep_idx) if train_fraction < 1.0 else np.ones(len(t.y), bool)
            rows.append((t.archs[mask], t.y[mask], np.full(int(mask.sum()), t.epoch or 0)))
        archs = np.concatenate([r[0] for r in rows])
        y = np.concatenate([r[1] for r in rows])
        ep = np.concatenate([r[2] for r in rows])
        info: dict[str, Any] = {"source": group[0].source, "n_train": int(len(y)), "data_sha256": data_hash(archs, y)}
        if isinstance(model, str) and model == "auto":
            from .auto import select_model

            top = ep == ep.max()
            chosen, scores = select_model(space.name, archs[top], y[top], cv=cv, seed=seed, params=params,
                                          candidates=auto_candidates)
            info["auto"] = {"chosen": chosen, "cv_kendall_tau": scores, "cv": cv}
            base = _build(chosen, space.name, seed, {k: v for k, v in params.items() if k in accepted_params(chosen)})
        else:
            base = _build(model, space.name, seed, params)
        if tune:
            top = ep == ep.max()  # a multi-fidelity group is tuned on its highest epoch
            batch, yy = check_training_data(space, archs[top], y[top])
            base, results = tune_model(base, batch, yy, n_trials=tune, cv=cv, objective=objective, seed=seed)
            tuning += [{"task": task, "metric": group[0].metric, "epoch": group[0].epoch, **r.to_dict()}
                       for r in results]
            info["tuning"] = [{"family": r.family, "best_value": r.best_value, "default_value": r.default_value,
                               "objective": r.objective, "best_params": r.best_params} for r in results]
        t0 = group[0]
        if mf:
            fitted: Surrogate = MultiFidelity(base=base).fit(archs, y, ep)
            epoch = None
        else:
            fitted, epoch = base.fit(archs, y), t0.epoch
        noise, grid, n_rep, runs = 0.0, None, 0, t0.seed_archs is not None and t0.seed_y is not None and not mf
        if runs:
            noise, n_rep, dev = seed_deviations(space, t0.seed_archs, t0.seed_y)
            if n_rep == 0:  # one run per arch (a table's single-seed column): deviations from the target values
                dev = single_run_residuals(space, archs, y, t0.seed_archs, t0.seed_y)
                noise = float(np.std(dev)) if len(dev) else 0.0
            runs = len(dev) >= 10 and bool(np.any(dev != 0.0))
            if runs:
                grid = seed_grid(dev)
                info["noise"] = noise_info(noise, grid, n_rep, "repeated seeds" if n_rep else "single runs")
        if not runs and given is not None and t0.metric != RUNTIME_METRIC:
            noise, grid = given
            info["noise"] = noise_info(noise, grid, 0, "given (seed_noise)")
        if conformal and not mf:
            batch, yy = check_training_data(space, archs, y)
            if len(yy) >= 2 * max(2, int(conformal_folds)):
                nm, oof = conformal_noise(base, batch, yy, seed_std=noise, folds=conformal_folds, seed=seed,
                                          seed_quantiles=grid)
                res = single_run_residuals(space, batch, oof, t0.seed_archs, t0.seed_y) if runs else []
                if len(res) >= 10:  # the direct single-run grid
                    nm = nm.with_single_runs(res)
                info["conformal"] = {**nm.to_dict(), "folds": int(conformal_folds)}
        entries.append(Entry(task, t0.metric, epoch, fitted, t0.transform, noise, info,
                             np.unique(archs, axis=0)))
        bar.advance()
    bar.close()
    meta = dict(meta or {})
    meta.update({"train_fraction": train_fraction, "seed": seed, "tuning": tuning})
    return Benchmark(space, entries, meta)


def fit_benchmark(source: ReferenceTable | DatabaseLike, *, columns: Sequence[str] | None = None, tasks: Sequence[str] | None = None,
                  metrics: Sequence[str] = ("val_acc",), epochs: Sequence[int | None] = (None,),
                  runtime: bool = False, seed_columns: dict[str, str] | None = None, **kwargs: Any) -> Benchmark:
    """Fit a benchmark from a :class:`~surrogate_eo.reference.ReferenceTable` or a results ``Database``.

    Parameters
    ----------
    source : ReferenceTable or Database
    columns : table columns to fit (table only; default every column).
    tasks, metrics, epochs : what to fit (database only; ``epochs=(None,)`` is the final epoch).
    runtime : bool
        Also fit the ``wall_seconds`` runtime model (database only).
    seed_columns : dict, optional
        Table only: fitted column -> single-seed column of the same metric (see
        :func:`table_targets`); the seed noise and single-run intervals are then measured.
    **kwargs
        Passed to :func:`fit_targets` (model — a name, ``"auto"`` or a Surrogate —,
        model_params, tune, cv, objective, train_fraction, seed, multi_fidelity,
        progress, seed_noise, conformal, conformal_folds, auto_candidates).
    """
    from ..reference import ReferenceTable

    if isinstance(source, ReferenceTable):
        targets = table_targets(source, columns, seed_columns=seed_columns)
        meta = {"source": {"kind": "table", "name": source.name, "columns": [t.source for t in targets]}}
        return fit_targets(source.space, targets, meta=meta, **kwargs)
    if hasattr(source, "targets"):
        if seed_columns:
            raise SurrogateError("seed_columns picks single-seed columns of a table; a database's repeated seeds "
                                 "are used as they are")
        if not tasks:
            raise SurrogateError("fitting from a database needs tasks=[...] (e.g. so2sat-s2)")
        space, targets = database_targets(source, tasks, metrics, epochs, runtime=runtime)
        meta = {"source": {"kind": "database", "name": str(getattr(source, "path", "database")),
                           "tasks": list(tasks), "metrics": list(metrics), "epochs": list(epochs)}}
        return fit_targets(space, targets, meta=meta, **kwargs)
    raise SurrogateError(f"cannot fit a benchmark from {type(source).__name__}; pass a ReferenceTable or Database")


class _progress:
    def __init__(self, enabled: bool, total: int) -> None:
        from .._progress import Progress  # a bar on a terminal, plain periodic lines in a pipe or file

        self._bar = Progress("fitting surrogates", total, enabled=enabled, unit="models")
        self._bar.start()

    def advance(self) -> None:
        self._bar.advance()

    def close(self) -> None:
        self._bar.stop()
