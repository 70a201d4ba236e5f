"""Design of experiments: strata, stable run ids, deduplication, manifest I/O and chunking."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from surrogate_eo.campaign import Manifest, manifest_from_archs, plan, validate_config
from surrogate_eo.errors import RecordError
from surrogate_eo.records import run_id_for
from surrogate_eo.spaces import get_space

CFG = {
    "campaign": {"name": "t", "space": "eo", "tasks": ["so2sat-s2", "so2sat-s1"], "protocol": "smoke",
                 "seeds": [0], "design_seed": 7},
    "strata": {"random": {"n": 5}, "walks": {"n": 2, "length": 8}, "neighbourhoods": {"n": 2},
               "seeds": {"n": 2, "seeds": [0, 1, 2]}},
}


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return plan(validate_config(CFG))


def test_plan_sizes_and_columns(manifest: Manifest) -> None:
    e = manifest.entries
    per_task = {"random": 5, "walks": 16, "neighbourhoods": 2 * 56, "seeds": 6}
    for s, n in per_task.items():
        assert (e["stratum"] == s).sum() == 2 * n
    assert set(e["task"]) == {"so2sat-s2", "so2sat-s1"}
    assert manifest.n_runs == e["run_id"].nunique()
    # run_index numbers distinct runs 0..n-1 in order of first appearance
    first = e.drop_duplicates("run_id")["run_index"].to_numpy()
    np.testing.assert_array_equal(first, np.arange(manifest.n_runs))


def test_run_ids_are_stable_and_complete(manifest: Manifest) -> None:
    again = plan(validate_config(CFG))
    assert again.entries.equals(manifest.entries)
    row = manifest.entries.iloc[0]
    assert row.run_id == run_id_for("eo", row.arch, row.task, int(row.seed), "smoke", manifest.protocol_hash)
    spec = manifest.spec(0)
    assert spec.run_id == row.run_id and spec.stratum == "random"


def test_walk_steps_are_neighbours(manifest: Manifest) -> None:
    space = get_space("eo")
    w = manifest.entries.query("stratum == 'walks' and task == 'so2sat-s2'").sort_values(["group", "position"])
    for _, g in w.groupby("group"):
        archs = space.from_strings(g["arch"])
        assert list(g["position"]) == list(range(8))
        assert (space.distance(archs[1:], archs[:-1]) == 1).all()


def test_neighbourhoods_complete_with_positions(manifest: Manifest) -> None:
    space = get_space("eo")
    nb = manifest.entries.query("stratum == 'neighbourhoods' and task == 'so2sat-s2'")
    for _, g in nb.groupby("group"):
        g = g.sort_values("position")
        centre = g["arch"].iloc[0]
        assert g["position"].iloc[0] == 0
        expect = space.to_strings(space.neighbours(centre))
        assert list(g["arch"].iloc[1:]) == expect and list(g["position"].iloc[1:]) == list(range(1, 56))


def test_seeds_stratum_uses_its_seeds(manifest: Manifest) -> None:
    s = manifest.entries.query("stratum == 'seeds' and task == 'so2sat-s2'")
    assert sorted(s.groupby("group")["seed"].apply(tuple)) == [(0, 1, 2), (0, 1, 2)]


def test_same_run_planned_twice_is_one_run() -> None:
    cfg = {"campaign": {**CFG["campaign"], "tasks": ["so2sat-s2"]},
           "strata": {"walks": {"n": 40, "length": 30}}}
    m = plan(validate_config(cfg))
    # random walks on eo backtrack now and then: revisits are entries of one run
    assert len(m.entries) == 1200 and m.n_runs < 1200
    dup = m.entries[m.entries["run_id"].duplicated(keep=False)]
    assert dup.groupby("run_id")["run_index"].nunique().eq(1).all()
    # an arch planned by two strata (explicit) -> two entries, one run
    arch = m.entries["arch"].iloc[0]
    m2 = manifest_from_archs("eo", [arch, arch], ["so2sat-s2"], "smoke")
    assert len(m2.entries) == 2 and m2.n_runs == 1
    assert m2.entries["run_id"].iloc[0] == m.entries["run_id"].iloc[0]


def test_adding_a_stratum_keeps_the_others() -> None:
    only = plan(validate_config({"campaign": CFG["campaign"], "strata": {"random": {"n": 5}}}))
    both = plan(validate_config(CFG))
    a = only.entries.query("stratum == 'random'")["arch"].tolist()
    b = both.entries.query("stratum == 'random'")["arch"].tolist()
    assert a == b


def test_random_archs_distinct_small_space() -> None:
    cfg = {"campaign": {"name": "n", "space": "nb201", "tasks": ["so2sat-s2"], "protocol": "smoke"},
           "strata": {"random": {"n": 15000}}}
    m = plan(validate_config(cfg))
    assert m.n_runs == 15000 and m.entries["arch"].nunique() == 15000


def test_exploit_takes_top_predictions() -> None:
    space = get_space("eo")
    cfg = {"campaign": {"name": "x", "space": "eo", "tasks": ["so2sat-s2"], "protocol": "smoke"},
           "strata": {"exploit": {"n": 4, "pool": 200, "surrogate": "unused"}}}

    def predictor(archs: np.ndarray, task: str) -> np.ndarray:  # favour wide nets
        return archs[:, 7] * 10.0 + archs[:, 0]

    m = plan(validate_config(cfg), predictor=predictor)
    e = m.entries.sort_values("position")
    scores = predictor(space.from_strings(e["arch"]), "so2sat-s2")
    assert len(e) == 4 and list(scores) == sorted(scores, reverse=True)
    assert (space.from_strings(e["arch"])[:, 7] == 2).all()


def test_manifest_roundtrip_chunk_subset(manifest: Manifest, tmp_path: Path) -> None:
    p = manifest.write(tmp_path / "m.parquet")
    back = Manifest.read(p)
    assert back.entries.equals(manifest.entries) and back.protocol_hash == manifest.protocol_hash
    assert back.meta["name"] == "t" and back.meta["config"]["strata"]["random"]["n"] == 5
    n = back.n_runs
    chunks = [back.chunk(i, 7) for i in range(back.n_tasks(7))]
    assert sum(chunks, []) == list(range(n)) and all(1 <= len(c) <= 7 for c in chunks)
    assert back.chunk(back.n_tasks(7), 7) == []
    ids = list(back.runs["run_id"].iloc[[3, 10]])
    sub = back.subset(ids)
    assert sub.n_runs == 2 and list(sub.runs["run_id"]) == ids


def test_manifest_read_errors(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="does not exist"):
        Manifest.read(tmp_path / "none.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    with pytest.raises(RecordError, match="not a readable Parquet"):
        Manifest.read(junk)


def test_cli_plan_writes_manifest(tmp_path: Path, cli) -> None:
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "smoke.parquet"
    res = cli(["plan", repo / "ground_truth" / "smoke.toml", "--out", out])
    assert res.returncode == 0, res.stderr
    m = Manifest.read(out)
    assert 30 <= m.n_runs <= 40
    assert set(m.entries["stratum"]) == {"random", "walks", "neighbourhoods", "seeds"}
    assert f"-> {m.n_runs} distinct runs" in res.stdout


def test_exploit_with_a_saved_benchmark(tmp_path: Path, make_record) -> None:
    """The exploit stratum loads a fitted benchmark (surrogate_eo.load) and plans its top archs."""
    pytest.importorskip("xgboost")
    from surrogate_eo.database import Database
    from surrogate_eo.errors import CampaignConfigError
    from surrogate_eo.surrogates import fit_benchmark

    space = get_space("eo")
    archs = space.sample(80, seed=3)
    val = 0.3 + 0.2 * archs[:, 7] + 0.01 * archs[:, 0]  # wider is better
    db = Database.from_records([make_record(s, val=float(v)) for s, v in zip(space.to_strings(archs), val)])
    bench = fit_benchmark(db, tasks=["so2sat-s2"], seed=0)
    path = tmp_path / "bench"
    bench.save(str(path))
    cfg = {"campaign": {"name": "x", "space": "eo", "tasks": ["so2sat-s2"], "protocol": "smoke"},
           "strata": {"exploit": {"n": 5, "pool": 300, "surrogate": str(path)}}}
    m = plan(validate_config(cfg))
    chosen = space.from_strings(m.entries.sort_values("position")["arch"])
    pred = bench.predict(chosen, task="so2sat-s2")
    assert len(chosen) == 5 and list(pred) == sorted(pred, reverse=True)
    assert (chosen[:, 7] == 2).mean() >= 0.8
    cfg["strata"]["exploit"]["metric"] = "no_such_metric"
    with pytest.raises(CampaignConfigError, match="strata.exploit.surrogate"):
        plan(validate_config(cfg))
