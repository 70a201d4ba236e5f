"""CI check: the committed paper/generated/ files are what the current code produces.

Five checks, each failing with a list of the stale files:

1. **Regenerate the cheap ones.** The scripts in :data:`CHEAP` (seconds to a
   minute on 2 cores, deterministic) are re-run with their output redirected
   to a temporary folder (``SURROGATE_EO_GENERATED``); every file they write
   must be byte-identical to the committed copy.
2. **Writer fingerprint of the expensive ones** (minutes to hours, not re-run
   in CI). Tables written by ``evaluation/_latex.py`` always carry its
   ``\\resizebox`` line; a committed table without it was written by an older
   writer. Listed as a warning, or as a failure with ``--strict``.
3. **Protocol provenance.** Files made by training with the ``smoke`` protocol
   (:data:`SMOKE_DEPENDENT`) state the protocol's hash; a file that states
   another hash was made with an older protocol and fails the check.
4. **Evaluation docs blocks.** Each generated markdown block of
   :data:`EVAL_DOCS` (written by an expensive script beside its tables) must
   appear verbatim in its docs file.
5. **Benchmark docs blocks.** For each (benchmark script, results JSON, docs
   file) of :data:`BENCH_DOCS`, the script's ``docs_block`` renders the committed
   JSON (no benchmark runs); the docs file's generated block (between the
   markers of ``benchmarks/_docs.py``) must equal it.

Run: ``python evaluation/check_generated.py [--skip-regenerate] [--strict]`` (exit 1 when stale).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "paper" / "generated"
#: Scripts cheap and deterministic enough to re-run in CI.
CHEAP = ("space_stats.py", "synflow_proxy.py")
#: The line every table written by _latex.write_table carries.
#: Files whose numbers come from runs of the ``smoke`` protocol: each states the hash it was made with.
SMOKE_DEPENDENT = ("synthetic_landscape.csv", "demo_pipeline.tex", "landscape_compare.json")
WRITER_LINE = r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%"
#: Markdown blocks of the expensive evaluation scripts (in paper/generated/) and the docs file that holds each.
EVAL_DOCS = (("nb201_surrogates.md", "docs/surrogates.md"), ("nb201_gnn_ablation.md", "docs/surrogates.md"),
             ("synflow_proxy.md", "docs/surrogates.md"))
#: Benchmarks whose numbers docs quote: (script in benchmarks/, its results JSON, the docs file with its block).
BENCH_DOCS = (("bench_loader.py", "benchmarks/results/bench_loader.json", "docs/data.md"),
              ("bench_predict.py", "benchmarks/results/bench_predict.json", "docs/surrogates.md"),
              ("bench_endtoend.py", "benchmarks/results/bench_endtoend.json", "docs/surrogates.md"))


def regenerate(script: str) -> list[str]:
    """Re-run ``script`` into a temporary folder; the names of files that differ from the committed ones."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, SURROGATE_EO_GENERATED=tmp, OMP_NUM_THREADS="1")
        res = subprocess.run([sys.executable, str(ROOT / "evaluation" / script)], env=env, cwd=ROOT,
                             capture_output=True, text=True)
        if res.returncode != 0:
            return [f"{script} failed (exit {res.returncode}): {res.stderr.strip().splitlines()[-1:]}"]
        stale = []
        for new in sorted(Path(tmp).rglob("*")):
            if not new.is_file():
                continue
            old = GENERATED / new.relative_to(tmp)
            if not old.is_file():
                stale.append(f"{old.relative_to(ROOT)} is not committed (written by {script})")
            elif old.read_bytes() != new.read_bytes():
                stale.append(f"{old.relative_to(ROOT)} differs from what {script} writes now")
        return stale


def unfingerprinted() -> list[str]:
    """Committed tables that lack the line the current table writer always emits."""
    out = []
    for tex in sorted(GENERATED.glob("*.tex")):
        text = tex.read_text(encoding="utf-8")
        if r"\begin{table" in text and WRITER_LINE not in text:
            out.append(f"{tex.relative_to(ROOT)} was written by an older table writer (no \\resizebox line)")
    return out


