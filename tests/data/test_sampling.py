"""stratified_subset: proportions per class, balance, seeds, sorted output, bad arguments."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.data import DataArgumentError, stratified_subset


@pytest.fixture
def imbalanced():
    rng = np.random.default_rng(0)
    counts = [500, 300, 120, 50, 20, 7, 3]
    return rng.permutation(np.repeat(np.arange(7), counts))


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 1.0])
def test_fraction_keeps_class_proportions(imbalanced, fraction):
    idx = stratified_subset(imbalanced, fraction=fraction, seed=1)
    full = np.bincount(imbalanced)
    got = np.bincount(imbalanced[idx], minlength=7)
    assert idx.size == round(fraction * imbalanced.size)
    assert np.all(np.abs(got - full * idx.size / imbalanced.size) <= 1)   # largest-remainder rounding
    assert np.all(np.diff(idx) > 0) and idx.dtype == np.int64


def test_count_and_seeds(imbalanced):
    a = stratified_subset(imbalanced, count=100, seed=3)
    b = stratified_subset(imbalanced, count=100, seed=3)
    c = stratified_subset(imbalanced, count=100, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(np.bincount(imbalanced[a], minlength=7), [50, 30, 12, 5, 2, 1, 0])


def test_balanced_fills_small_classes_then_others(imbalanced):
    idx = stratified_subset(imbalanced, count=21, balanced=True, seed=0)
    np.testing.assert_array_equal(np.bincount(imbalanced[idx], minlength=7), [3] * 7)
    idx = stratified_subset(imbalanced, count=70, balanced=True, seed=0)
    np.testing.assert_array_equal(np.bincount(imbalanced[idx], minlength=7), [12, 12, 12, 12, 12, 7, 3])
    idx = stratified_subset(imbalanced, count=141, balanced=True, seed=0)
    got = np.bincount(imbalanced[idx], minlength=7)
    assert got.sum() == 141 and got[5] == 7 and got[6] == 3          # capped by class size
    assert sorted(got[:4].tolist()) == [27, 28, 28, 28] and got[4] == 20  # the rest spread evenly


def test_edges_and_errors(imbalanced):
    assert stratified_subset(imbalanced, count=0).size == 0
    assert stratified_subset(imbalanced, count=imbalanced.size).size == imbalanced.size
    with pytest.raises(DataArgumentError, match="exactly one of fraction= and count="):
        stratified_subset(imbalanced)
    with pytest.raises(DataArgumentError, match=r"fraction must be in \(0, 1\]; got 1.5"):
        stratified_subset(imbalanced, fraction=1.5)
    with pytest.raises(DataArgumentError, match=r"count must be an integer in \[0, 1000\]; got 5000"):
        stratified_subset(imbalanced, count=5000)
    with pytest.raises(DataArgumentError, match="non-negative class indices"):
        stratified_subset(np.array([0.5, 1.0]), count=1)
