"""SLURM executor: render an sbatch array script per chunk of tasks and submit it.

A manifest of ``M`` runs with ``R`` runs per array task needs
``T = ceil(M / R)`` tasks. They are submitted as arrays of at most the
cluster's ``MaxArraySize`` tasks (``scontrol show config``; array indices must
stay below it): array ``k`` covers tasks ``[offset_k, offset_k + n_k)`` and its
task ``i`` trains the runs of global task ``offset_k + i``. With
``--max-parallel K`` each array is throttled with ``%K`` and the arrays are
chained with ``--dependency=afterany`` so that at most ``K`` tasks of the
campaign run at once; without it they are submitted side by side.

Scripts are rendered from a template (``{{name}}`` placeholders; the default
is ``surrogate_eo/campaign/array.sbatch``, also at ``slurm_jobs/array.sbatch``)
into ``<records>/_campaign/``; every submission is appended to
``<records>/_campaign/submissions.jsonl`` for ``status``, ``resubmit`` and ``cancel``.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SlurmError
from .state import CampaignState

#: The packaged sbatch template.
TEMPLATE = Path(__file__).with_name("array.sbatch")
#: SLURM's default MaxArraySize, used when ``scontrol`` is unavailable (dry runs).
DEFAULT_MAX_ARRAY_SIZE = 1001
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_TIME = re.compile(r"^(?:(\d+)-)?(?:(\d+):)?(\d+)(?::(\d+))?$")


def time_seconds(text: str) -> int:
    """Seconds of a SLURM time limit (``MM``, ``MM:SS``, ``HH:MM:SS``, ``D-HH``, ``D-HH:MM[:SS]``)."""
    m = _TIME.match(text.strip())
    if not m:
        raise SlurmError(f"--time {text!r} is not a SLURM time limit; use e.g. 04:00:00, 90 (minutes) or 1-12:00:00")
    d, a, b, c = m.groups()
    if d is not None:  # D-HH[:MM[:SS]]
        parts = [int(x) for x in (a, b, c) if x is not None]
        if a is None:
            h, mi, s = int(b), 0, 0
        else:
            h, mi, s = (parts + [0, 0])[:3]
        return int(d) * 86400 + h * 3600 + mi * 60 + s
    if a is None and c is None:
        return int(b) * 60  # minutes
    if c is None:
        return int(a) * 60 + int(b)  # MM:SS
    return int(a) * 3600 + int(b) * 60 + int(c)


@dataclass
class SlurmOptions:
    """sbatch settings of a campaign's array jobs.

    Attributes
    ----------
    partition, account, gres, time, mem : str, optional
        Passed as ``#SBATCH`` directives when set (``gres`` e.g. ``"gpu:1"``; ``time`` e.g. ``"04:00:00"``).
    cpus_per_task : int, default=4
        CPUs of one array task (the trainer uses them as its thread count).
    runs_per_task : int, default=1
        Runs trained one after another by one array task (R).
    max_parallel : int, optional
        Most array tasks running at once (``%K``).
    signal_seconds : int, default=300
        The pre-timeout SIGUSR1 comes this many seconds before the time limit.
    job_name : str, optional
        Default ``se-<campaign>``.
    extra : list of str
        More directives, e.g. ``["--qos=long", "--constraint=a100"]``.
    setup : str
        Shell lines run before the worker (module loads, ``source .../activate``).
    stage : str
        Node-local directory to stage the data to (may use ``$TMPDIR``), empty = no staging.
    python : str
        Interpreter that runs the worker; default the one submitting.
    template : str, optional
        Path of an sbatch template; default :data:`TEMPLATE`.
    """

    partition: str | None = None
    account: str | None = None
    gres: str | None = None
    time: str | None = None
    mem: str | None = None
    cpus_per_task: int = 4
    runs_per_task: int = 1
    max_parallel: int | None = None
    signal_seconds: int = 300
    job_name: str | None = None
    extra: list[str] = field(default_factory=list)
    setup: str = ""
    stage: str = ""
    python: str = sys.executable
    template: str | None = None

    def validate(self) -> SlurmOptions:
        """Check the values; raise :class:`SlurmError` naming the option."""
        for name in ("cpus_per_task", "runs_per_task", "signal_seconds"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise SlurmError(f"--{name.replace('_', '-')} must be an integer >= 1, got {v!r}")
        if self.max_parallel is not None and (not isinstance(self.max_parallel, int) or self.max_parallel < 1):
            raise SlurmError(f"--max-parallel must be an integer >= 1, got {self.max_parallel!r}")
        if self.time is not None and time_seconds(self.time) <= self.signal_seconds:
            raise SlurmError(f"--time {self.time} must be longer than the pre-timeout signal "
                             f"({self.signal_seconds} s); raise --time or lower --signal-seconds")
        for name in ("partition", "account", "gres", "mem", "job_name"):
            v = getattr(self, name)
            if v is not None and (not v or any(c.isspace() or c in "'\"`$;" for c in v)):
                raise SlurmError(f"--{name.replace('_', '-')} {v!r} must be a single word without quotes or '$'")
        if any(c in self.stage for c in "\"`\n"):
            raise SlurmError(f"--stage {self.stage!r} must not contain quotes, backticks or newlines")
        return self

    def directives(self) -> str:
        """The optional ``#SBATCH`` lines."""
        lines = [f"#SBATCH --cpus-per-task={self.cpus_per_task}"]
        for name in ("partition", "account", "gres", "time", "mem"):
            v = getattr(self, name)
            if v is not None:
                lines.append(f"#SBATCH --{name}={v}")
        lines += [f"#SBATCH {e}" for e in self.extra]
        return "\n".join(lines)


