"""Simultaneous confidence intervals and three-outcome judgements for a family of differences.

This is the statistical core shared by the fidelity verdict (surrogate vs truth,
:mod:`.fidelity`) and ``landscape compare`` (landscape A vs landscape B): given
``K`` point differences and ``B`` bootstrap replicates of them, it returns
**simultaneous** ``level`` intervals (all ``K`` cover together with probability
~``level``) and one outcome per difference.

The band is a studentised max-statistic bootstrap (Romano & Wolf 2005): with
``se_k`` the bootstrap standard error of difference ``k``,
``c = quantile_level( max_k |d*_bk - d_k| / se_k )`` and ``CI_k = d_k +- c_k se_k``.
Because ``c`` is the quantile of the *maximum*, it adapts to the correlation of
the features (correlated features need a smaller ``c`` than Bonferroni's
``z_{1 - alpha / 2K}``), and it controls the family-wise error over every
judged difference. ``c_k`` maps ``c`` to a Student-t quantile with ``n_k - 1``
degrees of freedom and ``se_k`` is inflated by ``sqrt(n_k / (n_k - 1))``: the
bootstrap of a mean over ``n`` units underestimates its spread by that factor
and its tails are too light when ``n`` is small (walks, neighbourhoods).

Outcomes, for ``bands`` given (the fidelity verdict):

- ``"faithful"``: the whole interval lies inside the band ``[lo, hi]``;
- ``"unfaithful"``: the whole interval lies outside it;
- ``"inconclusive"``: otherwise, or fewer than ``min_units`` resampling units.

For ``bands=None`` (comparing two landscapes), ``"significant"`` (the interval
excludes 0), ``"not significant"``, or ``"inconclusive"`` (too few units).
Differences below ``min_units`` are left out of the family (they are not judged).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> boot = rng.normal([0.0, 1.0], 0.1, size=(400, 2))
>>> ci, out = judge_differences(np.array([0.0, 1.0]), boot, np.array([[-0.5, 0.5], [-0.5, 0.5]]))
>>> out
['faithful', 'unfaithful']
>>> judge_differences(np.array([0.0, 1.0]), boot, None)[1]
['not significant', 'significant']
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm, t as student_t

OUTCOMES = ("faithful", "unfaithful", "inconclusive")


def simultaneous_band(diff: np.ndarray, boot_diffs: np.ndarray, level: float = 0.95,
                      n_units: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Studentised max-statistic simultaneous intervals.

    Parameters
    ----------
    diff : numpy.ndarray, shape (K,)
        Point differences (NaN: undefined, left out).
    boot_diffs : numpy.ndarray, shape (B, K)
        Bootstrap replicates of ``diff`` (already on the scale of ``diff``).
    level : float
        Simultaneous coverage, e.g. 0.95.
    n_units : numpy.ndarray of int, shape (K,), optional
        Resampling units behind each difference (small-sample correction); None: none.

    Returns
    -------
    ci : numpy.ndarray, shape (K, 2)
        Simultaneous intervals (NaN where the difference is undefined; zero width
        where every replicate equals the estimate).
    c : float
        The max-statistic critical value (normal scale), NaN when nothing varies.
    """
    diff = np.asarray(diff, dtype=float)
    boot = np.asarray(boot_diffs, dtype=float).reshape(-1, len(diff))
    K = len(diff)
    ci = np.full((K, 2), np.nan)
    if K == 0:
        return ci, float("nan")
    dev = boot - diff[None, :]
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(dev)
        nfin = finite.sum(axis=0)
        se = np.sqrt((np.where(finite, dev, 0.0) ** 2).sum(axis=0) / np.maximum(nfin - 1, 1))
    ok = np.isfinite(diff) & (nfin >= 2)
    var = ok & (se > 0)
    c = float("nan")
    if var.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            tt = np.abs(dev[:, var]) / se[var][None, :]
        mx = np.where(np.isfinite(tt), tt, -np.inf).max(axis=1) if tt.size else np.zeros(0)
        mx = mx[np.isfinite(mx)]
        c = float(np.quantile(mx, level)) if len(mx) else float("nan")
    n = np.full(K, np.inf) if n_units is None else np.asarray(n_units, dtype=float)
    for k in np.flatnonzero(ok):
        if not var[k]:
            ci[k] = diff[k]
            continue
        if not math.isfinite(c):
            continue
        ck, sk = c, se[k]
        if math.isfinite(n[k]) and n[k] > 1:
            ck = float(student_t.ppf(norm.cdf(c), df=n[k] - 1))
            sk = se[k] * math.sqrt(n[k] / (n[k] - 1))
        ci[k] = (diff[k] - ck * sk, diff[k] + ck * sk)
    return ci, c


