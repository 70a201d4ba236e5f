"""Quality metrics of a surrogate's predictions against ground truth.

Naming follows scikit-learn: ``*_score`` is higher-is-better, ``*_error``
lower-is-better. Targets are fractions in [0, 1] unless noted.

>>> import numpy as np
>>> y = np.array([0.90, 0.91, 0.92, 0.93])
>>> round(kendall_tau_score(y, y + 0.001), 3)
1.0
>>> round(sparse_kendall_tau_score(y, np.array([0.9001, 0.9002, 0.9203, 0.9304])), 3)
0.913
"""
from __future__ import annotations

import numpy as np

from ..errors import SurrogateError

#: Keys of :func:`evaluate`, in table order.
METRIC_KEYS: tuple[str, ...] = ("r2", "mae", "rmse", "kendall_tau", "sparse_kendall_tau", "spearman",
                                "top_k_overlap")


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype=np.float64).reshape(-1)
    b = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if len(a) != len(b):
        raise SurrogateError(f"y_true has {len(a)} values but y_pred has {len(b)}; they must match")
    if len(a) < 2:
        raise SurrogateError(f"metrics need at least 2 values; got {len(a)}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise SurrogateError("y_true and y_pred must be finite (drop NaN rows before scoring)")
    return a, b


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot (as :func:`sklearn.metrics.r2_score`)."""
    a, b = _pair(y_true, y_pred)
    ss_tot = float(((a - a.mean()) ** 2).sum())
    ss_res = float(((a - b) ** 2).sum())
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def mean_absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean |y_true - y_pred| (units of the target)."""
    a, b = _pair(y_true, y_pred)
    return float(np.abs(a - b).mean())


def root_mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """sqrt(mean (y_true - y_pred)^2) (units of the target)."""
    a, b = _pair(y_true, y_pred)
    return float(np.sqrt(((a - b) ** 2).mean()))


def kendall_tau_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Kendall's τ-b (ties in either ranking handled as :func:`scipy.stats.kendalltau`); NaN -> 0."""
    from scipy import stats

    a, b = _pair(y_true, y_pred)
    tau = stats.kendalltau(a, b).statistic
    return 0.0 if not np.isfinite(tau) else float(tau)


def sparse_kendall_tau_score(y_true: np.ndarray, y_pred: np.ndarray, *, decimals: int = 1,
                             scale: float = 100.0) -> float:
    """Kendall τ after rounding only the predictions, as NAS-Bench-301 defines it.

    NAS-Bench-301 (``kendall_tau_1_dec``) rounds predicted accuracies given in
    percent to one decimal, i.e. to 0.1 percentage point; differences below
    that count as ties. Our targets are fractions, so predictions are scaled
    by ``scale`` (100) before rounding to ``decimals`` (1).
    """
    a, b = _pair(y_true, y_pred)
    return kendall_tau_score(a, np.round(b * scale, decimals))


def spearman_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Spearman's rank correlation ρ (average ranks for ties); NaN -> 0."""
    from scipy import stats

    a, b = _pair(y_true, y_pred)
    rho = stats.spearmanr(a, b).statistic
    return 0.0 if not np.isfinite(rho) else float(rho)


def top_k_overlap_score(y_true: np.ndarray, y_pred: np.ndarray, k: int | float = 0.01) -> float:
    """Share of the true top-``k`` archs that are also in the predicted top-``k``.

    ``k`` is a count (int ≥ 1) or a fraction of ``len(y_true)`` (float in (0, 1]).
    Ties at the cut are broken by position (stable sort), in both rankings.
    """
    a, b = _pair(y_true, y_pred)
    kk = int(k) if isinstance(k, (int, np.integer)) and not isinstance(k, bool) else int(np.ceil(float(k) * len(a)))
    if not 1 <= kk <= len(a):
        raise SurrogateError(f"top-k overlap: k={k} gives {kk} archs, expected 1..{len(a)}")
    top_true = np.argsort(-a, kind="stable")[:kk]
    top_pred = np.argsort(-b, kind="stable")[:kk]
    return len(np.intersect1d(top_true, top_pred)) / kk


def interval_coverage(y: np.ndarray, mean: np.ndarray, std: np.ndarray,
                      levels: tuple[float, ...] = (0.68, 0.95)) -> dict[str, float]:
    """Share of observations inside the central Gaussian interval ``mean ± z·std`` at each level.

    A calibrated noise model covers about 68 % and 95 % of held-out seed
    observations. ``std`` may be a scalar. Keys are ``"coverage_68"``, ``"coverage_95"``.
    """
    from scipy import stats

    yy, mm = _pair(y, mean)
    ss = np.broadcast_to(np.asarray(std, dtype=np.float64), yy.shape)
    if (ss < 0).any() or not np.isfinite(ss).all():
        raise SurrogateError("interval_coverage: std must be finite and >= 0")
    out = {}
    for lv in levels:
        if not 0.0 < lv < 1.0:
            raise SurrogateError(f"interval_coverage: level {lv} must lie in (0, 1)")
        z = stats.norm.ppf(0.5 + lv / 2.0)
        out[f"coverage_{round(lv * 100)}"] = float((np.abs(yy - mm) <= z * ss).mean())
    return out


def evaluate(y_true: np.ndarray, y_pred: np.ndarray, *, top_k: int | float = 0.01) -> dict[str, float]:
    """Every metric of :data:`METRIC_KEYS` in one dict (``top_k_overlap`` at ``top_k``)."""
    a, b = _pair(y_true, y_pred)
    return {
        "r2": r2_score(a, b), "mae": mean_absolute_error(a, b), "rmse": root_mean_squared_error(a, b),
        "kendall_tau": kendall_tau_score(a, b), "sparse_kendall_tau": sparse_kendall_tau_score(a, b),
        "spearman": spearman_score(a, b), "top_k_overlap": top_k_overlap_score(a, b, top_k),
    }
