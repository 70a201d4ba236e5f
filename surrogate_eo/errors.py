"""Exceptions raised by surrogate-eo.

Every error raised on bad user input is a subclass of :class:`SurrogateEOError`
and carries a message that names the offending file, field or value, what was
expected, and (where there is one) the fix. The CLI prints the message on one
line and exits with status 2.
"""
from __future__ import annotations


class SurrogateEOError(Exception):
    """Base class of every error surrogate-eo raises on purpose."""


# --- spaces ---------------------------------------------------------------
class UnknownSpaceError(SurrogateEOError, LookupError):
    """A search-space name that is not registered."""


class InvalidArchitectureError(SurrogateEOError, ValueError):
    """A malformed architecture string or an out-of-range choice vector."""


# --- tasks, data ------------------------------------------------------------
class UnknownTaskError(SurrogateEOError, LookupError):
    """A task name that is not one of ``surrogate_eo.tasks.TASKS``."""


class DataFormatError(SurrogateEOError, ValueError):
    """A data file whose keys, shapes, dtypes or values break the expected layout."""


class DatasetNotFoundError(SurrogateEOError, FileNotFoundError):
    """A data root that lacks the files of the requested dataset version."""


# --- training ----------------------------------------------------------------
class UnknownProtocolError(SurrogateEOError, LookupError):
    """A training-protocol name that is not registered."""


class TrainingError(SurrogateEOError, RuntimeError):
    """A training run that cannot start or continue."""


# --- campaigns, records, database --------------------------------------------
class CampaignConfigError(SurrogateEOError, ValueError):
    """A campaign configuration with a bad field."""


class RecordError(SurrogateEOError, ValueError):
    """A run record or manifest that cannot be read or has the wrong schema."""


class DatabaseError(SurrogateEOError, ValueError):
    """A results database that cannot be read or queried as asked."""


class MissingArchitectureError(SurrogateEOError, LookupError):
    """A fitness source asked for an architecture it does not hold."""


class SlurmError(SurrogateEOError, RuntimeError):
    """A SLURM command that failed or is unavailable."""


# --- surrogates ---------------------------------------------------------------
class SurrogateError(SurrogateEOError, ValueError):
    """Bad input to a surrogate model (targets, tasks, metrics, epochs)."""


class NotFittedError(SurrogateEOError, RuntimeError):
    """A model used before ``fit`` was called."""


class ArtifactError(SurrogateEOError, ValueError):
    """A saved benchmark artifact that is missing, tampered with or mismatched."""


# --- landscape, search, report -----------------------------------------------
class LandscapeError(SurrogateEOError, ValueError):
    """Bad input to a landscape feature or sampler."""


class SearchError(SurrogateEOError, ValueError):
    """Bad input to an optimiser or the Optuna bridge."""


class ReportError(SurrogateEOError, ValueError):
    """Inputs a quality report cannot be built from."""


# --- environment --------------------------------------------------------------
class MissingDependencyError(SurrogateEOError, ImportError):
    """An optional dependency that the requested feature needs is not installed."""


# --- message helpers ------------------------------------------------------------
#: Most characters of a user-supplied value echoed inside an error message.
ECHO_LIMIT = 200


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` capped at ``limit`` characters, for echoing user input in a message.

    Long values keep their head and say how long they were, so a 100 KB input
    still gives a one-line, readable error.

    Examples
    --------
    >>> shown("abc")
    "'abc'"
    >>> shown("x" * 1000, limit=20)
    "'xxxxxxxxxxxxxx… (1002 chars)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:max(limit - 5, 1)]}… ({len(text)} chars)"


def one_line(text: str, limit: int = 400) -> str:
    """``text`` with all whitespace runs collapsed to one space, capped at ``limit`` characters.

    Examples
    --------
    >>> one_line("a\\n  b\\tc")
    'a b c'
    >>> one_line("y" * 50, limit=10)
    'yyyyyyyyy…'
    """
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
