"""Trajectory fidelity on NAS-Bench-201: optimisers on the table vs on a surrogate fitted on 5 % of it.

For each NB201 dataset (CIFAR-10, CIFAR-100, ImageNet16-120; 200-epoch test
accuracy), fit the surrogate helper's best model (``xgb+lgb``: 3 XGBoost + 3
LightGBM seeds) on a random 5 % of the 15,625 archs, then run random search,
regularised evolution, local search and TPE with 10 seeds and 200
evaluations each on the table and on the surrogate, and compare
(:func:`surrogate_eo.search.compare_optimizers`).

Writes into ``paper/generated/``: ``nb201_trajectories.json`` (all numbers),
``nb201_trajectories.tex`` (the table) and ``nb201_trajectories_<task>.png``
(anytime curves + final-regret scatter). Takes about a minute on 2 cores.

    python evaluation/nb201_trajectories.py [--seeds 10] [--budget 200] [--model xgb+lgb]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _latex import GENERATED, write_table  # noqa: E402

from surrogate_eo._io import atomic_write_json  # noqa: E402
from surrogate_eo.landscape.sources import BenchmarkSource  # noqa: E402
from surrogate_eo.reference import load_nb201  # noqa: E402
from surrogate_eo.search import TabulatedSource, compare_optimizers  # noqa: E402
from surrogate_eo.search.plots import plot_comparison  # noqa: E402
from surrogate_eo.surrogates import fit_benchmark  # noqa: E402
from surrogate_eo.surrogates.fitting import parse_column  # noqa: E402

COLUMNS = ("CIFAR10TestAccuracy200Epochs", "CIFAR100TestAccuracy200Epochs", "ImageNetTestAccuracy200Epochs")
OPTIMIZERS = ("rs", "re", "ls", "tpe")


def _pairs(p: dict) -> str:
    return (f"{p['n_same_order']}/{p['n_pairs']} "
            f"({p['n_of_those_same_order_on_surrogate']}/{p['n_significant_on_ground_truth']})")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--fraction", type=float, default=0.05, help="share of NB201 the surrogate is fitted on")
    ap.add_argument("--model", default="xgb+lgb")
    ap.add_argument("--columns", nargs="*", default=list(COLUMNS))
    args = ap.parse_args(argv)

    table = load_nb201()
    results, rows = {}, []
    for col in args.columns:
        t0 = time.perf_counter()
        task, metric, epoch = parse_column(col)
        bench = fit_benchmark(table, columns=[col], model=args.model, train_fraction=args.fraction, seed=0)
        surrogate = TabulatedSource(BenchmarkSource(bench, task, metric=metric))
        truth = table.all_values(col)
        fit_tau = float(stats.kendalltau(surrogate.values, truth).statistic)
        gt = table.source(col)
        cmp = compare_optimizers(gt, surrogate, optimizers=OPTIMIZERS, seeds=args.seeds, budget=args.budget,
                                 progress=True)
        png = plot_comparison(cmp, GENERATED / f"nb201_trajectories_{task}.png",
                              title=f"NB201 {task}: table vs {args.model} surrogate fitted on "
                                    f"{100 * args.fraction:g}% of the archs ({args.seeds} seeds, "
                                    f"{args.budget} evaluations)")
        elapsed = time.perf_counter() - t0
        print(f"\n== {col} ({task}); surrogate Kendall tau on all archs = {fit_tau:.3f}; {elapsed:.0f} s")
        print(cmp.table())
        print(f"wrote {png}")
        results[task] = {"column": col, "surrogate": {"model": args.model, "train_fraction": args.fraction,
                                                      "n_train": int(bench.entries[0].info["n_train"]),
                                                      "kendall_tau_all_archs": fit_tau},
                         "seconds": elapsed, **cmp.to_dict()}
        s = cmp.stats
        for i, o in enumerate(cmp.optimizers):
            g, su = (100 * cmp.final_regret[r][o] for r in ("ground_truth", "surrogate"))
            rows.append([task if i == 0 else "", o,
                         f"{g.mean():.3f} ± {g.std(ddof=1) / np.sqrt(len(g)):.3f}", f"{s['rank']['ground_truth'][i]:g}",
                         f"{su.mean():.3f} ± {su.std(ddof=1) / np.sqrt(len(su)):.3f}", f"{s['rank']['surrogate'][i]:g}",
                         f"{100 * s['transfer']['mean_regret'][i]:.3f}",
                         f"{s['kendall']['tau']:.2f} ({s['kendall']['p']:.2f})" if i == 0 else "",
                         f"{s['per_seed']['mean_tau']:.2f} ({s['per_seed']['p']:.3f})" if i == 0 else "",
                         _pairs(s["pairs"]) if i == 0 else ""])
    GENERATED.mkdir(parents=True, exist_ok=True)
    atomic_write_json(GENERATED / "nb201_trajectories.json",
                      {"seeds": args.seeds, "budget": args.budget, "optimizers": list(OPTIMIZERS), "results": results})
    write_table("nb201_trajectories",
                ["task", "optimizer", "regret table", "rank", "regret surrogate", "rank", "table regret of sur. inc.",
                 "tau (p)", "per-seed tau (p)", "pairs kept"], rows,
                caption=f"Trajectory fidelity on NAS-Bench-201: mean final regret (percentage points, ± s.e.) after "
                        f"{args.budget} evaluations over {args.seeds} seeds on the table and on a {args.model} "
                        f"surrogate fitted on {100 * args.fraction:g}\\% of the architectures.",
                label="tab:nb201-trajectories",
                note="Regret on each source is against its own optimum. 'table regret of sur. inc.': table regret "
                     "of the architectures the runs on the surrogate returned. tau: Kendall tau between the two "
                     "rankings by mean final regret (two-sided exact p; four optimisers cannot reach p < 0.083). "
                     "Per-seed tau: mean over seeds of tau between the seed's rankings, one-sided Wilcoxon p. "
                     "Pairs kept: pairs of optimisers ordered alike on both sources / all pairs; in brackets, of "
                     "the pairs that differ on the table (Mann-Whitney p < 0.05), how many keep their order.")
    print(f"wrote {GENERATED / 'nb201_trajectories.json'} and {GENERATED / 'nb201_trajectories.tex'}")
    return results


if __name__ == "__main__":
    main()
