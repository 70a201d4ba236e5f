"""The ``--gnn`` pass of ``evaluation/nb201_surrogates.py``: its run note, its grid, and the tables' order and
paired line (``evaluation/_nb201_surrogates_tables.py``)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

GENERATED = Path(__file__).resolve().parents[1] / "paper" / "generated"


def test_a_later_sized_pass_drops_its_replicates_from_the_earlier_line(surrogates_eval):
    drop = surrogates_eval.drop_replicates
    line = "GNN pass, flowerformer protocol: 9 s wall; replicates C10 78 gnn x9, C10 78 auto x3, C10 390 gnn x3."
    once = drop(line, {"C10 78 gnn", "C10 78 auto"})
    assert once == ("GNN pass, flowerformer protocol: 9 s wall; replicates C10 390 gnn x3"
                    f"{surrogates_eval.RERUN}.")
    assert drop(once, {"C10 78 gnn"}) == once  # nothing more to drop: unchanged, one marker
    assert drop(once, {"C10 390 gnn"}) is None  # nothing left: the line goes
    assert drop(line, {"C100 78 gnn"}) == line and drop(line, set()) == line


def test_a_pass_on_fewer_datasets_keeps_the_other_datasets_in_the_same_labelled_line(surrogates_eval):
    """``--datasets cifar10 --sizes 3906 --models gnn-ens`` after the same pass on all three datasets: the CSV
    keeps the CIFAR-100 / ImageNet16 rows, so the note keeps them too; other protocols' lines are untouched."""
    head = "GNN pass, flowerformer protocol, sizes 3906, models gnn-ens"
    old = [f"{head}: 6146 s wall; replicates C10 3906 gnn-ens x3, C100 3906 gnn-ens x3, IN16 3906 gnn-ens x3.",
           "GNN pass, random protocol: 5 s wall; replicates C10 0.01 gnn-ens x3."]
    new = {"flowerformer": f"{head}: 6000 s wall; replicates C10 3906 gnn-ens x9."}
    note = surrogates_eval.updated_run_note(old, new, {"C10 3906 gnn-ens"})
    assert note == [f"{head}: 6146 s wall; replicates C100 3906 gnn-ens x3, IN16 3906 gnn-ens x3{surrogates_eval.RERUN}.",
                    old[1], new["flowerformer"]]
    assert surrogates_eval.updated_run_note(old[:1], new, {"C10 3906 gnn-ens", "C100 3906 gnn-ens",
                                                           "IN16 3906 gnn-ens"}) == [new["flowerformer"]]


def test_the_committed_run_note_lists_each_replicate_once():
    """A replicate group (data, size, model) of a protocol appears in one line of the GNN passes' run note."""
    seen: dict[tuple[str, str], str] = {}
    for line in (GENERATED / "nb201_surrogates_gnn_run.txt").read_text(encoding="utf-8").splitlines():
        protocol = line.split(" protocol", 1)[0]
        for entry in line.partition("; replicates ")[2].split(" (", 1)[0].rstrip(".").split(", "):
            key = (protocol, entry.rsplit(" x", 1)[0])
            assert key not in seen, f"{key} listed twice: {seen[key]!r} and {line!r}"
            seen[key] = line


def test_gnn_pass_grid_3x3_at_the_largest_c10_size_held_out_elsewhere(surrogates_eval):
    job, seeds = surrogates_eval.gnn_job, [0, 1, 2]

    def runs(d, z, m):
        return [s for s in seeds if job("flowerformer", d, z, s, m, seeds)]

    assert [runs("cifar10", z, "gnn-ens") for z in (78, 390, 3906)] == [[0], [0], seeds]
    assert [runs("cifar10", z, "gnn-ens+xgb") for z in (78, 390, 3906)] == [[], [], seeds]
    assert [runs("cifar10", z, "gnn") for z in (78, 390, 3906)] == [seeds, [0], seeds]
    assert runs("cifar10", 3906, "xgb+gnn") == [0]
    assert [runs("cifar10", z, "auto") for z in (78, 390, 3906)] == [seeds, [], []]  # up to AUTO_GNN_MAX archs
    for d in ("cifar10", "cifar100", "imagenet16"):  # xgb-zc+gnn and xgb+gnn paired, 3 x 3 at the smallest size
        assert [runs(d, z, "xgb-zc+gnn") for z in (78, 390, 3906)] == [seeds, [0], []]
        assert runs(d, 78, "xgb+gnn") == seeds
    for d in ("cifar100", "imagenet16"):  # held out: gnn and gnn-ens at the largest size
        assert [runs(d, 3906, m) for m in ("gnn", "gnn-ens", "xgb+gnn")] == [[0], [0], []]
        assert [runs(d, 78, m) for m in ("gnn", "gnn-ens")] == [[0], []]
        assert [runs(d, 390, m) for m in ("gnn", "gnn-ens", "xgb+gnn")] == [[], [], []]
        assert [runs(d, z, "gnn-ens+xgb") for z in (78, 390, 3906)] == [[], [], [0]]
    assert [m for m in surrogates_eval.GNN_MODELS if job("random", "cifar100", 0.01, 2, m, seeds)] == \
        ["xgb+gnn", "xgb-zc+gnn", "auto"]


def _replicates(rows: list[tuple[str, int, str, int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"protocol": "flowerformer", "dataset": d, "size": z, "model": m, "perm": p, "seed": s,
                          "kendall_tau": t} for d, z, m, p, s, t in rows])


def test_paired_line_uses_only_shared_replicates(surrogates_tables):
    """Δτ is taken per (dataset, size, perm, seed) both models have; fewer than 3 shared replicates: no entry."""
    rows = [("cifar10", 9, "gnn-ens", 0, s, t) for s, t in enumerate([.90, .91, .92, .93])]
    rows += [("cifar10", 9, "gnn-ens+xgb", 0, s, t) for s, t in enumerate([.91, .92, .92])]  # seed 3 missing
    rows += [("cifar100", 9, "gnn-ens", 0, 0, .8), ("cifar100", 9, "gnn-ens+xgb", 0, 0, .9)]  # one shared only
    (line,) = [ln for ln in surrogates_tables.render_paired(_replicates(rows)) if ln]
    assert line == ("Paired on the same replicates: C10 9 gnn-ens+xgb − gnn-ens +0.0067 "
                    "(better in 2/3, smallest +0.0000).")
    assert surrogates_tables.render_paired(_replicates(rows[:4])) == []


def test_tables_are_ordered_by_dataset_size_and_model_whatever_the_csv_order(surrogates_tables):
    rows = [("imagenet16", 78, "xgb", 0, 0, .7), ("cifar10", 3906, "gnn-ens+xgb", 0, 0, .93),
            ("cifar10", 78, "auto", 0, 0, .78), ("cifar10", 78, "new-model", 0, 0, .5),
            ("cifar10", 78, "xgb", 0, 0, .72), ("cifar10", 3906, "gnn", 0, 0, .92)]
    got = surrogates_tables.ordered(_replicates(rows))
    assert list(zip(got["dataset"], got["size"], got["model"])) == [
        ("cifar10", 78, "xgb"), ("cifar10", 78, "auto"), ("cifar10", 78, "new-model"),
        ("cifar10", 3906, "gnn"), ("cifar10", 3906, "gnn-ens+xgb"), ("imagenet16", 78, "xgb")]
