"""Throughput of the SearchSpace operations (prints numbers; no asserts).

sample + canonical + neighbours for 10^5 archs of each space, and canonical
keys for all 15,625 nb201 archs (target < 1 s on 2 cores). The baseline is a
per-arch Python loop over the same work, run in the same process.
"""
from __future__ import annotations

import time

from surrogate_eo.spaces import NB201Space, get_space


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def main() -> None:
    n = 100_000
    print(f"{'space':<6} {'op':<22} {'archs/s':>14}")
    for name in ("nb201", "eo"):
        space = get_space(name)
        archs, t_s = timed(space.sample, n, 0)
        _, t_c = timed(space.canonical_many, archs)
        _, t_n = timed(space.neighbours_batch, archs)
        _, t_m = timed(space.mutate, archs, 1)
        for op, t in (("sample", t_s), ("canonical_many", t_c), ("neighbours_batch", t_n), ("mutate", t_m)):
            print(f"{name:<6} {op:<22} {n / t:>14,.0f}")
        loop_n = 2_000
        _, t_loop = timed(lambda: [space.neighbours(a) for a in archs[:loop_n]])
        print(f"{name:<6} {'neighbours (loop)':<22} {loop_n / t_loop:>14,.0f}   "
              f"batch/loop speed-up {(n / t_n) / (loop_n / t_loop):.0f}x")
    fresh = NB201Space()  # cold: builds its key table
    _, t_all = timed(fresh.canonical_many, fresh.enumerate())
    print(f"canonical keys of all 15,625 nb201 archs (cold): {t_all:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
