"""Layout checks and fast row access to HDF5 datasets: memory map when possible, slab reads otherwise.

Indexing an ``h5py`` dataset one sample at a time costs a library round trip
(and, for compressed files, a chunk decompression) per sample. Here:

- a contiguous, unfiltered dataset (the official So2Sat files, and synthetic
  files written with ``compression=None``) is memory-mapped with numpy at the
  byte offset HDF5 reports (:attr:`RowSource.access` ``"memmap"``); rows are
  gathered in any order straight from the page cache. For float64/float32 rows
  in native byte order a numba kernel (:mod:`surrogate_eo.data._fused`) does the
  gather, scale, cast, shift, channels-first transpose and NaN screen in one pass;
  otherwise numpy does the same in blocks of :data:`NUMPY_BLOCK` rows;
- a chunked or compressed dataset (``"hdf5"``) is read as a few contiguous slabs:
  sorted unique indices whose gaps are at most a chunk apart are merged into one
  read, so every chunk is decompressed once per request.

Both paths give bit-identical float32 values.
"""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError
from ..tasks import NUM_CLASSES
from . import _fused

_LOG = logging.getLogger(__name__)

#: Shape of one patch per key (channels-last, as stored).
KEY_SHAPES = {"sen1": (32, 32, 8), "sen2": (32, 32, 10), "label": (NUM_CLASSES,)}
_LAYOUT = "So2Sat LCZ42 layout: sen1 N×32×32×8, sen2 N×32×32×10, label N×17 one-hot"
#: Largest number of rows one slab read covers (bounds the temporary buffer).
MAX_SLAB_ROWS = 4096
#: Rows gathered per numpy block on the memory-mapped path without numba (a few MiB of float64).
NUMPY_BLOCK = 32
#: Fewest rows worth handing to a reader thread.
MIN_ROWS_PER_THREAD = 256
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def read_threads() -> int:
    """Reader threads (numpy and HDF5 copies release the GIL): ``$SURROGATE_EO_READ_THREADS``,
    else up to 4 of the CPUs this process may use."""
    env = os.environ.get("SURROGATE_EO_READ_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def pool() -> ThreadPoolExecutor:
    """The process-wide pool of reader threads (created on first use, recreated after fork)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or getattr(_POOL, "_pid", None) != os.getpid():
            _POOL = ThreadPoolExecutor(max_workers=read_threads(), thread_name_prefix="so2sat-read")
            _POOL._pid = os.getpid()  # type: ignore[attr-defined]
        return _POOL


class RowSource:
    """Rows of one dataset of an open file (``h5py.Dataset``), channels-last.

    Parameters
    ----------
    path : pathlib.Path
        File the dataset lives in (for messages and memory mapping).
    ds : h5py.Dataset
        The dataset; its first axis indexes samples.

    Attributes
    ----------
    access : {"memmap", "hdf5"}
        How rows are read: a numpy memory map of the file (contiguous, unfiltered
        dataset with a known offset) or h5py slab reads (chunked, compressed, or no
        offset). Also logged at DEBUG level on ``surrogate_eo.data._reader``.
    """

    def __init__(self, path: Path, ds) -> None:
        self.path = path
        self.name = ds.name.lstrip("/")
        self.ds = ds
        self.shape = tuple(ds.shape)
        self.dtype = ds.dtype
        self.chunk_rows = int(ds.chunks[0]) if ds.chunks else 0
        self.mmap = self._try_mmap(path, ds)
        self.access = "hdf5" if self.mmap is None else "memmap"
        if self.mmap is None:
            how = f"h5py slab reads (chunks of {self.chunk_rows} rows, compression {ds.compression})"
        else:
            how = "memory-mapped" + (", fused numba kernel when available" if self.fusable else ", numpy conversion")
        _LOG.debug("%s:%s %s %s: %s", path, self.name, self.shape, self.dtype, how)

    @staticmethod
    def _try_mmap(path: Path, ds) -> np.ndarray | None:
        """A read-only memory map of ``ds``, or ``None`` when its bytes are not one plain block."""
        if ds.chunks is not None or ds.compression is not None or ds.dtype.kind not in "fiu":
            return None
        try:
            if ds.id.get_create_plist().get_nfilters() or getattr(ds, "external", None):
                return None
            offset = ds.id.get_offset()
        except Exception:  # noqa: BLE001 - any failure just disables the fast path
            return None
        if offset is None:
            return None
        try:
            return np.memmap(path, dtype=ds.dtype, mode="r", offset=offset, shape=tuple(ds.shape))
        except (OSError, ValueError):   # e.g. a truncated file: h5py's reads then report it
            return None

    @property
    def fusable(self) -> bool:
        """True when the fused kernel can read this dataset (memory-mapped native float64/float32)."""
        return self.mmap is not None and self.dtype in _fused.DTYPES and self.dtype.isnative

    @property
    def random_access(self) -> bool:
        """True when reading scattered rows costs about as much as reading them contiguously."""
        return self.mmap is not None or self.chunk_rows <= 1

    def gap(self) -> int:
        """Largest index gap merged into one slab read."""
        return max(self.chunk_rows, 4)

    def plan(self, rows: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Slabs ``(start, stop, first, last)`` covering sorted unique ``rows[first:last]``."""
        if rows.size == 0:
            return []
        gap = self.gap()
        cuts = np.flatnonzero(np.diff(rows) > gap) + 1
        bounds = np.concatenate([[0], cuts, [rows.size]])
        out = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            a = int(a)
            while a < b:  # split long slabs so the buffer stays bounded
                limit = rows[a] + MAX_SLAB_ROWS
                e = int(min(b, a + np.searchsorted(rows[a:b], limit)))
                e = max(e, a + 1)
                out.append((int(rows[a]), int(rows[e - 1]) + 1, a, e))
                a = e
        return out

    def read_into(self, rows: np.ndarray, out: np.ndarray, channels: slice, scale: np.ndarray | None = None,
                  shift: np.ndarray | None = None) -> bool:
        """Write ``float32(rows * scale) - shift`` into ``out[:, channels]``, channels-first.

        ``rows`` may be in any order (repeats allowed) when the dataset is memory-mapped, and
        must be sorted and unique otherwise (see :attr:`access`). ``scale`` (one float64
        factor per channel) is applied in float64 before the cast to ``out.dtype``, ``shift``
        (one value per channel, ``out.dtype``) after it; either may be ``None``.

        Returns
        -------
        bool
            True when every written value is finite (the caller locates a bad one).

        Raises
        ------
        DataFormatError
            When HDF5 cannot read the rows (a truncated or damaged file).
        """
        try:
            if self.mmap is not None:
                fn = _fused.wanted(rows.size) if self.fusable and out.dtype == np.float32 else None
                c = self.shape[-1]
                if fn is not None and rows.size and out.flags.c_contiguous and out.shape[0] == rows.size \
                        and out.shape[2:] == self.shape[1:3] and channels.step in (None, 1) \
                        and len(range(out.shape[1])[channels]) == c and 0 <= rows.min() \
                        and rows.max() < self.shape[0]:
                    return bool(fn(self.mmap, np.ascontiguousarray(rows, dtype=np.int64), out,
                                   channels.start or 0,
                                   np.ones(c) if scale is None else np.ascontiguousarray(scale, np.float64),
                                   np.zeros(c, np.float32) if shift is None
                                   else np.ascontiguousarray(shift, np.float32)))
                ok = True
                for a in range(0, rows.size, NUMPY_BLOCK):   # blocks: no per-row Python, small temporaries
                    b = a + NUMPY_BLOCK
                    ok &= _fused.convert_numpy(self.mmap[rows[a:b]], out[a:b, channels], scale, shift)
                return ok
            ok = True
            for start, stop, a, b in self.plan(rows):
                slab = self.ds[start:stop]
                sel = rows[a:b] - start
                ok &= _fused.convert_numpy(slab if sel.size == stop - start else slab[sel], out[a:b, channels],
                                           scale, shift)
            return ok
        except (OSError, RuntimeError, KeyError) as exc:
            lo, hi = (int(rows.min()), int(rows.max())) if rows.size else (0, 0)
            raise DataFormatError(
                f"cannot read rows {lo}..{hi} of key {self.name!r} in {str(self.path)!r} ({exc}); "
                f"the file is probably truncated or damaged: re-download or regenerate it") from None

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Contiguous rows ``start:stop`` as stored (channels-last, source dtype)."""
        try:
            if self.mmap is not None:
                return np.asarray(self.mmap[start:stop])
            return self.ds[start:stop]
        except (OSError, RuntimeError) as exc:
            raise DataFormatError(
                f"cannot read rows {start}..{stop - 1} of key {self.name!r} in {str(self.path)!r} ({exc}); "
                f"the file is probably truncated or damaged: re-download or regenerate it") from None


def check_layout(h5: Any, path: Path, task: Any, name: str) -> int:
    """Check keys, shapes, dtypes and patch count of an open file against the So2Sat layout.

    Returns
    -------
    int
        Number of patches.

    Raises
    ------
    DataFormatError
        Naming the file, the key and what was found and expected.
    """
    present = sorted(h5.keys())
    n = None
    for key in (*task.keys, "label"):
        if key not in h5:
            raise DataFormatError(
                f"{str(path)!r} lacks key {key!r} needed by task {task.name}; it has keys "
                f"{present}; expected the {_LAYOUT}")
    for key, shape in KEY_SHAPES.items():
        if key not in h5:
            continue
        ds = h5[key]
        if not hasattr(ds, "shape") or len(ds.shape) != 1 + len(shape) or tuple(ds.shape[1:]) != shape:
            got = "×".join(map(str, getattr(ds, "shape", ()))) or "a group"
            raise DataFormatError(
                f"key {key!r} of {str(path)!r} has shape {got}; expected N×{'×'.join(map(str, shape))} "
                f"(channels-last, {_LAYOUT})")
        if ds.dtype.kind not in "fiub":
            raise DataFormatError(
                f"key {key!r} of {str(path)!r} has dtype {ds.dtype}; expected numbers "
                f"(float64 as published, or float32/float16/uint8)")
        if n is None:
            n = int(ds.shape[0])
        elif ds.shape[0] != n:
            raise DataFormatError(
                f"key {key!r} of {str(path)!r} has {ds.shape[0]} patches but the other keys have {n}")
    if not n:
        raise DataFormatError(f"{str(path)!r} ({name}) holds 0 patches; the split is empty")
    return n
