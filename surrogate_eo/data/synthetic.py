"""Synthetic data in exactly the So2Sat LCZ42 file layout (clearly marked as synthetic).

:func:`synthesize` writes ``training.h5`` / ``validation.h5`` / ``testing.h5``
(and the version-3 folders or version-4 ``*_geo.h5`` companions) with the
official keys, shapes and dtypes: ``sen1`` N×32×32×8, ``sen2`` N×32×32×10 and
``label`` N×17 one-hot, float64. Every file carries the attributes
``synthetic=True``, ``generator`` and ``seed``, and a ``README.md`` beside them
says so. The patches come from the scene model of
:mod:`surrogate_eo.data._scene`: class-specific spectra and building, tree and
field textures at several scales; Sentinel-1 with speckle and a weaker class
signal; So2Sat-like class imbalance; and a domain shift, because the training
cities and the validation/test cities are drawn differently (as So2Sat's splits
are different cities).

Files are written to a temporary name and renamed, so an interrupted run never
leaves a half-written file under the final name.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_path, atomic_write_text
from ..tasks import CLASSES, NUM_CLASSES
from ._scene import City, make_cities, render
from .layout import VERSIONS, DataArgumentError, canonical_version, geo_name
from .sampling import stratified_subset

#: Patches rendered per step (fixed, so the output does not depend on threads).
RENDER_CHUNK = 512
#: HDF5 chunk length (patches) of compressed datasets.
H5_CHUNK_ROWS = 16
N_TRAIN_CITIES, N_HELDOUT_CITIES = 32, 10
_TAGS = {"train": 1, "val": 2, "test": 3, "random": 11, "block": 12, "culture_10": 13}
_DTYPES = ("float64", "float32", "float16")


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([int(k) & 0xFFFFFFFF for k in key])


def _assign(rng: np.random.Generator, cities: list[City], n: int) -> tuple[np.ndarray, np.ndarray]:
    """City and class of ``n`` patches, grouped by city as in the published files."""
    sizes = rng.multinomial(n, rng.dirichlet(np.full(len(cities), 3.0)))
    city = np.repeat(np.arange(len(cities)), sizes)
    prior = np.stack([c.prior for c in cities])[city]
    labels = (prior.cumsum(1) < rng.random((n, 1))).sum(1).clip(0, NUM_CLASSES - 1)
    return city, labels.astype(np.int64)


_Plan = dict[str, tuple[list[City], np.ndarray, np.ndarray, int]]


def _split_plan(version: str, seed: int, n: dict[str, int]) -> _Plan:
    """Relative file → (cities, city index, labels, stream tag) for every file of ``version``."""
    crng = _rng(seed, 0)
    train_c = make_cities(crng, N_TRAIN_CITIES, held_out=False, prefix="synthetic-city-")
    held_c = make_cities(crng, N_HELDOUT_CITIES, held_out=True, prefix="synthetic-heldout-city-")
    plan: _Plan = {}
    if not version.startswith("3"):
        for split in ("train", "val", "test"):
            if split not in VERSIONS[version].files:
                continue
            cities = train_c if split == "train" else held_c
            city, lab = _assign(_rng(seed, _TAGS[split], 0), cities, n[split])
            plan[VERSIONS[version].files[split]] = (cities, city, lab, _TAGS[split])
        return plan
    variant = version.split("-", 1)[1]
    tag = _TAGS[variant]
    if variant == "culture_10":   # held-out cities, as version 2's validation/test
        for split, cities in (("train", train_c), ("test", held_c)):
            city, lab = _assign(_rng(seed, tag, _TAGS[split]), cities, n[split])
            rel = f"{variant}/{'training' if split == 'train' else 'testing'}.h5"
            plan[rel] = (cities, city, lab, tag * 10 + _TAGS[split])
        return plan
    # random / block: every city contributes to both; block adds a small per-block shift
    cities = train_c + held_c
    city, lab = _assign(_rng(seed, tag, 0), cities, n["train"] + n["test"])
    brng = _rng(seed, tag, 1)
    pick = stratified_subset(city, count=n["test"], seed=int(brng.integers(2 ** 31)))  # n_test, ~share per city
    test = np.zeros(city.size, bool)
    if variant == "random":
        test[pick] = True
    else:  # block: the last rows (one geographic block) of every city
        per_city = np.bincount(city[pick], minlength=len(cities))
        for c, k in enumerate(per_city):
            rows = np.flatnonzero(city == c)
            test[rows[rows.size - k:]] = True
    test_cities = cities
    if variant == "block":
        test_cities = [replace(c, gain=c.gain * np.float32(1 + brng.normal(0, 0.02)),
                               greenness=c.greenness * float(brng.uniform(0.9, 1.05))) for c in cities]
    plan[f"{variant}/training.h5"] = (cities, city[~test], lab[~test], tag * 10 + 1)
    plan[f"{variant}/testing.h5"] = (test_cities, city[test], lab[test], tag * 10 + 3)
    return plan


@contextlib.contextmanager
def _atomic_h5(path: Path):
    """An ``h5py.File`` opened for writing on a temporary name that replaces ``path`` on success."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        yield f


