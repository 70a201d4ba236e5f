"""The :class:`Benchmark`: fitted surrogates for every (task, metric, epoch), queried like a table.

>>> import tempfile, surrogate_eo
>>> from surrogate_eo.reference import load_nb201
>>> from surrogate_eo.surrogates import fit_benchmark
>>> path = tempfile.mkdtemp() + "/nb201-c10"
>>> _ = fit_benchmark(load_nb201(), columns=["CIFAR10TestAccuracy200Epochs"], model="xgb",
...                   train_fraction=0.05, seed=0).save(path)
>>> bench = surrogate_eo.load(path)
>>> arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
>>> round(float(bench.predict(arch)), 2)     # the NB201 table says 0.944
0.94
>>> bench.predict([arch, arch], with_noise=True, seed=0).shape   # two draws of one training run's value
(2,)

Predictions are fractions for accuracy-like metrics and seconds for the
runtime model. ``with_noise=True`` draws one training run's value: the
prediction plus a model error drawn from the entry's conformal noise model
(out-of-fold residuals, :mod:`~surrogate_eo.surrogates.conformal`) plus
seed noise ``N(0, σ_seed²)``. Entries fitted before conformal noise existed
fall back to ``Normal(mean, sqrt(σ_ensemble² + σ_seed²))``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SurrogateError
from ..spaces import SearchSpace, get_space
from ..spaces.base import BatchLike, SeedLike
from .base import Surrogate
from . import noise
from .conformal import NoiseModel, noise_info
from .noise import RUNTIME_METRIC
from .ensemble import Ensemble, MultiFidelity
from ._query import QueryPath
from .metrics import evaluate

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
        JSON-ready facts: n_train, data hash, tuning summary, noise coverage,
        ``conformal`` (the out-of-fold residual grid of :class:`~surrogate_eo.surrogates.conformal.NoiseModel`), ...
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
    _noise: Any = field(default=None, repr=False, compare=False)

    @property
    def noise_model(self) -> NoiseModel | None:
        """The calibrated noise model (conformal model error + seed noise), or None for old entries."""
        if "conformal" not in self.info:
            return None
        grid = (self.info.get("noise") or {}).get("quantiles")
        key = (id(self.info["conformal"]), float(self.noise_std), id(grid))
        if self._noise is None or self._noise[0] != key:
            self._noise = (key, NoiseModel.from_dict(self.info["conformal"], seed_std=self.noise_std,
                                                     seed_quantiles=grid))
        return self._noise[1]

    @property
    def epochs(self) -> list[int]:
        """Epochs this entry answers."""
        if isinstance(self.model, MultiFidelity):
            return list(self.model.epochs_)
        return [] if self.epoch is None else [int(self.epoch)]


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
        self._query = QueryPath(self)  # entry/string caches, compiled trees, prediction tables
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
        fast = self._query.dist(entry, batch, mf_epoch)  # a table or the compiled trees, when they apply
        if fast is not None:
            return fast
        model = entry.model
        if isinstance(model, MultiFidelity):
            base = model.base_
            X = np.concatenate([model.featurizer_.transform_valid(batch),
                                np.full((len(batch), 1), np.log(mf_epoch), dtype=np.float32)], axis=1)
            if isinstance(base, Ensemble):
                return base.combine(base._members_X(X))
            return base._predict_X(X), np.zeros(len(batch))  # type: ignore[union-attr]
        if isinstance(model, Ensemble):
            return model.combine(model._members_valid(batch))
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
        batch, single = self._query.as_batch(archs)
        entry, mf_epoch = self._query.entry(task, metric, epoch)
        mean, std = self._dist(entry, batch, mf_epoch)
        if with_noise:
            mean = mean + noise.noise_draw(entry, std, seed)
        out = np.exp(mean) if entry.transform == "log" else mean
        if with_noise:
            out = noise.clip(entry.metric, out)
        return float(out[0]) if single else out

    def predict_dist(self, archs: BatchLike, task: str | None = None, metric: str | None = None,
                     epoch: int | None = None, kind: str = "single") -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and standard deviation, each ``(n,)``.

        ``kind="single"`` (default) describes one training run's value (model
        error plus seed noise), ``kind="mean"`` the seed-averaged value (model
        error only). With a conformal noise model the standard deviation is
        the half-width of its 68.27 % interval; otherwise ``sqrt(σ_ensemble² +
        σ_seed²)``. For log-transformed targets (runtime) the mean is ``exp(μ)``
        and the spread the delta-method ``exp(μ)·σ``. Use :meth:`predict_interval`
        for calibrated 95 % intervals (residuals are often heavier-tailed than a normal).
        """
        return noise.predict_dist(self, archs, task, metric, epoch, kind)

    def predict_interval(self, archs: BatchLike, level: float = 0.95, task: str | None = None,
                         metric: str | None = None, epoch: int | None = None,
                         kind: str = "single") -> tuple[np.ndarray, np.ndarray]:
        """Central ``level`` predictive interval ``(low, high)``, each ``(n,)`` (metric units).

        With a conformal noise model the half-width is its calibrated quantile
        (see :class:`~surrogate_eo.surrogates.conformal.NoiseModel`); otherwise
        the Gaussian ``mean ± z·σ`` of :meth:`predict_dist`.
        """
        return noise.predict_interval(self, archs, level, task, metric, epoch, kind)

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

    def set_seed_noise(self, seed_noise: float | np.ndarray, task: str | None = None,
                       metric: str | None = None) -> Benchmark:
        """Set the seed noise of the entries of (task, metric); returns ``self``.

        For a benchmark fitted on a seed-averaged table, whose data cannot show
        seed noise: measure it elsewhere and give it here, either as σ_seed
        (a number in metric units, e.g. 0.0032 = 0.32 pp; a normal is assumed)
        or, better, as the measured deviations of single runs from their
        arch's seed mean (a 1-D array, e.g. NB201's single-seed minus averaged
        values), whose quantiles are kept: seed noise is heavy-tailed.
        ``task``/``metric`` default to every quality entry. Negative or NaN
        values raise :class:`SurrogateError`.
        """
        from .conformal import seed_noise_spec

        value, grid = seed_noise_spec(seed_noise, "seed noise")
        hits = [e for e in self.entries if e.metric != RUNTIME_METRIC and (task is None or e.task == task)
                and (metric is None or e.metric == metric)]
        if not hits:
            raise SurrogateError(f"no quality entry matches task={task!r}, metric={metric!r}; "
                                 f"tasks {self.tasks}, metrics {self.metrics}")
        for e in hits:
            e.noise_std = value
            e.info["noise"] = noise_info(value, grid, 0, "given (set_seed_noise)")
            if "conformal" in e.info:  # single-run residuals measured at fit time no longer describe the noise
                e.info["conformal"] = {k: v for k, v in e.info["conformal"].items()
                                       if k not in ("single_quantiles", "n_single")}
        return self

    # ------------------------------------------------------------ evaluating
    def evaluate(self, archs: BatchLike, y: Any, task: str | None = None, metric: str | None = None,
                 epoch: int | None = None, *, exclude_train: bool = True, seed_archs: BatchLike | None = None,
                 seed_y: Any = None) -> dict[str, Any]:
        """Metrics of the predictions against ground truth ``y`` (fractions).

        ``exclude_train`` drops the archs the entry was fitted on. The result
        also holds ``coverage_68``/``coverage_95`` of the seed-averaged
        interval (``kind="mean"`` of :meth:`predict_interval`) against ``y``
        and ``n_test``. With per-seed observations (``seed_archs``,
        ``seed_y``: one row per run) it adds ``seed_coverage_68``/``seed_coverage_95``:
        how often a single seed's result falls inside the single-run interval
        — the check of the noise model.
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
        mean, _ = self.predict_dist(batch[keep], task, metric, epoch)
        out: dict[str, Any] = {"task": entry.task, "metric": entry.metric, "epoch": epoch,
                               "n_test": int(keep.sum())}
        out.update(evaluate(yy[keep], mean))
        out.update(noise.coverage(self, batch[keep], yy[keep], task, metric, epoch, "mean"))
        if seed_archs is not None and seed_y is not None:
            sb = self._space.validate(seed_archs)
            sy = np.asarray(seed_y, dtype=np.float64).reshape(-1)
            sk = np.isin(self._space.index(sb), self._space.index(batch[keep])) & np.isfinite(sy)
            if sk.sum() >= 2:
                cov = noise.coverage(self, sb[sk], sy[sk], task, metric, epoch, "single")
                out.update({f"seed_{k}": v for k, v in cov.items()})
                out["n_seed_obs"] = int(sk.sum())
        return out

    # ------------------------------------------------------------- saving
    def save(self, path: str, *, overwrite: bool = False) -> None:
        """Write the benchmark as a data-only artifact folder (see :mod:`~surrogate_eo.surrogates.artifacts`)."""
        from ._query import record_probes
        from .artifacts import save_benchmark

        record_probes(self)  # the libraries' predictions on a fixed probe set, checked again at load
        save_benchmark(self, path, overwrite=overwrite)

    def precompute(self, tables: bool | str = True) -> Benchmark:
        """Prediction tables for finite spaces (``nb201``): every arch predicted once, then one gather per query.

        ``True`` builds each entry's table on its next query, ``"auto"`` once an entry
        has been asked for as many archs as the space holds, ``False`` (the default)
        never. Larger spaces ignore this. Returns ``self``.
        """
        if tables not in (True, False, "auto"):
            raise SurrogateError(f"precompute(tables=) takes True, False or 'auto'; got {tables!r}")
        self._query.tables = tables
        return self
