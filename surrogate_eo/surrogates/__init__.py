"""Surrogate models of a ground truth: features, models, ensembles, tuning, metrics, artifacts.

>>> import tempfile
>>> from surrogate_eo.surrogates import fit_benchmark
>>> from surrogate_eo.reference import load_nb201
>>> bench = fit_benchmark(load_nb201(), columns=["CIFAR10TestAccuracy200Epochs"],
...                       model="xgb", train_fraction=0.05, seed=0)
>>> bench.tasks, bench.metrics
(['cifar10'], ['test_acc'])
>>> _ = bench.save(tempfile.mkdtemp() + "/nb201-c10")

Every model follows one contract (:class:`Surrogate`): keyword-only
constructor, ``fit(archs, y) -> self``, ``predict(archs)``,
``get_params``/``set_params``/``clone``. The graph models (:class:`GINSurrogate`,
the flow GNN :class:`GNNSurrogate`) need torch and are imported lazily;
everything else works without it.
"""
from __future__ import annotations

from typing import Any

from .base import Surrogate, SurrogateWarning, make_model, model_class
from .benchmark import Benchmark, Entry
from .ensemble import Ensemble, MultiFidelity
from .features import Featurizer
from .graphs import graph_encoding
from .fitting import fit_benchmark, fit_targets, parse_column
from .forest import RFSurrogate
from .trees import LGBSurrogate, XGBSurrogate

__all__ = [
    "Benchmark", "Ensemble", "Entry", "Featurizer", "GINSurrogate", "GNNSurrogate", "LGBSurrogate", "MultiFidelity",
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
    if name == "GNNSurrogate":
        from .gnn import GNNSurrogate

        return GNNSurrogate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
