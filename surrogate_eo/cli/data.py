"""``surrogate-eo data …``: synthetic So2Sat-format data, data-root inspection, statistics."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

data_app = typer.Typer(help="So2Sat LCZ42 data: write synthetic files, inspect a data root, compute statistics.",
                       no_args_is_help=True)


@data_app.command("synth")
def synth(out: Path = typer.Option(..., "--out", help="Folder to write the files into."),
          version: str = typer.Option("2", "--version", help="Layout: 1, 2, 3 (all three), 3-random, 3-block, "
                                                             "3-culture_10 or 4."),
          n_train: int = typer.Option(4096, "--n-train", min=1, help="Training patches."),
          n_val: int = typer.Option(1024, "--n-val", min=1, help="Validation patches (not used by version 3)."),
          n_test: int = typer.Option(1024, "--n-test", min=1, help="Test patches."),
          seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same files)."),
          no_gzip: bool = typer.Option(False, "--no-gzip", help="Write uncompressed, contiguous arrays "
                                                                "(bigger, faster to write and read)."),
          dtype: str = typer.Option("float64", "--dtype", help="float64 (published layout), float32 or float16."),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar.")) -> None:
    """Write SYNTHETIC files in exactly the So2Sat LCZ42 layout (sen1, sen2, one-hot label; float64)."""
    from ..data import synthesize

    written = synthesize(out, version=version, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed,
                         compression=None if no_gzip else "gzip", dtype=dtype, progress=not quiet)
    for key, path in written.items():
        typer.echo(f"{key:>12}  {path}")


@data_app.command("info")
def info(root: Path = typer.Argument(..., help="Data root."),
         version: Optional[str] = typer.Option(None, "--version", help="Version (detected when omitted)."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the version found under ROOT and, per split, patches and class counts."""
    import numpy as np

    from ..data import So2SatSplit
    from ..data.layout import resolve

    name, files = resolve(root, version)
    rows = {}
    for split, path in files.items():
        with So2SatSplit(path, "so2sat-s1s2", name=split, normalise=False) as s:
            f = s._file()
            dtype, synthetic = str(f["sen2"].dtype), bool(f.attrs.get("synthetic", False))
            rows[split] = {"file": str(path), "patches": len(s), "dtype": dtype, "synthetic": synthetic,
                           "class_counts": np.bincount(s.labels, minlength=s.num_classes).tolist(),
                           "cities": None if s.city is None else len(set(s.city.tolist()))}
    if as_json:
        typer.echo(json.dumps({"version": name, "splits": rows}, indent=1))
        return
    typer.echo(f"So2Sat LCZ42 version {name} at {root}")
    for split, r in rows.items():
        extra = (", SYNTHETIC" if r["synthetic"] else "") + (f", {r['cities']} cities" if r["cities"] else "")
        typer.echo(f"  {split:<5} {r['patches']:>8,} patches, {r['dtype']}{extra}: {r['file']}")
        typer.echo(f"        classes: {r['class_counts']}")


@data_app.command("stats")
def stats(root: Path = typer.Argument(..., help="Data root."),
          task: str = typer.Option("so2sat-s1s2", "--task", help="Task whose channels to report."),
          version: Optional[str] = typer.Option(None, "--version", help="Version (detected when omitted)."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Per-channel mean and std of the training file (streaming pass; cached beside the data)."""
    from ..data import open_split

    split = open_split(root, "train", task=task, version=version)
    mean, std = split.stats(progress=not as_json)
    bands = split.task.bands
    if as_json:
        typer.echo(json.dumps({"file": str(split.path), "task": task, "bands": list(bands),
                               "mean": mean.tolist(), "std": std.tolist()}, indent=1))
        return
    typer.echo(f"{split.path} ({len(split):,} patches, task {task})")
    for b, m, s in zip(bands, mean, std):
        typer.echo(f"  {b:<17} mean {m:12.6g}  std {s:12.6g}")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
