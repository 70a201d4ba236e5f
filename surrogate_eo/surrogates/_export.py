"""Exporters: fitted XGBoost, LightGBM and scikit-learn forests as :class:`~surrogate_eo.surrogates._walk.CompiledTrees`.

Split rules are unified as *go right when* ``x >= t``: XGBoost's ``x < t``
goes left (``t`` is float32, compared exactly in float64), LightGBM's and
scikit-learn's ``x <= t`` go left, i.e. right when ``x >= nextafter(t, +inf)``.
Rows with NaN, categorical splits and LightGBM's "zero as missing" are not
exported (the exporters return ``None``; the library answers).

>>> import numpy as np
>>> from sklearn.ensemble import RandomForestRegressor
>>> from surrogate_eo.surrogates.forest import forest_to_arrays
>>> rng = np.random.default_rng(0)
>>> X = rng.random((200, 4)).astype(np.float32)
>>> rf = RandomForestRegressor(n_estimators=20, random_state=0).fit(X, X[:, 0] + X[:, 1] ** 2)
>>> trees = from_forest_arrays(forest_to_arrays(rf))
>>> bool(np.allclose(trees.predict(X[:5]), rf.predict(X[:5]), rtol=0, atol=1e-9))
True
"""
from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from ._walk import CompiledTrees

#: XGBoost objectives whose prediction is the raw margin (identity link).
_XGB_IDENTITY = ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:quantileerror")
#: LightGBM objectives whose prediction is the raw score.
_LGB_IDENTITY = ("regression", "regression_l1", "huber", "fair", "quantile", "mape")


def from_forest_arrays(trees: dict[str, np.ndarray]) -> CompiledTrees:
    """A scikit-learn forest stored by :func:`~surrogate_eo.surrogates.forest.forest_to_arrays` (mean of trees)."""
    left, right, feat = trees["left"], trees["right"], trees["feature"]
    ids = np.arange(len(left))
    leaf = feat < 0
    thr = np.where(leaf, np.inf, np.nextafter(trees["threshold"].astype(np.float64), np.inf))
    roots = trees["roots"]
    return CompiledTrees(feature=np.where(leaf, 0, feat), threshold=thr, left=np.where(leaf, ids, left),
                         right=np.where(leaf, ids, right), value=np.where(leaf, trees["value"], 0.0), roots=roots,
                         group=np.zeros(len(roots), dtype=np.int64), scale=np.array([1.0 / max(len(roots), 1)]),
                         base=np.zeros(1), float32=np.zeros(1, bool), n_features=int(feat.max(initial=0)) + 1)


def _arrays(text: str, key: str, dtype: Any) -> list[np.ndarray]:
    """Every ``"key":[...]`` list of a JSON text, in order, as arrays (one per tree)."""
    return [np.fromstring(m, dtype=dtype, sep=",") if m else np.zeros(0, dtype)
            for m in re.findall(rf'"{key}":\[([^\]]*)\]', text)]


def from_xgboost(booster: Any) -> CompiledTrees | None:
    """Export an XGBoost booster (gbtree, one target, numerical splits, identity link); ``None`` otherwise.

    The trees are read from the booster's own JSON model (``save_raw("json")``), only
    the five arrays the walk needs; the learner settings from ``save_config()``.
    """
    config = json.loads(booster.save_config())["learner"]
    if config["gradient_booster"].get("name") != "gbtree" or config["objective"]["name"] not in _XGB_IDENTITY:
        return None
    mp = config["learner_model_param"]
    if int(mp.get("num_target", 1)) != 1 or int(mp.get("num_class", 0)) > 1:
        return None
    base = float(str(mp["base_score"]).strip("[]").split(",")[0])
    text = bytes(booster.save_raw("json")).decode("utf-8")
    lefts, rights = _arrays(text, "left_children", np.int64), _arrays(text, "right_children", np.int64)
    feats, conds = _arrays(text, "split_indices", np.int64), _arrays(text, "split_conditions", np.float64)
    types = _arrays(text, "split_type", np.int64)
    if not lefts or not (len(lefts) == len(rights) == len(feats) == len(conds) == len(types)):
        return None
    if any(t.any() for t in types) or set(re.findall(r'"size_leaf_vector":"(\d+)"', text)) - {"0", "1"}:
        return None   # categorical splits or vector leaves
    sizes = np.array([len(v) for v in lefts])
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    left, right = np.concatenate(lefts), np.concatenate(rights)
    cond = np.concatenate(conds).astype(np.float32).astype(np.float64)   # float32 as XGBoost compares
    ids = np.arange(len(left))
    shift = np.repeat(offs, sizes)
    leaf = left < 0
    return CompiledTrees(feature=np.where(leaf, 0, np.concatenate(feats)), threshold=np.where(leaf, np.inf, cond),
                         left=np.where(leaf, ids, left + shift), right=np.where(leaf, ids, right + shift),
                         value=np.where(leaf, cond, 0.0), roots=offs, group=np.zeros(len(offs), dtype=np.int64),
                         scale=np.ones(1), base=np.array([base]), float32=np.ones(1, bool),
                         n_features=int(booster.num_features()))


