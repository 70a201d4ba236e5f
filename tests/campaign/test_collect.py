"""collect: merge, deduplicate, quarantine corrupt / partial / other-schema files with a report."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from surrogate_eo.campaign import collect, manifest_from_archs
from surrogate_eo.database import Database


def _records(dirpath: Path, recs) -> None:
    dirpath.mkdir(parents=True, exist_ok=True)
    for r in recs:
        r.save(dirpath / f"{r.run_id}.json")


def test_collect_quarantines_bad_files(tmp_path: Path, make_record, cheap_archs) -> None:
    rec_dir = tmp_path / "records"
    good = [make_record(a) for a in cheap_archs[:4]]
    _records(rec_dir, good)
    # truncated record (a crash mid-copy), record of another schema version, stale temp file, young temp file
    text = (rec_dir / f"{good[0].run_id}.json").read_text()
    (rec_dir / "truncated.json").write_text(text[: len(text) // 2])
    other = json.loads(text)
    other["schema_version"] = 99
    (rec_dir / "future.json").write_text(json.dumps(other))
    (rec_dir / "list.json").write_text("[1, 2]")
    stale = rec_dir / f".{good[1].run_id}.json.abc.tmp"
    stale.write_text("{")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    young = rec_dir / f".{good[2].run_id}.json.def.tmp"
    young.write_text("{")
    (rec_dir / f"{good[3].run_id}.ckpt").write_bytes(b"x")  # checkpoints are not records
    db, rep = collect(rec_dir, tmp_path / "db.parquet")
    assert len(db) == 4 and set(db.runs["run_id"]) == {r.run_id for r in good}
    kinds = sorted((Path(q["file"]).name, q["kind"]) for q in rep.quarantined)
    assert kinds == [(stale.name, "partial"), ("future.json", "schema"), ("list.json", "corrupt"),
                     ("truncated.json", "corrupt")]
    assert all(Path(q["moved_to"]).is_file() for q in rep.quarantined)
    assert not (rec_dir / "truncated.json").exists() and young.exists()
    assert rep.in_progress == [str(young)]
    report = json.loads(Path(rep.report_file).read_text())
    assert len(report["quarantined"]) == 4
    assert "schema_version is 99" in next(q["reason"] for q in rep.quarantined if q["kind"] == "schema")
    assert Database.read(tmp_path / "db.parquet").runs["run_id"].tolist() == db.runs["run_id"].tolist()


def test_dedup_prefers_ok_and_reports(tmp_path: Path, make_record, cheap_archs) -> None:
    a, b = cheap_archs[:2]
    d1, d2 = tmp_path / "r1", tmp_path / "r2"
    _records(d1, [make_record(a, val=0.5), make_record(b, status="failed", epochs=0)])
    _records(d2, [make_record(a, val=0.5), make_record(b, val=0.6)])
    db, rep = collect([d1, d2], tmp_path / "db.parquet")
    assert len(db) == 2 and not db.runs["run_id"].duplicated().any()
    assert rep.duplicates == 1 and len(rep.conflicts) == 1
    assert set(db.runs["status"]) == {"ok"}
    assert db.fitness([b], "so2sat-s2") == [0.6]


def test_merge_into_existing_database(tmp_path: Path, make_record, cheap_archs) -> None:
    out = tmp_path / "db.parquet"
    d = tmp_path / "records"
    _records(d, [make_record(a) for a in cheap_archs[:3]])
    _, rep1 = collect(d, out)
    _records(d, [make_record(a) for a in cheap_archs[3:5]])
    db, rep2 = collect(d, out)
    assert rep1.new == 3 and rep2.new == 2 and len(db) == 5 and rep2.duplicates == 3
    db3, rep3 = collect(d, out)
    assert len(db3) == 5 and rep3.new == 0


def test_collect_with_manifest_counts_plan(tmp_path: Path, make_record, cheap_archs) -> None:
    m = manifest_from_archs("eo", cheap_archs[:4], ["so2sat-s2"], "smoke")
    d = tmp_path / "records"
    recs = [make_record(s.arch, stratum=s.stratum, protocol_hash=s.protocol_hash) for s in m.specs()[:3]]
    _records(d, recs + [make_record(cheap_archs[6])])
    db, rep = collect(d, None, manifest=m)
    assert (rep.planned, rep.missing, rep.unplanned) == (4, 1, 1)
    assert len(db.plan) == 4


def test_cli_collect_reports(tmp_path: Path, make_record, cheap_archs, cli) -> None:
    d = tmp_path / "records"
    _records(d, [make_record(a) for a in cheap_archs[:2]])
    (d / "broken.json").write_text('{"spec": ')
    out = tmp_path / "db.parquet"
    res = cli(["collect", d, "--out", out])
    assert res.returncode == 0, res.stderr
    assert "2 runs in" in res.stdout and "quarantined (corrupt)" in res.stderr and "broken.json" in res.stderr
    res = cli(["collect", d, "--out", out, "--json"])
    rep = json.loads(res.stdout)
    assert rep["runs"] == 2 and rep["quarantined"] == []
