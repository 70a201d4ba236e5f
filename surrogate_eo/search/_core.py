"""Shared machinery of the optimisers: where they may search, and a budget-keeping evaluator.

- :class:`Domain`: the archs an optimiser may propose — the whole space, or
  the finite set of archs a partial source holds (the ground-truth database),
  with sampling, mutation and neighbourhoods restricted to that set.
- :class:`Evaluator`: wraps a fitness source (anything with ``space`` and
  ``fitness(archs)``) and an optional cost model; it evaluates batches,
  truncates them at the evaluation budget or the simulated-time budget,
  records everything and builds the :class:`~surrogate_eo.search.trajectory.Trajectory`.
- :class:`TabulatedSource`: a source evaluated once on every arch of a small
  space, then answered by lookup (used to compare optimisers cheaply).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import SearchError
from ..landscape.sources import FitnessSource, NamedSource
from ..spaces import SearchSpace, get_space
from ..spaces.base import BatchLike
from .trajectory import Trajectory

#: A cost model: simulated training seconds of each arch of a batch, shape ``(n,)``.
CostFn = Callable[[np.ndarray], np.ndarray]


def check_source(source: FitnessSource) -> SearchSpace:
    """Return the space of ``source`` or raise :class:`SearchError` if it is not a fitness source."""
    missing = [a for a in ("space", "fitness") if not hasattr(source, a)]
    if missing:
        raise SearchError(
            f"{type(source).__name__} is not a fitness source: it lacks {', '.join(missing)}; wrap a benchmark "
            "with surrogate_eo.landscape.sources.BenchmarkSource(bench, task) or a model with ModelSource(model, space)"
        )
    return get_space(source.space)


def source_name(source: FitnessSource) -> str:
    """The source's ``name`` attribute, or its class name."""
    return str(getattr(source, "name", type(source).__name__))


def check_budget(budget: Any, time_budget: Any = None) -> tuple[int, float | None]:
    """Validate an evaluation budget (int >= 1) and an optional simulated-time budget (seconds > 0)."""
    try:
        b = int(budget)
    except (TypeError, ValueError):
        raise SearchError(f"budget must be a whole number of evaluations >= 1, got {budget!r}") from None
    if b != budget or b < 1:
        raise SearchError(f"budget must be a whole number of evaluations >= 1, got {budget!r}")
    if time_budget is None:
        return b, None
    try:
        t = float(time_budget)
    except (TypeError, ValueError):
        raise SearchError(f"time_budget must be simulated seconds > 0, got {time_budget!r}") from None
    if not np.isfinite(t) or t <= 0:
        raise SearchError(f"time_budget must be simulated seconds > 0, got {time_budget!r}")
    return b, t


