"""Numbers in the docs are generated: benchmarks/_docs.py blocks, the benchmarks' docs_block, the evaluation
scripts' markdown blocks (GNN ablation) and the CI check that docs hold them."""
from __future__ import annotations

import copy
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "bench_loader.json"
DOC = ROOT / "docs" / "data.md"
GENERATED = ROOT / "paper" / "generated"


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


def _script_fixture(name: str, rel: str):
    """A module-scoped fixture ``name`` that imports the repository script ``rel`` once."""
    return pytest.fixture(scope="module", name=name)(lambda: _load(ROOT / rel, f"_test_{Path(rel).stem}"))


bench = _script_fixture("bench", "benchmarks/bench_loader.py")
docs = _script_fixture("docs", "benchmarks/_docs.py")
check = _script_fixture("check", "evaluation/check_generated.py")
predict = _script_fixture("predict", "benchmarks/bench_predict.py")
endtoend = _script_fixture("endtoend", "benchmarks/bench_endtoend.py")
ablation = _script_fixture("ablation", "evaluation/nb201_gnn_ablation.py")


@pytest.fixture()
def result() -> dict:
    return json.loads(RESULT.read_text(encoding="utf-8"))


@pytest.fixture()
def repo(tmp_path: Path, check) -> Path:
    """A copy of every registered JSON and docs page, laid out as in the repository."""
    for rel in {rel for _, result, doc in check.BENCH_DOCS for rel in (result, doc)}:
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
    assert f"The gzip, chunks of 16 patches file of the same run ({gz['patches']:,} patches):" in flat(text)
    assert text.count("| loader | samples/s | vs naive | vs tensors |") == 2 and "| 4,321 |" in text


def test_a_chunked_file_alone_gets_no_memory_map_prose(bench, result):
    result["plain"]["access"] = {"sen2": "hdf5"}
    text = flat(bench.docs_block(result))
    assert "| loader |" in text and "Both targets of issue 13" in text
    assert "fused numba kernel" not in text and "What limits streaming" not in text


# ------------------------------------------------------------------ docs/surrogates.md's Speed section
SPEED_DOC = ROOT / "docs" / "surrogates.md"


def _json(name: str) -> dict:
    return json.loads((ROOT / "benchmarks" / "results" / f"{name}.json").read_text(encoding="utf-8"))


def _speed_section() -> str:
    text = SPEED_DOC.read_text(encoding="utf-8")
    start = text.index("## Speed\n")
    stop = text.find("\n## ", start)
    return text[start:] if stop < 0 else text[start:stop]


def test_speed_blocks_are_the_renderings_of_the_committed_jsons(predict, endtoend, docs, check):
    for mod, name in ((predict, "bench_predict"), (endtoend, "bench_endtoend")):
        want = mod.docs_block(_json(name))
        assert docs.block_text(SPEED_DOC, f"{name}.py") == want
        assert want == mod.docs_block(copy.deepcopy(_json(name)))          # deterministic
    registered = {(script, doc) for script, _, doc in check.BENCH_DOCS}
    assert {("bench_predict.py", "docs/surrogates.md"), ("bench_endtoend.py", "docs/surrogates.md")} <= registered


def test_speed_section_quotes_no_measured_number_outside_its_blocks():
    section = _speed_section()
    outside = "".join(part.split("<!-- END GENERATED -->")[-1] for part in section.split("<!-- BEGIN GENERATED"))
    lat = _json("bench_predict")["latency_us"]
    p50, p90 = lat["xgb  bench.predict(tuple), jit"]
    raw = lat["raw inplace_predict (prebuilt row)"][0]
    best = max(r["speedup"] for r in _json("bench_endtoend")["rows"])
    quoted = [f"{p50:.1f} / {p90:.1f} µs", f"{best:.2f}×"]          # numbers of the committed JSONs, as rendered
    for number in (f"{p50:.1f}", f"{raw:.1f}", f"{best:.2f}×", "about a second"):
        assert number not in outside, number
    assert all(q in section for q in quoted), quoted                  # ... they are inside the blocks


def test_predict_numbers_come_from_the_json(predict):
    result = _json("bench_predict")
    text = flat(predict.docs_block(result))
    jit = result["latency_us"]["xgb  bench.predict(tuple), jit"]
    assert f"| kernel, tuple | {jit[0]:.1f} / {jit[1]:.1f} µs |" in text
    eo = result["throughput_ms"]["eo bench.predict(ints)"]
    assert f"| `eo` | {eo[1]:.2f}× |" in text
    stages = result["eo_stages_ms"]                                      # shares recomputed here
    walk = stages["walk (row-block kernel, 1 thread)"] / stages["raw booster.inplace_predict(X prebuilt)"]
    assert f"the row-block walk {stages['walk (row-block kernel, 1 thread)']:.1f} ms ({walk:.2f})" in text
    cross = [v for line in result["crossover"].values() for k, v in line.items() if k.endswith("jit")]
    assert f"at most {max(cross):.2f} of their time" in text
    assert "The targets are met with numba; without it they are not." in text


