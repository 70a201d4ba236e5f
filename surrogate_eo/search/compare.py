"""Trajectory fidelity: do optimisers behave on the surrogate as on the ground truth?

NAS-Bench-301 validated its surrogate by running NAS optimisers on both the
real benchmark and the surrogate and comparing what they found.
:func:`compare_optimizers` does this for any pair of fitness sources of one
space: every optimiser runs with the same seeds on the ground truth and on
the surrogate (seed ``s`` on both, so random search sees the same archs — a
paired design), and the result reports

- anytime curves: mean regret (optimum − incumbent, fractions) with its
  standard error after each checkpoint number of evaluations;
- final regret per run, and the ranking of optimisers by mean final regret
  (1 = best) on each source;
- **Kendall τ between the two rankings** with its p-value
  (``scipy.stats.kendalltau``: exact for small untied rankings), a bootstrap
  95 % interval over seeds, and the same τ at every checkpoint (anytime
  agreement);
- per-seed τ (optimisers ranked within seed ``s`` on each source) with a
  one-sided Wilcoxon signed-rank test of "median τ > 0" — more power than
  the single τ over four optimisers, whose smallest possible p is 0.083;
- pairwise order agreement: which pairs of optimisers differ significantly
  on the ground truth (two-sided Mann-Whitney U over seeds, α = 0.05), and
  whether the surrogate orders those pairs the same way;
- a Friedman test per source (do the optimisers differ at all? when they do
  not, agreeing rankings mean little);
- transfer: the ground-truth regret of the archs the optimisers found *on the
  surrogate* (what a user of the surrogate would actually get), when the
  ground truth can evaluate them.

Regret is taken against each source's own optimum: the maximum over the
domain when it can be enumerated (≤ 200,000 archs, or a database's archs),
otherwise the best fitness any run found (``optimum_kind = "best_found"``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from .._io import atomic_write_json
from ..errors import SearchError
from ..landscape.sources import FitnessSource
from ._core import Domain, TabulatedSource, check_budget, check_source, source_name
from .optimisers import get_optimizer, hyperparameters, run_optimizer
from .trajectory import Trajectory

#: Spaces up to this size are enumerated to find the optimum (and tabulated when asked).
ENUMERATE_MAX = 200_000
ROLES = ("ground_truth", "surrogate")


def _tau(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan")
    res = stats.kendalltau(a, b)
    return float(res.statistic), float(res.pvalue)


@dataclass
class Comparison:
    """Everything :func:`compare_optimizers` measured; see the module docstring for the statistics.

    Attributes
    ----------
    optimizers : list of str
    seeds : list of int
    budget : int
        Evaluations per run.
    sources : dict
        ``{"ground_truth": name, "surrogate": name}``.
    space : str
    optimum : dict
        Per role: the optimum regret is measured against (fraction) and ``optimum_kind``.
    checkpoints : ndarray, shape (c,)
        Evaluation counts of the anytime curves.
    regret : dict
        ``regret[role][optimizer]``: ndarray ``(n_seeds, c)`` of regrets at the checkpoints.
    final_regret : dict
        ``final_regret[role][optimizer]``: ndarray ``(n_seeds,)``.
    stats : dict
        Rankings, Kendall τ and tests (JSON-ready).
    trajectories : dict
        ``trajectories[role][optimizer]``: list of :class:`Trajectory`, one per seed.
    """

    optimizers: list[str]
    seeds: list[int]
    budget: int
    sources: dict[str, str]
    space: str
    optimum: dict[str, dict[str, Any]]
    checkpoints: np.ndarray
    regret: dict[str, dict[str, np.ndarray]]
    final_regret: dict[str, dict[str, np.ndarray]]
    stats: dict[str, Any] = field(default_factory=dict)
    trajectories: dict[str, dict[str, list[Trajectory]]] = field(default_factory=dict)

    def mean_curve(self, role: str, optimizer: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean regret and its standard error at :attr:`checkpoints`."""
        r = self.regret[role][optimizer]
        sem = r.std(axis=0, ddof=1) / np.sqrt(len(r)) if len(r) > 1 else np.zeros(r.shape[1])
        return r.mean(axis=0), sem

    def to_dict(self, with_trajectories: bool = False) -> dict[str, Any]:
        """JSON-ready dict (curves as means/SEMs and per-seed lists); trajectories only when asked."""
        curves = {role: {o: {"mean": self.mean_curve(role, o)[0].tolist(), "sem": self.mean_curve(role, o)[1].tolist()}
                         for o in self.optimizers} for role in ROLES}
        out: dict[str, Any] = {
            "space": self.space, "sources": self.sources, "optimizers": self.optimizers, "seeds": self.seeds,
            "budget": self.budget, "optimum": self.optimum, "checkpoints": self.checkpoints.tolist(),
            "curves": curves,
            "final_regret": {role: {o: v.tolist() for o, v in d.items()} for role, d in self.final_regret.items()},
            "stats": self.stats,
        }
        if with_trajectories:
            out["trajectories"] = {role: {o: [t.to_dict() for t in ts] for o, ts in d.items()}
                                   for role, d in self.trajectories.items()}
        return out

    def save(self, path: str | Path, with_trajectories: bool = False) -> Path:
        """Write :meth:`to_dict` as JSON (atomically)."""
        path = Path(path)
        if path.suffix.lower() != ".json":
            raise SearchError(f"comparison file {path} must end in .json")
        atomic_write_json(path, self.to_dict(with_trajectories))
        return path

    def table(self) -> str:
        """A plain-text table: mean final regret (± SEM) and rank per optimiser and source, then τ and tests."""
        s = self.stats
        lines = [f"{'optimizer':<10} {'regret GT':>18} {'rank':>5} {'regret surrogate':>18} {'rank':>5}"
                 + ("  {:>16}".format("GT regret of sur.") if "transfer" in s else "")]
        for i, o in enumerate(self.optimizers):
            row = f"{o:<10}"
            for role in ROLES:
                r = self.final_regret[role][o]
                sem = r.std(ddof=1) / np.sqrt(len(r)) if len(r) > 1 else 0.0
                row += f" {100 * r.mean():>10.3f} ± {100 * sem:5.3f} {s['rank'][role][i]:>5.1f}"
            if "transfer" in s:
                row += f"  {100 * s['transfer']['mean_regret'][i]:>16.3f}"
            lines.append(row)
        lines.append("(regret in percentage points of the metric; rank 1 = lowest mean final regret)")
        k = s["kendall"]
        lines.append(f"Kendall tau(final-regret rankings) = {k['tau']:.3f}, p = {k['p']:.4f}, "
                     f"bootstrap 95% CI [{k['ci'][0]:.3f}, {k['ci'][1]:.3f}]")
        ps = s["per_seed"]
        lines.append(f"per-seed tau: mean {ps['mean_tau']:.3f} over {ps['n']} seeds, Wilcoxon (tau > 0) p = {ps['p']:.4g}")
        pr = s["pairs"]
        lines.append(f"pairs in the same order: {pr['n_same_order']}/{pr['n_pairs']}; of the "
                     f"{pr['n_significant_on_ground_truth']} pairs that differ on the ground truth (Mann-Whitney "
                     f"p < {pr['alpha']}), {pr['n_of_those_same_order_on_surrogate']} keep their order on the surrogate")
        lines.append(f"anytime-regret ranking tau = {s['kendall_anytime']['tau']:.3f}, p = {s['kendall_anytime']['p']:.4f}")
        for role in ROLES:
            f = s["friedman"][role]
            lines.append(f"Friedman ({role}): chi2 = {f['stat']:.2f}, p = {f['p']:.4g}")
        return "\n".join(lines)


