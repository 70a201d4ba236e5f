"""A data-free zero-cost proxy run on the network: Jacobian covariance on seeded Gaussian inputs.

Jacobian covariance (Mellor et al., "Neural Architecture Search without
Training", arXiv 2006.04647 v1, 2020) scores an untrained network by how
differently it responds to different inputs: for a batch of ``B`` inputs ``x_i``
it takes the gradients ``J_i = ∂(Σ logits)/∂x_i``, their ``B × B`` correlation
matrix ``Σ_J`` with eigenvalues ``λ``, and the score
``-Σ_λ [log(λ + ε) + 1/(λ + ε)]`` (``ε = 1e-5``); higher is better. The
original feeds a batch of training images. Here the batch is seeded Gaussian
noise (``JACOV_BATCH`` inputs of ``JACOV_SIDE`` × ``JACOV_SIDE`` pixels), so the
score needs no data, and the weights are PyTorch's initialisation under
``torch.manual_seed(0)``: the score is a property of the arch alone. On
``nb201`` the network is NAS-Bench-201's skeleton at half width (stem width
``JACOV_WIDTH`` = 8 instead of 16, all 15 cells); ``eo`` archs use their own
network (:func:`~surrogate_eo.networks.build_network`, ``JACOV_CHANNELS`` input
bands). A network whose cell has no live path has zero gradients; its score is
the floor ``-B (log 2ε + 1/2ε)``, below every live arch.

Unlike :func:`~surrogate_eo.surrogates.proxies.log_synflow` this runs the
network (a forward and a backward pass of the batch): about 70 ms per arch on
one core for ``nb201``. Scores are computed once per isomorphism class
(``canonical_representatives``) on one torch thread, kept in the process and in a disk cache in
:func:`~surrogate_eo._io.user_cache_dir` (``$SURROGATE_EO_CACHE``; ``off``
disables it), one ``.npz`` per space whose name is the sha256 of the settings,
the torch version and the source of this module and of the network builders;
it is rewritten atomically as classes are added, with what other processes
wrote to it meanwhile. It is the ``jacov`` feature
block of :class:`~surrogate_eo.surrogates.features.Featurizer`; torch is
imported only when a score is computed.
"""
from __future__ import annotations

import hashlib
import io
import json
import sys
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .._imports import require_torch, torch_threads
from .._io import atomic_write_bytes, user_cache_dir
from .._progress import Progress
from ..spaces import SearchSpace, get_space
from ..spaces.base import BatchLike
from .base import SurrogateWarning
from .canonical import canonical_representatives

#: Gaussian inputs per score.
JACOV_BATCH = 32
#: Side of the (square) Gaussian inputs, pixels.
JACOV_SIDE = 16
#: Stem width of the ``nb201`` network scored (NAS-Bench-201's own is 16).
JACOV_WIDTH = 8
#: Input channels per space (``eo``: Sentinel-2's 10 bands).
JACOV_CHANNELS: dict[str, int] = {"nb201": 3, "eo": 10}
#: ε of the score.
EPS = 1e-5
#: Scores of this process: cache key -> {canonical index: score}.
_MEMO: dict[str, dict[int, float]] = {}
#: New classes at or above which a progress bar is shown on stderr.
PROGRESS_MIN = 500


