"""Torch networks for every architecture of every space, with exact parameter and FLOP counts.

This package imports torch; nothing outside ``networks``, ``training``,
``data`` and the GIN surrogate may import it.

>>> from surrogate_eo.networks import build_network, count_params
>>> net = build_network("nb201", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
...                     in_channels=3, num_classes=10)
>>> count_params(net)
1531546
"""
from __future__ import annotations

import math

from .._imports import require_torch

require_torch("surrogate_eo.networks")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from ..errors import InvalidArchitectureError  # noqa: E402
from ..spaces import SearchSpace, get_space  # noqa: E402
from ..spaces.base import ArchLike  # noqa: E402
from .models import EONetwork, NB201Network  # noqa: E402

#: Input side length of So2Sat LCZ42 patches, pixels.
PATCH_SIZE = 32


def build_network(space: str | SearchSpace, arch: ArchLike, in_channels: int, num_classes: int = 17) -> nn.Module:
    """Return the ``torch.nn.Module`` of ``arch`` for inputs ``(B, in_channels, 32, 32)``.

    Parameters
    ----------
    space : str or SearchSpace
        ``"nb201"`` or ``"eo"``.
    arch : vector or string
        One architecture of ``space``.
    in_channels : int
        Input channels (So2Sat: 8 for S1, 10 for S2, 18 for S1+S2).
    num_classes : int, default=17
        Output logits.
    """
    sp = get_space(space)
    batch, single = sp.as_batch(arch)
    if not single:
        raise InvalidArchitectureError("build_network() takes one architecture")
    if int(in_channels) < 1 or int(num_classes) < 1:
        raise InvalidArchitectureError(
            f"in_channels and num_classes must be >= 1, got {in_channels} and {num_classes}")
    row = batch[0]
    ops = [sp.cell.ops[int(i)] for i in row[: sp.cell.n_edges]]
    if sp.name == "nb201":
        return NB201Network(ops, int(in_channels), int(num_classes))
    if sp.name == "eo":
        m = sp.macro_values(row)
        return EONetwork(ops, m["stem"], int(m["width"]), int(m["cells"]), int(m["reductions"]),
                         int(in_channels), int(num_classes))
    raise InvalidArchitectureError(f"no network builder for space {sp.name!r}")


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable weights, incl. BatchNorm affine; buffers excluded)."""
    return int(sum(p.numel() for p in model.parameters()))


def count_flops(model: nn.Module, in_channels: int, size: int = PATCH_SIZE) -> int:
    """Forward FLOPs of one ``(1, in_channels, size, size)`` sample.

    Counts as ``torch.utils.flop_counter`` does (a multiply-add is 2 FLOPs; convolutions
    and matrix products only, biases not counted), by forward hooks on the model's
    ``Conv2d`` and ``Linear`` layers — the only layers with FLOPs in these networks, and a
    test checks the count equals torch's counter. Torch's counter imports the compiler
    stack (about 2 s and 70 MB in every training worker); hooks need nothing.
    """
    total = [0]

    def conv(m: nn.Conv2d, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        total[0] += 2 * out.numel() * (m.in_channels // m.groups) * math.prod(m.kernel_size)

    def linear(m: nn.Linear, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        total[0] += 2 * out.numel() * m.in_features

    hooks = [mod.register_forward_hook(conv if isinstance(mod, nn.Conv2d) else linear)
             for mod in model.modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, int(in_channels), size, size))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return int(total[0])


__all__ = ["build_network", "count_params", "count_flops", "NB201Network", "EONetwork", "PATCH_SIZE"]
