"""The SearchSpace contract shared by every search space.

An architecture is a fixed-length vector of categorical choices: a
``tuple[int, ...]`` for one arch, an ``np.ndarray`` of shape ``(n, d)`` and
integer dtype for a batch. Every vector with each entry in ``range(dims[i])``
is a valid architecture (the spaces are designed without forbidden
combinations), so the one-step neighbourhood graph is regular with degree
``sum(dims) - len(dims)``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Union

import numpy as np

from ..errors import InvalidArchitectureError, shown

ArchLike = Union[Sequence[int], np.ndarray, str]
BatchLike = Union[ArchLike, Iterable[ArchLike], np.ndarray]
SeedLike = Union[int, np.random.Generator, None]

#: ``enumerate()`` refuses spaces larger than this (memory: ``size * d`` int8s).
ENUMERATE_LIMIT = 2_000_000


def as_rng(seed: SeedLike) -> np.random.Generator:
    """Return a numpy Generator for an int seed, a Generator (passed through) or None."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


#: Most architectures one call to ``sample`` draws (10^8 vectors of int64 are several GB).
MAX_SAMPLE = 100_000_000


class SearchSpace(ABC):
    """A finite space of architectures encoded as categorical vectors.

    Subclasses set ``name``, ``dim_names`` and ``choices`` (the labels of each
    position) as class data and implement :meth:`to_string`,
    :meth:`from_string` and :meth:`_canonical_keys`.
    """

    name: ClassVar[str]
    dim_names: ClassVar[tuple[str, ...]]
    choices: ClassVar[tuple[tuple[Any, ...], ...]]

    def __init__(self) -> None:
        self._dims = np.array([len(c) for c in self.choices], dtype=np.int64)
        # Neighbour k of an arch changes position _nb_pos[k] by +_nb_off[k] (mod dims).
        pos, off = [], []
        for p, m in enumerate(self._dims):
            pos += [p] * (int(m) - 1)
            off += list(range(1, int(m)))
        self._nb_pos = np.array(pos, dtype=np.int64)
        self._nb_off = np.array(off, dtype=np.int64)
        # Mixed-radix weights: position 0 is the most significant digit.
        self._radix = np.ones(len(self._dims), dtype=np.int64)
        for p in range(len(self._dims) - 2, -1, -1):
            self._radix[p] = self._radix[p + 1] * self._dims[p + 1]

    # ------------------------------------------------------------------ shape
    @property
    def dims(self) -> tuple[int, ...]:
        """Number of choices at each position."""
        return tuple(int(m) for m in self._dims)

    @property
    def n_dims(self) -> int:
        """Length ``d`` of an architecture vector."""
        return len(self._dims)

    @property
    def size(self) -> int:
        """Number of architectures (every vector is valid)."""
        return int(np.prod([int(m) for m in self._dims], dtype=object))

    @property
    def degree(self) -> int:
        """Number of one-step neighbours of every architecture."""
        return len(self._nb_pos)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dims={self.dims}, size={self.size})"

    # ------------------------------------------------------------- validation
    def as_batch(self, archs: BatchLike) -> tuple[np.ndarray, bool]:
        """Validate ``archs`` and return ``(batch (n, d) int64, was_single)``.

        Accepts one arch (tuple/list of ints, 1-D array, string) or many
        (2-D array, list of tuples, list of strings). Raises
        :class:`~surrogate_eo.errors.InvalidArchitectureError` naming the bad
        position and value.
        """
        if isinstance(archs, str):
            return self.from_string(archs)[None, :], True
        if isinstance(archs, np.ndarray):
            arr = archs
        else:
            items = list(archs)
            if items and isinstance(items[0], str):
                return self.from_strings(items), False
            if items and all(isinstance(x, (int, np.integer)) for x in items):
                arr = np.asarray(items)
            else:
                try:
                    arr = np.asarray(items)
                except ValueError as exc:
                    raise InvalidArchitectureError(
                        f"architectures of space {self.name!r} must all have length {self.n_dims}: {exc}"
                    ) from None
                if arr.size == 0:
                    arr = arr.reshape(0, self.n_dims)
        single = arr.ndim == 1
        if single:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.n_dims:
            raise InvalidArchitectureError(
                f"an architecture of space {self.name!r} is a vector of {self.n_dims} choices "
                f"({', '.join(self.dim_names)}); got an array of shape {arr.shape[1:] if not single else arr.shape[1:]}"
            )
        if arr.dtype.kind not in "iu":
            if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
                arr = arr.astype(np.int64)
            else:
                raise InvalidArchitectureError(
                    f"architecture vectors of space {self.name!r} hold integer choice indices; got dtype {arr.dtype}"
                )
        arr = arr.astype(np.int64, copy=False)
        bad = (arr < 0) | (arr >= self._dims)
        if bad.any():
            r, p = map(int, np.argwhere(bad)[0])
            raise InvalidArchitectureError(
                f"architecture {r} of space {self.name!r}: position {p} ({self.dim_names[p]}) "
                f"is {int(arr[r, p])}, expected an integer in 0..{int(self._dims[p]) - 1}"
            )
        return arr, single

    def validate(self, archs: BatchLike) -> np.ndarray:
        """Return ``archs`` as a validated ``(n, d)`` int64 batch."""
        return self.as_batch(archs)[0]

    def is_valid(self, arch: ArchLike) -> bool:
        """True when ``arch`` (vector or string) is an architecture of this space."""
        try:
            self.as_batch(arch)
        except InvalidArchitectureError:
            return False
        return True

    # --------------------------------------------------------------- sampling
    def sample(self, n: int, seed: SeedLike = None) -> np.ndarray:
        """Draw ``n`` architectures uniformly at random, shape ``(n, d)``."""
        if not 0 <= int(n) <= MAX_SAMPLE:
            raise InvalidArchitectureError(f"sample size n must be in 0..{MAX_SAMPLE:,}, got {shown(n, 40)}")
        rng = as_rng(seed)
        return rng.integers(0, self._dims, size=(int(n), self.n_dims), dtype=np.int64)

    def neighbours(self, arch: ArchLike) -> np.ndarray:
        """All architectures one choice away from ``arch``, shape ``(degree, d)``."""
        batch, _ = self.as_batch(arch)
        if len(batch) != 1:
            raise InvalidArchitectureError("neighbours() takes one architecture; use neighbours_batch()")
        return self.neighbours_batch(batch)[0]

    def neighbours_batch(self, archs: BatchLike) -> np.ndarray:
        """Complete one-step neighbourhoods of many archs, shape ``(n, degree, d)``."""
        batch = self.validate(archs)
        k = self.degree
        out = np.repeat(batch[:, None, :], k, axis=1)
        rows = np.arange(k)
        out[:, rows, self._nb_pos] = (batch[:, self._nb_pos] + self._nb_off) % self._dims[self._nb_pos]
        return out

    def mutate(self, archs: BatchLike, seed: SeedLike = None) -> np.ndarray:
        """One uniformly chosen neighbour of each arch (a random-walk step), same shape."""
        batch, single = self.as_batch(archs)
        rng = as_rng(seed)
        k = rng.integers(0, self.degree, size=len(batch))
        out = batch.copy()
        rows = np.arange(len(batch))
        pos = self._nb_pos[k]
        out[rows, pos] = (batch[rows, pos] + self._nb_off[k]) % self._dims[pos]
        return out[0] if single else out

    def distance(self, a: BatchLike, b: BatchLike) -> np.ndarray | int:
        """Hamming distance between architectures (broadcasts batches against one arch)."""
        aa, sa = self.as_batch(a)
        bb, sb = self.as_batch(b)
        d = (aa != bb).sum(axis=1)
        return int(d[0]) if sa and sb else d

    # ------------------------------------------------------------ enumeration
    def index(self, archs: BatchLike) -> np.ndarray:
        """Lexicographic (mixed-radix) index of each arch, position 0 most significant."""
        return self.validate(archs) @ self._radix

    def from_index(self, idx: np.ndarray | int) -> np.ndarray:
        """Inverse of :meth:`index`: vectors for lexicographic indices."""
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if idx.size and (idx.min() < 0 or idx.max() >= self.size):
            raise InvalidArchitectureError(f"index out of range 0..{self.size - 1} for space {self.name!r}")
        return (idx[:, None] // self._radix) % self._dims

    def enumerate(self) -> np.ndarray:
        """Every architecture, shape ``(size, d)``, in the space's reference order."""
        if self.size > ENUMERATE_LIMIT:
            raise InvalidArchitectureError(
                f"space {self.name!r} has {self.size:,} architectures, more than enumerate() "
                f"materialises ({ENUMERATE_LIMIT:,}); use sample() instead"
            )
        return self.from_index(np.arange(self.size))

    def enumeration_index(self, archs: BatchLike) -> np.ndarray:
        """Position of each arch in :meth:`enumerate` order (the row of a reference table)."""
        return self.index(archs)

    # ---------------------------------------------------------------- strings
    @abstractmethod
    def to_string(self, arch: ArchLike) -> str:
        """Human-readable string of one architecture."""

    @abstractmethod
    def from_string(self, text: str) -> np.ndarray:
        """Parse a string made by :meth:`to_string`; raise a precise error otherwise."""

    def to_strings(self, archs: BatchLike) -> list[str]:
        """Strings of many architectures."""
        return [self.to_string(a) for a in self.validate(archs)]

    def from_strings(self, texts: Iterable[str]) -> np.ndarray:
        """Parse many strings into an ``(n, d)`` batch."""
        rows = [self.from_string(t) for t in texts]
        if not rows:
            return np.zeros((0, self.n_dims), dtype=np.int64)
        return np.stack(rows)

    # -------------------------------------------------------------- canonical
    def canonical(self, arch: ArchLike) -> str:
        """Key of the computation ``arch`` performs: isomorphic and dead-edge-equivalent archs share it."""
        batch, single = self.as_batch(arch)
        if not single:
            raise InvalidArchitectureError("canonical() takes one architecture; use canonical_many()")
        return str(self.canonical_many(batch)[0])

    def canonical_many(self, archs: BatchLike) -> np.ndarray:
        """Canonical keys of many archs (object array of str); each distinct arch is keyed once."""
        batch = self.validate(archs)
        uniq, inverse = np.unique(self.index(batch), return_inverse=True)
        keys = self._canonical_keys(self.from_index(uniq))
        return np.asarray(keys, dtype=object)[inverse.reshape(-1)]

    @abstractmethod
    def _canonical_keys(self, batch: np.ndarray) -> list[str]:
        """Canonical keys of a validated batch of distinct archs."""

    # ---------------------------------------------------------------- summary
    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary: name, size, dims with their choices, degree."""
        return {
            "name": self.name,
            "size": self.size,
            "n_dims": self.n_dims,
            "degree": self.degree,
            "dims": [
                {"name": n, "choices": [str(c) for c in ch]}
                for n, ch in zip(self.dim_names, self.choices)
            ],
        }

    def to_configspace(self, seed: int | None = None) -> Any:
        """Export as a ``ConfigSpace.ConfigurationSpace`` (needs the ``configspace`` extra).

        Every position becomes a categorical hyperparameter named after
        :attr:`dim_names` whose choices are the labels of :attr:`choices`;
        all combinations are valid, so no forbidden clauses are needed.
        """
        from .._imports import require

        cs_mod = require("ConfigSpace", "to_configspace()")
        cs = cs_mod.ConfigurationSpace(name=self.name, seed=seed)
        cs.add([cs_mod.CategoricalHyperparameter(n, [str(c) for c in ch])
                for n, ch in zip(self.dim_names, self.choices)])
        return cs

    def from_configuration(self, config: Any) -> np.ndarray:
        """Vector of a ConfigSpace configuration (or dict) made by :meth:`to_configspace`."""
        values = dict(config)
        out = np.empty(self.n_dims, dtype=np.int64)
        for p, (n, ch) in enumerate(zip(self.dim_names, self.choices)):
            labels = [str(c) for c in ch]
            if n not in values or str(values[n]) not in labels:
                raise InvalidArchitectureError(
                    f"configuration for space {self.name!r}: {n}={values.get(n)!r}, expected one of {labels}"
                )
            out[p] = labels.index(str(values[n]))
        return out
