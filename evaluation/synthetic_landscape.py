"""Does the synthetic So2Sat data give a non-trivial landscape? 20 random nb201 archs, S2 vs S1.

Generates synthetic So2Sat-format data (``surrogate_eo.data.synthesize``),
trains the same random nb201 architectures with the ``smoke`` protocol on
``so2sat-s2`` and on ``so2sat-s1``, and checks the two properties the data
generator promises:

- the accuracy spread across architectures is at least 15 points (test overall
  accuracy, max - min, on S2), so architectures differ;
- S2 beats S1 (mean test accuracy), as on the real So2Sat LCZ42.

Prints the per-architecture table and a summary, and writes
``paper/generated/synthetic_landscape.csv`` (one row per arch) and
``paper/generated/synthetic_landscape.tex`` (summary table). Runs in parallel
worker processes with one thread each (2 workers: about 2-4 minutes).

Run: ``python evaluation/synthetic_landscape.py [--n-archs 20] [--workers 2] [--check]``
"""
from __future__ import annotations

import argparse
import csv
import io
import multiprocessing as mp
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _latex import GENERATED, write_table  # noqa: E402

from surrogate_eo._io import atomic_write_text  # noqa: E402
from surrogate_eo.records import RunSpec  # noqa: E402
from surrogate_eo.spaces import get_space  # noqa: E402
from surrogate_eo.training import get_protocol  # noqa: E402

TASKS = ("so2sat-s2", "so2sat-s1")
MIN_SPREAD = 0.15


def _run(args: tuple[dict, str, str]) -> dict:
    """Train one spec in a worker process (1 thread) and return its final metrics."""
    spec_d, data, out = args
    from surrogate_eo.training import train

    rec = train(RunSpec.from_dict(spec_d), data, out, threads=1)
    f = rec.final
    return {"run_id": rec.run_id, "task": rec.spec.task, "arch": rec.spec.arch, "status": rec.status,
            "val_acc": f.get("val_acc", float("nan")), "test_acc": f.get("test_acc", float("nan")),
            "test_kappa": f.get("test_kappa", float("nan")), "test_f1": f.get("test_f1", float("nan")),
            "params": rec.params, "flops": rec.flops, "seconds": rec.wall_seconds}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-archs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="seed of the arch sample and the synthetic data")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", type=Path, default=None, help="existing synthetic data root (default: generate)")
    ap.add_argument("--runs", type=Path, default=None, help="folder for run records (default: temporary)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a property fails")
    args = ap.parse_args()

    proto = get_protocol("smoke")
    space = get_space("nb201")
    archs = space.to_strings(space.sample(args.n_archs, seed=args.seed))
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            from surrogate_eo.data import synthesize

            data = Path(tmp) / "data"
            t = time.perf_counter()
            synthesize(data, version=2, n_train=2000, n_val=1000, n_test=1000, seed=args.seed)
            print(f"synthetic data: {data} ({time.perf_counter() - t:.1f} s)")
        runs = args.runs or Path(tmp) / "runs"
        jobs = [(RunSpec("nb201", a, task, 0, proto.name, proto.hash).to_dict(), str(data), str(runs))
                for task in TASKS for a in archs]
        t = time.perf_counter()
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=ctx) as pool:
            results = list(pool.map(_run, jobs))
        elapsed = time.perf_counter() - t
    by = {task: [r for r in results if r["task"] == task] for task in TASKS}
    acc = {task: np.array([r["test_acc"] for r in by[task]]) for task in TASKS}

    print(f"\n{'#':>2} {'S2 test':>8} {'S1 test':>8} {'MFLOPs':>7}  nb201 arch")
    for i, a in enumerate(archs):
        print(f"{i:>2} {acc['so2sat-s2'][i]:>8.3f} {acc['so2sat-s1'][i]:>8.3f} "
              f"{by['so2sat-s2'][i]['flops'] / 1e6:>7.1f}  {a}")
    summary = []
    for task in TASKS:
        a = acc[task]
        summary.append([task, f"{a.mean():.3f}", f"{np.median(a):.3f}", f"{a.min():.3f}", f"{a.max():.3f}",
                        f"{a.max() - a.min():.3f}", f"{np.std(a):.3f}"])
    rho = float(spearmanr(acc["so2sat-s2"], acc["so2sat-s1"]).statistic)
    spread = float(acc["so2sat-s2"].max() - acc["so2sat-s2"].min())
    s2_wins = int((acc["so2sat-s2"] > acc["so2sat-s1"]).sum())
    ok_spread = spread >= MIN_SPREAD
    ok_s2 = acc["so2sat-s2"].mean() > acc["so2sat-s1"].mean()
    seconds = np.array([r["seconds"] for r in results])
    print(f"\n{'task':<10} {'mean':>6} {'median':>6} {'min':>6} {'max':>6} {'spread':>6} {'std':>6}")
    for row in summary:
        print(f"{row[0]:<10} " + " ".join(f"{c:>6}" for c in row[1:]))
    print(f"S2 > S1 for {s2_wins}/{len(archs)} archs; Spearman(S2, S1) = {rho:.2f}")
    print(f"{len(results)} smoke runs in {elapsed:.0f} s with {args.workers} workers x 1 thread; "
          f"train+eval seconds per run: median {np.median(seconds):.1f}, max {seconds.max():.1f}")
    print(f"spread on S2 >= {MIN_SPREAD:.2f}: {'PASS' if ok_spread else 'FAIL'} ({spread:.3f}); "
          f"S2 mean > S1 mean: {'PASS' if ok_s2 else 'FAIL'}")

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["arch", "s2_test_acc", "s1_test_acc", "s2_val_acc", "s1_val_acc", "params", "mflops",
                "protocol_hash"])
    for i, a in enumerate(archs):
        s2, s1 = by["so2sat-s2"][i], by["so2sat-s1"][i]
        w.writerow([a, f"{s2['test_acc']:.4f}", f"{s1['test_acc']:.4f}", f"{s2['val_acc']:.4f}",
                    f"{s1['val_acc']:.4f}", s2["params"], f"{s2['flops'] / 1e6:.2f}", proto.hash])
    atomic_write_text(GENERATED / "synthetic_landscape.csv", buf.getvalue())
    write_table(
        "synthetic_landscape", ["task", "mean", "median", "min", "max", "spread", "std"], summary,
        caption=(f"Synthetic So2Sat-format data: test overall accuracy of {len(archs)} uniform nb201 "
                 f"architectures trained with the smoke protocol ({proto.train_count} training patches, "
                 f"{proto.epochs} epochs). S2 beats S1 for {s2_wins}/{len(archs)} architectures; "
                 f"Spearman's $\\rho$ between the two tasks' accuracies is {rho:.2f}."),
        label="tab:synthetic-landscape")
    print(f"wrote {GENERATED / 'synthetic_landscape.csv'} and {GENERATED / 'synthetic_landscape.tex'}")
    return 0 if (ok_spread and ok_s2) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
