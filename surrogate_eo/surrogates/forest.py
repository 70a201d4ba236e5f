"""Random-forest surrogate stored as plain arrays (no pickle anywhere).

scikit-learn fits the forest; its trees are then copied into five flat
arrays (children, split feature, threshold, leaf value) and every prediction
— in memory or after loading an artifact — walks those arrays with
vectorised numpy. An artifact is an ``.npz`` read with ``allow_pickle=False``.
"""
from __future__ import annotations

import io
from typing import Any, ClassVar

import numpy as np

from ..errors import ArtifactError
from .base import Surrogate

_ARRAYS = ("left", "right", "feature", "threshold", "value", "roots")


class RFSurrogate(Surrogate):
    """Random-forest regression surrogate (scikit-learn's ``RandomForestRegressor``).

    Parameters
    ----------
    space : str, default="eo"
    features : tuple of str or None, default=None
    n_estimators : int, default=200
    max_features : float, default=0.5
        Fraction of features tried at each split.
    min_samples_leaf : int, default=1
    max_depth : int or None, default=None
    bootstrap : bool, default=True
    seed : int, default=0
    n_jobs : int, default=1
        Threads used while fitting (prediction is numpy).

    Attributes
    ----------
    trees_ : dict of ndarray
        ``left``, ``right`` (child node ids, -1 at leaves), ``feature`` (-1 at
        leaves), ``threshold`` (go left when ``x[feature] <= threshold``),
        ``value`` (leaf prediction), ``roots`` (root id of each tree), all
        trees concatenated.
    featurizer_ : Featurizer
    n_train_ : int
    """

    family: ClassVar[str] = "rf"

    def __init__(self, *, space: str = "eo", features: tuple[str, ...] | None = None, n_estimators: int = 200,
                 max_features: float = 0.5, min_samples_leaf: int = 1, max_depth: int | None = None,
                 bootstrap: bool = True, seed: int = 0, n_jobs: int = 1) -> None:
        self.space = space
        self.features = features
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.bootstrap = bootstrap
        self.seed = seed
        self.n_jobs = n_jobs

    def _fit_X(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.ensemble import RandomForestRegressor

        rf = RandomForestRegressor(
            n_estimators=int(self.n_estimators), max_features=self.max_features,
            min_samples_leaf=int(self.min_samples_leaf), max_depth=self.max_depth,
            bootstrap=bool(self.bootstrap), random_state=int(self.seed), n_jobs=int(self.n_jobs),
        ).fit(X, y)
        self.trees_ = forest_to_arrays(rf)
        self.n_features_in_ = X.shape[1]

    def _predict_X(self, X: np.ndarray) -> np.ndarray:
        from . import _compiled

        fast = _compiled.small_batch(self, X)  # small batches: the level-wise walk of all trees at once
        if fast is not None:
            return fast
        return predict_arrays(self.trees_, X)

    # artifacts ---------------------------------------------------------------
    def _save_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        buf = io.BytesIO()
        np.savez(buf, **self.trees_)
        return {"n_features": int(self.n_features_in_)}, {"forest.npz": buf.getvalue()}

    def _load_state(self, state: dict[str, Any], files: dict[str, bytes]) -> None:
        self.trees_ = load_arrays(files["forest.npz"])
        self.n_features_in_ = int(state["n_features"])
        if self.trees_["feature"].max(initial=-1) >= self.n_features_in_:
            raise ArtifactError(
                f"forest.npz splits on feature {int(self.trees_['feature'].max())} but the model has "
                f"{self.n_features_in_} features"
            )

    def _n_model_features(self) -> int:
        return int(self.n_features_in_)

    @staticmethod
    def suggest_params(trial: Any) -> dict[str, Any]:
        """Optuna search space (used by :func:`~surrogate_eo.surrogates.tuning.tune`)."""
        return {
            "n_estimators": trial.suggest_int("n_estimators", 50, 500, log=True),
            "max_features": trial.suggest_float("max_features", 0.1, 1.0),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 10),
        }


def forest_to_arrays(rf: Any) -> dict[str, np.ndarray]:
    """Concatenate the trees of a fitted scikit-learn forest into flat arrays (see :class:`RFSurrogate`)."""
    lefts, rights, feats, thrs, vals, roots = [], [], [], [], [], []
    offset = 0
    for est in rf.estimators_:
        t = est.tree_
        leaf = t.children_left < 0
        lefts.append(np.where(leaf, -1, t.children_left + offset))
        rights.append(np.where(leaf, -1, t.children_right + offset))
        feats.append(np.where(leaf, -1, t.feature))
        thrs.append(t.threshold.astype(np.float64))
        vals.append(t.value.reshape(t.node_count, -1)[:, 0].astype(np.float64))
        roots.append(offset)
        offset += t.node_count
    return {
        "left": np.concatenate(lefts).astype(np.int64), "right": np.concatenate(rights).astype(np.int64),
        "feature": np.concatenate(feats).astype(np.int64), "threshold": np.concatenate(thrs),
        "value": np.concatenate(vals), "roots": np.asarray(roots, dtype=np.int64),
    }


def predict_arrays(trees: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Mean leaf value over the trees for each row of ``X`` (scikit-learn's float32 split rule)."""
    X = np.asarray(X, dtype=np.float32)
    n = len(X)
    left, right, feat, thr = trees["left"], trees["right"], trees["feature"], trees["threshold"]
    node = np.repeat(trees["roots"][:, None], n, axis=1)  # (n_trees, n)
    cols = np.broadcast_to(np.arange(n), node.shape)
    active = feat[node] >= 0
    while active.any():
        idx = np.nonzero(active)
        cur = node[idx]
        go_left = X[cols[idx], feat[cur]] <= thr[cur]
        node[idx] = np.where(go_left, left[cur], right[cur])
        active[idx] = feat[node[idx]] >= 0
    return trees["value"][node].mean(axis=0)


def load_arrays(data: bytes) -> dict[str, np.ndarray]:
    """Read a forest ``.npz`` (no pickle) and check its arrays are consistent."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            trees = {k: np.asarray(z[k]) for k in _ARRAYS}
    except (KeyError, ValueError, OSError) as exc:
        raise ArtifactError(f"forest.npz is not a forest written by surrogate-eo: {exc}") from None
    n = len(trees["left"])
    if not all(len(trees[k]) == n for k in ("right", "feature", "threshold", "value")) or n == 0:
        raise ArtifactError("forest.npz: node arrays have different lengths")
    for k in ("left", "right", "roots"):
        a = trees[k]
        if a.dtype.kind != "i" or (a >= n).any() or (a < -1).any():
            raise ArtifactError(f"forest.npz: array {k!r} holds node ids outside 0..{n - 1}")
    internal = trees["feature"] >= 0
    if (trees["left"][internal] < 0).any() or (trees["right"][internal] < 0).any():
        raise ArtifactError("forest.npz: an internal node lacks a child")
    # children must come after their parent, so every walk ends (no cycles)
    ids = np.arange(n)
    if (trees["left"][internal] <= ids[internal]).any() or (trees["right"][internal] <= ids[internal]).any():
        raise ArtifactError("forest.npz: a child id does not follow its parent's (cyclic tree?)")
    return trees
