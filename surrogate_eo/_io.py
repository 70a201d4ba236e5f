"""Atomic file writes: a reader never sees a half-written file.

Every file surrogate-eo writes that another process may read (records,
checkpoints, manifests, databases, artifacts) goes through these helpers:
write to a temporary file in the same directory, flush and fsync, then
``os.replace`` onto the final name (atomic on POSIX), then fsync the directory.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` that replaces it atomically on success.

    For writers that need a file name rather than a handle (h5py, pyarrow).
    The temporary file is fsynced before the rename; on an exception it is
    removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file normal permissions
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary binary file that replaces ``path`` atomically on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        yield fh


def atomic_write_parquet(path: str | os.PathLike[str], table: Any, meta_key: bytes, meta: dict[str, Any]) -> Path:
    """Write a ``pyarrow.Table`` atomically as zstd Parquet with ``meta`` as JSON under ``meta_key``."""
    import pyarrow.parquet as pq

    table = table.replace_schema_metadata({meta_key: json.dumps(meta).encode("utf-8")})
    with atomic_open(path) as fh:
        pq.write_table(table, fh, compression="zstd")
    return Path(path)


def read_parquet_with_meta(path: str | os.PathLike[str], meta_key: bytes, *, what: str, version: int,
                           error: type[Exception], missing_hint: str, version_hint: str) -> tuple[Any, dict[str, Any]]:
    """Read a Parquet file written by :func:`atomic_write_parquet`; return ``(table, meta)``.

    ``meta`` is the JSON under ``meta_key`` without its ``schema_version``.
    Raises ``error`` naming the file when it is missing (with ``missing_hint``), not Parquet,
    lacks the metadata, or has another schema version than ``version`` (with ``version_hint``).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {path} does not exist; {missing_hint}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise error(f"{what} {path} is not a readable Parquet file: {exc}") from None
    raw = (table.schema.metadata or {}).get(meta_key)
    if raw is None:
        raise error(f"{path} is a Parquet file but not a surrogate-eo {what} (no {what} metadata)")
    meta = json.loads(raw)
    ver = meta.pop("schema_version", None)
    if ver != version:
        raise error(f"{what} {path}: schema_version is {ver!r}, this surrogate-eo reads {version}; {version_hint}")
    return table, meta


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path) as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 1) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (NaN/inf written as null)."""
    atomic_write_text(path, json.dumps(_finite(obj), indent=indent, sort_keys=False) + "\n")


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by None so the JSON is strict."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
