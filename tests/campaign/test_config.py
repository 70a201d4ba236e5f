"""Campaign TOML validation: good configs plan, bad ones fail on one line naming the field."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from surrogate_eo.campaign import MAX_WALK_LENGTH, load_config, validate_config
from surrogate_eo.errors import CampaignConfigError

REPO = Path(__file__).resolve().parents[2]

GOOD = {
    "campaign": {"name": "t", "space": "eo", "tasks": ["so2sat-s2"], "protocol": "smoke", "seeds": [0]},
    "strata": {"random": {"n": 3}, "walks": {"n": 1, "length": 4}, "neighbourhoods": {"n": 1, "neighbours": 3},
               "seeds": {"n": 1, "seeds": [0, 1]}},
}


def _with(path: str, value: object) -> dict:
    raw = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    d = raw
    for p in parents:
        d = d.setdefault(p, {})
    if value is KeyError:
        del d[last]
    else:
        d[last] = value
    return raw


BAD = [
    ("campaign.space", "nasbench301", "campaign.space"),
    ("campaign.tasks", ["so2sat-s3"], "campaign.tasks[0]"),
    ("campaign.tasks", [], "campaign.tasks"),
    ("campaign.protocol", "no-such-protocol", "campaign.protocol"),
    ("strata.grid", {"n": 3}, "strata.grid"),
    ("strata.random.n", -1, "strata.random.n"),
    ("strata.random.n", 2.5, "strata.random.n"),
    ("strata.walks.n", -2, "strata.walks.n"),
    ("strata.walks.length", MAX_WALK_LENGTH + 1, "strata.walks.length"),
    ("strata.walks.length", 1, "strata.walks.length"),
    ("strata.walks.length", KeyError, "strata.walks.length"),
    ("strata.neighbourhoods.neighbours", 56, "strata.neighbourhoods.neighbours"),
    ("strata.seeds.seeds", [0, 0], "strata.seeds.seeds"),
    ("strata.seeds.seeds", [-1], "strata.seeds.seeds[0]"),
    ("campaign.seeds", [], "campaign.seeds"),
    ("campaign.name", "a b", "campaign.name"),
    ("campaign.space", KeyError, "campaign.space"),
    ("campaign.colour", "red", "campaign.colour"),
    ("strata.random.size", 3, "strata.random.size"),
]


def test_good_config_validates() -> None:
    cfg = validate_config(GOOD)
    assert cfg.space == "eo" and cfg.tasks == ("so2sat-s2",) and len(cfg.protocol_hash) == 16
    assert list(cfg.strata) == ["random", "walks", "neighbourhoods", "seeds"]
    assert cfg.strata["neighbourhoods"]["neighbours"] == 3
    assert validate_config(cfg.to_dict()) == cfg


@pytest.mark.parametrize(("path", "value", "field"), BAD, ids=[f"{p}={v!r}" for p, v, _ in BAD])
def test_bad_config_names_the_field(path: str, value: object, field: str) -> None:
    with pytest.raises(CampaignConfigError) as exc:
        validate_config(_with(path, value), source="c.toml")
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith("c.toml: ")
    assert field in msg


def test_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(CampaignConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[campaign\nname=1")
    with pytest.raises(CampaignConfigError, match="not valid TOML"):
        load_config(bad)


def test_shipped_configs_validate() -> None:
    smoke = load_config(REPO / "ground_truth" / "smoke.toml")
    assert smoke.space == "eo" and set(smoke.strata) == {"random", "walks", "neighbourhoods", "seeds"}
    real = load_config(REPO / "ground_truth" / "so2sat.toml")
    assert set(real.tasks) == {"so2sat-s1", "so2sat-s2", "so2sat-s1s2"}
    assert real.protocol == "so2sat-default"


def test_cli_plan_bad_config_one_line(tmp_path: Path, cli) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[campaign]\nname="x"\nspace="eo"\ntasks=["so2sat-s2"]\nprotocol="smoke"\n'
                   '[strata.walks]\nn=1\nlength=5000\n')
    res = cli(["plan", cfg, "--out", tmp_path / "m.parquet"])
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "strata.walks.length" in lines[0] and "5000" in lines[0]
    assert not (tmp_path / "m.parquet").exists()


def test_repository_copies_are_links_to_the_packaged_files() -> None:
    """One copy each: ground_truth/smoke.toml and slurm_jobs/array.sbatch point at the files the package ships."""
    pkg = REPO / "surrogate_eo" / "campaign"
    for link, target in ((REPO / "ground_truth" / "smoke.toml", pkg / "configs" / "smoke.toml"),
                         (REPO / "slurm_jobs" / "array.sbatch", pkg / "array.sbatch")):
        assert link.is_symlink() and link.resolve() == target.resolve(), link