def stale_protocol() -> list[str]:
    """Committed files of :data:`SMOKE_DEPENDENT` that do not state the current smoke protocol's hash."""
    sys.path.insert(0, str(ROOT))
    from surrogate_eo.training import get_protocol

    want = get_protocol("smoke").hash
    out = []
    for name in SMOKE_DEPENDENT:
        f = GENERATED / name
        if not f.is_file() or want not in f.read_text(encoding="utf-8"):
            out.append(f"{f.relative_to(ROOT)} was not made with the current smoke protocol (hash {want}): "
                       f"re-run the script that writes it")
    return out


def stale_eval_docs(registry: tuple[tuple[str, str], ...] = EVAL_DOCS, root: Path = ROOT) -> list[str]:
    """Generated markdown blocks of :data:`EVAL_DOCS` that their docs file does not hold verbatim."""
    out = []
    for block, doc in registry:
        path = root / "paper" / "generated" / block
        if not path.is_file():
            out.append(f"paper/generated/{block} is missing; re-run the evaluation script that writes it")
        elif path.read_text(encoding="utf-8").strip() not in (root / doc).read_text(encoding="utf-8"):
            out.append(f"{doc} does not hold paper/generated/{block} verbatim; re-render it with the writing "
                       f"script's --from-csv")
    return out


def _bench_module(script: str):
    """Import ``benchmarks/<script>`` (benchmarks/ goes on the path, for its ``_docs`` helpers)."""
    bench = str(ROOT / "benchmarks")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    spec = importlib.util.spec_from_file_location(f"_checked_{Path(script).stem}", ROOT / "benchmarks" / script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stale_bench_docs(registry: tuple[tuple[str, str, str], ...] = BENCH_DOCS, root: Path = ROOT) -> list[str]:
    """Docs blocks of :data:`BENCH_DOCS` that differ from their script's ``docs_block`` of the committed JSON.

    ``root`` holds the JSON and docs paths of ``registry`` (the repository; tests pass a copy).
    """
    out = []
    for script, result, doc in registry:
        fix = f"re-render it: python benchmarks/{script} --docs-only (renders {result}, runs nothing)"
        render = getattr(_bench_module(script), "docs_block", None)
        from _docs import block_text   # importable once _bench_module put benchmarks/ on the path

        if render is None:
            out.append(f"benchmarks/{script} has no docs_block(result) function to render {doc}'s block with")
            continue
        want = render(json.loads((root / result).read_text(encoding="utf-8")))
        have = block_text(root / doc, script)
        if have is None:
            out.append(f"{doc} has no generated block of benchmarks/{script} (markers missing); {fix}")
        elif have != want:
            out.append(f"{doc}: the block of benchmarks/{script} differs from docs_block({result}); {fix}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-regenerate", action="store_true",
                    help="do not re-run the cheap scripts (the other checks still run)")
    ap.add_argument("--strict", action="store_true", help="tables of an older writer fail the check too")
    args = ap.parse_args(argv)
    old = unfingerprinted()
    for line in old:
        print(f"{'stale' if args.strict else 'warning'}: {line}", file=sys.stderr)
    stale = list(old) if args.strict else []
    for line in stale_protocol() + stale_eval_docs() + stale_bench_docs():
        print(f"stale: {line}", file=sys.stderr)
        stale.append(line)
    if not args.skip_regenerate:
        for script in CHEAP:
            regenerated = regenerate(script)
            for line in regenerated:
                print(f"stale: {line}", file=sys.stderr)
            stale += regenerated
    if stale:
        print(f"{len(stale)} generated file(s) out of date: regenerate them (make -C paper generated) and commit",
              file=sys.stderr)
        return 1
    print("paper/generated: " + ("regeneration skipped" if args.skip_regenerate else
                                 f"{', '.join(CHEAP)} regenerated byte-identical")
          + (f"; {len(old)} table(s) of an older writer (warnings above)" if old else "; every table current")
          + f"; {len(EVAL_DOCS)} evaluation and {len(BENCH_DOCS)} benchmark docs block(s) current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
