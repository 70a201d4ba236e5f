"""Fitness-landscape analysis and the surrogate-fidelity verdict.

- :mod:`.sources` — fitness sources (tables, surrogates, models, the database);
- :mod:`.samplers` — uniform samples, random walks, neighbourhoods, hill climbs,
  neutral walks, campaign strata;
- :mod:`.features` — the feature contract and registry (value, bootstrap CI, n, params);
- :mod:`.exact` — exact features of a fully covered finite space;
- :mod:`.footprint` — :func:`footprint` of one source;
- :mod:`.fidelity` — :func:`fidelity`: is a surrogate's landscape faithful to the ground truth?
  (records in :mod:`.verdict`, statistics in :mod:`.simultaneous`, bands in :mod:`.tolerances`,
  the top of the landscape in :mod:`.top`)
- :mod:`.nk` — NK landscapes and OneMax (known answers, for tests).

>>> from surrogate_eo.landscape import footprint, SamplingPlan
>>> from surrogate_eo.reference import load_nb201
>>> fp = footprint(load_nb201().source("CIFAR10TestAccuracy200Epochs"), exact=True)
>>> fp.value("local_optima_strict")
17.0
"""
from __future__ import annotations

from .features import CORE_FEATURES, REGISTRY, Feature
from .fidelity import FeatureComparison, Tolerance, Verdict, fidelity
from .footprint import Footprint, SamplingPlan, collect, footprint
from .samplers import Strata, infer_strata, plan_strata
from .simultaneous import judge_differences
from .tolerances import DEFAULT_TOLERANCES, load_tolerances
from .sources import (BenchmarkSource, DatabaseSource, FitnessSource, LookupSource, ModelSource, TableSource,
                      table_source)

__all__ = ["BenchmarkSource", "CORE_FEATURES", "DatabaseSource", "Feature", "FeatureComparison", "FitnessSource",
           "Footprint", "LookupSource", "ModelSource", "REGISTRY", "SamplingPlan", "Strata", "TableSource",
           "Tolerance", "Verdict", "collect", "fidelity", "footprint", "infer_strata", "plan_strata",
           "table_source", "judge_differences", "load_tolerances", "DEFAULT_TOLERANCES"]
