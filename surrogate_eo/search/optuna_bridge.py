"""Optuna bridge: suggest architectures in a trial, and a ready-made objective over the benchmark.

Every position of an architecture vector becomes one categorical parameter,
named after the space's ``dim_names`` (``edge_1<-0``, …, ``width``) with the
choice labels as values (``nor_conv_3x3``, ``16``, …). **All combinations are
valid** in our spaces (they are designed without forbidden combinations; dead
edges merely make some archs compute the same function), so no trial is ever
rejected or repaired: every suggestion is an architecture.

Ten lines of TPE on the benchmark::

    import optuna, surrogate_eo
    from surrogate_eo.search import make_objective

    bench = surrogate_eo.load("path/to/benchmark")
    objective = make_objective(bench, task="so2sat-s2", metric="val_acc", time_budget=7 * 24 * 3600)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=500)           # stops early once a simulated week is spent
    print(study.best_trial.user_attrs["arch"], study.best_value)
    print(objective.total_runtime_s / 3600, "simulated GPU hours")
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._types import BenchmarkLike
from ..errors import SearchError
from ..spaces import SearchSpace, get_space
from ._core import check_budget, runtime_cost


def _labels(space: SearchSpace) -> list[list[str]]:
    return [[str(c) for c in ch] for ch in space.choices]


def distributions(space: SearchSpace | str) -> dict[str, Any]:
    """Optuna ``CategoricalDistribution`` of each position, keyed by dim name."""
    import optuna

    space = get_space(space)
    return {n: optuna.distributions.CategoricalDistribution(lab) for n, lab in zip(space.dim_names, _labels(space))}


def arch_params(space: SearchSpace | str, arch: Any) -> dict[str, str]:
    """The trial parameters (dim name → choice label) of one architecture."""
    space = get_space(space)
    vec = space.validate(arch)[0]
    return {n: lab[int(v)] for n, lab, v in zip(space.dim_names, _labels(space), vec)}


def params_to_arch(space: SearchSpace | str, params: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`arch_params`: the vector of a trial's parameters (e.g. ``study.best_params``)."""
    return get_space(space).from_configuration(params)


def suggest_arch(trial: Any, space: SearchSpace | str) -> np.ndarray:
    """Suggest one architecture in an Optuna ``trial``; returns its vector, shape ``(d,)`` int64.

    One ``suggest_categorical`` per position (name = the space's dim name,
    choices = its labels). Every vector is valid, so the result needs no repair.

    >>> import optuna
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> arch = suggest_arch(study.ask(), "nb201")
    >>> arch.shape
    (6,)
    """
    space = get_space(space)
    out = np.empty(space.n_dims, dtype=np.int64)
    for p, (name, labels) in enumerate(zip(space.dim_names, _labels(space))):
        out[p] = labels.index(trial.suggest_categorical(name, labels))
    return out


class BenchmarkObjective:
    """An Optuna objective querying a surrogate benchmark; made by :func:`make_objective`.

    Each call suggests an arch, predicts its metric (the trial's value) and
    its training time, and stores in ``trial.user_attrs``: ``arch`` (string),
    ``runtime_s`` (predicted training seconds) and ``cumulative_runtime_s``.
    Once the summed runtime reaches ``time_budget`` it calls ``study.stop()``
    (the trial that crosses the budget is kept).

    Attributes
    ----------
    total_runtime_s : float
        Simulated training seconds summed over all calls.
    n_calls : int
    """

    def __init__(self, bench: BenchmarkLike, task: str, metric: str, epoch: int | None, with_noise: bool,
                 time_budget: float | None, seed: int, cost: Callable[[np.ndarray], np.ndarray] | None) -> None:
        self.bench, self.task, self.metric, self.epoch = bench, task, metric, epoch
        self.with_noise, self.time_budget, self.seed, self._cost = with_noise, time_budget, seed, cost
        self.space = get_space(bench.space)
        self.total_runtime_s = 0.0
        self.n_calls = 0

    def __call__(self, trial: Any) -> float:
        arch = suggest_arch(trial, self.space)
        kwargs: dict[str, Any] = {"task": self.task, "metric": self.metric}
        if self.epoch is not None:
            kwargs["epoch"] = self.epoch
        if self.with_noise:
            kwargs.update(with_noise=True, seed=int(self.seed) * 1_000_003 + int(trial.number))
        out = self.bench.predict(arch[None, :], **kwargs)
        value = float(np.asarray(getattr(out, "mean", out) if not isinstance(out, np.ndarray) else out).reshape(-1)[0])
        trial.set_user_attr("arch", self.space.to_string(arch))
        self.n_calls += 1
        if self._cost is not None:
            runtime = float(np.asarray(self._cost(arch[None, :])).reshape(-1)[0])
            self.total_runtime_s += runtime
            trial.set_user_attr("runtime_s", runtime)
            trial.set_user_attr("cumulative_runtime_s", self.total_runtime_s)
            if self.time_budget is not None and self.total_runtime_s >= self.time_budget:
                trial.study.stop()
        return value