def _optimum(role: str, src: FitnessSource, dom: Domain, runs: dict[str, list[Trajectory]]) -> dict[str, Any]:
    if dom.restricted or dom.space.size <= ENUMERATE_MAX:
        archs = dom.space.from_index(dom.keys) if dom.restricted else dom.space.enumerate()
        vals = src.values[dom.space.enumeration_index(archs)] if isinstance(src, TabulatedSource) \
            else np.asarray(src.fitness(archs), dtype=np.float64)
        return {"value": float(vals.max()), "kind": "domain_max", "n_archs": len(archs)}
    best = max(t.best_fitness for ts in runs.values() for t in ts)
    return {"value": float(best), "kind": "best_found", "n_archs": None}


def compare_optimizers(ground_truth: FitnessSource, surrogate: FitnessSource, *,
                       optimizers: Sequence[str] = ("rs", "re", "ls", "tpe"),
                       seeds: int | Sequence[int] = 10, budget: int = 200,
                       params: Mapping[str, Mapping[str, Any]] | None = None,
                       checkpoints: Sequence[int] | None = None, tabulate: bool = True, n_boot: int = 1000,
                       progress: bool | Callable[[str], None] = False) -> Comparison:
    """Run every optimiser with every seed on ``ground_truth`` and on ``surrogate``; compare the outcomes.

    Parameters
    ----------
    ground_truth, surrogate : fitness sources of the same space
        E.g. a :class:`~surrogate_eo.reference.TableSource` and a
        ``ModelSource``/``BenchmarkSource``. When the ground truth holds only
        some archs (a database), both are searched on those archs.
    optimizers : sequence of str, default=("rs", "re", "ls", "tpe")
    seeds : int or sequence of int, default=10
        Number of seeds (0..n-1) or the seeds themselves; at least 2 (10 or more recommended).
    budget : int, default=200
        Evaluations per run.
    params : mapping, optional
        Hyper-parameters per optimiser name, e.g. ``{"re": {"population_size": 10}}``.
    checkpoints : sequence of int, optional
        Evaluation counts for the anytime curves (default: ~20 log-spaced counts up to ``budget``).
    tabulate : bool, default=True
        Evaluate complete sources of small spaces (≤ 200,000 archs) once on
        every arch and search the lookup table (identical results, much faster).
    n_boot : int, default=1000
        Bootstrap resamples of the seeds for τ's interval.
    progress : bool or callable, default=False
        Show a rich progress bar, or call ``progress(description)`` after each run.

    Returns
    -------
    Comparison

    Raises
    ------
    SearchError
        Sources of different spaces, an unknown optimiser, fewer than 2
        optimisers or seeds, a budget ≤ 0.
    """
    sp_gt, sp_su = check_source(ground_truth), check_source(surrogate)
    if sp_gt.name != sp_su.name:
        raise SearchError(f"the ground truth {source_name(ground_truth)!r} is of space {sp_gt.name!r} but the "
                          f"surrogate {source_name(surrogate)!r} is of space {sp_su.name!r}; compare sources of one space")
    budget, _ = check_budget(budget)
    optimizers = list(optimizers)
    for o in optimizers:
        get_optimizer(o)
    if len(set(optimizers)) != len(optimizers) or len(optimizers) < 2:
        raise SearchError(f"compare needs at least 2 distinct optimisers, got {optimizers}")
    seed_list = list(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    if len(seed_list) < 2:
        raise SearchError(f"compare needs at least 2 seeds (10 or more recommended), got {len(seed_list)}")
    unknown = sorted(set(params or {}) - set(optimizers))
    if unknown:
        raise SearchError(f"params given for {unknown[0]!r}, which is not among the optimisers {optimizers}")
    params = {o: dict((params or {}).get(o, {})) for o in optimizers}
    for o, p in params.items():
        bad = sorted(set(p) - set(hyperparameters(o)))
        if bad:
            raise SearchError(f"optimiser {o!r} has no hyper-parameter {bad[0]!r}; it has: "
                              f"{', '.join(hyperparameters(o)) or 'none'}")
    if checkpoints is None:
        grid = np.unique(np.round(np.geomspace(1, budget, 20)).astype(np.int64))
    else:
        grid = np.unique(np.asarray(list(checkpoints), dtype=np.int64))
        if not len(grid) or grid.min() < 1 or grid.max() > budget:
            raise SearchError(f"checkpoints must be evaluation counts in 1..{budget}, got {list(checkpoints)}")
    dom = Domain.of(ground_truth)
    candidates = sp_gt.from_index(dom.keys) if dom.restricted else None
    if candidates is not None and not getattr(surrogate, "complete", True):
        held = Domain.of(surrogate).held(candidates)
        if not held.all():
            raise SearchError(f"the surrogate {source_name(surrogate)!r} cannot evaluate {int((~held).sum())} of "
                              "the ground truth's archs; use a complete surrogate")
    srcs = {"ground_truth": ground_truth, "surrogate": surrogate}
    if tabulate and sp_gt.size <= ENUMERATE_MAX:
        srcs = {r: TabulatedSource(s) if getattr(s, "complete", True) and not dom.restricted else s
                for r, s in srcs.items()}

    runs: dict[str, dict[str, list[Trajectory]]] = {r: {o: [] for o in optimizers} for r in ROLES}
    jobs = [(r, o, s) for r in ROLES for o in optimizers for s in seed_list]
    bar = _progress_bar(progress, len(jobs))
    with bar as tick:
        for role, o, s in jobs:
            runs[role][o].append(run_optimizer(o, srcs[role], budget, seed=s, candidates=candidates, **params[o]))
            tick(f"{role}: {o} seed {s}")

    optimum = {r: _optimum(r, srcs[r], dom, runs[r]) for r in ROLES}
    regret = {r: {o: np.stack([optimum[r]["value"] - t.at_evaluations(grid) for t in runs[r][o]])
                  for o in optimizers} for r in ROLES}
    final = {r: {o: np.array([optimum[r]["value"] - t.best_fitness for t in runs[r][o]]) for o in optimizers}
             for r in ROLES}
    cmp = Comparison(optimizers=optimizers, seeds=seed_list, budget=budget,
                     sources={r: source_name(s) for r, s in (("ground_truth", ground_truth), ("surrogate", surrogate))},
                     space=sp_gt.name, optimum=optimum, checkpoints=grid, regret=regret, final_regret=final,
                     trajectories=runs)
    cmp.stats = _statistics(cmp, n_boot, ground_truth, optimum["ground_truth"]["value"])
    return cmp


def _statistics(cmp: Comparison, n_boot: int, ground_truth: FitnessSource, gt_optimum: float) -> dict[str, Any]:
    opts = cmp.optimizers
    F = {r: np.stack([cmp.final_regret[r][o] for o in opts], axis=1) for r in ROLES}  # (n_seeds, k)
    A = {r: np.stack([cmp.regret[r][o].mean(axis=1) for o in opts], axis=1) for r in ROLES}
    mean = {r: F[r].mean(axis=0) for r in ROLES}
    out: dict[str, Any] = {
        "mean_final_regret": {r: mean[r].tolist() for r in ROLES},
        "rank": {r: stats.rankdata(mean[r]).tolist() for r in ROLES},
        "mean_anytime_regret": {r: A[r].mean(axis=0).tolist() for r in ROLES},
    }
    tau, p = _tau(mean["ground_truth"], mean["surrogate"])
    rng = np.random.default_rng(0)
    n = len(cmp.seeds)
    boots = []
    for _ in range(int(n_boot)):
        i, j = rng.integers(0, n, n), rng.integers(0, n, n)
        boots.append(_tau(F["ground_truth"][i].mean(axis=0), F["surrogate"][j].mean(axis=0))[0])
    boots = np.asarray(boots)
    boots = boots[np.isfinite(boots)]
    ci = [float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))] if len(boots) else [np.nan, np.nan]
    out["kendall"] = {"tau": tau, "p": p, "ci": ci, "n_optimizers": len(opts),
                      "test": "scipy.stats.kendalltau of mean final regrets (two-sided)"}
    out["kendall_anytime"] = dict(zip(("tau", "p"), _tau(A["ground_truth"].mean(0), A["surrogate"].mean(0))))
    out["kendall_at_checkpoint"] = [_tau(np.stack([cmp.regret["ground_truth"][o][:, c] for o in opts], 1).mean(0),
                                         np.stack([cmp.regret["surrogate"][o][:, c] for o in opts], 1).mean(0))[0]
                                    for c in range(len(cmp.checkpoints))]
    per_seed = np.array([_tau(F["ground_truth"][s], F["surrogate"][s])[0] for s in range(n)])
    ok = per_seed[np.isfinite(per_seed)]
    p_seed = float("nan")
    if len(ok) >= 2 and np.any(ok != 0):
        p_seed = float(stats.wilcoxon(ok, alternative="greater").pvalue)
    out["per_seed"] = {"tau": per_seed.tolist(), "mean_tau": float(ok.mean()) if len(ok) else float("nan"),
                       "n": int(len(ok)), "p": p_seed, "test": "one-sided Wilcoxon signed-rank, H1: median tau > 0"}
    out["pairs"] = _pairs(opts, F)
    out["friedman"] = {}
    for r in ROLES:
        try:
            res = stats.friedmanchisquare(*F[r].T) if len(opts) >= 3 else None
            out["friedman"][r] = {"stat": float(res.statistic), "p": float(res.pvalue)} if res else \
                {"stat": float("nan"), "p": float("nan")}
        except ValueError:
            out["friedman"][r] = {"stat": float("nan"), "p": float("nan")}
    # transfer: ground-truth value of what the surrogate runs found
    best = np.stack([np.stack([t.best_arch for t in cmp.trajectories["surrogate"][o]]) for o in opts])
    try:
        gt_vals = np.asarray(ground_truth.fitness(best.reshape(-1, best.shape[-1])), dtype=float).reshape(best.shape[:2])
    except Exception:  # a partial ground truth that lacks an arch: transfer not measurable
        gt_vals = None
    if gt_vals is not None:
        tr = (gt_optimum - gt_vals).T  # (n_seeds, k)
        out["transfer"] = {"mean_regret": tr.mean(axis=0).tolist(), "rank": stats.rankdata(tr.mean(0)).tolist(),
                           "kendall_vs_ground_truth": dict(zip(("tau", "p"), _tau(mean["ground_truth"], tr.mean(0))))}
    return _clean(out)


