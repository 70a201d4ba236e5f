"""Checks of model files before a native library parses them (XGBoost UBJSON, LightGBM text).

XGBoost's C++ model reader trusts its input: a UBJSON booster whose bytes were
altered (and whose sha256 in ``benchmark.json`` was recomputed) can make it
read out of bounds and crash the process with a segmentation fault, which no
``try`` can catch. :func:`check_xgb_ubj` therefore decodes the file in Python
first (a strict UBJSON reader with depth, size and count limits) and checks the
trees' structure — array lengths, child and parent indices, split features —
so a damaged file raises :class:`~surrogate_eo.errors.ArtifactError` instead.
LightGBM aborts the process (``terminate called``) on a truncated model text;
:func:`check_lgb_text` checks its header, ``tree_sizes`` and every tree first.
Every node is a child at most once, never the root, and names its parent
back, so a walk from the root always ends at a leaf.

Examples
--------
>>> from surrogate_eo.surrogates.artifact_models import decode_ubjson
>>> decode_ubjson(b"{L\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01aSi\\x02hi}")
{'a': 'hi'}
"""
from __future__ import annotations

import struct
from typing import Any

import numpy as np

from ..errors import ArtifactError

#: Deepest container nesting accepted in a model file.
MAX_DEPTH = 32
_INT = {b"i": (">b", 1), b"U": (">B", 1), b"I": (">h", 2), b"l": (">i", 4), b"L": (">q", 8)}
_NUM = {**_INT, b"d": (">f", 4), b"D": (">d", 8)}


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"truncated at byte {self.pos} (wanted {n} more)")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def marker(self) -> bytes:
        m = self.take(1)
        while m == b"N":  # no-op
            m = self.take(1)
        return m

    def number(self, m: bytes) -> int | float:
        if m not in _NUM:
            raise ValueError(f"expected a number marker at byte {self.pos - 1}, got {m!r}")
        fmt, size = _NUM[m]
        return struct.unpack(fmt, self.take(size))[0]

    def length(self) -> int:
        m = self.marker()
        if m not in _INT:
            raise ValueError(f"expected an integer length at byte {self.pos - 1}, got {m!r}")
        n = int(self.number(m))
        if n < 0 or n > len(self.data):
            raise ValueError(f"length {n} at byte {self.pos} is impossible for a {len(self.data)}-byte file")
        return n

    def string(self) -> str:
        return self.take(self.length()).decode("utf-8")

    def value(self, m: bytes, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError(f"containers nested more than {MAX_DEPTH} deep")
        if m in _NUM:
            return self.number(m)
        if m == b"S":
            return self.string()
        if m in (b"T", b"F"):
            return m == b"T"
        if m == b"Z":
            return None
        if m == b"C":
            return self.take(1).decode("latin-1")
        if m == b"{":
            out: dict[str, Any] = {}
            while True:
                nxt = self.take(1)
                if nxt == b"}":
                    return out
                self.pos -= 1
                key = self.string()
                out[key] = self.value(self.marker(), depth + 1)
        if m == b"[":
            nxt = self.marker()
            if nxt == b"$":
                typ = self.take(1)
                if self.marker() != b"#":
                    raise ValueError(f"typed array without a count at byte {self.pos}")
                n = self.length()
                if typ not in _NUM:
                    raise ValueError(f"typed array of unsupported type {typ!r}")
                fmt, size = _NUM[typ]
                return np.frombuffer(self.take(n * size), dtype=np.dtype(fmt)).copy()
            if nxt == b"#":
                return [self.value(self.marker(), depth + 1) for _ in range(self.length())]
            items = []
            while nxt != b"]":
                items.append(self.value(nxt, depth + 1))
                nxt = self.marker()
            return items
        raise ValueError(f"unknown UBJSON marker {m!r} at byte {self.pos - 1}")


def decode_ubjson(data: bytes) -> Any:
    """Decode a UBJSON document (XGBoost's flavour: typed, counted arrays); raise ``ValueError`` when malformed."""
    r = _Reader(data)
    out = r.value(r.marker(), 0)
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} stray bytes after the document")
    return out


def _int_field(d: dict[str, Any], key: str) -> int:
    v = d.get(key)
    if isinstance(v, str):
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"{key} is {type(v).__name__}, expected an integer")
    return int(v)