def _default_target(bench: BenchmarkLike, task: str | None, metric: str | None) -> tuple[str, str]:
    """The benchmark's own default (task, metric): its only task; val_acc, else its only quality metric."""
    resolve = getattr(bench, "_resolve", None)
    if callable(resolve):
        from ..errors import SurrogateEOError

        try:
            return resolve(task, metric)
        except SurrogateEOError as exc:
            raise SearchError(str(exc)) from None
    if task is None:
        tasks = list(getattr(bench, "tasks", []) or [])
        if len(tasks) != 1:
            raise SearchError(f"pass task= (the benchmark offers {', '.join(map(str, tasks)) or 'no task list'})")
        task = str(tasks[0])
    return task, metric or "val_acc"


def make_objective(bench: BenchmarkLike, task: str | None = None, metric: str | None = None,
                   epoch: int | None = None, with_noise: bool = True, time_budget: float | None = None,
                   seed: int = 0) -> BenchmarkObjective:
    """An objective for ``study.optimize`` (direction ``"maximize"``) over a surrogate benchmark.

    Parameters
    ----------
    bench : Benchmark
        From ``surrogate_eo.load(dir)``: ``predict(archs, task=, metric=, epoch=, with_noise=, seed=)``,
        ``predict_runtime(archs, task=)`` and ``space``.
    task : str, optional
        E.g. ``"so2sat-s2"``; may be omitted when the benchmark has one task.
    metric : str, optional
        Predicted metric (a fraction; higher is better). Default: the
        benchmark's default — ``val_acc`` when modelled, else the task's only
        quality metric (``test_acc`` for a benchmark fitted on the NB201 table).
    epoch : int, optional
        Training epoch to predict (a lower fidelity); the final epoch when None.
    with_noise : bool, default=True
        Sample each value from the surrogate's noise model (as a real training
        run would vary); trial ``k`` uses noise seed ``seed * 1000003 + k``.
    time_budget : float, optional
        Simulated training seconds after which the study stops. Predicted
        runtimes are recorded whenever the benchmark has a runtime model.
    seed : int, default=0
        Base of the per-trial noise seeds.

    Raises
    ------
    SearchError
        Unknown task or metric, a non-positive time budget, or a time budget
        on a benchmark without a runtime model.
    """
    if not callable(getattr(bench, "predict", None)) or getattr(bench, "space", None) is None:
        raise SearchError(f"{type(bench).__name__} is not a benchmark (needs predict() and space); "
                          "load one with surrogate_eo.load(dir)")
    for what, value in (("task", task), ("metric", metric)):
        known = getattr(bench, what + "s", None)
        if value is not None and known is not None and value not in list(known):
            raise SearchError(f"the benchmark has no {what} {value!r}; it offers: {', '.join(map(str, known))}")
    task, metric = _default_target(bench, task, metric)
    for what, value in (("task", task), ("metric", metric)):
        known = getattr(bench, what + "s", None)
        if known is not None and value not in list(known):
            raise SearchError(f"the benchmark has no {what} {value!r}; it offers: {', '.join(map(str, known))}")
    if time_budget is not None:
        check_budget(1, time_budget)
        cost = runtime_cost(bench, task)
    else:
        try:
            cost = runtime_cost(bench, task)
        except SearchError:
            cost = None
    return BenchmarkObjective(bench, task, metric, epoch, with_noise, time_budget, seed, cost)


__all__ = ["suggest_arch", "make_objective", "BenchmarkObjective", "arch_params", "params_to_arch", "distributions"]