def score_gradients(grads: np.ndarray) -> float:
    """The Jacobian-covariance score of per-input gradients ``grads`` (shape ``(B, d)``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(grads.astype(np.float64)))
    lam = np.linalg.eigvalsh(corr + EPS * np.eye(len(corr)))
    return float(-np.sum(np.log(lam + EPS) + 1.0 / (lam + EPS)))


def _network(torch: Any, space: SearchSpace, row: np.ndarray) -> Any:
    from ..networks import build_network
    from ..networks.models import NB201Network

    if space.name == "nb201":
        ops = [space.cell.ops[int(i)] for i in row[: space.cell.n_edges]]  # type: ignore[attr-defined]
        return NB201Network(ops, JACOV_CHANNELS["nb201"], 10, c=JACOV_WIDTH)
    return build_network(space, row, JACOV_CHANNELS.get(space.name, 3))


def jacov_score(space: str | SearchSpace, arch: BatchLike) -> float:
    """Jacobian-covariance score of one arch as given (no canonicalisation, no cache)."""
    torch = require_torch("the jacov zero-cost proxy")
    sp = get_space(space)
    row = sp.validate(arch)[0]
    with torch.random.fork_rng(devices=[]):  # the caller's global RNG state is left as it was
        torch.manual_seed(0)
        net = _network(torch, sp, row).train()  # batch statistics, as at the first training step
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(JACOV_BATCH, JACOV_CHANNELS.get(sp.name, 3), JACOV_SIDE, JACOV_SIDE, generator=gen)
    x.requires_grad_(True)
    net(x).sum().backward()
    return score_gradients(x.grad.reshape(JACOV_BATCH, -1).numpy())


def cache_key(space: SearchSpace) -> str:
    """Digest of what a score depends on: settings, torch version and the source of the code that computes it."""
    return _cache_key(space.name)


@lru_cache(maxsize=None)
def _cache_key(space_name: str) -> str:
    import torch

    here = Path(__file__).resolve().parent
    h = hashlib.sha256(json.dumps({"space": space_name, "batch": JACOV_BATCH, "side": JACOV_SIDE,
                                   "width": JACOV_WIDTH, "channels": JACOV_CHANNELS, "eps": EPS,
                                   "torch": torch.__version__}, sort_keys=True).encode())
    for path in (here / "jacov.py", here.parent / "networks" / "models.py", here.parent / "networks" / "ops.py",
                 here.parent / "networks" / "__init__.py"):
        h.update(path.read_bytes())
    return h.hexdigest()[:24]


def _cache_file(space: SearchSpace, key: str) -> Path | None:
    folder = user_cache_dir()
    return None if folder is None else folder / f"jacov-{space.name}-{key}.npz"


def _load(path: Path | None, warn: bool = True) -> dict[int, float]:
    if path is None or not path.is_file():
        return {}
    try:
        with np.load(path) as z:
            idx, score = z["index"], z["score"]
        if idx.shape != score.shape:
            raise ValueError(f"{len(idx)} indices but {len(score)} scores")
        return dict(zip(idx.tolist(), score.tolist()))
    except Exception as exc:  # a truncated or foreign file: recompute
        if warn:
            warnings.warn(f"jacov cache {path} is unreadable ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:120]}); ignoring it and computing the scores again",
                          SurrogateWarning, stacklevel=3)
        return {}


def _save(path: Path | None, memo: dict[int, float]) -> None:
    """Write ``memo`` and what another process added to the file since it was read (their union)."""
    if path is None:
        return
    for k, v in _load(path, warn=False).items():
        memo.setdefault(k, v)
    buf = io.BytesIO()
    np.savez(buf, index=np.fromiter(memo.keys(), np.int64, len(memo)),
             score=np.fromiter(memo.values(), np.float64, len(memo)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
    except OSError as exc:
        warnings.warn(f"cannot write the jacov cache {path} ({exc}); set $SURROGATE_EO_CACHE to a writable folder "
                      f"or to 'off'", SurrogateWarning, stacklevel=3)


def jacov(space: str | SearchSpace, archs: BatchLike) -> np.ndarray:
    """Jacobian-covariance scores of ``archs``, one per isomorphism class (cached), shape ``(n,)`` float64.

    Examples
    --------
    >>> live = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    >>> s = jacov("nb201", [live, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"])
    >>> bool(s[0] > s[1])  # a live arch above one with no live path
    True
    """
    torch = require_torch("the jacov zero-cost proxy")
    sp = get_space(space)
    batch = sp.validate(archs)
    idx = canonical_representatives(sp, batch) @ sp._radix
    uniq, inv = np.unique(idx, return_inverse=True)
    key = cache_key(sp)
    path = _cache_file(sp, key)
    memo = _MEMO.get(key)
    if memo is None:
        memo = _MEMO[key] = _load(path)
    missing = [int(i) for i in uniq if int(i) not in memo]
    if missing:
        try:  # one thread: a small network per arch (several threads, or processes, only contend)
            with torch_threads(torch, 1), Progress("jacov proxy", len(missing), enabled=len(missing) >= PROGRESS_MIN,
                                                    unit="archs", stream=sys.stderr) as bar:
                for i, row in zip(missing, sp.from_index(np.array(missing))):
                    memo[i] = jacov_score(sp, row)
                    bar.advance()
        finally:
            _save(path, memo)  # what was computed is kept, also after an interruption
    return np.array([memo[int(i)] for i in uniq], dtype=np.float64)[inv]
