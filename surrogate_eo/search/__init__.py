"""Search on the benchmark: baseline optimisers, the Optuna bridge, trajectories and trajectory fidelity.

- :func:`random_search`, :func:`regularized_evolution`, :func:`local_search`,
  :func:`tpe` (or :func:`run_optimizer` by name) over any fitness source;
  each returns a :class:`Trajectory`.
- :func:`suggest_arch` / :func:`make_objective`: one line from Optuna to the benchmark.
- :func:`compare_optimizers`: run every optimiser on the ground truth and on a
  surrogate and test whether they rank the optimisers alike.
- ConfigSpace users: ``space.to_configspace()`` (see :mod:`surrogate_eo.spaces`).
"""
from __future__ import annotations

from ._core import Domain, Evaluator, TabulatedSource, runtime_cost
from .compare import Comparison, compare_optimizers
from .optimisers import (
    OPTIMIZERS,
    get_optimizer,
    hyperparameters,
    local_search,
    random_search,
    regularized_evolution,
    run_optimizer,
    tpe,
)
from .optuna_bridge import BenchmarkObjective, make_objective, suggest_arch
from .trajectory import Trajectory

__all__ = [
    "OPTIMIZERS", "BenchmarkObjective", "Comparison", "Domain", "Evaluator", "TabulatedSource", "Trajectory",
    "compare_optimizers", "get_optimizer", "hyperparameters", "local_search", "make_objective", "random_search",
    "regularized_evolution", "run_optimizer", "runtime_cost", "suggest_arch", "tpe",
]
