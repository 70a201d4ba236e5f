"""Per-channel normalisation statistics: one streaming pass, cached beside the data.

The mean and standard deviation of every channel of ``sen1``/``sen2`` are
computed slab by slab (never loading a whole file) with Chan et al.'s
pairwise update in float64. A value that is not finite, or larger in
magnitude than float32 allows (``1e308`` is finite in float64 but would make
the mean ``inf``), raises :class:`~surrogate_eo.errors.DataFormatError`
naming the key, patch, band and value. The result is cached as JSON next to the file
(``training.h5`` → ``training.h5.stats.json``) together with the file's size
and modification time, so a changed file invalidates it. When the data folder
is read-only the cache goes to the user cache folder instead
(:func:`~surrogate_eo._io.user_cache_dir`; none when ``$SURROGATE_EO_CACHE=off``).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .._io import atomic_write_json, user_cache_dir
from ..errors import DataFormatError

STATS_SCHEMA = 1
#: Bytes of source data read per step of the streaming pass.
SLAB_BYTES = 64 * 2 ** 20
#: Largest magnitude a value may have: the float32 maximum (training normalises in float32). Sums and
#: squares of values this size cannot overflow float64, so the streaming pass never yields inf or NaN.
MAX_ABS_VALUE = float(np.finfo(np.float32).max)


def cache_paths(path: Path) -> list[Path]:
    """Candidate cache files for data file ``path``: beside it first, then the user cache."""
    path = Path(path)
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:16]
    beside = path.with_name(path.name + ".stats.json")
    user = user_cache_dir()
    return [beside] if user is None else [beside, user / "stats" / f"{digest}-{path.name}.stats.json"]


def fingerprint(path: Path) -> dict[str, int]:
    """Size (bytes) and modification time (ns) of ``path``: what invalidates a cache."""
    st = Path(path).stat()
    return {"size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns)}


def _load(path: Path) -> dict:
    fp = fingerprint(path)
    for cand in cache_paths(path):
        try:
            doc = json.loads(cand.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (isinstance(doc, dict) and doc.get("schema") == STATS_SCHEMA
                and doc.get("size") == fp["size"] and doc.get("mtime_ns") == fp["mtime_ns"]
                and isinstance(doc.get("keys"), dict)):
            return doc
    return {"schema": STATS_SCHEMA, "file": Path(path).name, **fp, "keys": {}}


def _save(path: Path, doc: dict) -> Path | None:
    for cand in cache_paths(path):
        try:
            atomic_write_json(cand, doc)
            return cand
        except OSError:
            continue
    return None  # nowhere writable: stats are recomputed next time


def key_stats(source, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """Streaming mean/std per channel of one :class:`~surrogate_eo.data._reader.RowSource`.

    Returns
    -------
    mean, std : ndarray float64, shape (C,)
        Per-channel mean and (population) standard deviation, in the file's units.
    count : int
        Values per channel that were averaged (patches × 32 × 32).
    """
    n = source.shape[0]
    row_bytes = int(np.prod(source.shape[1:])) * source.dtype.itemsize
    step = max(1, SLAB_BYTES // max(row_bytes, 1))
    if source.chunk_rows:
        step = max(source.chunk_rows, step // source.chunk_rows * source.chunk_rows)
    count, mean, m2 = 0, np.zeros(source.shape[-1]), np.zeros(source.shape[-1])
    bar = _bar(progress, f"stats {source.path.name}:{source.name}", n)
    try:
        for start in range(0, n, step):
            x = source.read_rows(start, min(n, start + step)).astype(np.float64)
            x = x.reshape(-1, x.shape[-1])
            if source.dtype.kind == "f" and not (np.abs(x) <= MAX_ABS_VALUE).all():
                bad = np.argwhere(~(np.abs(x) <= MAX_ABS_VALUE))[0]
                row = start + int(bad[0]) // (source.shape[1] * source.shape[2])
                value = x[tuple(bad)]
                what = ("a non-finite value" if not np.isfinite(value) else
                        f"a value outside the float32 range the trainer computes in (|x| <= {MAX_ABS_VALUE:.3g})")
                raise DataFormatError(
                    f"key {source.name!r} of {str(source.path)!r} holds {what} ({value:.6g}) at patch {row}, "
                    f"channel {int(bad[1])}; expected finite sensor values: repair or regenerate the file")
            b_n = x.shape[0]
            b_mean = x.mean(axis=0)
            b_m2 = ((x - b_mean) ** 2).sum(axis=0)
            delta = b_mean - mean
            tot = count + b_n
            mean = mean + delta * (b_n / tot)
            m2 = m2 + b_m2 + delta ** 2 * (count * b_n / tot)
            count = tot
            if bar:
                bar[0].update(bar[1], advance=min(step, n - start))
    finally:
        if bar:
            bar[0].stop()
    return mean, np.sqrt(m2 / max(count, 1)), count


def _valid_entry(entry: object, channels: int) -> bool:
    """A cached entry with ``channels`` finite means and non-negative finite stds."""
    if not isinstance(entry, dict):
        return False
    try:
        mean = np.asarray(entry.get("mean"), dtype=np.float64)
        std = np.asarray(entry.get("std"), dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return (mean.shape == (channels,) and std.shape == (channels,) and bool(np.isfinite(mean).all())
            and bool(np.isfinite(std).all()) and bool((std >= 0).all()))


def _bar(enabled: bool, label: str, total: int):
    if not enabled:
        return None
    from rich.progress import Progress

    prog = Progress(transient=True)
    prog.start()
    return prog, prog.add_task(label, total=total)


def cached_key_stats(path: Path, sources: dict, keys: tuple[str, ...], *,
                     progress: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Mean/std per channel of each of ``keys`` of file ``path``, from the cache or a streaming pass.

    Parameters
    ----------
    path : pathlib.Path
        The data file.
    sources : dict of str to RowSource
        Open row sources of that file, by key.
    keys : tuple of str
        Keys wanted (``"sen1"``, ``"sen2"``).
    progress : bool, default=False
        Show a progress bar while computing.
    """
    doc = _load(path)
    changed = False
    out = {}
    for key in keys:
        entry = doc["keys"].get(key)
        if not _valid_entry(entry, sources[key].shape[-1]):
            mean, std, count = key_stats(sources[key], progress=progress)
            entry = {"mean": mean.tolist(), "std": std.tolist(), "count": count}
            doc["keys"][key] = entry
            changed = True
        out[key] = (np.asarray(entry["mean"], np.float64), np.asarray(entry["std"], np.float64))
    if changed:
        _save(path, doc)
    return out
