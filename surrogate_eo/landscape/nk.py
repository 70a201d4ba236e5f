"""Synthetic landscapes with known answers: Kauffman's NK model and OneMax.

They exist to test the landscape estimators against theory we did not
write: for the ensemble of NK landscapes with random tables, the one-bit-flip
random-walk autocorrelation is exactly ``rho(1) = 1 - (K + 1) / N``
(Weinberger 1991), and OneMax has a fitness-distance correlation of exactly
``-1``. Both are fitness sources over :class:`BitStringSpace`.

>>> nk = NKLandscape(n=8, k=2, seed=0)
>>> nk.space.size
256
>>> f = nk.fitness(nk.space.sample(4, seed=1))
>>> f.shape, bool(((0 <= f) & (f <= 1)).all())
((4,), True)
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidArchitectureError, LandscapeError
from ..spaces.base import ArchLike, BatchLike, SearchSpace, SeedLike, as_rng


class BitStringSpace(SearchSpace):
    """``n`` positions of ``m`` choices each (binary by default); every vector is valid.

    Strings are the digits, e.g. ``"0110"`` (for ``m <= 10``). Canonical keys
    are the strings themselves (no two vectors compute the same thing).

    Parameters
    ----------
    n : int
        Number of positions (loci), >= 1.
    m : int, default=2
        Choices per position, 2..10.
    """

    name: ClassVar[str] = "bits"
    dim_names: ClassVar[tuple[str, ...]] = ()
    choices: ClassVar[tuple[tuple[Any, ...], ...]] = ()

    def __init__(self, n: int, m: int = 2) -> None:
        if int(n) < 1 or not 2 <= int(m) <= 10:
            raise LandscapeError(f"BitStringSpace needs n >= 1 and 2 <= m <= 10; got n={n}, m={m}")
        # Instance attributes shadow the class-level (empty) tables the base reads.
        self.dim_names = tuple(f"x{i}" for i in range(int(n)))  # type: ignore[misc]
        self.choices = tuple(tuple(range(int(m))) for _ in range(int(n)))  # type: ignore[misc]
        self.name = f"bits{int(n)}" if int(m) == 2 else f"cat{int(n)}x{int(m)}"  # type: ignore[misc]
        super().__init__()

    def to_string(self, arch: ArchLike) -> str:
        batch, single = self.as_batch(arch)
        if not single:
            raise InvalidArchitectureError("to_string() takes one architecture; use to_strings()")
        return "".join(str(int(v)) for v in batch[0])

    def from_string(self, text: str) -> np.ndarray:
        if len(text) != self.n_dims or not text.isdigit():
            raise InvalidArchitectureError(
                f"a {self.name} string has {self.n_dims} digits; got {text!r}"
            )
        return self.validate(np.array([int(c) for c in text], dtype=np.int64))[0]

    def _canonical_keys(self, batch: np.ndarray) -> list[str]:
        return ["".join(map(str, row)) for row in batch]


class NKLandscape:
    """Kauffman's NK landscape: ``f(x) = mean_i T_i[x_i, x_{j_i1}, ..., x_{j_iK}]``.

    Each locus ``i`` contributes a value drawn uniformly from [0, 1) for each of
    the ``2**(K+1)`` settings of itself and its ``K`` interacting loci; fitness
    is the mean of the ``N`` contributions (so it lies in [0, 1)).

    Parameters
    ----------
    n : int
        Number of binary loci ``N`` (>= 1).
    k : int
        Number of other loci each locus depends on, ``0 <= K < N``.
    seed : int or numpy.random.Generator, optional
        Draws the interaction sets and the contribution tables.
    neighbourhood : {"random", "adjacent"}, default="random"
        ``random``: each locus depends on ``K`` other loci drawn without
        replacement; ``adjacent``: on the next ``K`` loci (cyclically).

    Attributes
    ----------
    space : BitStringSpace
        The ``N``-bit space (one-bit-flip neighbourhood).
    deps : numpy.ndarray, shape (N, K + 1)
        Locus ``i`` first, then the loci it depends on.
    tables : numpy.ndarray, shape (N, 2**(K+1))
        Contribution of each locus for each setting of its dependencies.
    """

    def __init__(self, n: int, k: int, seed: SeedLike = None, neighbourhood: str = "random") -> None:
        n, k = int(n), int(k)
        if n < 1 or not 0 <= k < n:
            raise LandscapeError(f"an NK landscape needs N >= 1 and 0 <= K < N; got N={n}, K={k}")
        if neighbourhood not in ("random", "adjacent"):
            raise LandscapeError(f"neighbourhood must be 'random' or 'adjacent'; got {neighbourhood!r}")
        rng = as_rng(seed)
        self.n, self.k = n, k
        self.space = BitStringSpace(n)
        deps = np.empty((n, k + 1), dtype=np.int64)
        for i in range(n):
            if neighbourhood == "adjacent":
                others = (i + 1 + np.arange(k)) % n
            else:
                others = rng.choice(np.delete(np.arange(n), i), size=k, replace=False)
            deps[i] = np.concatenate([[i], others])
        self.deps = deps
        self.tables = rng.random((n, 2 ** (k + 1)))
        self._weights = 2 ** np.arange(k, -1, -1, dtype=np.int64)

    @property
    def name(self) -> str:
        return f"NK(N={self.n},K={self.k})"

    def fitness(self, archs: BatchLike) -> np.ndarray:
        """Fitness of each bit string, shape ``(n,)``, values in [0, 1)."""
        x = self.space.validate(archs)
        idx = x[:, self.deps] @ self._weights  # (n, N): table row of each locus
        return self.tables[np.arange(self.n), idx].mean(axis=1)

    def expected_rho1(self) -> float:
        """Weinberger's ensemble value ``1 - (K + 1) / N`` of the one-flip walk autocorrelation."""
        return 1.0 - (self.k + 1) / self.n


class OneMax:
    """OneMax on ``n`` bits: fitness = fraction of ones; the all-ones string is the unique optimum.

    Fitness is a linear function of Hamming distance to the optimum, so the
    fitness-distance correlation is exactly ``-1`` (maximisation).
    """

    def __init__(self, n: int) -> None:
        self.space = BitStringSpace(int(n))

    @property
    def name(self) -> str:
        return f"OneMax(N={self.space.n_dims})"

    def fitness(self, archs: BatchLike) -> np.ndarray:
        """Fraction of ones in each string, shape ``(n,)``."""
        return self.space.validate(archs).mean(axis=1).astype(float)


__all__ = ["BitStringSpace", "NKLandscape", "OneMax"]
