"""Throughput of the optimisers against an XGBoost surrogate (prints numbers; no asserts).

An XGBoost surrogate (500 trees, the default model) is fitted on 1,000 random
``eo`` archs with a synthetic target. Each optimiser then runs 300
evaluations, sequentially (``batch_size=1``) and batched where the algorithm
allows; the table gives evaluations per second, the share of wall time spent
*outside* the surrogate's ``predict`` (optimiser overhead), the speed-up
over the same optimiser run sequentially, and the ratio to the sequential
ceiling (``predict`` on one arch per call). Baselines in the same process:
``predict`` called on one arch at a time (the ceiling of any sequential
optimiser) and on one batch of 1,000 archs (the ceiling of batching).

    python benchmarks/bench_search.py [--budget 300]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from surrogate_eo.landscape.sources import ModelSource
from surrogate_eo.search import run_optimizer
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import XGBSurrogate

#: (label, optimiser, hyper-parameters); the first of each optimiser is its sequential form.
RUNS = (
    ("rs  sequential", "rs", {"batch_size": 1}),
    ("rs  batch 100", "rs", {"batch_size": 100}),
    ("re  sequential", "re", {"batch_size": 1}),
    ("re  batch 16", "re", {"batch_size": 16}),
    ("ls  (neighbourhoods)", "ls", {}),
    ("tpe sequential", "tpe", {"batch_size": 1}),
    ("tpe batch 8", "tpe", {"batch_size": 8}),
)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="optimiser throughput against an XGBoost surrogate")
    ap.add_argument("--budget", type=int, default=300)
    args = ap.parse_args(argv)
    space = get_space("eo")
    archs = space.sample(1000, seed=0)
    y = 0.6 + 0.04 * (archs[:, :6] == 3).sum(1) + 0.02 * archs[:, 7] - 0.03 * (archs[:, 9] == 2)
    y = y + np.random.default_rng(0).normal(0, 0.01, len(y))
    t = time.perf_counter()
    model = XGBSurrogate(space="eo", n_estimators=500, n_jobs=1).fit(archs, y)
    print(f"fitted XGBoost (500 trees) on 1,000 eo archs in {time.perf_counter() - t:.1f} s")
    source = ModelSource(model, "eo", name="xgb")

    probe = space.sample(1000, seed=1)
    model.predict(probe[:10])  # warm up
    t = time.perf_counter()
    for a in probe[:200]:
        model.predict(a[None, :])
    single = 200 / (time.perf_counter() - t)
    t = time.perf_counter()
    model.predict(probe)
    batched = 1000 / (time.perf_counter() - t)
    print(f"baseline predict, one arch per call: {single:,.0f} archs/s; one call of 1,000 archs: {batched:,.0f} archs/s\n")

    print(f"{'optimiser':<22} {'evals':>6} {'evals/s':>10} {'outside predict':>16} {'vs sequential':>14} {'vs 1-arch predict':>18}")
    seq: dict[str, float] = {}
    for label, name, params in RUNS:
        traj = run_optimizer(name, source, args.budget, seed=0, **params)
        rate = traj.n_evals / traj.wall_s
        outside = 1.0 - traj.source_s / traj.wall_s
        seq.setdefault(name, rate)
        print(f"{label:<22} {traj.n_evals:>6} {rate:>10,.0f} {100 * outside:>15.1f}% {rate / seq[name]:>13.1f}x {rate / single:>17.2f}x")
    print(f"\n(sequential ceiling = {single:,.0f} evals/s; batched ceiling = {batched:,.0f} evals/s)")


if __name__ == "__main__":
    main()
