"""Fixtures of the landscape tests: a small results database built from campaign strata."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.landscape import Strata


def _make_database(space, strata: Strata, f, task="so2sat-s2", drop=None):
    import pandas as pd

    from surrogate_eo.database import Database
    from surrogate_eo.records import RunRecord, RunSpec

    rows, recs = [], {}
    blocks = [("random", np.zeros(len(strata.points), int), np.arange(len(strata.points)), strata.points)]
    w, L = strata.walks.shape[:2]
    blocks.append(("walks", np.repeat(np.arange(w), L), np.tile(np.arange(L), w), strata.walks.reshape(-1, 6)))
    nb = space.neighbours_batch(strata.centres)
    cen = np.concatenate([strata.centres[:, None], nb], axis=1)
    blocks.append(("neighbourhoods", np.repeat(np.arange(len(cen)), cen.shape[1]),
                   np.tile(np.arange(cen.shape[1]), len(cen)), cen.reshape(-1, 6)))
    for stratum, g, p, archs in blocks:
        for gi, pi, a in zip(g, p, archs):
            s = space.to_string(a)
            if drop is not None and s == drop:
                continue
            spec = RunSpec(space="nb201", arch=s, task=task, seed=0, protocol="smoke", protocol_hash="h",
                           stratum=stratum)
            recs[spec.run_id] = RunRecord(spec, "ok", epochs=[{"val_acc": float(f(a[None])[0])}])
            rows.append(dict(stratum=stratum, group=int(gi), position=int(pi), task=task, seed=0,
                             run_id=spec.run_id, arch=s))
    return Database.from_records(recs.values(), plan=pd.DataFrame(rows))


@pytest.fixture(scope="session")
def make_database():
    """``make_database(space, strata, f, task=..., drop=None)`` -> Database with plan entries (one seed)."""
    return _make_database
