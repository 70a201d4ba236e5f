"""Fast torch batches from a :class:`~surrogate_eo.data.So2SatSplit`.

Streaming (``cache=False``): from a memory-mapped file every batch is one read
in the shuffled order (the fused gather-and-convert pass of
:mod:`surrogate_eo.data._reader`), a few batches ahead on reader threads, each
into its own array. From a chunked file the epoch order is cut into *windows*
of about :data:`WINDOW_BYTES` of source; each window is read with one sorted
pass of slabs, then split into batches. When the file is chunked and compressed, random
single rows are expensive, so shuffling permutes *blocks* of one HDF5 chunk of
consecutive samples and then shuffles samples inside each window (a shuffle
buffer); every chunk is then decompressed once per epoch. With a memory map
or a cache, shuffling is a uniform permutation.

Cached (``cache=True`` / ``"float32"`` / ``"float16"``): the chosen subset is
read once, normalised, and kept in memory (and on the GPU when ``device`` is
one); later epochs only gather rows.

Torch is imported only when batches are requested.
"""
from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from .._imports import require_torch
from . import _reader
from .augment import apply_dihedral, random_codes
from .layout import DataArgumentError

if TYPE_CHECKING:  # pragma: no cover
    from .so2sat import So2SatSplit

#: Source bytes read per streaming window.
WINDOW_BYTES = 96 * 2 ** 20
_CACHE_DTYPES = {True: np.float32, "float32": np.float32, "float16": np.float16}