def test_predict_claims_follow_the_numbers(predict):
    result = _json("bench_predict")
    result["latency_us"]["xgb  bench.predict(tuple), jit"] = [77.7, 90.0]
    result["crossover"]["64"]["ensemble jit"] = 1.5
    result["throughput_ms"]["eo bench.predict(strings)"][1] = 0.8
    result["row_kernel"]["16"]["xgb"] = 1.1
    result["setup"] = {"n": 5000, "repeats": 3}
    text = flat(predict.docs_block(result))
    assert "The targets are missed (XGBoost tuples at 77.7 µs) with numba" in text
    assert "The kernels lose to the one-thread libraries at some sizes (kernel / library time up to 1.50)" in text
    assert "The target is missed in this run (down to 0.80×)" in text
    assert "The row-block walk wins from 32 rows on." in text
    assert "Batches of 5,000 archs (best of 3," in text and "166 features" in text    # legacy setup fills the rest


def test_endtoend_numbers_and_claims_follow_the_json(endtoend):
    result = _json("bench_endtoend")
    text = flat(endtoend.docs_block(result))
    slow = [r for r in result["rows"] if r["speedup"] <= 1]
    assert f"faster in {len(result['rows']) - len(slow)} of {len(result['rows'])} tasks" in text
    for r in result["rows"]:
        assert f"| {r['library_s']:.2f} | {r['shipped_s']:.2f} | {r['speedup']:.2f}× |" in text
    for r in slow:
        r["shipped_s"], r["speedup"] = r["library_s"] / 1.5, 1.5
    assert "As shipped is faster in every task" in flat(endtoend.docs_block(result))


@pytest.mark.parametrize("name", ["bench_predict", "bench_endtoend"])
def test_a_changed_speed_value_fails_the_check_until_rerendered(name, predict, endtoend, check, repo):
    mod = predict if name == "bench_predict" else endtoend
    result = _json(name)
    if name == "bench_predict":
        result["throughput_ms"]["nb201 bench.predict(ints)"][1] = 9.87
    else:
        result["rows"][0]["speedup"] = 9.87
    assert "9.87×" in mod.docs_block(result) and mod.docs_block(result) != mod.docs_block(_json(name))
    path = repo / f"benchmarks/results/{name}.json"
    path.write_text(json.dumps(result))
    stale = check.stale_bench_docs(root=repo)
    assert len(stale) == 1 and stale[0].startswith("docs/surrogates.md") and f"{name}.py --docs-only" in stale[0]
    mod.write_docs(path, repo / "docs/surrogates.md")
    assert check.stale_bench_docs(root=repo) == []
    assert "9.87×" in (repo / "docs/surrogates.md").read_text()


def test_publish_writes_the_json_then_the_docs_block(docs, tmp_path):
    written = []
    res = {"rows": [1, 2]}
    docs.publish(res, tmp_path / "r" / "out.json", (0.5, 0.4, 0.3), written.append)
    saved = json.loads((tmp_path / "r" / "out.json").read_text())
    assert saved["rows"] == [1, 2] and saved["load_average"]["start"] == [0.5, 0.4, 0.3]
    assert len(saved["load_average"]["end"]) == 3 and written == [tmp_path / "r" / "out.json"]
    docs.publish({"rows": []}, tmp_path / "b.json", (0.0, 0.0, 0.0), None)     # --no-docs: JSON only
    assert json.loads((tmp_path / "b.json").read_text())["rows"] == [] and len(written) == 1


# ---------------------------------------------------------------- evaluation docs blocks (GNN ablation)
def _rows(taus: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"dataset": "cifar10", "config": c, "perm": i, "seed": 0, "n_train": 78,
                          "kendall_tau": t, "fit_seconds": 1.0 + i} for c, ts in taus.items()
                         for i, t in enumerate(ts)])


def test_differences_are_paired_over_the_same_training_sets(ablation):
    df = _rows({ablation.DEFAULT: [0.70, 0.80, 0.75], ablation.PREVIOUS: [0.72, 0.76, 0.70]})
    summ = ablation.summarise(df.sample(frac=1.0, random_state=0)).set_index("config")   # row order is irrelevant
    prev = summ.loc[ablation.PREVIOUS]
    assert prev["diff_mean"] == pytest.approx((0.02 - 0.04 - 0.05) / 3)
    assert prev["wins"] == 1 and prev["n"] == 3
    assert prev["tau_mean"] == pytest.approx(0.726667, abs=1e-6)
    assert summ.loc[ablation.DEFAULT, "diff_mean"] == 0.0
    assert prev["fit_median_s"] == 2.0


