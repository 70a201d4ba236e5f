"""Shared fixtures: paths to the shared reference data (tests skip cleanly when absent), and the
repository scripts (benchmarks/, evaluation/) imported as modules."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SURROGATE_EO_SHARED", REPO.parent / "shared"))
NB201_DIR = SHARED / "data" / "nb201"
TORCHGEO_FIXTURE = SHARED / "data" / "so2sat-torchgeo-fixture"


@pytest.fixture(scope="session")
def nb201_dir() -> Path:
    """Folder of the real NAS-Bench-201 CSVs; the test skips when it is absent."""
    if not (NB201_DIR / "nats_bench.csv").is_file():
        pytest.skip(f"NAS-Bench-201 table not found at {NB201_DIR}")
    return NB201_DIR


@pytest.fixture(scope="session")
def nb201_table(nb201_dir: Path):
    """The merged NB201 reference table (fractions)."""
    from surrogate_eo.reference import load_nb201

    return load_nb201(nb201_dir)


@pytest.fixture(scope="session")
def torchgeo_fixture() -> Path:
    """torchgeo's tiny So2Sat fixture folder; the test skips when it is absent."""
    if not (TORCHGEO_FIXTURE / "training.h5").is_file():
        pytest.skip(f"torchgeo So2Sat fixture not found at {TORCHGEO_FIXTURE}")
    return TORCHGEO_FIXTURE


class CliResult(NamedTuple):
    """Outcome of one in-process CLI call."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys):
    """Run ``surrogate-eo ARGS...`` in-process (a subprocess costs ~2 s): returns a :class:`CliResult`."""
    from surrogate_eo.cli import main

    def _run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return _run


# ------------------------------------------------ repository scripts as modules
def _load(path: Path, name: str):
    """Import the repository script at ``path`` as module ``name`` (its folder goes on ``sys.path``)."""
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _script_fixture(name: str, rel: str):
    """A module-scoped fixture ``name`` that imports the repository script ``rel`` once."""
    return pytest.fixture(scope="module", name=name)(lambda: _load(REPO / rel, f"_test_{Path(rel).stem}"))


bench = _script_fixture("bench", "benchmarks/bench_loader.py")
docs = _script_fixture("docs", "benchmarks/_docs.py")
check = _script_fixture("check", "evaluation/check_generated.py")
predict = _script_fixture("predict", "benchmarks/bench_predict.py")
endtoend = _script_fixture("endtoend", "benchmarks/bench_endtoend.py")
ablation = _script_fixture("ablation", "evaluation/nb201_gnn_ablation.py")
surrogates_eval = _script_fixture("surrogates_eval", "evaluation/nb201_surrogates.py")
surrogates_tables = _script_fixture("surrogates_tables", "evaluation/_nb201_surrogates_tables.py")
synflow_eval = _script_fixture("synflow_eval", "evaluation/synflow_proxy.py")
