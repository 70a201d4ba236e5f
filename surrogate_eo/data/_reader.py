"""Layout checks and fast row access to HDF5 datasets: memory map when possible, slab reads otherwise.

Indexing an ``h5py`` dataset one sample at a time costs a library round trip
(and, for compressed files, a chunk decompression) per sample. Here rows are
always requested sorted and unique:

- a contiguous, uncompressed dataset (the official So2Sat files, and synthetic
  files written with ``compression=None``) is memory-mapped with numpy at the
  offset HDF5 reports, so a gather is one vectorised copy from the page cache;
- a chunked or compressed dataset is read as a few contiguous slabs: sorted
  indices whose gaps are at most a chunk apart are merged into one read, so
  every chunk is decompressed once per request.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError
from ..tasks import NUM_CLASSES

#: Shape of one patch per key (channels-last, as stored).
KEY_SHAPES = {"sen1": (32, 32, 8), "sen2": (32, 32, 10), "label": (NUM_CLASSES,)}
_LAYOUT = "So2Sat LCZ42 layout: sen1 N×32×32×8, sen2 N×32×32×10, label N×17 one-hot"
#: Largest number of rows one slab read covers (bounds the temporary buffer).
MAX_SLAB_ROWS = 4096
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
    """

    def __init__(self, path: Path, ds) -> None:
        self.path = path
        self.name = ds.name.lstrip("/")
        self.ds = ds
        self.shape = tuple(ds.shape)
        self.dtype = ds.dtype
        self.chunk_rows = int(ds.chunks[0]) if ds.chunks else 0
        self.mmap = self._try_mmap(path, ds)

    @staticmethod
    def _try_mmap(path: Path, ds) -> np.ndarray | None:
        if ds.chunks is not None or ds.compression is not None or ds.dtype.kind not in "fiu":
            return None
        try:
            offset = ds.id.get_offset()
        except Exception:  # noqa: BLE001 - any failure just disables the fast path
            return None
        if offset is None:
            return None
        try:
            return np.memmap(path, dtype=ds.dtype, mode="r", offset=offset, shape=tuple(ds.shape))
        except (OSError, ValueError):
            return None

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

    def read_into(self, rows: np.ndarray, out: np.ndarray, channels: slice,
                  scale: np.ndarray | None = None) -> None:
        """Copy ``rows`` into ``out[:, channels]`` channels-first, casting to ``out.dtype``.

        ``rows`` may be in any order (repeats allowed) when the dataset is memory-mapped, and
        must be sorted and unique otherwise (see :attr:`mmap`). With ``scale`` (one factor per
        channel) the values are multiplied on the way, in the same pass.

        Raises
        ------
        DataFormatError
            When HDF5 cannot read the rows (a truncated or damaged file).
        """
        def put(dst: np.ndarray, block: np.ndarray) -> None:
            src = block.transpose(0, 3, 1, 2)
            if scale is None:
                dst[...] = src
            else:
                np.multiply(src, scale[:, None, None], out=dst, casting="unsafe")

        try:
            if self.mmap is not None:
                # row by row straight from the page cache into its channels-first slot: one pass over
                # the source, no float64 gather buffer (2-3x the rate of gather-then-convert;
                # benchmarks/bench_loader.py, "what limits streaming")
                dst, mm = out[:, channels], self.mmap
                if scale is None:
                    for i, r in enumerate(rows.tolist()):
                        dst[i] = mm[r].transpose(2, 0, 1)
                else:
                    s = scale[:, None, None]
                    for i, r in enumerate(rows.tolist()):
                        np.multiply(mm[r].transpose(2, 0, 1), s, out=dst[i], casting="unsafe")
                return
            for start, stop, a, b in self.plan(rows):
                slab = self.ds[start:stop]
                sel = rows[a:b] - start
                put(out[a:b, channels], slab if sel.size == stop - start else slab[sel])
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
