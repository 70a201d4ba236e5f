"""Run checkpoints: written atomically every epoch (and on preemption), read back safely.

A checkpoint is one ``torch.save`` file (``<out_dir>/<run_id>.ckpt``) holding
the model, optimiser and scheduler state dicts, the RNG states (torch, numpy,
python), the number of finished epochs, the position inside the current epoch
(training batches done, their loss/accuracy sums and seconds) and the finished
epochs' metrics. It contains only tensors and plain Python values, so it is
loaded with ``torch.load(weights_only=True)``: loading never runs code.

Temporaries of a checkpoint write that was killed before its rename
(``.<run_id>.ckpt.<x>.tmp``) are deleted when the run starts again
(:func:`load_checkpoint`).

A checkpoint that cannot be read (truncated, not a torch file, wrong keys) or
that belongs to another run or protocol is *reported* (a
:class:`CheckpointWarning` and a note in the run's record) and ignored: the
run starts from scratch. It never crashes the run.
"""
from __future__ import annotations

import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._io import atomic_open, sweep_temp_files

CHECKPOINT_FORMAT = "surrogate-eo-checkpoint"
CHECKPOINT_VERSION = 1

_REQUIRED = ("format", "version", "run_id", "protocol_hash", "epoch", "batch", "partial", "epochs",
             "model", "optimizer", "scheduler", "rng")


class CheckpointWarning(UserWarning):
    """A checkpoint that was unreadable or mismatched and has been ignored."""


def rng_state() -> dict[str, Any]:
    """The global RNG states of torch (CPU and CUDA), numpy and Python, as checkpointable values."""
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"name": str(name), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the states saved by :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename).

    ``state`` must hold the keys of :data:`_REQUIRED` except ``format`` and
    ``version``, which are added here.
    """
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}
    missing = [k for k in _REQUIRED if k not in payload]
    if missing:  # programming error of the trainer, not user input
        raise KeyError(f"checkpoint state lacks {missing}")
    with atomic_open(path) as fh:
        torch.save(payload, fh)


def load_checkpoint(path: str | Path, *, run_id: str, protocol_hash: str) -> tuple[dict[str, Any] | None, str | None]:
    """Read the checkpoint at ``path`` if it exists and is valid for this run.

    Parameters
    ----------
    path : path
        Checkpoint file.
    run_id, protocol_hash : str
        Identity the checkpoint must carry.

    Returns
    -------
    state : dict or None
        The checkpoint, or ``None`` when there is none or it is unusable.
    note : str or None
        Why an existing checkpoint was ignored (also emitted as a :class:`CheckpointWarning`).
    """
    path = Path(path)
    # A run is trained by one lock holder at a time, so temporaries of its checkpoint left by a killed
    # earlier attempt (".<run>.ckpt.<x>.tmp") cannot be a write in progress: remove them.
    sweep_temp_files(path.parent, path.name, older_than=-1.0)
    if not path.is_file():
        return None, None
    problem: str | None = None
    state: Any = None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported and ignored
        problem = f"unreadable ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
    if problem is None:
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            problem = "not a surrogate-eo checkpoint"
        elif state.get("version") != CHECKPOINT_VERSION:
            problem = f"checkpoint version {state.get('version')!r}, this surrogate-eo reads {CHECKPOINT_VERSION}"
        elif any(k not in state for k in _REQUIRED):
            problem = f"missing keys {[k for k in _REQUIRED if k not in state]}"
        elif state["run_id"] != run_id or state["protocol_hash"] != protocol_hash:
            problem = (f"belongs to run {state['run_id']!r} / protocol hash {state['protocol_hash']!r}, "
                       f"not {run_id!r} / {protocol_hash!r}")
    if problem is None:
        return state, None
    note = f"checkpoint {path} ignored, training restarted from scratch: {problem}"
    warnings.warn(note, CheckpointWarning, stacklevel=3)
    return None, note
