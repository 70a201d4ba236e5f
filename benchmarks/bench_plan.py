"""Plan + render + dry-run submission of a 10,000-run campaign (target <= 10 s on 2 cores).

Prints wall times (no asserts) for

1. a 10,000-run campaign (eo, one task, 10,000 uniform archs) and the real
   ``ground_truth/so2sat.toml`` (3 tasks, every stratum, ~11k runs):
   validate + plan, write the manifest, render + dry-run submit the array jobs
   (MaxArraySize 1001 -> 10-12 arrays) with 1 and 4 runs per task;
2. what every array task pays at start-up: reading the manifest and picking its chunk;
3. the same through the command line (``surrogate-eo plan`` then ``surrogate-eo run
   --executor slurm --dry-run``, two fresh processes, imports included);
4. the baseline: the same 10,000-run plan built entry by entry in a Python loop
   (sample, string, run id, one dict per row), in the same process.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from surrogate_eo.campaign import Manifest, SlurmOptions, load_config, plan, submit, validate_config
from surrogate_eo.records import run_id_for
from surrogate_eo.spaces import get_space

REPO = Path(__file__).resolve().parents[1]
CFG_10K = {"campaign": {"name": "bench10k", "space": "eo", "tasks": ["so2sat-s2"], "protocol": "so2sat-default"},
           "strata": {"random": {"n": 10_000}}}


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def naive_plan(n: int, protocol_hash: str) -> pd.DataFrame:
    """Baseline: one arch at a time, one dict per plan entry."""
    space = get_space("eo")
    rng = np.random.default_rng(0)
    rows, seen = [], set()
    while len(rows) < n:
        arch = space.sample(1, seed=rng)[0]
        s = space.to_string(arch)
        if s in seen:
            continue
        seen.add(s)
        rid = run_id_for("eo", s, "so2sat-s2", 0, "so2sat-default", protocol_hash)
        rows.append({"stratum": "random", "group": 0, "position": len(rows), "task": "so2sat-s2", "seed": 0,
                     "run_index": len(rows), "run_id": rid, "arch": s})
    return pd.DataFrame(rows)


def campaign(label: str, make, tmp: Path) -> float:
    m, t_plan = timed(make)
    mp = tmp / f"{label}.parquet"
    _, t_write = timed(m.write, mp)
    total = t_plan + t_write
    print(f"{label:<22} {m.n_runs:>7,} runs  plan {t_plan:6.2f} s  write manifest {t_write:5.2f} s")
    for r in (1, 4):
        subs, t_sub = timed(submit, mp, "/scratch/so2sat", tmp / f"rec-{label}-{r}",
                            SlurmOptions(gres="gpu:1", time="08:00:00", runs_per_task=r, max_parallel=64),
                            dry_run=True, max_array=1001)
        tasks = sum(s.n_tasks for s in subs)
        print(f"{'':<22} R={r}: {tasks:>6,} array tasks in {len(subs):>2} arrays  render+dry-run {t_sub:5.2f} s")
        total += t_sub
    m2, t_read = timed(Manifest.read, mp)
    _, t_chunk = timed(lambda: m2.specs(m2.chunk(m2.n_tasks(4) - 1, 4)))
    print(f"{'':<22} array task start-up: read manifest {t_read * 1e3:5.0f} ms + chunk {t_chunk * 1e3:4.1f} ms")
    print(f"{'':<22} plan + write + render/dry-run (R=1 and R=4): {total:.2f} s (target <= 10 s)")
    return t_plan


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t_plan = campaign("10k random (eo)", lambda: plan(validate_config(CFG_10K)), tmp)
        campaign("so2sat.toml", lambda: plan(load_config(REPO / "ground_truth" / "so2sat.toml")), tmp)
        cfg = tmp / "bench10k.toml"
        cfg.write_text('[campaign]\nname="bench10k"\nspace="eo"\ntasks=["so2sat-s2"]\nprotocol="so2sat-default"\n'
                       '[strata.random]\nn=10000\n')
        cli = [sys.executable, "-m", "surrogate_eo.cli"]
        t0 = time.perf_counter()
        subprocess.run([*cli, "plan", str(cfg), "--out", str(tmp / "cli.parquet")], check=True, capture_output=True)
        t1 = time.perf_counter()
        subprocess.run([*cli, "run", str(tmp / "cli.parquet"), "--executor", "slurm", "--dry-run", "--data", "/d",
                        "--records", str(tmp / "cli-rec"), "--max-array-size", "1001"], check=True, capture_output=True)
        t2 = time.perf_counter()
        print(f"CLI, 10,000 runs: surrogate-eo plan {t1 - t0:.2f} s + run --dry-run {t2 - t1:.2f} s = "
              f"{t2 - t0:.2f} s (target <= 10 s)")
        phash = validate_config(CFG_10K).protocol_hash
        df, t_naive = timed(naive_plan, 10_000, phash)
        print(f"baseline: per-entry loop plan of 10,000 runs {t_naive:.2f} s; "
              f"plan() is {t_naive / t_plan:.1f}x faster")


if __name__ == "__main__":
    main()
