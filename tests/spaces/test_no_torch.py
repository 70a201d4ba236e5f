"""`import surrogate_eo` and the spaces work where torch cannot be imported."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def test_spaces_without_torch():
    code = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None  # any 'import torch' now raises ImportError
        import surrogate_eo
        from surrogate_eo.spaces import get_space
        s = get_space("eo")
        a = s.sample(10, seed=0)
        assert s.from_strings(s.to_strings(a)).tolist() == a.tolist()
        assert len(set(get_space("nb201").canonical_many(get_space("nb201").enumerate()))) == 6466
        from surrogate_eo.errors import MissingDependencyError
        try:
            import surrogate_eo.networks
        except MissingDependencyError as exc:
            assert 'pip install "surrogate-eo[torch]"' in str(exc), exc
        else:
            raise SystemExit("networks imported without torch")
        assert "torch" not in {m.split(".")[0] for m in sys.modules if sys.modules[m] is not None}
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