def test_member_variants_are_compared_with_the_xgb_gnn_default(ablation):
    previous = next(k for k in ablation.MEMBERS if "previous" in k)
    df = _rows({ablation.DEFAULT: [0.70, 0.80, 0.75], ablation.MEMBER_DEFAULT: [0.78, 0.82, 0.80],
                previous: [0.77, 0.83, 0.78]})
    summ = ablation.summarise(df).set_index("config")
    assert summ.loc[previous, "diff_mean"] == pytest.approx((-0.01 + 0.01 - 0.02) / 3)
    assert summ.loc[previous, "wins"] == 1 and summ.loc[ablation.MEMBER_DEFAULT, "diff_mean"] == 0.0
    md = ablation.render(df, "note", write=False)
    assert "| 0.800 ± 0.016 | — | — |" in next(line for line in md if ablation.MEMBER_DEFAULT in line)
    near = _rows({ablation.DEFAULT: [0.7, 0.8, 0.75], ablation.MEMBER_DEFAULT: [0.78, 0.82, 0.80],
                  previous: [0.7798, 0.82, 0.80]})  # a paired difference of -0.00007 shows as +0.000, not -0.000
    assert "| +0.000 | 0/3 |" in next(line for line in ablation.render(near, "n", write=False) if previous in line)


def test_block_shows_the_numbers_and_no_difference_for_the_default(ablation):
    df = _rows({ablation.DEFAULT: [0.70, 0.80, 0.75], ablation.PREVIOUS: [0.72, 0.76, 0.70]})
    md = ablation.render(df, "note line", write=False)
    assert md[0] == ablation.MARK[0] and md[-1] == ablation.MARK[1] and md[1] == "note line"
    default = next(line for line in md if ablation.DEFAULT in line)
    previous = next(line for line in md if ablation.PREVIOUS in line)
    assert "| 0.750 ± 0.041 | — | — |" in default
    assert "| -0.023 | 1/3 |" in previous


def test_committed_block_is_the_rendering_of_the_committed_csv(ablation):
    csv, note = GENERATED / "nb201_gnn_ablation.csv", GENERATED / "nb201_gnn_ablation_run.txt"
    md = ablation.render(pd.read_csv(csv), note.read_text().strip(), write=False)
    assert "\n".join(md) + "\n" == (GENERATED / "nb201_gnn_ablation.md").read_text(encoding="utf-8")
    assert set(pd.read_csv(csv)["config"]) == set(ablation.CONFIGS) | set(ablation.MEMBERS)


def test_docs_hold_every_evaluation_block(check):
    assert check.stale_eval_docs() == []
    assert {block for block, _ in check.EVAL_DOCS} >= {"nb201_surrogates.md", "nb201_gnn_ablation.md"}


def test_an_edited_number_fails_the_check(check, tmp_path):
    for block, doc in check.EVAL_DOCS:
        for rel in (f"paper/generated/{block}", doc):
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / rel, tmp_path / rel)
    assert check.stale_eval_docs(root=tmp_path) == []
    page = tmp_path / "docs" / "surrogates.md"
    text = page.read_text(encoding="utf-8")
    block = (GENERATED / "nb201_gnn_ablation.md").read_text(encoding="utf-8")
    row = next(line for line in block.splitlines() if line.startswith("| C10 |"))
    page.write_text(text.replace(row, row.replace("| C10 |", "| C10 (edited) |")), encoding="utf-8")
    stale = check.stale_eval_docs(root=tmp_path)
    assert len(stale) == 1 and "nb201_gnn_ablation.md" in stale[0] and "--from-csv" in stale[0]
    (tmp_path / "paper" / "generated" / "nb201_surrogates.md").unlink()
    assert any("nb201_surrogates.md is missing" in line for line in check.stale_eval_docs(root=tmp_path))


def test_generated_tables_use_only_characters_the_report_can_set():
    """The report's ``inputenc`` (utf8) sets these four; Greek letters must come as math (``$\\tau$``)."""
    allowed = set("×–±—")
    for tex in sorted(GENERATED.glob("*.tex")):
        odd = {c for c in tex.read_text(encoding="utf-8") if ord(c) > 127} - allowed
        assert not odd, f"{tex.name}: {sorted(odd)}"


def test_make_generated_runs_every_evaluation_script():
    """``make -C paper generated`` (the regeneration the CI check's message names) runs every script of
    ``evaluation/`` that writes into ``paper/generated/``; helpers start with ``_``, and the check only reads."""
    recipe = (ROOT / "paper" / "Makefile").read_text(encoding="utf-8").split("\ngenerated:\n", 1)[1]
    recipe = recipe.split("\n\n", 1)[0]
    scripts = {p.name for p in (ROOT / "evaluation").glob("*.py")} - {"check_generated.py"}
    scripts = {s for s in scripts if not s.startswith("_")}
    run = {word.rsplit("/", 1)[1] for word in recipe.split() if word.startswith("evaluation/")}
    assert scripts - run == set(), f"make -C paper generated never runs {sorted(scripts - run)}"
    assert run <= scripts


