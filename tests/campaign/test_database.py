"""Results database: Parquet round trip and the queries surrogates and FLA use."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from surrogate_eo.campaign import manifest_from_archs
from surrogate_eo.database import Database
from surrogate_eo.errors import DatabaseError, MissingArchitectureError


@pytest.fixture
def db(make_record, cheap_archs) -> Database:
    a, b, c = cheap_archs[:3]
    recs = [make_record(a, seed=0, val=0.5), make_record(a, seed=1, val=0.7), make_record(b, seed=0, val=0.4),
            make_record(c, seed=0, status="diverged", val=0.1, epochs=1),
            make_record(c, seed=1, status="failed", epochs=0),
            make_record(a, task="so2sat-s1", val=0.3, epochs=2)]
    return Database.from_records(recs)


def test_roundtrip_keeps_everything(db: Database, tmp_path: Path) -> None:
    path = db.write(tmp_path / "db.parquet")
    back = Database.read(path)
    assert len(back) == 6
    pd.testing.assert_frame_equal(back.runs.drop(columns=[c for c in back.runs if c.startswith("curve_")]),
                                  db.runs.drop(columns=[c for c in db.runs if c.startswith("curve_")]))
    assert back.runs["curve_val_acc"].iloc[0] == pytest.approx([0.5 / 3, 1 / 3, 0.5])
    recs = {r.run_id: r for r in back.records()}
    orig = {r.run_id: r for r in db.records()}
    assert recs.keys() == orig.keys()
    rid = db.runs["run_id"].iloc[0]
    assert recs[rid].final["val_acc"] == pytest.approx(0.5) and recs[rid].status == "ok"


def test_targets_seed_average_and_per_seed(db: Database, cheap_archs) -> None:
    a, b = cheap_archs[:2]
    archs, y = db.targets("so2sat-s2", "val_acc")
    assert isinstance(archs, list) and archs == sorted([a, b])
    assert dict(zip(archs, y)) == pytest.approx({a: 0.6, b: 0.4})
    archs, y = db.targets("so2sat-s2", "val_acc", seed_average=False)
    assert archs == sorted([a, a, b]) and len(y) == 3
    archs, y = db.targets("so2sat-s2", "val_acc", epoch=1)
    assert dict(zip(archs, y)) == pytest.approx({a: 0.2, b: 0.4 / 3})
    archs, y = db.targets("so2sat-s2", "val_acc", statuses=("ok", "diverged"))
    assert len(archs) == 3
    ps = db.per_seed("so2sat-s2", "val_acc")
    assert ps.loc[a, 0] == pytest.approx(0.5) and ps.loc[a, 1] == pytest.approx(0.7) and np.isnan(ps.loc[b, 1])
    archs, y = db.targets("so2sat-s2", "params")
    assert (y == 1000).all()


def test_targets_epoch_beyond_curve_drops_run(db: Database) -> None:
    archs, _ = db.targets("so2sat-s1", "val_acc", epoch=3)
    assert archs == []
    archs, y = db.targets("so2sat-s1", "val_acc", epoch=2)
    assert y == pytest.approx([0.3])


def test_query_errors(db: Database, cheap_archs) -> None:
    with pytest.raises(DatabaseError, match="unknown metric 'accuracy'"):
        db.targets("so2sat-s2", "accuracy")
    with pytest.raises(DatabaseError, match="task 'so2sat-s1s2' has no runs"):
        db.targets("so2sat-s1s2", "val_acc")
    with pytest.raises(DatabaseError, match="epoch must be an integer >= 1"):
        db.targets("so2sat-s2", "val_acc", epoch=0)
    with pytest.raises(MissingArchitectureError, match="no successful"):
        db.fitness([cheap_archs[5]], "so2sat-s2")
    assert db.fitness([cheap_archs[1], cheap_archs[0]], "so2sat-s2") == pytest.approx([0.4, 0.6])


def test_mixed_protocols_need_choosing(make_record, cheap_archs) -> None:
    db = Database.from_records([make_record(cheap_archs[0]), make_record(cheap_archs[1], protocol="other")])
    with pytest.raises(DatabaseError, match="mix several protocols"):
        db.targets("so2sat-s2", "val_acc")
    archs, _ = db.targets("so2sat-s2", "val_acc", protocol="other")
    assert archs == [cheap_archs[1]]


def test_duplicate_run_ids_rejected(make_record, cheap_archs) -> None:
    r = make_record(cheap_archs[0])
    with pytest.raises(DatabaseError, match="distinct run_id"):
        Database.from_records([r, r])


def test_plan_walks_neighbourhoods_summary(make_record, tmp_path: Path) -> None:
    from surrogate_eo.campaign import plan, validate_config

    cfg = {"campaign": {"name": "w", "space": "eo", "tasks": ["so2sat-s2"], "protocol": "smoke"},
           "strata": {"walks": {"n": 2, "length": 4}, "neighbourhoods": {"n": 1, "neighbours": 3}}}
    m = plan(validate_config(cfg))
    recs = [make_record(s.arch, stratum=s.stratum, protocol_hash=m.protocol_hash) for s in m.specs()]
    db = Database.from_records(recs, plan=m.entries)
    db = Database.read(db.write(tmp_path / "db.parquet"))
    walks = db.walks("so2sat-s2")
    assert len(walks) == 2 and all(len(w) == 4 for w in walks)
    w0 = m.entries.query("stratum == 'walks' and group == 0").sort_values("position")["arch"].tolist()
    assert walks[0] == w0
    (centre, nbs), = db.neighbourhoods("so2sat-s2")
    assert len(nbs) == 3 and centre not in nbs
    s = db.summary()
    assert set(s["stratum"]) == {"walks", "neighbourhoods"}
    assert s["runs"].sum() == len(m.entries.drop_duplicates(["stratum", "run_id"]))
    with pytest.raises(DatabaseError, match="no 'walks' plan entries"):
        Database.from_records(recs).walks("so2sat-s2")
    m2 = manifest_from_archs("eo", [m.entries["arch"].iloc[0]], ["so2sat-s2"], "smoke")
    assert m2.entries["run_id"].iloc[0] == m.entries["run_id"].iloc[0]


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="does not exist"):
        Database.read(tmp_path / "x.parquet")
    (tmp_path / "bad.parquet").write_text("nope")
    with pytest.raises(DatabaseError, match="not a readable Parquet"):
        Database.read(tmp_path / "bad.parquet")