def outcome(ci: tuple[float, float], band: tuple[float, float] | None) -> str:
    """Three-outcome judgement of one interval against a band (or against 0 when ``band`` is None)."""
    lo, hi = ci
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive"
    if band is None:
        return "significant" if (lo > 0 or hi < 0) else "not significant"
    b_lo, b_hi = band
    if lo >= b_lo and hi <= b_hi:
        return "faithful"
    if hi < b_lo or lo > b_hi:
        return "unfaithful"
    return "inconclusive"


def judge_differences(diff: np.ndarray, boot_diffs: np.ndarray, bands: np.ndarray | None = None,
                      level: float = 0.95, min_units: int | np.ndarray = 0,
                      n_units: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Simultaneous intervals and one outcome per difference, family-wise over the judged ones.

    Parameters
    ----------
    diff : numpy.ndarray, shape (K,)
        Point differences (e.g. surrogate - truth, or B - A), in the features' units.
    boot_diffs : numpy.ndarray, shape (B, K)
        Bootstrap replicates of the differences, drawn *jointly* (one replicate
        resamples every stratum once), so their correlation is kept.
    bands : numpy.ndarray, shape (K, 2), optional
        Allowed range ``[lo, hi]`` of each difference (fidelity). None: test ``difference = 0``.
    level : float
        Simultaneous level of the family (0.95: the probability that any judged
        interval misses its true difference is <= ~5 %).
    min_units : int or array of int
        Minimum resampling units; differences with fewer are ``"inconclusive"`` and
        left out of the family.
    n_units : numpy.ndarray of int, shape (K,), optional
        Resampling units behind each difference (needed for ``min_units`` and the
        small-sample correction).

    Returns
    -------
    ci : numpy.ndarray, shape (K, 2)
        Simultaneous intervals of the judged differences; for the others, the
        interval they would get in a family of their own.
    outcomes : list of str
        ``faithful`` / ``unfaithful`` / ``inconclusive`` with bands;
        ``significant`` / ``not significant`` / ``inconclusive`` without.
    """
    diff = np.asarray(diff, dtype=float)
    K = len(diff)
    boot = np.asarray(boot_diffs, dtype=float).reshape(-1, K)
    n = np.full(K, np.inf) if n_units is None else np.asarray(n_units, dtype=float)
    enough = n >= np.broadcast_to(np.asarray(min_units, dtype=float), (K,))
    ci = np.full((K, 2), np.nan)
    if enough.any():
        ci[enough] = simultaneous_band(diff[enough], boot[:, enough], level,
                                       None if n_units is None else n[enough])[0]
    for k in np.flatnonzero(~enough):  # marginal interval, for display only
        ci[k] = simultaneous_band(diff[k:k + 1], boot[:, k:k + 1], level,
                                  None if n_units is None else n[k:k + 1])[0][0]
    outs = []
    for k in range(K):
        if not enough[k]:
            outs.append("inconclusive")
            continue
        band = None if bands is None else (float(bands[k][0]), float(bands[k][1]))
        outs.append(outcome((float(ci[k, 0]), float(ci[k, 1])), band))
    return ci, outs


def marginal_factor(n: int | float, level: float = 0.95) -> float:
    """Small-sample widening of a marginal bootstrap interval over ``n`` units:
    ``sqrt(n / (n - 1)) * t_{n-1}(1 - a/2) / z(1 - a/2)`` (1 for large ``n``).

    >>> round(marginal_factor(20), 3), marginal_factor(float('inf'))
    (1.096, 1.0)
    """
    if not math.isfinite(n) or n <= 1:
        return 1.0
    q = 0.5 + level / 2
    return float(math.sqrt(n / (n - 1)) * student_t.ppf(q, df=n - 1) / norm.ppf(q))


__all__ = ["OUTCOMES", "judge_differences", "marginal_factor", "outcome", "simultaneous_band"]
