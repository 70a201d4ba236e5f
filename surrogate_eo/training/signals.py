"""Preemption: SIGTERM / SIGUSR1 -> checkpoint at the next batch boundary -> exit "requeue me".

SLURM sends SIGTERM before killing a preempted or timed-out job (and SIGUSR1
with ``#SBATCH --signal=USR1@120``). :class:`PreemptionGuard` turns either
signal into a flag; the trainer checks it after every training batch, writes a
checkpoint and raises :class:`Preempted`, a :class:`SystemExit` whose code is
:data:`EXIT_REQUEUE` (75, ``EX_TEMPFAIL`` of ``sysexits.h``). A worker process
that lets it propagate exits with 75, which the executors read as "requeue this
run"; rerunning the same spec resumes from the checkpoint.

Handlers can only be installed from the main thread; elsewhere the guard is
inactive and the process keeps the default behaviour (a signal kills it; the
last end-of-epoch checkpoint remains).
"""
from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

#: Exit status of a run interrupted by SIGTERM/SIGUSR1 after writing its checkpoint:
#: "requeue me" (``EX_TEMPFAIL``).
EXIT_REQUEUE = 75


class Preempted(SystemExit):
    """Raised after a preemption checkpoint was written; ``code`` is :data:`EXIT_REQUEUE`."""

    def __init__(self, signame: str, checkpoint: str) -> None:
        super().__init__(EXIT_REQUEUE)
        self.signame = signame
        self.checkpoint = checkpoint

    def __str__(self) -> str:
        return (f"received {self.signame}: checkpoint written to {self.checkpoint}; "
                f"exiting with {EXIT_REQUEUE} (requeue and rerun the same spec to resume)")


def _preemption_signals() -> list[signal.Signals]:
    names = ("SIGTERM", "SIGUSR1")
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


class PreemptionGuard:
    """Context manager that records SIGTERM/SIGUSR1 instead of dying, then restores the old handlers.

    Attributes
    ----------
    received : str or None
        Name of the first signal received inside the ``with`` block.
    active : bool
        Whether handlers were installed (only in the main thread).
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self.active = False
        self._previous: dict[signal.Signals, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(signum).name

    @property
    def requested(self) -> bool:
        """True once a preemption signal arrived."""
        return self.received is not None

    def __enter__(self) -> PreemptionGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in _preemption_signals():
                self._previous[sig] = signal.signal(sig, self._handle)
            self.active = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, prev in self._previous.items():
            signal.signal(sig, prev if prev is not None else signal.SIG_DFL)
        self._previous.clear()
        self.active = False
