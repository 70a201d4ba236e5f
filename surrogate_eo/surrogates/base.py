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

import copy
import inspect
import math
import warnings
from typing import Any, ClassVar

import numpy as np

from ..errors import NotFittedError, SurrogateEOError, SurrogateError
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
        """An unfitted, independent copy with the same parameters (``overrides`` replace some).

        The copy is deep, as scikit-learn's ``clone``: nested models (an
        ensemble's members, a multi-fidelity base) are cloned in turn and other
        values deep-copied, so fitting the copy never changes the original.
        """
        params = {k: _clone_value(v) for k, v in self.get_params().items()}
        params.update(overrides)
        return type(self)(**params)

    def validate_params(self) -> None:
        """Check every constructor argument against :data:`PARAM_RULES`; raises :class:`SurrogateError`.

        Called by ``fit`` before any library sees the values, so a bad
        hyper-parameter never surfaces as an ``XGBoostError``/``LightGBMError``.
        """
        rules = PARAM_RULES.get(self.family, {})
        for name, rule in rules.items():
            if hasattr(self, name):
                check_param(type(self).__name__, name, getattr(self, name), *rule)

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
        return Featurizer(space=getattr(self, "space"), blocks=getattr(self, "features", None), canonical=True)

    # --------------------------------------------------------------- fitting
    def fit(self, archs: BatchLike, y: Any) -> Surrogate:
        """Fit on architectures ``archs`` and targets ``y`` (NaN targets are dropped with a warning).

        Returns
        -------
        self
        """
        self.validate_params()
        featurizer = self._make_featurizer()
        batch, yy = check_training_data(get_space(featurizer.space), archs, y)
        X = featurizer.transform_valid(batch)
        fit_features(self, X, yy)
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


def _clone_value(value: Any) -> Any:
    if isinstance(value, Surrogate):
        return value.clone()
    if isinstance(value, (list, tuple)) and any(isinstance(v, Surrogate) for v in value):
        return type(value)(_clone_value(v) for v in value)
    return copy.deepcopy(value)


def fit_features(model: Surrogate, X: np.ndarray, y: np.ndarray) -> None:
    """``model._fit_X(X, y)`` after :meth:`~Surrogate.validate_params`.

    Errors of the libraries (XGBoost, LightGBM, torch) are re-raised as one-line :class:`SurrogateError`.
    """
    model.validate_params()
    try:
        model._fit_X(X, y)
    except SurrogateEOError:
        raise
    except Exception as exc:  # XGBoostError, LightGBMError, torch errors: never leak library types
        msg = " ".join(str(exc).split())[:300]
        raise SurrogateError(f"{type(model).__name__} failed to fit with parameters {model.get_params()}: "
                             f"{type(exc).__name__}: {msg}") from None


# --------------------------------------------------------- parameter rules
#: Constructor arguments checked by :meth:`Surrogate.validate_params`, per family:
#: ``name -> (kind, low, high, low_inclusive)``; kind is ``int``, ``float``, ``bool`` or ``int?``
#: (an int or None). ``high`` is inclusive; ``None`` means unbounded.
PARAM_RULES: dict[str, dict[str, tuple[str, float | None, float | None, bool]]] = {
    "xgb": {"n_estimators": ("int", 1, 100_000, True), "learning_rate": ("float", 0.0, 1.0, False),
            "max_depth": ("int", 1, 64, True), "subsample": ("float", 0.0, 1.0, False),
            "colsample_bytree": ("float", 0.0, 1.0, False), "min_child_weight": ("float", 0.0, None, True),
            "reg_lambda": ("float", 0.0, None, True), "seed": ("int", 0, None, True),
            "n_jobs": ("int", 1, 1024, True)},
    "lgb": {"n_estimators": ("int", 1, 100_000, True), "learning_rate": ("float", 0.0, 1.0, False),
            "num_leaves": ("int", 2, 131_072, True), "min_child_samples": ("int", 1, None, True),
            "subsample": ("float", 0.0, 1.0, False), "colsample_bytree": ("float", 0.0, 1.0, False),
            "reg_lambda": ("float", 0.0, None, True), "seed": ("int", 0, None, True),
            "n_jobs": ("int", 1, 1024, True)},
    "rf": {"n_estimators": ("int", 1, 100_000, True), "max_features": ("float", 0.0, 1.0, False),
           "min_samples_leaf": ("int", 1, None, True), "max_depth": ("int?", 1, None, True),
           "bootstrap": ("bool", None, None, True), "seed": ("int", 0, None, True),
           "n_jobs": ("int", 1, 1024, True)},
    "gin": {"hidden": ("int", 1, 4096, True), "layers": ("int", 1, 32, True), "epochs": ("int", 1, None, True),
            "lr": ("float", 0.0, 10.0, False), "batch_size": ("int", 1, None, True),
            "weight_decay": ("float", 0.0, None, True), "seed": ("int", 0, None, True),
            "n_threads": ("int", 1, 1024, True)},
    "gnn": {"hidden": ("int", 1, 4096, True), "layers": ("int", 1, 32, True), "epochs": ("int", 1, None, True),
            "lr": ("float", 0.0, 10.0, False), "batch_size": ("int", 2, None, True),
            "max_steps_per_epoch": ("int", 1, None, True),
            "weight_decay": ("float", 0.0, None, True), "rank_weight": ("float", 0.0, None, True),
            "pretrain_epochs": ("int", 0, None, True), "pretrain_sample": ("int", 1, 10_000_000, True),
            "seed": ("int", 0, None, True), "n_threads": ("int", 1, 1024, True)},
    "ensemble": {"n_seeds": ("int", 1, 1000, True), "bootstrap": ("bool", None, None, True),
                 "seed": ("int", 0, None, True)},
}


