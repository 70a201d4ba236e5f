"""A rich progress bar per epoch (batches done, time left, then the epoch's validation accuracy)."""
from __future__ import annotations

from types import TracebackType
from typing import Any


class EpochProgress:
    """Progress display of a run; every method is a no-op when ``enabled`` is false.

    Parameters
    ----------
    enabled : bool
        Draw bars on stderr.
    epochs : int
        Epochs of the protocol.
    batches : int
        Training batches per epoch.
    """

    def __init__(self, enabled: bool, epochs: int, batches: int) -> None:
        self.enabled, self.epochs, self.batches = enabled, epochs, batches
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> EpochProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                                      console=Console(stderr=True))
            self._progress.start()
        return self

    def start_epoch(self, epoch: int, done: int) -> None:
        """Add the bar of epoch ``epoch`` (0-based) with ``done`` batches already trained."""
        if self._progress is not None:
            self._task = self._progress.add_task(f"epoch {epoch + 1}/{self.epochs}", total=self.batches,
                                                 completed=done, info="")

    def advance(self) -> None:
        """One training batch done."""
        if self._task is not None:
            self._progress.advance(self._task)

    def end_epoch(self, metrics: dict[str, float]) -> None:
        """Show the finished epoch's loss and accuracies."""
        if self._task is not None:
            info = (f"loss {metrics['train_loss']:.3f}  train {metrics['train_acc']:.3f}  "
                    f"val {metrics['val_acc']:.3f}  test {metrics['test_acc']:.3f}  {metrics['epoch_seconds']:.1f}s")
            self._progress.update(self._task, completed=self.batches, info=info)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()
