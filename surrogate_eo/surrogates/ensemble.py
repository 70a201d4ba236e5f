"""Ensembles (seed / bootstrap / mixed-family) and the epoch-as-input multi-fidelity wrapper.

An :class:`Ensemble` fits ``n_seeds`` copies of each member template, each
with its own seed (and, with ``bootstrap=True``, its own resample of the
training set). Its mean is the prediction; its spread is the model part of
the predictive noise (:meth:`Ensemble.predict_dist`, :meth:`Ensemble.sample`).

>>> from surrogate_eo.spaces import get_space
>>> from surrogate_eo.surrogates.trees import XGBSurrogate
>>> space = get_space("nb201")
>>> archs = space.sample(300, seed=1)
>>> y = (archs == 3).sum(axis=1) / 6.0
>>> ens = Ensemble(members=[XGBSurrogate(space="nb201", n_estimators=30)], n_seeds=3).fit(archs, y)
>>> mean, std = ens.predict_dist(archs[:2])
>>> mean.shape, bool((std >= 0).all())
((2,), True)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import SurrogateError
from ..spaces import get_space
from ..spaces.base import BatchLike, SeedLike, as_rng
from .base import Surrogate, check_targets, check_training_data, fit_features


def weighted_mean_std(preds: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and spread of member predictions ``(n_members, n)`` (weights summing to 1; None: equal).

    The spread is the reliability-weighted standard deviation, ``sqrt(sum w (p - mean)^2 / (1 - sum w^2))``,
    which for equal weights is the ordinary ``ddof=1`` standard deviation (0 for one member).

    >>> m, s = weighted_mean_std(np.array([[0.0], [1.0]]), np.array([0.75, 0.25]))
    >>> float(m[0]), round(float(s[0]), 4)
    (0.25, 0.7071)
    """
    if len(preds) < 2:
        return preds.mean(axis=0), np.zeros(preds.shape[1])
    if weights is None:
        return preds.mean(axis=0), preds.std(axis=0, ddof=1)
    w = np.asarray(weights, dtype=float)
    mean = w @ preds
    return mean, np.sqrt(np.maximum(w @ (preds - mean) ** 2, 0.0) / max(1.0 - float(w @ w), 1e-12))


