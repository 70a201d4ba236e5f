"""Progress off a terminal (surrogate_eo/_progress.py): plain periodic lines in pipes, a bar on terminals."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from surrogate_eo._progress import Progress, fmt_seconds

LINE = re.compile(r"^(?P<label>[\w ]+): (?P<done>\d+)/(?P<total>\d+)(?: \w+)? \(\d+%\), elapsed \S+, "
                  r"(?:ETA (?P<eta>\S+)|(?P<end>done|stopped))")


def test_plain_lines_count_and_eta():
    out = io.StringIO()
    with Progress("fitting", 10, unit="models", stream=out, every=0.05) as bar:
        for _ in range(4):
            time.sleep(0.06)
            bar.advance(info="ok")
        time.sleep(0.12)
    lines = out.getvalue().splitlines()
    parsed = [LINE.match(ln) for ln in lines]
    assert all(parsed), lines
    assert parsed[0]["done"] == "0" and parsed[0]["eta"] == "?"            # nothing done yet: no ETA
    assert parsed[-1]["end"] == "done" and parsed[-1]["done"] == "4"
    periodic = [m for m in parsed[1:-1] if m["done"] == "4"]
    assert periodic, "a line every 0.05 s while the step runs"
    # 4 items done: the ETA is a time (seconds are rounded to whole numbers), no longer "?"
    assert re.fullmatch(r"\d+s", periodic[0]["eta"])
    assert "ok" in lines[-1]


def test_eta_ignores_items_done_before_a_resume():
    bar = Progress("training", 40, done=30, stream=io.StringIO(), every=60)
    bar._t0 -= 100.0            # 100 s in this session, 5 runs trained: 5 more take 100 s
    bar.update(35)
    assert ", ETA 1m40s" in bar.line()
    assert fmt_seconds(3725) == "1h02m"


def test_disabled_prints_nothing_and_a_terminal_gets_a_bar():
    out = io.StringIO()
    with Progress("x", 3, enabled=False, stream=out) as bar:
        bar.advance(3)
    assert out.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    with Progress("bar step", 3, stream=term, every=0.01) as bar:
        bar.advance(3)
        time.sleep(0.05)
    text = term.getvalue()
    assert "bar step" in text and "3/3" in text
    assert not any(LINE.match(ln) for ln in text.splitlines())   # no plain lines on a terminal


def test_pipe_gets_lines_while_the_step_runs(tmp_path):
    """A subprocess whose stdout is a pipe sees progress *during* the work, not only at the end."""
    code = ("import time\nfrom surrogate_eo._progress import Progress\n"
            "with Progress('slow step', 5, unit='items') as bar:\n"
            "    for _ in range(5):\n        time.sleep(0.3)\n        bar.advance()\n")
    env = dict(os.environ, SURROGATE_EO_PROGRESS_SECONDS="0.2")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    first = proc.stdout.readline()                # arrives before the work ends (flushed line by line)
    t_first = time.monotonic()
    rest = proc.stdout.read()
    proc.wait(timeout=60)
    assert time.monotonic() - t_first > 0.5, "the first line came at the end, not while working"
    lines = [first.strip()] + rest.splitlines()
    matches = [LINE.match(ln) for ln in lines]
    assert all(matches), lines
    assert len(lines) >= 5 and matches[-1]["end"] == "done" and matches[-1]["done"] == "5"
    assert any(m["eta"] not in (None, "?") for m in matches)


def test_synthesis_reports_progress_into_a_pipe(tmp_path):
    code = ("from surrogate_eo.data import synthesize\n"
            f"synthesize({str(tmp_path / 'd')!r}, version=2, n_train=96, n_val=32, n_test=32, seed=0, "
            "compression=None, progress=True)\n")
    env = dict(os.environ, SURROGATE_EO_PROGRESS_SECONDS="0.05")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("synthesising:")]
    assert lines and LINE.match(lines[-1])["end"] == "done"
    assert lines[-1].startswith("synthesising: 160/160 patches (100%)")


def test_demo_interrupt_says_how_to_resume(tmp_path):
    from surrogate_eo.demo import DemoOptions, run_demo

    said: list[str] = []

    def log(text: str) -> None:
        said.append(text)
        if text.startswith("[1/6]"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_demo(DemoOptions(out_dir=tmp_path / "demo"), log=log, progress=False)
    assert said[-1].startswith("interrupted:")
    assert "run the same command again to resume" in said[-1] and str(tmp_path / "demo") in said[-1]
    assert Path(tmp_path / "demo").is_dir()