def _pairs(opts: list[str], F: dict[str, np.ndarray], alpha: float = 0.05) -> dict[str, Any]:
    """Pairwise order agreement: for each pair, Mann-Whitney U p on each source and the sign of the difference."""
    rows, sig_gt, agree = [], 0, 0
    for i in range(len(opts)):
        for j in range(i + 1, len(opts)):
            row: dict[str, Any] = {"pair": [opts[i], opts[j]]}
            for r in ROLES:
                a, b = F[r][:, i], F[r][:, j]
                p = float(stats.mannwhitneyu(a, b).pvalue) if np.ptp(np.r_[a, b]) > 0 else 1.0
                row[r] = {"diff": float(a.mean() - b.mean()), "p": p}
            same = np.sign(row["ground_truth"]["diff"]) == np.sign(row["surrogate"]["diff"])
            row["same_order"] = bool(same)
            if row["ground_truth"]["p"] < alpha:
                sig_gt += 1
                agree += int(same)
            rows.append(row)
    return {"alpha": alpha, "test": "two-sided Mann-Whitney U on per-seed final regrets", "pairs": rows,
            "n_pairs": len(rows), "n_same_order": int(sum(r["same_order"] for r in rows)),
            "n_significant_on_ground_truth": sig_gt, "n_of_those_same_order_on_surrogate": agree}


def _clean(obj: Any) -> Any:
    """Numpy scalars to Python numbers, tuples to lists (NaN stays; JSON writing turns it into null)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


class _progress_bar:
    """Context manager yielding ``tick(description)``: a rich bar, a user callback, or nothing."""

    def __init__(self, progress: bool | Callable[[str], None], total: int) -> None:
        self.progress, self.total, self._bar = progress, total, None

    def __enter__(self) -> Callable[[str], None]:
        if callable(self.progress):
            return self.progress
        if not self.progress:
            return lambda _d: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                             TimeRemainingColumn(), transient=False)
        self._bar.__enter__()
        task = self._bar.add_task("optimiser runs", total=self.total)
        return lambda d: self._bar.update(task, advance=1, description=d)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
