"""Progress of one training run: a bar per epoch on a terminal, plain periodic lines otherwise.

Both go to stderr (stdout stays free for results); see :class:`~surrogate_eo._progress.Progress`
for the plain-line format used when stderr is a pipe or a file.
"""
from __future__ import annotations

import sys
from types import TracebackType

from .._progress import Progress


class EpochProgress:
    """Progress display of a run; every method is a no-op when ``enabled`` is false.

    Parameters
    ----------
    enabled : bool
        Show progress on stderr.
    epochs : int
        Epochs of the protocol.
    batches : int
        Training batches per epoch.
    """

    def __init__(self, enabled: bool, epochs: int, batches: int) -> None:
        self.enabled, self.epochs, self.batches = enabled, epochs, batches
        self._bar: Progress | None = None

    def __enter__(self) -> EpochProgress:
        return self

    def start_epoch(self, epoch: int, done: int) -> None:
        """Start the display of epoch ``epoch`` (0-based) with ``done`` batches already trained."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.stop()
        self._bar = Progress(f"epoch {epoch + 1}/{self.epochs}", self.batches, done=done, unit="batches",
                             stream=sys.stderr)
        self._bar.start()

    def advance(self) -> None:
        """One training batch done."""
        if self._bar is not None:
            self._bar.advance()

    def end_epoch(self, metrics: dict[str, float]) -> None:
        """Show the finished epoch's loss and accuracies."""
        if self._bar is not None:
            info = (f"loss {metrics['train_loss']:.3f}  train {metrics['train_acc']:.3f}  "
                    f"val {metrics['val_acc']:.3f}  test {metrics['test_acc']:.3f}  {metrics['epoch_seconds']:.1f}s")
            self._bar.update(self.batches, info=info)
            self._bar.stop()
            self._bar = None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop(ok=exc_type is None)
            self._bar = None
