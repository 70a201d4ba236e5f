"""Reading a JSON file a user hands in: a missing, unreadable or malformed file is one line, never a traceback."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .._io import loads_json
from ..errors import LandscapeError, SurrogateEOError, one_line


def read_json_file(path: str | Path, what: str, fix: str,
                   error: type[SurrogateEOError] = LandscapeError) -> Any:
    """The parsed contents of ``path``; ``error`` naming ``what`` and the ``fix`` when it cannot be read.

    Deep nesting and bytes that are not UTF-8 are refused like any other malformed JSON.

    >>> read_json_file("/nonexistent/fp.json", "footprint", "write one with surrogate-eo landscape --json FILE")
    Traceback (most recent call last):
    ...
    surrogate_eo.errors.LandscapeError: footprint /nonexistent/fp.json does not exist; write one with \
surrogate-eo landscape --json FILE
    """
    p = Path(path)
    try:
        return loads_json(p.read_bytes())
    except FileNotFoundError:
        raise error(f"{what} {p} does not exist; {fix}") from None
    except (OSError, ValueError) as exc:
        raise error(f"{what} {p} is not readable JSON: {one_line(str(exc), 120)}") from None


__all__ = ["read_json_file"]
