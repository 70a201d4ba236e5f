"""Target transforms shared by the models that regress on something other than raw targets.

*Normal scores*: each training target is replaced by ``Φ⁻¹((rank - ½) / n)``
(ties share their mean rank), and predictions map back to target units
piecewise-linearly through the same knots. Accuracy tables have a long lower
tail (archs that barely train); on normal scores that tail no longer dominates
a squared-error fit, which helps most at small training sets (the flow GNN
and the XGBoost member of ``xgb+gnn`` use it; measured by
``evaluation/nb201_gnn_ablation.py``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

def normal_score_knots(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(z, y)`` of the normal-score map: each distinct ``y`` and ``Φ⁻¹((mean rank - ½) / n)``.

    Both arrays are strictly increasing; :func:`from_normal_scores` inverts the map.

    >>> z, v = normal_score_knots(np.array([0.9, 0.1, 0.5, 0.5]))
    >>> v.tolist(), [round(float(t), 3) for t in z]
    ([0.1, 0.5, 0.9], [-1.15, 0.0, 1.15])
    """
    from scipy.stats import norm, rankdata

    y = np.asarray(y, dtype=np.float64)
    ranks = rankdata(y)  # ties share their mean rank, hence one score
    values, first = np.unique(y, return_index=True)
    return norm.ppf((ranks[first] - 0.5) / len(y)), values


def to_normal_scores(y: np.ndarray, knots: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Normal scores of training targets ``y`` (every value is a knot)."""
    z, values = knots
    return z[np.searchsorted(values, y)]


def from_normal_scores(z: np.ndarray, knots: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Back to target units: piecewise-linear through the knots, linear beyond them.

    Beyond the outermost knots the map continues with the slope of its outer
    tenth (at least one segment), so predictions past the best (or worst)
    training arch keep their order instead of tying at the end.

    >>> knots = (np.array([-1.0, 0.0, 1.0]), np.array([0.2, 0.6, 0.8]))
    >>> from_normal_scores(np.array([-2.0, 0.5, 2.0]), knots).round(3).tolist()
    [-0.2, 0.7, 1.0]
    """
    zk, yk = knots
    k = max(1, (len(zk) - 1) // 10)
    lo = (yk[k] - yk[0]) / (zk[k] - zk[0])
    hi = (yk[-1] - yk[-1 - k]) / (zk[-1] - zk[-1 - k])
    out = np.interp(z, zk, yk)
    out = np.where(z < zk[0], yk[0] + (z - zk[0]) * lo, out)
    return np.where(z > zk[-1], yk[-1] + (z - zk[-1]) * hi, out)


def knots_state(knots: tuple[np.ndarray, np.ndarray] | None) -> dict[str, list[float]]:
    """Artifact-state entries of normal-score knots (none on raw targets); :func:`read_knots` reads them.

    >>> knots_state((np.array([-1.0, 1.0]), np.array([0.2, 0.9])))
    {'target_z': [-1.0, 1.0], 'target_y': [0.2, 0.9]}
    """
    return {} if knots is None else {"target_z": knots[0].tolist(), "target_y": knots[1].tolist()}


def read_knots(state: dict[str, Any], owner: str) -> tuple[np.ndarray, np.ndarray]:
    """The normal-score knots saved in an artifact state (``target_z``, ``target_y``), validated.

    Raises
    ------
    ArtifactError
        A key is missing, or the lists are not two increasing, finite, equally long lists.
    """
    from ..errors import ArtifactError

    try:
        knots = (np.asarray(state["target_z"], dtype=np.float64), np.asarray(state["target_y"], dtype=np.float64))
        z, y = knots
        if not (z.ndim == 1 and z.shape == y.shape and len(z) >= 2 and np.isfinite(np.concatenate(knots)).all()
                and (np.diff(z) > 0).all() and (np.diff(y) > 0).all()):
            raise ValueError("target knots must be two increasing, finite, equally long lists")
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{owner} state lacks or garbles its target knots target_z, target_y ({exc!r}); "
                            f"refit the model") from None
    return knots