class Ensemble(Surrogate):
    """Weighted mean (equal weights by default) of ``n_seeds`` re-seeded copies of every member template.

    Parameters
    ----------
    members : sequence of Surrogate
        Unfitted templates (e.g. ``[XGBSurrogate(...), LGBSurrogate(...)]``); all of one space.
    n_seeds : int, default=5
        Copies of each template; copy ``k`` gets ``seed = 1000 * seed + k``.
    bootstrap : bool, default=False
        Fit each copy on a bootstrap resample of the training set.
    weights : sequence of float, optional
        One positive weight per member template (normalised to sum 1; a template's copies
        share its weight equally). None: every copy counts the same.
    seed : int, default=0

    Attributes
    ----------
    estimators_ : list of Surrogate
        The fitted copies, template-major.
    featurizer_ : Featurizer
        The first template's featurizer (each member keeps its own).
    n_train_ : int
    """

    family: ClassVar[str] = "ensemble"

    def __init__(self, *, members: Sequence[Surrogate] = (), n_seeds: int = 5, bootstrap: bool = False,
                 weights: Sequence[float] | None = None, seed: int = 0) -> None:
        self.members = members
        self.n_seeds = n_seeds
        self.bootstrap = bootstrap
        self.weights = weights
        self.seed = seed

    @property
    def space(self) -> str:
        spaces = {getattr(m, "space", None) for m in self.members}
        if len(spaces) != 1:
            raise SurrogateError(
                f"Ensemble members must share one search space; got {sorted(map(str, spaces)) or 'no members'}"
            )
        return str(spaces.pop())

    def _copies(self) -> list[Surrogate]:
        if not self.members or int(self.n_seeds) < 1:
            raise SurrogateError(
                f"Ensemble needs at least one member template and n_seeds >= 1; got {len(self.members)} "
                f"member(s), n_seeds={self.n_seeds}"
            )
        self.space  # noqa: B018 - validates the members share one space
        self.copy_weights()  # validates the weights before any copy is fitted
        return [m.clone(seed=1000 * int(self.seed) + k) for m in self.members for k in range(int(self.n_seeds))]

    def copy_weights(self) -> np.ndarray | None:
        """The weight of every copy, template-major and summing to 1 (None for equal weights).

        Raises :class:`SurrogateError` unless ``weights`` has one finite, positive number per template.
        """
        if self.weights is None:
            return None
        try:
            w = np.asarray(self.weights, dtype=float)
        except (TypeError, ValueError):
            w = np.array([np.nan])
        if w.ndim != 1 or len(w) != len(self.members) or not np.isfinite(w).all() or (w <= 0).any():
            raise SurrogateError(f"Ensemble weights must be one finite number > 0 per member template "
                                 f"({len(self.members)}); got {self.weights!r}")
        return np.repeat(w / w.sum(), int(self.n_seeds)) / int(self.n_seeds)

    def _make_featurizer(self):  # noqa: ANN202 - see base
        return self.members[0]._make_featurizer()

    def fit(self, archs: BatchLike, y: Any) -> Ensemble:
        """Fit every copy (featurising once per distinct feature set). Returns ``self``."""
        self.validate_params()
        copies = self._copies()
        for est in copies:
            est.validate_params()
        batch, yy = check_training_data(get_space(self.space), archs, y)
        rng = np.random.default_rng(int(self.seed))
        cache: dict[Any, np.ndarray] = {}
        for est in copies:
            idx = rng.integers(0, len(yy), len(yy)) if self.bootstrap else np.arange(len(yy))
            if est.uses_features:
                f = est._make_featurizer()
                if f not in cache:
                    cache[f] = f.transform_valid(batch)
                fit_features(est, cache[f][idx], yy[idx])
                est.featurizer_ = f
                est.n_train_ = len(idx)
            else:
                est.fit(batch[idx], yy[idx])
        self.estimators_ = copies
        self.featurizer_ = self._make_featurizer()
        self.n_train_ = len(yy)
        return self

    def _fit_X(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit every copy on one shared feature matrix (used by :class:`MultiFidelity`)."""
        self.validate_params()
        copies = self._copies()
        feats = {c._make_featurizer() for c in copies}
        if len(feats) != 1 or not all(c.uses_features for c in copies):
            raise SurrogateError("an Ensemble used on prebuilt features needs feature-based members with one "
                                 "feature set (xgb, lgb, rf with equal `features`)")
        featurizer = next(iter(feats))
        rng = np.random.default_rng(int(self.seed))
        for est in copies:
            idx = rng.integers(0, len(y), len(y)) if self.bootstrap else np.arange(len(y))
            fit_features(est, X[idx], y[idx])
            est.featurizer_ = featurizer
            est.n_train_ = len(idx)
        self.estimators_ = copies

    def member_predictions(self, archs: BatchLike) -> np.ndarray:
        """Predictions of every fitted copy, shape ``(n_members, n)``."""
        self._check_fitted()
        batch = get_space(self.space).validate(archs)
        return self._members_valid(batch)

    def _members_valid(self, batch: np.ndarray) -> np.ndarray:
        cache: dict[Any, np.ndarray] = {}
        out = np.empty((len(self.estimators_), len(batch)))
        for i, est in enumerate(self.estimators_):
            if est.uses_features:
                f = est.featurizer_
                if f not in cache:
                    cache[f] = f.transform_valid(batch)
                out[i] = est._predict_X(cache[f])
            else:
                out[i] = est.predict(batch)
        return out

    def _members_X(self, X: np.ndarray) -> np.ndarray:
        return np.stack([est._predict_X(X) for est in self.estimators_])

    def predict(self, archs: BatchLike) -> np.ndarray:
        """Ensemble (weighted) mean, shape ``(n,)``."""
        return self._mean(self.member_predictions(archs))

    def _predict_X(self, X: np.ndarray) -> np.ndarray:
        return self._mean(self._members_X(X))

    def _mean(self, preds: np.ndarray) -> np.ndarray:
        w = self.copy_weights()
        return preds.mean(axis=0) if w is None else w @ preds

    def combine(self, preds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and spread of the copies' predictions ``(n_copies, n)`` under ``weights``
        (:func:`weighted_mean_std`)."""
        return weighted_mean_std(preds, self.copy_weights())

    def predict_dist(self, archs: BatchLike) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over the copies (weighted; ``ddof=1`` for equal weights; 0 for one)."""
        return self.combine(self.member_predictions(archs))

    def sample(self, archs: BatchLike, seed: SeedLike = None) -> np.ndarray:
        """One draw per arch from ``Normal(mean, std)`` of :meth:`predict_dist` (seedable)."""
        mean, std = self.predict_dist(archs)
        return mean + std * as_rng(seed).standard_normal(len(mean))

    # artifacts: members are saved one by one by the artifact writer ----------
    def _save_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:  # pragma: no cover - handled by artifacts
        raise NotImplementedError


class MultiFidelity(Surrogate):
    """One model for every epoch: ``log(epoch)`` is appended to the features.

    Parameters
    ----------
    base : Surrogate
        A feature-based model (xgb, lgb, rf or an Ensemble of them); an unfitted template that
        ``fit`` clones, so the object passed in is never changed.

    Attributes
    ----------
    base_ : Surrogate
        The fitted clone of ``base``.
    epochs_ : list of int
        Epochs seen in training (predictions interpolate between the smallest and largest).
    featurizer_ : Featurizer
    n_train_ : int

    Notes
    -----
    ``fit(archs, y, epochs)`` and ``predict(archs, epochs)`` take the epoch
    of each row (an int, or one per arch). The alternative — one model per
    epoch — is what :func:`~surrogate_eo.surrogates.benchmark.fit_benchmark`
    does by default; ``evaluation/nb201_surrogates.py --fidelity`` compares them.
    """

    family: ClassVar[str] = "multifidelity"

    def __init__(self, *, base: Surrogate | None = None) -> None:
        self.base = base

    def _base(self) -> Surrogate:
        if self.base is None or not self.base.uses_features:
            raise SurrogateError(
                "MultiFidelity needs a feature-based base model (xgb, lgb, rf or an Ensemble of them); "
                f"got {type(self.base).__name__}; for a GIN fit one model per epoch instead"
            )
        return self.base

    @property
    def space(self) -> str:
        return self._base().space  # type: ignore[attr-defined]

    def _make_featurizer(self):  # noqa: ANN202 - see base
        return self._base()._make_featurizer()

    @staticmethod
    def _epoch_column(epochs: Any, n: int) -> np.ndarray:
        e = np.broadcast_to(np.asarray(epochs, dtype=np.float64), (n,)) if np.ndim(epochs) == 0 else \
            check_targets(epochs, n, what="epochs")
        if not np.all(np.isfinite(e)) or (e <= 0).any():
            raise SurrogateError(f"epochs must be positive numbers; got {np.unique(e)[:5]}")
        return np.log(e).astype(np.float32)[:, None]

    def fit(self, archs: BatchLike, y: Any, epochs: Any = None) -> MultiFidelity:  # type: ignore[override]
        """Fit on ``(arch, epoch) -> y`` rows. Returns ``self``."""
        base = self._base()
        space = get_space(self.space)
        batch = space.validate(archs)
        if epochs is None:
            raise SurrogateError("MultiFidelity.fit needs the epoch of each row: fit(archs, y, epochs)")
        e = self._epoch_column(epochs, len(batch))
        yy = check_targets(y, len(batch))
        keep = np.isfinite(yy)
        batch2, yy2 = check_training_data(space, batch, yy)
        f = base._make_featurizer()
        X = np.concatenate([f.transform_valid(batch2), e[keep]], axis=1)
        fitted = base.clone()
        fit_features(fitted, X, yy2)
        fitted.featurizer_ = f
        fitted.n_train_ = len(yy2)
        self.base_ = fitted
        self.featurizer_ = f
        self.n_train_ = len(yy2)
        self.epochs_ = sorted({int(v) for v in np.exp(e[keep, 0]).round()})
        return self

    def predict(self, archs: BatchLike, epochs: Any = None) -> np.ndarray:  # type: ignore[override]
        """Predictions at ``epochs`` (default: the largest epoch seen in training)."""
        self._check_fitted()
        batch = get_space(self.space).validate(archs)
        e = self._epoch_column(self.epochs_[-1] if epochs is None else epochs, len(batch))
        X = np.concatenate([self.featurizer_.transform_valid(batch), e], axis=1)
        return self.base_._predict_X(X)
