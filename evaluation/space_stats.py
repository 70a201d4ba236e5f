"""Table of the search spaces: size, degree, distinct computations, params and FLOPs of sampled archs.

Writes paper/generated/space_stats.tex. Params/FLOPs are counted by building
each network (torch) for So2Sat S2 input (10 bands, 17 classes).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _latex import write_table  # noqa: E402

from surrogate_eo.networks import build_network, count_flops, count_params  # noqa: E402
from surrogate_eo.spaces import get_space  # noqa: E402


def main(n: int = 200, seed: int = 0) -> None:
    rows = []
    for name in ("nb201", "eo"):
        space = get_space(name)
        archs = space.enumerate() if space.size <= 20_000 else space.sample(100_000, seed=seed)
        distinct = len(set(space.canonical_many(archs)))
        distinct_txt = f"{distinct:,}" if space.size <= 20_000 else f"{distinct / len(archs):.1%} of $10^5$ samples"
        sample = space.sample(n, seed=seed)
        params, flops = [], []
        for a in sample:
            net = build_network(space, a, in_channels=10)
            params.append(count_params(net) / 1e6)
            flops.append(count_flops(net, 10) / 1e6)
        p, f = np.array(params), np.array(flops)
        rows.append([name, f"{space.size:,}", space.n_dims, space.degree, distinct_txt,
                     f"{np.median(p):.3f} [{p.min():.3f}, {p.max():.3f}]",
                     f"{np.median(f):.0f} [{f.min():.0f}, {f.max():.0f}]"])
        print(rows[-1])
    write_table(
        "space_stats",
        ["space", "archs", "positions", "neighbours", "distinct computations", "params (M)", "FLOPs (M)"],
        rows,
        caption=f"Search spaces. Params and forward FLOPs for one 10-band 32$\\times$32 patch, median "
                f"[min, max] over {n} uniform archs (torch's FLOP counter; a multiply-add is 2 FLOPs).",
        label="tab:spaces", align="lrrrrrr",
    )


if __name__ == "__main__":
    main()
