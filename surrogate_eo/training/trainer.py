"""One ground-truth run: :func:`train` turns a :class:`~surrogate_eo.records.RunSpec` into a RunRecord.

Files of a run in ``out_dir`` (the layout executors rely on):

- ``<run_id>.json``: the :class:`~surrogate_eo.records.RunRecord`, written atomically once
  the run ends (``ok``, ``diverged`` or ``failed``);
- ``<run_id>.ckpt``: the checkpoint, rewritten atomically after every epoch and on
  preemption; removed when the record is written (unless ``keep_checkpoint``).

A rerun of a spec whose record exists returns that record without training
(a ``failed`` one is retried unless ``retry_failed=False``); otherwise it
resumes from the checkpoint. See ``docs/training.md``.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import RecordError, SurrogateEOError, TrainingError
from ..networks import build_network, count_flops, count_params
from ..records import EPOCH_METRICS, RunRecord, RunSpec
from ..spaces import get_space
from ..tasks import Task, get_task
from ._data import RunData
from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .metrics import confusion_matrix, metrics_from_confusion
from .progress import EpochProgress
from .protocols import Protocol, get_protocol
from .runtime import (Runtime, describe_device, execution_context, host_and_time, library_versions,
                      resolve_device, resolve_threads)
from .signals import Preempted, PreemptionGuard

#: ``callback(event, info)``: events ``"start"``, ``"batch"`` (after each training batch)
#: and ``"epoch"`` (after each finished, checkpointed epoch).
Callback = Callable[[str, dict[str, Any]], None]


def record_path(out_dir: str | Path, spec: RunSpec) -> Path:
    """``out_dir / f"{spec.run_id}.json"``: where :func:`train` writes the record."""
    return Path(out_dir) / f"{spec.run_id}.json"


def checkpoint_path(out_dir: str | Path, spec: RunSpec) -> Path:
    """``out_dir / f"{spec.run_id}.ckpt"``: the run's checkpoint."""
    return Path(out_dir) / f"{spec.run_id}.ckpt"


def train(spec: RunSpec | dict[str, Any], data_root: str | Path, out_dir: str | Path, *,
          protocol: Protocol | None = None, device: str | None = None, threads: int | None = None,
          progress: bool = False, callback: Callback | None = None, retry_failed: bool = True,
          keep_checkpoint: bool = False) -> RunRecord:
    """Train one run (or resume it, or return its finished record) and return its record.

    Parameters
    ----------
    spec : RunSpec or dict
        What to train. ``spec.protocol_hash`` must equal the protocol's current hash.
    data_root : path
        Folder with the So2Sat LCZ42 HDF5 files (official layout, real or synthetic).
    out_dir : path
        Folder of the run's record and checkpoint (created if needed).
    protocol : Protocol, optional
        The protocol object to use instead of looking up ``spec.protocol`` (for
        unregistered protocols); its name and hash must match the spec.
    device : str, optional
        ``"cpu"`` or ``"cuda[:N]"``; default CUDA when available, else CPU.
    threads : int, optional
        CPU threads; default ``$SURROGATE_EO_THREADS``, ``$SLURM_CPUS_PER_TASK`` or ``min(2, cores)``.
    progress : bool, default=False
        Show a rich progress bar per epoch on stderr.
    callback : callable, optional
        ``callback(event, info)`` after each batch / epoch (see :data:`Callback`).
    retry_failed : bool, default=True
        Retrain a spec whose existing record has status ``failed``.
    keep_checkpoint : bool, default=False
        Keep ``<run_id>.ckpt`` after the record is written.

    Returns
    -------
    RunRecord
        Status ``ok``, ``diverged`` (NaN/inf loss; the curve up to the last finished epoch)
        or ``failed`` (an unexpected runtime error, e.g. out of memory; message in ``error``).

    Raises
    ------
    SurrogateEOError
        Bad input: unknown space/arch/task/protocol, protocol-hash mismatch, missing or
        malformed data. Nothing is written.
    Preempted
        A ``SystemExit`` with code :data:`~surrogate_eo.training.EXIT_REQUEUE` after SIGTERM /
        SIGUSR1, once the checkpoint is written.
    """
    spec = _as_spec(spec)
    proto = _check_protocol(spec, protocol)
    task = get_task(spec.task)
    get_space(spec.space).validate(spec.arch)
    if isinstance(spec.seed, bool) or not isinstance(spec.seed, int) or spec.seed < 0:
        raise TrainingError(f"run {spec.run_id}: seed must be an integer >= 0, got {spec.seed!r}")
    out = Path(out_dir)
    rec_file, ckpt_file = record_path(out, spec), checkpoint_path(out, spec)
    existing = _existing_record(rec_file, spec, retry_failed)
    if existing is not None:
        return existing
    rt = Runtime(resolve_device(device), resolve_threads(threads))
    data = RunData.open(data_root, task, proto, device=rt.device)
    out.mkdir(parents=True, exist_ok=True)
    with execution_context(rt.device, rt.threads):
        record = _Run(spec, proto, task, rt, data, ckpt_file, callback, progress).execute()
    record.save(rec_file)
    if record.status != "failed" and not keep_checkpoint:
        ckpt_file.unlink(missing_ok=True)
    return record


