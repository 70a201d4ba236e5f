"""The README's measured claims are the measurements on file (never hand-typed numbers)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench_demo():
    spec = importlib.util.spec_from_file_location("bench_demo", ROOT / "benchmarks" / "bench_demo.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_readme_quotes_the_measured_demo_time_and_memory() -> None:
    bench = _bench_demo()
    profile = json.loads((ROOT / "benchmarks" / "results" / "demo_profile.json").read_text())
    assert bench.claim(profile) in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_claim_changes_with_the_measurement() -> None:
    bench = _bench_demo()
    profile = {"seconds": 150.4, "peak_tree_anon_mb": 1234.5, "loadavg_before": [0.2, 0.5, 0.6],
               "loadavg_after": [2.0, 1.0, 0.7], "returncode": 0}
    assert bench.claim(profile) == ("`surrogate-eo demo` took 150 s on this project's 2-core machine (load average "
                                    "0.2 before it started), peak 1,234 MB resident excluding memory-mapped files")
    stopped = dict(profile, returncode=-15, tail=["training smoke: 20/37 runs (54%), elapsed 2m30s, ETA 2m"])
    assert "trained 20 of 37 runs after 150 s" in bench.claim(stopped)
