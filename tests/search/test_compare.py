"""Trajectory fidelity: regrets, rankings, Kendall tau and tests on synthetic pairs; the plot; bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

from surrogate_eo.errors import SearchError
from surrogate_eo.landscape.sources import LookupSource
from surrogate_eo.search import compare_optimizers
from surrogate_eo.search.plots import plot_comparison


class Monotone:
    """A faithful 'surrogate': a strictly increasing transform of the ground truth."""

    def __init__(self, gt):
        self.gt, self.space, self.name = gt, gt.space, "monotone"

    def fitness(self, archs):
        return 0.5 * self.gt.fitness(archs) ** 2 + 0.1


@pytest.fixture(scope="module")
def faithful(toys):
    gt = toys.Hashed("nb201", seed=0)
    return gt, compare_optimizers(gt, Monotone(gt), optimizers=["rs", "re", "ls"], seeds=4, budget=60, n_boot=200)


def test_regrets_and_optimum(faithful):
    gt, cmp = faithful
    allv = gt.fitness(gt.space.enumerate())
    assert cmp.optimum["ground_truth"] == {"value": allv.max(), "kind": "domain_max", "n_archs": 15625}
    for o in cmp.optimizers:
        finals = cmp.final_regret["ground_truth"][o]
        assert finals.shape == (4,) and (finals >= 0).all()
        np.testing.assert_allclose(finals, [allv.max() - t.best_fitness for t in cmp.trajectories["ground_truth"][o]])
        r = cmp.regret["ground_truth"][o]
        assert r.shape == (4, len(cmp.checkpoints)) and np.all(np.diff(r, axis=1) <= 0)   # regret never rises
        np.testing.assert_allclose(r[:, -1], finals)


def test_faithful_surrogate_reproduces_rankings(faithful):
    gt, cmp = faithful
    # a monotone transform leaves every comparison, hence every trajectory, unchanged
    for o in cmp.optimizers:
        for a, b in zip(cmp.trajectories["ground_truth"][o], cmp.trajectories["surrogate"][o]):
            np.testing.assert_array_equal(a.archs, b.archs)
    s = cmp.stats
    assert s["rank"]["ground_truth"] == s["rank"]["surrogate"]
    assert s["kendall"]["tau"] == pytest.approx(1.0) and s["kendall"]["p"] == pytest.approx(1 / 3)  # exact, n=3
    assert s["transfer"]["mean_regret"] == pytest.approx(s["mean_final_regret"]["ground_truth"])
    assert set(s["friedman"]) == {"ground_truth", "surrogate"}
    assert "Kendall tau(final-regret rankings) = 1.000" in cmp.table()


def test_save_and_plot(faithful, tmp_path):
    _, cmp = faithful
    d = json.loads(cmp.save(tmp_path / "c.json", with_trajectories=True).read_text())
    assert d["optimizers"] == ["rs", "re", "ls"] and len(d["trajectories"]["surrogate"]["re"]) == 4
    assert len(d["curves"]["ground_truth"]["ls"]["mean"]) == len(d["checkpoints"])
    png = plot_comparison(cmp, tmp_path / "c.png", title="toy")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_inverted_surrogate_transfers_badly(toys):
    """A surrogate that inverts the landscape makes good optimisers look bad."""
    gt = toys.Additive("nb201", seed=3)

    class Inverted:
        space, name = gt.space, "inverted"

        def fitness(self, archs):
            return 1.0 - gt.fitness(archs)

    cmp = compare_optimizers(gt, Inverted(), optimizers=["rs", "ls", "tpe"], seeds=3, budget=40, n_boot=50)
    # the archs found on the inverted surrogate are the worst of the ground truth
    assert min(cmp.stats["transfer"]["mean_regret"]) > max(cmp.stats["mean_final_regret"]["ground_truth"])


def test_database_ground_truth_restricts_both(toys):
    full = toys.Hashed("nb201", seed=1)
    held = full.space.sample(80, seed=2)
    db = LookupSource("nb201", held, full.fitness(held), name="db")
    cmp = compare_optimizers(db, full, optimizers=["rs", "re"], seeds=2, budget=30, n_boot=20)
    keys = set(full.space.index(held).tolist())
    for role in ("ground_truth", "surrogate"):
        for t in cmp.trajectories[role]["re"]:
            assert set(full.space.index(t.archs).tolist()) <= keys
    assert cmp.optimum["ground_truth"]["n_archs"] == len(keys)


def test_bad_input(toys):
    gt = toys.Additive("nb201")
    with pytest.raises(SearchError, match="is of space 'nb201' but the surrogate .* is of space 'eo'"):
        compare_optimizers(gt, toys.Additive("eo"))
    with pytest.raises(SearchError, match="at least 2 seeds"):
        compare_optimizers(gt, gt, seeds=1)
    with pytest.raises(SearchError, match="at least 2 distinct optimisers"):
        compare_optimizers(gt, gt, optimizers=["rs"])
    with pytest.raises(SearchError, match="unknown optimiser 'bo'"):
        compare_optimizers(gt, gt, optimizers=["rs", "bo"])
    with pytest.raises(SearchError, match="budget must be"):
        compare_optimizers(gt, gt, budget=0)
    with pytest.raises(SearchError, match="optimiser 're' has no hyper-parameter 'pop'"):
        compare_optimizers(gt, gt, optimizers=["rs", "re"], params={"re": {"pop": 3}})
    with pytest.raises(SearchError, match="checkpoints must be evaluation counts in 1..20"):
        compare_optimizers(gt, gt, budget=20, seeds=2, optimizers=["rs", "ls"], checkpoints=[0, 30])


def test_nb201_table_against_itself_with_a_distorted_copy(nb201_table):
    """On the real NB201 table: a copy with rank-preserving distortion ranks the optimisers identically."""
    col = "CIFAR10TestAccuracy200Epochs"
    gt = nb201_table.source(col)

    class Squashed:
        space, name = gt.space, "squashed"

        def fitness(self, archs):
            return np.sqrt(gt.fitness(archs))

    cmp = compare_optimizers(gt, Squashed(), optimizers=["rs", "ls"], seeds=3, budget=100, n_boot=20)
    assert cmp.optimum["ground_truth"]["value"] == pytest.approx(nb201_table.all_values(col).max())
    assert cmp.stats["rank"]["ground_truth"] == cmp.stats["rank"]["surrogate"]
    assert max(cmp.stats["mean_final_regret"]["ground_truth"]) < 0.02     # 100 evaluations get within 2 points
