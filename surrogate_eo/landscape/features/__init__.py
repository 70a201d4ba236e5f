"""Landscape features: one contract (:class:`Feature`: value, bootstrap CI, n, params) and a registry.

Importing this package registers every feature in :data:`REGISTRY`, in the
order they appear in a footprint. ``python -c "from surrogate_eo.landscape.features
import describe; print(describe())"`` lists them with their units.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import distribution, neutrality, ruggedness  # noqa: F401  (registration)
from ._base import REGISTRY, Feature, FeatureSpec, LandscapeData, estimate, register

#: Features every footprint JSON is expected to hold (when its data allows).
CORE_FEATURES: tuple[str, ...] = (
    "fitness_mean", "fitness_std", "fdc_pearson", "fdc_spearman", "autocorr_lag1", "corr_length",
    "corr_length_traore", "neutrality", "local_optima_strict", "persistence_top", "dispersion",
    "information_content",
)


def compute_features(data: LandscapeData, names: list[str] | None = None, seed: Any = 0, n_boot: int = 200,
                     level: float = 0.95, boot_max: int = 5000) -> dict[str, Feature]:
    """Estimate every registered feature (or ``names``) that ``data`` supports.

    Each feature draws its bootstrap from its own generator seeded from
    ``(seed, position in the registry)``, so results do not depend on which
    other features were asked for.
    """
    from ...errors import LandscapeError

    wanted = list(REGISTRY) if names is None else list(names)
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise LandscapeError(f"unknown landscape feature {unknown[0]!r}; known: {', '.join(REGISTRY)}")
    order = list(REGISTRY)
    out: dict[str, Feature] = {}
    for name in wanted:
        spec = REGISTRY[name].resolve(data)
        if spec is None:
            continue
        rng = np.random.default_rng([int(seed) if seed is not None else 0, order.index(name)])
        out[name] = estimate(spec, data, rng, n_boot=n_boot, level=level, boot_max=boot_max)
    return out


def describe() -> str:
    """One line per registered feature: name, resampling unit, description."""
    return "\n".join(f"{s.name:<28} [{s.unit}] {s.description}" for s in REGISTRY.values())


__all__ = ["Feature", "FeatureSpec", "LandscapeData", "REGISTRY", "CORE_FEATURES", "compute_features",
           "describe", "estimate", "register"]
