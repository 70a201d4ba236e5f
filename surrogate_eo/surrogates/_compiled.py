"""Fitted trees exported once to flat arrays and evaluated vectorised over trees.

A call into XGBoost or LightGBM costs tens to hundreds of microseconds before
any tree is walked (argument checks, thread pools, a DMatrix or C-API round
trip). Search loops and landscape walks ask for one architecture at a time,
so that overhead *is* the query time. Here the trees of a fitted model — or of
every member of an ensemble at once — are copied into a handful of flat numpy
arrays, and a query walks all trees together, one tree level per step:

``node = children[node + test[cond[node]]]``

where ``test`` holds, for the row, the outcome of every *distinct* split test
``x[feature] >= threshold`` of the forest (a few hundred for our discrete
features, evaluated in one vectorised comparison). Node ids are stored doubled
(``2 * id``) so the child of a node is one gather; a leaf points at itself, so
trees of different depth need no masks (trees are sorted by depth, each level
only touches the trees still descending, and nodes are numbered level by level
so a level's gathers stay in one region of memory). XGBoost's outputs are summed
its own way — float32, base score first, tree by tree — and so reproduced bit for
bit; LightGBM's and scikit-learn's in float64.

Split rules are unified as *go right when* ``x >= t``: XGBoost's ``x < t``
goes left (``t`` is float32, compared exactly in float64), LightGBM's and
scikit-learn's ``x <= t`` go left, i.e. right when ``x >= nextafter(t, +inf)``.
Rows with NaN, categorical splits and LightGBM's "zero as missing" are not
exported (:func:`compile_model` returns ``None``; the library answers).

Large batches stay with the library, whose C++ loop wins once the per-call
overhead is amortised; :data:`MAX_ROWS` (measured by
``benchmarks/bench_predict.py``) is the switch.

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

import contextlib
import contextvars
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

#: Batches up to this many rows are walked here; larger ones go to the library. Measured
#: crossover (``benchmarks/bench_predict.py``, 500-tree XGBoost and the 6-member xgb+lgb
#: ensemble, 1 thread, ``benchmarks/results/bench_predict.txt``): the library wins from
#: 32-64 rows on.
MAX_ROWS = 32
#: A model's first few small-batch calls use the library; the export (~0.1 s for 500 trees) is
#: made on this call, so fitting loops that predict once never pay for it.
COMPILE_AFTER = 3
#: XGBoost objectives whose prediction is the raw margin (identity link).
_XGB_IDENTITY = ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:quantileerror")
#: LightGBM objectives whose prediction is the raw score.
_LGB_IDENTITY = ("regression", "regression_l1", "huber", "fair", "quantile", "mape")


class CompiledTrees:
    """Trees of one or more models as flat arrays, summed per *group* (one group per model).

    Parameters
    ----------
    feature : ndarray (N,) int
        Split feature of each node (0 at leaves).
    threshold : ndarray (N,) float64
        Go to the right child when ``x[feature] >= threshold`` (``+inf`` at leaves).
    left, right : ndarray (N,) int
        Child node ids (global); a leaf names itself.
    value : ndarray (N,) float64
        Leaf values (0 at internal nodes).
    roots : ndarray (T,) int
        Root node id of each tree.
    group : ndarray (T,) int
        Output each tree adds to.
    scale, base : ndarray (G,) float64
        Output ``g`` is ``base[g] + scale[g] * sum of its trees' leaves``.
    float32 : ndarray (G,) bool
        Groups summed like XGBoost: in float32, starting from ``base``, tree by tree in
        the original order (reproduces its predictions bit for bit); others sum in float64.
    n_features : int
        Columns the rows must have.
    """

    def __init__(self, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
                 value: np.ndarray, roots: np.ndarray, group: np.ndarray, scale: np.ndarray,
                 base: np.ndarray, float32: np.ndarray, n_features: int) -> None:
        self.parts = dict(feature=np.asarray(feature, np.int64), threshold=np.asarray(threshold, np.float64),
                          left=np.asarray(left, np.int64), right=np.asarray(right, np.int64),
                          value=np.asarray(value, np.float64), roots=np.asarray(roots, np.int64),
                          group=np.asarray(group, np.int64), scale=np.asarray(scale, np.float64),
                          base=np.asarray(base, np.float64), float32=np.asarray(float32, bool))
        self.n_features = int(n_features)
        self.n_trees, self.n_groups = len(self.parts["roots"]), len(self.parts["scale"])
        self._ready = False

    def _prepare(self) -> None:
        """Build the walking layout (once, on the first prediction)."""
        p = self.parts
        n_nodes = len(p["feature"])
        node_depth, node_tree = _node_levels(p["left"], p["right"], p["roots"])
        depth = np.zeros(len(p["roots"]), dtype=np.int64)
        np.maximum.at(depth, node_tree, node_depth)
        order = np.argsort(-depth, kind="stable")              # deepest trees first
        rank = np.empty(self.n_trees, dtype=np.int64)
        rank[order] = np.arange(self.n_trees)                 # tree t (original order) walks in slot rank[t]
        # renumber nodes level-major (all roots, then all depth-1 nodes, ...): a level's gathers stay local
        new = np.empty(n_nodes, dtype=np.int64)
        new[np.lexsort((rank[node_tree], node_depth))] = np.arange(n_nodes)
        old = np.argsort(new)
        feat, thr, val = p["feature"][old], p["threshold"][old], p["value"][old]
        left, right = new[p["left"][old]], new[p["right"][old]]
        # every distinct (feature, threshold) test is evaluated once per row, then looked up by node
        srt = np.lexsort((thr, feat))
        fresh = np.ones(n_nodes, dtype=bool)
        fresh[1:] = (feat[srt][1:] != feat[srt][:-1]) | (thr[srt][1:] != thr[srt][:-1])
        cond = np.empty(n_nodes, dtype=np.int64)
        cond[srt] = np.cumsum(fresh) - 1
        self._ufeat, self._uthr = feat[srt][fresh], thr[srt][fresh]
        # doubled ids: node 2i is node i; children2[2i + go_right] = 2 * child
        self._cond2 = np.repeat(cond.reshape(-1), 2)
        ch = np.empty(2 * n_nodes, dtype=np.int64)
        ch[0::2], ch[1::2] = 2 * left, 2 * right
        self._children2 = ch
        d = depth[order]
        self._levels = [int((d > k).sum()) for k in range(int(d.max(initial=0)))]
        # the walk state holds one slot per tree plus fixed slots: one per float32 group
        # pointing at its base value, and one pointing at 0.0 (padding)
        g, f32 = p["group"], p["float32"]
        self._g32, self._g64 = np.flatnonzero(f32), np.flatnonzero(~f32)
        n_extra = len(self._g32) + 1
        value = np.concatenate([np.repeat(val, 2), p["base"][self._g32], [0.0]])
        self._value64, self._value32 = value, value.astype(np.float32)
        extra_ids = 2 * n_nodes + np.arange(n_extra)
        self._start = np.concatenate([2 * new[p["roots"][order]], extra_ids])
        slot_base = self.n_trees + np.arange(len(self._g32))
        slot_zero = self.n_trees + len(self._g32)
        rows = [rank[g == k] for k in self._g32]
        width = max((len(r) for r in rows), default=0)
        self._idx32 = np.full((len(rows), 1 + width), slot_zero, dtype=np.int64)
        for i, r in enumerate(rows):
            self._idx32[i, 0] = slot_base[i]
            self._idx32[i, 1:1 + len(r)] = r
        self._w64 = np.zeros((len(self._g64), self.n_trees + n_extra))
        for i, k in enumerate(self._g64):
            self._w64[i, rank[g == k]] = p["scale"][k]
        self._base64 = p["base"][self._g64][:, None]
        self._only32 = len(self._g64) == 0 and np.array_equal(self._g32, np.arange(self.n_groups))
        self._ready = True

    # ---------------------------------------------------------------- combine
    @classmethod
    def concat(cls, parts: Sequence[CompiledTrees]) -> CompiledTrees:
        """One forest whose groups are the groups of ``parts``, in order (e.g. every ensemble member)."""
        if len({p.n_features for p in parts}) != 1:
            raise ValueError("compiled models to combine must share one feature count")
        node_off, group_off = 0, 0
        cols: dict[str, list[np.ndarray]] = {k: [] for k in parts[0].parts}
        for p in parts:
            q = p.parts
            for k in ("feature", "threshold", "value", "scale", "base", "float32"):
                cols[k].append(q[k])
            for k in ("left", "right", "roots"):
                cols[k].append(q[k] + node_off)
            cols["group"].append(q["group"] + group_off)
            node_off += len(q["feature"])
            group_off += len(q["scale"])
        return cls(**{k: np.concatenate(v) for k, v in cols.items()}, n_features=parts[0].n_features)

    # --------------------------------------------------------------- evaluate
    def _walk(self, X: np.ndarray) -> np.ndarray:
        """Final slot state: leaf node (doubled id) of every tree, plus the fixed slots."""
        if not self._ready:
            self._prepare()
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features; got shape {X.shape}")
        n = len(X)
        cond, ch = self._cond2, self._children2
        if n == 1:
            dec = X[0][self._ufeat] >= self._uthr
            node = self._start.copy()
            for m in self._levels:
                sub = node[:m]
                node[:m] = ch[sub + dec[cond[sub]]]
            return node[:, None]
        dec = (X[:, self._ufeat] >= self._uthr).T.reshape(-1)     # test u of row r at u * n + r
        rows = np.arange(n, dtype=np.int64)
        node = np.repeat(self._start[:, None], n, axis=1)         # (slots, n): a level touches a prefix
        for m in self._levels:
            sub = node[:m]
            node[:m] = ch[sub + dec[cond[sub] * n + rows]]
        return node

    def predict_groups(self, X: np.ndarray) -> np.ndarray:
        """Output of every group for every row, shape ``(n_groups, n)`` float64."""
        node = self._walk(X)
        if len(self._g32):   # XGBoost's own order and precision: base, then tree 0, 1, ... in float32
            if node.shape[1] == 1:
                acc = np.add.accumulate(self._value32[node[:, 0][self._idx32]], axis=1)[:, -1:]
            else:
                acc = np.add.accumulate(self._value32[node[self._idx32]], axis=1)[:, -1]
            if self._only32:
                return acc.astype(np.float64)
        out = np.empty((self.n_groups, node.shape[1]))
        if len(self._g32):
            out[self._g32] = acc
        if len(self._g64):
            out[self._g64] = self._w64 @ self._value64[node] + self._base64
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Output of a one-group forest (one model), shape ``(n,)``."""
        return self.predict_groups(X)[0]


