"""Trainer overhead: epoch time of ``train()`` vs a bare PyTorch loop (prints ratios; no asserts).

Both run in this process, on the same model (same arch, same initial weights,
channels-last), the same thread count and the same training/evaluation
samples. The bare loop holds the samples as in-memory tensors, shuffles with
``randperm`` and does forward, cross-entropy, backward and an SGD step per
batch, then one forward pass over the validation and test subsets per epoch.
``train()`` adds everything a ground-truth run does: reading the (cached) HDF5
subset, seeded shuffling, deterministic algorithms, the LR schedule, four
metrics per split, the per-epoch checkpoint and the record. Gradient clipping
is off in both, so both do the same arithmetic. Target: ratio <= 1.1.

Wall and CPU (process) seconds are both printed: on a shared machine the CPU
ratio is the steadier one.

Run: ``python benchmarks/bench_trainer.py [--threads 1] [--epochs 4] [--repeats 2] [--n-train 512]``
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from surrogate_eo.data import open_split, synthesize
from surrogate_eo.networks import build_network
from surrogate_eo.records import RunSpec
from surrogate_eo.training import get_protocol, train

#: A median-cost eo architecture (50 MFLOPs per 10-band patch; the eo median is about 60).
ARCH = ("cell=|conv_3x3~0|+|skip_connect~0|sep_conv_3x3~1|+|none~0|se~1|dil_conv_3x3~2|;"
        "stem=spectral;width=16;cells=2;reductions=1")


def bare_epochs(model: torch.nn.Module, xs: tuple[torch.Tensor, ...], ys: tuple[torch.Tensor, ...],
                batch_size: int, eval_batch_size: int, lr: float, epochs: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per epoch of the simplest correct loop over in-memory tensors."""
    x_tr, x_va, x_te = (x.contiguous(memory_format=torch.channels_last) for x in xs)
    y_tr, y_va, y_te = ys
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(0)
    times = []
    for _ in range(epochs):
        t, c = time.perf_counter(), time.process_time()
        model.train()
        perm = torch.randperm(x_tr.shape[0], generator=gen)
        for i in range(0, x_tr.shape[0], batch_size):
            b = perm[i:i + batch_size]
            loss = F.cross_entropy(model(x_tr[b]), y_tr[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for x, y in ((x_va, y_va), (x_te, y_te)):
                correct = sum(int((model(x[i:i + eval_batch_size]).argmax(1) == y[i:i + eval_batch_size]).sum())
                              for i in range(0, x.shape[0], eval_batch_size))
                _ = correct / x.shape[0]
        times.append((time.perf_counter() - t, time.process_time() - c))
    return times


def trainer_epochs(root: Path, out: Path, augment: bool, args: argparse.Namespace) -> list[tuple[float, float]]:
    """(wall, CPU) seconds per epoch of train(), stamped by its epoch callback (checkpoint included)."""
    proto = get_protocol("smoke").replace(
        name="bench", epochs=args.epochs, batch_size=64, train_count=None, val_count=None, test_count=None,
        grad_clip=None, augment=augment, cache=True, eval_batch_size=128)
    spec = RunSpec("eo", ARCH, "so2sat-s2", 0, proto.name, proto.hash)
    stamps: list[tuple[float, float]] = []

    def stamp(event: str, info: dict) -> None:
        if event in ("start", "epoch"):
            stamps.append((time.perf_counter(), time.process_time()))

    train(spec, root, out, protocol=proto, threads=args.threads, callback=stamp)
    return [(b[0] - a[0], b[1] - a[1]) for a, b in zip(stamps, stamps[1:])]


def steady(times: list[tuple[float, float]]) -> tuple[float, float]:
    """Median (wall, CPU) over epochs 2.. (epoch 1 of train() also fills the cache)."""
    rest = times[1:] or times
    return statistics.median(t[0] for t in rest), statistics.median(t[1] for t in rest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2, help="alternate the two loops this often; keep the best")
    ap.add_argument("--n-train", type=int, default=512)
    ap.add_argument("--n-eval", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        synthesize(root, version=2, n_train=args.n_train, n_val=args.n_eval, n_test=args.n_eval, seed=0,
                   compression=None)
        splits = [open_split(root, s, task="so2sat-s2") for s in ("train", "val", "test")]
        data = [s.read(np.arange(len(s))) for s in splits]
        xs = tuple(torch.from_numpy(x) for x, _ in data)
        ys = tuple(torch.from_numpy(y) for _, y in data)
        print(f"data: synthetic So2Sat v2, {args.n_train} train / {args.n_eval} val / {args.n_eval} test patches; "
              f"model: eo {ARCH}; {args.threads} thread(s), {args.epochs} epochs, best of {args.repeats}")
        print(f"{'augment':<8} {'bare wall':>9} {'train() wall':>12} {'ratio':>6} {'bare CPU':>9} "
              f"{'train() CPU':>11} {'ratio':>6}")
        for augment in (False, True):
            best_t, best_b = (float("inf"),) * 2, (float("inf"),) * 2
            for rep in range(args.repeats):
                tt = steady(trainer_epochs(root, Path(tmp) / f"runs-{augment}-{rep}", augment, args))
                torch.manual_seed(0)
                model = build_network("eo", ARCH, 10).to(memory_format=torch.channels_last)
                bb = steady(bare_epochs(model, xs, ys, 64, 128, 0.05, args.epochs))
                best_t = tuple(map(min, best_t, tt))
                best_b = tuple(map(min, best_b, bb))
            print(f"{str(augment):<8} {best_b[0]:>9.3f} {best_t[0]:>12.3f} {best_t[0] / best_b[0]:>6.2f} "
                  f"{best_b[1]:>9.3f} {best_t[1]:>11.3f} {best_t[1] / best_b[1]:>6.2f}")
    print("seconds per epoch: median over epochs 2.., best of the repeats; ratio = train() / bare "
          "(target <= 1.1; augment=True also counts the augmentation the bare loop does not do)")


if __name__ == "__main__":
    main()
