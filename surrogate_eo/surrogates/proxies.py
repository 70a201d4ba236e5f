"""A zero-cost proxy in closed form: the log SynFlow objective of an arch's network at initialisation.

SynFlow (Tanaka et al., NeurIPS 2020; a NAS proxy since Abdelfattah et al., ICLR
2021) feeds an all-ones input to the network with every parameter replaced by its
absolute value, sums the outputs (``R``) and scores the arch by
``sum |θ · ∂R/∂θ|``. It needs no data, but it needs the network built and run.
With |θ| and a positive input every activation is positive, so ReLUs pass
everything, batch norm at initialisation is the identity and ``R`` is a sum over
the network's paths of products of per-layer gains. On a spatially constant input
a convolution with fan-in ``F`` whose weights are drawn as PyTorch initialises
them, U(±1/√F), multiplies the signal by ``F · E|w| = √F / 2`` in expectation;
pooling, skip connections and squeeze-and-excitation (whose sigmoid saturates at
1) keep it; ``none`` zeroes it. A cell's gain is then a polynomial in the op
gains over its input→output paths, and the network's ``log R`` is the sum of
``cells × log(cell gain)`` over the stages plus the stem, the reduction blocks
and the classifier.

:func:`log_synflow` computes this in numpy from the encoding alone, vectorised
over a batch: no torch, no network, about a microsecond per arch. Zero padding at
the borders and the sampled (not expected) weights are ignored; the result is
checked against the real SynFlow score of the networks
:func:`surrogate_eo.networks.build_network` builds
(``tests/surrogates/test_proxies.py``). It is the ``synflow`` feature block of
:class:`~surrogate_eo.surrogates.features.Featurizer`. Isomorphic archs get one
value (isomorphism preserves the path polynomial).
"""
from __future__ import annotations

import numpy as np

from ..errors import SurrogateError
from ..spaces import SearchSpace, get_space

#: op -> (coefficient, power of √C): the op's mean gain at init on a constant positive input of C channels.
#: A k×k conv over C channels has fan-in k²C (gain k√C/2); a separable one is a depthwise k×k (fan-in k²)
#: then a pointwise 1×1 (fan-in C).
OP_GAINS: dict[str, tuple[float, int]] = {
    "none": (0.0, 0), "skip_connect": (1.0, 0), "avg_pool_3x3": (1.0, 0), "max_pool_3x3": (1.0, 0),
    "se": (1.0, 0),
    "nor_conv_1x1": (0.5, 1), "conv_1x1": (0.5, 1), "nor_conv_3x3": (1.5, 1), "conv_3x3": (1.5, 1),
    "sep_conv_3x3": (0.75, 1), "dil_conv_3x3": (0.75, 1),
}
#: Stand-in gain of a cell without a live input→output path (its network outputs a constant): it ranks
#: such archs below every live one instead of giving -inf.
DEAD_GAIN = 1e-6


def _conv_gain(fan_in: np.ndarray | float) -> np.ndarray:
    return np.sqrt(np.asarray(fan_in, dtype=np.float64)) / 2.0


def cell_gain(space: SearchSpace, cells: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Gain of each cell (``cells``: ``(n, n_edges)`` op indices) at ``width`` channels (``(n,)``); 0 when dead."""
    cell = space.cell  # type: ignore[attr-defined]
    unknown = [op for op in cell.ops if op not in OP_GAINS]
    if unknown:
        raise SurrogateError(f"synflow: no gain for op {unknown[0]!r} of space {space.name!r}; "
                             f"known ops: {', '.join(OP_GAINS)}")
    coef = np.array([OP_GAINS[op][0] for op in cell.ops])
    power = np.array([OP_GAINS[op][1] for op in cell.ops])
    root = np.sqrt(np.asarray(width, dtype=np.float64))[:, None]
    gains = coef[cells] * root ** power[cells]                  # (n, n_edges)
    nodes = [np.ones(len(cells))] + [np.zeros(len(cells)) for _ in range(cell.n_nodes - 1)]
    for e, (j, i) in enumerate(cell.edges):                     # targets ascending: node j is complete
        nodes[i] = nodes[i] + gains[:, e] * nodes[j]
    return nodes[-1]


def _reduction_gain(width: np.ndarray) -> np.ndarray:
    """Gain of the residual block ``width → 2·width`` (3×3 convs ``a``, ``b``; shortcut pool + 1×1)."""
    return _conv_gain(9 * width) * _conv_gain(18 * width) + _conv_gain(width)


def _skeleton(space: SearchSpace, batch: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """``(log gain of stem + reductions + classifier, [(width, cells) per stage])`` of each arch.

    Mirrors :mod:`surrogate_eo.networks.models`; the input's channel count and the number of classes scale every
    arch of a space alike and are left out.
    """
    n = len(batch)
    if space.name == "nb201":  # stem 3×3 → 16; stages 16/32/64 of 5 cells; two reductions
        widths = [np.full(n, 16.0), np.full(n, 32.0), np.full(n, 64.0)]
        cells = np.full(n, 5.0)
        const = np.log(_reduction_gain(widths[0]) * _reduction_gain(widths[1]) * _conv_gain(64.0))
        return np.broadcast_to(const, (n,)).astype(np.float64), [(w, cells) for w in widths]
    if space.name == "eo":
        dims = {name: k for k, name in enumerate(space.dim_names)}
        pick = {name: np.asarray(space.choices[k], dtype=object)[batch[:, k]] for name, k in dims.items()
                if name in ("stem", "width", "cells", "reductions")}
        width = pick["width"].astype(np.float64)
        cells = pick["cells"].astype(np.float64)
        reductions = pick["reductions"].astype(np.int64)
        spectral = pick["stem"] == "spectral"   # 1×1 band mixing (gain ∝ √in), then a 3×3 at width
        log_const = np.where(spectral, np.log(0.5 * _conv_gain(9 * width)), np.log(1.5))
        stages = []
        w = width.copy()
        for stage in range(3):
            if stage > 0:
                red = stage > 2 - reductions
                log_const = log_const + np.where(red, np.log(_reduction_gain(w)), 0.0)
                w = np.where(red, 2 * w, w)
            stages.append((w.copy(), cells))
        return log_const + np.log(_conv_gain(w)), stages
    raise SurrogateError(f"synflow: no network skeleton for space {space.name!r} (known: nb201, eo)")


def log_synflow(space: str | SearchSpace, batch: np.ndarray) -> np.ndarray:
    """Closed-form log SynFlow objective ``log R`` of each arch of a validated batch, shape ``(n,)`` float64.

    Natural log, up to a constant per space (input channels and classes are left out). Archs whose cell has no
    live path get ``cells × log(DEAD_GAIN)`` per stage, below every live arch of the same macro settings.

    >>> from surrogate_eo.spaces import get_space
    >>> sp = get_space("nb201")
    >>> pair = sp.from_strings(["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    ...                         "nor_conv_3x3~2|", "|avg_pool_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|"])
    >>> bool(log_synflow(sp, pair)[0] > log_synflow(sp, pair)[1])
    True
    """
    sp = get_space(space) if isinstance(space, str) else space
    batch = np.asarray(batch, dtype=np.int64)
    const, stages = _skeleton(sp, batch)
    cells = batch[:, :sp.cell.n_edges]  # type: ignore[attr-defined]
    out = const.copy()
    for width, n_cells in stages:
        out += n_cells * np.log(np.maximum(cell_gain(sp, cells, width), DEAD_GAIN))
    return out
