"""Wall time and memory of every stage of ``surrogate-eo demo`` (writes a JSON the README quotes).

Runs ``surrogate-eo demo --out DIR`` in a fresh folder as a subprocess whose stdout is a
pipe (as in CI or ``make demo > log``), and every 0.25 s reads ``/proc/<pid>/status``
of the demo and of all its children (the training workers):

- ``anon``: resident anonymous memory (``RssAnon + RssShmem``), i.e. resident memory
  *excluding* memory-mapped files (the So2Sat HDF5 files are memory-mapped);
- ``rss``: all resident memory (``VmRSS``), mapped files and shared libraries included.

Per stage (``[k/6]`` lines of the demo) it records the wall time, the peak of the demo
process and the peak summed over the process tree. It also records whether plain
progress lines appeared while stdout was a pipe, and the machine's load average (other
processes slow the demo down; the number is what *this* machine measured).

Target (issue 13): demo <= 180 s on a quiet 2-core machine, peak resident <= 2 GB
excluding memory-mapped files.

Run: ``python benchmarks/bench_demo.py [--out benchmarks/results/demo_profile.json] [--keep DIR]``
(``--keep`` leaves the demo's folder for ``evaluation/demo_pipeline.py``);
``--check README.md`` verifies the README quotes the measured numbers (for CI).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "demo_profile.json"
STAGE = re.compile(r"^\[(\d)/6\]")
#: How the README states the measurement (``--check`` looks for this sentence).
README_CLAIM = ("`surrogate-eo demo` took {seconds} s on this project's 2-core machine (load average {load} "
                "before it started), peak {peak_mb:,} MB resident excluding memory-mapped files")
#: The same for a run stopped before the end (e.g. out of time on a loaded machine).
README_PARTIAL = ("`surrogate-eo demo` was not timed to the end: on this project's 2-core machine (load average "
                  "{load} before it started) it had trained {done} of {total} runs after {seconds} s, peak "
                  "{peak_mb:,} MB resident excluding memory-mapped files")
TRAINING = re.compile(r"^training \S+: (\d+)/(\d+) runs")


def _status(pid: int) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssShmem"):
                    out[key] = int(rest.split()[0]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return pids


def profile(out_dir: Path, extra: list[str], interval: float = 0.25) -> dict:
    """Run the demo into ``out_dir`` and return the per-stage profile."""
    exe = Path(sys.executable).with_name("surrogate-eo")
    cmd = [str(exe) if exe.exists() else "surrogate-eo", "demo", "--out", str(out_dir), *extra]
    env = dict(os.environ, SURROGATE_EO_PROGRESS_SECONDS="10")
    load_before = [round(v, 2) for v in os.getloadavg()]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    stages: dict[str, dict] = {}
    current = ["0"]
    lines: list[tuple[float, str]] = []
    lock = threading.Lock()

    def stage(k: str) -> dict:
        return stages.setdefault(k, {"start_s": round(time.monotonic() - t0, 2), "peak_anon_mb": 0.0,
                                     "peak_rss_mb": 0.0, "peak_tree_anon_mb": 0.0, "peak_tree_rss_mb": 0.0})

    def read() -> None:
        for raw in proc.stdout:  # type: ignore[union-attr]
            line = raw.rstrip("\n")
            m = STAGE.match(line)
            with lock:
                lines.append((time.monotonic() - t0, line))
                if m:
                    current[0] = m.group(1)
                    stage(current[0])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stage("0")
    while proc.poll() is None:
        main = _status(proc.pid)
        tree = [_status(p) for p in _tree(proc.pid)]
        with lock:
            s = stage(current[0])
        anon = (main.get("RssAnon", 0) + main.get("RssShmem", 0)) / 2 ** 20
        s["peak_anon_mb"] = max(s["peak_anon_mb"], round(anon, 1))
        s["peak_rss_mb"] = max(s["peak_rss_mb"], round(main.get("VmRSS", 0) / 2 ** 20, 1))
        t_anon = sum(t.get("RssAnon", 0) + t.get("RssShmem", 0) for t in tree) / 2 ** 20
        s["peak_tree_anon_mb"] = max(s["peak_tree_anon_mb"], round(t_anon, 1))
        s["peak_tree_rss_mb"] = max(s["peak_tree_rss_mb"], round(sum(t.get("VmRSS", 0) for t in tree) / 2 ** 20, 1))
        time.sleep(interval)
    reader.join()
    total = time.monotonic() - t0
    keys = sorted(stages, key=int)
    for a, b in zip(keys, keys[1:] + [None]):
        end = stages[b]["start_s"] if b else total
        stages[a]["seconds"] = round(end - stages[a]["start_s"], 1)
    progress_lines = [ln for _, ln in lines if re.search(r": \d+/\d+ .*elapsed", ln)]
    return {
        "command": " ".join(cmd[1:]), "returncode": proc.returncode, "seconds": round(total, 1),
        "stages": stages,
        "peak_anon_mb": max(s["peak_anon_mb"] for s in stages.values()),
        "peak_tree_anon_mb": max(s["peak_tree_anon_mb"] for s in stages.values()),
        "peak_tree_rss_mb": max(s["peak_tree_rss_mb"] for s in stages.values()),
        "progress_lines_while_piped": len(progress_lines),
        "progress_examples": progress_lines[:3],
        "cpus": len(os.sched_getaffinity(0)), "loadavg_before": load_before,
        "loadavg_after": [round(v, 2) for v in os.getloadavg()],
        "tail": [ln for _, ln in lines[-12:]],
    }


def claim(result: dict) -> str:
    """The README sentence for a result (complete or stopped early)."""
    values = dict(seconds=f"{result['seconds']:.0f}", peak_mb=int(round(result["peak_tree_anon_mb"])),
                  load=f"{result.get('loadavg_before', result['loadavg_after'])[0]:.1f}")
    if result["returncode"] == 0:
        return README_CLAIM.format(**values)
    counts = [TRAINING.match(ln) for ln in result.get("tail", []) + result.get("progress_examples", [])]
    done, total = max(((int(m.group(1)), int(m.group(2))) for m in counts if m), default=(0, 0))
    return README_PARTIAL.format(done=done, total=total, **values)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", type=Path, help="verify that this file (README.md) quotes --out's numbers")
    ap.add_argument("--claim", action="store_true", help="print the README sentence of --out and exit")
    ap.add_argument("--keep", type=Path, default=None,
                    help="run the demo into this (new or empty) folder and keep it, for evaluation/demo_pipeline.py")
    ap.add_argument("demo_args", nargs="*", help="extra arguments for surrogate-eo demo")
    args = ap.parse_args(argv)
    if args.claim:
        print(claim(json.loads(args.out.read_text())))
        return 0
    if args.check:
        result = json.loads(args.out.read_text())
        want = claim(result)
        if want not in args.check.read_text():
            print(f"{args.check} does not state the measured demo numbers of {args.out}; expected: {want}")
            return 1
        print(f"ok: {args.check} quotes {args.out}")
        return 0
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        print(f"--keep {args.keep} is not empty: a resumed demo would not be timed; pass a new folder")
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    demo = args.keep or work / "demo"
    try:
        result = profile(demo, args.demo_args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["out_dir"] = str(args.keep.resolve()) if args.keep else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("stages", "tail")}, indent=1))
    for k, s in sorted(result["stages"].items(), key=lambda kv: int(kv[0])):
        print(f"  stage {k}: {s['seconds']:7.1f} s   demo {s['peak_anon_mb']:7.1f} MB anon   "
              f"tree {s['peak_tree_anon_mb']:7.1f} MB anon / {s['peak_tree_rss_mb']:7.1f} MB rss")
    print(claim(result))
    return 0 if result["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
