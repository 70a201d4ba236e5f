"""Progress of long steps that also works off a terminal.

On a terminal a rich bar is drawn. When the output is a pipe or a file (CI
logs, ``nohup``, ``make demo > log``), a bar would only appear at the end,
so plain lines are printed instead: one when the step starts, one every
:data:`EVERY` seconds while it runs (from a background thread, so a single
slow item still shows the step is alive), and one when it ends::

    training smoke: 12/40 runs (30%), elapsed 1m02s, ETA 2m25s  ok=12

The ETA divides the time so far by the items done *in this session* (a
resumed step that starts at 30/40 does not count the 30 as instant).

>>> import io
>>> out = io.StringIO()
>>> with Progress("demo step", 4, unit="items", stream=out) as bar:
...     bar.advance(4)
>>> print(out.getvalue().splitlines()[-1].split(",")[0])
demo step: 4/4 items (100%)
"""
from __future__ import annotations

import os
import sys
import threading
import time
from types import TracebackType
from typing import Any, TextIO

#: Seconds between plain progress lines (``$SURROGATE_EO_PROGRESS_SECONDS`` overrides).
EVERY = 15.0


def every_seconds() -> float:
    """The plain-line interval: ``$SURROGATE_EO_PROGRESS_SECONDS`` when a positive number, else :data:`EVERY`."""
    try:
        value = float(os.environ.get("SURROGATE_EO_PROGRESS_SECONDS", ""))
    except ValueError:
        return EVERY
    return value if value > 0 else EVERY


def is_tty(stream: Any) -> bool:
    """Whether ``stream`` is an interactive terminal."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def fmt_seconds(seconds: float) -> str:
    """``75`` -> ``'1m15s'``; ``3725`` -> ``'1h02m'``.

    >>> fmt_seconds(75), fmt_seconds(3725), fmt_seconds(9.4)
    ('1m15s', '1h02m', '9s')
    """
    s = int(round(max(0.0, seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class Progress:
    """``done/total`` of one step: a rich bar on a terminal, plain periodic lines otherwise.

    Parameters
    ----------
    label : str
        What the step does ("training smoke", "synthesising").
    total : int
        Items in the step.
    enabled : bool, default=True
        False makes every method a no-op.
    done : int, default=0
        Items already done before this session (resumed steps).
    unit : str, default=""
        Name of the items ("runs", "patches").
    stream : file, optional
        Where to write (default ``sys.stdout``); a bar is drawn only when it is a terminal.
    every : float, optional
        Seconds between plain lines (default :func:`every_seconds`).
    """

    def __init__(self, label: str, total: int, *, enabled: bool = True, done: int = 0, unit: str = "",
                 stream: TextIO | None = None, every: float | None = None) -> None:
        self.label, self.total, self.done, self.unit = label, int(total), int(done), unit
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stdout
        self.every = every_seconds() if every is None else float(every)
        self.info = ""
        self._start_done = self.done
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        self._task: Any = None

    # ------------------------------------------------------------- lifecycle
    def __enter__(self) -> Progress:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop(ok=exc_type is None)

    def start(self) -> None:
        """Draw the bar, or print the first line and start the periodic lines."""
        if not self.enabled:
            return
        self._t0 = time.monotonic()
        if is_tty(self.stream):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, \
                TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                                     console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, completed=self.done, info=self.info)
            return
        self._line()
        self._thread = threading.Thread(target=self._tick, name="surrogate-eo-progress", daemon=True)
        self._thread.start()

    def stop(self, ok: bool = True) -> None:
        """Remove the bar or stop the periodic lines; a plain final line says how it ended."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            return
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self._line(final="done" if ok else "stopped")

    # ---------------------------------------------------------------- update
    def advance(self, n: int = 1, info: str | None = None) -> None:
        """``n`` more items done (``info``: a short status shown after the counts)."""
        self.update(self.done + n, info)

    def update(self, done: int | None = None, info: str | None = None, total: int | None = None) -> None:
        """Set the items done, the status text or the total."""
        if not self.enabled:
            return
        with self._lock:
            if done is not None:
                self.done = int(done)
            if info is not None:
                self.info = info
            if total is not None:
                self.total = int(total)
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, total=self.total, info=self.info)

    # ----------------------------------------------------------------- lines
    def line(self, final: str | None = None) -> str:
        """The plain status line (without printing it)."""
        with self._lock:
            done, total, info = self.done, self.total, self.info
        elapsed = time.monotonic() - self._t0
        pct = f" ({100 * done / total:.0f}%)" if total > 0 else ""
        unit = f" {self.unit}" if self.unit else ""
        text = f"{self.label}: {done}/{total}{unit}{pct}, elapsed {fmt_seconds(elapsed)}"
        if final:
            text += f", {final}"
        else:
            fresh = done - self._start_done
            eta = fmt_seconds(elapsed / fresh * (total - done)) if fresh > 0 and total >= done else "?"
            text += f", ETA {eta}"
        return text + (f"  {info}" if info else "")

    def _line(self, final: str | None = None) -> None:
        try:
            print(self.line(final), file=self.stream, flush=True)
        except (OSError, ValueError):  # a closed pipe must not kill the work
            pass

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            self._line()