def _as_spec(spec: RunSpec | dict[str, Any]) -> RunSpec:
    if isinstance(spec, RunSpec):
        return spec
    if isinstance(spec, dict):
        return RunSpec.from_dict(spec)
    raise TrainingError(f"train() needs a RunSpec (or its dict), got {type(spec).__name__}")


def _check_protocol(spec: RunSpec, protocol: Protocol | None) -> Protocol:
    proto = get_protocol(spec.protocol) if protocol is None else get_protocol(protocol)
    if proto.name != spec.protocol:
        raise TrainingError(f"run {spec.run_id}: spec names protocol {spec.protocol!r} but the protocol "
                            f"given is {proto.name!r}")
    if proto.hash != spec.protocol_hash:
        raise TrainingError(
            f"run {spec.run_id}: spec was planned with protocol {spec.protocol!r} hash "
            f"{spec.protocol_hash!r}, but that protocol now hashes to {proto.hash!r}; the protocol "
            f"changed since planning: replan the campaign (new run ids) or restore the old protocol")
    return proto


def _existing_record(path: Path, spec: RunSpec, retry_failed: bool) -> RunRecord | None:
    if not path.is_file():
        return None
    try:
        rec = RunRecord.load(path)
    except RecordError as exc:
        warnings.warn(f"existing record ignored and the run retrained: {exc}", RuntimeWarning, stacklevel=3)
        return None
    if rec.run_id != spec.run_id:
        raise TrainingError(f"record {path} holds run {rec.run_id}, not {spec.run_id}; "
                            f"remove the file or use another out_dir")
    if rec.status == "failed" and retry_failed:
        return None
    return rec


def _seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _epoch_seed(seed: int, epoch: int) -> int:
    """Seed of one epoch's shuffle and augmentation: a pure function of (run seed, epoch)."""
    return int(np.random.SeedSequence([seed, epoch, 0x5E0]).generate_state(1)[0])


