"""``surrogate-eo train``: train one architecture under a protocol and write its run record."""
from __future__ import annotations

import json
from pathlib import Path

import typer


def train_command(
    space: str = typer.Option(..., "--space", help="Search space: nb201 or eo."),
    arch: str = typer.Option(..., "--arch", help="Architecture string (quote it: it contains '|')."),
    task: str = typer.Option("so2sat-s2", "--task", help="so2sat-s1, so2sat-s2 or so2sat-s1s2."),
    seed: int = typer.Option(0, "--seed", min=0, help="Run seed (initialisation, data order, augmentation)."),
    protocol: str = typer.Option("smoke", "--protocol", help="Training protocol: smoke or so2sat-default."),
    data: Path = typer.Option(..., "--data", help="Folder with the So2Sat LCZ42 HDF5 files (real or synthetic)."),
    out: Path = typer.Option(..., "--out", help="Folder for <run_id>.json (record) and <run_id>.ckpt (checkpoint)."),
    device: str = typer.Option(None, "--device", help="cpu or cuda[:N]; default: CUDA when available."),
    threads: int = typer.Option(None, "--threads", min=1,
                                help="CPU threads; default $SURROGATE_EO_THREADS, $SLURM_CPUS_PER_TASK or min(2, cores)."),
    keep_checkpoint: bool = typer.Option(False, "--keep-checkpoint", help="Keep the checkpoint after the run ends."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole record as JSON."),
) -> None:
    """Train ARCH on TASK under PROTOCOL; resume if interrupted; print the final metrics.

    A rerun of a finished run prints its record without training. On SIGTERM/SIGUSR1 the
    run checkpoints at the next batch and exits with status 75 ("requeue me"); rerun the
    same command to resume.
    """
    from ..records import RunSpec
    from ..spaces import get_space
    from ..training import get_protocol, train

    sp = get_space(space)
    arch_str = sp.to_string(sp.validate(arch)[0])  # one spelling per arch -> one run_id
    proto = get_protocol(protocol)
    spec = RunSpec(space=sp.name, arch=arch_str, task=task, seed=seed, protocol=proto.name, protocol_hash=proto.hash)
    record = train(spec, data, out, device=device, threads=threads, progress=not quiet,
                   keep_checkpoint=keep_checkpoint)
    if as_json:
        typer.echo(json.dumps(record.to_dict(), indent=1))
        return
    f = record.final
    lines = [f"run {record.run_id}: {record.status}, {len(record.epochs)}/{proto.epochs} epochs, "
             f"{record.params:,} params, {record.flops / 1e6:.1f} MFLOPs, {record.wall_seconds:.1f} s on {record.device}"]
    if f:
        lines.append(f"final: val acc {f['val_acc']:.4f} kappa {f['val_kappa']:.4f} F1 {f['val_f1']:.4f} | "
                     f"test acc {f['test_acc']:.4f} kappa {f['test_kappa']:.4f} F1 {f['test_f1']:.4f}")
    if record.error:
        lines.append(f"note: {record.error}")
    lines.append(f"record: {out / (record.run_id + '.json')}")
    typer.echo("\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
