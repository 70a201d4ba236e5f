"""Do the verdict's confidence intervals cover? Measured on the real NAS-Bench-201 table.

1. **Marginal coverage** of the ground truth's 95 % CIs (every judged feature) against the exact values
   over all 15,625 archs (:mod:`surrogate_eo.landscape.exact`), over ``--replicates`` campaigns of 300,
   750 and 1,563 runs on CIFAR-10, CIFAR-100 and ImageNet16-120. FDC is measured to the campaign's best
   known arch (what the verdict uses on both sides); its estimand is the exact FDC of the whole table to
   that same anchor (``fdc_*``), and the coverage of the exact FDC to the global optimum is shown too
   (``fdc_*_global``) to show why the anchor matters.
2. **Simultaneous coverage** of the verdict's difference band: for two panel members (noisy, over-smoothed)
   the fraction of campaigns in which *every* judged comparison's simultaneous CI covers the exact
   difference (surrogate - truth over the whole table); and the same for plain marginal intervals of
   the same comparisons (what a per-feature 95 % CI without family-wise control would give).

Writes ``paper/generated/verdict_coverage.{json,tex}`` and the coverage block of docs/landscape.md.
Run: ``nice -n 10 python evaluation/verdict_coverage.py [--replicates 100] [--quick]``
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _latex import GENERATED, write_table  # noqa: E402
from _verdict_common import (DATASETS, ArraySource, campaign_plan, load_tables, panel,  # noqa: E402
                             replace_marker_block)
from scipy.stats import rankdata  # noqa: E402

from surrogate_eo._io import atomic_write_json  # noqa: E402
from surrogate_eo.landscape import fidelity, plan_strata  # noqa: E402
from surrogate_eo.landscape.exact import exact_features  # noqa: E402
from surrogate_eo.landscape.features import compute_features  # noqa: E402
from surrogate_eo.landscape.features.distribution import nearest_distance  # noqa: E402
from surrogate_eo.landscape.footprint import collect  # noqa: E402
from surrogate_eo.landscape.tolerances import DEFAULT_TOLERANCES, MIN_UNITS  # noqa: E402

SIZES = [300, 750, 1563]
JUDGED = [n for n in DEFAULT_TOLERANCES if n in ("fitness_mean", "fitness_std", "fitness_quantiles", "fdc_pearson",
                                                  "fdc_spearman", "autocorr_lag1", "autocorr_lag1_rank", "neutrality",
                                                  "information_content", "dispersion")]
MEMBERS = ["noisy 0.02", "over-smoothed"]
DOCS = Path(__file__).resolve().parents[1] / "docs" / "landscape.md"


def labels(exact: dict[str, Any]) -> list[tuple[str, str | None]]:
    out = []
    for n in JUDGED:
        keys = DEFAULT_TOLERANCES[n].keys
        out += [(n, k) for k in keys] if keys else [(n, None)]
    return out


def lab(n: str, k: str | None) -> str:
    return n if k is None else f"{n}[{k}]"


def fdc_to(space: Any, f: np.ndarray, anchor: np.ndarray) -> tuple[float, float]:
    d = nearest_distance(space.enumerate(), anchor).astype(float)
    return float(np.corrcoef(f, d)[0, 1]), float(np.corrcoef(rankdata(f), rankdata(d))[0, 1])


def value(fe: dict[str, Any], n: str, k: str | None) -> float:
    v = fe[n].value
    return float(v[k]) if k is not None else float(v)


def marginal(space: Any, f: np.ndarray, reps: int, seed: int) -> dict[str, Any]:
    truth = ArraySource(space, f, "truth")
    out: dict[str, Any] = {}
    for runs in SIZES:
        plan = campaign_plan(runs, space.degree, exploit=False)
        ex = exact_features(space, f, plan.analysis_params())
        cover: dict[str, list[bool]] = {}
        for r in range(reps):
            st = plan_strata(space, plan.n_points, plan.n_walks, plan.walk_length, plan.n_centres,
                             seed=[seed, runs, r])
            data = collect(truth, plan, strata=st, seed=r, adaptive=False)
            fe = compute_features(data, JUDGED, seed=r, n_boot=plan.n_boot, level=plan.ci_level)
            p_c, s_c = fdc_to(space, f, data.best_archs)
            for n, k in labels(ex):
                if n not in fe:
                    continue
                lo, hi = fe[n].ci[k] if k is not None else fe[n].ci
                target = {"fdc_pearson": p_c, "fdc_spearman": s_c}.get(n, value(ex, n, k) if n in ex else np.nan)
                cover.setdefault(lab(n, k), []).append(bool(lo <= target <= hi))
                if n in ("fdc_pearson", "fdc_spearman"):
                    cover.setdefault(n + "_global", []).append(bool(lo <= value(ex, n, None) <= hi))
        out[str(runs)] = {k: float(np.mean(v)) for k, v in cover.items()}
        out[str(runs) + "_units"] = {"points": plan.n_points, "walks": plan.n_walks, "centres": plan.n_centres}
    return out


def exact_diff_targets(space: Any, f: np.ndarray, g: np.ndarray, et: dict[str, Any], eg: dict[str, Any],
                       anchor: np.ndarray) -> dict[str, float]:
    out = {}
    for n, k in labels(et):
        out[lab(n, k)] = value(eg, n, k) - value(et, n, k)
    pt, st_ = fdc_to(space, f, anchor)
    pg, sg = fdc_to(space, g, anchor)
    out["fdc_pearson"], out["fdc_spearman"] = pg - pt, sg - st_
    return out


def simultaneous(space: Any, f200: dict[str, np.ndarray], f12: dict[str, np.ndarray], dataset: str, reps: int,
                 seed: int) -> dict[str, Any]:
    f = f200[dataset]
    pan = panel(space, f200, f12, dataset)
    truth = ArraySource(space, f, dataset)
    out: dict[str, Any] = {}
    tols = {n: DEFAULT_TOLERANCES[n] for n in JUDGED}
    for member in MEMBERS:
        g = pan[member]
        sur = ArraySource(space, g, member)
        for runs in SIZES[1:]:
            plan = campaign_plan(runs, space.degree, exploit=False)
            params = plan.analysis_params()
            exact_cache: dict[bytes, dict[str, float]] = {}
            et, eg = exact_features(space, f, params), exact_features(space, g, params)
            sim, marg, n_judged = [], [], []
            misses: dict[str, int] = {}
            for r in range(reps):
                st = plan_strata(space, plan.n_points, plan.n_walks, plan.walk_length, plan.n_centres,
                                 seed=[seed, runs, r])
                arch = st.archs()
                fa = f[space.enumeration_index(arch)]
                anchor = np.unique(arch[fa == fa.max()], axis=0)
                key = anchor.tobytes()
                if key not in exact_cache:
                    exact_cache[key] = exact_diff_targets(space, f, g, et, eg, anchor)
                target = exact_cache[key]
                v = fidelity(truth, sur, strata=st, plan=plan, tolerances=tols, seed=r, truth_adaptive=False,
                             footprints=False, distributional=False)
                js = [c for c in v.comparisons if c.n_units >= MIN_UNITS.get(c.unit, 0)]
                sim.append(all(c.ci[0] <= target[c.label] <= c.ci[1] for c in js))
                for c in js:
                    if not c.ci[0] <= target[c.label] <= c.ci[1]:
                        misses[c.label] = misses.get(c.label, 0) + 1
                # marginal 95 % intervals of the same comparisons (no family-wise control)
                mcov = []
                for c in js:
                    half = (c.ci[1] - c.ci[0]) / 2 / max(v.critical["value"], 1e-12) * 1.959964
                    mcov.append(c.diff - half <= target[c.label] <= c.diff + half)
                marg.append(all(mcov))
                n_judged.append(len(js))
            out[f"{member}|{runs}"] = {"simultaneous": float(np.mean(sim)), "marginal_all": float(np.mean(marg)),
                                       "judged_comparisons": float(np.mean(n_judged)),
                                       "misses": dict(sorted(misses.items()))}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=100)
    ap.add_argument("--sim-replicates", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="10 replicates (a smoke run)")
    args = ap.parse_args(argv)
    reps = 10 if args.quick else args.replicates
    sreps = 10 if args.quick else args.sim_replicates
    t0 = time.time()
    space, f200, f12 = load_tables()
    res: dict[str, Any] = {"settings": {"replicates": reps, "sim_replicates": sreps, "sizes": SIZES,
                                        "level": 0.95, "members": MEMBERS}, "marginal": {}, "simultaneous": {}}
    for i, ds in enumerate(DATASETS):
        res["marginal"][ds] = marginal(space, f200[ds], reps, seed=100 + i)
        print(f"{ds}: marginal coverage done ({time.time() - t0:.0f} s)", flush=True)
        res["simultaneous"][ds] = simultaneous(space, f200, f12, ds, sreps, seed=200 + i)
        print(f"{ds}: simultaneous coverage done ({time.time() - t0:.0f} s)", flush=True)
    GENERATED.mkdir(parents=True, exist_ok=True)
    atomic_write_json(GENERATED / "verdict_coverage.json", res)
    feats = [k for k in res["marginal"]["CIFAR-10"]["1563"]]
    header = ["feature"] + [f"{ds} {r}" for ds in DATASETS for r in SIZES]
    rows = [[k] + [f"{100 * res['marginal'][ds][str(r)].get(k, float('nan')):.0f}" for ds in DATASETS for r in SIZES]
            for k in feats]
    write_table("verdict_coverage", header, rows,
                caption=f"Coverage (\\%) of the ground truth's 95\\% CIs against the exact NB201 values over {reps} "
                        "replicate campaigns per cell (runs: 300, 750, 1,563). FDC to the campaign's best known "
                        "arch; \\_global: against the FDC to the global optimum.", label="tab:verdict-coverage")
    srows = [[ds, key.split("|")[0], key.split("|")[1], f"{100 * v['simultaneous']:.0f}",
              f"{100 * v['marginal_all']:.0f}", f"{v['judged_comparisons']:.1f}"]
             for ds in DATASETS for key, v in res["simultaneous"][ds].items()]
    write_table("verdict_simultaneous", ["dataset", "surrogate", "runs", "simultaneous", "marginal", "judged"], srows,
                caption=f"Fraction (\\%) of {sreps} campaigns in which every judged comparison's CI covers the "
                        "exact difference: the verdict's simultaneous band vs marginal 95\\% intervals.",
                label="tab:verdict-simultaneous")
    md = ["| feature | " + " | ".join(f"{ds} {r}" for ds in DATASETS for r in SIZES) + " |",
          "|---|" + "---:|" * (len(DATASETS) * len(SIZES))]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md += ["", f"Simultaneous coverage of the difference band ({sreps} campaigns; every judged comparison at "
           "once):", "",
           "| dataset | surrogate | runs | simultaneous band | marginal 95 % CIs | judged comparisons |",
           "|---|---|---:|---:|---:|---:|"]
    md += ["| " + " | ".join(r) + " |" for r in srows]
    replace_marker_block(DOCS, "verdict-coverage", "\n".join(md))
    print(f"wrote {GENERATED / 'verdict_coverage.json'} ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
