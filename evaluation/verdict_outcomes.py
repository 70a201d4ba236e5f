"""Outcome rates of the three-word fidelity verdict on NAS-Bench-201 and NK landscapes.

For every campaign size (50 ... 5,000 runs; campaigns of >= 300 runs add a second wave of 10 exploit
neighbourhoods at the surrogate's predicted-best archs, 250 runs), ``--replicates`` campaigns are drawn
from the table (the truth looked up) and the verdict is computed against:

- **identity** (the truth itself): should never be ``unfaithful``;
- **the panel** of unfaithful surrogates (evaluation/_verdict_common.py): shuffled, over-smoothed
  (additive one-hot fit), noisy (sigma 0.02), top-10 % permuted, bottom-50 % permuted, another dataset
  rescaled to the same mean/std, the 12-epoch table rescaled: should be ``unfaithful`` and never ``faithful``;
- **rank transform** (``f**4`` rescaled): ``faithful`` in rank mode, ``unfaithful`` in value mode;
- **good surrogate**: XGBoost fitted on the 1,563-run campaign's archs (~10 % of the table), paired on
  5-fold out-of-fold predictions (1,563 runs only).

Tolerances, minimum units and rules were chosen on CIFAR-10 only; CIFAR-100, ImageNet16-120 and NK
landscapes (N = 14, K = 3) are held-out evidence. A power table gives, per panel member and dataset, the
smallest campaign of the grid at which the verdict is ``unfaithful`` in >= 90 % of campaigns.

Writes ``paper/generated/verdict_outcomes.{json,tex}``, ``verdict_power.{json,csv,tex}`` and the outcome
and power blocks of docs/landscape.md. Run:
``OMP_NUM_THREADS=1 nice -n 10 python evaluation/verdict_outcomes.py [--replicates 20] [--quick]``
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
from _verdict_common import (DATASETS, SIZES, ArraySource, campaign_plan, load_tables, oof, panel,  # noqa: E402
                             rank_transform, replace_marker_block)

from surrogate_eo._io import atomic_write_json, atomic_write_text  # noqa: E402
from surrogate_eo.landscape import LookupSource, ModelSource, SamplingPlan, fidelity, plan_strata  # noqa: E402
from surrogate_eo.landscape.nk import NKLandscape  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "landscape.md"
WORDS = ("faithful", "inconclusive", "unfaithful")


def draw(space: Any, plan: SamplingPlan, seed: list[int]) -> Any:
    return plan_strata(space, plan.n_points, plan.n_walks, plan.walk_length, plan.n_centres, seed=seed)


def rates(outs: list[str]) -> dict[str, float]:
    return {w: float(np.mean([o == w for o in outs])) for w in WORDS}


def run_grid(space: Any, truth: Any, surrogates: dict[str, Any], sizes: list[int], reps: int, seed: int
             ) -> dict[str, Any]:
    """surrogate -> size -> {"value": rates, "rank": rates, "runs_needed": median per stratum}."""
    out: dict[str, Any] = {name: {} for name in surrogates}
    for runs in sizes:
        plan = campaign_plan(runs, space.degree)
        for r in range(reps):
            st = draw(space, plan, [seed, runs, r])
            for name, sur in surrogates.items():
                v = fidelity(truth, sur, strata=st, plan=plan, seed=r, truth_adaptive=False, footprints=False,
                             distributional=False)
                e = out[name].setdefault(str(runs), {"value": [], "rank": [], "needed": []})
                e["value"].append(v.verdict_for("value"))
                e["rank"].append(v.verdict_for("rank"))
                e["needed"].append(sum(v.runs_needed.values()))
    for name in out:
        for runs, e in out[name].items():
            need = [x for x, o in zip(e["needed"], e["value"]) if o == "inconclusive"]
            out[name][runs] = {"value": rates(e["value"]), "rank": rates(e["rank"]),
                               "median_runs_needed": float(np.median(need)) if need else None,
                               "replicates": len(e["value"])}
    return out


def good_surrogate(space: Any, f: np.ndarray, name: str, reps: int, seed: int) -> dict[str, Any]:
    """XGBoost on the 1,563-run campaign's archs; paired on out-of-fold predictions."""
    from surrogate_eo.surrogates import XGBSurrogate

    truth = ArraySource(space, f, name)
    plan = campaign_plan(1563, space.degree)
    vals, ranks, fails, unsure, taus = [], [], {}, {}, []
    for r in range(reps):
        st = draw(space, plan, [seed, 1563, r])
        archs = space.from_index(np.unique(space.index(st.archs())))
        y = f[space.enumeration_index(archs)]

        def make() -> Any:
            return XGBSurrogate(space="nb201", n_jobs=1, n_estimators=300)

        sur = ModelSource(make().fit(archs, y), space, "xgb")
        paired = LookupSource(space, archs, oof(make, archs, y, seed=r), "xgb (oof)")
        v = fidelity(truth, sur, strata=st, plan=plan, seed=r, truth_adaptive=False, paired=paired, footprints=False,
                     distributional=False)
        vals.append(v.verdict_for("value"))
        ranks.append(v.verdict_for("rank"))
        taus.append(v.agreement["kendall_tau"])
        for c in v.comparisons:
            if c.outcomes.get("value") == "unfaithful":
                fails[c.label] = fails.get(c.label, 0) + 1
            if c.outcomes.get("value") == "inconclusive":
                unsure[c.label] = unsure.get(c.label, 0) + 1

    def order(d: dict[str, int]) -> dict[str, int]:
        return dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))

    return {"value": rates(vals), "rank": rates(ranks), "kendall_tau_oof": float(np.mean(taus)),
            "unfaithful_comparisons": order(fails), "inconclusive_comparisons": order(unsure), "replicates": reps}


