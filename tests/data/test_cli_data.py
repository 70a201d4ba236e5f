"""`surrogate-eo data synth | info | stats`, and the data layer without torch."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import h5py
import pytest
from typer.testing import CliRunner

from surrogate_eo.cli import app, main

runner = CliRunner()


def test_synth_info_stats(tmp_path):
    out = tmp_path / "d"
    res = runner.invoke(app, ["data", "synth", "--out", str(out), "--version", "4", "--n-train", "24",
                              "--n-val", "8", "--n-test", "8", "--seed", "2", "--no-gzip", "-q"])
    assert res.exit_code == 0, res.output
    assert "training.h5" in res.output and "train_geo" in res.output
    with h5py.File(out / "training.h5") as f:
        assert f["sen2"].shape == (24, 32, 32, 10) and f["sen2"].compression is None
    res = runner.invoke(app, ["data", "info", str(out), "--json"])
    doc = json.loads(res.output)
    assert doc["version"] == "4" and doc["splits"]["val"]["patches"] == 8 and doc["splits"]["train"]["synthetic"]
    assert sum(doc["splits"]["train"]["class_counts"]) == 24 and doc["splits"]["val"]["cities"] >= 1
    res = runner.invoke(app, ["data", "stats", str(out), "--task", "so2sat-s2", "--json"])
    stats = json.loads(res.output)
    assert stats["bands"][0] == "B2" and len(stats["mean"]) == 10 and 0 < stats["mean"][0] < 0.3
    assert (out / "training.h5.stats.json").is_file()


def test_errors_exit_2_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["data", "info", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: data root") and "missing training.h5, validation.h5" in err
    assert "\n" not in err


def test_data_layer_without_torch(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None
        import numpy as np
        from surrogate_eo.data import synthesize, open_split, stratified_subset
        synthesize({str(tmp_path)!r}, n_train=16, n_val=8, n_test=8, compression=None)
        s = open_split({str(tmp_path)!r}, "train", task="so2sat-s1s2")
        x, y = s.read(stratified_subset(s.labels, fraction=0.5))
        assert x.shape == (8, 18, 32, 32)
        from surrogate_eo.errors import MissingDependencyError
        try:
            s.batches(None, 4, shuffle=False)
        except MissingDependencyError as exc:
            assert 'pip install "surrogate-eo[torch]"' in str(exc)
        else:
            raise SystemExit("batches without torch")
        assert "torch" not in {{m.split(".")[0] for m in sys.modules if sys.modules[m] is not None}}
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
