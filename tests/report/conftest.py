"""Fixtures of the report tests: a tiny eo-space campaign database and a surrogate fitted on it, built by code.

The database holds hand-made :class:`~surrogate_eo.records.RunRecord` objects
for a toy ground truth (smooth in the cell ops and the width, plus 1-point
seed noise), planned like a real campaign: uniform ``random`` archs, random
``walks``, complete ``neighbourhoods`` and a ``seeds`` stratum trained with
three seeds; a few runs diverged or failed. Everything is seeded.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from surrogate_eo.spaces import get_space

TASK = "so2sat-s2"
PROTOCOL, PROTOCOL_HASH = "tiny", "h0"


def toy_truth(archs: np.ndarray) -> np.ndarray:
    """A smooth 'validation accuracy' (fraction) of eo archs: some ops and a wider net help."""
    cell = archs[:, :6]
    return 0.55 + 0.035 * (cell == 3).sum(axis=1) + 0.02 * (cell == 5).sum(axis=1) \
        + 0.015 * archs[:, 7] - 0.01 * (cell == 0).sum(axis=1)


def _plan(space) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    from surrogate_eo.landscape.samplers import random_walks, uniform

    rng = np.random.default_rng(3)
    blocks = []
    pts = uniform(space, 70, rng)
    blocks.append(("random", np.zeros(len(pts), int), np.arange(len(pts)), pts, (0,)))
    walks = random_walks(space, 4, 12, rng)
    g, p = np.divmod(np.arange(48), 12)
    blocks.append(("walks", g, p, walks.reshape(-1, space.n_dims), (0,)))
    centres = uniform(space, 2, rng)
    hood = np.concatenate([np.concatenate([c[None], space.neighbours(c)]) for c in centres])
    pos = np.tile(np.arange(1 + space.degree), 2)
    blocks.append(("neighbourhoods", np.repeat([0, 1], 1 + space.degree), pos, hood, (0,)))
    rep = uniform(space, 15, rng)
    blocks.append(("seeds", np.arange(15), np.zeros(15, int), rep, (0, 1, 2)))
    rows = []
    for stratum, group, position, archs, seeds in blocks:
        strings = space.to_strings(archs)
        for gi, pi, s in zip(group, position, strings):
            for seed in seeds:
                rows.append({"stratum": stratum, "group": int(gi), "position": int(pi), "task": TASK,
                             "seed": int(seed), "arch": s})
    return pd.DataFrame(rows), {"points": pts}


def build_database(path: Path) -> Path:
    """Write the tiny campaign database to ``path`` and return it."""
    from surrogate_eo.database import Database
    from surrogate_eo.records import RunRecord, RunSpec

    space = get_space("eo")
    plan, _ = _plan(space)
    runs = plan.drop_duplicates(["arch", "task", "seed"]).reset_index(drop=True)
    truth = toy_truth(space.from_strings(list(runs["arch"])))
    rng = np.random.default_rng(0)
    records, ids = [], []
    for i, row in runs.iterrows():
        spec = RunSpec(space="eo", arch=row["arch"], task=TASK, seed=int(row["seed"]), protocol=PROTOCOL,
                       protocol_hash=PROTOCOL_HASH, stratum=row["stratum"])
        final = float(np.clip(truth[i] + rng.normal(0, 0.01), 0, 1))
        curve = [final * f for f in (0.7, 0.9, 1.0)]
        status = "ok"
        if i % 97 == 5:
            status, curve = "diverged", [0.06, 0.06]
        elif i % 101 == 7:
            status, curve = "failed", []
        epochs = [{"val_acc": v, "test_acc": v - 0.01, "train_loss": 1.5 - v} for v in curve]
        records.append(RunRecord(spec=spec, status=status, epochs=epochs, params=10_000, flops=1_000_000,
                                 wall_seconds=30.0 + 10 * rng.random()))
        ids.append(spec.run_id)
    key = dict(zip(zip(runs["arch"], runs["seed"]), ids))
    plan["run_id"] = [key[(a, s)] for a, s in zip(plan["arch"], plan["seed"])]
    Database.from_records(records, plan=plan, meta={"name": "tiny-report"}).write(path)
    return path


def build_benchmark(db_path: Path, out: Path) -> Path:
    """Fit a small XGBoost ensemble (final val_acc) on the database and save it to ``out``."""
    from surrogate_eo.database import Database
    from surrogate_eo.surrogates import Ensemble, XGBSurrogate, fit_benchmark

    ens = Ensemble(members=[XGBSurrogate(space="eo", n_estimators=40, max_depth=4)], n_seeds=3)
    bench = fit_benchmark(Database.read(db_path), tasks=[TASK], model=ens)
    bench.save(str(out))
    return out


@pytest.fixture(scope="session")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """``campaign.db`` (Parquet path), ``campaign.bench`` (benchmark folder), ``campaign.task``."""
    root = tmp_path_factory.mktemp("report-inputs")
    db = build_database(root / "tiny.parquet")
    bench = build_benchmark(db, root / "bench")
    return SimpleNamespace(db=db, bench=bench, task=TASK, root=root)


def fast_options(**kw):
    """Report options small enough for tests (a few seconds of fitting and sampling)."""
    from surrogate_eo.landscape import SamplingPlan
    from surrogate_eo.report import ReportOptions

    base = dict(cv_folds=3, learning_curve_fractions=(0.25, 0.5, 0.75), learning_curve_seeds=(0, 1),
                plan=SamplingPlan.small(n_points=400, n_walks=8, walk_length=15, n_centres=10, n_climbs=8,
                                        n_neutral_walks=5, n_boot=40))
    base.update(kw)
    return ReportOptions(**base)


@pytest.fixture(scope="session")
def trajectory_files(campaign) -> list[Path]:
    """A trajectory-fidelity comparison (rs, ls; 3 seeds) and one regularised-evolution run, saved as JSON."""
    import surrogate_eo
    from surrogate_eo.database import Database
    from surrogate_eo.landscape import BenchmarkSource, DatabaseSource
    from surrogate_eo.search import compare_optimizers, run_optimizer

    bench = surrogate_eo.load(campaign.bench)
    truth = DatabaseSource(Database.read(campaign.db), TASK)
    cmp = compare_optimizers(truth, BenchmarkSource(bench, TASK), optimizers=("rs", "ls"), seeds=3, budget=30,
                             n_boot=100)
    a = cmp.save(campaign.root / "comparison.json", with_trajectories=True)
    b = run_optimizer("re", BenchmarkSource(bench, TASK), 40, seed=0).save(campaign.root / "re.json")
    return [a, b]


@pytest.fixture(scope="session")
def report(campaign, trajectory_files, tmp_path_factory):
    """The report of the tiny campaign (verdict computed by the report), with trajectories."""
    from surrogate_eo.report import build_report

    out = tmp_path_factory.mktemp("report")
    return build_report(db=campaign.db, bench=campaign.bench, fidelity=None, trajectories=trajectory_files,
                        out_dir=out, options=fast_options())


@pytest.fixture(scope="session")
def fast():
    """``fast(**overrides)`` -> small :class:`ReportOptions` for tests."""
    return fast_options
