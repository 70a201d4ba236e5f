"""Optional numba kernels: one switch and one build-once holder for every module that compiles one.

``SURROGATE_EO_JIT=0`` in the environment turns the kernels off (``data/_fused.py``'s loader
kernel, ``surrogates/_jit.py``'s tree walks); the numpy paths answer instead.

>>> cache = []
>>> build_once(cache, lambda: 42), build_once(cache, lambda: 0), cache
(42, 42, [42])
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable

_LOCK = threading.Lock()


def env_enabled() -> bool:
    """Whether the environment allows numba kernels (``SURROGATE_EO_JIT`` is not ``"0"``)."""
    return os.environ.get("SURROGATE_EO_JIT", "1") != "0"


def build_once(cache: list[Any], build: Callable[[], Any]) -> Any:
    """``cache[0]``, made by ``build()`` on the first call (thread-safe); an empty ``cache`` means not built yet.

    ``build`` returns the kernel, or ``None`` when numba is unavailable (kept, so it is tried once).
    """
    if not cache:
        with _LOCK:
            if not cache:
                cache.append(build())
    return cache[0]
