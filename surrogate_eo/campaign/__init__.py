"""Ground-truth campaigns: design of experiments, execution (local or SLURM arrays), collection.

The flow::

    config (TOML) --validate--> CampaignConfig --plan--> Manifest (Parquet)
        --run_local / slurm.submit--> workers --train--> <records>/<run_id>.json
        --collect--> Database (Parquet)

- :mod:`.config` -- campaign TOML schema and validation (one-line errors naming the field);
- :mod:`.design` -- strata (random, walks, neighbourhoods, seeds, exploit) -> :class:`Manifest`;
- :mod:`.worker` -- trains a chunk of runs, per-run locks, requeue on SIGUSR1/SIGTERM;
- :mod:`.local` -- process-pool executor; :mod:`.slurm` -- sbatch array executor;
- :mod:`.status` -- per-run state, resubmission; :mod:`.collect` -- records -> database.

Nothing here imports torch; only the worker processes do, through the trainer.
"""
from __future__ import annotations

from .collect import CollectReport, collect
from .config import MAX_WALK_LENGTH, STRATA, CampaignConfig, load_config, validate_config
from .design import manifest_from_archs, plan
from .local import LocalResult, run_local
from .locks import RunLock
from .manifest import Manifest
from .slurm import SlurmOptions, Submission, submit
from .status import CampaignStatus, campaign_status, resubmit
from .worker import EXIT_REQUEUE, run_chunk, run_one

__all__ = [
    "CampaignConfig", "CampaignStatus", "CollectReport", "EXIT_REQUEUE", "LocalResult", "MAX_WALK_LENGTH",
    "Manifest", "RunLock", "STRATA", "SlurmOptions", "Submission", "campaign_status", "collect", "load_config",
    "manifest_from_archs", "plan", "resubmit", "run_chunk", "run_local", "run_one", "submit", "validate_config",
]
