"""Gradient-boosted trees: XGBoost and LightGBM surrogates.

Both work on the flat feature matrix of :class:`~surrogate_eo.surrogates.features.Featurizer`
and save their boosters in the libraries' own data formats (XGBoost UBJSON,
LightGBM model text), which load without executing anything.

>>> from surrogate_eo.spaces import get_space
>>> space = get_space("nb201")
>>> archs = space.sample(200, seed=0)
>>> y = (archs == 3).sum(axis=1) / 6.0          # toy target: share of 3x3 convs
>>> model = XGBSurrogate(space="nb201", n_estimators=50).fit(archs, y)
>>> bool(abs(model.predict(archs[:1])[0] - y[0]) < 0.1)
True
"""
from __future__ import annotations

import difflib
from typing import Any, ClassVar

import numpy as np

from . import _compiled
from ..errors import SurrogateError
from .base import Surrogate, check_choice
from .targets import from_normal_scores, knots_state, normal_score_knots, read_knots, to_normal_scores


def check_monotonic(owner: str, cst: Any) -> None:
    """Raise a one-line :class:`SurrogateError` unless ``cst`` is None or ``{feature name: -1 | 0 | 1}``."""
    if cst is None:
        return
    ok = isinstance(cst, dict) and all(isinstance(k, str) and not isinstance(v, bool) and v in (-1, 0, 1)
                                       for k, v in cst.items())
    if not ok:
        raise SurrogateError(f"{owner}: monotonic_cst must map feature names to -1, 0 or 1, got {cst!r}")


def monotonic_vector(owner: str, cst: dict[str, int], names: list[str], n_cols: int) -> list[int]:
    """One constraint per column of an ``n_cols``-wide matrix whose first columns are ``names`` (others: 0)."""
    where = {n: i for i, n in enumerate(names)}
    out = [0] * n_cols
    for name, sign in cst.items():
        if name not in where:
            close = difflib.get_close_matches(name, names, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else \
                " (the zero-cost proxies are the 'synflow' and 'jacov' blocks: features=('default', 'synflow'))"
            raise SurrogateError(f"{owner}: monotonic_cst names feature {name!r}, which the features lack{hint}")
        out[where[name]] = int(sign)
    return out


class XGBSurrogate(Surrogate):
    """XGBoost regression surrogate (``hist`` trees, squared error).

    Parameters
    ----------
    space : str, default="eo"
        Search space of the architectures.
    features : tuple of str or None, default=None
        Feature blocks (``None``: the space's defaults, see :func:`~surrogate_eo.surrogates.features.default_blocks`;
        the entry ``"default"`` stands for them, e.g. ``("default", "synflow")`` adds the zero-cost proxy).
    n_estimators : int, default=500
        Boosting rounds.
    learning_rate : float, default=0.05
    max_depth : int, default=6
    subsample : float, default=0.8
        Row fraction per tree.
    colsample_bytree : float, default=0.8
        Feature fraction per tree.
    min_child_weight : float, default=1.0
    reg_lambda : float, default=1.0
        L2 penalty on leaf weights.
    seed : int, default=0
    n_jobs : int, default=1
        Threads for fitting and prediction.
    target : {"raw", "normal"}, default="raw"
        Fit the targets as given, or their normal scores (:mod:`~surrogate_eo.surrogates.targets`;
        predictions map back to target units). ``xgb+gnn``'s XGBoost member uses ``"normal"``
        with ``max_depth=4``, chosen by ``evaluation/nb201_gnn_ablation.py``.
    monotonic_cst : dict of str to int or None, default=None
        Monotonic constraints by feature name, as in scikit-learn's
        ``HistGradientBoostingRegressor``: 1 increasing, -1 decreasing, 0 or absent
        unconstrained, e.g. ``{"synflow": 1}`` with ``features=("default", "synflow")``
        (the ``xgb-zc+gnn`` preset). A name the features lack is a ``SurrogateError``.

    Attributes
    ----------
    booster_ : xgboost.Booster
    knots_ : (ndarray, ndarray) or None
        Knots ``(z, y)`` of the normal-score map (``target="normal"``), saved with the artifact.
    featurizer_ : Featurizer
    n_train_ : int
    """

    family: ClassVar[str] = "xgb"
    #: Values of ``target``.
    TARGETS: ClassVar[tuple[str, ...]] = ("raw", "normal")

    def __init__(self, *, space: str = "eo", features: tuple[str, ...] | None = None, n_estimators: int = 500,
                 learning_rate: float = 0.05, max_depth: int = 6, subsample: float = 0.8,
                 colsample_bytree: float = 0.8, min_child_weight: float = 1.0, reg_lambda: float = 1.0,
                 seed: int = 0, n_jobs: int = 1, target: str = "raw",
                 monotonic_cst: dict[str, int] | None = None) -> None:
        self.space = space
        self.features = features
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.seed = seed
        self.n_jobs = n_jobs
        self.target = target
        self.monotonic_cst = monotonic_cst

    def validate_params(self) -> None:
        """:data:`~surrogate_eo.surrogates.base.PARAM_RULES` and ``target`` in :data:`TARGETS`."""
        super().validate_params()
        check_choice(type(self).__name__, "target", self.target, self.TARGETS)
        check_monotonic(type(self).__name__, self.monotonic_cst)

    def _fit_X(self, X: np.ndarray, y: np.ndarray) -> None:
        import xgboost as xgb

        self.knots_ = normal_score_knots(y) if self.target == "normal" else None
        if self.knots_ is not None:
            y = to_normal_scores(y, self.knots_)

        params = {
            "objective": "reg:squarederror", "tree_method": "hist", "eta": float(self.learning_rate),
            "max_depth": int(self.max_depth), "subsample": float(self.subsample),
            "colsample_bytree": float(self.colsample_bytree), "min_child_weight": float(self.min_child_weight),
            "lambda": float(self.reg_lambda), "seed": int(self.seed), "nthread": int(self.n_jobs),
            "verbosity": 0,
        }
        if self.monotonic_cst:
            cst = monotonic_vector(type(self).__name__, self.monotonic_cst, self._make_featurizer().feature_names,
                                   X.shape[1])
            params["monotone_constraints"] = "(" + ",".join(map(str, cst)) + ")"
        self.booster_ = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=int(self.n_estimators))

    def _predict_X(self, X: np.ndarray) -> np.ndarray:
        fast = _compiled.small_batch(self, X)  # small batches: exported trees, no library call (raw targets)
        if fast is not None:
            return fast
        raw = np.asarray(self.booster_.inplace_predict(X), dtype=np.float64)
        knots = getattr(self, "knots_", None)
        return raw if knots is None else from_normal_scores(raw, knots)

    # artifacts ---------------------------------------------------------------
    def _save_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        state: dict[str, Any] = {"n_features": int(self.booster_.num_features())}
        state.update(knots_state(getattr(self, "knots_", None)))
        return state, {"booster.ubj": bytes(self.booster_.save_raw("ubj"))}

    def _load_state(self, state: dict[str, Any], files: dict[str, bytes]) -> None:
        import xgboost as xgb

        self.knots_ = read_knots(state, type(self).__name__) if self.target == "normal" else None
        booster = xgb.Booster()
        booster.load_model(bytearray(files["booster.ubj"]))
        booster.set_param({"nthread": int(self.n_jobs)})
        self.booster_ = booster

    def _n_model_features(self) -> int:
        return int(self.booster_.num_features())

    @staticmethod
    def suggest_params(trial: Any) -> dict[str, Any]:
        """Optuna search space (used by :func:`~surrogate_eo.surrogates.tuning.tune`)."""
        return {
            "n_estimators": trial.suggest_int("n_estimators", 100, 1200, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 10),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20.0, log=True),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        }


