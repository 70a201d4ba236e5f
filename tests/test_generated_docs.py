"""Benchmark numbers in the docs are generated: benchmarks/_docs.py blocks, bench_loader's docs_block, the CI check."""
from __future__ import annotations

import copy
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "bench_loader.json"
DOC = ROOT / "docs" / "data.md"


def _load(path: Path, name: str):
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def flat(text: str) -> str:
    """``text`` with its line wrapping undone (the block wraps prose at 100 characters)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def bench():
    return _load(ROOT / "benchmarks" / "bench_loader.py", "_test_bench_loader")


@pytest.fixture(scope="module")
def docs():
    return _load(ROOT / "benchmarks" / "_docs.py", "_test_bench_docs")


@pytest.fixture(scope="module")
def check():
    return _load(ROOT / "evaluation" / "check_generated.py", "_test_check_generated")


@pytest.fixture()
def result() -> dict:
    return json.loads(RESULT.read_text(encoding="utf-8"))


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A copy of the registered JSON and docs page, laid out as in the repository."""
    for rel in ("benchmarks/results/bench_loader.json", "docs/data.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    return tmp_path


def test_rendering_is_deterministic_and_does_not_touch_the_result(bench, result):
    before = copy.deepcopy(result)
    assert bench.docs_block(result) == bench.docs_block(copy.deepcopy(result))
    assert result == before


def test_committed_block_is_the_rendering_of_the_committed_json(bench, docs, check, result):
    assert docs.block_text(DOC, "bench_loader.py") == bench.docs_block(result)
    assert check.stale_bench_docs() == []


def test_numbers_come_from_the_json(bench, result):
    plain = result["plain"]
    text = flat(bench.docs_block(result))
    rates = plain["samples_per_s"]
    assert f"| {rates['batches stream']:,.0f} | {plain['vs_naive']['batches stream']:.1f} |" in text
    # per-round ratios of streaming to the naive loader, recomputed here
    rounds = plain["rounds_samples_per_s"]
    ratios = [a / b for a, b in zip(rounds["batches stream"], rounds["naive h5py/sample"])]
    assert f"{min(ratios):.0f}–{max(ratios):.0f}× naive" in text
    # memory bandwidth: a so2sat-s2 patch is 10 bands of 32 x 32 float64 = 80 KiB
    seq = plain["stages_samples_per_s"]["anchor: sequential read of the map (sum)"]
    assert f"{seq * 10 * 32 * 32 * 8 / 2 ** 30:.2f} GiB/s" in text
    assert "10,809" not in text                      # the former reader's number is not in this JSON


def test_a_changed_value_changes_the_block_and_fails_the_check(bench, check, result, repo):
    result["plain"]["samples_per_s"]["batches stream"] = 12_345.0
    changed = bench.docs_block(result)
    assert changed != bench.docs_block(json.loads(RESULT.read_text()))
    assert "12,345" in changed
    (repo / "benchmarks/results/bench_loader.json").write_text(json.dumps(result))
    stale = check.stale_bench_docs(root=repo)
    assert len(stale) == 1 and "docs/data.md" in stale[0] and "--docs-only" in stale[0]
    bench.write_docs(repo / "benchmarks/results/bench_loader.json", repo / "docs/data.md")
    assert check.stale_bench_docs(root=repo) == []


def test_claims_follow_the_numbers(bench, result):
    assert "Both targets of issue 13 are met in this run" in flat(bench.docs_block(result))
    rounds = result["plain"]["rounds_samples_per_s"]["batches stream"]
    rounds[0] = result["plain"]["rounds_samples_per_s"]["tensors index_select"][0] * 0.3   # one slow round
    assert "are met by the best rounds of this run, not by every round" in flat(bench.docs_block(result))
    for k in ("vs_tensors", "samples_per_s"):
        result["plain"][k]["batches stream"] *= 0.5
    result["plain"]["vs_tensors"]["batches stream"] = 0.3
    assert "are not both met in this run" in flat(bench.docs_block(result))


def test_missing_markers_give_a_clear_error_and_leave_the_file(docs, tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Speed\nno markers here\n")
    with pytest.raises(docs.DocsBlockError) as err:
        docs.replace_block(page, "bench_loader.py", "x")
    msg = str(err.value)
    assert str(page) in msg and docs.begin("bench_loader.py") in msg and "\n" not in msg
    assert page.read_text() == "# Speed\nno markers here\n"
    assert docs.block_text(page, "bench_loader.py") is None
    page.write_text(docs.begin("bench_loader.py") + "\nold\n")           # no closing marker
    with pytest.raises(docs.DocsBlockError, match="END GENERATED"):
        docs.replace_block(page, "bench_loader.py", "x")


def test_check_lists_a_docs_page_without_the_block(check, repo):
    page = repo / "docs/data.md"
    page.write_text(page.read_text().replace("<!-- BEGIN GENERATED by benchmarks/bench_loader.py", "<!-- moved"))
    stale = check.stale_bench_docs(root=repo)
    assert len(stale) == 1 and "no generated block" in stale[0]


def test_a_second_layout_gets_its_own_table(bench, result):
    gz = copy.deepcopy(result["plain"])
    gz["layout"] = "gzip, chunks of 16 patches"
    gz["samples_per_s"]["batches stream"] = 4_321.0
    result["gzip"] = gz
    text = bench.docs_block(result)
    assert "The gzip, chunks of 16 patches file of the same run (20,000 patches):" in flat(text)
    assert text.count("| loader | samples/s | vs naive | vs tensors |") == 2 and "| 4,321 |" in text


def test_a_chunked_file_alone_gets_no_memory_map_prose(bench, result):
    result["plain"]["access"] = {"sen2": "hdf5"}
    text = flat(bench.docs_block(result))
    assert "| loader |" in text and "Both targets of issue 13" in text
    assert "fused numba kernel" not in text and "What limits streaming" not in text