def _attrs(f: Any, seed: int, version: str, rel: str) -> None:
    from .. import __version__

    f.attrs["synthetic"] = True
    f.attrs["generator"] = f"surrogate-eo {__version__} (surrogate_eo.data.synthetic)"
    f.attrs["seed"] = int(seed)
    f.attrs["so2sat_version"] = version
    f.attrs["description"] = (f"SYNTHETIC data in the So2Sat LCZ42 layout ({rel}); not real Sentinel imagery")


def _write_file(path: Path, rel: str, version: str, seed: int, cities: list[City], city: np.ndarray,
                labels: np.ndarray, tag: int, dtype: str, compression: str | None, workers: int,
                advance: Callable[[int], None]) -> None:
    n = labels.size
    opts: dict[str, Any] = {}
    if compression:
        opts = {"compression": compression, "shuffle": True}
        if compression == "gzip":
            opts["compression_opts"] = 1
    with _atomic_h5(path) as f:
        _attrs(f, seed, version, rel)
        ds = {}
        for key, c in (("sen1", 8), ("sen2", 10)):
            chunks = (min(H5_CHUNK_ROWS, max(n, 1)), 32, 32, c) if compression else None
            ds[key] = f.create_dataset(key, shape=(n, 32, 32, c), dtype=dtype, chunks=chunks, **opts)
        onehot = np.zeros((n, NUM_CLASSES), dtype=dtype)
        onehot[np.arange(n), labels] = 1
        f.create_dataset("label", data=onehot, **({} if not compression else opts))

        def job(k: int) -> tuple[int, np.ndarray, np.ndarray]:
            sl = slice(k * RENDER_CHUNK, min(n, (k + 1) * RENDER_CHUNK))
            s1, s2 = render(_rng(seed, tag, 100 + k), labels[sl], cities, city[sl])
            return sl.start, s1, s2

        n_chunks = -(-n // RENDER_CHUNK)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            pending = [pool.submit(job, k) for k in range(min(n_chunks, workers + 1))]
            nxt = len(pending)
            while pending:
                start, s1, s2 = pending.pop(0).result()
                if nxt < n_chunks:
                    pending.append(pool.submit(job, nxt))
                    nxt += 1
                stop = start + s1.shape[0]
                # float32 values cast to float64: exact, and the zero low bytes compress well
                ds["sen1"][start:stop] = s1.transpose(0, 2, 3, 1).astype(dtype)
                ds["sen2"][start:stop] = s2.transpose(0, 2, 3, 1).astype(dtype)
                advance(stop - start)


def _write_geo(path: Path, cities: list[City], city: np.ndarray, seed: int, version: str, rel: str) -> None:
    n = city.size
    rng = _rng(seed, 7, n)
    x = rng.uniform(3e5, 7e5, n).round(-1)
    y = rng.uniform(1e6, 6e6, n).round(-1)
    zone = (np.arange(len(cities)) * 7 % 60 + 1)[city]
    with _atomic_h5(path) as f:
        _attrs(f, seed, version, rel)
        f.create_dataset("coord", data=np.stack([x, y, rng.integers(0, 10000, n), rng.integers(0, 10000, n),
                                                 rng.integers(0, 10000, n), rng.integers(0, 10000, n)], 1)
                         .astype(np.float64).reshape(n, 6))
        f.create_dataset("epsg", data=(32600 + zone).astype(np.float64).reshape(n, 1))
        f.create_dataset("tfw", data=np.stack([np.full(n, 10.0), np.zeros(n), np.zeros(n), np.full(n, -10.0),
                                               x - 160, y + 160], 1).reshape(n, 6))
        f.create_dataset("city", data=np.array([cities[i].name.encode() for i in city], dtype="S32"))


def synthesize(out_dir: str | os.PathLike[str], version: int | str = 2, n_train: int = 4096,
               n_val: int = 1024, n_test: int = 1024, seed: int = 0, compression: str | None = "gzip", *,
               dtype: str = "float64", workers: int | None = None, progress: bool = False) -> dict[str, Path]:
    """Write synthetic So2Sat LCZ42 files in the official layout.

    Parameters
    ----------
    out_dir : path
        Folder to write into (created; existing files of the same names are replaced atomically).
    version : {1, 2, "3-random", "3-block", "3-culture_10", "3", 4}, default=2
        Layout to write. ``"3"`` writes all three version-3 folders; 4 adds ``*_geo.h5``
        with ``coord``, ``epsg``, ``tfw`` and ``city``.
    n_train, n_val, n_test : int
        Patches per split (version 3 has no validation file: ``n_val`` is not used).
    seed : int, default=0
        Same seed, same files (byte for byte in the arrays).
    compression : {"gzip", "lzf", None}, default="gzip"
        HDF5 filter (gzip level 1 with byte shuffle, chunks of 16 patches); ``None`` writes
        contiguous arrays, which :class:`~surrogate_eo.data.So2SatSplit` memory-maps (fastest reads).
    dtype : {"float64", "float32", "float16"}, default="float64"
        Array dtype; float64 is the published layout.
    workers : int, optional
        Rendering threads (default: up to 2).
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    dict of str to pathlib.Path
        Written files: ``"train"``/``"val"``/``"test"`` (``"random/train"`` etc. for version 3),
        ``"<split>_geo"`` for version 4, and ``"readme"``.
    """
    name = canonical_version(version)
    if name is None:
        raise DataArgumentError("version must be given (1, 2, 3, '3-random', '3-block', '3-culture_10' or 4)")
    counts = {"train": n_train, "val": n_val, "test": n_test}
    for k, v in counts.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            if not (k == "val" and name.startswith("3")):
                raise DataArgumentError(f"n_{k} must be a positive integer; got {v!r}")
    if compression not in ("gzip", "lzf", None):
        raise DataArgumentError(f"compression must be 'gzip', 'lzf' or None; got {compression!r}")
    if dtype not in _DTYPES:
        raise DataArgumentError(f"dtype must be one of {', '.join(_DTYPES)}; got {dtype!r}")
    out = Path(out_dir).expanduser()
    versions = [f"3-{v}" for v in ("random", "block", "culture_10")] if name == "3" else [name]
    plans = {v: _split_plan(v, seed, counts) for v in versions}
    total = sum(p[2].size for plan in plans.values() for p in plan.values())
    workers = workers or min(2, os.cpu_count() or 1)
    written: dict[str, Path] = {}
    from .._progress import Progress  # a bar on a terminal, plain periodic lines in a pipe or file

    bar = Progress("synthesising", total, enabled=progress, unit="patches")
    bar.start()
    advance = bar.advance
    try:
        for v, plan in plans.items():
            for rel, (cities, city, labels, tag) in plan.items():
                split = {"training": "train", "validation": "val", "testing": "test"}[Path(rel).stem]
                key = f"{Path(rel).parent.name}/{split}" if v.startswith("3") else split
                _write_file(out / rel, rel, v, seed, cities, city, labels, tag, dtype, compression, workers, advance)
                written[key] = out / rel
                if VERSIONS[v].geo:
                    _write_geo(out / geo_name(rel), cities, city, seed, v, rel)
                    written[f"{split}_geo"] = out / geo_name(rel)
    finally:
        bar.stop()
    readme = out / "README.md"
    atomic_write_text(readme, _readme(versions, seed, counts, dtype, compression, written, out))
    written["readme"] = readme
    return written


def _readme(versions: list[str], seed: int, counts: dict[str, int], dtype: str, compression: str | None,
            written: dict[str, Path], out: Path) -> str:
    files = "\n".join(f"- `{p.relative_to(out)}`" for p in written.values())
    return f"""# SYNTHETIC So2Sat LCZ42-format data

These files are **synthetic**: generated by `surrogate-eo data synth` (surrogate_eo.data.synthetic),
seed {seed}, not real Sentinel-1/2 imagery. They follow the published So2Sat LCZ42 layout
(version {', '.join(versions)}): `sen1` N×32×32×8, `sen2` N×32×32×10, `label` N×17 one-hot,
dtype {dtype}, compression {compression or 'none'}. Each file has the HDF5 attribute `synthetic = True`.

Requested sizes: {counts['train']} training, {counts['val']} validation, {counts['test']} testing patches.
Classes (label column order): {', '.join(CLASSES)}.

The scenes mix class-specific material spectra with building, tree and field textures at several
scales; Sentinel-1 is speckled backscatter with a weaker class signal; classes are imbalanced like
So2Sat's; validation/test patches come from other (held-out) cities than the training patches.
Use them to test pipelines and to study architecture landscapes, never to report results on So2Sat.

Files:
{files}
"""
