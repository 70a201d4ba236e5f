"""Hyperparameter tuning with Optuna (TPE) and k-fold cross-validation on the training archs.

Each model class declares its search space as ``suggest_params(trial)``;
:func:`tune` maximises mean Kendall τ (or minimises RMSE) over ``cv`` folds
and returns a :class:`TuningResult` that is saved beside the artifact
(``tuning.json``). :func:`tune_model` also handles ensembles (each member
template is tuned on its own, then re-seeded).
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import SurrogateError
from ..spaces import get_space
from ..spaces.base import BatchLike
from .base import Surrogate, check_training_data
from .metrics import kendall_tau_score, root_mean_squared_error
from .splits import kfold

OBJECTIVES = {"kendall_tau": ("maximize", kendall_tau_score), "rmse": ("minimize", root_mean_squared_error)}


@dataclass
class TuningResult:
    """Outcome of :func:`tune`: best parameters, their CV score, and every trial."""

    family: str
    objective: str
    direction: str
    n_trials: int
    cv: int
    seed: int
    best_params: dict[str, Any]
    best_value: float
    default_value: float
    trials: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _cv_score(model: Surrogate, batch: np.ndarray, X: np.ndarray | None, y: np.ndarray,
              folds: list[tuple[np.ndarray, np.ndarray]], score: Any) -> float:
    values = []
    for tr, te in folds:
        if X is not None:
            model._fit_X(X[tr], y[tr])
            pred = model._predict_X(X[te])
        else:
            pred = model.fit(batch[tr], y[tr]).predict(batch[te])
        values.append(score(y[te], pred))
    return float(np.mean(values))


def tune(model: Surrogate, archs: BatchLike, y: Any, *, n_trials: int = 20, cv: int = 3,
         objective: str = "kendall_tau", seed: int = 0, progress: bool = False) -> TuningResult:
    """Search ``model``'s hyperparameters with TPE; the first trial is the model's current parameters
    (even where they lie outside the search ranges), so ``default_value`` is the untuned score.

    Parameters
    ----------
    model : Surrogate
        A single-family model (xgb, lgb, rf, gin); it is not modified.
    archs, y : training architectures and targets.
    n_trials : int, default=20
    cv : int, default=3
        Folds of the k-fold split of the training archs.
    objective : {"kendall_tau", "rmse"}
    seed : int, default=0
        Seeds the folds and the TPE sampler.
    progress : bool, default=False
        Show a rich progress bar.
    """
    import optuna

    if objective not in OBJECTIVES:
        raise SurrogateError(f"unknown tuning objective {objective!r}; expected one of {', '.join(OBJECTIVES)}")
    if not hasattr(model, "suggest_params"):
        raise SurrogateError(f"{type(model).__name__} has no search space; tune its members with tune_model()")
    if int(n_trials) < 1:
        raise SurrogateError(f"n_trials must be >= 1; got {n_trials}")
    direction, score = OBJECTIVES[objective]
    batch, yy = check_training_data(get_space(model.space), archs, y)  # type: ignore[attr-defined]
    folds = kfold(len(yy), cv, seed=seed)
    X = model._make_featurizer().transform_valid(batch) if model.uses_features else None
    defaults = model.get_params()

    def run(trial: optuna.Trial) -> float:
        params = model.suggest_params(trial)  # type: ignore[attr-defined]
        return _cv_score(model.clone(**params), batch, X, yy, folds, score)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=int(seed)))
    rec = _Recorder()
    model.suggest_params(rec)  # type: ignore[attr-defined]
    study.enqueue_trial({k: defaults[k] for k in rec.names if k in defaults and rec.representable(k, defaults[k])})
    with warnings.catch_warnings():  # the enqueued defaults may lie outside the search ranges: that is intended
        warnings.filterwarnings("ignore", message="Fixed parameter .* out of range", category=UserWarning)
        if progress:
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task(f"tuning {model.family}", total=int(n_trials))
                study.optimize(run, n_trials=int(n_trials), callbacks=[lambda s, t: bar.advance(task)])
        else:
            study.optimize(run, n_trials=int(n_trials))
    trials = [{"number": t.number, "value": t.value, "params": t.params} for t in study.trials]
    return TuningResult(
        family=model.family, objective=objective, direction=direction, n_trials=int(n_trials), cv=int(cv),
        seed=int(seed), best_params=dict(study.best_params), best_value=float(study.best_value),
        default_value=float(trials[0]["value"]), trials=trials,
    )


class _Recorder:
    """A fake trial that lists a search space's parameter names and which of them are log-scaled."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.log: set[str] = set()

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False, **_: Any) -> int:
        self.names.append(name)
        if log:
            self.log.add(name)
        return low

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False, **_: Any) -> float:
        return self.suggest_int(name, low, high, log=log)  # type: ignore[arg-type,return-value]

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        self.names.append(name)
        return choices[0]

    def representable(self, name: str, value: Any) -> bool:
        """Optuna can enqueue ``value`` (log-scaled parameters need a positive number)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return name not in self.log
        return name not in self.log or value > 0


def tune_model(model: Surrogate, archs: BatchLike, y: Any, **kwargs: Any) -> tuple[Surrogate, list[TuningResult]]:
    """Tune ``model`` (or each member template of an Ensemble); return the tuned, unfitted model and results."""
    from .ensemble import Ensemble

    if isinstance(model, Ensemble):
        results = [tune(m, archs, y, **kwargs) for m in model.members]
        members = [m.clone(**r.best_params) for m, r in zip(model.members, results)]
        return model.clone(members=members), results
    result = tune(model, archs, y, **kwargs)
    return model.clone(**result.best_params), [result]
