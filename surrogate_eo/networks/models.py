"""Macro skeletons: NAS-Bench-201's TinyNetwork and the eo space's network."""
from __future__ import annotations

import torch
from torch import nn

from .ops import EO_OPS, NB201_OPS, Cell, ResNetBasicBlock


class _Head(nn.Module):
    """BN → ReLU → global average pool → linear classifier (NB201's ``lastact`` + classifier)."""

    def __init__(self, c: int, num_classes: int) -> None:
        super().__init__()
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.lastact(x).mean(dim=(2, 3)))


class NB201Network(nn.Module):
    """NAS-Bench-201's macro skeleton: stem (3×3 conv, C=16), 3 stages × 5 cells, residual reductions.

    Widths 16/32/64, resolution 32 → 16 → 8. Built with ``in_channels=3,
    num_classes=10`` it has exactly NAS-Bench-201's parameter count.
    """

    def __init__(self, ops: list[str], in_channels: int, num_classes: int, c: int = 16, n_cells: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layers: list[nn.Module] = []
        c_prev = c
        for stage, width in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                layers.append(ResNetBasicBlock(c_prev, width, stride=2))
            layers += [Cell(ops, 4, width, NB201_OPS) for _ in range(n_cells)]
            c_prev = width
        self.cells = nn.Sequential(*layers)
        self.head = _Head(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(x)))


class EONetwork(nn.Module):
    """The eo space's network: a stem and 3 stages of ``cells`` cells.

    ``reductions`` of the two stage transitions halve the resolution, the
    latest ones first (0: 32×32 throughout; 1: 32, 32, 16; 2: 32, 16, 8); a
    reducing transition is NB201's residual block with stride 2 and doubles the
    width, so every stage costs about the same FLOPs (C, 2C, 4C only with 2
    reductions).
    ``stem="spectral"`` mixes bands with a 1×1 conv before the 3×3.
    """

    def __init__(self, ops: list[str], stem: str, width: int, cells: int, reductions: int,
                 in_channels: int, num_classes: int) -> None:
        super().__init__()
        c = width
        if stem == "spectral":
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c),
            )
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layers: list[nn.Module] = []
        w = c
        for stage in range(3):
            if stage > 0 and stage > 2 - reductions:  # reduce: halve resolution, double width
                layers.append(ResNetBasicBlock(w, 2 * w, stride=2))
                w *= 2
            layers += [Cell(ops, 4, w, EO_OPS) for _ in range(cells)]
        c_prev = w
        self.cells = nn.Sequential(*layers)
        self.head = _Head(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(x)))