def _lines(text: str, key: str, dtype: Any) -> list[np.ndarray]:
    """Every ``key=v v v`` line of LightGBM model text, in order, as arrays (one per tree)."""
    return [np.fromstring(m, dtype=dtype, sep=" ") if m.strip() else np.zeros(0, dtype)
            for m in re.findall(rf"^{key}=(.*)$", text, re.M)]


def from_lightgbm(booster: Any) -> CompiledTrees | None:
    """Export a LightGBM booster's raw score (numerical splits without zero-as-missing); ``None`` otherwise."""
    text = booster.model_to_string()
    head, _, body = text.partition("\nTree=")
    header = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
    objective = header.get("objective", "").split(" ")[0]
    if objective not in _LGB_IDENTITY or int(header.get("num_tree_per_iteration", "1")) != 1:
        return None
    average = "average_output" in head.splitlines()
    body = "Tree=" + body.split("\nend of trees")[0]
    n_leaves = [int(v) for v in re.findall(r"^num_leaves=(\d+)$", body, re.M)]
    fields = {k: _lines(body, k, dt) for k, dt in (("split_feature", np.int64), ("threshold", np.float64),
                                                    ("decision_type", np.int64), ("left_child", np.int64),
                                                    ("right_child", np.int64), ("leaf_value", np.float64),
                                                    ("num_cat", np.int64), ("is_linear", np.int64))}
    if not n_leaves or any(len(v) != len(n_leaves) for v in fields.values()):
        return None
    if any(v.any() for v in fields["num_cat"]) or any(v.any() for v in fields["is_linear"]):
        return None
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("feature", "threshold", "left", "right", "value")}
    roots, off = [], 0
    for t, n_leaf in enumerate(n_leaves):
        n_int = n_leaf - 1
        dtype = fields["decision_type"][t]
        if (dtype & 1).any() or ((dtype >> 2) & 3 == 1).any():   # categorical or zero-as-missing
            return None
        lc, rc = fields["left_child"][t], fields["right_child"][t]
        # internal nodes keep ids 0..n_int-1; leaf k (child code ~k) gets id n_int + k
        ids = np.arange(n_int + n_leaf)
        cols["feature"].append(np.concatenate([fields["split_feature"][t], np.zeros(n_leaf, np.int64)]))
        cols["threshold"].append(np.concatenate([np.nextafter(fields["threshold"][t], np.inf),
                                                 np.full(n_leaf, np.inf)]))
        cols["left"].append(np.concatenate([np.where(lc < 0, n_int + ~lc, lc), ids[n_int:]]) + off)
        cols["right"].append(np.concatenate([np.where(rc < 0, n_int + ~rc, rc), ids[n_int:]]) + off)
        cols["value"].append(np.concatenate([np.zeros(n_int), fields["leaf_value"][t][:n_leaf]]))
        roots.append(off)
        off += n_int + n_leaf
    scale = 1.0 / len(roots) if average else 1.0
    return CompiledTrees(**{k: np.concatenate(v) for k, v in cols.items()}, roots=np.asarray(roots),
                         group=np.zeros(len(roots), dtype=np.int64), scale=np.array([scale]), base=np.zeros(1),
                         float32=np.zeros(1, bool), n_features=int(booster.num_feature()))
