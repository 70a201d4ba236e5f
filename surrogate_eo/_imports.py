"""Lazy access to optional dependencies (torch, ConfigSpace, safetensors).

``import surrogate_eo`` never imports torch. Code that needs it calls
:func:`require_torch`, which raises a :class:`MissingDependencyError` with the
exact pip command when torch is absent.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from .errors import MissingDependencyError

_EXTRA_FOR = {
    "torch": "torch",
    "safetensors": "torch",
    "ConfigSpace": "configspace",
}


def require(module: str, feature: str = "this feature") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the fix."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised by blocking tests
        extra = _EXTRA_FOR.get(module.split(".")[0], "")
        hint = f'pip install "surrogate-eo[{extra}]"' if extra else f"pip install {module}"
        if module == "torch":
            hint += " (CPU-only: pip install torch==2.13.0 first)"
        raise MissingDependencyError(
            f"{feature} needs the optional dependency '{module}', which is not installed; "
            f"install it with: {hint}"
        ) from exc


def require_torch(feature: str = "this feature") -> ModuleType:
    """Return the ``torch`` module or raise with the install command."""
    return require("torch", feature)


def torch_available() -> bool:
    """True when torch can be imported (without importing it twice)."""
    try:
        importlib.import_module("torch")
    except ImportError:
        return False
    return True


@contextmanager
def torch_threads(torch: Any, n_threads: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n_threads)``, restoring the old count after."""
    old = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(old)