def max_array_size(scontrol: str = "scontrol") -> int:
    """The cluster's ``MaxArraySize`` from ``scontrol show config``."""
    try:
        res = subprocess.run([scontrol, "show", "config"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SlurmError(f"cannot run '{scontrol} show config' ({exc}); is SLURM installed on this host? "
                         f"Use --dry-run with --max-array-size to render without a cluster") from None
    if res.returncode != 0:
        raise SlurmError(f"'{scontrol} show config' failed: {res.stderr.strip()}")
    m = re.search(r"^MaxArraySize\s*=\s*(\d+)", res.stdout, flags=re.M)
    return int(m.group(1)) if m else DEFAULT_MAX_ARRAY_SIZE


def split_arrays(n_tasks: int, max_size: int) -> list[tuple[int, int]]:
    """``(offset, count)`` of each array job for ``n_tasks`` tasks: ``count <= max_size`` so that
    the indices ``0..count-1`` stay below SLURM's MaxArraySize.

    >>> split_arrays(2500, 1001)
    [(0, 1001), (1001, 1001), (2002, 498)]
    """
    if max_size < 1:
        raise SlurmError(f"MaxArraySize must be >= 1, got {max_size}")
    return [(o, min(max_size, n_tasks - o)) for o in range(0, n_tasks, max_size)]


def render(template: str, values: dict[str, Any]) -> str:
    """Replace every ``{{name}}`` of ``template``; unknown names raise :class:`SlurmError`."""
    missing = sorted({m for m in _PLACEHOLDER.findall(template) if m not in values})
    if missing:
        raise SlurmError(f"sbatch template uses unknown placeholder(s) {', '.join(missing)}; "
                         f"known: {', '.join(sorted(values))}")
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


@dataclass
class Submission:
    """One submitted (or, in a dry run, rendered) array job."""

    job_id: str
    offset: int
    n_tasks: int
    runs_per_task: int
    manifest: str
    script: str
    command: list[str]
    submitted: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def submit(manifest_path: str | Path, data_root: str | Path, records_dir: str | Path, opts: SlurmOptions, *,
           dry_run: bool = False, max_array: int | None = None, sbatch: str = "sbatch",
           remember: bool = True) -> list[Submission]:
    """Render and submit the array jobs of a manifest.

    Parameters
    ----------
    manifest_path, data_root, records_dir : path
        The campaign manifest, the So2Sat data folder (as seen from the compute nodes) and the
        shared records directory.
    opts : SlurmOptions
        sbatch settings.
    dry_run : bool, default=False
        Render the scripts and return the ``sbatch`` commands without running them.
    max_array : int, optional
        MaxArraySize to use; default queried with ``scontrol show config`` (1001 in a dry run
        without SLURM).
    sbatch : str, default="sbatch"
        The sbatch executable.
    remember : bool, default=True
        Record ``manifest_path`` and ``data_root`` as the campaign of ``records_dir``
        (``<records>/_campaign/campaign.json``, read by status/resubmit/cancel/collect);
        resubmissions of a sub-manifest pass False.

    Returns
    -------
    list of Submission
        In a dry run, ``job_id`` is ``"DRYRUN-<k>"``.
    """
    from .manifest import Manifest

    opts.validate()
    manifest_path = Path(manifest_path).resolve()
    records_dir = Path(records_dir).resolve()
    m = Manifest.read(manifest_path)
    n_tasks = m.n_tasks(opts.runs_per_task)
    if n_tasks == 0:
        return []
    if max_array is None:
        have_scontrol = shutil.which("scontrol") is not None
        max_array = max_array_size() if (have_scontrol or not dry_run) else DEFAULT_MAX_ARRAY_SIZE
    state = CampaignState(records_dir)
    state.log_dir.mkdir(parents=True, exist_ok=True)
    if remember and not dry_run:
        state.save_campaign(manifest_path, data_root, "slurm")
    template = Path(opts.template) if opts.template else TEMPLATE
    try:
        text = template.read_text(encoding="utf-8")
    except OSError as exc:
        raise SlurmError(f"cannot read sbatch template {template}: {exc}") from None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = opts.job_name or f"se-{m.name}"
    q = shlex.quote
    subs: list[Submission] = []
    prev: str | None = None
    for k, (offset, count) in enumerate(split_arrays(n_tasks, max_array)):
        array = f"0-{count - 1}" + (f"%{opts.max_parallel}" if opts.max_parallel else "")
        script = render(text, {
            "job_name": name, "array": array, "log_dir": str(state.log_dir), "signal_seconds": opts.signal_seconds,
            "directives": opts.directives(), "setup": opts.setup, "python": q(opts.python), "data": q(str(data_root)),
            "stage": opts.stage, "manifest": q(str(manifest_path)), "offset": offset,
            "runs_per_task": opts.runs_per_task, "records": q(str(records_dir))})
        path = state.dir / f"{m.name}-{stamp}-{k:03d}.sbatch"
        path.write_text(script, encoding="utf-8")
        cmd = [sbatch, "--parsable"]
        if prev is not None and opts.max_parallel:
            cmd.append(f"--dependency=afterany:{prev}")
        cmd.append(str(path))
        if dry_run:
            job = f"DRYRUN-{k}"
        else:
            try:
                res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise SlurmError(f"cannot run {cmd[0]} ({exc}); is SLURM installed here?") from None
            if res.returncode != 0:
                done = f" ({len(subs)} array(s) already submitted: {', '.join(s.job_id for s in subs)})" if subs else ""
                raise SlurmError(f"sbatch failed for {path}: {' '.join(res.stderr.split())}{done}")
            job = res.stdout.strip().split(";")[0]
        sub = Submission(job, offset, count, opts.runs_per_task, str(manifest_path), str(path), cmd,
                         time.strftime("%Y-%m-%dT%H:%M:%S%z"), {**asdict(opts), "data": str(data_root)})
        if not dry_run:
            state.add_submission(sub.to_dict())
        subs.append(sub)
        prev = job
    return subs


def squeue_states(job_ids: list[str], squeue: str = "squeue") -> dict[tuple[str, int], str]:
    """States of the array tasks of ``job_ids`` still known to the controller: ``{(job, task): state}``.

    Returns an empty dict when ``squeue`` is not available.
    """
    if not job_ids or shutil.which(squeue) is None:
        return {}
    try:
        res = subprocess.run([squeue, "-h", "-r", "-t", "all", "-o", "%F|%K|%T"], capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    wanted = set(job_ids)
    out: dict[tuple[str, int], str] = {}
    for line in res.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 3 or parts[0] not in wanted:
            continue
        try:
            out[(parts[0], int(parts[1]))] = parts[2]
        except ValueError:
            continue
    return out


#: squeue states of a task that will still run (or runs).
ACTIVE_STATES = frozenset({"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD",
                           "REQUEUE_FED", "RESIZING", "SUSPENDED", "STAGE_OUT", "SIGNALING", "STOPPED"})


def cancel(records_dir: str | Path, scancel: str = "scancel") -> list[str]:
    """``scancel`` every array job of the campaign that still has active tasks; returns their ids."""
    state = CampaignState(records_dir)
    jobs = [s["job_id"] for s in state.submissions()]
    live = sorted({j for (j, _), st in squeue_states(jobs).items() if st in ACTIVE_STATES})
    if not live:
        return []
    try:
        res = subprocess.run([scancel, *live], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SlurmError(f"cannot run {scancel}: {exc}") from None
    if res.returncode != 0:
        raise SlurmError(f"scancel {' '.join(live)} failed: {' '.join(res.stderr.split())}")
    return live