def _window_size(split: So2SatSplit, batch_size: int) -> int:
    per = sum(int(np.prod(split._source(k).shape[1:])) * split._source(k).dtype.itemsize
              for k in split.task.keys)
    w = max(batch_size, WINDOW_BYTES // max(per, 1))
    return max(batch_size, w // batch_size * batch_size)


def epoch_order(split: So2SatSplit, idx: np.ndarray, batch_size: int, *, shuffle: bool, seed: int,
                block: int | None = None) -> tuple[np.ndarray, int]:
    """The order in which ``idx`` is visited in one epoch, and the window length.

    Parameters
    ----------
    block : int, optional
        Rows per shuffled block; default: 1 when rows can be read at random cheaply
        (memory map, uncompressed), else the HDF5 chunk length.
    """
    window = _window_size(split, batch_size)
    if not shuffle:
        return idx, window
    rng = np.random.default_rng(seed)
    if block is None:
        srcs = [split._source(k) for k in split.task.keys]
        block = 1 if all(s.random_access for s in srcs) else max(s.chunk_rows for s in srcs)
    if block <= 1:
        return rng.permutation(idx), window
    idx = np.sort(idx)
    _, starts = np.unique(idx // block, return_index=True)
    groups = np.split(idx, starts[1:])
    order = np.concatenate([groups[g] for g in rng.permutation(len(groups))])
    for w in range(0, order.size, window):  # shuffle buffer: mix samples of the blocks in a window
        rng.shuffle(order[w:w + window])
    return order, window


class _Cache:
    """Normalised patches of a subset, in memory (numpy) and optionally on a torch device."""

    def __init__(self, split: So2SatSplit, rows: np.ndarray, dtype: Any, window: int) -> None:
        self.rows = rows
        self.x = np.empty((rows.size, split.task.in_channels, 32, 32), dtype=dtype)
        for w in range(0, rows.size, window):
            if self.x.dtype == np.float32:   # straight into the cache, no temporary
                split._read_rows(rows[w:w + window], out=self.x[w:w + window])
            else:
                self.x[w:w + window] = split._read_rows(rows[w:w + window])
        self.y = split.labels[rows]
        self.on_device: dict[str, Any] = {}

    def positions(self, idx: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.rows, idx)


def _cache_for(split: So2SatSplit, idx: np.ndarray, cache: bool | str, window: int) -> _Cache:
    if cache not in _CACHE_DTYPES:
        raise DataArgumentError(f"cache must be False, True, 'float32' or 'float16'; got {cache!r}")
    dtype = _CACHE_DTYPES[cache]
    rows = np.unique(idx)
    key = (hashlib.sha1(rows.tobytes()).hexdigest(), np.dtype(dtype).str, split.normalise,
           tuple(np.concatenate(split.stats()).tolist()) if split.normalise else ())
    if split._cache is None or split._cache[0] != key:
        split._cache = None  # free the old one first
        split._cache = (key, _Cache(split, rows, dtype, window))
    return split._cache[1]


def iterate_batches(split: So2SatSplit, indices: Any, batch_size: int, *, shuffle: bool, seed: int = 0,
                    augment: bool = False, device: Any = "cpu", cache: bool | str = False,
                    drop_last: bool = False, shuffle_block: int | None = None) -> Iterator[tuple[Any, Any]]:
    """Iterate ``(x, y)`` torch batches over ``indices`` of ``split``.

    Parameters
    ----------
    split : So2SatSplit
        The data.
    indices : sequence of int or None
        Patches to visit (``None``: all). Order is kept when ``shuffle`` is False.
    batch_size : int
        Patches per batch; the last batch is smaller unless ``drop_last``.
    shuffle : bool
        Visit the patches in a seeded random order (see the module notes).
    seed : int, default=0
        Seed of the order and of the augmentation; pass a different seed each epoch
        (e.g. ``seed=run_seed * 1000 + epoch``).
    augment : bool, default=False
        Apply a random flip/90° rotation per patch (:mod:`surrogate_eo.data.augment`).
    device : str or torch.device, default="cpu"
        Where the tensors go (pinned-memory, non-blocking copies for CUDA).
    cache : bool or {"float32", "float16"}, default=False
        Keep the normalised subset in memory after the first pass (``True`` = float32);
        with a CUDA device the cache lives on the GPU.
    drop_last : bool, default=False
        Skip a final partial batch.
    shuffle_block : int, optional
        Streaming only: shuffle blocks of this many consecutive rows (plus a shuffle buffer per
        window) instead of single rows. Default: 1 for memory-mapped files, the HDF5 chunk
        length for chunked ones. Larger blocks help when the file is read from a slow disk.

    Yields
    ------
    x : torch.Tensor float32, shape (B, C, 32, 32)
    y : torch.Tensor int64, shape (B,)
    """
    torch = require_torch("So2SatSplit.batches")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DataArgumentError(f"batch_size must be a positive integer; got {batch_size!r}")
    idx = np.arange(split.n, dtype=np.int64) if indices is None else split.check_indices(indices)
    dev = torch.device(device)
    if split.normalise:
        split.stats()          # computed here, never inside the prefetch thread
    split.labels
    cached = _cache_for(split, idx, cache, _window_size(split, batch_size)) if cache else None
    bad_block = isinstance(shuffle_block, bool) or not isinstance(shuffle_block, (int, np.integer))
    if shuffle_block is not None and (bad_block or shuffle_block < 1):
        raise DataArgumentError(f"shuffle_block must be a positive integer or None; got {shuffle_block!r}")
    return _generate(torch, split, idx, int(batch_size), shuffle, seed, augment, dev, cached, drop_last,
                     shuffle_block)


def _generate(torch: Any, split: So2SatSplit, idx: np.ndarray, batch_size: int, shuffle: bool, seed: int,
              augment: bool, dev: Any, cached: _Cache | None, drop_last: bool,
              shuffle_block: int | None) -> Iterator[tuple[Any, Any]]:
    aug_rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xA06])
    pin = dev.type == "cuda"
    if cached is not None:
        order = np.random.default_rng(seed).permutation(idx) if shuffle else idx
        pos = cached.positions(order)
        on_dev = dev.type != "cpu"
        if on_dev and str(dev) not in cached.on_device:
            cached.on_device[str(dev)] = (torch.from_numpy(cached.x).to(dev), torch.from_numpy(cached.y).to(dev))
        for b in range(0, pos.size, batch_size):
            p = pos[b:b + batch_size]
            if drop_last and p.size < batch_size:
                return
            codes = random_codes(aug_rng, p.size) if augment else None
            if on_dev:
                xs, ys = cached.on_device[str(dev)]
                pt = torch.from_numpy(p).to(dev)
                x, y = xs.index_select(0, pt).float(), ys.index_select(0, pt)
                if codes is not None:
                    x = apply_dihedral(x, codes)
            else:
                xn = cached.x[p].astype(np.float32, copy=False)
                if codes is not None:
                    apply_dihedral(xn, codes)
                x, y = torch.from_numpy(xn), torch.from_numpy(cached.y[p])
            yield x, y
        return
    order, window = epoch_order(split, idx, batch_size, shuffle=shuffle, seed=seed, block=shuffle_block)
    labels = split.labels
    if split.random_access:
        # memory-mapped: every batch is its own read (any order) into its own array, a few in flight
        # on the reader threads. Batch-sized arrays come back from malloc's free lists; window-sized
        # ones (over 32 MiB) were fresh pages for the OS to fault in and zero on every window.
        workers = _reader.read_threads()
        window, depth, reader = batch_size, workers + 1, split._read_rows
    else:
        workers = depth = 1
        reader = split._read_any
    starts = list(range(0, order.size, window))
    # background threads read the next windows while this one is consumed (numpy, h5py and the
    # fused kernel release the GIL while copying); the order of the data does not depend on them
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="so2sat-prefetch") as pool:
        pending = deque(pool.submit(reader, order[w:w + window]) for w in starts[:depth])
        try:
            for k, w in enumerate(starts):
                xw = pending.popleft().result()
                if k + depth < len(starts):
                    nxt = starts[k + depth]
                    pending.append(pool.submit(reader, order[nxt:nxt + window]))
                chunk = order[w:w + window]
                for b in range(0, chunk.size, batch_size):
                    x = xw[b:b + batch_size]
                    if drop_last and x.shape[0] < batch_size:
                        return
                    if augment:
                        apply_dihedral(x, random_codes(aug_rng, x.shape[0]))
                    xt, yt = torch.from_numpy(x), torch.from_numpy(labels[chunk[b:b + batch_size]])
                    if dev.type != "cpu":
                        if pin:
                            xt, yt = xt.pin_memory(), yt.pin_memory()
                        xt, yt = xt.to(dev, non_blocking=pin), yt.to(dev, non_blocking=pin)
                    yield xt, yt
        finally:
            for p in pending:
                p.cancel()
