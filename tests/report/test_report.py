"""The quality report: numbers against the database they come from, self-contained files, inputs, errors."""
from __future__ import annotations

import base64
import json
import re
import shutil

import numpy as np
import pytest

from surrogate_eo.errors import DatabaseError, ReportError, SurrogateEOError
from surrogate_eo.report import ReportData, ReportOptions, build_report, compute_report, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _strict_json(path):
    def bad(x):
        raise ValueError(f"non-strict JSON constant {x}")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=bad)


def test_campaign_numbers_match_the_database(report, campaign):
    from surrogate_eo.database import Database

    db = Database.read(campaign.db)
    c = report.data.campaign
    assert c["n_runs"] == len(db.runs) == 274
    assert c["statuses"] == {s: int((db.runs["status"] == s).sum()) for s in ("ok", "diverged", "failed")}
    assert sum(x["runs"] for x in c["counts"]) == int(db.summary()["runs"].sum())
    assert set(c["strata"]) == {"random", "walks", "neighbourhoods", "seeds"}
    noise = c["noise"][campaign.task]
    assert noise["n_archs_repeated"] == 15 and noise["max_seeds_per_arch"] == 3
    assert 0.006 < noise["pooled_std"] < 0.014  # the toy truth has 1-point seed noise


def test_accuracy_numbers(report, campaign):
    from surrogate_eo.database import Database

    a = report.data.accuracy[campaign.task]
    archs, _ = Database.read(campaign.db).targets(campaign.task, "val_acc")
    oof = a["metrics"][0]
    assert oof["split"].startswith("out-of-fold (3-fold") and oof["n"] == len(archs) == a["n_archs"]
    assert oof["kendall_tau"] > 0.5 and oof["sparse_kendall_tau"] > 0.5 and oof["r2"] > 0.4
    assert {r["split"].split(" ")[0] for r in a["metrics"]} == {"out-of-fold", "in-sample"}  # fitted on all archs
    assert len(a["scatter"]["y_true"]) == len(archs)
    strata = {r["stratum"]: r for r in a["per_stratum"]}
    assert set(strata) == {"random", "walks", "neighbourhoods", "seeds"}
    assert all(r["loso"] is not None and r["loso"]["n_train"] == len(archs) - r["n"] for r in strata.values())
    n = len(archs)
    assert a["learning_curve"]["sizes"] == sorted({round(f * n) for f in (0.25, 0.5, 0.75)})
    assert len(a["learning_curve"]["rows"]) == 3 * 2
    cal = a["calibration"]
    obs, model = np.array(cal["observed"]), np.array(cal["observed_model_only"])
    levels = np.asarray(cal["levels"])
    # seed noise widens the wide intervals; at small levels the convolved interval may be the narrower one
    assert cal["n_obs"] == 268 and np.all(np.diff(obs) >= 0) and np.all((obs >= model)[levels >= 0.5])
    assert obs[-1] > 0.8  # the 99 % interval with seed noise covers most single runs


def test_landscape_and_verdict_numbers(report, campaign):
    land = report.data.landscape[campaign.task]
    assert land["origin"].startswith("computed by the report") and not land["samples_redrawn"]
    comps = land["comparisons"]
    assert land["paired_by"].startswith("out-of-fold (3-fold refits of the") and not land["warnings"]
    assert set(land["verdicts"]) == {"value", "rank"} and land["verdict"] == land["verdicts"]["value"]
    for mode in ("value", "rank"):  # counts are of the comparisons each mode judges
        judged = [c for c in comps if c["outcomes"].get(mode) is not None]
        assert sum(land["counts"][mode].values()) == len(judged) >= 4
        word = land["verdicts"][mode]
        assert (word == "unfaithful") == any(c["outcomes"][mode] == "unfaithful" for c in judged)
        assert land["too_small"][mode] == (word == "inconclusive" and bool(land["runs_needed"][mode]))
    assert sum(land["counts"]["rank"].values()) < sum(land["counts"]["value"].values())
    fails = [c for c in comps if c["judged"] and c["verdict"] == "unfaithful"]
    assert sorted({c["label"] for c in fails}) == land["failed"]
    assert all("CI" in c["why"] or "no value" in c["why"] for c in comps if c["judged"])
    # 70 points, 4 walks and 2 neighbourhoods: the evidence rule says the campaign is too small
    assert land["too_small"]["value"] and land["runs_needed"]["value"]["walks"] > 0
    h = land["histogram"]
    width = np.diff(h["edges"])
    for m in ("truth", "paired", "distributional"):
        assert float(np.sum(np.array(h[m]) * width)) == pytest.approx(1.0, abs=1e-6)
    assert land["series"]["truth"]["n"] == land["series"]["paired"]["n"]  # paired: the same archs
    assert land["series"]["distributional"]["n"] == 400
    assert {"truth", "paired", "distributional"} <= set(land["autocorrelation"])
    assert land["features"]["fitness_mean"]["truth"]["n"] == land["series"]["truth"]["n"]