def nk_panel(nk: NKLandscape, seed: int = 0) -> tuple[Any, np.ndarray, dict[str, np.ndarray]]:
    space = nk.space
    f = nk.fitness(space.enumerate())
    rng = np.random.default_rng(seed)
    order = np.argsort(-f, kind="stable")
    top = order[:len(f) // 10]
    g = f.copy()
    g[top] = f[rng.permutation(top)]
    other = NKLandscape(nk.n, 8, seed=seed + 1).fitness(space.enumerate())
    return space, f, {"shuffled": rng.permutation(f), "noisy 0.02": f + rng.normal(0, 0.02, len(f)),
                      "top-10% permuted": g,
                      "NK K=8 rescaled": (other - other.mean()) / other.std() * f.std() + f.mean()}


def timing(space: Any, f: np.ndarray) -> float:
    """Seconds of one full verdict at 1,563 runs (footprints, fresh surrogate samples, exploit wave)."""
    truth = ArraySource(space, f, "truth")
    plan = campaign_plan(1563, space.degree)
    st = draw(space, plan, [0, 1563, 0])
    t0 = time.perf_counter()
    fidelity(truth, ArraySource(space, f + 0.001, "shifted"), strata=st, plan=plan, surrogate_plan=SamplingPlan(),
             seed=0, truth_adaptive=False)
    return time.perf_counter() - t0


def pct(x: float) -> str:
    return f"{100 * x:.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--good-replicates", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="3 replicates, three sizes (a smoke run)")
    ap.add_argument("--only-good", action="store_true",
                    help="recompute only the XGBoost part, keeping the rest of verdict_outcomes.json")
    args = ap.parse_args(argv)
    if args.only_good:
        import json

        res = json.loads((GENERATED / "verdict_outcomes.json").read_text())
        space, f200, _ = load_tables()
        greps = res["settings"]["good_replicates"]
        for i, ds in enumerate(DATASETS):
            res["good"][ds] = good_surrogate(space, f200[ds], ds, greps, seed=400 + i)
        write_outputs(res, res["settings"]["sizes"])
        return 0
    reps = 3 if args.quick else args.replicates
    greps = 2 if args.quick else args.good_replicates
    sizes = [100, 300, 1563] if args.quick else SIZES
    t0 = time.time()
    space, f200, f12 = load_tables()
    res: dict[str, Any] = {"settings": {"replicates": reps, "good_replicates": greps, "sizes": sizes,
                                        "selection": "CIFAR-10", "held_out": ["CIFAR-100", "ImageNet16-120", "NK"]},
                           "nb201": {}, "good": {}, "nk": {}}
    for i, ds in enumerate(DATASETS):
        f = f200[ds]
        sur = {"identity": ArraySource(space, f, ds)}
        sur.update({k: ArraySource(space, v, k) for k, v in panel(space, f200, f12, ds).items()})
        sur["rank transform"] = ArraySource(space, rank_transform(f), "rank transform")
        res["nb201"][ds] = run_grid(space, ArraySource(space, f, ds), sur, sizes, reps, seed=300 + i)
        print(f"{ds}: grid done ({time.time() - t0:.0f} s)", flush=True)
        res["good"][ds] = good_surrogate(space, f, ds, greps, seed=400 + i)
        print(f"{ds}: good surrogate done ({time.time() - t0:.0f} s)", flush=True)
    nk = NKLandscape(14, 3, seed=0)
    nspace, nf, npanel = nk_panel(nk)
    nsur = {"identity": ArraySource(nspace, nf, "NK"), **{k: ArraySource(nspace, v, k) for k, v in npanel.items()},
            "rank transform": ArraySource(nspace, rank_transform(nf - nf.min() + 0.1), "rank transform")}
    # the rank transform needs positive fitness; shift the truth the same way so only the transform differs
    nsur["rank transform"] = ArraySource(nspace, rank_transform(nf - nf.min() + 0.1) + nf.min() - 0.1,
                                         "rank transform")
    nsizes = [s for s in sizes if s >= 300]
    res["nk"] = run_grid(nspace, ArraySource(nspace, nf, "NK"), nsur, nsizes, reps, seed=500)
    print(f"NK done ({time.time() - t0:.0f} s)", flush=True)
    secs = timing(space, f200["CIFAR-10"])
    print(f"one full verdict at 1,563 runs: {secs:.2f} s")
    res["full_verdict_1563_under_60s"] = bool(secs < 60)
    GENERATED.mkdir(parents=True, exist_ok=True)
    write_outputs(res, sizes)
    print(f"wrote verdict_outcomes / verdict_power ({time.time() - t0:.0f} s)")
    return 0


