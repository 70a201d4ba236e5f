"""Studentised (bootstrap-t) and order-statistic intervals of the landscape features."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import t as student_t

from surrogate_eo.landscape.features import REGISTRY, LandscapeData, estimate
from surrogate_eo.landscape.features._base import counts_matrix, jackknife_se, studentized_ci
from surrogate_eo.landscape.features.distribution import quantile_interval, se_corr
from surrogate_eo.landscape.nk import NKLandscape


def _mixture(rng: np.random.Generator, n: int) -> np.ndarray:
    """NB201-like fitness: 3 % failed archs near 0.1, the rest near 0.88."""
    bad = rng.random(n) < 0.03
    return np.where(bad, 0.1 + 0.005 * rng.standard_normal(n), 0.88 + 0.04 * rng.standard_normal(n))


def test_jackknife_se_of_a_mean_is_the_textbook_one() -> None:
    rng = np.random.default_rng(0)
    x = rng.exponential(size=15)
    idx = rng.integers(0, 15, size=(6, 15))
    se = jackknife_se(lambda c: ((c @ x) / c.sum(axis=1))[:, None], counts_matrix(idx, 15))[:, 0]
    want = x[idx].std(axis=1, ddof=1) / np.sqrt(15)  # the jackknife SE of a mean is s / sqrt(m)
    assert se == pytest.approx(want, rel=1e-10)


def test_delta_method_se_of_a_correlation_matches_the_normal_theory_one() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 400))
    y = 0.6 * x + 0.8 * rng.standard_normal((200, 400))
    se = se_corr(x, y)
    assert np.median(se) == pytest.approx((1 - 0.6 ** 2) / np.sqrt(400), rel=0.05)  # bivariate normal theory


def test_bootstrap_t_of_a_mean_on_normal_data_is_the_t_interval() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal(60)
    idx = rng.integers(0, 60, size=(4000, 60))
    full, sf = np.array([x.mean()]), np.array([x.std(ddof=1) / np.sqrt(60)])
    reps, sr = x[idx].mean(axis=1)[:, None], (x[idx].std(axis=1, ddof=1) / np.sqrt(60))[:, None]
    lo, hi = studentized_ci(full, sf, reps, sr, 0.95)[0]
    q = student_t.ppf(0.975, 59) * sf[0]
    assert lo == pytest.approx(full[0] - q, abs=0.25 * q) and hi == pytest.approx(full[0] + q, abs=0.25 * q)


def test_fisher_scale_interval_stays_inside_minus_one_one() -> None:
    full, sf = np.array([0.97]), np.array([0.05])
    reps = np.linspace(0.9, 0.99, 200)[:, None]
    ci = studentized_ci(full, sf, reps, np.full((200, 1), 0.05), 0.95, "fisher")
    assert -1 < ci[0, 0] < 0.97 < ci[0, 1] < 1


def test_order_statistic_quantile_interval_covers_a_heavy_tail() -> None:
    rng = np.random.default_rng(3)
    pop = _mixture(rng, 200_000)
    qs = np.array([0.05, 0.5, 0.95])
    true = np.quantile(pop, qs)
    hits = np.zeros(3)
    for _ in range(400):
        ci = quantile_interval(rng.choice(pop, 100), qs, 0.95)
        hits += (ci[:, 0] <= true) & (true <= ci[:, 1])
    assert np.all(hits / 400 >= 0.92)


def _points_data(f: np.ndarray) -> LandscapeData:
    nk = NKLandscape(10, 2, seed=0)
    pts = np.zeros((len(f), 10), dtype=int)
    return LandscapeData(nk.space, "mixture", {"quantiles": [0.05, 0.5, 0.95]}, points=pts, f_points=f)


def test_studentised_std_covers_better_than_percentile_on_a_heavy_tail() -> None:
    rng = np.random.default_rng(4)
    pop = _mixture(rng, 200_000)
    true = pop.std()
    spec = REGISTRY["fitness_std"]
    plain = type(spec)(spec.name, spec.unit, spec.stat, spec.description)  # same statistic, percentile CI
    hits_t = hits_p = 0
    for r in range(120):
        data = _points_data(rng.choice(pop, 250))
        ft = estimate(spec, data, np.random.default_rng(r), n_boot=200)
        fp = estimate(plain, data, np.random.default_rng(r), n_boot=200)
        assert ft.params["ci"].startswith("studentised") and fp.params["ci"].startswith("percentile")
        hits_t += ft.ci[0] <= true <= ft.ci[1]
        hits_p += fp.ci[0] <= true <= fp.ci[1]
    assert hits_t / 120 >= 0.9 and hits_t > hits_p


def test_few_points_fall_back_to_the_percentile_interval() -> None:
    data = _points_data(_mixture(np.random.default_rng(5), 100))
    assert estimate(REGISTRY["fitness_std"], data, np.random.default_rng(0)).params["ci"].startswith("percentile")
    q = estimate(REGISTRY["fitness_quantiles"], data, np.random.default_rng(0))
    assert all(lo <= q.value[k] <= hi for k, (lo, hi) in q.ci.items())


def test_a_degenerate_studentised_interval_falls_back_to_the_percentile_one() -> None:
    f = _points_data(np.full(250, 0.5))  # std 0: no log scale
    ft = estimate(REGISTRY["fitness_std"], f, np.random.default_rng(0))
    assert ft.ci == (0.0, 0.0) and ft.params["ci"].startswith("percentile")
