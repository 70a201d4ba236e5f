"""Metrics agree with scipy / scikit-learn; sparse Kendall tau rounds predictions to 0.1 pp."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from surrogate_eo.errors import SurrogateError
from surrogate_eo.surrogates import metrics as M


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.8, 0.95, 500)
    y[:20] = 0.1  # ties, as NB201's dead cells
    return y, y + rng.normal(0, 0.01, 500)


def test_against_reference_implementations(pair):
    y, p = pair
    assert M.r2_score(y, p) == pytest.approx(skm.r2_score(y, p))
    assert M.mean_absolute_error(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert M.root_mean_squared_error(y, p) == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert M.kendall_tau_score(y, p) == pytest.approx(stats.kendalltau(y, p)[0])
    assert M.spearman_score(y, p) == pytest.approx(stats.spearmanr(y, p)[0])
    sparse = stats.kendalltau(y, np.round(p * 100, 1))[0]
    assert M.sparse_kendall_tau_score(y, p) == pytest.approx(sparse)
    assert M.sparse_kendall_tau_score(y, p) != pytest.approx(M.kendall_tau_score(y, p))


def test_sparse_rounds_only_predictions():
    y = np.array([0.9000, 0.9001, 0.9100, 0.9200])
    p = np.array([0.9000, 0.9004, 0.9100, 0.9200])  # 90.00 and 90.04 round to one value
    assert M.kendall_tau_score(y, p) == pytest.approx(1.0)
    assert M.sparse_kendall_tau_score(y, p) == pytest.approx(5 / np.sqrt(30))


def test_top_k_and_coverage():
    y = np.arange(100.0)
    p = y.copy()
    p[[98, 99]] = 0.0
    assert M.top_k_overlap_score(y, p, 10) == pytest.approx(0.8)
    assert M.top_k_overlap_score(y, y, 0.05) == 1.0
    rng = np.random.default_rng(1)
    obs = rng.normal(0, 1, 20_000)
    cov = M.interval_coverage(obs, np.zeros_like(obs), 1.0)
    assert cov["coverage_68"] == pytest.approx(0.68, abs=0.01) and cov["coverage_95"] == pytest.approx(0.95, abs=0.01)


def test_evaluate_keys_and_bad_input(pair):
    y, p = pair
    assert tuple(M.evaluate(y, p)) == M.METRIC_KEYS
    with pytest.raises(SurrogateError, match="match"):
        M.kendall_tau_score(y, p[:-1])
    with pytest.raises(SurrogateError, match="finite"):
        M.r2_score(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(SurrogateError, match="k="):
        M.top_k_overlap_score(y, p, 0)
    assert M.kendall_tau_score(np.ones(5), np.arange(5.0)) == 0.0  # undefined tau -> 0