def write_outputs(res: dict[str, Any], sizes: list[int]) -> None:
    atomic_write_json(GENERATED / "verdict_outcomes.json", res)
    # outcome table: per dataset and surrogate, U% / F% per size (value mode), plus rank mode at 1,563
    big = str(1563 if 1563 in sizes else sizes[-1])
    rows, md = [], []
    header = ["dataset", "surrogate"] + [f"{s}" for s in sizes] + [f"rank {big}"]
    for ds, grid in [*res["nb201"].items(), ("NK (N=14, K=3)", res["nk"])]:
        for name, by in grid.items():
            cells = []
            for s in sizes:
                e = by.get(str(s))
                cells.append("-" if e is None else f"{pct(e['value']['unfaithful'])}/{pct(e['value']['faithful'])}")
            e = by.get(big)
            cells.append("-" if e is None else f"{pct(e['rank']['unfaithful'])}/{pct(e['rank']['faithful'])}")
            rows.append([ds, name] + cells)
    for ds, g in res["good"].items():
        rows.append([ds, "XGBoost (oof)"] + ["-"] * (len(sizes)) + ["-"])
        rows[-1][2 + sizes.index(int(big))] = f"{pct(g['value']['unfaithful'])}/{pct(g['value']['faithful'])}"
        rows[-1][-1] = f"{pct(g['rank']['unfaithful'])}/{pct(g['rank']['faithful'])}"
    write_table("verdict_outcomes", header, rows,
                caption="Fidelity verdict outcome rates: \\% unfaithful / \\% faithful over replicate campaigns "
                        "per campaign size (runs; $\\geq$ 300 runs add a 250-run exploit wave), value mode; last "
                        "column: rank mode. Rules chosen on CIFAR-10; the rest is held out.",
                label="tab:verdict-outcomes")
    md.append("| dataset | surrogate | " + " | ".join(header[2:]) + " |")
    md.append("|---|---|" + "---:|" * (len(header) - 2))
    md += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    replace_marker_block(DOCS, "verdict-outcomes", "\n".join(md))
    # power: smallest grid size with unfaithful >= 90 % (and >= 50 %)
    prow, csv = [], ["dataset,surrogate,runs_for_90pct_unfaithful,runs_for_50pct_unfaithful"]
    for ds, grid in [*res["nb201"].items(), ("NK (N=14, K=3)", res["nk"])]:
        for name, by in grid.items():
            if name in ("identity", "rank transform"):
                continue
            def first(th: float) -> str:
                for s in sizes:
                    e = by.get(str(s))
                    if e is not None and e["value"]["unfaithful"] >= th:
                        return str(s)
                return f">{sizes[-1]}"
            a, b = first(0.9), first(0.5)
            prow.append([ds, name, a, b])
            csv.append(f"{ds},{name},{a},{b}")
    atomic_write_json(GENERATED / "verdict_power.json", {"rows": [dict(zip(["dataset", "surrogate", "runs_90",
                                                                              "runs_50"], r)) for r in prow]})
    atomic_write_text(GENERATED / "verdict_power.csv", "\n".join(csv) + "\n")
    write_table("verdict_power", ["dataset", "surrogate", "runs for 90% unfaithful", "runs for 50%"], prow,
                caption="Campaign sizing: smallest campaign of the grid (50 ... 5,000 runs) at which the verdict "
                        "calls each panel member unfaithful in at least 90\\% (50\\%) of replicate campaigns.",
                label="tab:verdict-power")
    pmd = ["| dataset | surrogate | runs for >= 90 % unfaithful | runs for >= 50 % |", "|---|---|---:|---:|"]
    pmd += ["| " + " | ".join(r) + " |" for r in prow]
    g = res["good"]
    pmd += ["", "Good surrogate (XGBoost on the 1,563-run campaign, out-of-fold pairing), value / rank mode:", "",
            "| dataset | unfaithful | faithful | inconclusive | rank: unfaithful | rank: faithful | Kendall tau (oof) "
            "| most often unfaithful | most often inconclusive |", "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for ds, e in g.items():
        top = ", ".join(f"{k} {v}/{e['replicates']}" for k, v in list(e["unfaithful_comparisons"].items())[:4])
        unsure = ", ".join(f"{k} {v}/{e['replicates']}"
                           for k, v in list(e.get("inconclusive_comparisons", {}).items())[:4])
        pmd.append(f"| {ds} | {pct(e['value']['unfaithful'])} % | {pct(e['value']['faithful'])} % | "
                   f"{pct(e['value']['inconclusive'])} % | {pct(e['rank']['unfaithful'])} % | "
                   f"{pct(e['rank']['faithful'])} % | {e['kendall_tau_oof']:.3f} | {top or '-'} | {unsure or '-'} |")
    pmd += ["", "One full verdict at 1,563 runs (three footprints, 10,000 fresh surrogate points, exploit wave) "
                + ("takes under 60 s" if res["full_verdict_1563_under_60s"] else "takes MORE than 60 s")
                + " on the evaluation machine."]
    replace_marker_block(DOCS, "verdict-power", "\n".join(pmd))


if __name__ == "__main__":
    sys.exit(main())
