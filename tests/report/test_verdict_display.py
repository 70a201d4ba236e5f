"""The report's verdict: the same numbers as `surrogate-eo fidelity`, both modes, honest statements."""
from __future__ import annotations

import copy
import json

import pytest

from surrogate_eo.report import ReportOptions
from surrogate_eo.report.layout import layout
from surrogate_eo.report.markdown import render_markdown


def test_cli_and_report_give_the_same_verdict(campaign, run_cli, tmp_path):
    """Same inputs (database, benchmark, folds, seed, plans): the CLI and the report agree, number for number."""
    import surrogate_eo
    from surrogate_eo.database import Database
    from surrogate_eo.report.accuracy import accuracy_section
    from surrogate_eo.report.landscape import compute_verdict

    out = tmp_path / "cli.json"
    r = run_cli("fidelity", "--db", campaign.db, "--surrogate", campaign.bench, "--task", campaign.task,
                "--folds", "3", "--json", out, "-q")
    assert r.returncode in (0, 1, 3), r.stderr
    cli = json.loads(out.read_text())
    db, bench = Database.read(campaign.db), surrogate_eo.load(campaign.bench)
    opts = ReportOptions(cv_folds=3, learning_curve_fractions=(0.5,), learning_curve_seeds=(0,))
    _, oof = accuracy_section(db, bench, campaign.task, "val_acc", opts)  # the report's own out-of-fold predictions
    rep = compute_verdict(db, bench, campaign.task, "val_acc", oof, opts).to_dict()
    assert cli["judge"]["paired"] == rep["judge"]["paired"] and cli["judge"]["paired"].startswith("out-of-fold (3-")
    assert cli["verdict"] == rep["verdict"] and cli["verdicts"] == rep["verdicts"]
    assert cli["runs_needed_by_mode"] == rep["runs_needed_by_mode"]
    assert cli["agreement"] == pytest.approx(rep["agreement"])
    assert [c["label"] for c in cli["comparisons"]] == [c["label"] for c in rep["comparisons"]]
    for a, b in zip(cli["comparisons"], rep["comparisons"]):
        assert a["verdict"] == b["verdict"] and a["ci"] == pytest.approx(b["ci"]), a["label"]
    code = {"faithful": 0, "unfaithful": 1, "inconclusive": 3}[cli["verdict"]]
    assert r.returncode == code and r.stdout.startswith(cli["verdict"].upper())


def test_report_states_both_modes_small_campaigns_and_synthetic_data(report):
    d = report.data.to_dict()
    md = report.markdown.read_text(encoding="utf-8")
    land = report.data.landscape["so2sat-s2"]
    assert "value mode (for benchmarking values" in md and "rank mode (for comparison-based search" in md
    assert land["too_small"]["value"]
    assert "The campaign is too small for a conclusive verdict: runs needed" in md
    assert "SYNTHETIC" not in md  # nobody said the data was synthetic
    d2 = copy.deepcopy(d)
    d2["meta"]["synthetic"] = "synthetic So2Sat-format data written by surrogate-eo demo"
    md2 = _markdown(d2)
    assert "trained on SYNTHETIC data (synthetic So2Sat-format data written by surrogate-eo demo)" in md2
    # the statement follows the evidence, not a name: a conclusive verdict says nothing about size
    d3 = copy.deepcopy(d)
    for m in ("value", "rank"):
        d3["landscape"]["so2sat-s2"]["verdicts"][m] = "faithful"
        d3["landscape"]["so2sat-s2"]["too_small"][m] = False
    assert "too small" not in _markdown(d3)


def _markdown(d: dict) -> str:
    """The Markdown of a report dict, without drawing figures."""
    return render_markdown(layout(d, []), d["meta"])
