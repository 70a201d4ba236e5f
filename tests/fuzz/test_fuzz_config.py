"""Fuzz: campaign TOML files (text mutations) and parsed configurations (tree mutations)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from surrogate_eo.campaign.config import CampaignConfig, load_config, planned_size, validate_config

from ._gen import Outcome, check, listing, mutate_text, mutate_tree

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

N_TEXTS = 700
N_TREES = 1000

BASE = """[campaign]
name = "fz"
description = "fuzz base"
space = "eo"
tasks = ["so2sat-s2", "so2sat-s1s2"]
protocol = "smoke"
seeds = [0, 1]
design_seed = 3

[strata.random]
n = 10

[strata.walks]
n = 2
length = 6

[strata.neighbourhoods]
n = 1
neighbours = 8

[strata.seeds]
n = 2
seeds = [0, 1, 2]
"""


def _valid(cfg: CampaignConfig) -> None:
    """An accepted configuration is complete and within its limits, and round-trips."""
    assert cfg.space in ("eo", "nb201") and cfg.tasks and cfg.strata and cfg.protocol_hash
    assert all(t["n"] >= 1 for t in cfg.strata.values())
    assert planned_size(cfg.to_dict(), len(cfg.tasks), len(cfg.seeds), 55) > 0
    again = validate_config(cfg.to_dict(), cfg.source)
    assert again.to_dict() == cfg.to_dict()


def test_fuzz_toml_files(tmp_path: Path) -> None:
    out = Outcome()
    path = tmp_path / "c.toml"
    for seed in range(N_TEXTS):
        rng = np.random.default_rng([21, seed])
        path.write_bytes(mutate_text(rng, BASE).encode("utf-8", "surrogatepass"))
        check(load_config, path, out, seed, _valid)
    for junk in (b"\xff\xfe\x00", b"", b"a = " + b"[" * 100_000, b"x" * (2**20 + 1)):
        path.write_bytes(junk)
        check(load_config, path, out, -1, _valid)
    check(load_config, tmp_path, out, -2, _valid)  # a folder
    assert out.tried == N_TEXTS + 5 and out.refused > N_TEXTS // 3 and out.accepted > 0, out
    assert listing(tmp_path) == ["c.toml"]


def test_fuzz_config_trees() -> None:
    base = tomllib.loads(BASE)
    out = Outcome()
    for seed in range(N_TREES):
        rng = np.random.default_rng([22, seed])
        check(lambda raw: validate_config(raw, "fz.toml"), mutate_tree(rng, base), out, seed, _valid)
    assert out.tried == N_TREES and out.refused > N_TREES // 3 and out.accepted > 0, out