def check_param(owner: str, name: str, value: Any, kind: str, low: float | None, high: float | None,
                low_inclusive: bool = True) -> None:
    """Raise :class:`SurrogateError` naming ``owner.name`` unless ``value`` has ``kind`` and lies in range.

    >>> check_param("XGBSurrogate", "max_depth", 6, "int", 1, 64)
    >>> check_param("XGBSurrogate", "learning_rate", -0.1, "float", 0.0, 1.0, False)
    Traceback (most recent call last):
    ...
    surrogate_eo.errors.SurrogateError: XGBSurrogate parameter learning_rate=-0.1 is out of range: expected a number in (0.0, 1.0]; fix the value passed to the model
    """
    if kind == "int?" and value is None:
        return
    if kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise SurrogateError(f"{owner} parameter {name}={value!r} must be True or False")
        return
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    is_num = is_int or (isinstance(value, (float, np.floating)) and math.isfinite(float(value)))
    lo_br = "[" if low_inclusive else "("
    want = "an integer" if kind.startswith("int") else "a number"
    rng = f"{lo_br}{'-inf' if low is None else low}, {'inf' if high is None else high}]"
    ok = (is_int if kind.startswith("int") else is_num)
    if ok:
        v = float(value)
        ok = (low is None or (v >= low if low_inclusive else v > low)) and (high is None or v <= high)
    if not ok:
        raise SurrogateError(f"{owner} parameter {name}={value!r} is out of range: expected {want} in {rng}; "
                             f"fix the value passed to the model")


def check_choice(owner: str, name: str, value: object, allowed: tuple[str, ...]) -> None:
    """Raise a one-line :class:`SurrogateError` unless ``value`` is one of ``allowed``.

    >>> check_choice("XGBSurrogate", "target", "normal", ("raw", "normal"))
    >>> check_choice("XGBSurrogate", "target", "log", ("raw", "normal"))
    Traceback (most recent call last):
    ...
    surrogate_eo.errors.SurrogateError: XGBSurrogate parameter target='log' is invalid; expected one of raw, normal
    """
    if value not in allowed:
        raise SurrogateError(f"{owner} parameter {name}={value!r} is invalid; expected one of {', '.join(allowed)}")


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
    "gnn": ("surrogate_eo.surrogates.gnn", "GNNSurrogate"),
    "ensemble": ("surrogate_eo.surrogates.ensemble", "Ensemble"),
    "multifidelity": ("surrogate_eo.surrogates.ensemble", "MultiFidelity"),
}

#: Defaults of ``xgb+gnn``'s XGBoost member (parameters passed to the preset override them): normal-score
#: targets and shallower trees, chosen by ``evaluation/nb201_gnn_ablation.py`` (``docs/surrogates.md``).
XGB_IN_GNN_PRESET: dict[str, Any] = {"target": "normal", "max_depth": 4}
#: The two flow GNNs of ``gnn-ens`` (parameters passed to the preset go to both): the default width, and a
#: wider one that takes more, smaller steps; chosen on CIFAR-10 at 3,906 archs (``docs/surrogates.md``).
GNN_ENS_PRESET: tuple[dict[str, Any], ...] = ({}, {"hidden": 128, "max_steps_per_epoch": 16})
#: Defaults of ``xgb-zc+gnn``'s XGBoost member: ``xgb+gnn``'s, plus two data-free zero-cost proxies (the
#: ``synflow`` and ``jacov`` feature blocks, :mod:`~surrogate_eo.surrogates.proxies` and
#: :mod:`~surrogate_eo.surrogates.jacov`) held monotonically increasing, and leaves of at least 3 archs;
#: chosen on CIFAR-10 at 78 archs (``docs/surrogates.md``).
XGB_ZC_PRESET: dict[str, Any] = {**XGB_IN_GNN_PRESET, "min_child_weight": 3.0,
                                 "features": ("default", "synflow", "jacov"),
                                 "monotonic_cst": {"synflow": 1, "jacov": 1}}
