"""Resident memory of one process training smoke runs back to back, with and without allocator tuning.

A local-executor worker trains many runs in one process. This trains ``--runs`` smoke
runs of the ``eo`` space on So2Sat-format data in a fresh process per variant and prints
the process's resident anonymous memory (``RssAnon``: excluding memory-mapped files) and
peak resident set (``VmHWM``) after each run:

- ``default``: glibc's allocator as it comes;
- ``tuned``: :func:`surrogate_eo._memory.tune_allocator` at start and
  :func:`surrogate_eo._memory.release_memory` after each run (what the local executor's
  workers do).

Run: ``python benchmarks/bench_worker_memory.py DATA_DIR [--runs 4]`` (``DATA_DIR`` e.g. the
``data/`` folder of a ``surrogate-eo demo`` output, or ``surrogate-eo synth`` output).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

CHILD = r"""
import sys
variant, data, out, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
from surrogate_eo._memory import release_memory, tune_allocator
if variant == "tuned":
    tune_allocator()
def status():
    d = {}
    for line in open("/proc/self/status"):
        key = line.split(":")[0]
        if key in ("RssAnon", "VmHWM"):
            d[key] = int(line.split()[1]) // 1024
    return d
import torch
torch.set_num_threads(1)
from surrogate_eo.records import RunSpec
from surrogate_eo.spaces import get_space
from surrogate_eo.training.protocols import get_protocol
from surrogate_eo.training.trainer import train
space = get_space("eo")
archs = space.sample(200, seed=3)
print(variant, "after imports", status(), flush=True)
for k in range(runs):
    spec = RunSpec(space="eo", arch=space.to_string(archs[k]), task="so2sat-s2", seed=0, protocol="smoke",
                   protocol_hash=get_protocol("smoke").hash)
    train(spec, data, out)
    if variant == "tuned":
        release_memory()
    print(variant, "after run", k, status(), flush=True)
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="So2Sat-format data folder")
    ap.add_argument("--runs", type=int, default=4)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as out:   # both variants at once, in separate processes
        procs = [subprocess.Popen([sys.executable, "-c", CHILD, v, args.data, f"{out}/{v}", str(args.runs)])
                 for v in ("default", "tuned")]
        if any(p.wait() for p in procs):
            sys.exit(1)


if __name__ == "__main__":
    main()
