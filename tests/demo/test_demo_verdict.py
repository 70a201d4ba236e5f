"""The demo's verdict on its own 37-run smoke campaign: inconclusive with runs needed (the evidence rule).

The campaign is planned from the embedded ``smoke.toml`` exactly as the demo plans it; instead of
training (minutes), every planned run gets a toy ground-truth value, so the test checks the
verdict's plumbing and the evidence rule on the real campaign design in seconds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from surrogate_eo.demo import DEFAULT_CONFIG, verdict_summary_line


def _toy(space, strings):
    a = space.from_strings(strings)
    return 0.55 + 0.03 * (a[:, :6] == 3).sum(axis=1) + 0.015 * a[:, 7]


def test_the_smoke_campaign_is_too_small_for_a_conclusive_verdict(tmp_path):
    from surrogate_eo import campaign as camp
    from surrogate_eo.database import Database
    from surrogate_eo.landscape import DatabaseSource
    from surrogate_eo.landscape.judge import judge
    from surrogate_eo.records import RunRecord, RunSpec
    from surrogate_eo.report.landscape import verdict_summary
    from surrogate_eo.spaces import get_space
    from surrogate_eo.surrogates import fit_benchmark

    m = camp.plan(camp.load_config(DEFAULT_CONFIG))
    assert m.n_runs == 37
    space = get_space(m.space)
    runs = m.entries.drop_duplicates("run_id")
    rng = np.random.default_rng(0)
    vals = _toy(space, list(runs["arch"])) + rng.normal(0, 0.01, len(runs))
    recs = [RunRecord(RunSpec(space=m.space, arch=a, task=t, seed=int(s), protocol=m.protocol,
                              protocol_hash=m.protocol_hash), "ok", epochs=[{"val_acc": float(v)}])
            for (a, t, s), v in zip(runs[["arch", "task", "seed"]].itertuples(index=False), vals)]
    db = Database.from_records(recs, plan=pd.DataFrame(m.entries[["stratum", "group", "position", "task", "seed",
                                                                  "run_id", "arch"]]))
    bench = fit_benchmark(db, tasks=["so2sat-s2"], model="xgb", model_params={"n_estimators": 30})
    bench.save(str(tmp_path / "bench"))
    from surrogate_eo.landscape import SamplingPlan

    j = judge(DatabaseSource(db, "so2sat-s2"), f"surrogate:{tmp_path / 'bench'}:so2sat-s2", folds=3,
              surrogate_plan=SamplingPlan.small())
    assert j.outcome == "inconclusive" and j.exit_code == 3
    assert j.verdict.verdict_for("rank") == "inconclusive"
    assert not any(c.verdict == "unfaithful" for c in j.verdict.comparisons)
    need = j.runs_needed()
    assert need and all(v > 0 for v in need.values())
    line = verdict_summary_line(verdict_summary(j.to_dict()))
    assert line.startswith("landscape fidelity verdict: inconclusive (value mode; rank mode: inconclusive)")
    assert "the campaign is too small for a conclusive verdict: runs needed ~" in line
