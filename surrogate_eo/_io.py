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

from .errors import shown

_UMASK = os.umask(0)
os.umask(_UMASK)


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Flush ``folder``'s entries (a rename into it) to disk; best effort (some file systems refuse).

    >>> import tempfile
    >>> fsync_dir(tempfile.gettempdir())
    """
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


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
    fsync_dir(path.parent)


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
    if path.is_dir():
        raise error(f"{what} {path} is a folder; expected a {what} file (Parquet)")
    if not path.is_file():
        raise error(f"{what} {path} does not exist; {missing_hint}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise error(f"{what} {path} is not a readable Parquet file: {exc}") from None
    raw = (table.schema.metadata or {}).get(meta_key)
    if raw is None:
        raise error(f"{path} is a Parquet file but not a surrogate-eo {what} (no {what} metadata)")
    try:
        meta = loads_json(raw)
    except ValueError as exc:
        raise error(f"{what} {path}: its {what} metadata is not valid JSON ({exc}); {version_hint}") from None
    if not isinstance(meta, dict):
        raise error(f"{what} {path}: its {what} metadata is a JSON {type(meta).__name__}, expected an object; "
                    f"{version_hint}")
    ver = meta.pop("schema_version", None)
    if ver != version:
        raise error(f"{what} {path}: schema_version is {shown(ver)}, this surrogate-eo reads {version}; {version_hint}")
    return table, meta


def loads_json(data: str | bytes) -> Any:
    """``json.loads`` that raises only ``ValueError`` on bad input (deep nesting included).

    Examples
    --------
    >>> loads_json('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> loads_json("[" * 100_000)
    Traceback (most recent call last):
    ...
    ValueError: JSON nested too deeply (more than the parser's recursion limit)
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply (more than the parser's recursion limit)") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def sweep_temp_files(folder: str | os.PathLike[str], name: str, *, older_than: float = 600.0) -> list[Path]:
    """Remove leftover temporaries of :func:`atomic_path` for ``name`` in ``folder``; return those removed.

    A writer killed between creating ``.<name>.<random>.tmp`` and renaming it
    leaves the temporary behind; files older than ``older_than`` seconds cannot
    belong to a write still in progress and are deleted (younger ones are kept).
    Folders (``save_benchmark``'s temporary trees) are removed whole.
    """
    import shutil
    import time

    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for p in folder.glob(f".{glob_escape(name)}.*.tmp"):
        try:
            if now - p.lstat().st_mtime <= older_than:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed


#: Environment variable naming the user cache folder; ``off``, ``0``, ``none``, ``false`` or ``no`` disables it.
CACHE_ENV = "SURROGATE_EO_CACHE"
_CACHE_OFF = ("off", "0", "none", "false", "no")


def user_cache_dir() -> Path | None:
    """The user cache folder (pretrained encoders, data statistics of read-only data), or None when disabled.

    ``$SURROGATE_EO_CACHE`` if set (``off``, ``0``, ``none``, ``false`` or ``no`` disable it), else
    ``$XDG_CACHE_HOME/surrogate-eo`` (default ``~/.cache/surrogate-eo``).

    >>> import os
    >>> os.environ["SURROGATE_EO_CACHE"] = "off"; user_cache_dir() is None
    True
    >>> os.environ["SURROGATE_EO_CACHE"] = "/tmp/se-cache"; str(user_cache_dir())
    '/tmp/se-cache'
    >>> del os.environ["SURROGATE_EO_CACHE"]
    """
    env = os.environ.get(CACHE_ENV)
    if env is not None and env.strip().lower() in _CACHE_OFF:
        return None
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "surrogate-eo"


def glob_escape(name: str) -> str:
    """``name`` with glob wildcards escaped (``[``, ``*``, ``?``)."""
    import glob

    return glob.escape(name)


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


# ------------------------------------------------------------ folder replacement
_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically with Linux ``renameat2(RENAME_EXCHANGE)``; False when unsupported."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    import errno

    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False  # file system without RENAME_EXCHANGE (e.g. some network file systems)
    raise OSError(err, os.strerror(err), str(b))


def old_copy_name(path: str | os.PathLike[str]) -> Path:
    """Where :func:`replace_folder`'s fallback parks the previous ``path`` during the swap."""
    path = Path(path)
    return path.with_name(f".{path.name}.old-{os.getpid()}")


def replace_folder(new: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Put the complete folder ``new`` at ``path``, replacing what is there, so a reader always finds one.

    On Linux the two folders are swapped in one atomic ``renameat2(RENAME_EXCHANGE)``
    call and the previous content (now at ``new``) is deleted: at every instant
    ``path`` holds the old or the new folder. Where the file system cannot
    exchange, the old folder is renamed to ``.<name>.old-<pid>`` and the new one
    renamed into place; a reader that arrives in between finds ``path`` missing
    and uses :func:`recover_folder`, which restores the parked copy.
    """
    import shutil

    new, path = Path(new), Path(path)
    if not path.exists():
        os.replace(new, path)
    elif _exchange(new, path):
        shutil.rmtree(new, ignore_errors=True)
    else:
        old = old_copy_name(path)
        os.replace(path, old)
        os.replace(new, path)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(path.parent)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) is dead
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def recover_folder(path: str | os.PathLike[str], *, sweep: bool = True, older_than: float = 600.0) -> list[Path]:
    """Repair what an interrupted :func:`replace_folder` left beside ``path``; return the paths removed.

    - ``path`` missing and a parked ``.<name>.old-<pid>`` present: the parked
      copy is moved back (the replacement never completed), unless its writer
      is still alive (it is mid-swap; the reader may use the parked copy itself).
    - ``path`` present: parked copies of dead writers are deleted.
    - with ``sweep``, temporary folders ``.<name>.<x>.tmp`` older than
      ``older_than`` seconds (a writer killed before the swap) are deleted.
    """
    import re
    import shutil

    path = Path(path)
    removed: list[Path] = []
    if not path.parent.is_dir():
        return removed
    pat = re.compile(rf"^\.{re.escape(path.name)}\.old-(\d+)$")
    for p in sorted(path.parent.iterdir()):
        m = pat.match(p.name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        try:
            if not path.exists():
                os.replace(p, path)
            else:
                shutil.rmtree(p)
                removed.append(p)
        except OSError:
            continue
    if sweep:
        removed += sweep_temp_files(path.parent, path.name, older_than=older_than)
    return removed