surrogates_eval = _script_fixture("surrogates_eval", "evaluation/nb201_surrogates.py")


def test_a_later_sized_pass_drops_its_replicates_from_the_earlier_line(surrogates_eval):
    drop = surrogates_eval.drop_replicates
    line = "GNN pass, flowerformer protocol: 9 s wall; replicates C10 78 gnn x9, C10 78 auto x3, C10 390 gnn x3."
    once = drop(line, {"C10 78 gnn", "C10 78 auto"})
    assert once == ("GNN pass, flowerformer protocol: 9 s wall; replicates C10 390 gnn x3"
                    f"{surrogates_eval.RERUN}.")
    assert drop(once, {"C10 78 gnn"}) == once  # nothing more to drop: unchanged, one marker
    assert drop(once, {"C10 390 gnn"}) is None  # nothing left: the line goes
    assert drop(line, {"C100 78 gnn"}) == line and drop(line, set()) == line


def test_a_pass_on_fewer_datasets_keeps_the_other_datasets_in_the_same_labelled_line(surrogates_eval):
    """``--datasets cifar10 --sizes 3906 --models gnn-ens`` after the same pass on all three datasets: the CSV
    keeps the CIFAR-100 / ImageNet16 rows, so the note keeps them too; other protocols' lines are untouched."""
    head = "GNN pass, flowerformer protocol, sizes 3906, models gnn-ens"
    old = [f"{head}: 6146 s wall; replicates C10 3906 gnn-ens x3, C100 3906 gnn-ens x3, IN16 3906 gnn-ens x3.",
           "GNN pass, random protocol: 5 s wall; replicates C10 0.01 gnn-ens x3."]
    new = {"flowerformer": f"{head}: 6000 s wall; replicates C10 3906 gnn-ens x9."}
    note = surrogates_eval.updated_run_note(old, new, {"C10 3906 gnn-ens"})
    assert note == [f"{head}: 6146 s wall; replicates C100 3906 gnn-ens x3, IN16 3906 gnn-ens x3{surrogates_eval.RERUN}.",
                    old[1], new["flowerformer"]]
    assert surrogates_eval.updated_run_note(old[:1], new, {"C10 3906 gnn-ens", "C100 3906 gnn-ens",
                                                           "IN16 3906 gnn-ens"}) == [new["flowerformer"]]


def test_the_committed_run_note_lists_each_replicate_once():
    """A replicate group (data, size, model) of a protocol appears in one line of the GNN passes' run note."""
    seen: dict[tuple[str, str], str] = {}
    for line in (GENERATED / "nb201_surrogates_gnn_run.txt").read_text(encoding="utf-8").splitlines():
        protocol = line.split(" protocol", 1)[0]
        for entry in line.partition("; replicates ")[2].split(" (", 1)[0].rstrip(".").split(", "):
            key = (protocol, entry.rsplit(" x", 1)[0])
            assert key not in seen, f"{key} listed twice: {seen[key]!r} and {line!r}"
            seen[key] = line


def test_gnn_pass_grid_3x3_at_the_largest_c10_size_held_out_elsewhere(surrogates_eval):
    job, seeds = surrogates_eval.gnn_job, [0, 1, 2]

    def runs(d, z, m):
        return [s for s in seeds if job("flowerformer", d, z, s, m, seeds)]

    assert [runs("cifar10", z, "gnn-ens") for z in (78, 390, 3906)] == [[0], [0], seeds]
    assert [runs("cifar10", z, "gnn-ens+xgb") for z in (78, 390, 3906)] == [[], [], seeds]
    assert [runs("cifar10", z, "gnn") for z in (78, 390, 3906)] == [seeds, [0], seeds]
    assert runs("cifar10", 3906, "xgb+gnn") == [0]
    assert [runs("cifar10", z, "auto") for z in (78, 390, 3906)] == [seeds, [], []]  # up to AUTO_GNN_MAX archs
    for d in ("cifar100", "imagenet16"):  # held out: gnn and gnn-ens at the largest size, xgb+gnn at the smallest
        assert [runs(d, 3906, m) for m in ("gnn", "gnn-ens", "xgb+gnn")] == [[0], [0], []]
        assert [runs(d, 78, m) for m in ("gnn", "gnn-ens", "xgb+gnn")] == [[0], [], [0]]
        assert [runs(d, 390, m) for m in ("gnn", "gnn-ens", "xgb+gnn")] == [[], [], []]
        assert [runs(d, z, "gnn-ens+xgb") for z in (78, 390, 3906)] == [[], [], [0]]