class Domain:
    """The architectures an optimiser may propose.

    Parameters
    ----------
    space : SearchSpace
    held : ndarray, shape (m, d), optional
        When given, only these archs (e.g. those a ground-truth database
        holds); otherwise the whole space. Neighbours are then the held archs
        at Hamming distance 1, and a mutation picks one of them (a uniformly
        random held arch when there is none).
    """

    def __init__(self, space: SearchSpace, held: np.ndarray | None = None) -> None:
        self.space = space
        self.keys: np.ndarray | None = None
        if held is not None:
            keys = np.unique(space.index(held))
            if len(keys) == 0:
                raise SearchError(f"the source of space {space.name!r} holds no architectures to search over")
            self.keys = keys

    @classmethod
    def of(cls, source: FitnessSource, candidates: BatchLike | None = None) -> Domain:
        """The domain of ``source``: ``candidates`` if given, else the archs a partial source holds, else the space."""
        space = check_source(source)
        if candidates is not None:
            return cls(space, space.validate(candidates))
        if not getattr(source, "complete", True) and hasattr(source, "archs"):
            return cls(space, space.validate(source.archs))
        return cls(space)

    @property
    def restricted(self) -> bool:
        """True when the domain is a finite set of held archs."""
        return self.keys is not None

    @property
    def size(self) -> int:
        """Number of archs in the domain."""
        return self.space.size if self.keys is None else len(self.keys)

    def held(self, archs: np.ndarray) -> np.ndarray:
        """Boolean mask of the archs that belong to the domain."""
        if self.keys is None:
            return np.ones(len(archs), dtype=bool)
        k = self.space.index(archs)
        pos = np.minimum(np.searchsorted(self.keys, k), len(self.keys) - 1)
        return self.keys[pos] == k

    def sample(self, n: int, rng: np.random.Generator, replace: bool = True) -> np.ndarray:
        """``n`` archs uniformly from the domain; ``replace=False`` draws distinct ones (at most :attr:`size`)."""
        if replace:
            if self.keys is None:
                return self.space.sample(n, rng)
            return self.space.from_index(self.keys[rng.integers(0, len(self.keys), size=n)])
        n = min(int(n), self.size)
        idx = rng.choice(self.size, size=n, replace=False)
        return self.space.from_index(idx if self.keys is None else self.keys[idx])

    def neighbours(self, arch: np.ndarray) -> np.ndarray:
        """Neighbours of one arch inside the domain, shape ``(k, d)``."""
        nb = self.space.neighbours_batch(arch[None, :])[0]
        return nb if self.keys is None else nb[self.held(nb)]

    def mutate(self, archs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One random in-domain neighbour of each arch (a random held arch where an arch has none)."""
        if self.keys is None:
            return self.space.mutate(archs, rng)
        out = np.empty_like(archs)
        for i, a in enumerate(archs):
            nb = self.neighbours(a)
            out[i] = nb[rng.integers(len(nb))] if len(nb) else self.sample(1, rng)[0]
        return out

    def snap(self, arch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The in-domain arch nearest to ``arch`` in Hamming distance (random among ties)."""
        if self.keys is None or self.held(arch[None, :])[0]:
            return arch
        held = self.space.from_index(self.keys)
        d = (held != arch).sum(axis=1)
        best = np.flatnonzero(d == d.min())
        return held[best[rng.integers(len(best))]]


class Evaluator:
    """Evaluates batches against a source under an evaluation budget and an optional simulated-time budget.

    Parameters
    ----------
    source : fitness source
        Anything with ``space`` and ``fitness(archs) -> ndarray`` (fractions, maximised).
    budget : int
        Maximum number of evaluations (>= 1).
    cost : callable, optional
        ``cost(archs) -> seconds`` of simulated training per arch; needed for ``time_budget``.
    time_budget : float, optional
        Stop once the summed simulated time reaches this many seconds. An
        evaluation that starts before the budget is used up is completed and
        counted (as Optuna stops a study after the trial that crosses it).
    progress : callable, optional
        Called with the number of new evaluations after each batch.
    """

    def __init__(self, source: FitnessSource, budget: int, *, cost: CostFn | None = None, time_budget: float | None = None,
                 progress: Callable[[int], None] | None = None) -> None:
        self.space = check_source(source)
        self.source = source
        self.budget, self.time_budget = check_budget(budget, time_budget)
        if self.time_budget is not None and cost is None:
            raise SearchError(
                f"a time budget of {self.time_budget:g} s needs a cost model (simulated training seconds per "
                f"arch), but source {source_name(source)!r} was given none; pass cost=runtime_cost(bench, task) "
                "for a benchmark with a runtime model, or drop the time budget"
            )
        self.cost, self.progress = cost, progress
        self._archs: list[np.ndarray] = []
        self._fit: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []
        self._known: dict[int, float] = {}
        self.n_evals = 0
        self.spent_s = 0.0
        self.source_s = 0.0
        self.stop_reason = ""
        self._t0 = time.perf_counter()

    @property
    def done(self) -> bool:
        """True once a budget is used up (or :meth:`exhaust` was called)."""
        return bool(self.stop_reason)

    @property
    def remaining(self) -> int:
        """Evaluations left in the budget."""
        return 0 if self.done else self.budget - self.n_evals

    def exhaust(self) -> None:
        """Mark the run finished because the optimiser has nothing left to propose."""
        if not self.stop_reason:
            self.stop_reason = "exhausted"

    def known(self, archs: np.ndarray) -> np.ndarray:
        """Fitness of archs evaluated before in this run (NaN for the others), without spending budget."""
        keys = self.space.index(archs)
        return np.array([self._known.get(int(k), np.nan) for k in keys], dtype=np.float64)

    def evaluate(self, archs: np.ndarray) -> np.ndarray:
        """Evaluate the longest prefix of ``archs`` the budgets allow; returns its fitness (maybe shorter).

        Raises :class:`SearchError` when the source returns the wrong number of values or a non-finite one.
        """
        batch = np.asarray(archs, dtype=np.int64).reshape(-1, self.space.n_dims)
        batch = batch[: self.remaining]
        if not len(batch):
            return np.zeros(0)
        costs = None
        if self.cost is not None:
            t = time.perf_counter()
            costs = np.asarray(self.cost(batch), dtype=np.float64).reshape(-1)
            self.source_s += time.perf_counter() - t
            if costs.shape != (len(batch),) or not np.isfinite(costs).all() or (costs < 0).any():
                raise SearchError(f"the cost model returned {costs[:5]}... for {len(batch)} archs; expected "
                                  "one finite number of seconds >= 0 per arch")
            if self.time_budget is not None:
                starts = self.spent_s + np.concatenate([[0.0], np.cumsum(costs)[:-1]])
                keep = int(np.searchsorted(starts, self.time_budget, side="left"))
                batch, costs = batch[:keep], costs[:keep]
                if not len(batch):
                    self.stop_reason = "time_budget"
                    return np.zeros(0)
        t = time.perf_counter()
        values = np.asarray(self.source.fitness(batch), dtype=np.float64).reshape(-1)
        self.source_s += time.perf_counter() - t
        if values.shape != (len(batch),):
            raise SearchError(f"fitness source {source_name(self.source)!r} returned {values.size} values for "
                              f"{len(batch)} archs; fitness(archs) must return one value per arch")
        if not np.isfinite(values).all():
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            raise SearchError(f"fitness source {source_name(self.source)!r} returned {values[bad]} for arch "
                              f"{self.space.to_string(batch[bad])}; expected a finite fraction")
        self._archs.append(batch.copy())
        self._fit.append(values)
        for k, v in zip(self.space.index(batch).tolist(), values.tolist()):
            self._known[k] = v
        self.n_evals += len(batch)
        if costs is not None:
            self._cost.append(costs)
            self.spent_s += float(costs.sum())
        if self.n_evals >= self.budget:
            self.stop_reason = "budget"
        elif self.time_budget is not None and self.spent_s >= self.time_budget:
            self.stop_reason = "time_budget"
        if self.progress is not None:
            self.progress(len(batch))
        return values

    def trajectory(self, optimizer: str, seed: int | None, params: dict[str, Any]) -> Trajectory:
        """The run so far as a :class:`Trajectory`."""
        d = self.space.n_dims
        archs = np.concatenate(self._archs) if self._archs else np.zeros((0, d), dtype=np.int64)
        fit = np.concatenate(self._fit) if self._fit else np.zeros(0)
        cost = (np.concatenate(self._cost) if self._cost else np.zeros(0)) if self.cost is not None else None
        p = {"budget": self.budget, "time_budget": self.time_budget, **params}
        return Trajectory(optimizer=optimizer, source=source_name(self.source), space=self.space.name, seed=seed,
                          archs=archs, fitness=fit, cost=cost, params=p, stop_reason=self.stop_reason or "budget",
                          wall_s=time.perf_counter() - self._t0, source_s=self.source_s)


class TabulatedSource(NamedSource):
    """A fitness source evaluated once on every arch of a small space, then answered by lookup.

    Parameters
    ----------
    source : fitness source
        Evaluated in chunks on ``space.enumerate()`` (the space must be enumerable).
    chunk : int, default=4096
        Archs per ``fitness`` call while tabulating.
    """

    complete = True

    def __init__(self, source: FitnessSource, chunk: int = 4096) -> None:
        space = check_source(source)
        if space.size > 2_000_000:
            raise SearchError(f"space {space.name!r} has {space.size:,} archs, too many to tabulate; "
                              "search the source directly")
        allarchs = space.enumerate()
        self.values = np.concatenate([np.asarray(source.fitness(allarchs[i:i + chunk]), dtype=np.float64)
                                      for i in range(0, len(allarchs), chunk)])
        self._space, self._name = space, source_name(source)

    def fitness(self, archs: BatchLike) -> np.ndarray:
        """Tabulated fitness of ``archs``, shape ``(n,)``."""
        return self.values[self._space.enumeration_index(archs)]


@runtime_checkable
class RuntimeModel(Protocol):
    """What :func:`runtime_cost` needs of a benchmark: its space and seconds per training run of each arch."""

    @property
    def space(self) -> Any: ...

    def predict_runtime(self, archs: BatchLike, task: str | None = None, with_noise: bool = False,
                        seed: Any = None) -> float | np.ndarray: ...


def runtime_cost(bench: RuntimeModel, task: str) -> CostFn:
    """A cost model from a benchmark's runtime surrogate: ``archs -> bench.predict_runtime(archs, task=task)``.

    Raises :class:`SearchError` when the benchmark has no runtime model for ``task``
    (it is probed once on one arch).
    """
    from ..errors import SurrogateEOError

    name = getattr(bench, "name", type(bench).__name__)
    if not callable(getattr(bench, "predict_runtime", None)):
        raise SearchError(f"{name} has no predict_runtime(), so it cannot simulate training time; drop the "
                          "time budget or use a benchmark with a runtime model")

    def cost(archs: np.ndarray) -> np.ndarray:
        out = bench.predict_runtime(np.asarray(archs, dtype=np.int64).reshape(len(archs), -1), task=task)
        return np.asarray(out, dtype=np.float64).reshape(-1)

    try:
        cost(get_space(bench.space).sample(1, 0))
    except SurrogateEOError as exc:
        raise SearchError(f"{name} cannot simulate training time for task {task!r}: {exc}; or drop the "
                          "time budget") from None
    return cost
