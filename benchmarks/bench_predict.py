"""Query speed of a surrogate benchmark vs the raw booster (prints ratios; no asserts).

1. Throughput: ``bench.predict`` of 10,000 architectures (validation, featurisation,
   entry lookup, prediction) vs ``booster.inplace_predict`` on the *same features
   prebuilt* — same booster, same thread count, same process. Target: ≥ 0.8×.
   Also shown: ``booster.predict(DMatrix(X))`` and ``bench.predict`` on strings.
2. Latency: ``bench.predict(arch)`` of one architecture (vector and string), p50 and
   p90 over many calls. Target: p50 ≤ 0.5 ms on 2 cores.

The model is an XGBoost benchmark (500 trees, default features) fitted on 10 % of
NAS-Bench-201 CIFAR-10 (or a toy target when the table is absent); a 6-member
XGBoost+LightGBM ensemble is timed for reference.

Run: ``python benchmarks/bench_predict.py [--n 10000] [--threads 1] [--repeats 7]``
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import Benchmark, Entry, make_model


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _latency(fn, n: int) -> tuple[float, float]:
    for _ in range(50):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    q = statistics.quantiles(times, n=10)
    return statistics.median(times) * 1e3, q[8] * 1e3


def training_data(space, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    try:
        from surrogate_eo.reference import load_nb201

        table = load_nb201()
        archs = space.sample(n, seed=0)
        return archs, table.fitness(archs, "CIFAR10TestAccuracy200Epochs"), "NB201 CIFAR-10"
    except Exception:  # noqa: BLE001 - the table is optional here
        archs = space.sample(n, seed=0)
        return archs, (archs == 3).sum(axis=1) / 6 + 0.01 * (archs == 2).sum(axis=1), "toy target"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args(argv)
    import xgboost as xgb

    space = get_space("nb201")
    archs, y, what = training_data(space, 1562)
    model = make_model("xgb", "nb201", n_jobs=args.threads).fit(archs, y)
    bench = Benchmark(space, [Entry("cifar10", "test_acc", None, model)])
    ens = make_model("xgb+lgb", "nb201").fit(archs, y)
    for est in ens.estimators_:
        est.set_params(n_jobs=args.threads)
        if est.family == "xgb":
            est.booster_.set_param({"nthread": args.threads})
    bench_ens = Benchmark(space, [Entry("cifar10", "test_acc", None, ens)])

    query = space.sample(args.n, seed=1)
    strings = space.to_strings(query)
    X = model.featurizer_.transform(query)
    booster = model.booster_
    np.testing.assert_allclose(bench.predict(query), booster.inplace_predict(X), rtol=1e-6)

    t_raw = _best(lambda: booster.inplace_predict(X), args.repeats)
    t_dm = _best(lambda: booster.predict(xgb.DMatrix(X, nthread=args.threads)), args.repeats)
    t_ours = _best(lambda: bench.predict(query), args.repeats)
    t_str = _best(lambda: bench.predict(strings), args.repeats)
    t_feat = _best(lambda: model.featurizer_.transform(query), args.repeats)
    t_comp = _best(lambda: model.featurizer_.compute(query), args.repeats)
    eo_feat = make_model("xgb", "eo")._make_featurizer()
    eo_query = get_space("eo").sample(args.n, seed=1)
    t_eo = _best(lambda: eo_feat.transform(eo_query), args.repeats)
    t_ens = _best(lambda: bench_ens.predict(query), args.repeats)

    print(f"XGBoost benchmark ({model.n_estimators} trees, {X.shape[1]} features, {what}), "
          f"{args.n:,} archs, {args.threads} thread(s); best of {args.repeats}")
    print(f"  raw booster.inplace_predict(X prebuilt)   {t_raw * 1e3:8.2f} ms   {args.n / t_raw:>12,.0f} archs/s")
    print(f"  raw booster.predict(DMatrix(X))          {t_dm * 1e3:8.2f} ms   {args.n / t_dm:>12,.0f} archs/s")
    print(f"  bench.predict(int batch)                 {t_ours * 1e3:8.2f} ms   {args.n / t_ours:>12,.0f} archs/s"
          f"   ratio vs inplace {t_raw / t_ours:.2f}x (target >= 0.8x)")
    print(f"    of which featurisation (table gather)  {t_feat * 1e3:8.2f} ms"
          f"   (computing the blocks instead: {t_comp * 1e3:.2f} ms; eo space, {eo_feat.n_features} features: "
          f"{t_eo * 1e3:.2f} ms)")
    print(f"  bench.predict(strings)                   {t_str * 1e3:8.2f} ms   {args.n / t_str:>12,.0f} archs/s"
          f"   ratio vs inplace {t_raw / t_str:.2f}x")
    print(f"  xgb+lgb ensemble (6 members) predict     {t_ens * 1e3:8.2f} ms   {args.n / t_ens:>12,.0f} archs/s")

    one = tuple(int(v) for v in query[0])
    s = strings[0]
    print(f"\nsingle-arch latency over {args.calls} calls (p50 / p90; target p50 <= 0.5 ms)")
    for label, fn in [("raw inplace_predict(X[:1])", lambda: booster.inplace_predict(X[:1])),
                      ("bench.predict(tuple)", lambda: bench.predict(one)),
                      ("bench.predict(string)", lambda: bench.predict(s)),
                      ("ensemble bench.predict(tuple)", lambda: bench_ens.predict(one))]:
        p50, p90 = _latency(fn, args.calls)
        print(f"  {label:<32} {p50:6.3f} ms / {p90:6.3f} ms")


if __name__ == "__main__":
    main()
