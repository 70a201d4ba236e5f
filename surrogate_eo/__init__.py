"""surrogate-eo: a NAS surrogate benchmark for EO image classification with landscape-fidelity analysis.

The top level is small on purpose:

- :func:`get_space` — the search spaces (``nb201``, ``eo``);
- :func:`get_task` — So2Sat LCZ42 tasks (``so2sat-s1``, ``so2sat-s2``, ``so2sat-s1s2``);
- :func:`load` — a saved surrogate benchmark (``bench.predict(arch, task=...)``);
- :class:`SurrogateEOError` — base of every error raised on bad input.

Importing this package never imports torch.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import SurrogateEOError
from .spaces import SearchSpace, get_space
from .tasks import TASKS, get_task

if TYPE_CHECKING:  # pragma: no cover
    from os import PathLike

    from .surrogates.benchmark import Benchmark

__version__ = "0.1.0"


def load(path: str | PathLike[str]) -> Benchmark:
    """Load a surrogate benchmark folder; see :func:`surrogate_eo.surrogates.artifacts.load_benchmark`."""
    from .surrogates.artifacts import load_benchmark

    return load_benchmark(path)


__all__ = ["SearchSpace", "SurrogateEOError", "TASKS", "get_space", "get_task", "load", "__version__"]
