"""Reader for So2Sat LCZ42 HDF5 files: lazy, batched, channels-first, validated.

A :class:`So2SatSplit` is one file (e.g. ``training.h5``) seen through a task
(``so2sat-s1``: ``sen1``, 8 channels; ``so2sat-s2``: ``sen2``, 10 channels;
``so2sat-s1s2``: both, S1 first). It never loads a whole file: ``labels``
reads only ``label``; :meth:`So2SatSplit.read` reads the requested patches as
sorted slabs and returns them in the requested order; :meth:`So2SatSplit.batches`
streams shuffled, augmented torch batches (see :mod:`surrogate_eo.data.loader`).
Files of the official layout are float64; float32, float16 and integer
arrays (torchgeo's uint8 test fixture) are read the same way.

The file is opened on first use in each process and the handle is dropped on
pickling, so a split can be handed to ``torch.utils.data.DataLoader`` workers
(it also implements ``__getitem__``/``__getitems__``).
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataFormatError, DatasetNotFoundError
from ..tasks import Task, get_task
from . import _reader
from ._reader import RowSource
from .layout import DataArgumentError, canonical_split, geo_name, resolve
from .stats import cached_key_stats

_H5_CACHE_BYTES = 64 * 2 ** 20


def _open_h5(path: Path):
    import h5py

    # HDF5's default file locking (HDF5_USE_FILE_LOCKING) is kept: opening one file twice with
    # different locking flags fails inside a process.
    return h5py.File(path, "r", rdcc_nbytes=_H5_CACHE_BYTES, rdcc_nslots=10007)


class So2SatSplit:
    """One So2Sat LCZ42 file read through a task.

    Parameters
    ----------
    path : path
        The HDF5 data file.
    task : str, default="so2sat-s2"
        ``"so2sat-s1"``, ``"so2sat-s2"`` or ``"so2sat-s1s2"``.
    name : str, optional
        Split name for messages (``"train"``, ``"val"``, ``"test"``); defaults to the file name.
    normalise : bool, default=True
        Return ``(x - mean) / std`` per channel from :meth:`read` and :meth:`batches`.
    stats_path : path, optional
        File whose statistics normalise this one (the training file, so validation and test
        are scaled like training). Defaults to ``path``.
    stats : tuple of array_like, optional
        Explicit ``(mean, std)`` per task channel, overriding ``stats_path``.

    Raises
    ------
    DatasetNotFoundError
        The file does not exist.
    DataFormatError
        The file is not readable HDF5, lacks a key, or has a wrong shape, dtype or no patches.
    """

    def __init__(self, path: str | os.PathLike[str], task: str = "so2sat-s2", *, name: str | None = None,
                 normalise: bool = True, stats_path: str | os.PathLike[str] | None = None,
                 stats: tuple[Any, Any] | None = None) -> None:
        self.path = Path(path).expanduser()
        self.task: Task = get_task(task)
        self.name = name or self.path.name
        self.normalise = bool(normalise)
        self.stats_path = Path(stats_path).expanduser() if stats_path is not None else self.path
        self._explicit_stats = None if stats is None else self._check_stats(stats)
        self._h5 = None
        self._pid = -1
        self._sources: dict[str, RowSource] = {}
        self._labels: np.ndarray | None = None
        self._city: Any = False
        self._stats: tuple[np.ndarray, np.ndarray] | None = None
        self._cache: Any = None
        self.n = self._validate()

    # ---------------------------------------------------------------- opening
    def _file(self):
        if self._h5 is None or self._pid != os.getpid():
            if not self.path.is_file():
                raise DatasetNotFoundError(f"So2Sat file {str(self.path)!r} does not exist")
            try:
                self._h5 = _open_h5(self.path)
            except OSError as exc:
                raise DataFormatError(
                    f"{str(self.path)!r} is not a readable HDF5 file ({exc}); it may be truncated or not "
                    f"HDF5 at all: re-download it or regenerate it with `surrogate-eo data synth`") from None
            self._pid = os.getpid()
            self._sources = {}
        return self._h5

    def _source(self, key: str) -> RowSource:
        h5 = self._file()
        if key not in self._sources:
            self._sources[key] = RowSource(self.path, h5[key])
        return self._sources[key]

    def _validate(self) -> int:
        return _reader.check_layout(self._file(), self.path, self.task, self.name)

    def close(self) -> None:
        """Close the file (it reopens on next use)."""
        self._sources = {}
        if self._h5 is not None:
            try:
                self._h5.close()
            finally:
                self._h5 = None

    def __enter__(self) -> So2SatSplit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(_h5=None, _pid=-1, _sources={}, _cache=None)
        return state

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return (f"So2SatSplit({str(self.path)!r}, task={self.task.name!r}, name={self.name!r}, n={self.n}, "
                f"normalise={self.normalise})")

    # ------------------------------------------------------------- metadata
    @property
    def in_channels(self) -> int:
        """Channels the network sees (8, 10 or 18)."""
        return self.task.in_channels

    @property
    def num_classes(self) -> int:
        """Number of classes (17)."""
        return self.task.num_classes

    @property
    def labels(self) -> np.ndarray:
        """Class index (0–16) of every patch, int64, read from ``label`` only (validated one-hot)."""
        if self._labels is None:
            src = self._source("label")
            out = np.empty(self.n, dtype=np.int64)
            step = 1 << 16
            for start in range(0, self.n, step):
                raw = src.read_rows(start, min(self.n, start + step))
                oh = raw.astype(np.float64)
                ok = np.isfinite(oh).all(1) & (np.abs(oh.sum(1) - 1) < 1e-6) & \
                    (np.abs(oh * (1 - oh)) < 1e-6).all(1)
                if not ok.all():
                    row = int(np.flatnonzero(~ok)[0])
                    raise DataFormatError(
                        f"key 'label' of {str(self.path)!r} is not one-hot at patch {start + row}: "
                        f"{raw[row].tolist()}; expected 17 values, one 1 and sixteen 0")
                out[start:start + raw.shape[0]] = oh.argmax(1)
            self._labels = out
        return self._labels

    @property
    def city(self) -> np.ndarray | None:
        """City name of every patch (str array) when the file or its ``*_geo.h5`` companion has ``city``."""
        if self._city is False:
            self._city = self._read_city()
        return self._city

    def _read_city(self) -> np.ndarray | None:
        h5 = self._file()
        if "city" in h5:
            raw, where = h5["city"][()], self.path
        else:
            geo = self.path.with_name(geo_name(self.path.name))
            if not geo.is_file():
                return None
            with _open_h5(geo) as g:
                if "city" not in g:
                    return None
                raw, where = g["city"][()], geo
        raw = np.asarray(raw)
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw[:, 0]
        if raw.shape != (self.n,):
            raise DataFormatError(f"key 'city' of {str(where)!r} has shape {raw.shape}; expected ({self.n},), "
                                  f"one city per patch of {self.path.name}")
        return np.array([v.decode("utf-8", "replace").rstrip("\x00") if isinstance(v, bytes) else str(v)
                         for v in raw.tolist()])

    # ---------------------------------------------------------- statistics
    def _check_stats(self, stats: tuple[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
        mean, std = (np.asarray(s, dtype=np.float64).reshape(-1) for s in stats)
        c = self.task.in_channels
        if mean.shape != (c,) or std.shape != (c,) or not (np.isfinite(mean).all() and (std > 0).all()):
            raise DataArgumentError(f"stats must be (mean, std) with {c} finite values each and std > 0 "
                                    f"for task {self.task.name}; got shapes {mean.shape}, {std.shape}")
        return mean, std

    def stats(self, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel ``(mean, std)`` (float64, file units) that normalise this split.

        Computed by one streaming pass over ``stats_path`` (the training file, by default this
        file) and cached as JSON beside it, keyed by its size and modification time. A
        channel with zero spread gets std 1.
        """
        if self._explicit_stats is not None:
            return self._explicit_stats
        if self._stats is None:
            if self.stats_path == self.path:
                sources = {k: self._source(k) for k in self.task.keys}
                per_key = cached_key_stats(self.path, sources, self.task.keys, progress=progress)
            else:
                with So2SatSplit(self.stats_path, self.task.name, normalise=False) as ref:
                    per_key = cached_key_stats(ref.path, {k: ref._source(k) for k in self.task.keys},
                                               self.task.keys, progress=progress)
            mean = np.concatenate([per_key[k][0] for k in self.task.keys])
            std = np.concatenate([per_key[k][1] for k in self.task.keys])
            self._stats = (mean, np.where(std > 0, std, 1.0))
        return self._stats

    # --------------------------------------------------------------- reading
    def check_indices(self, indices: Any) -> np.ndarray:
        """``indices`` as an int64 array, or raise :class:`DataArgumentError` naming the bad one."""
        idx = np.asarray(indices)
        if idx.ndim == 0:
            idx = idx.reshape(1)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise DataArgumentError(f"indices must be a 1-D sequence of integers; got shape {idx.shape} "
                                    f"dtype {idx.dtype}")
        idx = idx.astype(np.int64, copy=False)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            bad = int(idx[(idx < 0) | (idx >= self.n)][0])
            raise DataArgumentError(f"index {bad} out of range for {self.name} ({self.path.name}) "
                                    f"with {self.n} patches (valid: 0..{self.n - 1})")
        return idx

    @property
    def random_access(self) -> bool:
        """True when every key is memory-mapped: rows can be gathered in any order in one pass."""
        return all(self._source(k).mmap is not None for k in self.task.keys)

    def _read_rows(self, rows: np.ndarray, dtype: Any = np.float32, out: np.ndarray | None = None) -> np.ndarray:
        """Patches at ``rows`` in that order (sorted unique unless :attr:`random_access`).

        Channels-first, normalised when ``self.normalise``: ``float32(x * (1 / std)) -
        float32(mean / std)`` per channel in one pass (:meth:`RowSource.read_into`), which also
        screens for NaN/inf (a non-finite value triggers the exact per-value check). Writes into
        ``out`` when given.
        """
        if out is None:
            out = np.empty((rows.size, self.task.in_channels, 32, 32), dtype=dtype)
        mean, std = self.stats() if self.normalise else (None, None)
        c0 = 0
        spans = []
        finite = True
        for key in self.task.keys:
            src = self._source(key)
            c1 = c0 + src.shape[-1]
            finite &= src.read_into(rows, out, slice(c0, c1), None if std is None else 1.0 / std[c0:c1],
                                    None if mean is None else (mean / std).astype(out.dtype)[c0:c1])
            spans.append((key, c0, c1, src.dtype.kind == "f"))
            c0 = c1
        if not finite and rows.size:
            self._raise_non_finite(rows, out, spans)
        return out

    def _raise_non_finite(self, rows: np.ndarray, out: np.ndarray, spans: list) -> None:
        for key, c0, c1, is_float in spans:
            part = out[:, c0:c1]
            if is_float and not np.isfinite(part).all():
                r, c, i, j = (int(v) for v in np.argwhere(~np.isfinite(part))[0])
                value = part[r, c, i, j] * (self.stats()[1][c0 + c] if self.normalise else 1.0)
                raise DataFormatError(
                    f"key {key!r} of {str(self.path)!r} holds a non-finite value ({float(value)}) at patch "
                    f"{int(rows[r])}, channel {c}; expected finite numbers: repair or regenerate the file")

    def _read_parallel(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`_read_rows` with the rows cut into parts read by the shared reader threads."""
        parts = min(_reader.read_threads(), rows.size // _reader.MIN_ROWS_PER_THREAD)
        if parts <= 1:
            return self._read_rows(rows)
        for key in self.task.keys:   # open everything before threads use it
            self._source(key)
        if self.normalise:
            self.stats()
        out = np.empty((rows.size, self.task.in_channels, 32, 32), dtype=np.float32)
        bounds = np.linspace(0, rows.size, parts + 1).astype(int)
        futures = [_reader.pool().submit(self._read_rows, rows[a:b], np.float32, out[a:b])
                   for a, b in zip(bounds[:-1], bounds[1:])]
        for f in futures:
            f.result()
        return out

    def _read_any(self, idx: np.ndarray) -> np.ndarray:
        """Patches at ``idx`` in that order, any order and repeats allowed."""
        if self.random_access:
            return self._read_parallel(idx)
        rows, inverse = np.unique(idx, return_inverse=True)
        x = self._read_parallel(rows)
        if rows.size != idx.size or not np.array_equal(rows, idx):
            x = x[inverse.reshape(-1)]
        return x

    def read(self, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Read patches in the requested order.

        Parameters
        ----------
        indices : sequence of int
            Patch indices (any order, repeats allowed).

        Returns
        -------
        x : ndarray float32, shape (n, C, 32, 32)
            Channels-first patches, normalised when ``self.normalise``.
        y : ndarray int64, shape (n,)
            Class indices.
        """
        idx = self.check_indices(indices)
        return self._read_any(idx), self.labels[idx]

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        """One patch ``(x (C, 32, 32) float32, y int)``: the map-style ``Dataset`` protocol."""
        x, y = self.read([int(i)])
        return x[0], int(y[0])

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[np.ndarray, int]]:
        """Many patches with one batched read (used by ``torch.utils.data.DataLoader``)."""
        x, y = self.read(indices)
        return list(zip(x, y.tolist()))

    def batches(self, indices: Sequence[int] | np.ndarray | None, batch_size: int, *, shuffle: bool,
                seed: int = 0, augment: bool = False, device: Any = "cpu", cache: bool | str = False,
                drop_last: bool = False, shuffle_block: int | None = None) -> Iterator[tuple[Any, Any]]:
        """Iterate torch batches ``(x float32 (B, C, 32, 32), y int64 (B,))``.

        See :func:`surrogate_eo.data.loader.iterate_batches` for the parameters.
        """
        from .loader import iterate_batches

        return iterate_batches(self, indices, batch_size, shuffle=shuffle, seed=seed, augment=augment,
                               device=device, cache=cache, drop_last=drop_last, shuffle_block=shuffle_block)


