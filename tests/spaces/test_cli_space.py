"""`surrogate-eo space …` commands: output values, --json, one-line errors with exit code 2."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from surrogate_eo.spaces import get_space

GOOD = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "surrogate_eo.cli", *args], capture_output=True, text=True, timeout=120)


def test_describe_json():
    out = run("space", "describe", "eo", "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["size"] == 28_697_814 and d["n_dims"] == 10 and d["dims"][7]["choices"] == ["16", "24", "32"]


def test_sample_matches_library():
    out = run("space", "sample", "nb201", "-n", "4", "--seed", "3", "--json")
    assert out.returncode == 0, out.stderr
    got = [row["arch"] for row in json.loads(out.stdout)]
    space = get_space("nb201")
    assert got == space.to_strings(space.sample(4, seed=3))


def test_neighbours_and_canonical():
    out = run("space", "neighbours", "nb201", GOOD, "--json")
    nbs = json.loads(out.stdout)["neighbours"]
    assert len(nbs) == 24 and all(get_space("nb201").distance(n, GOOD) == 1 for n in nbs)
    out = run("space", "canonical", "nb201", GOOD)
    assert out.stdout.strip() == get_space("nb201").canonical(GOOD)


@pytest.mark.parametrize("args,needle", [
    (("space", "describe", "nb999"), "unknown search space 'nb999'"),
    (("space", "canonical", "nb201", GOOD.replace("none", "zero")), "unknown op 'zero'"),
    (("space", "neighbours", "eo", GOOD), "this is an nb201 arch"),
])
def test_errors_one_line_exit_2(args, needle):
    out = run(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in out.stderr


def test_help_teaches():
    out = run("space", "--help")
    assert out.returncode == 0 and "canonical" in out.stdout and "neighbours" in out.stdout


def test_flags_are_shown_without_a_type() -> None:
    """``--json`` is a flag: help must not show ``--json <bool>`` (``--json true`` is an error)."""
    for args in (("collect", "--help"), ("status", "--help"), ("space", "sample", "--help")):
        out = run(*args)
        assert out.returncode == 0 and "--json" in out.stdout and "<bool>" not in out.stdout, out.stdout
