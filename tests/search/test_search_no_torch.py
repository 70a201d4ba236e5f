"""Search (optimisers, the Optuna bridge, a tree-surrogate benchmark, compare) works where torch cannot be imported."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def test_search_without_torch():
    code = textwrap.dedent("""
        import importlib.abc, sys

        class BlockTorch(importlib.abc.MetaPathFinder):  # any 'import torch' raises ImportError
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] == "torch":
                    raise ImportError("torch is blocked in this test")

        sys.meta_path.insert(0, BlockTorch())
        import numpy as np
        from surrogate_eo.search import compare_optimizers, make_objective, run_optimizer
        from surrogate_eo.search.plots import plot_comparison
        from surrogate_eo.landscape.sources import ModelSource
        from surrogate_eo.surrogates import XGBSurrogate
        from surrogate_eo.spaces import get_space
        sp = get_space("nb201")
        a = sp.sample(100, seed=0)
        model = XGBSurrogate(space="nb201", n_estimators=10).fit(a, (a == 3).sum(1) / 6.0)
        src = ModelSource(model, "nb201")
        assert run_optimizer("tpe", src, 15, seed=0).n_evals == 15
        cmp = compare_optimizers(src, src, optimizers=["rs", "ls"], seeds=2, budget=10, n_boot=5)
        assert cmp.stats["rank"]["ground_truth"] == cmp.stats["rank"]["surrogate"]
        import surrogate_eo.cli.search
        assert not any(m.split(".")[0] == "torch" for m in sys.modules)
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
