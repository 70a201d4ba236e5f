"""Label-free pretraining of the flow GNN's encoder, cached in memory and on disk.

The encoder learns to predict each arch's structural features (the
``derived`` + ``cpath`` blocks of
:class:`~surrogate_eo.surrogates.features.Featurizer`, standardised) on the
isomorphism-class representatives of a finite space (all 15,625 archs of
``nb201``: 6,466 classes) or on ``pretrain_sample`` archs of a larger one.
It is seeded 0 (a property of the space, not of a model's seed) and costs
tens of seconds to minutes on one core, so the weights are kept

- per process (a dict), and
- on disk, in :func:`cache_dir`: ``$SURROGATE_EO_CACHE`` if set (``off``,
  ``0`` or ``none`` disables the disk cache), else
  ``$XDG_CACHE_HOME/surrogate-eo`` (``~/.cache/surrogate-eo``).

A cache file is named by the sha256 of its key: the space, the network and
pretraining settings, the package and torch versions and a hash of the source
of the modules that define the network and the objective
(:func:`code_version`), so editing them invalidates old entries. Files are
written to a temporary name and renamed into place (atomic on POSIX); an
entry that cannot be read, or whose stored key differs, is ignored with a
:class:`~surrogate_eo.surrogates.base.SurrogateWarning` and rebuilt. Nothing
is ever downloaded.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._imports import require
from .._io import CACHE_ENV, user_cache_dir
from ..spaces import SearchSpace
from .base import SurrogateWarning
from .canonical import TABLE_LIMIT, canonical_representatives
from .features import Featurizer

#: Environment variable naming the cache folder (or ``off``).
#: Pretrained encoders of this process: key digest -> state_dict.
_MEMORY: dict[str, dict[str, Any]] = {}


def cache_dir() -> Path | None:
    """The disk cache folder, or None when ``$SURROGATE_EO_CACHE`` turns it off (:func:`~surrogate_eo._io.user_cache_dir`)."""
    return user_cache_dir()


def code_version() -> str:
    """Hash of the source files that define the GNN and its pretraining (first 16 hex digits)."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in ("pretrain.py", "gnn.py", "features.py", "graphs.py", "canonical.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def pretrain_pool(space: SearchSpace, sample: int) -> np.ndarray:
    """Archs to pretrain on: every class representative of a table space, else ``sample`` archs (seed 0)."""
    if space.size <= TABLE_LIMIT:
        every = space.from_index(np.arange(space.size))
        return space.from_index(np.unique(canonical_representatives(space, every) @ space._radix))
    return canonical_representatives(space, space.sample(int(sample), seed=0))


def structure_targets(space: SearchSpace, batch: np.ndarray) -> np.ndarray:
    """Standardised non-constant ``derived`` + ``cpath`` features of ``batch``: the pretraining targets."""
    x = Featurizer(space=space.name, blocks=("derived", "cpath")).compute(batch).astype(np.float64)
    x = x[:, x.std(axis=0) > 0]
    return ((x - x.mean(axis=0)) / x.std(axis=0)).astype(np.float32)


def _digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _read(path: Path, key_json: str) -> dict[str, Any] | None:
    """The cached state_dict at ``path``, or None (with a warning) when it is unreadable or for another key."""
    if not path.is_file():
        return None
    st = require("safetensors.torch", "reading the GNN pretraining cache")
    safetensors = require("safetensors", "reading the GNN pretraining cache")
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            stored = (f.metadata() or {}).get("key")
        if stored != key_json:
            raise ValueError(f"stored key {str(stored)[:80]!r} differs")
        return dict(st.load_file(str(path)))
    except Exception as exc:  # a truncated or foreign file: rebuild it
        warnings.warn(f"GNN pretraining cache entry {path} is unreadable ({type(exc).__name__}: "
                      f"{' '.join(str(exc).split())[:120]}); ignoring it and pretraining again",
                      SurrogateWarning, stacklevel=4)
        return None


def _write(path: Path, key_json: str, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically; a folder that cannot be written only warns."""
    st = require("safetensors.torch", "writing the GNN pretraining cache")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        st.save_file({k: v.contiguous() for k, v in state.items()}, tmp, metadata={"key": key_json})
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        warnings.warn(f"cannot write the GNN pretraining cache {path} ({exc}); set ${CACHE_ENV} to a writable "
                      f"folder or to 'off'", SurrogateWarning, stacklevel=4)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def cached_state(key: dict[str, Any], build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``build()``'s state_dict for ``key``, from this process, the disk cache, or built (and stored).

    Parameters
    ----------
    key : dict
        JSON-ready description of what ``build`` computes; :func:`code_version`
        and the library versions are added here.
    build : callable
        Returns a state_dict of CPU tensors.
    """
    import torch

    from .. import __version__

    full = {**key, "code": code_version(), "surrogate_eo": __version__, "torch": torch.__version__}
    key_json = json.dumps(full, sort_keys=True)
    digest = _digest(full)
    if digest in _MEMORY:
        return _MEMORY[digest]
    folder = cache_dir()
    path = None if folder is None else folder / f"gnn-pretrain-{key.get('space', 'space')}-{digest[:24]}.safetensors"
    state = None if path is None else _read(path, key_json)
    if state is None:
        state = {k: v.detach().clone() for k, v in build().items()}
        if path is not None:
            _write(path, key_json, state)
    _MEMORY[digest] = state
    return state
