"""The fuzz suite's size: at least 10,000 generated inputs per run (issue 14's target)."""
from __future__ import annotations

from . import test_fuzz_arch as arch
from . import test_fuzz_artifacts as art
from . import test_fuzz_config as cfg
from . import test_fuzz_hdf5 as h5
from . import test_fuzz_landscape as land
from . import test_fuzz_records as rec
from . import test_fuzz_search as search


def test_at_least_ten_thousand_inputs() -> None:
    total = (2 * (arch.N_STRINGS + 6) + 2 * arch.N_VECTORS + rec.N_TREES + rec.N_TEXTS + rec.N_FOLDER
             + 2 * rec.N_META + cfg.N_TEXTS + 5 + cfg.N_TREES + art.N_TREES + art.N_TEXTS + art.N_FILES
             + land.N_TREES + land.N_TEXTS + h5.N_FILES + search.N_TREES + search.N_TEXTS)
    assert total >= 10_000, total