class _Run:
    """State of one run in progress (model, optimiser, curves) and its training loop."""

    def __init__(self, spec: RunSpec, proto: Protocol, task: Task, rt: Runtime, data: RunData,
                 ckpt: Path, callback: Callback | None, progress: bool) -> None:
        self.spec, self.proto, self.task, self.rt, self.data, self.ckpt = spec, proto, task, rt, data, ckpt
        self.callback = callback or (lambda event, info: None)
        self.progress = progress
        self.steps_per_epoch = max(1, math.ceil(data.n_train / proto.batch_size))
        self.notes: list[str] = []
        self._fresh()

    # -- setup ---------------------------------------------------------------------
    def _fresh(self) -> None:
        """Model, optimiser and scheduler at step 0, seeded by the run's seed."""
        _seed_everything(self.spec.seed)
        model = build_network(self.spec.space, self.spec.arch, self.task.in_channels, self.task.num_classes)
        self.params, self.flops = count_params(model), count_flops(model, self.task.in_channels)
        self.model = model.to(self.rt.device, memory_format=self.rt.memory_format)
        p = self.proto
        self.opt = torch.optim.SGD(self.model.parameters(), lr=p.lr, momentum=p.momentum,
                                   nesterov=p.nesterov, weight_decay=p.weight_decay)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, self._lr_factor)
        self.epoch, self.batch = 0, 0
        self.partial = {"loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
        self.epochs: list[dict[str, float]] = []

    def _lr_factor(self, step: int) -> float:
        p, total = self.proto, self.proto.epochs * self.steps_per_epoch
        warm = int(round(p.warmup_epochs * self.steps_per_epoch))
        if step < warm:
            return (step + 1) / warm
        if p.schedule == "constant":
            return 1.0
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

    def _resume(self) -> None:
        state, note = load_checkpoint(self.ckpt, run_id=self.spec.run_id, protocol_hash=self.proto.hash)
        if note:
            self.notes.append(note)
        if state is None:
            return
        try:
            self.model.load_state_dict(state["model"])
            self.opt.load_state_dict(state["optimizer"])
            self.sched.load_state_dict(state["scheduler"])
            set_rng_state(state["rng"])
            self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
            self.partial = dict(state["partial"])
            self.epochs = [dict(e) for e in state["epochs"]]
        except Exception as exc:  # noqa: BLE001 - a mismatched checkpoint is reported, never fatal
            note = (f"checkpoint {self.ckpt} ignored, training restarted from scratch: it does not fit the "
                    f"model ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})")
            warnings.warn(note, RuntimeWarning, stacklevel=4)
            self.notes.append(note)
            self._fresh()

    def _save(self) -> None:
        save_checkpoint(self.ckpt, {
            "run_id": self.spec.run_id, "protocol_hash": self.proto.hash,
            "epoch": self.epoch, "batch": self.batch, "partial": dict(self.partial),
            "epochs": [dict(e) for e in self.epochs],
            "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(), "rng": rng_state(),
        })

    # -- loop ----------------------------------------------------------------------
    def execute(self) -> RunRecord:
        self._resume()
        status, error = "ok", None
        try:
            with PreemptionGuard() as guard, EpochProgress(self.progress, self.proto.epochs,
                                                           self.steps_per_epoch) as bar:
                self.callback("start", {"epoch": self.epoch, "batch": self.batch, "epochs": self.proto.epochs,
                                        "batches_per_epoch": self.steps_per_epoch})
                while self.epoch < self.proto.epochs:
                    bad = self._train_epoch(guard, bar)
                    if bad is not None:
                        status, error = "diverged", bad
                        break
                    if guard.requested:  # signal during evaluation: the epoch checkpoint is the resume point
                        raise Preempted(str(guard.received), str(self.ckpt))
        except SurrogateEOError:
            raise
        except Exception as exc:  # noqa: BLE001 - runtime failures become a 'failed' record
            status, error = "failed", f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}"
        return self._record(status, error)

    def _train_epoch(self, guard: PreemptionGuard, bar: EpochProgress) -> str | None:
        """Train (the rest of) epoch ``self.epoch``, evaluate, checkpoint; a message if the loss diverged."""
        model, rt, p = self.model, self.rt, self.proto
        model.train()
        t0 = time.perf_counter()
        loss_sum = torch.tensor(self.partial["loss_sum"], dtype=torch.float64, device=rt.device)
        correct = torch.tensor(self.partial["correct"], dtype=torch.int64, device=rt.device)
        seen = int(self.partial["seen"])
        bar.start_epoch(self.epoch, self.batch)
        batches = self.data.train_batches(_epoch_seed(self.spec.seed, self.epoch))
        for b, (x, y) in enumerate(batches):
            if b < self.batch:  # resuming mid-epoch: these batches were trained before preemption
                continue
            x = x.to(rt.device, non_blocking=True, memory_format=rt.memory_format)
            y = y.to(rt.device, non_blocking=True)
            with rt.autocast():
                logits = model(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=p.label_smoothing)
            if (not rt.cuda or b % 25 == 0) and not torch.isfinite(loss).item():
                return f"loss became {loss.item()} in epoch {self.epoch + 1}, batch {b + 1}"
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if p.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), p.grad_clip)
            self.opt.step()
            self.sched.step()
            n = int(y.shape[0])
            loss_sum += loss.detach().double() * n
            correct += (logits.detach().argmax(1) == y).sum()
            seen += n
            self.batch = b + 1
            bar.advance()
            self.callback("batch", {"epoch": self.epoch, "batch": self.batch})
            if guard.requested:
                self.partial = {"loss_sum": float(loss_sum.item()), "correct": int(correct.item()), "seen": seen,
                                "seconds": self.partial["seconds"] + time.perf_counter() - t0}
                self._save()
                raise Preempted(str(guard.received), str(self.ckpt))
        train_loss = float(loss_sum.item()) / max(seen, 1)
        if not math.isfinite(train_loss):
            return f"mean training loss became {train_loss} in epoch {self.epoch + 1}"
        row: dict[str, float] = {"train_loss": train_loss, "train_acc": int(correct.item()) / max(seen, 1)}
        d = self.data
        for name, split, idx in (("val", d.val, d.val_idx), ("test", d.test, d.test_idx)):
            m = self._evaluate(split, idx)
            row.update({f"{name}_{k}": v for k, v in m.items()})
        row["epoch_seconds"] = self.partial["seconds"] + time.perf_counter() - t0
        self.epochs.append({k: float(row[k]) for k in EPOCH_METRICS})
        self.epoch, self.batch = self.epoch + 1, 0
        self.partial = {"loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
        self._save()
        bar.end_epoch(self.epochs[-1])
        self.callback("epoch", {"epoch": self.epoch, "metrics": dict(self.epochs[-1])})
        return None

    @torch.no_grad()
    def _evaluate(self, split: Any, idx: np.ndarray | None) -> dict[str, float]:
        """Metrics of the current model on ``split[idx]`` (NaN when the split is absent)."""
        k = self.task.num_classes
        cm = np.zeros((k, k), dtype=np.int64)
        if split is None or idx is None:
            return metrics_from_confusion(cm)
        self.model.eval()
        try:
            for x, y in self.data.eval_batches(split, idx):
                x = x.to(self.rt.device, non_blocking=True, memory_format=self.rt.memory_format)
                with self.rt.autocast():
                    pred = self.model(x).argmax(1)
                cm += confusion_matrix(y.cpu().numpy(), pred.cpu().numpy(), k)
        finally:
            self.model.train()
        return metrics_from_confusion(cm)

    def _record(self, status: str, error: str | None) -> RunRecord:
        host, created = host_and_time()
        return RunRecord(
            spec=self.spec, status=status, epochs=[dict(e) for e in self.epochs], params=self.params,
            flops=self.flops, wall_seconds=float(sum(e["epoch_seconds"] for e in self.epochs)),
            device=describe_device(self.rt.device, self.rt.threads), versions=library_versions(),
            error=error, notes=list(self.notes), host=host, created=created,
        )
