"""The :class:`Benchmark`: fitted surrogates for every (task, metric, epoch), queried like a table.

>>> import surrogate_eo
>>> bench = surrogate_eo.load("benchmarks/so2sat-eo")                      # doctest: +SKIP
>>> bench.predict("cell=|conv_3x3~0|+...;reductions=1", task="so2sat-s2")   # doctest: +SKIP
0.8712
>>> bench.predict(archs, task="so2sat-s2", with_noise=True, seed=0)         # doctest: +SKIP
array([...])

Predictions are fractions for accuracy-like metrics and seconds for the
runtime model. ``with_noise=True`` draws from ``Normal(mean, sqrt(σ_model² +
σ_seed²))`` where ``σ_model`` is the ensemble spread (0 for a single model)
and ``σ_seed`` the seed-to-seed noise measured on the training data (0 when
it had no repeated seeds).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SurrogateError
from ..spaces import SearchSpace, get_space
from ..spaces.base import BatchLike, SeedLike, as_rng
from .base import Surrogate
from .ensemble import Ensemble, MultiFidelity
from .metrics import evaluate, interval_coverage

#: The database's run-level wall time (training + evaluation of one run), seconds.
RUNTIME_METRIC = "wall_seconds"
TRANSFORMS = ("identity", "log")


@dataclass
class Entry:
    """One fitted target of a benchmark.

    Attributes
    ----------
    task, metric : str
    epoch : int or None
        The epoch the model predicts; ``None`` for "final" targets and for multi-fidelity models.
    model : Surrogate
        Fitted model (a :class:`MultiFidelity` takes the epoch as input).
    transform : {"identity", "log"}
        The model predicts ``transform(target)`` (``log`` for runtimes).
    noise_std : float
        Seed-to-seed standard deviation of the target (in transformed units).
    info : dict
        JSON-ready facts: n_train, data hash, tuning summary, noise coverage, ...
    train_archs : ndarray or None
        The training architectures, ``(n, d)`` int64.
    """

    task: str
    metric: str
    epoch: int | None
    model: Surrogate
    transform: str = "identity"
    noise_std: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    train_archs: np.ndarray | None = None

    @property
    def epochs(self) -> list[int]:
        """Epochs this entry answers."""
        if isinstance(self.model, MultiFidelity):
            return list(self.model.epochs_)
        return [] if self.epoch is None else [int(self.epoch)]


def _clip(metric: str, values: np.ndarray) -> np.ndarray:
    if metric.endswith("_kappa"):
        return np.clip(values, -1.0, 1.0)
    if metric.endswith(("_acc", "_f1", "_aa")):
        return np.clip(values, 0.0, 1.0)
    if metric == RUNTIME_METRIC:
        return np.maximum(values, 0.0)
    return values


class Benchmark:
    """A surrogate benchmark over one search space.

    Parameters
    ----------
    space : str or SearchSpace
    entries : list of Entry
    meta : dict, optional
        Provenance (source, created, library versions, tuning results, ...), JSON-ready.
    """

    def __init__(self, space: str | SearchSpace, entries: list[Entry], meta: dict[str, Any] | None = None) -> None:
        self._space = get_space(space)
        self.entries = list(entries)
        self.meta = dict(meta or {})
        keys = [(e.task, e.metric, e.epoch, isinstance(e.model, MultiFidelity)) for e in self.entries]
        if len(set(keys)) != len(keys):
            raise SurrogateError(f"benchmark has two models for one (task, metric, epoch): {sorted(map(str, keys))}")
        if not self.entries:
            raise SurrogateError("a benchmark needs at least one fitted entry")

    # ------------------------------------------------------------ describing
    @property
    def space(self) -> SearchSpace:
        """The search space of every architecture this benchmark answers for."""
        return self._space

    @property
    def tasks(self) -> list[str]:
        """Tasks with at least one model, sorted."""
        return sorted({e.task for e in self.entries})

    @property
    def metrics(self) -> list[str]:
        """Metrics with at least one model (the runtime model included), sorted."""
        return sorted({e.metric for e in self.entries})

    def epochs(self, task: str | None = None, metric: str | None = None) -> list[int]:
        """Epochs answerable for (task, metric); empty when only "final" values are modelled."""
        task, metric = self._resolve(task, metric)
        return sorted({ep for e in self.entries if e.task == task and e.metric == metric for ep in e.epochs})

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary of the entries."""
        return {"space": self._space.name, "tasks": self.tasks, "metrics": self.metrics,
                "entries": [{"task": e.task, "metric": e.metric, "epoch": e.epoch, "epochs": e.epochs,
                             "model": e.model.family, "transform": e.transform, "noise_std": e.noise_std,
                             **{k: v for k, v in e.info.items() if k in ("n_train", "source")}}
                            for e in self.entries]}

    def __repr__(self) -> str:
        return f"Benchmark(space={self._space.name!r}, tasks={self.tasks}, metrics={self.metrics})"

    # --------------------------------------------------------------- lookup
    def _resolve(self, task: str | None, metric: str | None) -> tuple[str, str]:
        tasks = self.tasks
        if task is None:
            if len(tasks) != 1:
                raise SurrogateError(f"this benchmark has several tasks; pass task= one of {tasks}")
            task = tasks[0]
        elif task not in tasks:
            raise SurrogateError(f"unknown task {task!r} for this benchmark; expected one of {tasks}")
        have = sorted({e.metric for e in self.entries if e.task == task})
        if metric is None:
            quality = [m for m in have if m != RUNTIME_METRIC]
            if "val_acc" in quality:
                metric = "val_acc"
            elif len(quality) == 1:
                metric = quality[0]
            else:
                raise SurrogateError(f"task {task!r} has several metrics; pass metric= one of {have}")
        elif metric not in have:
            raise SurrogateError(f"unknown metric {metric!r} for task {task!r}; expected one of {have}")
        return task, metric

    def entry(self, task: str | None = None, metric: str | None = None,
              epoch: int | None = None) -> tuple[Entry, int | None]:
        """The entry answering (task, metric, epoch), and the epoch to feed a multi-fidelity model."""
        task, metric = self._resolve(task, metric)
        cands = [e for e in self.entries if e.task == task and e.metric == metric]
        per_epoch = [e for e in cands if not isinstance(e.model, MultiFidelity)]
        multi = [e for e in cands if isinstance(e.model, MultiFidelity)]
        if epoch is None:
            final = [e for e in per_epoch if e.epoch is None]
            if final:
                return final[0], None
            if per_epoch:
                return max(per_epoch, key=lambda e: e.epoch), None  # type: ignore[arg-type,return-value]
            return multi[0], multi[0].epochs[-1]
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
            raise SurrogateError(f"epoch must be an integer or None; got {epoch!r}")
        for e in per_epoch:
            if e.epoch == int(epoch):
                return e, None
        for e in multi:
            if e.epochs[0] <= int(epoch) <= e.epochs[-1]:
                return e, int(epoch)
        raise SurrogateError(
            f"no model for epoch {epoch} of {task}/{metric}; available epochs: {self.epochs(task, metric) or 'final only'}"
        )

    # ------------------------------------------------------------ predicting
    def _dist(self, entry: Entry, batch: np.ndarray, mf_epoch: int | None) -> tuple[np.ndarray, np.ndarray]:
        model = entry.model
        if isinstance(model, MultiFidelity):
            base = model.base
            X = np.concatenate([model.featurizer_.transform_valid(batch),
                                np.full((len(batch), 1), np.log(mf_epoch), dtype=np.float32)], axis=1)
            if isinstance(base, Ensemble):
                preds = base._members_X(X)
                return preds.mean(axis=0), (preds.std(axis=0, ddof=1) if len(preds) > 1 else np.zeros(len(batch)))
            return base._predict_X(X), np.zeros(len(batch))  # type: ignore[union-attr]
        if isinstance(model, Ensemble):
            preds = model._members_valid(batch)
            return preds.mean(axis=0), (preds.std(axis=0, ddof=1) if len(preds) > 1 else np.zeros(len(batch)))
        if model.uses_features:
            return model._predict_X(model.featurizer_.transform_valid(batch)), np.zeros(len(batch))
        return model.predict(batch), np.zeros(len(batch))

    def predict(self, archs: BatchLike, task: str | None = None, metric: str | None = None,
                epoch: int | None = None, with_noise: bool = False, seed: SeedLike = None) -> float | np.ndarray:
        """Predicted metric of ``archs``.

        Parameters
        ----------
        archs : arch vector, batch ``(n, d)``, string, or list of strings/vectors
        task : str, optional
            Needed when the benchmark has several tasks.
        metric : str, optional
            Default ``"val_acc"`` when modelled, else the task's only quality metric.
        epoch : int, optional
            ``None`` means the final epoch.
        with_noise : bool, default=False
            Draw from the predictive distribution instead of returning its mean.
        seed : int or numpy Generator, optional
            Seeds the draw (same seed, same values).

        Returns
        -------
        float for one arch, ndarray ``(n,)`` for a batch (fractions; seconds for the runtime metric).
        """
        batch, single = self._space.as_batch(archs)
        entry, mf_epoch = self.entry(task, metric, epoch)
        mean, std = self._dist(entry, batch, mf_epoch)
        if with_noise:
            sigma = np.sqrt(std ** 2 + float(entry.noise_std) ** 2)
            mean = mean + sigma * as_rng(seed).standard_normal(len(mean))
        out = np.exp(mean) if entry.transform == "log" else mean
        if with_noise:
            out = _clip(entry.metric, out)
        return float(out[0]) if single else out

    def predict_dist(self, archs: BatchLike, task: str | None = None, metric: str | None = None,
                     epoch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and standard deviation ``sqrt(σ_model² + σ_seed²)``, each ``(n,)``.

        For log-transformed targets (runtime) the mean is ``exp(μ)`` and the
        spread the delta-method ``exp(μ)·σ``.
        """
        batch = self._space.validate(archs)
        entry, mf_epoch = self.entry(task, metric, epoch)
        mean, std = self._dist(entry, batch, mf_epoch)
        sigma = np.sqrt(std ** 2 + float(entry.noise_std) ** 2)
        if entry.transform == "log":
            return np.exp(mean), np.exp(mean) * sigma
        return mean, sigma

    def predict_runtime(self, archs: BatchLike, task: str | None = None, with_noise: bool = False,
                        seed: SeedLike = None) -> float | np.ndarray:
        """Predicted wall time of one training run in seconds (the ``wall_seconds`` model)."""
        if task is None:
            if len(self.tasks) != 1:
                raise SurrogateError(f"this benchmark has several tasks; pass task= one of {self.tasks}")
            task = self.tasks[0]
        if not any(e.task == task and e.metric == RUNTIME_METRIC for e in self.entries):
            raise SurrogateError(
                f"this benchmark has no runtime model for task {task!r}; fit one from a results database "
                f"with wall_seconds (surrogate-eo fit --db DB --runtime)"
            )
        return self.predict(archs, task=task, metric=RUNTIME_METRIC, with_noise=with_noise, seed=seed)

    # ------------------------------------------------------------ evaluating
    def evaluate(self, archs: BatchLike, y: Any, task: str | None = None, metric: str | None = None,
                 epoch: int | None = None, *, exclude_train: bool = True, seed_archs: BatchLike | None = None,
                 seed_y: Any = None) -> dict[str, Any]:
        """Metrics of the predictions against ground truth ``y`` (fractions).

        ``exclude_train`` drops the archs the entry was fitted on. The result
        also holds ``coverage_68``/``coverage_95`` of the predictive interval
        against ``y`` and ``n_test``. With per-seed observations
        (``seed_archs``, ``seed_y``: one row per run) it adds
        ``seed_coverage_68``/``seed_coverage_95``: how often a single seed's
        result falls inside the interval — the check of the noise model.
        """
        batch = self._space.validate(archs)
        yy = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(yy) != len(batch):
            raise SurrogateError(f"evaluate: {len(batch)} archs but {len(yy)} targets")
        entry, _ = self.entry(task, metric, epoch)
        keep = np.isfinite(yy)
        if exclude_train and entry.train_archs is not None and len(entry.train_archs):
            keep &= ~np.isin(self._space.index(batch), self._space.index(entry.train_archs))
        if keep.sum() < 2:
            raise SurrogateError(f"evaluate: only {int(keep.sum())} test archs left after dropping training "
                                 f"archs and NaN targets; need at least 2")
        mean, std = self.predict_dist(batch[keep], task, metric, epoch)
        out: dict[str, Any] = {"task": entry.task, "metric": entry.metric, "epoch": epoch,
                               "n_test": int(keep.sum())}
        out.update(evaluate(yy[keep], mean))
        out.update(interval_coverage(yy[keep], mean, std))
        if seed_archs is not None and seed_y is not None:
            sb = self._space.validate(seed_archs)
            sy = np.asarray(seed_y, dtype=np.float64).reshape(-1)
            sk = np.isin(self._space.index(sb), self._space.index(batch[keep])) & np.isfinite(sy)
            if sk.sum() >= 2:
                smean, sstd = self.predict_dist(sb[sk], task, metric, epoch)
                cov = interval_coverage(sy[sk], smean, sstd)
                out.update({f"seed_{k}": v for k, v in cov.items()})
                out["n_seed_obs"] = int(sk.sum())
        return out

    # ------------------------------------------------------------- saving
    def save(self, path: str, *, overwrite: bool = False) -> None:
        """Write the benchmark as a data-only artifact folder (see :mod:`~surrogate_eo.surrogates.artifacts`)."""
        from .artifacts import save_benchmark

        save_benchmark(self, path, overwrite=overwrite)