class LGBSurrogate(Surrogate):
    """LightGBM regression surrogate (leaf-wise trees, squared error).

    Parameters
    ----------
    space : str, default="eo"
    features : tuple of str or None, default=None
    n_estimators : int, default=500
    learning_rate : float, default=0.05
    num_leaves : int, default=15
    min_child_samples : int, default=3
        Small on purpose: surrogates often see only ~100 training archs.
    subsample : float, default=0.8
    colsample_bytree : float, default=0.8
    reg_lambda : float, default=0.0
    seed : int, default=0
    n_jobs : int, default=1

    Attributes
    ----------
    booster_ : lightgbm.Booster
    featurizer_ : Featurizer
    n_train_ : int
    """

    family: ClassVar[str] = "lgb"

    def __init__(self, *, space: str = "eo", features: tuple[str, ...] | None = None, n_estimators: int = 500,
                 learning_rate: float = 0.05, num_leaves: int = 15, min_child_samples: int = 3,
                 subsample: float = 0.8, colsample_bytree: float = 0.8, reg_lambda: float = 0.0,
                 seed: int = 0, n_jobs: int = 1) -> None:
        self.space = space
        self.features = features
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.seed = seed
        self.n_jobs = n_jobs

    def _fit_X(self, X: np.ndarray, y: np.ndarray) -> None:
        import lightgbm as lgb

        params = {
            "objective": "regression", "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves), "min_child_samples": int(self.min_child_samples),
            "min_child_weight": 1e-3, "bagging_fraction": float(self.subsample), "bagging_freq": 1,
            "feature_fraction": float(self.colsample_bytree), "lambda_l2": float(self.reg_lambda),
            "seed": int(self.seed), "num_threads": int(self.n_jobs), "verbose": -1,
            "deterministic": True, "force_row_wise": True, "min_data_in_bin": 1,
        }
        data = lgb.Dataset(X, label=y, params={"verbose": -1, "min_data_in_bin": 1})
        self.booster_ = lgb.train(params, data, num_boost_round=int(self.n_estimators))

    def _predict_X(self, X: np.ndarray) -> np.ndarray:
        fast = _compiled.small_batch(self, X)  # small batches: exported trees, no library call
        if fast is not None:
            return fast
        return np.asarray(self.booster_.predict(X, num_threads=int(self.n_jobs)), dtype=np.float64)

    # artifacts ---------------------------------------------------------------
    def _save_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        text = self.booster_.model_to_string()
        return {"n_features": int(self.booster_.num_feature())}, {"booster.txt": text.encode("utf-8")}

    def _load_state(self, state: dict[str, Any], files: dict[str, bytes]) -> None:
        import lightgbm as lgb

        self.booster_ = lgb.Booster(model_str=files["booster.txt"].decode("utf-8"))

    def _n_model_features(self) -> int:
        return int(self.booster_.num_feature())

    @staticmethod
    def suggest_params(trial: Any) -> dict[str, Any]:
        """Optuna search space (used by :func:`~surrogate_eo.surrogates.tuning.tune`)."""
        return {
            "n_estimators": trial.suggest_int("n_estimators", 100, 1200, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 64, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 1, 30, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        }
