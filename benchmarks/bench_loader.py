"""Loader throughput: ``So2SatSplit.batches`` vs a naive per-sample h5py Dataset and vs in-memory tensors.

Generates synthetic So2Sat-format files (default 50,000 training patches, float64
as published; one contiguous, one gzip-chunked) in a temporary folder under /tmp
(never the repository), reads each once (the statistics pass) so the page cache is
warm, then measures samples per second over shuffled epochs (batch 256):

- ``naive h5py/sample``: a ``torch.utils.data.Dataset`` whose ``__getitem__`` indexes
  the h5py datasets one sample at a time (file kept open), converts to a normalised
  channels-first tensor; batched by a ``DataLoader`` with 0 workers; timed on a prefix
  of the epoch (it is slow). ``naive, open/sample`` opens the file per sample, as
  torchgeo's So2Sat dataset does;
- ``batches stream``: ``split.batches(..., shuffle=True)`` streaming from the file;
- ``batches cache``: the same once the subset is cached in memory (float32);
- ``tensors index_select``: the split already normalised in one float32 tensor,
  batches gathered along a random permutation (the upper bound); ``tensors
  DataLoader``: the same tensors through ``TensorDataset`` + ``DataLoader``.

Targets (issue 13): batches >= 20x naive and >= 0.5x in-memory tensors. Prints a
table of ratios measured in one process and writes them, with the stages that bound
streaming and the load average, to ``benchmarks/results/bench_loader.json``; no asserts.

Usage: ``python benchmarks/bench_loader.py [--n 50000] [--layout both|plain|gzip] [--dir DIR]``
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def _naive_rate(path: Path, key: str, mean: np.ndarray, std: np.ndarray, batch: int, samples: int, seed: int,
                open_per_sample: bool = False) -> float:
    import h5py
    import torch

    m = torch.from_numpy(mean).float()[:, None, None]
    sd = torch.from_numpy(std).float()[:, None, None]

    class NaiveH5(torch.utils.data.Dataset):
        """Per-sample h5py indexing; the file stays open (or, torchgeo-style, is opened per sample)."""

        def __init__(self) -> None:
            self.f = None
            with h5py.File(path, "r") as f:
                self.n = f["label"].shape[0]

        def __len__(self) -> int:
            return self.n

        def __getitem__(self, i: int):
            if open_per_sample:
                with h5py.File(path, "r") as f:
                    x, y = f[key][i], f["label"][i]
            else:
                if self.f is None:
                    self.f = h5py.File(path, "r")
                x, y = self.f[key][i], self.f["label"][i]
            x = torch.from_numpy(x.astype(np.float32)).permute(2, 0, 1)
            return (x - m) / sd, int(y.argmax())

    loader = torch.utils.data.DataLoader(NaiveH5(), batch_size=batch, shuffle=True, num_workers=0,
                                         generator=torch.Generator().manual_seed(seed))
    t0, seen = time.perf_counter(), 0
    for x, _ in loader:
        seen += x.shape[0]
        if seen >= samples:
            break
    return seen / (time.perf_counter() - t0)


def _epoch_rate(make, repeats: int = 1) -> float:
    """Best samples/s over ``repeats`` full passes of ``make()``."""
    best = 0.0
    for _ in range(repeats):
        t0, seen = time.perf_counter(), 0
        for x, _ in make():
            seen += x.shape[0]
        best = max(best, seen / (time.perf_counter() - t0))
    return best


def bench(root: Path, gzip: bool, args: argparse.Namespace) -> dict:
    import torch

    from surrogate_eo.data import open_split, synthesize

    if not (root / "training.h5").is_file():
        t0 = time.perf_counter()
        synthesize(root, version=1, n_train=args.n, n_val=64, seed=0, compression="gzip" if gzip else None,
                   progress=True)
        print(f"generated {args.n:,} patches in {time.perf_counter() - t0:.1f} s into {root}")
    split = open_split(root, "train", task=args.task)
    t0 = time.perf_counter()
    mean, std = split.stats()   # streaming pass; also warms the page cache
    chunked = split._source(split.task.keys[0]).chunk_rows
    layout = "gzip, chunks of 16 patches" if chunked else "contiguous, memory-mapped"
    print(f"\n== {split.path} ({len(split):,} patches, {split.path.stat().st_size / 2 ** 30:.2f} GiB, "
          f"float64, {layout}); stats pass {time.perf_counter() - t0:.1f} s")
    key, bs, r = split.task.keys[0], args.batch_size, args.repeats
    rates = {}
    if len(split.task.keys) == 1:
        rates["naive h5py/sample"] = _naive_rate(split.path, key, mean, std, bs, args.naive_samples, 0)
        rates["naive, open/sample"] = _naive_rate(split.path, key, mean, std, bs, args.naive_samples // 4, 0,
                                                  open_per_sample=True)
    rates["batches stream"] = _epoch_rate(lambda: split.batches(None, bs, shuffle=True, seed=1), r)
    rates["batches stream+aug"] = _epoch_rate(lambda: split.batches(None, bs, shuffle=True, seed=1, augment=True), r)
    t0 = time.perf_counter()
    list(split.batches(None, bs, shuffle=True, seed=0, cache=True))
    cache_first = time.perf_counter() - t0
    rates["batches cache"] = _epoch_rate(lambda: split.batches(None, bs, shuffle=True, seed=2, cache=True), r)
    rates["batches cache+aug"] = _epoch_rate(
        lambda: split.batches(None, bs, shuffle=True, seed=2, cache=True, augment=True), r)
    xs = torch.from_numpy(split._cache[1].x.copy())
    ys = torch.from_numpy(split.labels.copy())
    split._cache = None

    def in_memory():
        perm = torch.randperm(xs.shape[0], generator=torch.Generator().manual_seed(3))
        for b in range(0, perm.numel(), bs):
            p = perm[b:b + bs]
            yield xs.index_select(0, p), ys.index_select(0, p)

    rates["tensors index_select"] = _epoch_rate(in_memory, r)
    tds = torch.utils.data.TensorDataset(xs, ys)
    rates["tensors DataLoader"] = _epoch_rate(lambda: torch.utils.data.DataLoader(
        tds, batch_size=bs, shuffle=True, generator=torch.Generator().manual_seed(4)), r)
    naive = rates.get("naive h5py/sample", float("nan"))
    ref = rates["tensors index_select"]
    print(f"{'loader':<22}{'samples/s':>12}{'vs naive':>10}{'vs tensors':>12}")
    for name, v in rates.items():
        print(f"{name:<22}{v:12,.0f}{v / naive:10.1f}{v / ref:12.2f}")
    print(f"(first cached epoch, including the load: {cache_first:.1f} s; batch {bs}; torch threads "
          f"{torch.get_num_threads()}; targets: batches >= 20x naive h5py/sample, >= 0.5x tensors)")
    stages = limits(split, bs, rates["batches stream"])
    return {"file": str(split.path.name), "layout": layout, "patches": len(split),
            "samples_per_s": rates, "vs_naive": {k: v / naive for k, v in rates.items()},
            "vs_tensors": {k: v / ref for k, v in rates.items()}, "first_cached_epoch_s": cache_first,
            "stages_samples_per_s": stages}


def limits(split, batch: int, stream_rate: float, n: int = 2048) -> dict:
    """What bounds the streaming reader: each stage of one window read, alone, in samples/s.

    A streamed sample is read once from the page cache and converted on the way (scale +
    cast to float32 + transpose to channels-first, row by row into its slot, as
    ``_reader.RowSource.read_into`` does), then shifted by the mean and screened for NaN
    (two float32 passes). The former gather-then-convert path is timed for comparison.
    The slowest stage bounds the reader; the reader threads overlap windows.
    """
    import h5py

    rows = np.random.default_rng(5).permutation(len(split))[:n]
    srcs = [split._source(k) for k in split.task.keys]
    mean, std = split.stats()
    out = np.empty((n, split.task.in_channels, 32, 32), dtype=np.float32)

    def rate(fn) -> float:
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return n / best

    blocks = [s.mmap[rows] if s.mmap is not None else s.ds[np.sort(rows)] for s in srcs]

    def convert() -> None:
        c0 = 0
        for s, b in zip(srcs, blocks):
            c1 = c0 + s.shape[-1]
            np.multiply(b.transpose(0, 3, 1, 2), (1.0 / std[c0:c1])[:, None, None], out=out[:, c0:c1],
                        casting="unsafe")
            c0 = c1

    def row_by_row() -> None:
        c0 = 0
        for s in srcs:
            c1 = c0 + s.shape[-1]
            s.read_into(np.sort(rows), out, slice(c0, c1), 1.0 / std[c0:c1])
            c0 = c1

    stages = {
        "read_into: row by row, scale, cast (1 pass)": rate(row_by_row),
        "old: gather float64 rows (page cache)": rate(lambda: [s.mmap[rows] if s.mmap is not None else
                                                          s.ds[np.sort(rows)] for s in srcs]),
        "old: then convert: scale, cast, transpose": rate(convert),
        "shift + NaN screen (float32)": rate(lambda: (np.subtract(out, (mean / std).astype(np.float32)
                                                                  [None, :, None, None], out=out),
                                                      np.isfinite(out.sum()))),
        "whole read, 1 thread": rate(lambda: split._read_rows(np.sort(rows))),
        "whole read, reader threads": rate(lambda: split._read_any(rows)),
    }
    with h5py.File(split.path, "r") as f:
        ds = [f[k] for k in split.task.keys]
        few = rows[:256]
        t0 = time.perf_counter()
        for i in few:
            for d in ds:
                d[int(i)]
        stages["h5py Dataset[i] per sample (no conversion)"] = len(few) / (time.perf_counter() - t0)
    per = sum(int(np.prod(s.shape[1:])) * s.dtype.itemsize for s in srcs)
    print(f"what limits streaming ({per / 1024:.0f} KiB of source per patch; batches stream {stream_rate:,.0f}/s):")
    for name, v in stages.items():
        print(f"  {name:<44}{v:12,.0f} samples/s  {v * per / 2 ** 30:6.2f} GiB/s of source")
    return stages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000, help="training patches to generate (default 50000)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--task", default="so2sat-s2")
    ap.add_argument("--layout", choices=("gzip", "plain", "both"), default="both",
                    help="gzip: chunked, compressed (synthesize's default); plain: contiguous arrays")
    ap.add_argument("--naive-samples", type=int, default=2048, help="samples timed for the naive loader")
    ap.add_argument("--repeats", type=int, default=2, help="best of this many epochs for the fast loaders")
    ap.add_argument("--dir", type=Path, default=None, help="reuse/keep the data here (default: a temp dir in /tmp)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_loader.json")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    layouts = ("plain", "gzip") if args.layout == "both" else (args.layout,)
    base = args.dir or Path(tempfile.mkdtemp(prefix="bench_loader_", dir="/tmp"))
    load0 = os.getloadavg()
    res = {"batch_size": args.batch_size, "task": args.task, "torch_threads": args.threads}
    try:
        for layout in layouts:
            res[layout] = bench(base / layout, layout == "gzip", args)
        res["load_average"] = {"start": load0, "end": os.getloadavg()}
        print(f"load average at start {load0[0]:.2f}, at end {os.getloadavg()[0]:.2f}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=1) + "\n")
        print(f"wrote {args.out}")
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
