"""Query speed of a surrogate benchmark vs the raw boosters (prints ratios measured in one run; no asserts).

1. Single-arch latency, p50 / p90 over many calls, *including* validation, entry lookup and
   featurisation: ``bench.predict(arch)`` on the exported trees (``surrogates/_compiled.py``),
   on the libraries (the old path), and from a prediction table; vector and string.
   Targets (issue 13): p50 <= 50 us for XGBoost (500 trees), <= 150 us for the xgb+lgb ensemble.
   The anchor is ``booster.inplace_predict`` of one *prebuilt* feature row in the same run.
2. Crossover: compiled trees vs library for batches of 1..256 rows (sets ``_compiled.MAX_ROWS``).
3. Throughput on 10,000 archs given as ints or strings vs ``booster.inplace_predict`` on the same
   features prebuilt. Target: >= 1.0x.
4. Cost at load: exporting the trees of each model.

The model is an XGBoost benchmark (500 trees, default features) fitted on 10 % of
NAS-Bench-201 CIFAR-10 (a toy target when the table is absent) and the 6-member
xgb+lgb ensemble on the same data.

Run: ``python benchmarks/bench_predict.py [--n 10000] [--threads 1] [--repeats 7] [--calls 2000]``
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import Benchmark, Entry, _compiled, make_model
from surrogate_eo.surrogates._query import compile_entry_model


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _latency(fn, n: int) -> tuple[float, float]:
    for _ in range(min(50, n)):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    q = statistics.quantiles(times, n=10)
    return statistics.median(times) * 1e6, q[8] * 1e6


def training_data(space, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    try:
        from surrogate_eo.reference import load_nb201

        table = load_nb201()
        archs = space.sample(n, seed=0)
        return archs, table.fitness(archs, "CIFAR10TestAccuracy200Epochs"), "NB201 CIFAR-10"
    except Exception:  # noqa: BLE001 - the table is optional here
        archs = space.sample(n, seed=0)
        return archs, (archs == 3).sum(axis=1) / 6 + 0.01 * (archs == 2).sum(axis=1), "toy target"


def _library(fn):
    def run():
        with _compiled.library_only():
            return fn()
    return run


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args(argv)

    space = get_space("nb201")
    archs, y, what = training_data(space, 1562)
    model = make_model("xgb", "nb201", n_jobs=args.threads).fit(archs, y)
    ens = make_model("xgb+lgb", "nb201").fit(archs, y)
    for est in ens.estimators_:
        est.set_params(n_jobs=args.threads)
        if est.family == "xgb":
            est.booster_.set_param({"nthread": args.threads})
    bench = Benchmark(space, [Entry("cifar10", "test_acc", None, model)]).precompute(False)
    bench_ens = Benchmark(space, [Entry("cifar10", "test_acc", None, ens)]).precompute(False)
    t0 = time.perf_counter()
    compile_entry_model(model)
    t_cx = time.perf_counter() - t0
    t0 = time.perf_counter()
    compile_entry_model(ens)
    t_ce = time.perf_counter() - t0

    query = space.sample(args.n, seed=1)
    strings = space.to_strings(query)
    X = model.featurizer_.transform(query)
    booster = model.booster_
    np.testing.assert_allclose(bench.predict(query), booster.inplace_predict(X), rtol=1e-6)
    np.testing.assert_array_equal(bench.predict(query[:50]), booster.inplace_predict(X[:50]).astype(np.float64))

    print(f"XGBoost benchmark ({model.n_estimators} trees, {X.shape[1]} features, {what}); xgb+lgb ensemble "
          f"(6 x 500 trees); {args.threads} thread(s)")
    print(f"load-time export of the trees: XGBoost {t_cx * 1e3:.0f} ms, ensemble {t_ce * 1e3:.0f} ms")

    # ---------------------------------------------------------------- latency
    one = tuple(int(v) for v in query[0])
    s = strings[0]
    x1 = X[:1]
    raw50, raw90 = _latency(lambda: booster.inplace_predict(x1), args.calls)
    print(f"\n1. single-arch latency over {args.calls} calls, p50 / p90 in us "
          f"(anchor: raw inplace_predict of a prebuilt row {raw50:.0f} / {raw90:.0f})")
    rows = [("xgb  bench.predict(tuple), compiled", lambda: bench.predict(one), 50),
            ("xgb  bench.predict(string), compiled", lambda: bench.predict(s), 50),
            ("xgb  bench.predict(tuple), library", _library(lambda: bench.predict(one)), None),
            ("ens  bench.predict(tuple), compiled", lambda: bench_ens.predict(one), 150),
            ("ens  bench.predict(string), compiled", lambda: bench_ens.predict(s), 150),
            ("ens  bench.predict(tuple), library", _library(lambda: bench_ens.predict(one)), None)]
    for label, fn, target in rows:
        p50, p90 = _latency(fn, args.calls if "library" not in label or "xgb" in label else args.calls // 4)
        tail = f"target <= {target} us: {'met' if p50 <= target else 'NOT met'}" if target else ""
        print(f"  {label:<40} {p50:8.1f} / {p90:8.1f}   {raw50 / p50:5.2f}x raw   {tail}")
    bench.precompute(True)
    bench_ens.precompute(True)
    bench.predict(one)
    bench_ens.predict(one)
    for label, fn in [("xgb  bench.predict(tuple), table", lambda: bench.predict(one)),
                      ("xgb  bench.predict(string), table", lambda: bench.predict(s)),
                      ("ens  bench.predict(tuple), table", lambda: bench_ens.predict(one))]:
        p50, p90 = _latency(fn, args.calls)
        print(f"  {label:<40} {p50:8.1f} / {p90:8.1f}   {raw50 / p50:5.2f}x raw")
    bench.precompute(False)
    bench_ens.precompute(False)
    bench._query._table.clear()
    bench_ens._query._table.clear()

    # -------------------------------------------------------------- crossover
    print("\n2. crossover, bench.predict of n archs: compiled / library time (< 1: compiled wins); "
          f"switch now at MAX_ROWS={_compiled.MAX_ROWS}")
    save = _compiled.MAX_ROWS
    _compiled.MAX_ROWS = 10 ** 9
    for n in (1, 4, 16, 32, 64, 128, 256):
        qn = query[:n]
        reps = max(3, args.calls // (10 * n))
        ratios = []
        for b in (bench, bench_ens):
            tc = _latency(lambda: b.predict(qn), reps)[0]
            tl = _latency(_library(lambda: b.predict(qn)), reps)[0]
            ratios.append(tc / tl)
        print(f"  n={n:<4} xgb {ratios[0]:5.2f}   ensemble {ratios[1]:5.2f}")
    _compiled.MAX_ROWS = save

    # ------------------------------------------------------------- throughput
    t_raw = _best(lambda: booster.inplace_predict(X), args.repeats)
    t_lib = _best(lambda: bench.predict(query), args.repeats)
    t_str = _best(lambda: bench.predict(strings), args.repeats)
    bench.precompute(True)
    bench.predict(query[:1])
    t_tab = _best(lambda: bench.predict(query), args.repeats)
    t_tab_s = _best(lambda: bench.predict(strings), args.repeats)
    t_ens = _best(lambda: bench_ens.predict(query), args.repeats)
    bench_ens.precompute(True)
    bench_ens.predict(query[:1])
    t_ens_tab = _best(lambda: bench_ens.predict(query), args.repeats)
    print(f"\n3. {args.n:,} archs, best of {args.repeats}; ratio = raw inplace_predict(X prebuilt) time / ours "
          f"(target >= 1.0x)")
    print(f"  raw booster.inplace_predict(X prebuilt)  {t_raw * 1e3:8.2f} ms")
    for label, t in [("bench.predict(ints), library", t_lib), ("bench.predict(strings), library", t_str),
                     ("bench.predict(ints), table", t_tab), ("bench.predict(strings), table", t_tab_s)]:
        print(f"  {label:<40} {t * 1e3:8.2f} ms   {t_raw / t:6.2f}x")
    print(f"  ensemble bench.predict(ints), library    {t_ens * 1e3:8.2f} ms   "
          f"(table: {t_ens_tab * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
