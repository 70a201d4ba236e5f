"""Fitness sources: anything with ``space``, ``name`` and ``fitness(archs) -> ndarray``.

Landscape analysis never asks where values come from. A source is one of

- a reference table column (:class:`~surrogate_eo.reference.TableSource`,
  e.g. NAS-Bench-201 accuracies as fractions): :func:`table_source`;
- a surrogate benchmark (``bench.predict(archs, task=..., metric=...)``):
  :class:`BenchmarkSource`;
- any fitted model with ``predict(archs)``: :class:`ModelSource`;
- the ground-truth database restricted to the archs it holds:
  :class:`DatabaseSource` (asking it for another arch raises
  :class:`~surrogate_eo.errors.MissingArchitectureError`, never NaN);
- any finite set of (arch, value) pairs: :class:`LookupSource`.

Values are returned as ``float64`` arrays of shape ``(n,)``; metrics are
fractions in [0, 1] and higher is better (fitness is maximised).

A source whose ``complete`` attribute is ``False`` can only answer for the
archs it holds; samplers that choose archs freely (hill climbing, neutral
walks) are skipped on such sources. Sources without the attribute are taken
to cover their whole space.

A source is named in text as ``KIND:PATH:NAME`` (:mod:`~surrogate_eo.landscape.source_specs`
parses it; :func:`open_source` opens it).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import numpy as np

from .._types import BenchmarkLike, DatabaseLike, PredictorLike
from ..errors import LandscapeError, MissingArchitectureError
from ..reference import ReferenceTable, TableSource
from ..spaces import SearchSpace, get_space
from ..spaces.base import BatchLike
from .source_specs import SPEC_HELP, SPEC_KINDS, SourceSpec, open_table, parse_source

if TYPE_CHECKING:
    from .samplers import Strata


@runtime_checkable
class FitnessSource(Protocol):
    """The contract: a search space, a name for messages, and batched fitness (fractions)."""

    @property
    def space(self) -> SearchSpace: ...

    @property
    def name(self) -> str: ...

    def fitness(self, archs: BatchLike) -> np.ndarray: ...


def is_complete(source: object) -> bool:
    """True when ``source`` can evaluate every arch of its space (its ``complete`` attribute, default True)."""
    return bool(getattr(source, "complete", True))


def check_source(source: object) -> FitnessSource:
    """Return ``source`` if it honours :class:`FitnessSource`, else raise :class:`LandscapeError`."""
    missing = [a for a in ("space", "name", "fitness") if not hasattr(source, a)]
    if missing:
        raise LandscapeError(
            f"{type(source).__name__} is not a fitness source: it lacks {', '.join(missing)}; "
            "wrap a model with ModelSource(model, space) or a benchmark with BenchmarkSource(bench, task)"
        )
    return cast(FitnessSource, source)


def evaluate(source: FitnessSource, archs: np.ndarray) -> np.ndarray:
    """Call ``source.fitness`` on a validated batch and check the answer: shape ``(n,)``, finite floats."""
    if len(archs) == 0:
        return np.zeros(0)
    out = np.asarray(source.fitness(archs), dtype=np.float64).reshape(-1)
    if out.shape != (len(archs),):
        raise LandscapeError(
            f"fitness source {source.name!r} returned {out.shape[0]} values for {len(archs)} archs; "
            "fitness(archs) must return one value per arch"
        )
    if not np.isfinite(out).all():
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise LandscapeError(
            f"fitness source {source.name!r} returned {out[bad]} for arch "
            f"{source.space.to_string(archs[bad])}; expected finite fractions"
        )
    return out


def table_source(table: ReferenceTable | str | Path, column: str,
                 space: str | SearchSpace = "nb201") -> TableSource:
    """A fitness source over one column of a reference table (a loaded table or a CSV path).

    >>> from surrogate_eo.reference import load_nb201
    >>> src = table_source(load_nb201(), "CIFAR10TestAccuracy200Epochs")
    >>> src.name, src.space.name
    ('nb201:CIFAR10TestAccuracy200Epochs', 'nb201')
    """
    if not isinstance(table, ReferenceTable):
        table = open_table(table, space)
    return table.source(column)


class NamedSource:
    """Base of the adapters here: read-only ``space`` and ``name`` from ``_space`` / ``_name``."""

    _space: SearchSpace
    _name: str

    @property
    def space(self) -> SearchSpace:
        return self._space

    @property
    def name(self) -> str:
        return self._name


class ModelSource(NamedSource):
    """A fitted model with ``predict(archs) -> values`` as a fitness source.

    Parameters
    ----------
    model : object
        Anything with ``predict(archs)`` taking an ``(n, d)`` int batch of
        ``space`` and returning ``n`` values (fractions).
    space : str or SearchSpace
        The space the model's archs live in.
    name : str, optional
        For messages and reports; defaults to the model's class name.
    """

    complete = True

    def __init__(self, model: PredictorLike, space: str | SearchSpace, name: str | None = None) -> None:
        if not callable(getattr(model, "predict", None)):
            raise LandscapeError(f"{type(model).__name__} has no predict(archs) method; a ModelSource needs one")
        self.model = model
        self._space = get_space(space)
        self._name = name or type(model).__name__

    def fitness(self, archs: BatchLike) -> np.ndarray:
        """Model predictions for ``archs``, shape ``(n,)``."""
        batch = self._space.validate(archs)
        return np.asarray(self.model.predict(batch), dtype=np.float64).reshape(-1)


class BenchmarkSource(NamedSource):
    """A surrogate benchmark queried for one task / metric (/ epoch) as a fitness source.

    Parameters
    ----------
    bench : object
        A benchmark from ``surrogate_eo.load(dir)``: ``bench.predict(archs, task=..., metric=...,
        with_noise=..., seed=...)`` and (ideally) ``bench.space``.
    task : str
        Task name, e.g. ``"so2sat-s2"``.
    metric : str, optional
        Metric to predict; the benchmark's default when None.
    epoch : int, optional
        Training epoch (a lower fidelity); the final epoch when None.
    with_noise : bool, default=False
        Sample from the surrogate's noise model instead of its mean.
    seed : int, optional
        Noise seed (with ``with_noise=True``).
    space : str or SearchSpace, optional
        Needed only when ``bench`` has no ``space`` attribute.
    """

    complete = True

    def __init__(self, bench: BenchmarkLike, task: str, metric: str | None = None, epoch: int | None = None,
                 with_noise: bool = False, seed: int | None = None,
                 space: str | SearchSpace | None = None) -> None:
        if not callable(getattr(bench, "predict", None)):
            raise LandscapeError(f"{type(bench).__name__} has no predict(); "
                                 "load a benchmark with surrogate_eo.load(dir)")
        sp = space if space is not None else getattr(bench, "space", None)
        if sp is None:
            raise LandscapeError("the benchmark has no 'space' attribute; pass space='eo' or 'nb201'")
        self.bench, self.task, self.metric, self.epoch = bench, task, metric, epoch
        self.with_noise, self.seed = with_noise, seed
        self._space = get_space(sp)

    @property
    def name(self) -> str:
        parts = [getattr(self.bench, "name", type(self.bench).__name__), self.task]
        if self.metric:
            parts.append(self.metric)
        if self.epoch is not None:
            parts.append(f"epoch{self.epoch}")
        return ":".join(str(p) for p in parts)

    def fitness(self, archs: BatchLike) -> np.ndarray:
        """Predicted metric (fraction) for ``archs``, one batched ``predict`` call."""
        batch = self._space.validate(archs)
        kwargs: dict[str, Any] = {"task": self.task}
        if self.metric is not None:
            kwargs["metric"] = self.metric
        if self.epoch is not None:
            kwargs["epoch"] = self.epoch
        if self.with_noise:
            kwargs.update(with_noise=True, seed=self.seed)
        return np.asarray(self.bench.predict(batch, **kwargs), dtype=np.float64).reshape(-1)


class LookupSource(NamedSource):
    """Values known for a finite set of archs; any other arch is an error.

    Parameters
    ----------
    space : str or SearchSpace
        The space of the archs.
    archs : batch-like
        The archs held (vectors or strings). Repeated archs are averaged.
    values : array-like, shape (n,)
        Their fitness (fractions), finite.
    name : str, default="lookup"
        For messages.
    """

    complete = False

    def __init__(self, space: str | SearchSpace, archs: BatchLike, values: Any, name: str = "lookup") -> None:
        self._space = get_space(space)
        batch = self._space.validate(archs)
        vals = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(vals) != len(batch):
            raise LandscapeError(f"{name}: {len(batch)} archs but {len(vals)} values; expected one value per arch")
        if not np.isfinite(vals).all():
            bad = int(np.flatnonzero(~np.isfinite(vals))[0])
            raise LandscapeError(f"{name}: value of arch {self._space.to_string(batch[bad])} is {vals[bad]}; "
                                 "expected a finite fraction (drop failed runs first)")
        keys = self._space.index(batch)
        uniq, inv = np.unique(keys, return_inverse=True)
        self._keys = uniq
        self._values = np.bincount(inv, weights=vals) / np.bincount(inv)
        self._name = name

    @property
    def archs(self) -> np.ndarray:
        """The distinct archs held, shape ``(m, d)``, in index order."""
        return self._space.from_index(self._keys)

    @property
    def values(self) -> np.ndarray:
        """Their values, aligned with :attr:`archs`."""
        return self._values.copy()

    def __len__(self) -> int:
        return len(self._keys)

    def holds(self, archs: BatchLike) -> np.ndarray:
        """Boolean mask: which of ``archs`` this source can answer for."""
        keys = self._space.index(archs)
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return (self._keys[pos] == keys) if len(self._keys) else np.zeros(len(keys), bool)

    def fitness(self, archs: BatchLike) -> np.ndarray:
        """Values of ``archs``; raises :class:`MissingArchitectureError` if any is not held."""
        batch = self._space.validate(archs)
        keys = self._space.index(batch)
        pos = np.minimum(np.searchsorted(self._keys, keys), max(len(self._keys) - 1, 0))
        found = (self._keys[pos] == keys) if len(self._keys) else np.zeros(len(keys), bool)
        if not found.all():
            miss = np.flatnonzero(~found)
            raise MissingArchitectureError(
                f"{self._name} holds no value for {len(miss)} of {len(batch)} requested archs, e.g. "
                f"{self._space.to_string(batch[miss[0]])}; it can only answer for the {len(self._keys)} archs "
                "it holds (analyse it on its own archs, or query a surrogate instead)"
            )
        return self._values[pos]


class DatabaseSource(LookupSource):
    """The ground-truth database restricted to the archs it holds, for one task / metric / epoch.

    Parameters
    ----------
    db : Database or str or Path
        A :class:`surrogate_eo.database.Database` or the path of its Parquet file.
    task : str
        Task name, e.g. ``"so2sat-s2"``.
    metric : str, default="val_acc"
        Epoch metric (see :data:`surrogate_eo.records.EPOCH_METRICS`).
    epoch : int, optional
        Epoch to read (1-based); the final one when None.
    seed_average : bool, default=True
        Average the seeds of each arch.
    space : str or SearchSpace, optional
        Defaults to the space of the task's runs.
    """

    def __init__(self, db: DatabaseLike | str | Path, task: str, metric: str = "val_acc", epoch: int | None = None,
                 seed_average: bool = True, space: str | SearchSpace | None = None) -> None:
        if isinstance(db, (str, Path)):
            from ..database import Database

            db = Database.read(db)
        archs, y = db.targets(task, metric, epoch=epoch, seed_average=seed_average,
                              space=space if isinstance(space, str) or space is None else space.name)
        if len(archs) == 0:
            raise MissingArchitectureError(
                f"the database holds no finished run for task {task!r}, metric {metric!r}"
                + (f", epoch {epoch}" if epoch is not None else "") + "; collect runs first"
            )
        if space is None:
            runs = getattr(db, "runs", None)
            names = sorted(set(runs.loc[runs["task"] == task, "space"])) if runs is not None else []
            if len(names) != 1:
                raise LandscapeError(f"cannot tell the space of task {task!r}'s runs ({names}); pass space=")
            space = names[0]
        name = f"db:{task}:{metric}" + (f":epoch{epoch}" if epoch is not None else "")
        super().__init__(space, list(archs), y, name=name)
        self.db, self.task, self.metric, self.epoch = db, task, metric, epoch

    def strata(self) -> Strata:
        """The campaign's strata as far as the database holds them (see :func:`.samplers.strata_from_plan`),
        with the exploit centres (:meth:`exploit_centres`) of a second wave."""
        from .samplers import strata_from_plan

        st = strata_from_plan(self, self.db, self.task)
        ex = self.exploit_centres()
        if ex is not None:
            st.exploit = ex
        return st

    def exploit_centres(self) -> np.ndarray | None:
        """Centres of the plan's ``exploit`` stratum whose centre and complete neighbourhood are held.

        An exploit entry at position 0 of its group is a centre (the surrogate's predicted-best
        arch); positions ``j >= 1`` are its neighbours (``surrogate-eo plan --exploit-from``).
        An exploit stratum planned without neighbourhoods (every arch in group 0) has no centres.
        Returns ``(k, d)`` archs in rank order, or None.
        """
        plan = self.db.plan_entries(stratum="exploit", task=self.task) if hasattr(self.db, "plan_entries") else None
        if plan is None or len(plan) == 0:
            return None
        sp = self._space
        keep = []
        for _, g in plan.drop_duplicates(["group", "position"]).sort_values(["group", "position"]).groupby("group"):
            c = g[g["position"] == 0]["arch"]
            if len(c) == 0 or len(g) < 2:
                continue
            centre = sp.from_string(str(c.iloc[0]))
            if self.holds(centre[None])[0] and self.holds(sp.neighbours(centre)).all():
                keep.append(centre)
        return np.stack(keep) if keep else None


# ------------------------------------------------------------------ opening a source from its spec
def open_source(spec: str | SourceSpec, *, space: str | SearchSpace = "nb201", metric: str | None = None,
                epoch: int | None = None, with_noise: bool = False, seed: int | None = None) -> FitnessSource:
    """Open the fitness source a spec names (see :func:`~.source_specs.parse_source`).

    Parameters
    ----------
    spec : str or SourceSpec
        ``table:FILE.csv:COLUMN``, ``surrogate:DIR:TASK`` or ``db:DB.parquet:TASK``.
    space : str or SearchSpace, default="nb201"
        Space of a table's architecture strings (surrogates and databases know theirs).
    metric : str, optional
        Metric of a surrogate (its default when None) or a database (``val_acc`` when None).
    epoch : int, optional
        Epoch (fidelity) of a surrogate or database metric; the final one when None.
    with_noise, seed
        Draw surrogate values from its noise model (seeded).
    """
    sp = spec if isinstance(spec, SourceSpec) else parse_source(spec)
    if not sp.path.exists():
        raise LandscapeError(f"source {sp}: {sp.path} does not exist")
    if sp.kind == "table":
        return open_table(sp.path, space).source(sp.name)
    if sp.kind == "surrogate":
        from ..surrogates import load

        bench = load(sp.path)
        src = BenchmarkSource(bench, sp.name, metric=metric, epoch=epoch, with_noise=with_noise, seed=seed)
        src.fitness(bench.space.sample(1, 0))  # fail now on an unknown task / metric / epoch
        return src
    return DatabaseSource(sp.path, sp.name, metric=metric or "val_acc", epoch=epoch)


__all__ = ["FitnessSource", "TableSource", "ModelSource", "BenchmarkSource", "LookupSource",
           "DatabaseSource", "table_source", "is_complete", "check_source", "evaluate", "SourceSpec",
           "parse_source", "open_table", "open_source", "SPEC_KINDS", "SPEC_HELP"]
