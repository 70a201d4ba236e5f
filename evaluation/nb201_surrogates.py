"""Surrogates on the real NAS-Bench-201 table under three published protocols, plus noise calibration.

Protocols (200-epoch test accuracy of CIFAR-10, CIFAR-100, ImageNet16-120):

``random``
    Train on a random x % of the 15,625 archs, test on all the rest. Kendall τ
    is also reported on the test archs whose isomorphism class
    (``space.canonical_many``) is absent from training ("novel"), which removes
    the credit a model gets for archs that duplicate a training arch.
``flowerformer``
    FlowerFormer (CVPR 2024): a random half of the space (7,813) is the pool,
    the other half the fixed test set; train on 1/5/10/50 % of the pool
    (78/390/781/3,906). Replicates: permutations x seeds.
``pinat``
    PINAT/TNASP: train on 78/156/469/781/1,563 random archs, test on all 15,625
    (training archs included, as those papers do).

Models: ``xgb-raw`` (XGBoost without isomorphism canonicalisation: the
previous default), ``xgb`` (default features, canonical), ``lgb``, ``rf``,
``xgb+lgb`` (3+3 seeds), ``auto`` (``surrogates.auto.select_model``: choice by
size and 3-fold CV), and in the ``--gnn`` pass (:func:`gnn_job`'s grid) the flow
GNN ``gnn``, ``xgb+gnn``, ``xgb-zc+gnn`` (with the SynFlow and Jacobian-covariance zero-cost
proxies), ``gnn-ens``,
``gnn-ens+xgb`` and ``auto`` again (its candidates include ``xgb-zc+gnn`` up to ``AUTO_GNN_MAX``
archs); that pass's rows replace the main run's rows of the same protocol/dataset/size/model. Noise calibration (``random`` protocol, ``xgb``): the
conformal noise model from 5-fold out-of-fold residuals of the training set,
plus σ_seed measured on the *training archs* as the std of (single-seed value
− seed-averaged value), NB201's ``nats_bench_v0`` single-seed columns vs the
averaged table. Coverage of the held-out seed-averaged values (model error
only) and single-seed values (model error + seed noise) by the 68 %/95 %
intervals; beside it the xgb+lgb ensemble spread alone (the previous noise model).

Writes ``paper/generated/nb201_surrogates{,_protocols,_calibration,_choice}.{csv,tex}``,
``nb201_surrogates.md`` (the generated block of ``docs/surrogates.md``, which
is updated in place) and ``nb201_multifidelity.{tex,csv}``.

Run: ``nice -n 10 python evaluation/nb201_surrogates.py [--seeds 3] [--quick] [--from-csv]``, then
``... --gnn`` (hours on one core: ``gnn-ens`` takes about ten minutes per fit at 3,906 archs;
``--sizes`` and ``--models`` split the pass into runs that can go side by side).
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _latex import GENERATED  # noqa: E402
from _nb201_surrogates_tables import (SHORT, merged_results, publish, render, render_calibration,  # noqa: E402
                                      render_multifidelity, replace_groups, write_docs)

from surrogate_eo._io import atomic_write_text  # noqa: E402
from surrogate_eo.reference import load_nb201  # noqa: E402
from surrogate_eo.surrogates import Ensemble, MultiFidelity, XGBSurrogate, make_model  # noqa: E402
from surrogate_eo.surrogates.auto import AUTO_GNN_MAX, select_model  # noqa: E402
from surrogate_eo.surrogates.conformal import conformal_noise, seed_grid  # noqa: E402
from surrogate_eo.surrogates.features import Featurizer  # noqa: E402
from surrogate_eo.surrogates.metrics import evaluate, interval_coverage, kendall_tau_score  # noqa: E402

DATASETS = {"cifar10": ("CIFAR10TestAccuracy200Epochs", "Cifar10TestAccuracy200Epochs"),
            "cifar100": ("CIFAR100TestAccuracy200Epochs", "Cifar100TestAccuracy200Epochs"),
            "imagenet16": ("ImageNetTestAccuracy200Epochs", "ImageNet16TestAccuracy200Epochs")}
PROTOCOL_MODELS = {"random": ("xgb-raw", "xgb", "xgb+lgb"), "flowerformer": ("xgb", "rf", "xgb+lgb", "auto"),
                   "pinat": ("xgb", "xgb+lgb")}
#: CPU budget (2 cores shared by five jobs): these run on CIFAR-10, the first seed of each FlowerFormer
#: permutation and training sets of at most SECONDARY_MAX archs only.
SECONDARY = ("rf", "auto", "gnn", "xgb+gnn")
SECONDARY_MAX = 400
#: Models of the ``--gnn`` pass (merged into the tables, replacing rows of the main run it re-measures).
GNN_MODELS = ("gnn", "xgb+gnn", "xgb-zc+gnn", "gnn-ens", "gnn-ens+xgb", "auto")
#: Training sizes (fractions for ``random``, counts otherwise); a reduced grid to fit the CPU budget.
SIZES = {"random": (0.01, 0.05, 0.10), "flowerformer": (78, 390, 3906), "pinat": (78, 469, 1563)}
FIDELITY = {12: "Cifar10TestAccuracy12Epochs", 200: "Cifar10TestAccuracy200Epochs"}


class RawXGB(XGBSurrogate):
    """XGBoost on the features of the arch as given (no isomorphism canonicalisation): the old default."""

    def _make_featurizer(self) -> Featurizer:
        return Featurizer(space=self.space, blocks=self.features, canonical=False)


def build(name: str, seed: int, archs: np.ndarray, y: np.ndarray):  # noqa: ANN201 - (Surrogate, chosen name)
    if name == "xgb-raw":
        return RawXGB(space="nb201", seed=seed), name
    if name == "gnn":
        return make_model("gnn", "nb201", seed=seed), name
    if name == "auto":
        chosen, _ = select_model("nb201", archs, y, cv=3, seed=seed)
        return make_model(chosen, "nb201", seed=seed), chosen
    return make_model(name, "nb201", seed=seed), name


def splits(protocol: str, size: float, perm: int, seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into the enumeration for one replicate of a protocol."""
    if protocol == "random":
        p = np.random.default_rng(seed).permutation(n)
        k = int(round(size * n))
        return np.sort(p[:k]), np.sort(p[k:])
    if protocol == "flowerformer":
        p = np.random.default_rng(10_000 + perm).permutation(n)
        pool, test = p[: (n + 1) // 2], p[(n + 1) // 2:]
        return np.sort(np.random.default_rng(seed).choice(pool, int(size), replace=False)), np.sort(test)
    tr = np.sort(np.random.default_rng(seed).choice(n, int(size), replace=False))
    return tr, np.arange(n)


#: How a run-note line marks replicates dropped from it because a later ``--gnn`` pass re-ran their rows.
RERUN = " (the rest re-run by a later pass)"


def drop_replicates(line: str, redone: set[str]) -> str | None:
    """A run-note line of an earlier ``--gnn`` pass without the replicate entries (``"C10 78 gnn"``) in ``redone``
    (None when none is left).

    >>> drop_replicates("GNN pass, flowerformer protocol: 9 s wall; replicates C10 78 gnn x9, C10 390 gnn x3.",
    ...                 {"C10 78 gnn"})
    'GNN pass, flowerformer protocol: 9 s wall; replicates C10 390 gnn x3 (the rest re-run by a later pass).'
    """
    head, sep, entries = line.partition("; replicates ")
    if not sep or not redone:
        return line
    entries = entries.rstrip(".").removesuffix(RERUN)
    items = [e for e in entries.split(", ") if e.rsplit(" x", 1)[0] not in redone]
    if len(items) == len(entries.split(", ")):
        return line
    return f"{head}; replicates {', '.join(items)}{RERUN}." if items else None


def main_job(protocol: str, d: str, z: float, s: int, m: str, seeds: list[int]) -> bool:
    """Replicates of the main run: FlowerFormer's other datasets and SECONDARY models get the first seed only."""
    return not (protocol == "flowerformer" and d != "cifar10" and s != seeds[0]) \
        and not (m in SECONDARY and (d != "cifar10" or s != seeds[0] or z > SECONDARY_MAX))


def updated_run_note(old: list[str], new: dict[str, str], redone: set[str]) -> list[str]:
    """The ``--gnn`` passes' run note after a pass: earlier lines of the pass's protocols lose the replicate
    groups it re-ran (:func:`drop_replicates`; a line left with none goes), then the pass's own lines
    (``new``: protocol -> line). A group not re-run keeps its line, as the CSV keeps its rows.

    >>> updated_run_note(["GNN pass, flowerformer protocol, models g: 9 s wall; replicates C10 78 g x3, C100 78 g x1."],
    ...                  {"flowerformer": "GNN pass, flowerformer protocol, models g: 5 s wall; replicates C10 78 g x9."},
    ...                  {"C10 78 g"})[0]
    'GNN pass, flowerformer protocol, models g: 9 s wall; replicates C100 78 g x1 (the rest re-run by a later pass).'
    """
    mine = tuple(f"GNN pass, {p} protocol" for p in new)
    kept = [drop_replicates(ln, redone if ln.startswith(mine) else set()) for ln in old]
    return [ln for ln in kept if ln] + list(new.values())


def gnn_job(protocol: str, d: str, z: float, s: int, m: str, seeds: list[int]) -> bool:
    """Replicates of the ``--gnn`` pass (FlowerFormer protocol; fit costs per model and size: ``fit s`` column).

    CIFAR-10: ``gnn`` and ``xgb+gnn`` on every permutation x seed at the smallest size (the
    issue's 3 x 3 protocol) and the first seed of each permutation at every other size;
    ``auto`` (which cross-validates ``xgb-zc+gnn`` up to AUTO_GNN_MAX archs) up to that size, on every
    permutation x seed at the smallest size and on the first seed at the others;
    ``gnn-ens`` (two GNNs, minutes per fit at 3,906 archs) on the first seed of each permutation;
    at the largest size ``gnn``, ``gnn-ens`` and ``gnn-ens+xgb`` (``gnn-ens`` plus a tenth of XGBoost)
    on every permutation x seed (the 3 x 3 protocol of the ≥ .93 target, paired); ``gnn-ens+xgb``
    only there.
    CIFAR-100 / ImageNet16: ``gnn`` at the smallest size, first seed; ``gnn`` and
    ``gnn-ens`` and ``gnn-ens+xgb`` at the largest size, first seed (held-out evidence for both,
    chosen on CIFAR-10).
    ``xgb-zc+gnn`` (``xgb+gnn`` with the zero-cost proxies) and ``xgb+gnn``, paired: every
    permutation x seed at the smallest size on every dataset (3 x 3; the proxy member was chosen on
    CIFAR-10, so CIFAR-100 / ImageNet16 are held out); ``xgb-zc+gnn`` also on the first seed at the
    other sizes up to SECONDARY_MAX.
    Smallest and largest are those of the pass (``--sizes`` narrows the grid).
    ``random`` protocol (``--gnn --protocols random``): ``xgb+gnn``, ``xgb-zc+gnn`` and ``auto`` at
    1 %, every dataset and seed.
    """
    smallest, largest, first = z == min(SIZES[protocol]), z == max(SIZES[protocol]), s == seeds[0]
    if protocol == "random":  # the 1 % target on every dataset and seed: the ensemble and auto
        return smallest and m in ("xgb+gnn", "xgb-zc+gnn", "auto")
    if m == "xgb-zc+gnn" or (m == "xgb+gnn" and smallest):
        return smallest or (first and z <= SECONDARY_MAX)
    if m == "auto":
        return d == "cifar10" and z <= AUTO_GNN_MAX and (first or smallest)
    if m == "gnn-ens+xgb":
        return largest and (d == "cifar10" or first)
    if d == "cifar10":
        if largest and m in ("gnn", "gnn-ens"):
            return True
        return first if m == "gnn-ens" else (z <= SECONDARY_MAX and smallest) or first
    return first and ((smallest and m != "gnn-ens") or (largest and m in ("gnn", "gnn-ens")))


def run_protocol(table, protocol: str, datasets, seeds, perms, models, progress, keep=main_job) -> pd.DataFrame:
    space = table.space
    archs = space.enumerate()
    keys = space.canonical_many(archs)
    rows = []
    reps = [(p, s) for p in (perms if protocol == "flowerformer" else [0]) for s in seeds]
    jobs = [(d, z, p, s, m) for d in datasets for z in SIZES[protocol] for p, s in reps for m in models[protocol]
            if keep(protocol, d, z, s, m, seeds)]
    task = progress.add_task(protocol, total=len(jobs)) if progress else None
    for d, z, p, s, m in jobs:
        avg_col, single_col = DATASETS[d]
        y, y1 = table.all_values(avg_col), table.all_values(single_col)
        tr, te = splits(protocol, z, p, s, len(archs))
        t0 = time.perf_counter()
        model, chosen = build(m, s, archs[tr], y[tr])
        model.fit(archs[tr], y[tr])
        fit_s = time.perf_counter() - t0
        pred = model.predict(archs[te])
        novel = ~np.isin(keys[te], keys[tr])
        row = {"protocol": protocol, "dataset": d, "size": z, "n_train": len(tr), "perm": p, "seed": s,
               "model": m, "chosen": chosen, "fit_seconds": fit_s, **evaluate(y[te], pred),
               "n_novel": int(novel.sum()),
               "kendall_tau_novel": kendall_tau_score(y[te][novel], pred[novel]) if novel.sum() > 2 else np.nan}
        if protocol == "random" and m == "xgb":
            row.update(calibration(model, archs, y, y1, tr, te, pred, s))
        if protocol == "random" and isinstance(model, Ensemble):
            _, sd = model.predict_dist(archs[te])
            row.update({f"spread_{k}": v for k, v in interval_coverage(y[te], pred, sd).items()})
        rows.append(row)
        if progress:
            progress.advance(task)
    return pd.DataFrame(rows)


def calibration(model, archs, y, y1, tr, te, pred, seed: int) -> dict[str, float]:
    """Held-out coverage of the conformal intervals (seed-averaged and single-seed values).

    Only the training archs' single-seed values are used, as the product does with
    ``fit_benchmark(..., seed_columns=...)``: the single-run intervals come from the
    quantiles of ``y1 - ŷ_oof`` (the default). For comparison: the seed deviations
    ``y1 - y`` convolved with the model error as their quantile grid, or as a normal
    with their standard deviation.
    """
    dev = y1[tr] - y[tr]
    nm, oof = conformal_noise(model, archs[tr], y[tr], seed_std=float(np.std(dev)), folds=5, seed=seed,
                              seed_quantiles=seed_grid(dev))
    direct = nm.with_single_runs(y1[tr] - oof)
    normal = replace(nm, seed_quantiles=None, _cache={})
    out = {"seed_noise": float(np.std(dev))}
    for lv in (0.68, 0.95):
        tag = round(lv * 100)
        out[f"cov_mean_{tag}"] = float((np.abs(y[te] - pred) <= nm.interval(lv, "mean")).mean())
        for key, m in (("single", direct), ("single_conv", nm), ("single_normal", normal)):
            out[f"cov_{key}_{tag}"] = float((np.abs(y1[te] - pred) <= m.interval(lv, "single")).mean())
        out[f"cov_single_no_seed_{tag}"] = float((np.abs(y1[te] - pred) <= nm.interval(lv, "mean")).mean())
    return out


def calibration_pass(table, datasets, seeds, progress) -> pd.DataFrame:
    """Only the calibration rows (random protocol, xgb; ``--calibration``)."""
    return run_protocol(table, "random", datasets, seeds, [0], {"random": ("xgb",)}, progress,
                        keep=lambda *a: True)


def fidelity_table(table, fractions, seeds) -> pd.DataFrame:
    """Per-epoch XGBoost models vs one XGBoost with log(epoch) as input, on CIFAR-10 at 12 and 200 epochs."""
    archs = table.space.enumerate()
    rows = []
    for f in fractions:
        for s in seeds:
            tr, te = splits("random", f, 0, s, len(archs))
            ys = {e: table.all_values(c) for e, c in FIDELITY.items()}
            mf = MultiFidelity(base=make_model("xgb", "nb201", seed=s)).fit(
                np.concatenate([archs[tr]] * len(ys)), np.concatenate([ys[e][tr] for e in ys]),
                np.repeat(list(ys), len(tr)))
            for e, y in ys.items():
                per = make_model("xgb", "nb201", seed=s).fit(archs[tr], y[tr]).predict(archs[te])
                joint = mf.predict(archs[te], e)
                for design, p in (("per-epoch", per), ("epoch-input", joint)):
                    rows.append({"fraction": f, "seed": s, "epoch": e, "design": design, **evaluate(y[te], p)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocols", nargs="+", default=None, choices=["random", "flowerformer", "pinat"],
                    help="Protocols to run (default: all three; with --gnn: flowerformer).")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--perms", type=int, default=3, help="FlowerFormer pool/test permutations.")
    ap.add_argument("--quick", action="store_true", help="One seed, CIFAR-10, xgb only (a smoke run).")
    ap.add_argument("--gnn", action="store_true",
                    help="Run only gnn, xgb+gnn, gnn-ens, gnn-ens+xgb and auto (FlowerFormer protocol, grid of "
                         "gnn_job; written to nb201_surrogates_gnn.csv and merged into the tables, replacing re-measured "
                         "rows).")
    ap.add_argument("--models", nargs="+", default=None, choices=list(GNN_MODELS),
                    help="With --gnn: run only these models (their rows replace the earlier pass's rows).")
    ap.add_argument("--sizes", nargs="+", type=float, default=None,
                    help="Training sizes to run (fractions for random, counts otherwise; default: the protocol's "
                         "grid). With --gnn the rows of these sizes replace the earlier pass's rows.")
    ap.add_argument("--calibration", action="store_true",
                    help="Run only the noise calibration (random protocol, xgb, every dataset, size and seed; "
                         "written to nb201_surrogates_calibration.csv, which the calibration table then uses).")
    ap.add_argument("--no-fidelity", action="store_true", help="Skip the multi-fidelity comparison.")
    ap.add_argument("--no-write", action="store_true", help="Print only; do not write paper/generated or docs.")
    ap.add_argument("--from-csv", action="store_true", help="Re-render from the CSVs of a previous run (no fitting).")
    args = ap.parse_args(argv)
    write = not args.no_write
    if write:
        GENERATED.mkdir(parents=True, exist_ok=True)
    if args.from_csv:
        publish(write)
        render_multifidelity(pd.read_csv(GENERATED / "nb201_multifidelity.csv"), write)
        return
    if args.models and not args.gnn:
        ap.error("--models selects models of the --gnn pass: add --gnn")
    if args.gnn:
        args.protocols = args.protocols or ["flowerformer"]
        for k in PROTOCOL_MODELS:
            PROTOCOL_MODELS[k] = tuple(args.models or GNN_MODELS)
    args.protocols = args.protocols or ["random", "flowerformer", "pinat"]
    if args.sizes:
        for p in args.protocols:
            SIZES[p] = tuple(z if p == "random" else int(z) for z in args.sizes)
    if args.quick:
        args.seeds, args.perms, args.datasets = 1, 1, ["cifar10"]
        for k in PROTOCOL_MODELS:
            PROTOCOL_MODELS[k] = ("xgb",)
    from rich.progress import Progress

    table = load_nb201()
    seeds, perms = list(range(args.seeds)), list(range(args.perms))
    t0 = time.perf_counter()
    if args.calibration:
        with Progress(transient=True) as progress:
            df = calibration_pass(table, args.datasets, seeds, progress)
        if write:
            df.to_csv(GENERATED / "nb201_surrogates_calibration.csv", index=False)
            publish(write)
        else:
            render_calibration(df, False)
        return
    frames = []
    with Progress(transient=True) as progress:
        for protocol in args.protocols:
            frames.append(run_protocol(table, protocol, args.datasets, seeds, perms, PROTOCOL_MODELS, progress,
                                       keep=gnn_job if args.gnn else main_job))
    df = run = pd.concat(frames, ignore_index=True)
    note = (f"Generated by `evaluation/nb201_surrogates.py` in {time.perf_counter() - t0:.0f} s (wall, 2 shared "
            f"cores) on {len(args.datasets)} dataset(s); seeds {seeds}; FlowerFormer: {len(perms)} pool/test "
            f"permutations x {len(seeds)} seeds on CIFAR-10, {len(perms)} permutations x 1 seed on the others; "
            f"{' and '.join(SECONDARY)} on CIFAR-10 and the first seed only (CPU budget).")
    if args.gnn:
        if write:
            path = GENERATED / "nb201_surrogates_gnn.csv"
            if path.is_file():  # rows not re-run are kept
                df = replace_groups(pd.read_csv(path), df)
            df.to_csv(path, index=False)
            sized = f", sizes {', '.join(f'{z:g}' for z in args.sizes)}" if args.sizes else ""
            sized += f", models {', '.join(args.models)}" if args.models else ""
            note_path = GENERATED / "nb201_surrogates_gnn_run.txt"
            wall = time.perf_counter() - t0
            counts = {p: [(f"{SHORT.get(d, d)} {z} {m}", n) for (d, z, m), n in
                          run[run["protocol"] == p].groupby(["dataset", "size", "model"], sort=False).size().items()]
                      for p in args.protocols}
            lines = {p: f"GNN pass, {p} protocol{sized}: {wall:.0f} s wall; replicates "
                        + ", ".join(f"{e} x{n}" for e, n in counts[p]) + "." for p in args.protocols}
            old_lines = note_path.read_text().splitlines() if note_path.is_file() else []
            redone = {e for p in args.protocols for e, _ in counts[p]}
            atomic_write_text(note_path, "\n".join(updated_run_note(old_lines, lines, redone)) + "\n")
            publish(write)
        else:
            render(df, False)
        return
    if write:
        df.to_csv(GENERATED / "nb201_surrogates_protocols.csv", index=False)
        df[(df["protocol"] == "random") & (df["model"] == "xgb")].to_csv(
            GENERATED / "nb201_surrogates_calibration.csv", index=False)
        atomic_write_text(GENERATED / "nb201_surrogates_run.txt", note + "\n")
        df = merged_results()
    md = render(df, write)
    if write:
        write_docs(md, note)
    if not args.no_fidelity:
        render_multifidelity(fidelity_table(table, (0.01, 0.1), seeds), write)
    print(note)


if __name__ == "__main__":
    main()
