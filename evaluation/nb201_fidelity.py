"""Is the landscape-fidelity verdict discriminating? Shown on the real NAS-Bench-201 table.

1. **Exact footprint** of NB201 (seed-averaged CIFAR-10 / CIFAR-100 / ImageNet16-120 test accuracy;
   persistence between 12 and 200 epochs): every feature over all 15,625 archs.
2. **How many runs does the FLA need?** Campaigns of 300 ... 6,000 runs (a third each to uniform
   archs, 25-step random walks and complete neighbourhoods) are sampled from the table; the sampled
   ground-truth footprint is compared with the exact one (mean |error| and CI coverage over replicates).
3. **The verdict on known-good and known-bad surrogates.** A ~10 % campaign (1,563 runs) is the
   ground truth; surrogates are fitted on its archs (XGBoost, the surrogates layer's default model;
   paired comparisons use 5-fold out-of-fold predictions): *good* (XGBoost); *shuffled* (XGBoost on
   permuted targets); *depth-1* (depth-1 trees on one-hot positions: an additive, over-smoothed
   model); *op-count* (XGBoost on the five op counts only); *noise sigma* (the true table plus
   i.i.d. Gaussian noise of sigma accuracy, over-rugged). Rates of the three outcomes (unfaithful /
   faithful), score and the features judged unfaithful, over replicate campaigns; next to each
   variant's exact footprint. (The calibrated outcome tables are evaluation/verdict_outcomes.py.)
4. **Oracle ground truth**: the whole table as truth (hill climbs allowed on it), to show what
   optima-counting features say when the ground truth is complete.

Writes ``paper/generated/nb201_fidelity.json`` and three LaTeX tables
(``nb201_exact_footprint.tex``, ``nb201_fla_budget.tex``, ``nb201_fidelity.tex``).
Needs ``../shared/data/nb201`` (or ``$SURROGATE_EO_NB201``). About 4 minutes on 2 cores
with ``--replicates 5``.

Run: ``python evaluation/nb201_fidelity.py [--replicates 5] [--quick]``
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _latex import GENERATED, write_table  # noqa: E402
from _verdict_common import oof  # noqa: E402

from surrogate_eo._io import atomic_write_json  # noqa: E402
from surrogate_eo.landscape import (LookupSource, ModelSource, SamplingPlan, fidelity, footprint,  # noqa: E402
                                    plan_strata)
from surrogate_eo.landscape.exact import exact_features  # noqa: E402
from surrogate_eo.reference import load_nb201  # noqa: E402
from surrogate_eo.surrogates import XGBSurrogate  # noqa: E402

C10 = "CIFAR10TestAccuracy200Epochs"
COLUMNS = {"CIFAR-10": C10, "CIFAR-100": "CIFAR100TestAccuracy200Epochs",
           "ImageNet16-120": "ImageNetTestAccuracy200Epochs"}
BUDGET_FEATURES = [("fitness_mean", None), ("fitness_std", None), ("fdc_spearman", None), ("autocorr_lag1", None),
                   ("autocorr_lag1_rank", None), ("neutrality", "0.005"), ("information_content", "0.005"),
                   ("local_optima_fraction", None), ("dispersion", None)]
EXACT_ROWS = [("fitness_mean", None), ("fitness_std", None), ("fitness_skewness", None),
              ("fitness_gap_best_q99", None), ("fdc_pearson", None), ("fdc_spearman", None),
              ("autocorr_lag1", None), ("autocorr_lag1_rank", None), ("corr_length", None),
              ("corr_length_traore", None), ("neutrality", "0"), ("neutrality", "0.001"), ("neutrality", "0.005"),
              ("neutrality", "0.01"), ("local_optima_strict", None), ("local_optima_plateau", None),
              ("information_content", "0.001"), ("information_content", "0.005"), ("dispersion", None)]


def value(fp: Any, name: str, key: str | None) -> float:
    return fp.value(name, key) if key else fp.value(name)


# ----------------------------------------------------------------- part 1
def exact_part(table: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, col in COLUMNS.items():
        fp = footprint(table.source(col), SamplingPlan(), exact=True, seed=0,
                       second=table.source("Cifar10TestAccuracy12Epochs") if col == C10 else None)
        out[label] = fp.to_dict()["features"]
    return out


def print_exact(ex: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, key in EXACT_ROWS + [("persistence_top_auc", None)]:
        cells = []
        for label in COLUMNS:
            f = ex[label].get(name)
            v = None if f is None else (f["value"][key] if key else f["value"])
            cells.append("-" if v is None else f"{v:.4g}")
        rows.append([name + (f"[{key}]" if key else "")] + cells)
    print("\n== 1. exact NB201 footprint (all 15,625 archs) ==")
    print(f"{'feature':<30}" + "".join(f"{c:>16}" for c in COLUMNS))
    for r in rows:
        print(f"{r[0]:<30}" + "".join(f"{c:>16}" for c in r[1:]))
    return rows


# ----------------------------------------------------------------- part 2
def budget_part(truth: Any, exact_fp: Any, budgets: list[int], reps: int) -> dict[str, Any]:
    space = truth.space
    out: dict[str, Any] = {}
    for runs in budgets:
        plan = SamplingPlan.for_campaign(runs, space.degree)
        errs: dict[str, list[float]] = {}
        cover: dict[str, list[bool]] = {}
        for r in range(reps):
            st = plan_strata(space, plan.n_points, plan.n_walks, plan.walk_length, plan.n_centres, seed=[runs, r])
            fp = footprint(truth, plan, strata=st, seed=r, adaptive=False,
                           features=sorted({n for n, _ in BUDGET_FEATURES}))
            for name, key in BUDGET_FEATURES:
                lab = name + (f"[{key}]" if key else "")
                v, e = value(fp, name, key), value(exact_fp, name, key)
                lo, hi = fp[name].ci[key] if key else fp[name].ci
                errs.setdefault(lab, []).append(abs(v - e))
                cover.setdefault(lab, []).append(bool(lo <= e <= hi))
        out[str(runs)] = {"distinct_archs": st.n_distinct(), "plan": [plan.n_points, plan.n_walks, plan.walk_length,
                                                                      plan.n_centres],
                          "mean_abs_error": {k: float(np.mean(v)) for k, v in errs.items()},
                          "coverage": {k: float(np.mean(v)) for k, v in cover.items()}}
    return out


# ----------------------------------------------------------------- part 3
class OpCountModel:
    """XGBoost on the five op counts only (the surrogates layer's model, a deliberately poor feature map)."""

    def __init__(self, space: Any) -> None:
        self.space, self.model = space, XGBSurrogate(space="nb201", n_jobs=1)

    def _X(self, archs: np.ndarray) -> np.ndarray:
        a = self.space.validate(archs)
        return np.stack([(a == o).sum(axis=1) for o in range(5)], axis=1).astype(np.float32)

    def fit(self, archs: np.ndarray, y: np.ndarray) -> OpCountModel:
        self.model._fit_X(self._X(archs), y)
        return self

    def predict(self, archs: np.ndarray) -> np.ndarray:
        return self.model._predict_X(self._X(archs))


class NoisyTable:
    """The true table plus fixed i.i.d. Gaussian noise per arch (an over-rugged 'surrogate')."""

    def __init__(self, truth: Any, sigma: float, seed: int = 0) -> None:
        self.truth, self.space, self.name = truth, truth.space, f"noise {sigma:g}"
        self.noise = np.random.default_rng(seed).normal(0.0, sigma, truth.space.size)

    def fitness(self, archs: Any) -> np.ndarray:
        return self.truth.fitness(archs) + self.noise[self.space.enumeration_index(archs)]


def makers(space: Any) -> dict[str, Any]:
    return {"good": lambda: XGBSurrogate(space="nb201", n_jobs=1),
            "depth-1": lambda: XGBSurrogate(space="nb201", max_depth=1, features=("onehot",), n_jobs=1),
            "op-count": lambda: OpCountModel(space)}


def variants(truth: Any, archs: np.ndarray, y: np.ndarray, seed: int, sigmas: list[float],
             with_oof: bool = True) -> dict[str, tuple[Any, Any]]:
    """name -> (surrogate source, paired source or None)."""
    space = truth.space
    out: dict[str, tuple[Any, Any]] = {}
    ys = np.random.default_rng([seed, 99]).permutation(y)
    for name, mk in makers(space).items():
        out[name] = (ModelSource(mk().fit(archs, y), space, name),
                     LookupSource(space, archs, oof(mk, archs, y, seed=seed), f"{name} (oof)") if with_oof else None)
    mk = makers(space)["good"]
    out["shuffled"] = (ModelSource(mk().fit(archs, ys), space, "shuffled"),
                       LookupSource(space, archs, oof(mk, archs, ys, seed=seed), "shuffled (oof)") if with_oof
                       else None)
    for s in sigmas:
        out[f"noise {s:g}"] = (NoisyTable(truth, s, seed), None)
    return out


def verdict_part(truth: Any, runs: int, reps: int, sigmas: list[float]) -> dict[str, Any]:
    space = truth.space
    plan = SamplingPlan.for_campaign(runs, space.degree)
    fresh = SamplingPlan()
    res: dict[str, Any] = {}
    for r in range(reps):
        st = plan_strata(space, plan.n_points, plan.n_walks, plan.walk_length, plan.n_centres, seed=[7, r])
        archs = space.from_index(np.unique(space.index(st.archs())))
        y = truth.fitness(archs)
        gt = LookupSource(space, archs, y, name=f"NB201 campaign {r}")
        t0 = time.time()
        for name, (sur, paired) in variants(truth, archs, y, r, sigmas).items():
            v = fidelity(gt, sur, strata=st, plan=plan, surrogate_plan=fresh, seed=r, paired=paired)
            e = res.setdefault(name, {"verdict": [], "score": [], "fail": Counter(), "inconclusive": Counter(),
                                      "tau": []})
            e["verdict"].append(v.verdict)
            e["score"].append(v.score)
            e["tau"].append(v.agreement["kendall_tau"])
            e["fail"].update({c.feature for c in v.judged() if c.verdict == "unfaithful"})
            e["inconclusive"].update({c.feature for c in v.judged() if c.verdict == "inconclusive"})
        print(f"  campaign {r + 1}/{reps}: {len(archs)} distinct archs, {time.time() - t0:.0f} s", flush=True)
    return {k: {**{w: float(np.mean([o == w for o in v["verdict"]])) for w in ("faithful", "unfaithful",
                                                                               "inconclusive")},
                "score": float(np.mean(v["score"])),
                "kendall_tau_oof": float(np.mean(v["tau"])), "fail_counts": dict(v["fail"]),
                "inconclusive_counts": dict(v["inconclusive"]), "replicates": reps} for k, v in res.items()}


def variant_exact(truth: Any, runs: int, sigmas: list[float]) -> dict[str, dict[str, float]]:
    """Exact footprint (all archs) of each variant fitted on the first campaign, next to the truth's."""
    space = truth.space
    plan = SamplingPlan.for_campaign(runs, space.degree)
    st = plan_strata(space, plan.n_points, plan.n_walks, plan.walk_length, plan.n_centres, seed=[7, 0])
    archs = space.from_index(np.unique(space.index(st.archs())))
    X = space.enumerate()
    params = SamplingPlan().analysis_params()
    srcs = {"truth": truth.fitness(X)}
    for name, (sur, _) in variants(truth, archs, truth.fitness(archs), 0, sigmas, with_oof=False).items():
        srcs[name] = sur.fitness(X)
    out = {}
    for name, f in srcs.items():
        e = exact_features(space, f, params)
        out[name] = {"autocorr_lag1": e["autocorr_lag1"].value, "autocorr_lag1_rank": e["autocorr_lag1_rank"].value,
                     "local_optima_strict": e["local_optima_strict"].value,
                     "neutrality[0.005]": e["neutrality"].value["0.005"],
                     "information_content[0.005]": e["information_content"].value["0.005"],
                     "fdc_spearman": e["fdc_spearman"].value}
    return out


def oracle_part(truth: Any, runs: int, sigmas: list[float]) -> dict[str, Any]:
    """The whole table as ground truth: large strata and hill climbs on both sides."""
    space = truth.space
    big = SamplingPlan(n_points=5000, n_walks=200, walk_length=50, n_centres=1000, n_climbs=200)
    plan = SamplingPlan.for_campaign(runs, space.degree)
    st = plan_strata(space, plan.n_points, plan.n_walks, plan.walk_length, plan.n_centres, seed=[7, 0])
    archs = space.from_index(np.unique(space.index(st.archs())))
    out = {}
    for name, (sur, _) in variants(truth, archs, truth.fitness(archs), 0, sigmas, with_oof=False).items():
        v = fidelity(truth, sur, plan=big, surrogate_plan=big, seed=0, truth_adaptive=True)
        out[name] = {"verdict": v.verdict, "score": v.score, "failed": sorted(v.failed_features()),
                     "climb_optima_distinct": [v.truth.value("climb_optima_distinct"),
                                               v.distributional.value("climb_optima_distinct")],
                     "optima_estimate_birthday": [v.truth.value("optima_estimate_birthday"),
                                                  v.distributional.value("optima_estimate_birthday")]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=5, help="replicate campaigns per setting")
    ap.add_argument("--quick", action="store_true", help="2 replicates, fewer budgets (a smoke run)")
    args = ap.parse_args(argv)
    reps = 2 if args.quick else args.replicates
    budgets = [300, 1500] if args.quick else [300, 750, 1563, 3000, 6000]
    sigmas = [0.01, 0.03] if args.quick else [0.005, 0.01, 0.03, 0.065]
    t_start = time.time()
    table = load_nb201()
    truth = table.source(C10)
    ex = exact_part(table)
    exact_rows = print_exact(ex)
    exact_fp = footprint(truth, SamplingPlan(n_points=10, n_walks=2, walk_length=2, n_centres=1, n_climbs=0),
                         exact=True, seed=0)

    print("\n== 2. sampled ground truth vs exact, as the campaign grows (CIFAR-10) ==")
    bud = budget_part(truth, exact_fp, budgets, max(reps, 5))
    labs = [n + (f"[{k}]" if k else "") for n, k in BUDGET_FEATURES]
    print(f"{'runs':>6} {'archs':>6}  " + "  ".join(f"{lab[:16]:>16}" for lab in labs))
    budget_rows = []
    for runs, b in bud.items():
        cells = [f"{b['mean_abs_error'][lab]:.3f} ({b['coverage'][lab] * 100:.0f}%)" for lab in labs]
        print(f"{runs:>6} {b['distinct_archs']:>6}  " + "  ".join(f"{c:>16}" for c in cells))
        budget_rows.append([runs, b["distinct_archs"]] + cells)

    runs = 1563
    print(f"\n== 3. verdict on surrogates fitted on a {runs}-run campaign ({reps} replicate campaigns) ==")
    ver = verdict_part(truth, runs, reps, sigmas)
    vex = variant_exact(truth, runs, sigmas)
    print(f"{'variant':<12} {'U/F':>7} {'score':>6} {'tau':>6} | exact: {'rho1':>6} {'rank':>6} {'LO':>5} "
          f"{'neut':>6} {'H':>6} | most frequent failures")
    fid_rows = []
    for name, v in ver.items():
        x = vex[name]
        top = ", ".join(f"{k} {n}/{reps}" for k, n in sorted(v["fail_counts"].items(), key=lambda kv: -kv[1])[:5])
        unsure = ", ".join(f"{k} {n}/{reps}" for k, n in
                           sorted(v["inconclusive_counts"].items(), key=lambda kv: -kv[1])[:3])
        uf = f"{v['unfaithful'] * 100:.0f}/{v['faithful'] * 100:.0f}"
        print(f"{name:<12} {uf:>7} {v['score']:6.3f} {v['kendall_tau_oof']:6.3f} | "
              f"{x['autocorr_lag1']:6.3f} {x['autocorr_lag1_rank']:6.3f} {x['local_optima_strict']:5.0f} "
              f"{x['neutrality[0.005]']:6.3f} {x['information_content[0.005]']:6.3f} | {top or '-'}"
              + (f"  [inconclusive: {unsure}]" if unsure else ""))
        fid_rows.append([name, uf, f"{v['score']:.3f}", f"{x['autocorr_lag1']:.3f}",
                         f"{x['autocorr_lag1_rank']:.3f}", f"{x['local_optima_strict']:.0f}", top or "-"])
    x = vex["truth"]
    print(f"{'(truth)':<12} {'':>5} {'':>6} {'':>6} | {x['autocorr_lag1']:6.3f} {x['autocorr_lag1_rank']:6.3f} "
          f"{x['local_optima_strict']:5.0f} {x['neutrality[0.005]']:6.3f} {x['information_content[0.005]']:6.3f} |")
    fid_rows.append(["(truth, exact)", "", "", f"{x['autocorr_lag1']:.3f}", f"{x['autocorr_lag1_rank']:.3f}",
                     f"{x['local_optima_strict']:.0f}", ""])

    print("\n== 4. oracle ground truth (whole table: paired on its strata, climbs judged distributionally) ==")
    orc = oracle_part(truth, runs, sigmas)
    for name, o in orc.items():
        print(f"{name:<12} {o['verdict'].upper()} score {o['score']:.3f}  distinct optima of 200 climbs "
              f"truth {o['climb_optima_distinct'][0]:.0f} / surrogate {o['climb_optima_distinct'][1]:.0f}; "
              f"fails: {', '.join(o['failed']) or '-'}")

    result = {"exact": ex, "budget": bud, "verdict": ver, "variant_exact": vex, "oracle": orc,
              "settings": {"replicates": reps, "campaign_runs": runs, "sigmas": sigmas, "budgets": budgets}}
    GENERATED.mkdir(parents=True, exist_ok=True)
    atomic_write_json(GENERATED / "nb201_fidelity.json", result)
    write_table("nb201_exact_footprint", ["feature"] + list(COLUMNS), exact_rows,
                caption="Exact landscape footprint of NAS-Bench-201 (seed-averaged test accuracy, all 15,625 archs).",
                label="tab:nb201-exact")
    write_table("nb201_fla_budget", ["runs", "archs"] + labs, budget_rows,
                caption="Sampled ground-truth footprint vs exact (CIFAR-10): mean absolute error (CI coverage) "
                        "over replicate campaigns.", label="tab:nb201-fla-budget")
    write_table("nb201_fidelity", ["variant", "unfaithful/faithful %", "score", "rho(1)", "rank rho(1)", "strict LO", "failures"],
                fid_rows, caption=f"Fidelity verdict on surrogates fitted on a {runs}-run NB201 campaign "
                                  f"({reps} replicates); exact features of each variant.", label="tab:nb201-fidelity")
    print(f"\nwrote {GENERATED / 'nb201_fidelity.json'} and 3 tables ({time.time() - t_start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
