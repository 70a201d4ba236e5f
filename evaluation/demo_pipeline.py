"""Run `surrogate-eo demo` (its embedded default) and tabulate what it produced.

Writes paper/generated/demo_pipeline.tex from the demo's report.json: campaign
size and outcomes, seed-to-seed noise, out-of-fold surrogate accuracy and the
landscape verdict, plus the demo's wall time on this machine.
Usage: python evaluation/demo_pipeline.py [OUT_DIR]   (default: a fresh temporary folder)
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _latex import write_table  # noqa: E402

from surrogate_eo.demo import DemoOptions, run_demo  # noqa: E402


def main(out_dir: str | None = None) -> None:
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="surrogate-eo-demo-"))
    res = run_demo(DemoOptions(out_dir=out), progress=False)
    rep = json.loads((out / "report" / "report.json").read_text())
    camp = rep["campaign"]
    rows = [["runs (plan entries)", f"{camp['n_runs']} ({camp['n_plan_entries']})"],
            ["distinct architectures", camp["n_archs"]],
            ["summed training time", f"{camp['wall_hours'] * 60:.1f} min"]]
    for task, acc in rep["accuracy"].items():
        m = acc["metrics"][0]
        land = rep["landscape"][task]
        noise = camp["noise"].get(task)
        if noise and noise.get("pooled_std") is not None:
            rows.append([f"{task}: seed-to-seed sd", f"{noise['pooled_std'] * 100:.2f} pp"])
        rows += [[f"{task}: {m['split']} Kendall $\\tau$ / sparse", f"{m['kendall_tau']:.3f} / {m['sparse_kendall_tau']:.3f}"],
                 [f"{task}: R$^2$ / RMSE", f"{m['r2']:.3f} / {m['rmse'] * 100:.2f} pp"],
                 [f"{task}: verdict (score)", f"{'pass' if land['passed'] else 'fail'} ({land['score']:.3f})"],
                 [f"{task}: features failed", len(land["failed"])]]
    rows.append(["demo wall time (2 CPU cores)", f"{res.seconds:.0f} s"])
    for r in rows:
        print(f"{r[0]:<45} {r[1]}")
    write_table("demo_pipeline", ["quantity", "value"], rows, align="lr", label="tab:demo",
                caption="One run of \\texttt{surrogate-eo demo}: the smoke campaign on the eo space "
                        "(so2sat-s2, synthetic So2Sat-format data), an XGBoost surrogate and its fidelity "
                        "verdict. The campaign is far too small for a trustworthy verdict; it exercises "
                        "every stage.")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
