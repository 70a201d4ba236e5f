"""One fused pass from memory-mapped channels-last rows to normalised channels-first float32 (numba).

For each requested row the kernel reads the stored patch once (``H×W×C`` float64
or float32, straight from the page cache through the memory map), and writes
``float32(x * scale[c]) - shift[c]`` into the channels-first slot of the output:
the same operations, in the same precision and order, as the numpy path of
:meth:`~surrogate_eo.data._reader.RowSource.read_into` (multiply in float64,
round to float32, subtract the float32 shift), so the results are bit for bit
equal. It also reports whether every written value is finite (the NaN/inf
screen) from the row it has just written, still in cache, so no second pass
over the batch is needed.

The transpose is done in tiles of :data:`TILE` pixels: for each tile, each
channel's ``TILE`` values are read with a stride of ``C`` (the 1,280-byte tile
stays in L1) and written contiguously. The loop is scalar (the compiler does not
use gathers here) and about as fast as a bare copy of the float64 rows: what
bounds it is fetching random 80 KiB rows from memory.

numba is a dependency, imported only when worth it; without it (a platform
without wheels) or with ``SURROGATE_EO_JIT=0`` in the environment, :func:`kernel` is ``None`` and the
numpy path answers. The kernel is compiled once per machine (numba's on-disk
cache next to this file); importing numba still costs about a second, which
the kernel wins back only after some 30,000 rows (it saves about 30 µs a row
over the numpy path, ``benchmarks/bench_loader.py``'s stage table). So a process loads it once it has read
:data:`MIN_ROWS` rows in all (:func:`wanted`): streaming epochs and statistics
passes do, a short training run of a few hundred patches (the ``smoke``
protocol, the demo's campaign) never does. Once loaded, it serves every read.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._numba import build_once, env_enabled

#: Set to ``False`` to use the numpy path in this process (tests compare both paths).
ENABLED = env_enabled()
#: Rows a process reads (in all) before it loads numba; later reads of any size use the loaded kernel.
MIN_ROWS = 32_768
_READ = [0]                      # rows read so far in this process (asked through wanted)
#: Pixels per transpose tile (16 float32 = one 64-byte cache line per channel).
TILE = 16
#: Source dtypes the kernel takes (native byte order only).
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
_KERNEL: list[Any] = []          # [] = not tried yet; [None] = unavailable; [fn] = loaded


def _build() -> Callable[..., bool] | None:
    try:
        import numba
    except Exception:  # noqa: BLE001 - missing, or built for another numpy: the numpy path answers
        return None

    # fastmath "reassoc" only: lets the finiteness sum vectorise; no other flag (NaN/inf must survive,
    # and there is no chain of the same operation in the conversion for it to reorder)
    @numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
    def gather_convert(src: np.ndarray, rows: np.ndarray, out: np.ndarray, c0: int, scale: np.ndarray,
                       shift: np.ndarray) -> bool:
        n, h, w, c = rows.shape[0], src.shape[1], src.shape[2], src.shape[3]
        p = h * w
        full = p - p % TILE
        o = out.reshape(out.shape[0], out.shape[1] * p)
        acc = np.float32(0.0)
        for i in range(n):
            x = src[rows[i]].reshape(p * c)
            oi = o[i]
            for p0 in range(0, full, TILE):
                for ch in range(c):
                    sc, sh = scale[ch], shift[ch]
                    base = (c0 + ch) * p + p0
                    for q in range(TILE):
                        oi[base + q] = np.float32(x[(p0 + q) * c + ch] * sc) - sh
            for ch in range(c):                   # pixels after the last whole tile (none for 32×32)
                for px in range(full, p):
                    oi[(c0 + ch) * p + px] = np.float32(x[px * c + ch] * scale[ch]) - shift[ch]
            # the screen: the row's float32 output, contiguous and still in L1/L2, in a vectorised
            # sum of v * 0 (0 for finite v, NaN after a NaN/inf); inside the loop above it would be
            # one serial chain of adds (-15 %, benchmarks/bench_loader.py)
            seg = oi[c0 * p:(c0 + c) * p]
            for k in range(seg.shape[0]):
                acc += seg[k] * np.float32(0.0)
        return acc == acc

    return gather_convert  # type: ignore[no-any-return]


def kernel() -> Callable[..., bool] | None:
    """The compiled kernel, or ``None`` when numba is missing or the JIT is switched off.

    Returns
    -------
    callable or None
        ``gather_convert(src, rows, out, c0, scale, shift) -> bool``: ``src`` a C-contiguous
        ``(N, H, W, C)`` float64/float32 array (a memory map), ``rows`` int64 indices into it
        (any order, repeats allowed, all in range), ``out`` a C-contiguous ``(n, C_total, H, W)``
        float32 array whose channels ``c0:c0 + C`` are written, ``scale`` float64 ``(C,)``,
        ``shift`` float32 ``(C,)``; returns whether every written value is finite.
    """
    if not ENABLED:
        return None
    return build_once(_KERNEL, _build)  # type: ignore[no-any-return]


def loaded() -> bool:
    """True once the kernel has been built or loaded in this process."""
    return bool(_KERNEL) and _KERNEL[0] is not None


def wanted(n_rows: int) -> Callable[..., bool] | None:
    """The kernel when it is worth using for a read of ``n_rows`` rows, else ``None``.

    Counts the rows; numba is loaded once the process has read :data:`MIN_ROWS` rows in all
    (about a second per process, won back after some 30,000 rows); once loaded every read
    uses it.

    Examples
    --------
    >>> wanted(0) is None or loaded()
    True
    """
    if not ENABLED:
        return None
    _READ[0] += int(n_rows)
    if loaded() or _READ[0] >= MIN_ROWS:
        return kernel()
    return None


def convert_numpy(block: np.ndarray, dst: np.ndarray, scale: np.ndarray | None,
                  shift: np.ndarray | None) -> bool:
    """The numpy path: ``dst = float32(block * scale) - shift``, channels-first; True when all finite.

    Parameters
    ----------
    block : ndarray, shape (n, H, W, C)
        Stored rows (any numeric dtype).
    dst : ndarray, shape (n, C, H, W)
        Output (a view into the batch).
    scale : ndarray float64 (C,) or None
        Multiplier per channel, applied in float64 (``None``: cast only).
    shift : ndarray (C,) of ``dst.dtype`` or None
        Subtracted after the cast (``None``: nothing).

    Examples
    --------
    >>> b = np.arange(2 * 2 * 2 * 3, dtype=np.float64).reshape(2, 2, 2, 3)
    >>> d = np.empty((2, 3, 2, 2), np.float32)
    >>> convert_numpy(b, d, np.full(3, 0.5), np.ones(3, np.float32))
    True
    >>> float(d[1, 2, 1, 1]), float(b[1, 1, 1, 2] * 0.5 - 1)
    (10.5, 10.5)
    """
    src = block.transpose(0, 3, 1, 2)
    if scale is None:
        dst[...] = src
    else:
        np.multiply(src, scale[:, None, None], out=dst, casting="unsafe")
    if shift is not None:
        dst -= shift[:, None, None]
    return dst.dtype.kind != "f" or bool(np.isfinite(dst.sum()))
