"""Benchmark folders written and read whole: a temp folder swapped into place, reads that see one version.

``save_benchmark`` never writes into the live folder: every file goes into a
temp folder beside it, which then replaces the old one in one atomic exchange
(:func:`~surrogate_eo._io.replace_folder`, ``renameat2(RENAME_EXCHANGE)`` where
the kernel has it). A save killed half-way leaves its temp folder or a parked
``.NAME.old-*`` copy, which the next save or load repairs
(:func:`~surrogate_eo._io.recover_folder`). A load that races a ``--force``
save notices the folder's inode change and reads again, so a reader gets the
old or the new benchmark, never an error or a mix.

>>> import tempfile
>>> from pathlib import Path
>>> root = Path(tempfile.mkdtemp()) / "bench"
>>> write_folder(root, {"entries/00/a.bin": b"1"}, "benchmark.json", b"{}")
>>> sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
['benchmark.json', 'entries/00/a.bin']
>>> read_consistently(root, lambda r: (r / "entries/00/a.bin").read_bytes())
b'1'
"""
from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .._io import atomic_write_bytes, recover_folder, replace_folder
from ..errors import ArtifactError, shown

T = TypeVar("T")


def check_target(root: Path, *, overwrite: bool, meta_file: str) -> None:
    """Repair leftovers of a killed save at ``root``, then refuse to replace what is not ours.

    Raises
    ------
    ArtifactError
        ``root`` is not empty and ``overwrite`` is False, or it holds no ``meta_file``.
    """
    recover_folder(root)  # leftovers of an earlier save killed mid-replacement
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        if not overwrite:
            raise ArtifactError(f"{root} already exists and is not empty; pass overwrite=True (CLI: --force)")
        if not (root / meta_file).is_file():
            raise ArtifactError(f"{root} exists but is not a benchmark folder (no {meta_file}); refusing to replace it")


def write_folder(root: Path, files: dict[str, bytes], meta_file: str, meta: bytes) -> None:
    """Write ``files`` (relative path → bytes) and, last, ``meta_file`` into a temp folder and swap it in.

    Nothing is left behind on failure (the temp folder is removed, the old folder stays).
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    try:
        for name, data in files.items():
            atomic_write_bytes(tmp / name, data)
        atomic_write_bytes(tmp / meta_file, meta)
        _chmod_tree(tmp)
        replace_folder(tmp, root)  # atomic swap: a reader finds the old or the new benchmark, never none
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _chmod_tree(root: Path) -> None:
    """Give the temp folder and files ordinary permissions (mkdtemp/mkstemp make them private)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(root, 0o777 & ~mask)
    for p in root.rglob("*"):
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)


def readable_folder(root: Path) -> Path:
    """``root``, or — while a save is swapping it — the complete previous copy parked beside it."""
    if not root.exists():
        recover_folder(root, sweep=False)  # a save killed between its two renames (no atomic exchange)
        parked = sorted(root.parent.glob(f".{glob.escape(root.name)}.old-*")) if not root.exists() else []
        if parked:  # a save is swapping right now: its previous benchmark is complete (and verified by the reader)
            return parked[0]
    return root


def _inode(root: Path) -> int | None:
    try:
        return root.stat().st_ino
    except OSError:
        return None


def read_consistently(root: Path, read: Callable[[Path], T]) -> T:
    """``read(root)``, retried (up to 3 times) when the folder was replaced while it was read.

    Raises
    ------
    ArtifactError
        From ``read``, or an ``OSError`` turned into one line, when the folder did not change.
    """
    for _attempt in range(3):
        inode = _inode(root)
        try:
            return read(root)
        except (ArtifactError, OSError) as exc:
            if inode is None or _inode(root) == inode:
                if isinstance(exc, ArtifactError):
                    raise
                raise ArtifactError(f"{root}: cannot read the benchmark: {exc.strerror or exc} "
                                    f"({shown(exc.filename, 80)})") from None
    return read(root)
