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