def open_split(root: str | os.PathLike[str], split: str, task: str = "so2sat-s2",
               version: str | int | None = None, *, variant: str | None = None, normalise: bool = True,
               stats: tuple[Any, Any] | None = None) -> So2SatSplit:
    """Open one split of a So2Sat LCZ42 data root.

    Parameters
    ----------
    root : path
        Data root (see :func:`~surrogate_eo.data.find_files` for the layouts).
    split : {"train", "val", "test"}
        Which split (``"training"``, ``"validation"``, ``"testing"`` also accepted).
    task : str, default="so2sat-s2"
        Task name (see :data:`surrogate_eo.tasks.TASKS`).
    version : str or int, optional
        Dataset version; detected from the files when omitted.
    variant : str, optional
        Version-3 scenario (``"random"``, ``"block"``, ``"culture_10"``).
    normalise : bool, default=True
        Normalise with the **training** file's per-channel statistics (cached beside it).
    stats : tuple of array_like, optional
        Explicit ``(mean, std)`` per channel instead.

    Returns
    -------
    So2SatSplit

    Examples
    --------
    >>> import tempfile
    >>> from surrogate_eo.data import open_split, synthesize
    >>> tmp = tempfile.mkdtemp()
    >>> _ = synthesize(tmp, n_train=64, n_val=32, n_test=32)
    >>> train = open_split(tmp, "train", task="so2sat-s2")
    >>> x, y = train.read([3, 1, 2])
    >>> x.shape, y.dtype
    ((3, 10, 32, 32), dtype('int64'))
    """
    get_task(task)
    name = canonical_split(split)
    version_name, files = resolve(root, version, variant=variant)
    if name not in files:
        hint = (" hold out part of 'train' with stratified_subset(split.labels, fraction=...)"
                if name == "val" else " use a version with a test file (2, 3-*, 4)")
        raise DatasetNotFoundError(
            f"So2Sat LCZ42 version {version_name} has no {name!r} split (it has {', '.join(files)});{hint}")
    return So2SatSplit(files[name], task, name=name, normalise=normalise,
                       stats_path=files.get("train", files[name]), stats=stats)