def _check_tree(t: Any, i: int, n_features: int) -> None:
    if not isinstance(t, dict):
        raise ValueError(f"tree {i} is not an object")
    n = _int_field(t.get("tree_param") or {}, "num_nodes")
    if not 1 <= n <= 2**24:
        raise ValueError(f"tree {i} has num_nodes = {n}")
    if _int_field(t["tree_param"], "size_leaf_vector") not in (0, 1):
        raise ValueError(f"tree {i} has vector leaves")
    arrays = {}
    for key in ("left_children", "right_children", "parents", "split_indices", "split_conditions",
                "default_left", "base_weights", "loss_changes", "sum_hessian", "split_type"):
        a = t.get(key)
        if not isinstance(a, np.ndarray) or a.shape != (n,):
            raise ValueError(f"tree {i}: {key} has {getattr(a, 'shape', type(a).__name__)}, expected {n} values")
        arrays[key] = a
    left, right, parents = (arrays[k].astype(np.int64) for k in ("left_children", "right_children", "parents"))
    if (arrays["split_type"] != 0).any():
        raise ValueError(f"tree {i} has categorical splits (surrogate-eo models use numeric features only)")
    leaf = left == -1
    if not np.array_equal(leaf, right == -1):
        raise ValueError(f"tree {i}: a node has exactly one child")
    inner = ~leaf
    idx = np.arange(n)
    for name, ch in (("left_children", left), ("right_children", right)):
        if ((ch[inner] <= 0) | (ch[inner] >= n)).any() or (ch[leaf] != -1).any():
            raise ValueError(f"tree {i}: {name} points outside the tree")
    if parents[0] != 2147483647 and parents[0] != -1:
        raise ValueError(f"tree {i}: the root has a parent")
    kids = np.concatenate([left[inner], right[inner]])
    if len(np.unique(kids)) != len(kids) or (parents[kids] != np.concatenate([idx[inner], idx[inner]])).any():
        raise ValueError(f"tree {i}: children and parents disagree")
    feats = arrays["split_indices"].astype(np.int64)[inner]
    if ((feats < 0) | (feats >= max(n_features, 1))).any():
        raise ValueError(f"tree {i}: a split uses a feature outside 0..{n_features - 1}")
    for key in ("split_conditions", "base_weights"):
        if not np.isfinite(arrays[key].astype(np.float64)).all():
            raise ValueError(f"tree {i}: {key} holds a non-finite value")


def check_xgb_ubj(data: bytes, where: str) -> None:
    """Refuse an XGBoost UBJSON model whose structure could crash XGBoost's reader.

    Raises
    ------
    ArtifactError
        One line naming ``where`` and the first problem found.
    """
    try:
        doc = decode_ubjson(data)
        learner = doc["learner"]
        n_features = _int_field(learner["learner_model_param"], "num_feature")
        if not 0 <= n_features <= 2**20:
            raise ValueError(f"num_feature = {n_features}")
        booster = learner["gradient_booster"]
        model = booster["model"] if "model" in booster else booster["gbtree"]["model"]
        trees = model["trees"]
        if not isinstance(trees, list):
            raise ValueError("trees is not a list")
        n_trees = _int_field(model["gbtree_model_param"], "num_trees")
        info = np.asarray(model.get("tree_info"), dtype=np.int64)
        if n_trees != len(trees) or info.shape != (n_trees,) or (info != 0).any():
            raise ValueError(f"num_trees = {n_trees} but {len(trees)} trees and tree_info {info.shape}")
        indptr = np.asarray(model.get("iteration_indptr", [0, n_trees]), dtype=np.int64)
        if indptr.ndim != 1 or len(indptr) < 1 or indptr[0] != 0 or indptr[-1] != n_trees \
                or (np.diff(indptr) < 0).any():
            raise ValueError("iteration_indptr does not partition the trees")
        if _int_field(learner["learner_model_param"], "num_target") != 1:
            raise ValueError("a multi-target model (surrogate-eo saves single-target ones)")
        for i, t in enumerate(trees):
            _check_tree(t, i, n_features)
    except ArtifactError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, OverflowError, struct.error) as exc:
        msg = " ".join(str(exc).split())[:160]
        raise ArtifactError(f"{where}: not a well-formed XGBoost model ({type(exc).__name__}: {msg}); "
                            f"the file was modified — refit or restore the benchmark") from None


# ------------------------------------------------------------------ LightGBM
def _kv(lines: list[str], where: str) -> dict[str, str]:
    out = {}
    for ln in lines:
        key, sep, value = ln.partition("=")
        if not sep:
            raise ValueError(f"{where}: line {ln[:40]!r} is not key=value")
        out[key] = value
    return out


def _ints(s: str, n: int, name: str) -> np.ndarray:
    parts = s.split()
    if len(parts) != n:
        raise ValueError(f"{name} has {len(parts)} values, expected {n}")
    return np.array([int(p) for p in parts], dtype=np.int64)


