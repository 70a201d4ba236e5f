"""``surrogate-eo train``: trains, prints the final metrics, reruns without training, one-line errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from surrogate_eo.cli import main  # noqa: E402
from surrogate_eo.records import RunRecord  # noqa: E402
from surrogate_eo.training import get_protocol  # noqa: E402

ARCH = "|nor_conv_1x1~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def test_train_command_writes_record_and_rerun_reuses_it(so2sat_root: Path, tmp_path: Path, capsys) -> None:
    argv = ["train", "--space", "nb201", "--arch", ARCH, "--task", "so2sat-s1", "--seed", "0",
            "--protocol", "smoke", "--data", str(so2sat_root), "--out", str(tmp_path), "--threads", "1", "-q"]
    code, out, _ = _run(argv, capsys)
    assert code == 0 and f": ok, {get_protocol('smoke').epochs}/{get_protocol('smoke').epochs} epochs" in out and "final: val acc" in out
    records = list(tmp_path.glob("*.json"))
    assert len(records) == 1
    rec = RunRecord.load(records[0])
    smoke = get_protocol("smoke")
    assert (rec.spec.space, rec.spec.task, rec.spec.protocol_hash) == ("nb201", "so2sat-s1", smoke.hash)
    code, out, _ = _run(argv + ["--json"], capsys)
    assert code == 0 and json.loads(out)["run_id"] == rec.run_id and json.loads(out)["epochs"] == rec.epochs


@pytest.mark.parametrize("change, message", [
    (["--protocol", "fast"], "unknown training protocol 'fast'"),
    (["--task", "so2sat-rgb"], "unknown task 'so2sat-rgb'"),
    (["--arch", "|bogus~0|"], "bogus"),
])
def test_bad_input_is_one_line_exit_2(change: list[str], message: str, so2sat_root: Path, tmp_path: Path,
                                      capsys) -> None:
    argv = ["train", "--space", "nb201", "--arch", ARCH, "--data", str(so2sat_root), "--out", str(tmp_path)]
    code, _, err = _run(argv + change, capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_missing_data_root_is_named(tmp_path: Path, capsys) -> None:
    code, _, err = _run(["train", "--space", "nb201", "--arch", ARCH, "--data", str(tmp_path / "nowhere"),
                         "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and str(tmp_path / "nowhere") in err
