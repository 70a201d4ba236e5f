"""Baseline NAS optimisers over any fitness source: random search, regularised evolution, local search, TPE.

Every optimiser maximises ``source.fitness(archs)`` (fractions) and shares one signature::

    optimiser(source, budget, *, seed=None, cost=None, time_budget=None, candidates=None,
              progress=None, **hyper) -> Trajectory

- ``source``: anything with ``space`` and ``fitness(archs)`` — a reference
  table (:class:`~surrogate_eo.reference.TableSource`), a surrogate benchmark
  (``landscape.sources.BenchmarkSource``), the ground-truth database
  (``DatabaseSource``; the search then stays on the archs it holds).
- ``budget``: number of evaluations (repeats count; local search reuses what it has seen).
- ``cost`` / ``time_budget``: a cost model (simulated training seconds per
  arch, e.g. :func:`~surrogate_eo.search.runtime_cost`) and a budget in
  simulated seconds; the run stops at whichever budget is reached first.
- ``candidates``: restrict the search to these archs.
- Same seed, same trajectory.

Batching: random search proposes its whole sample at once; regularised
evolution can breed ``batch_size`` children per step (the asynchronous,
many-worker form of Real et al.); local search evaluates whole
neighbourhoods in one call; TPE asks ``batch_size`` trials at once (with a
constant liar). ``batch_size=1`` gives the sequential algorithms.
"""
from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..errors import SearchError
from ..landscape.sources import FitnessSource
from ..spaces.base import BatchLike
from ._core import CostFn, Domain, Evaluator
from .trajectory import Trajectory

Progress = Callable[[int], None]