def _floats(s: str, n: int, name: str) -> np.ndarray:
    a = np.array([float(p) for p in s.split()], dtype=np.float64)
    if a.shape != (n,) or not np.isfinite(a).all():
        raise ValueError(f"{name} has {a.shape[0]} values (expected {n}) or a non-finite one")
    return a


def _check_lgb_tree(d: dict[str, str], i: int, max_feature: int) -> None:
    if int(d.get("Tree", -1)) != i:
        raise ValueError(f"tree block {i} is numbered {d.get('Tree')!r}")
    leaves = int(d["num_leaves"])
    if not 1 <= leaves <= 2**20 or int(d.get("num_cat", "0")) != 0 or int(d.get("is_linear", "0")) != 0:
        raise ValueError(f"tree {i}: num_leaves/num_cat/is_linear out of range")
    _floats(d["leaf_value"], leaves, f"tree {i} leaf_value")
    if leaves == 1:
        return
    m = leaves - 1
    feats = _ints(d["split_feature"], m, f"tree {i} split_feature")
    if ((feats < 0) | (feats > max_feature)).any():
        raise ValueError(f"tree {i}: a split uses a feature outside 0..{max_feature}")
    _floats(d["threshold"], m, f"tree {i} threshold")
    dec = _ints(d["decision_type"], m, f"tree {i} decision_type")
    if ((dec < 0) | (dec > 255) | (dec & 1 != 0)).any():
        raise ValueError(f"tree {i}: categorical or invalid decision_type")
    kids = np.concatenate([_ints(d["left_child"], m, f"tree {i} left_child"),
                           _ints(d["right_child"], m, f"tree {i} right_child")])
    inner, leaf = kids[kids >= 0], ~kids[kids < 0]
    if ((inner == 0) | (inner >= m)).any() or ((leaf < 0) | (leaf >= leaves)).any():
        raise ValueError(f"tree {i}: a child index points outside the tree")
    if len(np.unique(inner)) != m - 1 or len(np.unique(leaf)) != leaves:
        raise ValueError(f"tree {i}: nodes are not each reached exactly once")


def check_lgb_text(data: bytes, where: str) -> bytes:
    """Refuse a LightGBM model text whose structure could crash LightGBM's parser (it aborts the process).

    Checks the header, that ``tree_sizes`` matches the tree blocks byte for byte
    (LightGBM slices the text with it), and every tree's arrays and child indices.
    Returns the text up to ``end of trees``: the feature importances and
    training parameters after it do not affect predictions, and LightGBM's
    reader of that part crashes on a truncated copy, so it is never parsed.
    """
    try:
        text = data.decode("utf-8")
        head, sep, rest = text.partition("\n\n")
        head_sep = sep
        if not sep or not head.startswith("tree\n"):
            raise ValueError("no 'tree' header")
        h = _kv(head.splitlines()[1:], "header")
        if int(h.get("num_class", "1")) != 1 or int(h.get("num_tree_per_iteration", "1")) != 1:
            raise ValueError("a multi-class model (surrogate-eo saves regressors)")
        max_feature = int(h["max_feature_idx"])
        if not 0 <= max_feature <= 2**20:
            raise ValueError(f"max_feature_idx = {max_feature}")
        body, sep, _ = rest.partition("end of trees\n")
        if not sep:
            raise ValueError("no 'end of trees' line")
        starts = [k for k in range(len(body)) if body.startswith("Tree=", k) and (k == 0 or body[k - 1] == "\n")]
        if not starts or body[:starts[0]].strip():
            raise ValueError("no tree blocks")
        if "tree_sizes" in h:
            sizes = [int(s) for s in h["tree_sizes"].split()]
            got = [len(body[a:b].encode("utf-8")) for a, b in zip(starts, starts[1:] + [len(body)])]
            if sizes != got:
                raise ValueError("tree_sizes does not match the tree blocks")
        for i, (a, b) in enumerate(zip(starts, starts[1:] + [len(body)])):
            _check_lgb_tree(_kv([ln for ln in body[a:b].splitlines() if ln], f"tree {i}"), i, max_feature)
        return (head + head_sep + body + "end of trees\n").encode("utf-8")
    except (ValueError, KeyError, UnicodeDecodeError, OverflowError) as exc:
        msg = " ".join(str(exc).split())[:160]
        raise ArtifactError(f"{where}: not a well-formed LightGBM model ({type(exc).__name__}: {msg}); "
                            f"the file was modified — refit or restore the benchmark") from None
