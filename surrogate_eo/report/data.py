"""The numbers of a quality report: :class:`ReportData`, computed once from the inputs, rendered by others.

:func:`compute_report` reads (or takes) a results database, a surrogate
benchmark, fidelity verdicts and optimiser trajectories, checks that they
belong together, and computes every number the report shows:

- ``campaign`` — runs per stratum / task / status, seed-to-seed noise;
- ``accuracy`` — per task: out-of-fold predictions, metric table (incl. sparse
  Kendall τ), per-stratum and leave-one-stratum-out errors, learning curve,
  calibration of the noise model (:mod:`.accuracy`);
- ``landscape`` — per task: the fidelity verdict, features of truth /
  paired / distributional landscapes, samples for histograms and FDC
  scatters (:mod:`.landscape`);
- ``search`` — optimiser trajectories and trajectory-fidelity comparisons
  (:mod:`.search`), when given.

``ReportData.to_dict()`` is plain JSON (fractions in [0, 1], seconds,
counts); the renderers (:mod:`.plots`, :mod:`.html`, :mod:`.markdown`) only
read it.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .._types import BenchmarkLike, DatabaseLike
from ..errors import ReportError, shown

if TYPE_CHECKING:
    from ..landscape.footprint import SamplingPlan

SCHEMA = "surrogate-eo/report/1"


def plain(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays, tuples and paths turned into JSON types (NaN/inf kept as float)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def finite_or_none(x: Any) -> float | None:
    """``float(x)`` or None when missing / NaN / inf."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass
class ReportOptions:
    """What the report computes and how much work it spends.

    Attributes
    ----------
    cv_folds : int, default=5
        Folds of the out-of-fold predictions (scatter, metric table, calibration).
    learning_curve_fractions : tuple of float
        Training-set sizes of the learning curve, as fractions of the task's archs.
    learning_curve_seeds : tuple of int
        Random splits per size.
    calibration_levels : tuple of float
        Nominal coverage levels of the calibration curve (fractions in (0, 1)).
    plan, surrogate_plan : SamplingPlan, optional
        Sampling plans of the fidelity verdict when the report computes it
        (default :class:`~surrogate_eo.landscape.SamplingPlan` ``()``).
    seed : int, default=0
        Seeds the splits, the verdict and every subsample.
    max_points : int, default=2000
        Most points per series kept for scatter plots (a seeded subsample).
    hist_bins : int, default=40
        Bins of the fitness histograms.
    synthetic : str, optional
        Say so when the ground truth was trained on synthetic data: a short description
        (e.g. ``"synthetic So2Sat-format data from surrogate-eo demo"``); the report states it.
    """

    cv_folds: int = 5
    learning_curve_fractions: tuple[float, ...] = (0.1, 0.2, 0.4, 0.6, 0.8)
    learning_curve_seeds: tuple[int, ...] = (0, 1)
    calibration_levels: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.68, 0.8, 0.9, 0.95, 0.99)
    plan: SamplingPlan | None = None
    surrogate_plan: SamplingPlan | None = None
    seed: int = 0
    max_points: int = 2000
    hist_bins: int = 40
    synthetic: str | None = None

    def __post_init__(self) -> None:
        if int(self.cv_folds) < 2:
            raise ReportError(f"ReportOptions.cv_folds must be >= 2; got {self.cv_folds}")
        if any(not 0 < f < 1 for f in self.learning_curve_fractions):
            raise ReportError("ReportOptions.learning_curve_fractions must lie in (0, 1); got "
                              f"{self.learning_curve_fractions}")
        if any(not 0 < lv < 1 for lv in self.calibration_levels):
            raise ReportError(f"ReportOptions.calibration_levels must lie in (0, 1); got {self.calibration_levels}")
        if int(self.max_points) < 10 or int(self.hist_bins) < 2:
            raise ReportError(f"ReportOptions needs max_points >= 10 and hist_bins >= 2; got "
                              f"{self.max_points}, {self.hist_bins}")

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("plan", "surrogate_plan")}
        for name in ("plan", "surrogate_plan"):
            p = getattr(self, name)
            out[name] = p.to_dict() if p is not None else None
        return plain(out)


