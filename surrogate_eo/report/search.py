"""Optimiser trajectories and trajectory-fidelity comparisons: the numbers of the report's search section.

Accepted inputs, alone or in a list: :class:`~surrogate_eo.search.Trajectory`,
:class:`~surrogate_eo.search.Comparison`, their dicts, or files
(``Trajectory.save`` as ``.json`` / ``.parquet``; ``Comparison.save`` as ``.json``,
with or without its trajectories).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ReportError, SearchError, one_line
from .data import plain


def _items(trajectories: Any) -> list[Any]:
    if isinstance(trajectories, (list, tuple)):
        return list(trajectories)
    return [trajectories]


def _read(item: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """(trajectories, comparison dicts) of one input."""
    from ..search import Comparison, Trajectory
    from ..search.trajectory import SCHEMA as TRAJ_SCHEMA

    if isinstance(item, Trajectory):
        return [item], []
    if isinstance(item, Comparison):
        trajs = [t for d in item.trajectories.values() for ts in d.values() for t in ts]
        return trajs, [item.to_dict()]
    where = "trajectory input"
    if isinstance(item, (str, Path)):
        path = Path(item)
        where = str(path)
        if path.suffix.lower() in (".parquet", ".pq"):
            try:
                return [Trajectory.load(path)], []
            except SearchError as exc:
                raise ReportError(str(exc)) from None
        try:
            item = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ReportError(f"trajectory file {path} does not exist") from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise ReportError(f"trajectory file {path} is not readable JSON: {one_line(str(exc), 200)}") from None
    if isinstance(item, Mapping) and item.get("schema") == TRAJ_SCHEMA:
        try:
            return [Trajectory.from_dict(dict(item), where=where)], []
        except SearchError as exc:
            raise ReportError(str(exc)) from None
    if isinstance(item, Mapping) and {"curves", "checkpoints", "optimizers"} <= set(item):
        trajs = []
        for d in (item.get("trajectories") or {}).values():
            for ts in d.values():
                trajs += [Trajectory.from_dict(t, where=where) for t in ts]
        return trajs, [{k: v for k, v in item.items() if k != "trajectories"}]
    raise ReportError(f"{where}: neither a trajectory (Trajectory.save) nor an optimiser comparison "
                      "(Comparison.save); expected a .json or .parquet file written by surrogate-eo search")


def search_section(trajectories: Any, space: str) -> dict[str, Any] | None:
    """Per-run summaries, per (source, optimiser) mean incumbent curves, and comparison statistics."""
    trajs, comps = [], []
    for item in _items(trajectories):
        t, c = _read(item)
        trajs += t
        comps += c
    for t in trajs:
        if t.space != space:
            raise ReportError(f"trajectory of {t.optimizer!r} on {t.source!r} is in space {t.space!r}, the "
                              f"benchmark in {space!r}; give trajectories of this benchmark's space")
    for c in comps:
        if c.get("space") not in (None, space):
            raise ReportError(f"optimiser comparison is in space {c.get('space')!r}, the benchmark in {space!r}")
    if not trajs and not comps:
        return None
    runs = [{"optimizer": t.optimizer, "source": t.source, "seed": t.seed, "n_evals": t.n_evals,
             "best_fitness": t.best_fitness, "best_arch": t.best_string if len(t) else None,
             "stop_reason": t.stop_reason,
             "sim_time_s": float(t.sim_time[-1]) if t.cost is not None and len(t) else None,
             "incumbent": t.incumbent} for t in trajs]
    groups = []
    for key in sorted({(t.source, t.optimizer) for t in trajs}):
        ts = [t for t in trajs if (t.source, t.optimizer) == key and len(t)]
        if not ts:
            continue
        n = max(len(t) for t in ts)
        grid = np.arange(1, n + 1)
        curves = np.stack([t.at_evaluations(grid) for t in ts])
        best = np.array([t.best_fitness for t in ts])
        groups.append({"source": key[0], "optimizer": key[1], "n_runs": len(ts), "evaluations": grid,
                       "mean": curves.mean(axis=0), "std": curves.std(axis=0, ddof=1) if len(ts) > 1 else 0 * grid,
                       "best_mean": float(best.mean()), "best_std": float(best.std(ddof=1)) if len(ts) > 1 else 0.0,
                       "best_max": float(best.max())})
    return plain({"runs": runs, "groups": groups, "comparisons": comps})


__all__ = ["search_section"]