#: Weights of ``gnn-ens+xgb``'s members: the two GNNs of ``gnn-ens`` and a default XGBoost with a
#: tenth of the vote; chosen on CIFAR-10 at 3,906 archs (``docs/surrogates.md``).
GNN_ENS_XGB_WEIGHTS: tuple[float, ...] = (0.45, 0.45, 0.1)
#: Preset ensembles: name -> (members as (family, defaults), seeds per member, member weights or None for
#: equal). A parameter passed to a preset goes to every member whose family takes it (over its defaults).
_PRESETS: dict[str, tuple[tuple[tuple[str, dict[str, Any]], ...], int, tuple[float, ...] | None]] = {
    "xgb-ens": ((("xgb", {}),), 5, None),
    "xgb+lgb": ((("xgb", {}), ("lgb", {})), 3, None),
    "xgb+gnn": ((("xgb", XGB_IN_GNN_PRESET), ("gnn", {})), 1, None),
    "xgb-zc+gnn": ((("xgb", XGB_ZC_PRESET), ("gnn", {})), 1, None),
    "gnn-ens": (tuple(("gnn", member) for member in GNN_ENS_PRESET), 1, None),
    "gnn-ens+xgb": ((*(("gnn", member) for member in GNN_ENS_PRESET), ("xgb", {})), 1, GNN_ENS_XGB_WEIGHTS),
}
#: Names :func:`make_model` accepts besides the families: preset ensembles.
PRESETS: tuple[str, ...] = tuple(_PRESETS)


def model_class(family: str) -> type[Surrogate]:
    """The class of a model family (a fixed table: artifacts can never name arbitrary code)."""
    import importlib

    if family not in _FAMILIES:
        raise SurrogateError(f"unknown surrogate model {family!r}; expected one of {', '.join(_FAMILIES)}")
    module, name = _FAMILIES[family]
    return getattr(importlib.import_module(module), name)


def accepted_params(name: str) -> set[str]:
    """Constructor parameters that model ``name`` (a family or a preset) passes on: those of its members.

    ``space`` and ``seed`` are left out (every model takes them from its caller).

    >>> sorted(accepted_params("xgb+gnn") - accepted_params("xgb"))[:3]
    ['batch_size', 'epochs', 'hidden']
    """
    return {p for family in _families(name) for p in model_class(family)._param_names()} - {"space", "seed"}


def _families(name: str) -> tuple[str, ...]:
    """The distinct member families of preset ``name`` (``(name,)`` for a family)."""
    return tuple(dict.fromkeys(family for family, _ in _PRESETS[name][0])) if name in _PRESETS else (name,)


def _check_params(name: str, params: dict[str, Any]) -> None:
    """Raise a one-line :class:`SurrogateError` for a parameter no member of preset ``name`` takes."""
    accepted = accepted_params(name)
    unknown = [k for k in params if k not in accepted]
    if unknown:
        raise SurrogateError(f"{name}: no member ({' nor '.join(_families(name))}) takes parameter "
                             f"{unknown[0]!r}; accepted: {', '.join(sorted(accepted))}")


def make_model(name: str, space: str, seed: int = 0, **params: Any) -> Surrogate:
    """A model by name: ``xgb``, ``lgb``, ``rf``, ``gin``, or a preset ensemble.

    Presets: ``xgb-ens`` (5 XGBoost seeds), ``xgb+lgb`` (3 seeds each of
    XGBoost and LightGBM), ``xgb+gnn`` (XGBoost on normal scores with
    depth-4 trees, :data:`XGB_IN_GNN_PRESET`, and the flow GNN; mean of the
    two), ``xgb-zc+gnn`` (the same with the zero-cost proxies ``synflow`` and ``jacov`` as
    monotone XGBoost features, :data:`XGB_ZC_PRESET`), ``gnn-ens`` (two flow GNNs of widths 64 and 128,
    :data:`GNN_ENS_PRESET`; mean of the two) and ``gnn-ens+xgb`` (those two GNNs
    and a default XGBoost, weighted :data:`GNN_ENS_XGB_WEIGHTS`). ``params`` go to the base
    model(s); in a preset each member takes the ones its family knows
    (:func:`accepted_params`), and one no member takes is a :class:`SurrogateError`.
    Which model wins at which training-set size on NB201 is in the generated
    table of ``docs/surrogates.md``.
    """
    if name in _PRESETS:
        from .ensemble import Ensemble

        members, n_seeds, weights = _PRESETS[name]
        _check_params(name, params)
        built = []
        for family, defaults in members:
            cls = model_class(family)
            built.append(cls(space=space, **copy.deepcopy({**defaults, **{k: v for k, v in params.items()
                                                                          if k in cls._param_names()}})))
        return Ensemble(members=built, n_seeds=n_seeds, weights=None if weights is None else list(weights),
                        seed=seed)
    if name == "auto":
        raise SurrogateError("model 'auto' chooses by cross-validation on training data: pass model='auto' to "
                             "fit_benchmark / `surrogate-eo fit --model auto`, or call surrogates.auto.select_model")
    if name in ("ensemble", "multifidelity"):
        raise SurrogateError(f"model {name!r} wraps other models; build it in Python or use a preset: {PRESETS}")
    try:
        cls = model_class(name)
    except SurrogateError:
        raise SurrogateError(
            f"unknown surrogate model {name!r}; expected one of xgb, lgb, rf, gin, gnn, {', '.join(PRESETS)}, auto"
        ) from None
    return cls(space=space, seed=seed, **params)
