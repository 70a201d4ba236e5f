"""Surrogate models of a ground truth: features, models, ensembles, tuning, metrics, artifacts.

>>> from surrogate_eo.surrogates import XGBSurrogate, fit_benchmark      # doctest: +SKIP
>>> from surrogate_eo.reference import load_nb201                        # doctest: +SKIP
>>> bench = fit_benchmark(load_nb201(), columns=["CIFAR10TestAccuracy200Epochs"],
...                       model="xgb", train_fraction=0.05)             # doctest: +SKIP
>>> bench.save("nb201-c10")                                            # doctest: +SKIP

Every model follows one contract (:class:`Surrogate`): keyword-only
constructor, ``fit(archs, y) -> self``, ``predict(archs)``,
``get_params``/``set_params``. The GIN (:class:`GINSurrogate`) needs torch and
is imported lazily; everything else works without it.
"""
from __future__ import annotations

from typing import Any

from .base import Surrogate, SurrogateWarning, make_model, model_class
from .benchmark import Benchmark, Entry
from .ensemble import Ensemble, MultiFidelity
from .features import Featurizer, graph_encoding
from .fitting import fit_benchmark, fit_targets, parse_column
from .forest import RFSurrogate
from .trees import LGBSurrogate, XGBSurrogate

__all__ = [
    "Benchmark", "Ensemble", "Entry", "Featurizer", "GINSurrogate", "LGBSurrogate", "MultiFidelity",
    "RFSurrogate", "Surrogate", "SurrogateWarning", "XGBSurrogate", "fit_benchmark", "fit_targets",
    "graph_encoding", "load", "make_model", "model_class", "parse_column",
]


def load(path: Any) -> Benchmark:
    """Load a saved benchmark folder (verifies checksums; see :mod:`.artifacts`)."""
    from .artifacts import load_benchmark

    return load_benchmark(path)


def __getattr__(name: str) -> Any:
    if name == "GINSurrogate":  # needs torch only when used, but importing the class is torch-free
        from .gin import GINSurrogate

        return GINSurrogate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
