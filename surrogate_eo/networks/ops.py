"""Cell operations (torch). NB201's ops are reproduced layer for layer so parameter counts match.

Every op maps ``(B, C, H, W) -> (B, C, H, W)`` inside a cell (stride 1, same width).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class ReLUConvBN(nn.Sequential):
    """NB201's ``ReLUConvBN``: ReLU → Conv2d (no bias) → BatchNorm2d (affine)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(c_out),
        )


class SepConv(nn.Sequential):
    """ReLU → depthwise 3×3 (optionally dilated) → pointwise 1×1 → BatchNorm2d."""

    def __init__(self, c: int, dilation: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c, c, 3, padding=dilation, dilation=dilation, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c),
        )


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation channel attention: ``x * sigmoid(W2 relu(W1 mean_hw(x)))``."""

    def __init__(self, c: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(c // reduction, 4)
        self.fc1 = nn.Conv2d(c, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.mean(dim=(2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(w))))


class Zero(nn.Module):
    """The ``none`` op: a zero tensor of the input's shape (NB201 keeps it in the graph)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def _avg_pool() -> nn.Module:
    return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)


#: name -> factory(C) for NB201's ops (stride 1, C_in == C_out inside cells).
NB201_OPS: dict[str, Callable[[int], nn.Module]] = {
    "none": lambda c: Zero(),
    "skip_connect": lambda c: nn.Identity(),
    "nor_conv_1x1": lambda c: ReLUConvBN(c, c, 1, 1, 0),
    "nor_conv_3x3": lambda c: ReLUConvBN(c, c, 3, 1, 1),
    "avg_pool_3x3": lambda c: _avg_pool(),
}

#: name -> factory(C) for the eo space's ops.
EO_OPS: dict[str, Callable[[int], nn.Module]] = {
    "none": lambda c: Zero(),
    "skip_connect": lambda c: nn.Identity(),
    "conv_1x1": lambda c: ReLUConvBN(c, c, 1, 1, 0),
    "conv_3x3": lambda c: ReLUConvBN(c, c, 3, 1, 1),
    "sep_conv_3x3": lambda c: SepConv(c, dilation=1),
    "dil_conv_3x3": lambda c: SepConv(c, dilation=2),
    "avg_pool_3x3": lambda c: _avg_pool(),
    "max_pool_3x3": lambda c: nn.MaxPool2d(3, stride=1, padding=1),
    "se": lambda c: SqueezeExcite(c),
}


class ResNetBasicBlock(nn.Module):
    """NB201's residual reduction block (``ResNetBasicblock``), also used between eo stages.

    ``stride=2`` halves the resolution (shortcut: 2×2 average pool + 1×1 conv);
    ``stride=1`` with a width change uses a ReLUConvBN 1×1 shortcut.
    """

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        if stride == 2:
            self.downsample: nn.Module | None = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False),
            )
        elif c_in != c_out:
            self.downsample = ReLUConvBN(c_in, c_out, 1, 1, 0)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_b(self.conv_a(x))
        return out + (self.downsample(x) if self.downsample is not None else x)


class Cell(nn.Module):
    """An NB201-style cell: node ``i`` sums ``op_{j->i}(node_j)`` over ``j < i``; output = last node.

    Parameters
    ----------
    ops : sequence of str
        One op name per edge, in NB201 string order.
    n_nodes : int
        Nodes including input and output.
    channels : int
        Width inside the cell.
    factories : dict
        Op name -> module factory.
    """

    def __init__(self, ops: list[str], n_nodes: int, channels: int,
                 factories: dict[str, Callable[[int], nn.Module]]) -> None:
        super().__init__()
        self.n_nodes = n_nodes
        self.edges = nn.ModuleList(factories[o](channels) for o in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for i in range(1, self.n_nodes):
            acc = self.edges[k](nodes[0])
            for j in range(1, i):
                acc = acc + self.edges[k + j](nodes[j])
            k += i
            nodes.append(acc)
        return nodes[-1]
