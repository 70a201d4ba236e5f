"""Keep long-lived training processes from holding freed memory (glibc only; no-ops elsewhere).

A local-executor worker trains run after run in one process. glibc's allocator
raises its mmap threshold each time a large block is freed, so later tensors and
arrays come from the heap, which fragments and is rarely given back: a worker's
resident anonymous memory keeps growing from run to run
(``benchmarks/bench_worker_memory.py`` measures it). :func:`tune_allocator` pins the
threshold (blocks of 1 MiB and more are mapped and unmapped directly) and
:func:`release_memory` returns free heap pages to the system after each run.

>>> import sys
>>> tune_allocator() == sys.platform.startswith("linux")    # glibc accepted the setting
True
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

#: glibc's ``M_MMAP_THRESHOLD`` parameter of ``mallopt``.
_M_MMAP_THRESHOLD = -3
#: Allocations of this many bytes or more bypass the heap.
MMAP_THRESHOLD = 1 << 20


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def tune_allocator(threshold: int = MMAP_THRESHOLD) -> bool:
    """Pin glibc's mmap threshold at ``threshold`` bytes; returns whether it was applied."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, int(threshold)))


def release_memory() -> bool:
    """Collect garbage and give free heap pages back to the system; returns whether glibc released any."""
    gc.collect()
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
