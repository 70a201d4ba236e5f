"""Structural types of the objects public functions accept: databases, benchmarks, models.

These :class:`typing.Protocol` classes describe what callers really use of
each object, so a function may say ``db: DatabaseLike`` instead of ``Any``
while still accepting anything shaped alike (a test double, a subclass, an
object from another package). They import nothing from the project, so every
layer may import them (the layering test puts private top-level modules at the
lowest layer).

The fitness-source contract lives with the landscape layer
(:class:`surrogate_eo.landscape.sources.FitnessSource`): its ``space`` is a
:class:`~surrogate_eo.spaces.SearchSpace`, which a module that imports nothing
from the project cannot name. :class:`SpaceLike` is the small part of a search
space that the protocols here need.

>>> import pandas as pd
>>> from surrogate_eo.database import Database
>>> isinstance(Database(pd.DataFrame({"run_id": []})), DatabaseLike)
True
>>> isinstance(object(), DatabaseLike)
False
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

__all__ = ["BenchmarkLike", "DatabaseLike", "EntryLike", "PredictorLike", "SpaceLike", "SurrogateLike"]


@runtime_checkable
class SpaceLike(Protocol):
    """What the protocols below need of a search space (a :class:`~surrogate_eo.spaces.SearchSpace` honours it)."""

    @property
    def name(self) -> str: ...

    def sample(self, n: int, seed: Any = None) -> np.ndarray: ...

    def validate(self, archs: Any) -> np.ndarray: ...

    def to_string(self, arch: Any) -> str: ...

    def from_strings(self, texts: Any) -> np.ndarray: ...


@runtime_checkable
class PredictorLike(Protocol):
    """Anything with ``predict(archs) -> values``: one value per arch of an ``(n, d)`` int batch."""

    def predict(self, archs: Any) -> np.ndarray: ...


@runtime_checkable
class SurrogateLike(Protocol):
    """A surrogate model (:class:`~surrogate_eo.surrogates.base.Surrogate` honours it).

    ``fit(archs, y)`` returns the fitted model, ``predict(archs)`` an ``(n,)``
    float array (fractions for accuracy-like targets), ``get_params()`` the
    constructor arguments and ``clone(**overrides)`` an unfitted copy.
    """

    def fit(self, archs: Any, y: Any) -> Any: ...

    def predict(self, archs: Any) -> np.ndarray: ...

    def get_params(self, deep: bool = False) -> dict[str, Any]: ...

    def clone(self, **overrides: Any) -> Any: ...


@runtime_checkable
class EntryLike(Protocol):
    """One fitted target of a benchmark (:class:`~surrogate_eo.surrogates.benchmark.Entry` honours it).

    ``transform`` is ``"identity"`` or ``"log"`` (runtimes); ``noise_std`` is the
    seed-to-seed standard deviation in transformed units; ``train_archs`` the
    ``(n, d)`` archs the model was fitted on, if kept; ``noise_model`` the calibrated
    noise model (None for entries fitted before conformal noise).
    """

    @property
    def task(self) -> str: ...

    @property
    def metric(self) -> str: ...

    @property
    def epoch(self) -> int | None: ...

    @property
    def model(self) -> Any: ...

    @property
    def transform(self) -> str: ...

    @property
    def noise_std(self) -> float: ...

    @property
    def info(self) -> dict[str, Any]: ...

    @property
    def train_archs(self) -> np.ndarray | None: ...

    @property
    def noise_model(self) -> Any: ...


@runtime_checkable
class BenchmarkLike(Protocol):
    """A surrogate benchmark (:class:`~surrogate_eo.surrogates.benchmark.Benchmark` honours it).

    ``predict`` returns fractions for accuracy-like metrics (a float for one
    arch, an ``(n,)`` array for a batch); ``predict_runtime`` seconds.
    """

    @property
    def space(self) -> Any: ...

    @property
    def tasks(self) -> list[str]: ...

    @property
    def metrics(self) -> list[str]: ...

    @property
    def meta(self) -> dict[str, Any]: ...

    @property
    def entries(self) -> Sequence[Any]: ...

    def predict(self, archs: Any, task: str | None = None, metric: str | None = None,
                epoch: int | None = None, with_noise: bool = False, seed: Any = None) -> Any: ...

    def predict_runtime(self, archs: Any, task: str | None = None, with_noise: bool = False,
                        seed: Any = None) -> Any: ...

    def entry(self, task: str | None = None, metric: str | None = None,
              epoch: int | None = None) -> tuple[Any, int | None]: ...

    def describe(self) -> dict[str, Any]: ...


@runtime_checkable
class DatabaseLike(Protocol):
    """The collected ground truth (:class:`~surrogate_eo.database.Database` honours it).

    ``runs`` holds one row per run (``run_id``, ``arch``, ``task``, ``seed``,
    ``status``, metric columns as fractions, times in seconds); ``plan`` the
    campaign's plan entries (stratum, group, position); ``meta`` provenance.
    """

    runs: pd.DataFrame
    plan: pd.DataFrame
    meta: dict[str, Any]

    def targets(self, task: str, metric: str, epoch: int | None = None, seed_average: bool = True, *,
                space: str | None = None, protocol: str | None = None,
                statuses: Sequence[str] = ("ok",)) -> tuple[list[str], np.ndarray]: ...

    def per_seed(self, task: str, metric: str, epoch: int | None = None, **kw: Any) -> pd.DataFrame: ...

    def plan_entries(self, stratum: str | None = None, task: str | None = None) -> pd.DataFrame: ...

    def walks(self, task: str, seed: int | None = None) -> list[list[str]]: ...

    def neighbourhoods(self, task: str, seed: int | None = None) -> list[tuple[str, list[str]]]: ...

    def summary(self) -> pd.DataFrame: ...