def _node_levels(left: np.ndarray, right: np.ndarray, roots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth and tree of every node reachable from ``roots`` (a leaf names itself as child)."""
    depth = np.zeros(len(left), dtype=np.int64)
    tree = np.zeros(len(left), dtype=np.int64)
    cur, owner = np.asarray(roots, dtype=np.int64), np.arange(len(roots))
    level = 0
    while cur.size:
        depth[cur], tree[cur] = level, owner
        internal = left[cur] != cur
        cur, owner = cur[internal], owner[internal]
        cur, owner = np.concatenate([left[cur], right[cur]]), np.concatenate([owner, owner])
        level += 1
    return depth, tree


# ------------------------------------------------------------------ exporters
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


def compile_model(model: Any) -> CompiledTrees | None:
    """The compiled trees of a fitted xgb/lgb/rf surrogate (cached on the model), or ``None``.

    ``None`` means "ask the library": an unsupported booster (categorical splits, a link
    function, several targets) or a model that is not a tree model.
    """
    cached = getattr(model, "_compiled_cache", None)
    if cached is not None and cached[0] is _state_of(model):
        return cached[1]
    family = getattr(model, "family", "")
    out: CompiledTrees | None = None
    if family == "xgb":
        out = from_xgboost(model.booster_)
    elif family == "lgb":
        out = from_lightgbm(model.booster_)
    elif family == "rf":
        out = from_forest_arrays(model.trees_)
        out.n_features = int(model._n_model_features())
    model._compiled_cache = (_state_of(model), out)
    return out


def _state_of(model: Any) -> Any:
    """The learned object a compiled export was made from (a refit replaces it)."""
    return getattr(model, "booster_", None) if getattr(model, "family", "") in ("xgb", "lgb") \
        else getattr(model, "trees_", None)


def compile_members(members: Sequence[Any]) -> CompiledTrees | None:
    """One forest with one group per member (``None`` when any member cannot be exported)."""
    parts = [compile_model(m) for m in members]
    if not parts or any(p is None for p in parts) or len({p.n_features for p in parts}) != 1:  # type: ignore[union-attr]
        return None
    return CompiledTrees.concat(parts)  # type: ignore[arg-type]


_LIBRARY_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("surrogate_eo_library_only", default=False)


@contextlib.contextmanager
def library_only() -> Iterator[None]:
    """Within this block every prediction goes through the libraries (used by the load-time probe)."""
    token = _LIBRARY_ONLY.set(True)
    try:
        yield
    finally:
        _LIBRARY_ONLY.reset(token)


def enabled(n_rows: int) -> bool:
    """Whether a batch of ``n_rows`` should be walked here rather than by the library."""
    return n_rows <= MAX_ROWS and not _LIBRARY_ONLY.get()


def small_batch(model: Any, X: np.ndarray) -> np.ndarray | None:
    """The model-level hook of ``_predict_X``: compiled predictions for a small NaN-free batch, else ``None``.

    The export is made on the model's :data:`COMPILE_AFTER`-th small call (then reused
    until the model is refitted or reloaded).
    """
    if not enabled(len(X)):
        return None
    cached = getattr(model, "_compiled_cache", None)
    if cached is None or cached[0] is not _state_of(model):
        calls = getattr(model, "_small_calls", (None, 0))
        n = calls[1] + 1 if calls[0] is _state_of(model) else 1
        model._small_calls = (_state_of(model), n)
        if n < COMPILE_AFTER:
            return None
    trees = compile_model(model)
    if trees is None or X.shape[1] != trees.n_features or np.isnan(X).any():
        return None
    return trees.predict(X)
