"""The surrogate-fidelity verdict: is a surrogate's landscape faithful to its ground truth?

The ground truth is what a campaign trained (its strata: uniform points, random
walks, neighbourhood centres, and optionally an exploit wave at the surrogate's
predicted-best archs). Every judged feature (each key of a map feature) becomes
one comparison of ``surrogate - truth``:

- **paired** (the default for every feature a campaign's strata support): the
  surrogate (or its out-of-fold predictions, ``paired=``) at exactly the truth's
  archs, resampled together, so sampling noise largely cancels;
- **distributional** (only features the strata cannot pair, e.g. hill-climb
  features when the truth is complete): the surrogate on its own fresh samples.

All comparisons are bootstrapped *jointly* (one replicate resamples every stratum
once) and judged with simultaneous intervals from a studentised max-statistic
bootstrap (:mod:`.simultaneous`), so the family-wise error over all comparisons of
a verdict is controlled. Each comparison is ``faithful`` (whole CI inside its
tolerance band), ``unfaithful`` (whole CI outside) or ``inconclusive`` (CI
straddles a band edge, or fewer than :data:`~.tolerances.MIN_UNITS` resampling
units: then never unfaithful); the verdict is ``unfaithful`` if any judged
comparison is, ``faithful`` if all are. ``mode="rank"`` judges only the
rank-invariant comparisons; both outcomes are kept. FDC is measured, on every
side, to the ground truth's best known arch(s).

>>> from surrogate_eo.landscape.nk import NKLandscape
>>> v = fidelity(NKLandscape(12, 2, seed=0), NKLandscape(12, 2, seed=0),
...              plan=SamplingPlan.small(n_climbs=0, n_neutral_walks=0))
>>> v.verdict, v.verdict_for("rank")
('faithful', 'faithful')
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.stats import kendalltau, spearmanr

from ..errors import LandscapeError
from ..spaces.base import SeedLike
from ._blocks import Block, Resampler, distributional_block, paired_block, paired_spec, top_blocks
from .features import REGISTRY, LandscapeData, compute_features
from .footprint import Footprint, SamplingPlan, collect
from .samplers import Strata
from .simultaneous import judge_differences, simultaneous_band
from .sources import FitnessSource, check_source, is_complete
from .tolerances import (DEFAULT_TOLERANCES, MIN_UNITS, UNIT_STRATUM, Tolerance, is_rank_invariant,
                         load_tolerances)
from .top import ExploitData, top_archs
from .verdict import MODES, SCHEMA, FeatureComparison, Verdict, overall

_UNIT_WORD = {"points": ("uniform point", "uniform points"), "walks": ("walk", "walks"),
              "centres": ("neighbourhood", "neighbourhoods"), "edges": ("neighbour pair", "neighbour pairs"),
              "exploit": ("exploit neighbourhood", "exploit neighbourhoods"),
              "top_decile": ("top-decile point", "top-decile points"), "climbs": ("climb", "climbs"),
              "neutral": ("neutral walk", "neutral walks")}


def _unit_cost(unit: str, data: LandscapeData) -> float:
    if unit == "walks" and data.f_walks is not None:
        return float(data.f_walks.shape[1])
    if unit in ("centres", "exploit"):
        return float(data.space.degree + 1)
    if unit == "top_decile":
        return 10.0
    return 1.0


def _plural(n: int, unit: str) -> str:
    one, many = _UNIT_WORD.get(unit, (unit, unit))
    return f"{n} {one if n == 1 else many}"


def _settle(c_ci: tuple[float, float], d: float, band: tuple[float, float], n: int, need: int,
            unit: str, cost: float) -> tuple[int | None, str]:
    """Extra runs that would make an inconclusive comparison conclusive (None: none would), and why."""
    stratum = UNIT_STRATUM.get(unit, unit)
    extra_units = max(0, need - n)
    lo, hi = c_ci
    if math.isfinite(lo) and math.isfinite(hi) and math.isfinite(d):
        h = (hi - lo) / 2
        g = min(d - band[0], band[1] - d) if band[0] <= d <= band[1] else min(abs(d - band[0]), abs(d - band[1]))
        if g <= 1e-12 * max(1.0, abs(d)) or (h / g) ** 2 > 100:
            return None, f"the difference is near the band edge: settling it needs > 100x the current {stratum} runs"
        extra_units = max(extra_units, int(math.ceil(n * (h / g) ** 2 - n)) + 1)
    runs = int(math.ceil(extra_units * cost))
    return runs, f"~{runs} more {stratum} runs would settle it"


def _judge(blocks: list[Block], tolerances: dict[str, Tolerance], level: float, cost: dict[str, float],
           rank_only: bool) -> tuple[dict[tuple[str, str, str | None], tuple[str, tuple[float, float], str, dict]],
                                     float]:
    """Judge the family (all comparisons, or the rank-invariant ones): outcome, CI, reason, extra runs."""
    rows = []
    for b in blocks:
        tol = tolerances[b.feature]
        for j, k in enumerate(b.keys):
            if k is not None and tol.keys is not None and k not in tol.keys:
                continue
            if rank_only and not is_rank_invariant(b.feature, k):
                continue
            rows.append((b, j, k, tol))
    if not rows:
        return {}, float("nan")
    diff = np.array([b.surrogate[j] - b.truth[j] for b, j, _, _ in rows])
    boot = np.stack([b.boot[:, j] for b, j, _, _ in rows], axis=1)
    bands = np.array([tol.band(float(b.truth[j])) for b, j, _, tol in rows])
    n_units = np.array([b.n_units for b, *_ in rows], dtype=float)
    min_units = np.array([MIN_UNITS.get(b.unit, 0) for b, *_ in rows], dtype=float)
    # undefined on either side is never judged faithful (NaN CI); with enough units, a surrogate that cannot
    # produce a feature the truth has is unfaithful (below)
    ci, outs = judge_differences(np.where(np.isfinite(diff), diff, np.nan), boot, bands, level, min_units, n_units)
    ok = (n_units >= min_units) & np.isfinite(diff)
    crit = simultaneous_band(diff[ok], boot[:, ok], level, n_units[ok])[1] if ok.any() else float("nan")
    res = {}
    for i, (b, j, k, tol) in enumerate(rows):
        t, s = float(b.truth[j]), float(b.surrogate[j])
        band = (float(bands[i, 0]), float(bands[i, 1]))
        cii = (float(ci[i, 0]), float(ci[i, 1]))
        n, need = int(n_units[i]), int(min_units[i])
        stratum = UNIT_STRATUM.get(b.unit, b.unit)
        extra: dict[str, int] = {}
        if n < need:
            runs, how = _settle(cii, float(diff[i]), band, n, need, b.unit, cost.get(b.unit, 1.0))
            out, why = "inconclusive", f"only {_plural(n, b.unit)} (< {need}); {how}"
            if runs is not None:
                extra[stratum] = runs
        elif math.isfinite(t) and not math.isfinite(s):
            out, why = "unfaithful", "the surrogate's landscape does not define it (the truth's does)"
        elif not math.isfinite(t):
            out, why = "inconclusive", "the truth's sample does not define it"
        else:
            out = outs[i]
            if out == "faithful":
                why = f"simultaneous CI inside the band [{band[0]:+.3g}, {band[1]:+.3g}]"
            elif out == "unfaithful":
                side = "above" if cii[0] > band[1] else "below"
                why = f"simultaneous CI entirely {side} the band [{band[0]:+.3g}, {band[1]:+.3g}]"
            else:
                runs, how = _settle(cii, float(diff[i]), band, n, need, b.unit, cost.get(b.unit, 1.0))
                why = f"CI straddles a band edge ({_plural(n, b.unit)}); {how}"
                if runs is not None:
                    extra[stratum] = runs
        res[(b.feature, b.kind, k)] = (out, cii, why, extra)
    return res, crit


def _footprint(data: LandscapeData, plan: SamplingPlan, seed: int, source: FitnessSource) -> Footprint:
    feats = compute_features(data, None, seed=seed, n_boot=plan.n_boot, level=plan.ci_level, boot_max=plan.boot_max)
    return Footprint(features=feats, source=source.name, space=source.space.name, exact=False, seed=seed,
                     plan=plan.to_dict(), n_evaluations=int(data.cache["n_evaluations"]),
                     strata=data.cache["strata"].sizes(), data=data)


def _resolve_tolerances(tolerances: dict[str, Tolerance] | str | None) -> dict[str, Tolerance]:
    if tolerances is None:
        return dict(DEFAULT_TOLERANCES)
    if isinstance(tolerances, (str, bytes)) or hasattr(tolerances, "__fspath__"):
        return load_tolerances(tolerances)  # type: ignore[arg-type]
    from .top import TOP_FEATURES

    for name, tol in tolerances.items():
        if name not in REGISTRY and name not in TOP_FEATURES:
            raise LandscapeError(f"tolerance for unknown feature {name!r}; known: "
                                 f"{', '.join(list(REGISTRY) + list(TOP_FEATURES))}")
        if not isinstance(tol, Tolerance):
            raise LandscapeError(f"tolerance of {name!r} must be a Tolerance; got {type(tol).__name__} "
                                 "(read a JSON file with load_tolerances)")
    return dict(tolerances)


def fidelity(truth: FitnessSource, surrogate: FitnessSource, *, strata: Strata | None = None,
             plan: SamplingPlan | None = None, surrogate_plan: SamplingPlan | None = None,
             tolerances: dict[str, Tolerance] | None = None, seed: SeedLike = 0, mode: str = "value",
             paired: FitnessSource | None = None, truth_adaptive: bool | None = None,
             footprints: bool = True, distributional: bool = True) -> Verdict:
    """Judge ``surrogate`` against ``truth``: ``faithful``, ``unfaithful`` or ``inconclusive``.

    Parameters
    ----------
    truth : FitnessSource
        Ground truth: a database source (restricted to its archs) or a table.
    surrogate : FitnessSource
        The surrogate, complete over the space (a benchmark or model source).
    strata : Strata, optional
        The archs the campaign trained. Default: inferred from a database
        source's archs, or drawn by ``plan`` on a complete truth. Its ``exploit``
        centres (if any) feed the comparisons near the optimum.
    plan : SamplingPlan, optional
        Analysis parameters (and the strata sizes when they are drawn). When the
        strata have no exploit centres, ``plan.n_exploit > 0`` and the truth is
        complete (a table emulation), the surrogate's ``n_exploit`` predicted-best
        archs are looked up on the truth with their neighbourhoods.
    surrogate_plan : SamplingPlan, optional
        Sizes of the surrogate's fresh (distributional) samples; default ``plan``.
    tolerances : dict or path, optional
        Feature name -> :class:`Tolerance`; default :data:`DEFAULT_TOLERANCES`;
        a path is read with :func:`~.tolerances.load_tolerances`.
    seed : int
        Same seed, same verdict.
    mode : str
        ``"value"`` (judge every comparison) or ``"rank"`` (only rank-invariant ones);
        the other mode's outcome is kept in :attr:`Verdict.verdicts`.
    paired : FitnessSource, optional
        What to evaluate at the truth's archs for the paired comparisons, e.g.
        out-of-fold predictions (a :class:`~.sources.LookupSource` over the
        campaign's archs). Default: ``surrogate`` itself (optimistic when it was
        fitted on those very archs).
    truth_adaptive : bool, optional
        Hill-climb on the truth too (only a complete truth; default: when complete).
    footprints : bool
        Compute the three footprints (every feature with its marginal CI) for the
        report; False skips them (the verdict is the same, much faster).
    distributional : bool
        Judge the features a campaign cannot pair (e.g. climbs) on the surrogate's fresh samples.
    """
    truth, surrogate = check_source(truth), check_source(surrogate)
    if mode not in MODES:
        raise LandscapeError(f"unknown verdict mode {mode!r}; expected 'value' or 'rank'")
    if truth.space.name != surrogate.space.name:
        raise LandscapeError(f"truth {truth.name!r} is in space {truth.space.name!r} but surrogate "
                             f"{surrogate.name!r} is in {surrogate.space.name!r}; compare within one space")
    if not is_complete(surrogate):
        raise LandscapeError(f"surrogate {surrogate.name!r} must answer for any arch (a model or benchmark)")
    plan = plan or SamplingPlan()
    surrogate_plan = surrogate_plan or plan
    tols = _resolve_tolerances(tolerances)
    s0 = int(seed) if isinstance(seed, (int, np.integer)) else 0
    rng = np.random.default_rng([s0, 7])
    t_adapt = is_complete(truth) if truth_adaptive is None else truth_adaptive
    exploit = None if strata is None else strata.exploit
    base = None if strata is None else replace(strata, exploit=None)
    dt = collect(truth, plan, strata=base, seed=np.random.default_rng([s0, 1]), adaptive=t_adapt)
    st = dt.cache["strata"]
    if st.exploit is not None:  # e.g. a database's exploit wave (strata rebuilt from its plan entries)
        exploit = st.exploit if exploit is None else exploit
        st = replace(st, exploit=None)
        dt.cache["strata"] = st
    psrc = paired if paired is not None else surrogate
    dp = collect(psrc, plan, strata=st, seed=np.random.default_rng([s0, 1]), adaptive=False)
    dp.params["fdc_reference"] = dt.best_archs
    want_top = {n for n in tols if n in ("top_fitness_mean", "top_local_optima", "top_neighbour_rank")}
    if exploit is None and want_top and plan.n_exploit > 0 and is_complete(truth):
        exploit = top_archs(surrogate, plan.n_exploit, seed=s0)
    et = es = None
    if exploit is not None and len(exploit):
        try:
            et = ExploitData.of(truth, exploit)
        except Exception as exc:  # noqa: BLE001  (a truth that does not hold its exploit wave)
            raise LandscapeError(f"truth {truth.name!r} cannot answer for the exploit stratum's archs ({exc}); "
                                 "train the exploit wave first or drop it from the strata") from None
        es = ExploitData.of(surrogate, exploit)
    dd = None
    need_dist = distributional and any(
        REGISTRY[n].resolve(dt) is not None and paired_spec(n, dt, dp) is None for n in tols if n in REGISTRY)
    if footprints or need_dist:
        dd = collect(surrogate, surrogate_plan, seed=np.random.default_rng([s0, 2]))
        dd.params["fdc_reference"] = dt.best_archs

    rs, rs_s = Resampler(rng, plan.n_boot, plan.boot_max), Resampler(np.random.default_rng([s0, 8]),
                                                                        plan.n_boot, plan.boot_max)
    blocks: list[Block] = []
    for name in tols:
        if name not in REGISTRY:
            continue
        b = paired_block(name, dt, dp, rs)
        if b is None and need_dist and dd is not None:
            b = distributional_block(name, dt, dd, rs, rs_s)
        if b is not None:
            blocks.append(b)
    blocks += top_blocks(set(tols), dt, dp, et, es, rs)

    cost = {u: _unit_cost(u, dt) for u in _UNIT_WORD}
    judged = {m: _judge(blocks, tols, plan.ci_level, cost, rank_only=(m == "rank")) for m in MODES}
    comps: list[FeatureComparison] = []
    for b in blocks:
        tol = tols[b.feature]
        for j, k in enumerate(b.keys):
            key = (b.feature, b.kind, k)
            if key not in judged["value"][0]:
                continue
            per = {m: judged[m][0].get(key) for m in MODES}
            main = per[mode] or per["value"]
            out, cii, why, extra = main  # type: ignore[misc]
            t, s = float(b.truth[j]), float(b.surrogate[j])
            comps.append(FeatureComparison(
                feature=b.feature, key=k, kind=b.kind, truth=t, surrogate=s, diff=s - t, ci=cii, tolerance=tol,
                band=tol.band(t), n_units=b.n_units, unit=b.unit, verdict=out, reason=why,
                rank_invariant=is_rank_invariant(b.feature, k), judged=per[mode] is not None,
                outcomes={m: (None if per[m] is None else per[m][0]) for m in MODES},
                cis={m: (None if per[m] is None else per[m][1]) for m in MODES}, extra_runs=extra))
    verdicts, needed = {}, {}
    for m in MODES:
        res = judged[m][0]
        verdicts[m] = overall([r[0] for r in res.values()])
        need: dict[str, int] = {}
        if verdicts[m] == "inconclusive":
            for out, _, _, extra in res.values():
                if out == "inconclusive":
                    for sname, r in extra.items():
                        need[sname] = max(need.get(sname, 0), r)
        needed[m] = dict(sorted(need.items()))
    ts, ss = dt.f_points, dp.f_points
    agreement = {"kendall_tau": float(kendalltau(ts, ss)[0]) if len(ts) > 1 else float("nan"),
                 "spearman": float(spearmanr(ts, ss)[0]) if len(ts) > 1 else float("nan"),
                 "rmse": float(np.sqrt(np.mean((ts - ss) ** 2))), "n": int(len(ts))}
    if et is not None:
        agreement["exploit_centres"] = int(len(et.centres))
        agreement["regret_top1"] = float(max(dt.best_f, et.f_centres.max()) - et.f_centres[0])
        agreement["regret_topk_best"] = float(max(dt.best_f, et.f_centres.max()) - et.f_centres.max())
    fps = (None, None, None)
    if footprints:
        fps = tuple(_footprint(d, p, s0, src) for d, p, src in  # type: ignore[assignment]
                    ((dt, plan, truth), (dp, plan, psrc), (dd, surrogate_plan, surrogate)))
    return Verdict(comps, fps[0], fps[1], fps[2], agreement, mode=mode, verdicts=verdicts, runs_needed_by_mode=needed,
                   level=plan.ci_level, critical={m: judged[m][1] for m in MODES})


__all__ = ["DEFAULT_TOLERANCES", "FeatureComparison", "SCHEMA", "Tolerance", "Verdict", "fidelity", "load_tolerances"]
