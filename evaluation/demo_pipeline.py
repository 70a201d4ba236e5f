"""Tabulate one measured run of `surrogate-eo demo` (its embedded default).

Reads a finished demo folder's ``report/report.json`` and the wall time and memory
that ``benchmarks/bench_demo.py`` measured for that same run
(``benchmarks/results/demo_profile.json``, whose ``out_dir`` names the folder), and
writes ``paper/generated/demo_pipeline.tex``: campaign size and outcomes, the smoke
protocol's hash, seed-to-seed noise, out-of-fold surrogate accuracy, the landscape
verdict in both modes with the runs it asks for, and the demo's wall time and peak memory.

Usage::

    python benchmarks/bench_demo.py --keep /tmp/demo      # measure (a quiet machine, ~3 min)
    python evaluation/demo_pipeline.py                    # tabulate that run
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _latex import write_table  # noqa: E402

from surrogate_eo.training import get_protocol  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "benchmarks" / "results" / "demo_profile.json"


def rows_of(rep: dict, profile: dict) -> list[list[object]]:
    """The table's rows from a demo's report.json and bench_demo's profile of the same run."""
    camp = rep["campaign"]
    rows: list[list[object]] = [
        ["runs (plan entries)", f"{camp['n_runs']} ({camp['n_plan_entries']})"],
        ["distinct architectures", camp["n_archs"]],
        ["smoke protocol (hash)", get_protocol("smoke").hash],
        ["summed training time", f"{camp['wall_hours'] * 60:.1f} min"]]
    for task, acc in rep["accuracy"].items():
        m = acc["metrics"][0]
        land = rep["landscape"][task]
        noise = camp["noise"].get(task)
        if noise and noise.get("pooled_std") is not None:
            rows.append([f"{task}: seed-to-seed sd", f"{noise['pooled_std'] * 100:.2f} pp"])
        rows += [[f"{task}: {m['split']} Kendall $\\tau$ / sparse",
                  f"{m['kendall_tau']:.3f} / {m['sparse_kendall_tau']:.3f}"],
                 [f"{task}: R$^2$ / RMSE", f"{m['r2']:.3f} / {m['rmse'] * 100:.2f} pp"]]
        for mode, verdict in (land.get("verdicts") or {"value": land["verdict"]}).items():
            need = (land.get("runs_needed") or {}).get(mode) or {}
            more = ", ".join(f"{int(v):,} {k}" for k, v in sorted(need.items()))
            rows.append([f"{task}: verdict, {mode} mode", verdict + (f" (needs {more})" if more else "")])
    rows += [["demo wall time (2 CPU cores)", f"{profile['seconds']:.0f} s"],
             ["peak resident memory, excl. mapped files", f"{profile['peak_tree_anon_mb']:,.0f} MB"]]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", type=Path, default=PROFILE, help="bench_demo.py's JSON of the run")
    ap.add_argument("--demo", type=Path, default=None, help="the demo folder (default: the profile's out_dir)")
    args = ap.parse_args(argv)
    profile = json.loads(args.profile.read_text())
    demo = args.demo or Path(profile.get("out_dir") or "")
    report = demo / "report" / "report.json"
    if not report.is_file():
        print(f"error: {report} not found: run benchmarks/bench_demo.py --keep DIR first, or pass --demo",
              file=sys.stderr)
        return 2
    rows = rows_of(json.loads(report.read_text()), profile)
    for r in rows:
        print(f"{r[0]:<45} {r[1]}")
    write_table("demo_pipeline", ["quantity", "value"], rows, align="lr", label="tab:demo",
                caption="One run of \\texttt{surrogate-eo demo}: the smoke campaign on the eo space "
                        "(so2sat-s2, synthetic So2Sat-format data), an XGBoost surrogate and its fidelity "
                        "verdict in both modes. The campaign is far too small for a conclusive verdict (the "
                        "verdict says how many runs would settle it); it exercises every stage.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
