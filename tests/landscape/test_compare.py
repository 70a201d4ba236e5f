"""`landscape compare`: two landscapes, feature by feature, with family-wise error control."""
from __future__ import annotations

import json

import numpy as np
import pytest

from surrogate_eo.errors import LandscapeError
from surrogate_eo.landscape import SamplingPlan, footprint
from surrogate_eo.landscape.compare import compare_footprints, compare_landscapes, load_footprint, sidak_z
from surrogate_eo.landscape.nk import NKLandscape

C10, C100 = "CIFAR10TestAccuracy200Epochs", "CIFAR100TestAccuracy200Epochs"
SMALL = SamplingPlan.small(n_points=500, n_walks=30, walk_length=20, n_centres=40, n_climbs=0, n_neutral_walks=0)


@pytest.fixture(scope="module")
def exact_fps(nb201_table):
    """Exact footprints of NB201 CIFAR-10 and CIFAR-100 (sampled extras from a small plan)."""
    return {c: footprint(nb201_table.source(c), SMALL, exact=True, seed=0) for c in (C10, C100)}


def test_a_footprint_against_itself_differs_nowhere(exact_fps):
    c = compare_footprints(exact_fps[C10], exact_fps[C10])
    assert c.n_significant == 0 and len(c.differences) > 30
    assert all(d.difference == 0 and d.ci[0] <= 0 <= d.ci[1] for d in c.differences)


def test_cifar10_vs_cifar100_exact(exact_fps):
    """The known exact values: rho(1) 0.560 (CIFAR-10) vs 0.611 (CIFAR-100), significant, zero-width CI."""
    c = compare_footprints(exact_fps[C10], exact_fps[C100])
    r = c["autocorr_lag1"]
    assert round(r.a, 3) == 0.560 and round(r.b, 3) == 0.611 and r.significant
    assert r.ci == pytest.approx((r.difference, r.difference))
    assert c["local_optima_strict"].a == 17  # GraphFLA-checked exact count on CIFAR-10
    d = c.to_dict()
    assert d["features"]["autocorr_lag1"]["significant"] is True
    assert set(d["features"]["neutrality"]) == {"0", "0.001", "0.005", "0.01"}  # a map: name -> key -> record
    assert d["features"]["neutrality"]["0.005"]["difference"] == pytest.approx(
        exact_fps[C100]["neutrality"].value["0.005"] - exact_fps[C10]["neutrality"].value["0.005"])


def test_newcombe_sidak_widens_with_the_family():
    """Two sampled footprints: the difference CI is Newcombe's, widened by z(Sidak)/z(0.95)."""
    a = footprint(NKLandscape(10, 1, seed=0), SMALL, seed=0)
    b = footprint(NKLandscape(10, 1, seed=1), SMALL, seed=1)
    full = compare_footprints(a, b)
    one = compare_footprints(a, b, features=["fitness_mean"])
    fa, fb = a["fitness_mean"], b["fitness_mean"]
    d = fb.value - fa.value
    lo = d - np.hypot(fb.value - fb.ci[0], fa.ci[1] - fa.value)  # K = 1: plain Newcombe
    assert one["fitness_mean"].ci[0] == pytest.approx(lo)
    K = len(full.differences)
    w_full = np.diff(full["fitness_mean"].ci)[0]
    w_one = np.diff(one["fitness_mean"].ci)[0]
    assert w_full / w_one == pytest.approx(sidak_z(0.95, K) / sidak_z(0.95, 1), rel=1e-9)
    assert "Sidak-adjusted over" in full.method


def test_paired_bootstrap_controls_the_family_wise_error():
    """Identical landscapes sampled on the same archs: never a significant difference;
    two different NK landscapes: rho(1) (0.73 vs 0.27 in theory for K=1 vs K=6) is."""
    plan = SamplingPlan.small(n_points=300, n_walks=25, walk_length=20, n_centres=25, n_climbs=0,
                              n_neutral_walks=0, n_boot=200)
    hits = 0
    for s in range(8):
        c = compare_landscapes(NKLandscape(12, 2, seed=s), NKLandscape(12, 2, seed=s), plan=plan, seed=s)
        assert c.method.startswith("paired bootstrap")
        hits += c.n_significant > 0
    assert hits == 0
    c = compare_landscapes(NKLandscape(12, 1, seed=0), NKLandscape(12, 6, seed=0), plan=plan, seed=0)
    assert c["autocorr_lag1"].significant and c["autocorr_lag1"].difference < -0.2


def test_cli_compare_footprints_and_sources(nb201_dir, tmp_path, run_cli, exact_fps):
    for col, name in ((C10, "c10"), (C100, "c100")):
        exact_fps[col].save(tmp_path / f"{name}.json")
    out = tmp_path / "cmp.json"
    r = run_cli("landscape", "compare", tmp_path / "c10.json", tmp_path / "c100.json", "--json", out, "-q")
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["features"]["autocorr_lag1"]["a"] == pytest.approx(0.55999, abs=1e-4)
    assert d["features"]["autocorr_lag1"]["significant"] and r.stdout.startswith(f"{d['n_significant']} of ")
    r = run_cli("landscape", "compare", f"table:{nb201_dir}:{C10}", f"table:{nb201_dir}:{C100}", "--points", "400",
                "--walks", "20", "--walk-length", "15", "--centres", "20", "--boot", "100", "--json", out, "-q")
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["method"].startswith("paired bootstrap") and d["features"]["fitness_mean"]["significant"]
    assert d["features"]["fitness_mean"]["a"] > d["features"]["fitness_mean"]["b"] + 0.2  # C10 >> C100 accuracy


def test_bad_inputs_are_one_line_errors(nb201_dir, tmp_path, run_cli, exact_fps):
    exact_fps[C10].save(tmp_path / "c10.json")
    old = json.loads((tmp_path / "c10.json").read_text())
    old["schema"] = "surrogate-eo/landscape-footprint/0"
    (tmp_path / "old.json").write_text(json.dumps(old))
    r = run_cli("landscape", "compare", tmp_path / "c10.json", tmp_path / "old.json")
    assert r.returncode == 2 and "footprint schema 'surrogate-eo/landscape-footprint/0', expected" in r.stderr
    with pytest.raises(LandscapeError, match="is in space 'nb201', B .* in 'bits12'"):
        compare_landscapes(f"table:{nb201_dir}:{C10}", NKLandscape(12, 2, seed=0))
    fp = footprint(NKLandscape(12, 2, seed=0), SMALL)
    with pytest.raises(LandscapeError, match="compare landscapes of one space"):
        compare_footprints(exact_fps[C10], fp)
    r = run_cli("landscape", "compare", "tables:x.csv:y", tmp_path / "c10.json")
    assert r.returncode == 2 and "is not KIND:PATH:NAME" in r.stderr
    with pytest.raises(LandscapeError, match="does not exist"):
        load_footprint(tmp_path / "nope.json")
    r = run_cli("landscape", "--source", f"table:{nb201_dir}:{C10}", "compare", "a.json", "b.json")
    assert r.returncode == 2 and "go after `landscape compare`" in r.stderr
