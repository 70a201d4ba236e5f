"""The query path of a :class:`~surrogate_eo.surrogates.benchmark.Benchmark`: caches that make one call cheap.

A search loop asks for one architecture at a time, often as a string. Per
benchmark this keeps:

- the entry answering each ``(task, metric, epoch)`` (resolved once);
- string → architecture: for finite spaces (``nb201``) a dict of every arch's
  string, built on the first string query; otherwise one-pass batch parsing by
  token lookup (:mod:`~surrogate_eo.surrogates._strings`; strings not in canonical
  form are parsed, and checked, by the space);
- a tuple of Python ints is checked here against the space's dims (cheaper than
  :meth:`SearchSpace.as_batch`), and for finite spaces features come straight from
  the featurizer's table of every arch (other spaces: its fast blocks,
  :mod:`~surrogate_eo.surrogates._fill`);
- the compiled trees of each entry (:mod:`~surrogate_eo.surrogates._compiled`),
  used for batches up to :func:`~surrogate_eo.surrogates._compiled.max_rows`
  rows (every size once the numba kernels are loaded; otherwise larger batches
  go to the library);
- optionally (:meth:`Benchmark.precompute`) a table of every arch's prediction
  for finite spaces: ``True`` builds it on an entry's next query, ``"auto"``
  once an entry has been asked for as many archs as the space holds (at most
  twice the cost of never building it), ``False`` (the default) never.
  Building costs one library prediction of every arch (15,625 for ``nb201``);
  afterwards a query is one gather (``benchmarks/results/bench_predict.json``).

:func:`probe` is the load-time check that the compiled trees and the
libraries agree, and that the libraries still give the predictions stored
when the benchmark was saved.
"""
from __future__ import annotations

import hashlib
import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._types import SurrogateLike
from ..errors import ArtifactError
from ..spaces.base import BatchLike
from . import _compiled
from ._strings import StringParser
from .ensemble import Ensemble, MultiFidelity

if TYPE_CHECKING:  # pragma: no cover
    from .benchmark import Benchmark, Entry

#: Finite spaces up to this size get string and prediction tables.
TABLE_SPACE_LIMIT = 100_000
#: Fixed probe set: this many archs sampled with this seed (the same on every machine).
PROBE_N, PROBE_SEED = 64, 20_261_129
#: Largest disagreement accepted between the compiled trees, the library and the stored probe.
PROBE_TOL = 1e-6