def test_search_section(report):
    s = report.data.search
    groups = {(g["source"].split(":")[0], g["optimizer"]) for g in s["groups"]}
    assert groups == {("db", "rs"), ("db", "ls"), ("Benchmark", "rs"), ("Benchmark", "ls"), ("Benchmark", "re")}
    assert len(s["runs"]) == 13 and len(s["comparisons"]) == 1
    g = next(g for g in s["groups"] if g["optimizer"] == "re")
    assert g["mean"][-1] == pytest.approx(g["best_mean"]) and np.all(np.diff(g["mean"]) >= 0)


def test_files_are_complete_and_self_contained(report):
    html = report.html.read_text(encoding="utf-8")
    md = report.markdown.read_text(encoding="utf-8")
    data = _strict_json(report.json)
    names = [f["name"] for f in data["figures"]]
    assert len(names) == len(report.figures) == 14 and all(p.is_file() for p in report.figures)
    srcs = re.findall(r'<img[^>]*\ssrc="([^"]*)"', html)
    assert len(srcs) == len(names)
    for s in srcs:
        assert s.startswith("data:image/png;base64,")
        assert base64.b64decode(s.split(",", 1)[1])[:8] == PNG_MAGIC
    assert not re.search(r'(src|href)="(?!data:|#)', html), "an external resource"
    assert "<link" not in html and "@import" not in html and "url(" not in html
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert sorted(linked) == sorted(f["file"] for f in data["figures"])
    assert all((report.markdown.parent / p).is_file() for p in linked)
    for title in ("Campaign summary", "Surrogate accuracy", "Landscape comparison", "Verdict",
                  "Optimiser trajectories"):
        assert f"<h2>{title}</h2>" in html and f"## {title}" in md
    assert data["accuracy"]["so2sat-s2"]["metrics"][0]["kendall_tau"] == pytest.approx(
        report.data.accuracy["so2sat-s2"]["metrics"][0]["kendall_tau"])


def test_renderers_need_only_the_json(report):
    """Rendering the saved report.json gives the same Markdown: the renderers read nothing else."""
    from surrogate_eo.report.layout import layout
    from surrogate_eo.report.markdown import render_markdown
    from surrogate_eo.report.plots import Figure

    saved = _strict_json(report.json)
    data = ReportData.from_dict(saved)
    figs = [Figure(f["name"], f["section"], f["title"], f["caption"], b"") for f in saved["figures"]]
    assert render_markdown(layout(data, figs), data.meta) == report.markdown.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def verdict(campaign, tmp_path_factory):
    """A fidelity verdict of the tiny benchmark (small plan, seed 3) and its JSON file."""
    import surrogate_eo
    from surrogate_eo.landscape import BenchmarkSource, DatabaseSource, SamplingPlan, fidelity

    plan = SamplingPlan.small(n_points=300, n_walks=6, walk_length=12, n_centres=6, n_climbs=4, n_boot=30)
    bench = surrogate_eo.load(campaign.bench)
    v = fidelity(DatabaseSource(campaign.db, campaign.task), BenchmarkSource(bench, campaign.task), plan=plan,
                 seed=3, truth_adaptive=False)
    path = tmp_path_factory.mktemp("verdict") / "v.json"
    v.save(path)
    return v, path


def test_given_verdicts_are_used(campaign, fast, verdict):
    v, path = verdict
    opts = fast(cv_folds=2, learning_curve_fractions=(0.5,), learning_curve_seeds=(0,))
    second = compute_report(campaign.db, campaign.bench, path, options=opts)
    from_file = second.landscape[campaign.task]
    assert from_file["origin"] == f"read from {path}" and from_file["samples_redrawn"]
    assert from_file["score"] == pytest.approx(v.score) and from_file["verdict"] == v.verdict
    assert from_file["verdicts"] == v.verdicts
    assert from_file["series"]["distributional"]["n"] == 300  # redrawn with the verdict's own plan
    first = compute_report(campaign.db, campaign.bench, {campaign.task: v}, options=opts)
    from_obj = first.landscape[campaign.task]
    assert from_obj["origin"] == "given as a Verdict object" and not from_obj["samples_redrawn"]
    for m in ("truth", "paired", "distributional"):  # the redrawn samples are the verdict's own
        assert from_obj["histogram"][m] == pytest.approx(from_file["histogram"][m])
    assert first.accuracy == second.accuracy and first.campaign == second.campaign  # same seed, same numbers
    with pytest.raises(ReportError, match="second fidelity verdict"):
        compute_report(campaign.db, campaign.bench, [v, v], options=opts)


def _other_space_bench():
    from surrogate_eo.spaces import get_space
    from surrogate_eo.surrogates import XGBSurrogate
    from surrogate_eo.surrogates.fitting import Target, fit_targets

    sp = get_space("nb201")
    a = sp.sample(40, seed=0)
    return fit_targets(sp, [Target("so2sat-s2", "val_acc", None, a, (a == 3).mean(axis=1))],
                       model=XGBSurrogate(space="nb201", n_estimators=5))


