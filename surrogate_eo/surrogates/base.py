"""The estimator contract shared by every surrogate model.

A surrogate maps architectures of one search space to a number (a metric as
a fraction, or log-seconds for runtime models):

- ``__init__`` is keyword-only and only stores its arguments;
- ``fit(archs, y)`` validates, featurises and returns ``self``;
- learned state ends in ``_`` (``featurizer_``, ``booster_``, …);
- ``predict(archs)`` raises :class:`~surrogate_eo.errors.NotFittedError` before ``fit``;
- ``get_params()`` / ``set_params(**p)`` read and write the constructor arguments.

Feature-based models (trees, forests, ensembles of them) also implement the
feature-level hooks ``_fit_X(X, y)`` / ``_predict_X(X)``, which ensembles and
the multi-fidelity wrapper use to featurise once for many members.
"""
from __future__ import annotations

import inspect
import warnings
from typing import Any, ClassVar

import numpy as np

from ..errors import NotFittedError, SurrogateError
from ..spaces import SearchSpace, get_space
from ..spaces.base import BatchLike
from .features import Featurizer


class SurrogateWarning(UserWarning):
    """Something about the training data the user should know (e.g. dropped NaN targets)."""


class Surrogate:
    """Base class of every surrogate model; see the module docstring for the contract.

    Subclasses set :attr:`family` (the name used by :func:`make_model` and in
    artifacts) and implement ``_fit_X``/``_predict_X`` (feature models) or
    override :meth:`fit`/:meth:`predict` (graph models).
    """

    family: ClassVar[str] = ""
    #: Whether the model works on the flat feature matrix (trees) or needs its own encoding (GIN).
    uses_features: ClassVar[bool] = True

    # ------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY]

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """Constructor arguments as a dict (``deep`` is accepted for scikit-learn compatibility)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Surrogate:
        """Set constructor arguments; unknown names raise :class:`SurrogateError` listing the valid ones."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise SurrogateError(
                    f"{type(self).__name__} has no parameter {key!r}; valid parameters: {', '.join(valid)}"
                )
            setattr(self, key, value)
        return self

    def clone(self, **overrides: Any) -> Surrogate:
        """An unfitted copy with the same parameters (``overrides`` replace some)."""
        params = self.get_params()
        params.update(overrides)
        return type(self)(**params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ----------------------------------------------------------------- state
    @property
    def is_fitted(self) -> bool:
        """True once :meth:`fit` has run."""
        return getattr(self, "featurizer_", None) is not None

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(archs, y) before predict()"
            )

    def _make_featurizer(self) -> Featurizer:
        return Featurizer(space=getattr(self, "space"), blocks=getattr(self, "features", None))

    # --------------------------------------------------------------- fitting
    def fit(self, archs: BatchLike, y: Any) -> Surrogate:
        """Fit on architectures ``archs`` and targets ``y`` (NaN targets are dropped with a warning).

        Returns
        -------
        self
        """
        featurizer = self._make_featurizer()
        batch, yy = check_training_data(get_space(featurizer.space), archs, y)
        X = featurizer.transform_valid(batch)
        self._fit_X(X, yy)
        self.featurizer_ = featurizer
        self.n_train_ = len(yy)
        return self

    def predict(self, archs: BatchLike) -> np.ndarray:
        """Predicted targets for ``archs``, shape ``(n,)`` float64 (a batch even for one arch)."""
        self._check_fitted()
        batch = get_space(self.featurizer_.space).validate(archs)
        return self._predict_X(self.featurizer_.transform_valid(batch))

    def _fit_X(self, X: np.ndarray, y: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_X(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


# ------------------------------------------------------------------ checks
def check_targets(y: Any, n: int | None = None, what: str = "y") -> np.ndarray:
    """``y`` as a 1-D float64 array; raises :class:`SurrogateError` on a bad shape or length."""
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SurrogateError(f"targets {what} must be numbers; {exc}") from None
    if arr.ndim != 1:
        raise SurrogateError(f"targets {what} must be 1-D (one value per architecture); got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise SurrogateError(f"got {n} architectures but {len(arr)} targets {what}; they must match one to one")
    return arr


def check_training_data(space: SearchSpace, archs: BatchLike, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a training set: drop NaN targets (warning with a count), refuse empty or constant data."""
    batch = space.validate(archs)
    yy = check_targets(y, len(batch))
    finite = np.isfinite(yy)
    if not finite.all():
        n_bad = int((~finite).sum())
        warnings.warn(
            f"dropped {n_bad} of {len(yy)} training targets that are NaN or infinite", SurrogateWarning,
            stacklevel=3,
        )
        batch, yy = batch[finite], yy[finite]
    if len(yy) < 2:
        raise SurrogateError(
            f"a surrogate needs at least 2 training architectures with finite targets; got {len(yy)}"
        )
    if np.ptp(yy) == 0:
        raise SurrogateError(
            f"all {len(yy)} training targets equal {yy[0]!r}; a surrogate cannot learn from constant targets"
        )
    return batch, yy


# ---------------------------------------------------------------- registry
#: Model families by name; ``gin`` is imported lazily (it needs torch).
_FAMILIES: dict[str, tuple[str, str]] = {
    "xgb": ("surrogate_eo.surrogates.trees", "XGBSurrogate"),
    "lgb": ("surrogate_eo.surrogates.trees", "LGBSurrogate"),
    "rf": ("surrogate_eo.surrogates.forest", "RFSurrogate"),
    "gin": ("surrogate_eo.surrogates.gin", "GINSurrogate"),
    "ensemble": ("surrogate_eo.surrogates.ensemble", "Ensemble"),
    "multifidelity": ("surrogate_eo.surrogates.ensemble", "MultiFidelity"),
}

#: Names :func:`make_model` accepts besides the families: preset ensembles.
PRESETS: tuple[str, ...] = ("xgb-ens", "xgb+lgb")


def model_class(family: str) -> type[Surrogate]:
    """The class of a model family (a fixed table: artifacts can never name arbitrary code)."""
    import importlib

    if family not in _FAMILIES:
        raise SurrogateError(f"unknown surrogate model {family!r}; expected one of {', '.join(_FAMILIES)}")
    module, name = _FAMILIES[family]
    return getattr(importlib.import_module(module), name)


def make_model(name: str, space: str, seed: int = 0, **params: Any) -> Surrogate:
    """A model by name: ``xgb``, ``lgb``, ``rf``, ``gin``, or a preset ensemble.

    Presets: ``xgb-ens`` (5 XGBoost seeds) and ``xgb+lgb`` (3 seeds each of
    XGBoost and LightGBM; the best on NB201). ``params`` go to the base model(s);
    for ``xgb+lgb`` each member takes the ones it knows.
    """
    from .ensemble import Ensemble
    from .trees import LGBSurrogate, XGBSurrogate

    if name == "xgb-ens":
        return Ensemble(members=[XGBSurrogate(space=space, **params)], n_seeds=5, seed=seed)
    if name == "xgb+lgb":
        classes = (XGBSurrogate, LGBSurrogate)
        unknown = [k for k in params if not any(k in c._param_names() for c in classes)]
        if unknown:
            raise SurrogateError(f"xgb+lgb: neither XGBoost nor LightGBM takes parameter {unknown[0]!r}")
        members = [c(space=space, **{k: v for k, v in params.items() if k in c._param_names()}) for c in classes]
        return Ensemble(members=members, n_seeds=3, seed=seed)
    if name in ("ensemble", "multifidelity"):
        raise SurrogateError(f"model {name!r} wraps other models; build it in Python or use a preset: {PRESETS}")
    try:
        cls = model_class(name)
    except SurrogateError:
        raise SurrogateError(
            f"unknown surrogate model {name!r}; expected one of xgb, lgb, rf, gin, {', '.join(PRESETS)}"
        ) from None
    return cls(space=space, seed=seed, **params)
