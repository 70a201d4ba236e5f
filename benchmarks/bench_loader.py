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
- ``batches stream``: ``split.batches(..., shuffle=True)`` streaming from the file (no
  cache; ``, 1 reader``: one reader thread; ``, no numba``: the numpy path);
- ``batches cache``: the same once the subset is cached in memory (float32);
- ``tensors index_select``: the split already normalised in one float32 tensor,
  batches gathered along a random permutation (the upper bound); ``tensors
  DataLoader``: the same tensors through ``TensorDataset`` + ``DataLoader``.

Targets (issue 13): batches >= 20x naive and >= 0.5x in-memory tensors. Prints a
table of ratios measured in one process and writes them, with the stages that bound
streaming and the load average, to ``benchmarks/results/bench_loader.json``; no asserts.
Then it renders the measured part of docs/data.md's loader section from that JSON
(``docs_block``, in ``_loader_docs.py``) into its generated block (not with ``--no-docs``;
``--docs-only`` re-renders the block from the JSON and measures nothing).

Usage: ``python benchmarks/bench_loader.py [--n 50000] [--layout both|plain|gzip] [--dir DIR]
[--no-docs | --docs-only]``
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import publish, replace_block  # noqa: E402
from _loader_docs import docs_block  # noqa: E402,F401  (re-exported: evaluation/check_generated.py renders with it)

