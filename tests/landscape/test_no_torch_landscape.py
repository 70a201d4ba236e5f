"""Landscape analysis (and querying a tree surrogate through it) works where torch cannot be imported."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def test_landscape_without_torch() -> None:
    code = textwrap.dedent("""
        import importlib.abc
        import sys

        class BlockTorch(importlib.abc.MetaPathFinder):  # like an environment without torch
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] == "torch":
                    raise ImportError("No module named 'torch'")

        sys.meta_path.insert(0, BlockTorch())
        from surrogate_eo.landscape import ModelSource, SamplingPlan, footprint, fidelity
        from surrogate_eo.landscape.nk import NKLandscape
        from surrogate_eo.surrogates import XGBSurrogate
        nk = NKLandscape(10, 2, seed=0)
        fp = footprint(nk, SamplingPlan.small(), seed=0, exact=True)
        assert fp.value("local_optima_strict") >= 1
        space = __import__("surrogate_eo").get_space("nb201")
        a = space.sample(200, seed=0)
        m = XGBSurrogate(space="nb201", n_estimators=20).fit(a, a.sum(axis=1) / 24.0)
        footprint(ModelSource(m, space), SamplingPlan.small(n_points=300), seed=0)
        assert "torch" not in {k.split(".")[0] for k in sys.modules}
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
