"""PreemptionGuard turns SIGTERM/SIGUSR1 into a flag and restores the previous handlers."""
from __future__ import annotations

import os
import signal
import threading

import pytest

from surrogate_eo.training import EXIT_REQUEUE, Preempted, PreemptionGuard

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals only")


@pytest.mark.parametrize("sig", ["SIGUSR1", "SIGTERM"])
def test_signal_sets_flag_and_handlers_are_restored(sig: str) -> None:
    before = signal.getsignal(getattr(signal, sig))
    with PreemptionGuard() as guard:
        assert guard.active and not guard.requested
        os.kill(os.getpid(), getattr(signal, sig))
        assert guard.requested and guard.received == sig
    assert signal.getsignal(getattr(signal, sig)) == before


def test_guard_is_inactive_off_the_main_thread() -> None:
    seen: list[bool] = []
    t = threading.Thread(target=lambda: seen.append(PreemptionGuard().__enter__().active))
    t.start()
    t.join()
    assert seen == [False]


def test_preempted_is_a_requeue_exit() -> None:
    exc = Preempted("SIGUSR1", "/x/run.ckpt")
    assert isinstance(exc, SystemExit) and exc.code == EXIT_REQUEUE == 75
    assert "SIGUSR1" in str(exc) and "/x/run.ckpt" in str(exc)
