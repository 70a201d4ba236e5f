"""Campaign state kept beside the records: which manifest, which data, which SLURM submissions.

``<records>/_campaign/`` holds

- ``campaign.json``: the manifest path and data root of the last ``surrogate-eo run``;
- ``submissions.jsonl``: one JSON line per submitted array job (job id, manifest, offset,
  task count, runs per task, script, options), appended atomically line by line;
- the rendered ``*.sbatch`` scripts and ``logs/`` of the array tasks.

``status``, ``resubmit`` and ``cancel`` read it, so they need only ``--records``.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .._io import atomic_write_json
from ..errors import RecordError

STATE_DIR = "_campaign"


class CampaignState:
    """Accessor of ``<records>/_campaign/``."""

    def __init__(self, records_dir: str | Path) -> None:
        self.records = Path(records_dir)
        self.dir = self.records / STATE_DIR

    @property
    def log_dir(self) -> Path:
        """Where SLURM writes the array tasks' output (``%A_%a.out``)."""
        return self.dir / "logs"

    def save_campaign(self, manifest: str | Path, data_root: str | Path, executor: str) -> None:
        """Remember the manifest and data root of this records directory."""
        atomic_write_json(self.dir / "campaign.json", {
            "manifest": str(Path(manifest).resolve()), "data": str(Path(data_root).resolve()),
            "executor": executor, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")})

    def campaign(self) -> dict[str, Any]:
        """The saved ``campaign.json``; raises when this directory was never run."""
        path = self.dir / "campaign.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RecordError(
                f"{self.records} holds no campaign state ({path} missing); pass --manifest, "
                f"or start the campaign with: surrogate-eo run MANIFEST --records {self.records}") from None
        except ValueError as exc:
            raise RecordError(f"{path} is not valid JSON: {exc}") from None

    def manifest_path(self, override: str | Path | None = None) -> Path:
        """``override`` or the manifest of the last run."""
        return Path(override) if override else Path(self.campaign()["manifest"])

    def add_submission(self, sub: dict[str, Any]) -> None:
        """Append one submission as a JSON line (O_APPEND: concurrent appends do not interleave)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(sub, sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.dir / "submissions.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def submissions(self) -> list[dict[str, Any]]:
        """Every recorded submission, oldest first (a torn last line is ignored)."""
        path = self.dir / "submissions.jsonl"
        if not path.is_file():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out