class QueryPath:
    """Caches of one benchmark's query path (see the module docstring).

    Parameters
    ----------
    bench : Benchmark
    """

    def __init__(self, bench: Benchmark) -> None:
        self.bench = bench
        self.tables: bool | str = False
        self._entries: dict[tuple[Any, ...], tuple[Any, int | None]] = {}
        self._sig: tuple[int, int] = (0, 0)
        self._strings: dict[str, int] | None = None
        self._tuples: dict[tuple[int, ...], int] | None = None
        self._all: np.ndarray | None = None
        self._compiled: dict[int, tuple[Any, Any]] = {}
        self._table: dict[tuple[int, int | None], tuple[Any, np.ndarray, np.ndarray]] = {}
        self._asked: dict[tuple[int, int | None], int] = {}
        self._parser: StringParser | None = None
        self._space_sig: tuple[int, bool, tuple[int, ...], np.ndarray] | None = None
        self._features: dict[int, tuple[Any, np.ndarray | None]] = {}
        self._nthreads: dict[int, tuple[Any, int]] = {}

    def _space_info(self) -> tuple[int, bool, tuple[int, ...], np.ndarray]:
        """``(id, finite, dims, radix)`` of the benchmark's space, computed once per space object."""
        space = self.bench.space
        info = self._space_sig
        if info is None or info[0] != id(space):
            info = self._space_sig = (id(space), space.size <= TABLE_SPACE_LIMIT, space.dims, space._radix)
        return info

    @property
    def finite(self) -> bool:
        """Whether the space is small enough for string and prediction tables."""
        return self._space_info()[1]

    # ----------------------------------------------------------- entries
    def entry(self, task: str | None, metric: str | None, epoch: Any) -> tuple[Entry, int | None]:
        """:meth:`Benchmark.entry`, remembered per ``(task, metric, epoch)``."""
        sig = (id(self.bench.entries), len(self.bench.entries))
        if sig != self._sig:
            self._entries, self._compiled, self._table, self._asked, self._sig = {}, {}, {}, {}, sig
        if not (epoch is None or type(epoch) is int):
            return self.bench.entry(task, metric, epoch)
        key = (task, metric, epoch)
        hit = self._entries.get(key)
        if hit is None:
            hit = self._entries[key] = self.bench.entry(task, metric, epoch)
        return hit

    # ----------------------------------------------------------- strings
    def as_batch(self, archs: BatchLike) -> tuple[np.ndarray, bool]:
        """:meth:`SearchSpace.as_batch` with strings answered from a cache."""
        if isinstance(archs, str):
            return self._rows([archs]), True
        if isinstance(archs, list) and archs and isinstance(archs[0], str):
            return self._rows(archs), False
        if type(archs) is tuple and all(type(v) is int for v in archs):   # one arch as a tuple of ints
            _, finite, dims, _ = self._space_info()
            if finite:                        # every arch of the space is a key: a hit is a valid arch
                i = self._tuple_index().get(archs)
                if i is not None:
                    return self._all[i:i + 1], True   # type: ignore[index]
            elif len(archs) == len(dims) and all(0 <= v < m for v, m in zip(archs, dims)):
                return np.array(archs, dtype=np.int64)[None, :], True
        return self.bench.space.as_batch(archs)

    def _every_arch(self) -> np.ndarray:
        """Every arch of the (finite) space, read-only, in index order (built once)."""
        if self._all is None:
            self._all = self.bench.space.from_index(np.arange(self.bench.space.size))
            self._all.setflags(write=False)
        return self._all

    def _tuple_index(self) -> dict[tuple[int, ...], int]:
        """Tuple of ints → index, for every arch of the (finite) space (built on the first tuple query)."""
        if self._tuples is None:
            self._tuples = {tuple(row): i for i, row in enumerate(self._every_arch().tolist())}
        return self._tuples

    def _rows(self, texts: list[str]) -> np.ndarray:
        space = self.bench.space
        if len(texts) == 1 and self._strings is not None and self._all is not None:   # one known string
            i = self._strings.get(texts[0])
            if i is not None:
                return self._all[i:i + 1]                          # a read-only view: nothing to copy
        if self.finite:                      # every string of the space is a key of one dict
            if self._strings is None or self._all is None:
                self._strings = {s: i for i, s in enumerate(space.to_strings(self._every_arch()))}
            try:
                idx = np.fromiter(map(self._strings.get, texts, itertools.repeat(-1)), dtype=np.int64,
                                  count=len(texts))
            except TypeError:                # an unhashable entry (a vector given as a list):
                idx = None                   # the space says what is wrong (outside this handler)
            if idx is None:
                return space.as_batch(texts)[0]
            miss = np.flatnonzero(idx < 0)
            if len(miss):
                if not all(isinstance(texts[i], str) for i in miss):
                    return space.as_batch(texts)[0]
                idx[miss] = space.index(space.from_strings([texts[i] for i in miss]))   # raises on a bad string
            return self._all[idx]
        if self._parser is None or self._parser.space is not space:
            self._parser = StringParser(space)
        fast = self._parser.fast(texts)      # all in canonical layout: one pass, no per-string Python
        if fast is not None:
            return fast
        if not all(isinstance(t, str) for t in texts):
            return space.as_batch(texts)[0]
        return self._parser.parse(texts)

    # ------------------------------------------------------------ predict
    def dist(self, entry: Entry, batch: np.ndarray, mf_epoch: int | None) -> tuple[np.ndarray, np.ndarray] | None:
        """``(mean, std)`` from a table or the compiled trees, or ``None`` (use the library)."""
        key = (id(entry), mf_epoch)
        _, finite, _, radix = self._space_info()
        if finite and self.tables and not _compiled._LIBRARY_ONLY.get():
            hit = self._table.get(key)
            if hit is not None and hit[0] is entry.model:
                idx = batch @ radix
                return hit[1][idx], hit[2][idx]
            asked = self._asked[key] = self._asked.get(key, 0) + len(batch)
            if self.tables is True or asked >= self.bench.space.size:
                mean, std = self.build_table(entry, mf_epoch)
                idx = batch @ radix
                return mean[idx], std[idx]
        if not _compiled.enabled(len(batch), self._threads(entry)):
            return None
        comp = self.compiled(entry)
        if comp is None:
            return None
        trees, featurizer, multi = comp
        table = self._feature_table(featurizer) if finite else None
        X = table[batch @ radix] if table is not None else featurizer.transform_valid(batch)
        if mf_epoch is not None:
            X = np.concatenate([X, np.full((len(X), 1), np.log(mf_epoch), dtype=np.float32)], axis=1)
        # NaN (XGBoost's "missing") goes to the library. A feature table is checked once, when first
        # taken; a featurizer that says its features are finite (counts, one-hots, choice values) is
        # not checked per batch (a full scan of X: ~3 ms for 10,000 eo rows).
        if (table is None or mf_epoch is not None) and not getattr(featurizer, "finite", False) \
                and np.isnan(X).any():
            return None
        out = trees.predict_groups(X, self._threads(entry))
        if not multi:
            return out[0], np.zeros(len(batch))
        return _mean_std(out)

    def _threads(self, entry: Entry) -> int:
        """Library threads of an entry's model (:func:`~surrogate_eo.surrogates._compiled.threads_of`), cached."""
        hit = self._nthreads.get(id(entry))
        if hit is None or hit[0] is not entry.model:
            hit = self._nthreads[id(entry)] = (entry.model, _compiled.threads_of(entry.model))
        return hit[1]

    def _feature_table(self, featurizer: Any) -> np.ndarray | None:
        """The featurizer's table of every arch of a finite space (NaN-free), or ``None``."""
        hit = self._features.get(id(featurizer))
        if hit is not None and hit[0] is featurizer:
            return hit[1]
        table = featurizer.table()
        if table is not None and (table.shape[0] != self.bench.space.size or np.isnan(table).any()):
            table = None
        self._features[id(featurizer)] = (featurizer, table)
        return table

    def compiled(self, entry: Entry) -> tuple[_compiled.CompiledTrees, Any, bool] | None:
        """``(trees, featurizer, is_ensemble)`` of an entry's model, or ``None`` when it has no tree export."""
        hit = self._compiled.get(id(entry))
        if hit is not None and hit[0] is entry.model:
            return hit[1]
        self._compiled[id(entry)] = (entry.model, compile_entry_model(entry.model))
        return self._compiled[id(entry)][1]

    def build_table(self, entry: Entry, mf_epoch: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Predict every arch of the (finite) space once with the library; later queries are one gather."""
        bench = self.bench
        everything = bench.space.from_index(np.arange(bench.space.size))
        mean, std = library_dist(bench, entry, everything, mf_epoch)
        mean.setflags(write=False)
        std.setflags(write=False)
        self._table[(id(entry), mf_epoch)] = (entry.model, mean, std)
        return mean, std


def _mean_std(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof=1; 0 for one member) over the members (rows) of ``out``.

    Like ``np.mean`` / ``np.std(ddof=1)`` (members summed in order) without their per-call
    overhead; one arch is summed in Python floats (six numpy calls cost ~15 us, this ~2 us).
    """
    k, n = out.shape
    if n == 1:
        v = out[:, 0].tolist()
        m = sum(v) / k
        sd = math.sqrt(sum((x - m) * (x - m) for x in v) / (k - 1)) if k > 1 else 0.0
        return np.array([m]), np.array([sd])
    mean = np.add.reduce(out, axis=0) / k
    if k < 2:
        return mean, np.zeros(n)
    dev = out - mean
    return mean, np.sqrt(np.add.reduce(dev * dev, axis=0) / (k - 1))


def compile_entry_model(model: SurrogateLike) -> tuple[_compiled.CompiledTrees, Any, bool] | None:
    """Compiled trees of a benchmark model: one tree model, an ensemble of them, or either under multi-fidelity."""
    inner = model
    if isinstance(model, MultiFidelity):
        inner = getattr(model, "base_", None) or model.base
    featurizer = getattr(model, "featurizer_", None)
    if featurizer is None:
        return None
    if isinstance(inner, Ensemble):
        if inner.weights is not None:  # the exported groups are averaged with equal weights
            return None
        members = getattr(inner, "estimators_", [])
        if not members or any(not m.uses_features or getattr(m, "featurizer_", featurizer) != featurizer
                              for m in members):
            return None
        trees = _compiled.compile_members(members)
        return None if trees is None else (trees, featurizer, True)
    if type(inner).__name__ not in ("XGBSurrogate", "LGBSurrogate", "RFSurrogate"):
        return None
    trees = _compiled.compile_model(inner)
    return None if trees is None else (trees, featurizer, False)


def library_dist(bench: Benchmark, entry: Entry, batch: np.ndarray,
                 mf_epoch: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``Benchmark._dist`` through the libraries only (no table, no compiled trees)."""
    with _compiled.library_only():
        return bench._dist(entry, batch, mf_epoch)


# ------------------------------------------------------------------- probe
def probe_batch(bench: Benchmark) -> np.ndarray:
    """The fixed probe architectures of a benchmark's space."""
    return bench.space.sample(PROBE_N, seed=PROBE_SEED)


def _probe_epoch(entry: Entry) -> int | None:
    return entry.epochs[-1] if isinstance(entry.model, MultiFidelity) else None


def _trees_digest(comp: tuple[_compiled.CompiledTrees, Any, bool] | None) -> str | None:
    """sha256 of the exported arrays: any changed split, threshold or leaf value changes it."""
    if comp is None:
        return None
    h = hashlib.sha256()
    for key in sorted(comp[0].parts):
        h.update(key.encode())
        h.update(np.ascontiguousarray(comp[0].parts[key]).tobytes())
    return h.hexdigest()


def record_probes(bench: Benchmark) -> None:
    """Store, per entry, the libraries' predictions on the probe set and the digest of the exported trees
    in ``info["probe"]`` (done at save, checked by :func:`probe` at load)."""
    batch = probe_batch(bench)
    for entry in bench.entries:
        mean, _ = library_dist(bench, entry, batch, _probe_epoch(entry))
        entry.info["probe"] = {"n": PROBE_N, "seed": PROBE_SEED, "mean": [float(v) for v in mean],
                               "trees_sha256": _trees_digest(bench._query.compiled(entry))}


def probe(bench: Benchmark, where: str) -> None:
    """Refuse a benchmark whose compiled trees, libraries and stored probe disagree (at load).

    Raises
    ------
    ArtifactError
        One line naming the folder, the entry, the largest difference and the fix.
    """
    batch = probe_batch(bench)
    for i, entry in enumerate(bench.entries):
        name = f"{where}: entry {i} ({entry.task}/{entry.metric}, {entry.model.family})"
        mf = _probe_epoch(entry)
        lib_mean, _ = library_dist(bench, entry, batch, mf)
        stored = entry.info.get("probe")
        if isinstance(stored, dict) and stored.get("n") == PROBE_N and stored.get("seed") == PROBE_SEED:
            want = np.asarray(stored.get("mean", []), dtype=np.float64)
            diff = float(np.abs(want - lib_mean).max()) if want.shape == lib_mean.shape else np.inf
            if not diff <= PROBE_TOL:
                raise ArtifactError(
                    f"{name} predicts differently from when it was saved (largest difference {diff:.3g} on the "
                    f"{PROBE_N}-arch probe set, tolerance {PROBE_TOL:g}); a model file was modified or the "
                    f"library version reads it differently — restore the folder or refit with this version")
        comp = bench._query.compiled(entry)
        if comp is None:
            continue
        trees, featurizer, multi = comp
        X = featurizer.transform_valid(batch)
        if mf is not None:
            X = np.concatenate([X, np.full((len(X), 1), np.log(mf), dtype=np.float32)], axis=1)
        got = trees.predict_groups(X)
        got = got.mean(axis=0) if multi else got[0]
        diff = float(np.abs(got - lib_mean).max())
        if not diff <= PROBE_TOL:
            raise ArtifactError(
                f"{name}: the exported trees disagree with the library's predictions (largest difference "
                f"{diff:.3g} on the {PROBE_N}-arch probe set, tolerance {PROBE_TOL:g}); the model file is "
                f"damaged or made by an unsupported library version — refit the benchmark")
        if isinstance(stored, dict) and stored.get("trees_sha256") and \
                stored["trees_sha256"] != _trees_digest(comp):
            raise ArtifactError(
                f"{name}: its trees differ from the ones saved (a split, threshold or leaf value changed; "
                f"digest of the exported trees does not match the one stored at save) — restore the folder "
                f"or refit the benchmark")