def _empty_db(campaign, tmp_path):
    from surrogate_eo.database import Database

    # (Database.from_records([]).write() fails in pyarrow on the empty list columns; an empty slice works)
    return Database(Database.read(campaign.db).runs.iloc[:0]).write(tmp_path / "empty.parquet")


def _failed_only_db(campaign, tmp_path):
    from surrogate_eo.database import Database

    db = Database.read(campaign.db)
    db.runs["status"] = "failed"
    return db.write(tmp_path / "failed.parquet")


@pytest.mark.parametrize("case, error, match", [
    ("missing db", DatabaseError, "does not exist"),
    ("other space", ReportError, "space 'nb201' but the database holds runs of 'eo'"),
    ("empty db", ReportError, "holds no runs"),
    ("no ok run", ReportError, "none finished ok"),
    ("unknown task", ReportError, "task 'so2sat-s1' is not in both inputs"),
    ("not a verdict", ReportError, "not a fidelity verdict"),
    ("missing verdict", ReportError, "fidelity file .* does not exist"),
    ("not a trajectory", ReportError, "neither a trajectory"),
])
def test_bad_inputs_raise_before_writing(case, error, match, campaign, trajectory_files, tmp_path):
    kw = {"db": campaign.db, "bench": campaign.bench}
    if case == "missing db":
        kw["db"] = tmp_path / "nope.parquet"
    elif case == "other space":
        kw["bench"] = _other_space_bench()
    elif case == "empty db":
        kw["db"] = _empty_db(campaign, tmp_path)
    elif case == "no ok run":
        kw["db"] = _failed_only_db(campaign, tmp_path)
    elif case == "unknown task":
        kw["tasks"] = ["so2sat-s1"]
    elif case == "not a verdict":
        kw["fidelity"] = trajectory_files[1]
    elif case == "missing verdict":
        kw["fidelity"] = tmp_path / "v.json"
    elif case == "not a trajectory":
        (tmp_path / "x.json").write_text('{"hello": 1}')
        kw["trajectories"] = [trajectory_files[0], tmp_path / "x.json"]
    out = tmp_path / "out"
    with pytest.raises(error, match=match):
        build_report(out_dir=out, **kw)
    assert issubclass(error, SurrogateEOError) and not out.exists()


def test_options_are_validated():
    with pytest.raises(ReportError, match="cv_folds"):
        ReportOptions(cv_folds=1)
    with pytest.raises(ReportError, match="learning_curve_fractions"):
        ReportOptions(learning_curve_fractions=(0.5, 1.0))
    with pytest.raises(ReportError, match="schema"):
        ReportData.from_dict({"schema": "other"})


def test_a_failed_render_leaves_the_old_report_untouched(report, tmp_path, monkeypatch):
    import surrogate_eo.report.plots as plots

    shutil.copytree(report.html.parent, tmp_path, dirs_exist_ok=True)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def boom(data):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(plots, "render_figures", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_report(report.data, tmp_path)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert (tmp_path / "report.html").is_file() and not list(tmp_path.rglob(".*.tmp"))


def test_output_folder_that_is_a_file(report, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ReportError, match="not a folder"):
        write_report(report.data, tmp_path / "f")


def test_cli_errors_exit_2(run_cli, campaign, tmp_path):
    code, _, err = run_cli("report", "--db", str(tmp_path / "nope.parquet"), "--surrogate", str(campaign.bench),
                       "--out", str(tmp_path / "r"))
    assert code == 2 and err.startswith("error: database") and "does not exist" in err
    code, _, err = run_cli("report", "--db", str(_empty_db(campaign, tmp_path)), "--surrogate", str(campaign.bench),
                       "--out", str(tmp_path / "r"))
    assert code == 2 and "holds no runs" in err and not (tmp_path / "r").exists()


def test_cli_writes_the_report(run_cli, campaign, verdict, tmp_path):
    _, path = verdict
    code, out, err = run_cli("report", "--db", str(campaign.db), "--surrogate", str(campaign.bench), "--out",
                         str(tmp_path / "r"), "--fidelity", str(path), "--cv-folds", "2", "--quick")
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"{campaign.task}: 238 archs, out-of-fold Kendall tau")
    assert "landscape verdict" in out and (tmp_path / "r" / "report.html").is_file()
    data = _strict_json(tmp_path / "r" / "report.json")
    assert data["landscape"][campaign.task]["origin"] == f"read from {path}"
    assert data["meta"]["sources"]["fidelity"] == str(path)
    assert data["meta"]["options"]["cv_folds"] == 2 and data["accuracy"][campaign.task]["metrics"][0]["split"] \
        .startswith("out-of-fold (2-fold")
