"""End-to-end speed-up of the query path (issue 13): a landscape footprint and a TPE search on a surrogate.

Each task runs twice in one process on the same fitted benchmark: once as shipped (exported
trees for small batches, prediction tables for finite spaces, string/entry caches) and once
with every prediction sent to the libraries (``_compiled.library_only()``, the query path
before issue 13). Prints both wall times and their ratio (no asserts) and writes them, with
the load average, to ``benchmarks/results/bench_endtoend.json``. The shipped run includes
any one-off cost it incurs (exporting the trees, importing numba for the compiled walk).

- footprint: :func:`~surrogate_eo.landscape.footprint` with the default
  :class:`~surrogate_eo.landscape.SamplingPlan` through a ``BenchmarkSource``;
- search: 200 trials of Optuna's TPE (``run_optimizer("tpe", ..., batch_size=1)``).

Models: XGBoost (500 trees) and the xgb+lgb ensemble, fitted on 1,500 archs of ``nb201``
(table space; NB201 CIFAR-10 targets when the table is installed, else a toy target) and
of ``eo`` (no table: only the exported trees help).

The end-to-end part of docs/surrogates.md's Speed section is then rendered from that JSON
(``docs_block``, in ``_endtoend_docs.py``) into its generated block (not with ``--no-docs``;
``--docs-only`` re-renders the block from the JSON and measures nothing).

Run: ``python benchmarks/bench_endtoend.py [--spaces nb201 eo] [--models xgb xgb+lgb] [--trials 200]
[--no-docs | --docs-only]``
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from surrogate_eo.landscape import SamplingPlan, footprint
from surrogate_eo.landscape.sources import BenchmarkSource
from surrogate_eo.search import run_optimizer
from surrogate_eo.spaces import get_space
from surrogate_eo.surrogates import Benchmark, Entry, _compiled, make_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import publish, replace_block  # noqa: E402
from _endtoend_docs import docs_block  # noqa: E402  (re-exported: evaluation/check_generated.py renders with it)

#: The docs page whose Speed section carries this benchmark's generated block.
DOC = Path(__file__).resolve().parents[1] / "docs" / "surrogates.md"


def write_docs(result: Path, doc: Path = DOC) -> None:
    """Render the results JSON at ``result`` into the generated block of ``doc`` (docs/surrogates.md)."""
    replace_block(doc, Path(__file__).name, docs_block(json.loads(result.read_text(encoding="utf-8"))))


def targets(space, archs: np.ndarray) -> np.ndarray:
    if space.name == "nb201":
        try:
            from surrogate_eo.reference import load_nb201

            return load_nb201().fitness(archs, "CIFAR10TestAccuracy200Epochs")
        except Exception:  # noqa: BLE001 - the table is optional
            pass
    rng = np.random.default_rng(0)
    return 0.6 + 0.04 * (archs == 3).sum(1) / archs.shape[1] * 6 + rng.normal(0, 0.01, len(archs))


def timed(fn, library: bool) -> float:
    t = time.perf_counter()
    if library:
        with _compiled.library_only():
            fn()
    else:
        fn()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spaces", nargs="+", default=["nb201", "eo"])
    ap.add_argument("--models", nargs="+", default=["xgb", "xgb+lgb"])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_endtoend.json")
    ap.add_argument("--no-docs", action="store_true", help="do not write the block of docs/surrogates.md")
    ap.add_argument("--docs-only", action="store_true",
                    help="measure nothing: re-render docs/surrogates.md's block from the JSON at --out")
    args = ap.parse_args(argv)
    if args.docs_only:
        return write_docs(args.out)
    load0 = os.getloadavg()
    rows = []
    print(f"{'space':<6} {'model':<8} {'task':<22} {'library s':>10} {'shipped s':>10} {'speed-up':>9}")
    for sp in args.spaces:
        space = get_space(sp)
        archs = space.sample(1500, seed=0)
        y = targets(space, archs)
        for name in args.models:
            model = make_model(name, sp).fit(archs, y)
            bench = Benchmark(space, [Entry("cifar10", "val_acc", None, model)])
            src = BenchmarkSource(bench, "cifar10")
            jobs = [("footprint, default plan", lambda: footprint(src, SamplingPlan(), seed=0)),
                    (f"TPE, {args.trials} trials", lambda: run_optimizer("tpe", src, args.trials, seed=0,
                                                                         batch_size=1))]
            for label, fn in jobs:
                bench._query._table.clear()
                bench._query._asked.clear()
                t_lib = timed(fn, library=True)
                bench._query._table.clear()
                bench._query._asked.clear()
                t_new = timed(fn, library=False)
                print(f"{sp:<6} {name:<8} {label:<22} {t_lib:10.2f} {t_new:10.2f} {t_lib / t_new:8.2f}x", flush=True)
                rows.append({"space": sp, "model": name, "task": label, "library_s": t_lib, "shipped_s": t_new,
                             "speedup": t_lib / t_new})
    publish({"rows": rows}, args.out, load0, None if args.no_docs else write_docs)


if __name__ == "__main__":
    main()