#: The docs page whose loader section carries this benchmark's generated block.
DOC = Path(__file__).resolve().parents[1] / "docs" / "data.md"


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
    from surrogate_eo.data import _fused, _reader

    t0 = time.perf_counter()
    list(split.batches(None, bs, shuffle=True, seed=0, cache=True))
    cache_first = time.perf_counter() - t0
    xs = torch.from_numpy(split._cache[1].x.copy())
    ys = torch.from_numpy(split.labels.copy())
    tds = torch.utils.data.TensorDataset(xs, ys)

    def in_memory():
        perm = torch.randperm(xs.shape[0], generator=torch.Generator().manual_seed(3))
        for b in range(0, perm.numel(), bs):
            p = perm[b:b + bs]
            yield xs.index_select(0, p), ys.index_select(0, p)

    def stream(**kw):
        return lambda: _epoch_rate(lambda: split.batches(None, bs, shuffle=True, seed=1, **kw))

    def one_reader() -> float:
        os.environ["SURROGATE_EO_READ_THREADS"] = "1"
        try:
            return stream()()
        finally:
            os.environ.pop("SURROGATE_EO_READ_THREADS")

    def no_numba() -> float:
        _fused.ENABLED = False
        try:
            return stream()()
        finally:
            _fused.ENABLED = True

    loaders = {}
    if len(split.task.keys) == 1:
        loaders["naive h5py/sample"] = lambda: _naive_rate(split.path, key, mean, std, bs, args.naive_samples, 0)
        loaders["naive, open/sample"] = lambda: _naive_rate(split.path, key, mean, std, bs,
                                                            args.naive_samples // 4, 0, open_per_sample=True)
    loaders.update({
        "batches stream": stream(), "batches stream, 1 reader": one_reader, "batches stream, no numba": no_numba,
        "batches stream+aug": stream(augment=True),
        "batches cache": lambda: _epoch_rate(lambda: split.batches(None, bs, shuffle=True, seed=2, cache=True)),
        "batches cache+aug": lambda: _epoch_rate(
            lambda: split.batches(None, bs, shuffle=True, seed=2, cache=True, augment=True)),
        "tensors index_select": lambda: _epoch_rate(in_memory),
        "tensors DataLoader": lambda: _epoch_rate(lambda: torch.utils.data.DataLoader(
            tds, batch_size=bs, shuffle=True, generator=torch.Generator().manual_seed(4))),
    })
    # rounds: every loader once per round, best of the rounds, so that each loader's best comes from
    # the same stretches of machine load (the development machine is shared)
    rounds: dict[str, list[float]] = {name: [] for name in loaders}
    for k in range(r):
        for name, fn in loaders.items():
            rounds[name].append(fn())
        print(f"round {k + 1}/{r}: " + ", ".join(f"{name} {v[-1]:,.0f}" for name, v in rounds.items()), flush=True)
    rates = {name: max(v) for name, v in rounds.items()}
    split._cache = None
    naive = rates.get("naive h5py/sample", float("nan"))
    ref = rates["tensors index_select"]
    print(f"{'loader':<28}{'samples/s':>12}{'vs naive':>10}{'vs tensors':>12}")
    for name, v in rates.items():
        print(f"{name:<28}{v:12,.0f}{v / naive:10.1f}{v / ref:12.2f}")
    print(f"(first cached epoch, including the load: {cache_first:.1f} s; batch {bs}; torch threads "
          f"{torch.get_num_threads()}; targets: batches >= 20x naive h5py/sample, >= 0.5x tensors)")
    stages = limits(split, bs, rates["batches stream"])
    faults = stages.pop("minor page faults per epoch")
    return {"file": str(split.path.name), "layout": layout, "patches": len(split),
            "access": {k: split._source(k).access for k in split.task.keys}, "fused_kernel": _fused.loaded(),
            "read_threads": _reader.read_threads(),
            "samples_per_s": rates, "vs_naive": {k: v / naive for k, v in rates.items()},
            "vs_tensors": {k: v / ref for k, v in rates.items()}, "first_cached_epoch_s": cache_first,
            "rounds_samples_per_s": rounds,
            "stages_samples_per_s": stages, "stages_minor_page_faults_per_epoch": faults}


def _best_rate(fn, n: int, repeats: int = 3) -> float:
    """``n`` samples over the best of ``repeats`` wall-clock timings of ``fn()``."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def limits(split, batch: int, stream_rate: float, n: int = 20_000) -> dict:
    """What bounds the streaming reader: each stage alone, in samples/s (best of 3, one thread).

    Rows are ``n`` random patches (at most the split; a whole epoch by default, so that the
    stages compare with the loaders' epoch rates) read in batches of ``batch`` (each batch
    its own output array, as ``batches`` does), unless a stage says otherwise:

    - the fused kernel (gather from the memory map, scale, cast, shift, transpose, NaN
      screen in one pass), with rows random or sorted, and on two threads (halves of the
      rows); the numpy path without numba;
    - the same into one fresh ``window``-sized array per 1024 rows (the former window reads:
      arrays over 32 MiB are fresh pages from the kernel every time);
    - a fresh memory map (first touch of every page: minor faults), plain and after
      ``madvise(MADV_RANDOM)`` / ``madvise(MADV_WILLNEED)``;
    - anchors for the memory-bandwidth bound: a bare float64 row copy (numba, no conversion),
      a sequential read of the memory map (sum: reads only; on one and two threads), and
      numpy's float32 copy (bytes read + written per second);
    - h5py ``Dataset[i]`` per sample (what the naive loader pays before its torch work).

    On a chunked (gzip) file each batch's rows are read sorted, as its reader requires, through
    h5py slabs (the "fused kernel" stages then time that path; the memory-map stages are skipped).
    """
    import mmap

    import h5py

    from surrogate_eo.data import _fused

    srcs = [split._source(k) for k in split.task.keys]
    mm_srcs = [s for s in srcs if s.mmap is not None]
    rows = np.random.default_rng(5).permutation(len(split))[:n]
    n = rows.size
    per = sum(int(np.prod(s.shape[1:])) * s.dtype.itemsize for s in srcs)
    out_per = split.task.in_channels * 32 * 32 * 4

    order = (lambda r: r) if split.random_access else np.sort   # a chunked file's reader needs sorted rows

    def batched(rr, reader=split._read_rows, step=batch):
        def run() -> None:
            for b in range(0, rr.size, step):   # each output dropped before the next read, as in training
                reader(order(rr[b:b + step]))
        return run

    _fused.kernel()
    split._read_rows(order(rows[:batch]))             # loads / compiles the kernel
    two = ThreadPoolExecutor(2)
    halves = (rows[: n // 2], rows[n // 2:])
    stages = {"fused kernel, random rows": _best_rate(batched(rows), n),
              "fused kernel, sorted rows": _best_rate(batched(np.sort(rows)), n),
              "fused kernel, 1024-row window arrays": _best_rate(batched(rows, step=1024), n),
              "fused kernel, 2 threads": _best_rate(lambda: list(two.map(lambda h: batched(h)(), halves)), n)}
    faults = {}
    for name, step in (("fused kernel, random rows", batch), ("fused kernel, 1024-row window arrays", 1024)):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        batched(rows, step=step)()
        faults[name] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    _fused.ENABLED = False
    try:
        stages["numpy path (no numba), random rows"] = _best_rate(batched(rows), n)
    finally:
        _fused.ENABLED = True
    if mm_srcs and len(mm_srcs) == len(srcs):
        saved = [s.mmap for s in srcs]
        try:
            for name, advice in (("", None), (", MADV_RANDOM", mmap.MADV_RANDOM),
                                 (", MADV_WILLNEED", mmap.MADV_WILLNEED)):
                best = np.inf
                for _ in range(3):                    # a fresh map each time: every page faults once
                    for s in srcs:
                        s.mmap = s._try_mmap(s.path, s.ds)
                        if advice is not None:
                            s.mmap._mmap.madvise(advice)
                    t0 = time.perf_counter()
                    batched(rows)()
                    best = min(best, time.perf_counter() - t0)
                stages[f"fused kernel, fresh memory map{name}"] = n / best
        finally:
            for s, m in zip(srcs, saved):
                s.mmap = m
        copy = _row_copy()
        if copy is not None:
            bufs = [np.empty((batch, *s.shape[1:]), s.dtype) for s in srcs]
            stages["anchor: float64 row copy (numba), no conversion"] = _best_rate(
                lambda: [copy(s.mmap, rows[b:b + batch], o) for b in range(0, n, batch)
                         for s, o in zip(srcs, bufs)], n)
        stages["anchor: sequential read of the map (sum)"] = _best_rate(
            lambda: [np.asarray(s.mmap[:n]).sum() for s in srcs], n)
        stages["anchor: sequential read of the map (sum), 2 threads"] = _best_rate(
            lambda: list(two.map(lambda ab: [np.asarray(s.mmap[ab[0]:ab[1]]).sum() for s in srcs],
                                 ((0, n // 2), (n // 2, n)))), n)
    m = min(n, 4096)                       # 160 MiB each way: far beyond the caches
    src32 = np.ones(m * out_per // 4, np.float32)
    dst32 = np.empty_like(src32)
    stages["anchor: numpy float32 copy"] = _best_rate(lambda: np.copyto(dst32, src32), m)
    with h5py.File(split.path, "r") as f:
        ds = [f[k] for k in split.task.keys]
        few = rows[:256]
        t0 = time.perf_counter()
        for i in few:
            for d in ds:
                d[int(i)]
        stages["h5py Dataset[i] per sample (no conversion)"] = len(few) / (time.perf_counter() - t0)
    two.shutdown()
    traffic = {"anchor: sequential read of the map (sum)": per, "anchor: numpy float32 copy": 2 * out_per,
               "anchor: sequential read of the map (sum), 2 threads": per,
               "anchor: float64 row copy (numba), no conversion": 2 * per}
    print(f"what limits streaming ({per / 1024:.0f} KiB of source, {out_per / 1024:.0f} KiB of float32 per patch; "
          f"batches stream {stream_rate:,.0f}/s):")
    for name, v in stages.items():
        moved = traffic.get(name, per + out_per)
        print(f"  {name:<50}{v:12,.0f} samples/s  {v * moved / 2 ** 30:6.2f} GiB/s moved"
              + (f"  ({faults[name]:,} page faults per epoch)" if name in faults else ""))
    stages["minor page faults per epoch"] = faults
    return stages


def _row_copy():
    """A numba loop copying rows of a map (the bare gather), or None without numba."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(nogil=True)
    def copy(src, rows, out):
        for i in range(rows.shape[0]):
            out[i] = src[rows[i]]
        return 0
    return copy


def write_docs(result: Path, doc: Path = DOC) -> None:
    """Render the results JSON at ``result`` into the generated block of ``doc`` (docs/data.md)."""
    replace_block(doc, Path(__file__).name, docs_block(json.loads(result.read_text(encoding="utf-8"))))
    print(f"wrote the generated block of {doc} from {result}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50_000, help="training patches to generate (default 50000)")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--task", default="so2sat-s2")
    ap.add_argument("--layout", choices=("gzip", "plain", "both"), default="both",
                    help="gzip: chunked, compressed (synthesize's default); plain: contiguous arrays")
    ap.add_argument("--naive-samples", type=int, default=2048, help="samples timed for the naive loader")
    ap.add_argument("--repeats", type=int, default=3,
                    help="rounds: each loader runs once per round, its best round is reported")
    ap.add_argument("--dir", type=Path, default=None, help="reuse/keep the data here (default: a temp dir in /tmp)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bench_loader.json")
    ap.add_argument("--no-docs", action="store_true", help="do not write the results into docs/data.md")
    ap.add_argument("--docs-only", action="store_true",
                    help="measure nothing: re-render docs/data.md's block from the JSON at --out")
    args = ap.parse_args()
    if args.docs_only:
        write_docs(args.out)
        return

    import torch

    torch.set_num_threads(args.threads)
    layouts = ("plain", "gzip") if args.layout == "both" else (args.layout,)
    base = args.dir or Path(tempfile.mkdtemp(prefix="bench_loader_", dir="/tmp"))
    load0 = os.getloadavg()
    res = {"batch_size": args.batch_size, "task": args.task, "torch_threads": args.threads, "cpus": os.cpu_count()}
    try:
        for layout in layouts:
            res[layout] = bench(base / layout, layout == "gzip", args)
        publish(res, args.out, load0, None if args.no_docs else write_docs)
    finally:
        if args.dir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