def _positive(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise SearchError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _setup(source: FitnessSource, budget: int, seed: Any, cost: CostFn | None, time_budget: float | None,
           candidates: BatchLike | None, progress: Progress | None) -> tuple[Evaluator, Domain, np.random.Generator]:
    ev = Evaluator(source, budget, cost=cost, time_budget=time_budget, progress=progress)
    return ev, Domain.of(source, candidates), np.random.default_rng(seed)


def random_search(source: FitnessSource, budget: int, *, seed: int | None = None, cost: CostFn | None = None,
                  time_budget: float | None = None, candidates: BatchLike | None = None,
                  progress: Progress | None = None, batch_size: int = 100) -> Trajectory:
    """Random search: distinct archs drawn uniformly (without replacement), evaluated in batches.

    Parameters
    ----------
    batch_size : int, default=100
        Archs per ``fitness`` call (the result does not depend on it).

    Returns
    -------
    Trajectory
    """
    batch_size = _positive("batch_size", batch_size)
    ev, dom, rng = _setup(source, budget, seed, cost, time_budget, candidates, progress)
    archs = dom.sample(ev.budget, rng, replace=False)
    for i in range(0, len(archs), batch_size):
        ev.evaluate(archs[i:i + batch_size])
        if ev.done:
            break
    if not ev.done:
        ev.exhaust()
    return ev.trajectory("rs", seed, {"batch_size": batch_size})


def regularized_evolution(source: FitnessSource, budget: int, *, seed: int | None = None, cost: CostFn | None = None,
                          time_budget: float | None = None, candidates: BatchLike | None = None,
                          progress: Progress | None = None, population_size: int = 20, sample_size: int = 5,
                          batch_size: int = 1) -> Trajectory:
    """Regularised (aging) evolution, Real et al. (AAAI 2019).

    A population of ``population_size`` random archs; then, repeatedly, a
    tournament of ``sample_size`` members drawn without replacement picks the
    fittest as parent, its mutation (one random choice changed) is evaluated
    and joins the population, and the *oldest* member dies.

    Parameters
    ----------
    population_size : int, default=20
    sample_size : int, default=5
        Tournament size, ``1 <= sample_size <= population_size``.
    batch_size : int, default=1
        Children bred from the same population before it is updated (1: the
        sequential algorithm; more: the asynchronous many-worker variant).

    Returns
    -------
    Trajectory
    """
    population_size = _positive("population_size", population_size)
    sample_size = _positive("sample_size", sample_size)
    batch_size = _positive("batch_size", batch_size)
    if sample_size > population_size:
        raise SearchError(f"sample_size ({sample_size}) must not exceed population_size ({population_size})")
    ev, dom, rng = _setup(source, budget, seed, cost, time_budget, candidates, progress)
    pop = dom.sample(population_size, rng)
    fit = ev.evaluate(pop)
    pop = pop[:len(fit)]
    while not ev.done:
        b = min(batch_size, ev.remaining)
        # b tournaments at once: the first sample_size entries of a random permutation per row
        members = np.argsort(rng.random((b, len(pop))), axis=1)[:, :sample_size]
        winners = members[np.arange(b), np.argmax(fit[members], axis=1)]
        children = dom.mutate(pop[winners], rng)
        v = ev.evaluate(children)
        pop = np.concatenate([pop, children[:len(v)]])[len(v):]
        fit = np.concatenate([fit, v])[len(v):]
    params = {"population_size": population_size, "sample_size": sample_size, "batch_size": batch_size}
    return ev.trajectory("re", seed, params)


def _fresh_start(dom: Domain, ev: Evaluator, rng: np.random.Generator) -> np.ndarray | None:
    """A random in-domain arch not evaluated yet in this run (None when every arch has been)."""
    draws = dom.sample(64, rng)
    new = np.flatnonzero(np.isnan(ev.known(draws)))
    if len(new):
        return draws[new[0]]
    if dom.size <= 2_000_000:
        keys = dom.keys if dom.restricted else np.arange(dom.size)
        allarchs = dom.space.from_index(keys)
        left = np.flatnonzero(np.isnan(ev.known(allarchs)))
        return allarchs[left[rng.integers(len(left))]] if len(left) else None
    return draws[0]  # pragma: no cover - a huge space with 64 seen draws in a row


def local_search(source: FitnessSource, budget: int, *, seed: int | None = None, cost: CostFn | None = None,
                 time_budget: float | None = None, candidates: BatchLike | None = None,
                 progress: Progress | None = None) -> Trajectory:
    """Best-improvement local search (hill climbing) with random restarts.

    From a random arch not seen before, evaluate its whole neighbourhood (one
    batched call; neighbours seen earlier in the run are reused, not
    re-evaluated), move to the best neighbour if it is strictly better, and
    restart from a fresh random arch at a local optimum. When the budget runs
    out inside a neighbourhood, a random subset of it has been evaluated.

    Returns
    -------
    Trajectory
        ``params["local_optima"]`` counts the local optima reached.
    """
    ev, dom, rng = _setup(source, budget, seed, cost, time_budget, candidates, progress)
    optima = 0
    while not ev.done:
        current = _fresh_start(dom, ev, rng)
        if current is None:
            ev.exhaust()
            break
        f_cur = ev.evaluate(current[None, :])
        if not len(f_cur):
            break
        f_cur = float(f_cur[0])
        while not ev.done:
            nb = dom.neighbours(current)
            nb = nb[rng.permutation(len(nb))]
            vals = ev.known(nb)
            new = np.flatnonzero(np.isnan(vals))
            got = ev.evaluate(nb[new])
            vals[new[:len(got)]] = got
            if len(got) < len(new):
                break
            if len(vals) and vals.max() > f_cur:
                k = int(np.argmax(vals))
                current, f_cur = nb[k], float(vals[k])
            else:
                optima += 1
                break
    return ev.trajectory("ls", seed, {"local_optima": optima})


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[Any]:
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield optuna
    finally:
        optuna.logging.set_verbosity(level)


def tpe(source: FitnessSource, budget: int, *, seed: int | None = None, cost: CostFn | None = None,
        time_budget: float | None = None, candidates: BatchLike | None = None,
        progress: Progress | None = None, n_startup_trials: int = 10, multivariate: bool = True,
        batch_size: int = 1) -> Trajectory:
    """Optuna's Tree-structured Parzen Estimator through :func:`~surrogate_eo.search.suggest_arch`.

    Parameters
    ----------
    n_startup_trials : int, default=10
        Random trials before TPE takes over.
    multivariate : bool, default=True
        Model the positions jointly (Optuna's multivariate TPE).
    batch_size : int, default=1
        Trials asked before their results are told (``constant_liar`` when > 1).

    Notes
    -----
    On a restricted domain (a database source) each suggestion is snapped to
    the nearest held arch and that arch is what TPE is told it tried.

    Returns
    -------
    Trajectory
    """
    from .optuna_bridge import arch_params, distributions, suggest_arch

    n_startup_trials = _positive("n_startup_trials", n_startup_trials, 0)
    batch_size = _positive("batch_size", batch_size)
    ev, dom, rng = _setup(source, budget, seed, cost, time_budget, candidates, progress)
    space = dom.space
    dists = distributions(space)
    with _quiet_optuna() as optuna:
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials,
                                             multivariate=multivariate, constant_liar=batch_size > 1)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        while not ev.done:
            trials = [study.ask() for _ in range(min(batch_size, ev.remaining))]
            asked = np.stack([suggest_arch(t, space) for t in trials])
            archs = np.stack([dom.snap(a, rng) for a in asked]) if dom.restricted else asked
            values = ev.evaluate(archs)
            for i, t in enumerate(trials):
                if i >= len(values):
                    study.tell(t, state=optuna.trial.TrialState.FAIL)
                elif (archs[i] == asked[i]).all():
                    study.tell(t, float(values[i]))
                else:
                    study.tell(t, state=optuna.trial.TrialState.FAIL)
                    study.add_trial(optuna.trial.create_trial(params=arch_params(space, archs[i]),
                                                              distributions=dists, value=float(values[i])))
    params = {"n_startup_trials": n_startup_trials, "multivariate": multivariate, "batch_size": batch_size}
    return ev.trajectory("tpe", seed, params)


