"""Fuzz: run records (JSON text and trees), collect over a folder of mutants, database/manifest metadata."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from surrogate_eo._io import loads_json
from surrogate_eo.campaign import Manifest, collect, manifest_from_archs
from surrogate_eo.campaign.record_check import METRIC_RANGES, check_record
from surrogate_eo.database import Database
from surrogate_eo.records import RunRecord, RunSpec

from ._gen import Outcome, check, listing, mutate_text, mutate_tree

N_TREES = 2500
N_TEXTS = 1000
N_FOLDER = 300
N_META = 150  # per file kind (database, manifest)

ARCH = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"


def _record(seed: int = 0) -> dict:
    spec = RunSpec("nb201", ARCH, "so2sat-s2", seed, "smoke", "0" * 16, "random")
    eps = [{m: (0.5 if hi is not None else 1.0) for m, (lo, hi) in METRIC_RANGES.items()} for _ in range(2)]
    return RunRecord(spec=spec, status="ok", epochs=eps, params=100, flops=1000, wall_seconds=2.0,
                     device="cpu", host="h", created="2026-01-01").to_dict()


def _valid(rec: RunRecord) -> None:
    """An accepted record holds only in-range finite metrics and positive counts."""
    assert rec.params >= (0 if rec.status == "failed" else 1) and rec.flops >= 0 and rec.wall_seconds >= 0
    for e in rec.epochs:
        for m, v in e.items():
            lo, hi = METRIC_RANGES[m]
            assert v is None or (np.isfinite(v) and lo <= v and (hi is None or v <= hi))


def test_fuzz_record_trees() -> None:
    base, out = _record(), Outcome()
    for seed in range(N_TREES):
        rng = np.random.default_rng([11, seed])
        check(lambda d: check_record(d, source="r.json"), mutate_tree(rng, base), out, seed, _valid)
    assert out.tried == N_TREES and out.refused > N_TREES // 2 and out.accepted > 0, out


def test_fuzz_record_texts() -> None:
    text, out = json.dumps(_record()), Outcome()
    for seed in range(N_TEXTS):
        rng = np.random.default_rng([12, seed])
        mutated = mutate_text(rng, text)

        def parse(t: str) -> RunRecord:
            try:
                d = loads_json(t)
            except ValueError as exc:
                from surrogate_eo.errors import RecordError

                raise RecordError(str(exc)) from None
            return check_record(d, source="r.json")

        check(parse, mutated, out, seed, _valid)
    assert out.tried == N_TEXTS and out.refused > 0, out


def test_fuzz_collect_folder(tmp_path: Path) -> None:
    """collect over mutants: every file ends in the database or the quarantine, no temporary left, exit clean."""
    rec = tmp_path / "records"
    rec.mkdir()
    good = 0
    for seed in range(N_FOLDER):
        rng = np.random.default_rng([13, seed])
        d = _record(seed)
        if seed % 3 == 0:
            text = json.dumps(d)
            good += 1
        elif seed % 3 == 1:
            text = json.dumps(mutate_tree(rng, d))
        else:
            text = mutate_text(rng, json.dumps(d))
        (rec / f"{seed:04d}.json").write_bytes(text.encode("utf-8", "surrogatepass"))
    db, rep = collect(rec, tmp_path / "db.parquet")
    assert rep.files == N_FOLDER and rep.records + len(rep.quarantined) == N_FOLDER
    assert len(db) == rep.records >= good
    assert all(q["reason"] for q in rep.quarantined)
    left = listing(tmp_path)
    assert not [p for p in left if p.endswith(".tmp")]
    assert len([p for p in left if p.startswith("records/_quarantine/") and p.endswith(".json")]) == \
        len(rep.quarantined) + 1  # the moved files plus the report


@pytest.mark.parametrize("kind", ["database", "manifest"])
def test_fuzz_parquet_metadata(tmp_path: Path, kind: str) -> None:
    if kind == "database":
        Database.from_records([RunRecord.from_dict(_record(s)) for s in range(3)]).write(tmp_path / "f.parquet")
        reader, key = Database.read, b"surrogate_eo.database"
    else:
        manifest_from_archs("nb201", [ARCH], ["so2sat-s2"], "smoke").write(tmp_path / "f.parquet")
        reader, key = Manifest.read, b"surrogate_eo.manifest"
    table = pq.read_table(tmp_path / "f.parquet")
    meta = json.loads(table.schema.metadata[key])
    out = Outcome()
    for seed in range(N_META):
        rng = np.random.default_rng([14, seed])
        if seed % 2:
            raw = json.dumps(mutate_tree(rng, meta), allow_nan=True).encode()
        else:
            raw = mutate_text(rng, json.dumps(meta)).encode("utf-8", "surrogatepass")
        t = table
        if seed % 5 == 0 and t.num_columns > 1:  # a column dropped or retyped too
            t = t.drop_columns([t.column_names[int(rng.integers(t.num_columns))]])
        path = tmp_path / f"m{seed}.parquet"
        pq.write_table(t.replace_schema_metadata({key: raw}), path)
        check(reader, path, out, seed)
        path.unlink()
    assert out.tried == N_META and out.refused > 0, out
    assert listing(tmp_path) == ["f.parquet"]
