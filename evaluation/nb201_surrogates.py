"""Surrogates on the real NAS-Bench-201 landscape: quality vs training fraction, per model and dataset.

Each model is fitted on 1 %, 5 % and 10 % of the 15,625 NB201 architectures
(random splits, several seeds) and scored on *all remaining* architectures:
Kendall τ, sparse Kendall τ (NAS-Bench-301: predictions rounded to 0.1 pp),
R² and Spearman ρ of the 200-epoch test accuracy on CIFAR-10, CIFAR-100 and
ImageNet16-120. ``xgb-onehot`` is the naive baseline (one-hot vector only);
every other model uses the default features (one-hot, live-edge counts,
longest path, op-sequence path encodings). The GIN is run on the datasets of
``--gin-datasets`` only (CPU time).

A second table compares the two multi-fidelity designs on CIFAR-10 (12 and
200 epochs): one model per epoch vs one model with log(epoch) as input.

Writes ``paper/generated/nb201_surrogates.{tex,csv}`` and
``paper/generated/nb201_multifidelity.{tex,csv}``.

Run: ``python evaluation/nb201_surrogates.py [--seeds 3] [--models xgb lgb ...] [--quick]``
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _latex import GENERATED, write_table  # noqa: E402

from surrogate_eo.reference import load_nb201  # noqa: E402
from surrogate_eo.surrogates import Ensemble, MultiFidelity, make_model  # noqa: E402
from surrogate_eo.surrogates.metrics import evaluate, interval_coverage  # noqa: E402
from surrogate_eo.surrogates.splits import random_split  # noqa: E402

DATASETS = {"cifar10": "CIFAR10TestAccuracy200Epochs", "cifar100": "CIFAR100TestAccuracy200Epochs",
            "imagenet16": "ImageNetTestAccuracy200Epochs"}
SHORT = {"cifar10": "C10", "cifar100": "C100", "imagenet16": "IN16"}
MODELS = ("xgb-onehot", "xgb", "lgb", "rf", "xgb+lgb", "gin")
FRACTIONS = (0.01, 0.05, 0.1)
FIDELITY = {12: "Cifar10TestAccuracy12Epochs", 200: "Cifar10TestAccuracy200Epochs"}


def build(name: str, seed: int, gin_epochs: int):  # noqa: ANN201 - a Surrogate
    if name == "xgb-onehot":
        return make_model("xgb", "nb201", seed=seed, features=("onehot",))
    if name == "gin":
        return make_model("gin", "nb201", seed=seed, epochs=gin_epochs, n_threads=2)
    return make_model(name, "nb201", seed=seed)


def quality_table(table, models, fractions, datasets, seeds, gin_datasets, gin_epochs, progress) -> pd.DataFrame:
    archs = table.space.enumerate()
    rows = []
    jobs = [(d, f, s, m) for d in datasets for f in fractions for s in seeds for m in models
            if m != "gin" or d in gin_datasets]
    task = progress.add_task("fitting", total=len(jobs)) if progress else None
    for d, f, s, m in jobs:
        y = table.all_values(DATASETS[d])
        tr, te = random_split(len(y), f, seed=s)
        t0 = time.perf_counter()
        model = build(m, s, gin_epochs).fit(archs[tr], y[tr])
        fit_s = time.perf_counter() - t0
        if isinstance(model, Ensemble):
            pred, std = model.predict_dist(archs[te])
            cov = interval_coverage(y[te], pred, std)
        else:
            pred, cov = model.predict(archs[te]), {}
        rows.append({"dataset": d, "fraction": f, "seed": s, "model": m, "n_train": len(tr), "fit_seconds": fit_s,
                     **evaluate(y[te], pred), **cov})
        if progress:
            progress.advance(task)
    return pd.DataFrame(rows)


def fidelity_table(table, fractions, seeds) -> pd.DataFrame:
    """Per-epoch XGBoost models vs one XGBoost with log(epoch) as input, on CIFAR-10 at 12 and 200 epochs."""
    archs = table.space.enumerate()
    rows = []
    for f in fractions:
        for s in seeds:
            tr, te = random_split(len(archs), f, seed=s)
            ys = {e: table.all_values(c) for e, c in FIDELITY.items()}
            mf = MultiFidelity(base=make_model("xgb", "nb201", seed=s)).fit(
                np.concatenate([archs[tr]] * len(ys)), np.concatenate([ys[e][tr] for e in ys]),
                np.repeat(list(ys), len(tr)))
            for e, y in ys.items():
                per = make_model("xgb", "nb201", seed=s).fit(archs[tr], y[tr]).predict(archs[te])
                joint = mf.predict(archs[te], e)
                for design, pred in (("per-epoch", per), ("epoch-input", joint)):
                    rows.append({"fraction": f, "seed": s, "epoch": e, "design": design, **evaluate(y[te], pred)})
    return pd.DataFrame(rows)


def _fmt(mean: float, std: float) -> str:
    return f"{mean:.3f}±{std:.3f}"


def quality(args: argparse.Namespace, table, seeds: list[int], t0: float) -> None:
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        df = quality_table(table, args.models, args.fractions, args.datasets, seeds, args.gin_datasets,
                           args.gin_epochs, progress)
    render_quality(df, args, t0)


def render_quality(df: pd.DataFrame, args: argparse.Namespace, t0: float) -> None:
    """Print the quality table and write it (CSV with every fit, LaTeX with mean±std)."""
    seeds = sorted(df["seed"].unique()) if "seed" in df.columns else list(range(args.seeds))
    agg = df.groupby(["dataset", "model", "fraction"], sort=False).agg(["mean", "std"])
    rows = []
    print(f"NB201, test on all remaining archs, mean±std over {len(seeds)} seeds ({time.perf_counter() - t0:.0f} s)")
    print(f"{'data':<5} {'model':<11} {'frac':>5} {'KT':>12} {'sKT':>12} {'R2':>12} {'Spearman':>12} {'fit s':>6}")
    for (d, m, f), r in agg.iterrows():
        cells = [_fmt(r[(k, "mean")], r[(k, "std")]) for k in ("kendall_tau", "sparse_kendall_tau", "r2", "spearman")]
        print(f"{SHORT[d]:<5} {m:<11} {f:>5.0%} " + " ".join(f"{c:>12}" for c in cells)
              + f" {r[('fit_seconds', 'mean')]:>6.1f}")
        rows.append([SHORT[d], m, f"{f:.0%}"] + [c.replace("±", r"$\pm$") for c in cells])
    if not args.no_write:
        GENERATED.mkdir(parents=True, exist_ok=True)
        df.to_csv(GENERATED / "nb201_surrogates.csv", index=False)
        write_table("nb201_surrogates", ["data", "model", "train", r"Kendall $\tau$", r"sparse $\tau$", "$R^2$", "Spearman"], rows,
                    caption=f"Surrogates fitted on a random share of NAS-Bench-201 and scored on all remaining "
                            f"architectures (200-epoch test accuracy; mean$\\pm$std over {len(seeds)} seeds). "
                            f"sparse $\\tau$ rounds predictions to 0.1 pp as NAS-Bench-301 does.",
                    label="tab:nb201-surrogates", align="lllrrrr")


def multifidelity(args: argparse.Namespace, table, seeds: list[int]) -> None:
    render_multifidelity(fidelity_table(table, args.fractions, seeds), args)


def render_multifidelity(fd: pd.DataFrame, args: argparse.Namespace) -> None:
    """Print and write the multi-fidelity comparison."""
    fagg = fd.groupby(["fraction", "epoch", "design"], sort=False)["kendall_tau"].agg(["mean", "std"])
    print("\nCIFAR-10 multi-fidelity (XGBoost): Kendall τ per epoch, per-epoch models vs epoch as input")
    frows = []
    for (f, e, design), r in fagg.iterrows():
        print(f"{f:>5.0%} epoch {e:>3} {design:<12} {_fmt(r['mean'], r['std'])}")
        frows.append([f"{f:.0%}", e, design, _fmt(r["mean"], r["std"]).replace("±", r"$\pm$")])
    if not args.no_write:
        GENERATED.mkdir(parents=True, exist_ok=True)
        fd.to_csv(GENERATED / "nb201_multifidelity.csv", index=False)
        write_table("nb201_multifidelity", ["train", "epoch", "design", r"Kendall $\tau$"], frows,
                    caption="One XGBoost per epoch vs one XGBoost with log(epoch) as input, NB201 CIFAR-10 "
                            "(12 and 200 epochs), scored on all remaining archs.",
                    label="tab:nb201-multifidelity", align="lrlr")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    ap.add_argument("--fractions", nargs="+", type=float, default=list(FRACTIONS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--gin-datasets", nargs="*", default=["cifar10"], choices=list(DATASETS))
    ap.add_argument("--gin-epochs", type=int, default=300)
    ap.add_argument("--no-fidelity", action="store_true", help="Skip the multi-fidelity comparison.")
    ap.add_argument("--only-fidelity", action="store_true", help="Run only the multi-fidelity comparison.")
    ap.add_argument("--no-write", action="store_true", help="Print only; do not write paper/generated files.")
    ap.add_argument("--from-csv", action="store_true",
                    help="Re-render the tables from the CSVs a previous run saved in paper/generated/ (no fitting).")
    args = ap.parse_args(argv)
    if args.from_csv:
        render_quality(pd.read_csv(GENERATED / "nb201_surrogates.csv"), args, time.perf_counter())
        render_multifidelity(pd.read_csv(GENERATED / "nb201_multifidelity.csv"), args)
        return
    table = load_nb201()
    seeds = list(range(args.seeds))
    t0 = time.perf_counter()
    if not args.only_fidelity:
        quality(args, table, seeds, t0)
    if not args.no_fidelity:
        multifidelity(args, table, seeds)


if __name__ == "__main__":
    main()
