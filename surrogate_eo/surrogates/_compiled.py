"""The small-batch query path of tree models: fitted trees exported once, walked without the library.

A call into XGBoost or LightGBM costs tens to hundreds of microseconds before
any tree is walked (argument checks, thread pools, a DMatrix or C-API round
trip). Search loops and landscape walks ask for one architecture at a time,
so that overhead *is* the query time. Here the trees of a fitted model — or of
every member of an ensemble at once — are exported to flat arrays
(:mod:`~surrogate_eo.surrogates._export`) and walked for all trees at once
(:mod:`~surrogate_eo.surrogates._walk`: machine code through numba when it is
installed, a level-by-level numpy walk otherwise). This module decides when:

- :func:`small_batch` is the model-level hook (``_predict_X`` of the xgb/lgb/rf
  surrogates); the export is made on a model's :data:`COMPILE_AFTER`-th small call;
- :func:`enabled` is the switch by batch size: up to :func:`max_rows` rows are
  walked here, larger batches go to the library (measured crossover,
  ``benchmarks/bench_predict.py``: the numpy walk wins up to a few dozen rows; the
  compiled kernels win at every size, on as many threads as the library would use);
- :func:`library_only` sends every prediction to the libraries (the load-time probe).

>>> import numpy as np
>>> from surrogate_eo.spaces import get_space
>>> from surrogate_eo.surrogates.trees import XGBSurrogate
>>> sp = get_space("nb201")
>>> archs = sp.sample(200, seed=0)
>>> model = XGBSurrogate(space="nb201", n_estimators=20).fit(archs, (archs == 3).mean(axis=1))
>>> X = model.featurizer_.transform(archs[:3])
>>> bool((compile_model(model).predict(X) == model.booster_.inplace_predict(X)).all())   # bit for bit
True
"""
from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._types import SurrogateLike
from . import _jit
from ._export import from_forest_arrays, from_lightgbm, from_xgboost
from ._walk import CompiledTrees

__all__ = ["CompiledTrees", "from_forest_arrays", "from_lightgbm", "from_xgboost", "compile_model",
           "compile_members", "library_only", "enabled", "max_rows", "small_batch", "threads_of", "MAX_ROWS", "JIT_MAX_ROWS",
           "COMPILE_AFTER"]

#: Batches up to this many rows are walked by the numpy walk; larger ones go to the library. Measured
#: crossover (``benchmarks/bench_predict.py``, 500-tree XGBoost and the 6-member xgb+lgb ensemble,
#: 1 thread, ``benchmarks/results/bench_predict.json``): the library wins from 32-64 rows on.
MAX_ROWS = 32
#: The same switch once the compiled kernels are loaded: ``None`` = no limit. With the row-block
#: kernel (``_jit.row_kernel``), ``bench.predict`` of 10,000 archs takes 0.44 (500-tree XGBoost) and
#: 0.17 (xgb+lgb ensemble) of the library path's time, and under half of it at every size measured
#: from 1 row up (``crossover`` in ``benchmarks/results/bench_predict.json``); models whose library runs ``n_jobs``
#: threads get as many kernel threads over row chunks.
JIT_MAX_ROWS: int | None = None
#: A model's first few small-batch calls use the library; the export (~0.1 s for 500 trees) is
#: made on this call, so fitting loops that predict once never pay for it.
COMPILE_AFTER = 3


def compile_model(model: SurrogateLike) -> CompiledTrees | None:
    """The compiled trees of a fitted xgb/lgb/rf surrogate (cached on the model), or ``None``.

    ``None`` means "ask the library": an unsupported booster (categorical splits, a link
    function, several targets), trees fitted on normal scores (``target="normal"``: their
    summed leaves are not the prediction, the model maps them back) or a model that is not
    a tree model.
    """
    cached = getattr(model, "_compiled_cache", None)
    if cached is not None and cached[0] is _state_of(model):
        return cached[1]
    family = getattr(model, "family", "")
    out: CompiledTrees | None = None
    if getattr(model, "knots_", None) is not None:
        pass
    elif family == "xgb":
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


def compile_members(members: Sequence[SurrogateLike]) -> CompiledTrees | None:
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


def max_rows(threads: int = 1) -> int:
    """Largest batch walked here for a model whose library runs ``threads`` threads.

    :data:`MAX_ROWS` for the numpy walk; :data:`JIT_MAX_ROWS` (no limit when ``None``) once the
    compiled kernels are loaded, which then split large batches over ``threads`` threads.
    """
    if not _jit.loaded():
        return MAX_ROWS
    return sys.maxsize if JIT_MAX_ROWS is None else JIT_MAX_ROWS


def enabled(n_rows: int, threads: int = 1) -> bool:
    """Whether a batch of ``n_rows`` should be walked here rather than by the library.

    A batch too large for the numpy walk counts towards loading the kernels
    (:func:`~surrogate_eo.surrogates._jit.note_rows`).
    """
    if _LIBRARY_ONLY.get():
        return False
    if n_rows > MAX_ROWS and not _jit.loaded():
        _jit.note_rows(n_rows)
    return n_rows <= max_rows(threads)


def threads_of(model: Any) -> int:
    """Most library threads any tree model inside ``model`` uses (``n_jobs``; members of ensembles too)."""
    inner = getattr(model, "base_", None) or getattr(model, "base", None) or model
    members = getattr(inner, "estimators_", None) or getattr(inner, "members", None) or [inner]
    jobs = [getattr(m, "n_jobs", 1) for m in members]
    return max([int(j) for j in jobs if isinstance(j, int)] or [1])


def small_batch(model: SurrogateLike, X: np.ndarray) -> np.ndarray | None:
    """The model-level hook of ``_predict_X``: compiled predictions for a small NaN-free batch, else ``None``.

    The export is made on the model's :data:`COMPILE_AFTER`-th small call (then reused
    until the model is refitted or reloaded).
    """
    if not enabled(len(X), threads_of(model)):
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
    return trees.predict(X, threads_of(model))