@dataclass
class ReportData:
    """Every number of a quality report, JSON-ready (see the module docstring for the sections)."""

    meta: dict[str, Any]
    campaign: dict[str, Any]
    accuracy: dict[str, Any]
    landscape: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] | None = None

    @property
    def tasks(self) -> list[str]:
        return list(self.meta.get("tasks", []))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; NaN stays float (the writer turns it into null)."""
        return plain({"schema": SCHEMA, "meta": self.meta, "campaign": self.campaign, "accuracy": self.accuracy,
                      "landscape": self.landscape, "search": self.search})

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReportData:
        """Inverse of :meth:`to_dict` (e.g. re-render a saved ``report.json``)."""
        if not isinstance(d, Mapping) or d.get("schema") != SCHEMA:
            got = d.get("schema") if isinstance(d, Mapping) else type(d).__name__
            raise ReportError(f"not a surrogate-eo report JSON (schema {shown(got, 60)}, expected {SCHEMA!r})")
        bad = [k for k in ("meta", "campaign", "accuracy") if not isinstance(d.get(k), Mapping)]
        if bad:
            raise ReportError(f"report JSON field {bad[0]!r}: expected an object, got {shown(d.get(bad[0]), 60)}; "
                              "rewrite it with surrogate-eo report")
        return cls(meta=dict(d["meta"]), campaign=dict(d["campaign"]), accuracy=dict(d["accuracy"]),
                   landscape=dict(d.get("landscape") or {}), search=d.get("search"))


# ------------------------------------------------------------------------ inputs
def load_database(db: DatabaseLike | str | Path) -> DatabaseLike:
    """A :class:`~surrogate_eo.database.Database` from itself or a Parquet path; empty ones are refused."""
    from ..database import Database

    if isinstance(db, (str, Path)):
        db = Database.read(db)
    if not hasattr(db, "runs") or not hasattr(db, "targets"):
        raise ReportError(f"db must be a Database or the path of its Parquet file; got {type(db).__name__}")
    if len(db.runs) == 0:
        raise ReportError("the database holds no runs; collect a campaign first "
                          "(surrogate-eo collect RECORDS_DIR --out DB.parquet)")
    return db


def load_bench(bench: BenchmarkLike | str | Path) -> BenchmarkLike:
    """A :class:`~surrogate_eo.surrogates.Benchmark` from itself or a saved folder."""
    if isinstance(bench, (str, Path)):
        from ..surrogates import load

        return load(bench)
    if not callable(getattr(bench, "predict", None)) or not hasattr(bench, "entries"):
        raise ReportError(f"bench must be a Benchmark or its folder; got {type(bench).__name__}")
    return bench


def check_inputs(db: DatabaseLike, bench: BenchmarkLike, tasks: Sequence[str] | None) -> list[str]:
    """Check db and bench share one space; return the tasks to report (sorted)."""
    spaces = sorted(set(db.runs["space"]))
    if spaces != [bench.space.name]:
        raise ReportError(f"the surrogate benchmark is for space {bench.space.name!r} but the database holds "
                          f"runs of {', '.join(map(repr, spaces))}; give the benchmark fitted on this database "
                          f"(surrogate-eo fit --db DB --task T --out DIR)")
    ok = db.runs[db.runs["status"] == "ok"]
    have = sorted(set(ok["task"]) & set(bench.tasks))
    if not len(ok):
        raise ReportError(f"the database has {len(db.runs)} runs but none finished ok; nothing to compare")
    if tasks:
        missing = [t for t in tasks if t not in have]
        if missing:
            raise ReportError(f"task {missing[0]!r} is not in both inputs; tasks with ok runs and a surrogate: "
                              f"{', '.join(have) or 'none'}")
        return sorted(tasks)
    if not have:
        raise ReportError(f"no task has both ok runs in the database ({', '.join(sorted(set(ok['task'])))}) "
                          f"and a model in the benchmark ({', '.join(bench.tasks)})")
    return have


@contextmanager
def progress_steps(enabled: bool, total: int) -> Iterator[Callable[[str], None]]:
    """Progress over ``total`` named steps (a bar on a terminal, plain lines otherwise); yields ``step(description)``."""
    from .._progress import Progress

    bar = Progress("report", total, enabled=enabled, unit="steps", stream=sys.stderr)
    with bar:
        seen = [0]

        def step(desc: str) -> None:
            bar.update(seen[0], info=desc)
            seen[0] += 1

        yield step
        bar.update(total)


def compute_report(db: DatabaseLike | str | Path, bench: BenchmarkLike | str | Path, fidelity: Any = None,
                   trajectories: Any = None, *,
                   tasks: Sequence[str] | None = None, metric: str | None = None,
                   options: ReportOptions | None = None, progress: bool = False,
                   sources: Mapping[str, Any] | None = None) -> ReportData:
    """Compute every number of the quality report.

    Parameters
    ----------
    db : Database or path
        The ground-truth results database (Parquet).
    bench : Benchmark or path
        The surrogate benchmark (a folder from ``surrogate-eo fit``).
    fidelity : Verdict, dict, path, or mapping task -> one of these, optional
        Fidelity verdicts (``surrogate-eo fidelity --json``); computed here for
        every task without one (paired comparison on out-of-fold predictions).
    trajectories : Trajectory, Comparison, path, or a list of them, optional
        Optimiser runs (``Trajectory.save``) and/or trajectory-fidelity
        comparisons (``Comparison.save``).
    tasks : list of str, optional
        Tasks to report; default every task with ok runs and a model.
    metric : str, optional
        Quality metric; default the benchmark's (``val_acc`` when modelled).
    options : ReportOptions, optional
    progress : bool
        Show a progress bar.
    sources : mapping, optional
        Names of the inputs for the report's header (e.g. file paths).
    """
    from .accuracy import accuracy_section, campaign_section
    from .landscape import landscape_section, verdict_inputs
    from .search import search_section

    options = options or ReportOptions()
    db, bench = load_database(db), load_bench(bench)
    task_list = check_inputs(db, bench, tasks)
    verdicts = verdict_inputs(fidelity, task_list)  # read and check every input before the long work
    search = search_section(trajectories, bench.space.name) if trajectories is not None else None
    with progress_steps(progress, 1 + 2 * len(task_list)) as step:
        step("campaign summary")
        metric_of = {t: bench.entry(t, metric)[0].metric for t in task_list}
        campaign = campaign_section(db, task_list, metric_of)
        accuracy, landscape, oof = {}, {}, {}
        for t in task_list:
            step(f"surrogate accuracy ({t})")
            accuracy[t], oof[t] = accuracy_section(db, bench, t, metric_of[t], options)
        for t in task_list:
            step(f"landscape fidelity ({t}{'' if t in verdicts else ', computing the verdict'})")
            landscape[t] = landscape_section(db, bench, t, metric_of[t], verdicts.get(t), oof[t], options)
    meta = {"title": f"Surrogate quality report: {bench.space.name} on {', '.join(task_list)}",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "version": _version(), "space": bench.space.name, "tasks": task_list, "metrics": metric_of,
            "sources": {k: str(v) for k, v in (sources or {}).items()}, "synthetic": options.synthetic,
            "benchmark": bench.describe(), "database": {k: v for k, v in db.meta.items() if _jsonable(v)},
            "options": options.to_dict()}
    return ReportData(meta=plain(meta), campaign=campaign, accuracy=accuracy, landscape=landscape, search=search)


def _jsonable(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool, type(None), list, dict))


def _version() -> str:
    from .. import __version__

    return __version__


__all__ = ["ReportData", "ReportOptions", "SCHEMA", "compute_report", "load_bench", "load_database", "plain"]
