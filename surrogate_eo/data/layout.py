"""Where the files of each So2Sat LCZ42 version live under a data root.

The versions are class data (:data:`VERSIONS`), so a new release is a table
edit. Layouts, as published at https://mediatum.ub.tum.de/1454690:

========== ================================================================
version    files (relative to the root)
========== ================================================================
1          ``training.h5``, ``validation.h5``
2          ``training.h5``, ``validation.h5``, ``testing.h5``
3-random   ``random/training.h5``, ``random/testing.h5``
3-block    ``block/training.h5``, ``block/testing.h5``
3-culture_10 ``culture_10/training.h5``, ``culture_10/testing.h5``
4          version 2 plus ``training_geo.h5``, ``validation_geo.h5``,
           ``testing_geo.h5`` (``coord``, ``epsg``, ``tfw``, ``city``)
========== ================================================================

Split names are ``"train"``, ``"val"`` and ``"test"`` (``"training"``,
``"validation"``, ``"testing"`` are accepted too). Version 3 has no
validation file: hold out part of ``train`` with
:func:`~surrogate_eo.data.stratified_subset`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import DatasetNotFoundError, SurrogateEOError

DOWNLOAD_HINT = ("download So2Sat LCZ42 from https://mediatum.ub.tum.de/1454690 or write synthetic "
                 "files in the same layout with `surrogate-eo data synth --out DIR`")


class DataArgumentError(SurrogateEOError, ValueError):
    """A bad argument to the data layer: split or version name, indices, batch size, fraction."""


@dataclass(frozen=True)
class Version:
    """One published layout of So2Sat LCZ42.

    Attributes
    ----------
    name : str
        Version id, e.g. ``"2"`` or ``"3-random"``.
    files : dict of str to str
        Data file per split, relative to the data root.
    geo : bool
        Whether each data file has a ``<stem>_geo.h5`` companion (version 4).
    description : str
        How the splits were drawn.
    """

    name: str
    files: dict[str, str]
    geo: bool = False
    description: str = ""

    def paths(self, root: Path) -> dict[str, Path]:
        """Absolute data-file path per split under ``root``."""
        return {s: root / f for s, f in self.files.items()}

    def needed(self) -> list[str]:
        """Every file (relative) that must exist for this version."""
        out = list(self.files.values())
        if self.geo:
            out += [geo_name(f) for f in self.files.values()]
        return out


def geo_name(data_file: str) -> str:
    """``"training.h5"`` → ``"training_geo.h5"``."""
    stem, dot, ext = data_file.rpartition(".")
    return f"{stem}_geo.{ext}" if dot else f"{data_file}_geo"


_V2 = {"train": "training.h5", "val": "validation.h5", "test": "testing.h5"}

VERSIONS: dict[str, Version] = {
    "1": Version("1", {"train": "training.h5", "val": "validation.h5"},
                 description="training: 42 cities; validation: western half of 10 other cities"),
    "2": Version("2", dict(_V2), description="version 1 plus testing: eastern half of the 10 other cities"),
    "3-random": Version("3-random", {"train": "random/training.h5", "test": "random/testing.h5"},
                        description="every city split 80/20 at random"),
    "3-block": Version("3-block", {"train": "block/training.h5", "test": "block/testing.h5"},
                       description="every city split 80/20 in geographic blocks"),
    "3-culture_10": Version("3-culture_10", {"train": "culture_10/training.h5", "test": "culture_10/testing.h5"},
                            description="10 cities of different cultural zones held out for testing"),
    "4": Version("4", dict(_V2), geo=True,
                 description="version 2 plus per-patch geolocation (coord, epsg, tfw, city) in *_geo.h5"),
}

#: Order in which :func:`find_files` tries the versions when none is given.
DETECT_ORDER: tuple[str, ...] = ("4", "2", "1", "3-culture_10", "3-random", "3-block")

_SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
                  "test": "test", "testing": "test"}
_VARIANTS = ("random", "block", "culture_10")


def canonical_split(split: str) -> str:
    """Map ``"training"``/``"validation"``/``"testing"`` and friends to ``"train"``/``"val"``/``"test"``."""
    try:
        return _SPLIT_ALIASES[str(split).lower()]
    except KeyError:
        raise DataArgumentError(f"unknown split {split!r}; expected 'train', 'val' or 'test'") from None


def canonical_version(version: str | int | None, variant: str | None = None) -> str | None:
    """Normalise a version id: ``2``, ``"v2"``, ``"3_random"``, ``("3", "random")`` → table keys."""
    if version is None:
        if variant is not None:
            version = "3"
        else:
            return None
    v = str(version).strip().lower().removeprefix("v").replace("_", "-").replace("/", "-")
    if variant is not None:
        v = f"{v}-{variant}"
    v = v.replace("culture-10", "culture_10")
    if v in VERSIONS or v == "3":
        return v
    raise DataArgumentError(
        f"unknown So2Sat version {version!r}{f' with variant {variant!r}' if variant else ''}; "
        f"expected one of {', '.join(VERSIONS)} (or '3' with variant random, block or culture_10)")


def find_files(root: str | os.PathLike[str], version: str | int | None = None, *,
               variant: str | None = None) -> dict[str, Path]:
    """Locate the data file of every split of a So2Sat LCZ42 version.

    Parameters
    ----------
    root : path
        Data root (the folder holding ``training.h5``, or ``random/`` etc. for version 3).
    version : str or int, optional
        ``1``, ``2``, ``"3-random"``, ``"3-block"``, ``"3-culture_10"``, ``4``; ``"3"`` with
        ``variant``. ``None`` detects the version from the files present, trying
        :data:`DETECT_ORDER` (4, 2, 1, then the version-3 variants).
    variant : {"random", "block", "culture_10"}, optional
        Version-3 split scenario.

    Returns
    -------
    dict of str to pathlib.Path
        Data file per split (``"train"``, ``"val"``, ``"test"``; only the splits the version has).

    Raises
    ------
    DatasetNotFoundError
        When the root lacks a file of the version; the message names the missing files.
    """
    return resolve(root, version, variant=variant)[1]


def resolve(root: str | os.PathLike[str], version: str | int | None = None, *,
            variant: str | None = None) -> tuple[str, dict[str, Path]]:
    """Like :func:`find_files`, but also return the name of the version found."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetNotFoundError(f"data root {str(root)!r} is not a folder; {DOWNLOAD_HINT}")
    name = canonical_version(version, variant)
    if name == "3":
        candidates = [f"3-{v}" for v in ("culture_10", "random", "block")]
    elif name is None:
        candidates = list(DETECT_ORDER)
    else:
        candidates = [name]
    for cand in candidates:
        ver = VERSIONS[cand]
        if not _missing(root, ver):
            return cand, ver.paths(root)
    best = min(candidates, key=lambda c: (len(_missing(root, VERSIONS[c])), candidates.index(c)))
    missing = _missing(root, VERSIONS[best])
    present = sorted(str(p.relative_to(root)) for p in [*root.glob("*.h5"), *root.glob("*/*.h5")])
    found = ", ".join(present[:10]) + (", …" if len(present) > 10 else "") if present else "no .h5 files"
    what = (f"So2Sat LCZ42 version {best}" if name is not None and name != "3"
            else f"every So2Sat LCZ42 version{'-3 variant' if name == '3' else ''} (closest: version {best})")
    raise DatasetNotFoundError(
        f"data root {str(root)!r} lacks the files of {what}: missing {', '.join(missing)}; "
        f"found {found}; {DOWNLOAD_HINT}")


def _missing(root: Path, ver: Version) -> list[str]:
    return [f for f in ver.needed() if not (root / f).is_file()]


def detect_version(root: str | os.PathLike[str]) -> str:
    """Name of the version :func:`find_files` picks for ``root`` (raises like it when none fits)."""
    return resolve(root)[0]
