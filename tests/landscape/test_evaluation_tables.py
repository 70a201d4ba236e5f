"""The tables of evaluation/landscape_compare.py, rebuilt from its committed JSON, match the committed files.

The script's expensive part (exact NB201 footprints, a training campaign) is
not rerun: its results JSON is committed, and the writers of the two LaTeX
tables and the docs block must turn it into exactly what is committed.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "paper" / "generated"


@pytest.fixture(scope="module")
def lc():  # noqa: ANN201 - the evaluation script as a module
    sys.path.insert(0, str(ROOT / "evaluation"))
    try:
        import landscape_compare
    finally:
        sys.path.remove(str(ROOT / "evaluation"))
    return landscape_compare


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads((GENERATED / "landscape_compare.json").read_text(encoding="utf-8"))


def _body(text: str) -> list[str]:
    """The table without its ``\\begin{table}[placement]`` line (older writers placed tables ``[t]``)."""
    lines = text.splitlines()
    assert lines[0].startswith("\\begin{table}")
    return lines[1:]


@pytest.mark.parametrize("part", ["nb201", "so2sat"])
def test_tables_rebuilt_from_committed_json(lc, results: dict, part: str, tmp_path: Path,  # noqa: ANN001
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import _latex

    monkeypatch.setattr(_latex, "GENERATED", tmp_path)
    writer = {"nb201": lc.write_nb201_table, "so2sat": lc.write_so2sat_table}[part]
    new = writer(results[part])
    assert new.parent == tmp_path
    committed = (GENERATED / new.name).read_text(encoding="utf-8")
    assert _body(new.read_text(encoding="utf-8")) == _body(committed)
    assert sum(line.count("&") > 0 for line in _body(committed)) >= 2  # a header and at least one row


def test_docs_block_rebuilt_from_committed_json(lc, results: dict) -> None:  # noqa: ANN001
    text = (ROOT / "docs" / "landscape.md").read_text(encoding="utf-8")
    block = text.split(lc.MARK[0], 1)[1].split(lc.MARK[1], 1)[0]
    assert block.strip("\n") == lc.docs_block(results).strip("\n")


def test_task_cells_words(lc) -> None:  # noqa: ANN001
    pairs = {f"{a} vs {b}": {"features": {"fitness_mean": {"a": 0.5, "b": 0.6, "difference": 0.1,
                                                            "outcome": "significant"}}}
             for a, b in lc.TASK_PAIRS}
    cells, vals = lc.task_cells(pairs, "fitness_mean", None, lc._short)
    assert cells == ["+0.100 (yes)"] * 3 and vals == {"S1": 0.5, "S2": 0.6, "S1+S2": 0.6}
    cells, vals = lc.task_cells(pairs, "dispersion", None, str)
    assert cells == ["n/a"] * 3 and vals == {}
