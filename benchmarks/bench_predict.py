"""Query speed of a surrogate benchmark vs the raw boosters (prints ratios measured in one run; no asserts).

1. Single-arch latency, p50 / p90 over many calls, each call a *different* arch (cycling over
   1,000), *including* validation, entry lookup and featurisation: ``bench.predict(arch)`` on the
   exported trees walked by the compiled kernel (``surrogates/_jit.py``, numba) and by the numpy
   walk (``surrogates/_walk.py``), on the libraries (the old path), and from a prediction table;
   tuple and string. Targets (issue 13): p50 <= 50 us for XGBoost (500 trees), <= 150 us for the
   xgb+lgb ensemble. The anchor is ``booster.inplace_predict`` of one *prebuilt* feature row.
2. Crossover: exported trees vs library for batches of 1..10,000 rows (sets ``_compiled.MAX_ROWS``
   for the numpy walk and ``_compiled.JIT_MAX_ROWS`` for the kernels), and the tree-major kernel
   vs the row-block kernel for 1..64 rows (sets ``_walk.ROW_KERNEL_ROWS``).
3. Throughput on 10,000 archs given as ints or strings vs ``booster.inplace_predict`` on the same
   features prebuilt, for ``nb201`` (string table) and ``eo`` (28.7 M archs: one-pass token
   parsing, ``surrogates/_strings.py``; fast feature blocks, ``surrogates/_fill.py``). Target:
   >= 1.0x. Then the ``eo`` stages one by one (parse, canonicalise, featurise, walk) and the same
   comparison with the library and the kernel on 2 threads.
4. Cost at load: exporting the trees of each model.

The models are an XGBoost benchmark (500 trees, default features) fitted on 10 % of
NAS-Bench-201 CIFAR-10 (a toy target when the table is absent) and the 6-member
xgb+lgb ensemble on the same data; for ``eo`` an XGBoost model on 1,500 toy-target archs.
Results go to ``benchmarks/results/bench_predict.json`` (with the load average), then into the generated
block of docs/surrogates.md's Speed section (``docs_block`` of ``_predict_docs.py``; not with ``--no-docs``;
``--docs-only`` re-renders the block from the JSON and measures nothing).

Run: ``python benchmarks/bench_predict.py [--n 10000] [--threads 1] [--repeats 9] [--no-docs | --docs-only]``
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import Benchmark, Entry, _compiled, _jit, _walk, make_model
from surrogate_eo.surrogates._query import compile_entry_model
from surrogate_eo.surrogates.canonical import canonical_representatives

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import publish, replace_block  # noqa: E402
from _predict_docs import docs_block  # noqa: E402  (re-exported: evaluation/check_generated.py renders with it)

OUT = Path(__file__).parent / "results" / "bench_predict.json"
#: The docs page whose Speed section carries this benchmark's generated block.
DOC = Path(__file__).resolve().parents[1] / "docs" / "surrogates.md"
DISTINCT, ROUNDS = 1000, 10   # distinct archs of the single-arch latency; rounds of its round-robin timing


def write_docs(result: Path, doc: Path = DOC) -> None:
    """Render the results JSON at ``result`` into the generated block of ``doc`` (docs/surrogates.md)."""
    replace_block(doc, Path(__file__).name, docs_block(json.loads(result.read_text(encoding="utf-8"))))


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _best_interleaved(fns: dict, repeats: int) -> dict:
    """Best time of each of ``fns`` over ``repeats`` round-robin passes (one call of each per pass)."""
    best = {k: np.inf for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def _times(fn, items: list, n: int, offset: int = 0) -> list[float]:
    """Seconds of ``n`` calls ``fn(item)`` cycling through ``items`` from ``offset`` (5 warm-up calls first)."""
    for i in range(5):
        fn(items[(offset + i) % len(items)])
    out = []
    for i in range(n):
        it = items[(offset + i) % len(items)]
        t = time.perf_counter()
        fn(it)
        out.append(time.perf_counter() - t)
    return out


def _latency(fn, items: list, n: int) -> tuple[float, float]:
    """p50 / p90 in us of ``fn(item)`` over ``n`` calls cycling through ``items``."""
    for i in range(min(50, n)):
        fn(items[i % len(items)])
    times = []
    for i in range(n):
        it = items[i % len(items)]
        t = time.perf_counter()
        fn(it)
        times.append(time.perf_counter() - t)
    q = statistics.quantiles(times, n=10)
    return statistics.median(times) * 1e6, q[8] * 1e6


def training_data(space, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    archs = space.sample(n, seed=0)
    if space.name == "nb201":
        try:
            from surrogate_eo.reference import load_nb201

            return archs, load_nb201().fitness(archs, "CIFAR10TestAccuracy200Epochs"), "NB201 CIFAR-10"
        except Exception:  # noqa: BLE001 - the table is optional here
            pass
    return archs, (archs == 3).sum(axis=1) / 6 + 0.01 * (archs == 2).sum(axis=1), "toy target"


class _Walk:
    """Context: ``"jit"`` (compiled kernel), ``"numpy"`` (numpy walk) or ``"library"``."""

    def __init__(self, how: str) -> None:
        self.how = how

    def __enter__(self) -> None:
        self.saved = _jit.ENABLED
        _jit.ENABLED = self.how == "jit"
        if self.how == "library":
            self.ctx = _compiled.library_only()
            self.ctx.__enter__()

    def __exit__(self, *exc) -> None:
        _jit.ENABLED = self.saved
        if self.how == "library":
            self.ctx.__exit__(*exc)


def _under(how: str, fn):
    def run(*a):
        with _Walk(how):
            return fn(*a)
    return run


def row_kernel_crossover(bench, bench_ens, X: np.ndarray, calls: int) -> dict:
    """Row-block kernel / tree-major kernel time on the exported trees for small batches (sets ROW_KERNEL_ROWS)."""
    print(f"\n   row-block / tree-major kernel time (< 1: row-block wins); switch now at "
          f"ROW_KERNEL_ROWS={_walk.ROW_KERNEL_ROWS}")
    saved = _walk.ROW_KERNEL_ROWS
    out: dict = {}
    try:
        for n in (1, 2, 4, 8, 16, 32, 64):
            rows = [np.ascontiguousarray(X[a:a + n]) for a in range(0, 50 * n, n)]
            line = {}
            for name, b in (("xgb", bench), ("ensemble", bench_ens)):
                trees = b._query.compiled(b.entries[0])[0]
                t = {}
                for how, at in (("rows", 1), ("tree", 10 ** 9)):
                    _walk.ROW_KERNEL_ROWS = at
                    t[how] = _latency(trees.predict_groups, rows, max(20, calls // 4))[0]
                line[name] = t["rows"] / t["tree"]
            out[n] = line
            print(f"  n={n:<3} " + "   ".join(f"{k} {v:5.2f}" for k, v in line.items()))
    finally:
        _walk.ROW_KERNEL_ROWS = saved
    return out


def eo_stages(ebench, emodel, eq: np.ndarray, estr: list, EX: np.ndarray, repeats: int) -> dict:
    """The eo query path of 10,000 archs stage by stage (best of ``repeats``, interleaved), in ms."""
    eo, f = ebench.space, emodel.featurizer_
    trees = ebench._query.compiled(ebench.entries[0])[0]
    reps = canonical_representatives(eo, eq)
    fns = {"raw booster.inplace_predict(X prebuilt)": lambda: emodel.booster_.inplace_predict(EX),
           "strings -> ints (token path)": lambda: ebench._query.as_batch(estr),
           "canonicalise": lambda: canonical_representatives(eo, eq),
           "featurise (fast blocks)": lambda: f.compute(reps),
           "featurise (reference blocks)": lambda: f.reference(reps)}
    if _jit.loaded():
        fns["walk (row-block kernel, 1 thread)"] = lambda: trees.predict_groups(EX, 1)
    fns["bench.predict(ints)"] = lambda: ebench.predict(eq)
    fns["bench.predict(strings)"] = lambda: ebench.predict(estr)
    best = _best_interleaved(fns, repeats)
    raw = best["raw booster.inplace_predict(X prebuilt)"]
    print(f"\n   eo, {len(eq):,} archs, stage by stage (best of {repeats}; share of the raw call):")
    for k, v in best.items():
        print(f"  {k:<46} {v * 1e3:9.2f} ms   {v / raw:6.2f}")
    return {k: v * 1e3 for k, v in best.items()}


def eo_threads(eo, emodel, eq: np.ndarray, estr: list, EX: np.ndarray, repeats: int) -> dict:
    """eo at 10,000 archs with the model on 1 and 2 threads: library (nthread) and kernel (row chunks)."""
    omp = os.environ.get("OMP_NUM_THREADS")
    print("\n5. eo, model on k threads: raw inplace_predict(nthread=k) vs bench.predict (kernel on k threads)"
          + (f"; NOTE: OMP_NUM_THREADS={omp} caps XGBoost's threads, run without it" if omp else ""))
    out: dict = {"OMP_NUM_THREADS": omp}
    saved = emodel.n_jobs
    try:
        for k in (1, 2):
            emodel.set_params(n_jobs=k)
            emodel.booster_.set_param({"nthread": k})
            b = Benchmark(eo, [Entry("so2sat-s2", "val_acc", None, emodel)])
            b.predict(eq[:2])
            t = _best_interleaved({"raw": lambda: emodel.booster_.inplace_predict(EX),
                                   "ints": lambda: b.predict(eq), "strings": lambda: b.predict(estr)}, repeats)
            out[k] = {name: [v * 1e3, t["raw"] / v] for name, v in t.items()}
            print(f"  threads={k}: raw {t['raw'] * 1e3:7.2f} ms   ints {t['ints'] * 1e3:7.2f} ms "
                  f"({t['raw'] / t['ints']:.2f}x)   strings {t['strings'] * 1e3:7.2f} ms ({t['raw'] / t['strings']:.2f}x)")
    finally:
        emodel.set_params(n_jobs=saved)
        emodel.booster_.set_param({"nthread": saved})
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--no-docs", action="store_true", help="do not write the block of docs/surrogates.md")
    ap.add_argument("--docs-only", action="store_true",
                    help="measure nothing: re-render docs/surrogates.md's block from the JSON at --out")
    args = ap.parse_args(argv)
    if args.docs_only:
        return write_docs(args.out)
    load0 = os.getloadavg()
    res: dict = {"threads": args.threads, "calls": args.calls, "jit": _jit.kernel() is not None}

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
    res["export_ms"] = {"xgb": t_cx * 1e3, "ensemble": t_ce * 1e3}

    query = space.sample(args.n, seed=1)
    strings = space.to_strings(query)
    X = model.featurizer_.transform(query)
    booster = model.booster_
    np.testing.assert_allclose(bench.predict(query), booster.inplace_predict(X), rtol=1e-6)
    for how in ("jit", "numpy"):
        with _Walk(how):
            np.testing.assert_array_equal(bench.predict(query[:30]), booster.inplace_predict(X[:30]).astype(float))

    print(f"XGBoost benchmark ({model.n_estimators} trees, {X.shape[1]} features, {what}); xgb+lgb ensemble "
          f"(6 x 500 trees); {args.threads} thread(s); numba kernel: {'yes' if res['jit'] else 'NOT installed'}")
    print(f"load-time export of the trees: XGBoost {t_cx * 1e3:.0f} ms, ensemble {t_ce * 1e3:.0f} ms")

    # ---------------------------------------------------------------- latency
    res["setup"] = {"n": args.n, "repeats": args.repeats, "distinct": DISTINCT, "rounds": ROUNDS,
                    "trees": model.n_estimators, "features": int(X.shape[1]), "train_archs": len(archs),
                    "target": what, "ensemble_members": len(ens.estimators_)}
    tuples = [tuple(int(v) for v in a) for a in query[:DISTINCT]]
    texts = strings[:DISTINCT]
    rows1 = [X[i:i + 1] for i in range(DISTINCT)]
    raw50, raw90 = _latency(lambda x: booster.inplace_predict(x), rows1, args.calls)
    print(f"\n1. single-arch latency over {args.calls} calls ({DISTINCT:,} distinct archs), p50 / p90 in us "
          f"(anchor: raw inplace_predict of a prebuilt row {raw50:.0f} / {raw90:.0f})")
    res["latency_us"] = {"raw inplace_predict (prebuilt row)": [raw50, raw90]}
    rows = []
    for how in (["jit"] if res["jit"] else []) + ["numpy", "library"]:
        for name, b, target in (("xgb", bench, 50), ("ens", bench_ens, 150)):
            for kind, items in (("tuple", tuples), ("string", texts)):
                if how == "library" and kind == "string":
                    continue
                rows.append((f"{name}  bench.predict({kind}), {how}", _under(how, b.predict), items,
                             target if how != "library" else None))
    # round-robin in ROUNDS rounds: a load spike from other jobs hits every variant alike
    times: dict = {label: [] for label, *_ in rows}
    for rnd in range(ROUNDS):
        for label, fn, items, target in rows:
            n = args.calls if "library" not in label or "xgb" in label else max(50, args.calls // 10)
            times[label] += _times(fn, items, n // ROUNDS, offset=rnd * (n // ROUNDS))
    for label, fn, items, target in rows:
        q = statistics.quantiles(times[label], n=10)
        p50, p90 = statistics.median(times[label]) * 1e6, q[8] * 1e6
        res["latency_us"][label] = [p50, p90]
        tail = f"target <= {target} us: {'met' if p50 <= target else 'NOT met'}" if target else ""
        print(f"  {label:<40} {p50:8.1f} / {p90:8.1f}   {raw50 / p50:5.2f}x raw   {tail}")
    bench.precompute(True)
    bench_ens.precompute(True)
    bench.predict(tuples[0])
    bench_ens.predict(tuples[0])
    for label, fn, items in [("xgb  bench.predict(tuple), table", bench.predict, tuples),
                             ("xgb  bench.predict(string), table", bench.predict, texts),
                             ("ens  bench.predict(tuple), table", bench_ens.predict, tuples)]:
        p50, p90 = _latency(fn, items, args.calls)
        res["latency_us"][label] = [p50, p90]
        print(f"  {label:<40} {p50:8.1f} / {p90:8.1f}   {raw50 / p50:5.2f}x raw")
    bench.precompute(False)
    bench_ens.precompute(False)
    bench._query._table.clear()
    bench_ens._query._table.clear()

    # -------------------------------------------------------------- crossover
    print(f"\n2. crossover, bench.predict of n archs: exported trees / library time (< 1: exported wins); "
          f"switch now at MAX_ROWS={_compiled.MAX_ROWS} (numpy walk), "
          f"JIT_MAX_ROWS={_compiled.JIT_MAX_ROWS} (kernels; None = every size)")
    saved = _compiled.MAX_ROWS, _compiled.JIT_MAX_ROWS
    _compiled.MAX_ROWS = _compiled.JIT_MAX_ROWS = 10 ** 9
    res["crossover"] = {}
    for n in (1, 4, 16, 64, 256, 1024, 4096, 10_000):
        if n > len(query):
            break
        qn = [query[a:a + n] for a in np.linspace(0, len(query) - n, 8).astype(int)]
        reps = max(5, args.calls // (10 * n))
        line = {}
        for name, b in (("xgb", bench), ("ensemble", bench_ens)):
            tl = _latency(_under("library", b.predict), qn, reps)[0]
            for how in (["jit"] if res["jit"] else []) + ["numpy"]:
                line[f"{name} {how}"] = _latency(_under(how, b.predict), qn, reps)[0] / tl
        res["crossover"][n] = line
        print(f"  n={n:<5} " + "   ".join(f"{k} {v:5.2f}" for k, v in line.items()))
    _compiled.MAX_ROWS, _compiled.JIT_MAX_ROWS = saved
    if res["jit"]:
        res["row_kernel"] = row_kernel_crossover(bench, bench_ens, X, args.calls)

    # ------------------------------------------------------------- throughput
    lib = _under("library", lambda f: f())
    eo = get_space("eo")
    ea, ey, _ = training_data(eo, 1500)
    emodel = make_model("xgb", "eo", n_jobs=args.threads).fit(ea, ey)
    ebench = Benchmark(eo, [Entry("so2sat-s2", "val_acc", None, emodel)])
    eq = eo.sample(args.n, seed=1)
    estr = eo.to_strings(eq)
    EX = emodel.featurizer_.transform(eq)
    np.testing.assert_array_equal(ebench.predict(estr), emodel.booster_.inplace_predict(EX))   # to the bit
    np.testing.assert_array_equal(ebench.predict(eq), emodel.booster_.inplace_predict(EX))
    tbench = Benchmark(space, [Entry("cifar10", "test_acc", None, model)]).precompute(True)
    tbench.predict(query[:1])
    # every variant of one space is timed round-robin (best of the repeats): a load spike from other
    # jobs on the machine then hits all of them alike instead of one
    X_fresh = np.array(X, copy=True)           # the same features in a fresh array: the raw anchor on both
    nb = _best_interleaved({"raw": lambda: booster.inplace_predict(X),
                            "raw (fresh array)": lambda: booster.inplace_predict(X_fresh),
                            "ints": lambda: bench.predict(query),
                            "strings": lambda: bench.predict(strings),
                            "ints lib": lambda: lib(lambda: bench.predict(query)),
                            "strings lib": lambda: lib(lambda: bench.predict(strings)),
                            "ints table": lambda: tbench.predict(query),
                            "strings table": lambda: tbench.predict(strings)}, args.repeats)
    ev = _best_interleaved({"raw": lambda: emodel.booster_.inplace_predict(EX), "ints": lambda: ebench.predict(eq),
                            "strings": lambda: ebench.predict(estr),
                            "ints lib": lambda: lib(lambda: ebench.predict(eq)),
                            "strings lib": lambda: lib(lambda: ebench.predict(estr)),
                            "parse": lambda: ebench._query.as_batch(estr)}, args.repeats)
    t_raw, t_int, t_str, t_lib, t_lib_s, t_tab, t_tab_s = (nb[k] for k in (
        "raw", "ints", "strings", "ints lib", "strings lib", "ints table", "strings table"))
    t_eraw, t_eint, t_estr, t_elib, t_elib_s, t_eparse = (ev[k] for k in (
        "raw", "ints", "strings", "ints lib", "strings lib", "parse"))
    t_espace = _best(lambda: eo.from_strings(estr), 1)
    path = "kernel" if _compiled.enabled(args.n, args.threads) else "library"
    print(f"\n3. {args.n:,} archs, best of {args.repeats}; ratio = raw inplace_predict(X prebuilt) time / ours "
          f"(target >= 1.0x); shipped path for this size and {args.threads} thread(s): {path}")
    res["throughput_ms"] = {"shipped path": path}
    for label, t, ref in [("nb201 raw booster.inplace_predict(X prebuilt)", t_raw, t_raw),
                          ("nb201 raw, same call on a copy of X (noise floor)", nb["raw (fresh array)"], t_raw),
                          ("nb201 bench.predict(ints)", t_int, t_raw),
                          ("nb201 bench.predict(strings)", t_str, t_raw),
                          ("nb201 bench.predict(ints), library", t_lib, t_raw),
                          ("nb201 bench.predict(strings), library", t_lib_s, t_raw),
                          ("nb201 bench.predict(ints), table", t_tab, t_raw),
                          ("nb201 bench.predict(strings), table", t_tab_s, t_raw),
                          ("eo raw booster.inplace_predict(X prebuilt)", t_eraw, t_eraw),
                          ("eo bench.predict(ints)", t_eint, t_eraw),
                          ("eo bench.predict(strings)", t_estr, t_eraw),
                          ("eo bench.predict(ints), library", t_elib, t_eraw),
                          ("eo bench.predict(strings), library", t_elib_s, t_eraw),
                          ("eo strings parsed: batch token lookup", t_eparse, t_eraw),
                          ("eo strings parsed: space.from_strings", t_espace, t_eraw)]:
        res["throughput_ms"][label] = [t * 1e3, ref / t]
        print(f"  {label:<46} {t * 1e3:9.2f} ms   {ref / t:8.2f}x")
    res["eo_stages_ms"] = eo_stages(ebench, emodel, eq, estr, EX, args.repeats)
    res["threads_ms"] = eo_threads(eo, emodel, eq, estr, EX, args.repeats)
    publish(res, args.out, load0, None if args.no_docs else write_docs)


if __name__ == "__main__":
    main()