#: Optimisers by their short name (the CLI's ``--optimizer``).
OPTIMIZERS: dict[str, Callable[..., Trajectory]] = {
    "rs": random_search,
    "re": regularized_evolution,
    "ls": local_search,
    "tpe": tpe,
}

_COMMON = ("seed", "cost", "time_budget", "candidates", "progress")


def get_optimizer(name: str) -> Callable[..., Trajectory]:
    """The optimiser function called ``name`` (``rs``, ``re``, ``ls``, ``tpe``)."""
    if name not in OPTIMIZERS:
        raise SearchError(f"unknown optimiser {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name]


def hyperparameters(name: str) -> dict[str, Any]:
    """The tunable hyper-parameters of optimiser ``name`` with their defaults."""
    sig = inspect.signature(get_optimizer(name))
    return {p.name: p.default for p in sig.parameters.values()
            if p.kind == p.KEYWORD_ONLY and p.name not in _COMMON}


def run_optimizer(name: str, source: FitnessSource, budget: int, **kwargs: Any) -> Trajectory:
    """Run optimiser ``name`` on ``source``; ``kwargs`` are the common options and its hyper-parameters.

    Raises :class:`SearchError` for an unknown optimiser or hyper-parameter.

    >>> from surrogate_eo.landscape.sources import table_source
    >>> from surrogate_eo.reference import load_nb201
    >>> source = table_source(load_nb201(), "CIFAR10TestAccuracy200Epochs")
    >>> traj = run_optimizer("re", source, budget=100, seed=0)
    >>> len(traj), round(float(traj.best_fitness), 4)
    (100, 0.9405)
    """
    fn = get_optimizer(name)
    allowed = set(hyperparameters(name)) | set(_COMMON)
    bad = sorted(set(kwargs) - allowed)
    if bad:
        hyper = ", ".join(hyperparameters(name)) or "none"
        raise SearchError(f"optimiser {name!r} has no option {bad[0]!r}; its hyper-parameters: {hyper}")
    return fn(source, budget, **kwargs)


__all__ = ["random_search", "regularized_evolution", "local_search", "tpe", "OPTIMIZERS", "get_optimizer",
           "hyperparameters", "run_optimizer"]
